"""Training the transformer pooler of Supp. A.6 on top of a frozen AG-CLIP model.

As in the paper, window predictions are computed once for the training set ("we do this with the
training set"): the frozen AG-CLIP model embeds every window of every training clip, and only the
pooler is trained, with the contrastive (InfoNCE) loss of the pooled embedding against the GeoCLIP
embedding of the clip's true location (in-batch negatives, the AG-CLIP model's logit scale), Adam
(lr 1e-3, weight decay 1e-3, coupled L2 as ``torch.optim.Adam`` applies it), 50 epochs.

Sequences come from either

- a :class:`~geoforensics.train.simulate.ScoreSimulator`: clips of k ~ U{``min_windows``..
  ``max_windows``} simulated BirdNET windows at one place and week. The simulator draws the windows
  of a clip independently given the place and week, so there is no temporal structure for the
  transformer to exploit, only the set of windows; or
- real recordings: ``(window inputs [n, ...], (lat, lon))`` pairs, e.g. cached BirdNET scores
  [n, 6522] per recording.

An epoch is one pass over the training clips in shuffled batches (or ``steps_per_epoch`` batches
drawn with replacement of the order). Validation retrieves the pooled embeddings of held-out clips
over a gallery and reports the median error, next to the paper's mean pooling as a baseline.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from ..defaults import GALLERY
from ..errors import GeoforensicsError
from ..geo.geodesy import haversine_km
from ..geo.metrics import geolocation_metrics
from ..models.agclip import contrastive_loss, pool_windows
from ..models.location_encoders import get_location_encoder
from ..models.pooling import TransformerPooler, TransformerPoolerConfig, pad_sequences
from .data import features_to_input
from .loop import gallery_embeddings, retrieve


@dataclass
class SequenceSet:
    """Window embeddings of clips: ``sequences[i]`` [n_i, D], ``latlon`` (n, 2), ``target`` [n, D]."""

    sequences: list[torch.Tensor]
    latlon: np.ndarray
    target: torch.Tensor

    def __len__(self) -> int:
        return len(self.sequences)

    def subset(self, idx: Iterable[int]) -> SequenceSet:
        """The clips ``idx``."""
        idx = list(idx)
        return SequenceSet([self.sequences[i] for i in idx], self.latlon[idx], self.target[idx])


@dataclass
class PoolerTrainResult:
    """The trained pooler, one history row per epoch and the final validation metrics."""

    pooler: TransformerPooler
    history: list[dict[str, float]] = field(default_factory=list)
    val: dict[str, float] = field(default_factory=dict)
    val_mean_pooling: dict[str, float] = field(default_factory=dict)


def default_location_encoder(model: Any) -> Any:
    """The location space the AG-CLIP head was trained for (its ``location_encoder``: GeoCLIP, the
    range vectors or its own trained tower); GeoCLIP's for models that do not say."""
    enc = getattr(model, "location_encoder", None)
    if enc is not None:
        return enc

    return get_location_encoder("geoclip")


def _embed_windows(model: Any, inputs: Any) -> torch.Tensor:
    x = inputs if isinstance(inputs, torch.Tensor) else features_to_input(np.asarray(inputs), model.input_kind)
    emb: torch.Tensor = model.embed(x.float()).float().cpu()
    return emb


def embed_recordings(model: Any, items: Sequence[tuple[Any, Any]], location_encoder: Any = None) -> SequenceSet:
    """``(window inputs, (lat, lon))`` pairs -> a :class:`SequenceSet` (the frozen model embeds every
    window; recordings without windows are skipped)."""
    enc = location_encoder if location_encoder is not None else default_location_encoder(model)
    seqs, pts = [], []
    for inputs, latlon in items:
        if len(inputs) == 0:
            continue
        seqs.append(_embed_windows(model, inputs))
        pts.append([float(latlon[0]), float(latlon[1])])
    if not seqs:
        raise GeoforensicsError("no recording with at least one window")
    latlon = np.asarray(pts, dtype=np.float64)
    return SequenceSet(seqs, latlon, enc.encode(latlon).float())


def simulate_sequences(
    model: Any,
    sim: Any,
    rng: np.random.Generator,
    n_clips: int,
    min_windows: int = 4,
    max_windows: int = 48,
    location_encoder: Any = None,
    chunk: int = 64,
) -> SequenceSet:
    """``n_clips`` simulated clips of k ~ U{min_windows..max_windows} windows, embedded by the frozen
    model. Clips of equal length are simulated together (``sim.batch`` takes one length per call)."""
    if not 1 <= min_windows <= max_windows:
        raise GeoforensicsError(f"need 1 <= min_windows <= max_windows, got {min_windows}, {max_windows}")
    enc = location_encoder if location_encoder is not None else default_location_encoder(model)
    lengths = rng.integers(min_windows, max_windows + 1, n_clips)
    seqs: list[torch.Tensor | None] = [None] * n_clips
    latlon = np.zeros((n_clips, 2))
    for k in np.unique(lengths):
        idx = np.where(lengths == k)[0]
        for s in range(0, len(idx), chunk):
            part = idx[s : s + chunk]
            b = sim.batch(rng, len(part), int(k))
            emb = model.embed(b.scores.float()).float().cpu()
            for j, i in enumerate(part):
                rows = np.where(b.clip == j)[0]
                seqs[i] = emb[torch.from_numpy(rows)]
                latlon[i] = b.latlon[rows[0]]
    return SequenceSet([s for s in seqs if s is not None], latlon, enc.encode(latlon).float())


def gallery_for(name_or_latlon: Any, location_encoder: Any) -> tuple[np.ndarray, torch.Tensor]:
    """(gallery (N, 2), location embeddings [N, D]) of a gallery name or (N, 2) array."""
    if isinstance(name_or_latlon, str):

        latlon, emb = gallery_embeddings(name_or_latlon, location_encoder)
        return latlon, emb.float()
    latlon = np.asarray(name_or_latlon, dtype=np.float64)
    return latlon, location_encoder.gallery_embeddings(latlon, "custom").float()


@torch.no_grad()
def evaluate_pooling(
    data: SequenceSet, gallery: np.ndarray, gallery_emb: torch.Tensor, pooler: TransformerPooler | None = None
) -> dict[str, float]:
    """Geolocation metrics of gallery retrieval with the pooler (or mean pooling when None)."""
    pooled = torch.stack([pool_windows(s, "mean") if pooler is None else pooler.pool(s) for s in data.sequences])
    return geolocation_metrics(haversine_km(retrieve(pooled, gallery, gallery_emb), data.latlon))


def train_pooler(
    model: Any,
    source: Any,
    *,
    val: Any = None,
    config: TransformerPoolerConfig = TransformerPoolerConfig(),
    epochs: int = 50,
    steps_per_epoch: int | None = None,
    batch_size: int = 64,
    lr: float = 1e-3,
    weight_decay: float = 1e-3,
    seed: int = 0,
    train_clips: int = 2048,
    val_clips: int = 256,
    min_windows: int = 4,
    max_windows: int = 48,
    val_fraction: float = 0.1,
    gallery: Any = GALLERY,
    location_encoder: Any = None,
    device: str = "cpu",
    log: Callable[[str], None] | None = None,
) -> PoolerTrainResult:
    """Train a :class:`TransformerPooler` on the frozen ``model``'s window embeddings (Supp. A.6).

    ``source``: a ``ScoreSimulator`` (``train_clips`` clips, validation on ``val_clips`` more from
    another seed), a :class:`SequenceSet`, or ``(window inputs, (lat, lon))`` pairs of real
    recordings (``val_fraction`` of them held out unless ``val`` is given in the same form).
    ``val=False`` skips validation. ``log`` receives one line per epoch.
    """
    t_start = time.perf_counter()
    say = log or (lambda _: None)
    enc = location_encoder if location_encoder is not None else default_location_encoder(model)
    model.eval()
    rng = np.random.default_rng((seed, 1))
    if isinstance(source, SequenceSet):
        train_set = source
    elif hasattr(source, "batch"):
        train_set = simulate_sequences(model, source, rng, train_clips, min_windows, max_windows, enc)
        if val is None and val_clips > 0:
            val = simulate_sequences(
                model, source, np.random.default_rng((seed, 2)), val_clips, min_windows, max_windows, enc
            )
    else:
        train_set = embed_recordings(model, list(source), enc)
        if val is None and len(train_set) >= 10 and val_fraction > 0:
            order = np.random.default_rng((seed, 2)).permutation(len(train_set))
            n_val = max(1, int(round(val_fraction * len(train_set))))
            val, train_set = train_set.subset(order[:n_val]), train_set.subset(order[n_val:])
    if val is not None and val is not False and not isinstance(val, SequenceSet):
        val = embed_recordings(model, list(val), enc)
    if len(train_set) < 2:
        raise GeoforensicsError("need at least 2 training clips (in-batch negatives)")
    say(f"{len(train_set)} training clips ({sum(len(s) for s in train_set.sequences):,} windows), "
        f"{len(val) if isinstance(val, SequenceSet) else 0} validation clips, {time.perf_counter() - t_start:.1f} s")

    torch.manual_seed(seed)
    dev = torch.device(device if device != "auto" else ("cuda" if torch.cuda.is_available() else "cpu"))
    if config.dim != train_set.target.shape[1]:
        raise GeoforensicsError(
            f"pooler dim {config.dim} does not match the {train_set.target.shape[1]}-d location embeddings"
        )
    pooler = TransformerPooler(config).to(dev)
    opt = torch.optim.Adam(pooler.parameters(), lr=lr, weight_decay=weight_decay)
    scale = float(model.logit_scale())
    bs = max(2, min(batch_size, len(train_set)))
    steps = steps_per_epoch or max(1, math.ceil(len(train_set) / bs))
    result = PoolerTrainResult(pooler)
    for epoch in range(epochs):
        t0 = time.perf_counter()
        pooler.train()
        order = np.concatenate([rng.permutation(len(train_set)) for _ in range(math.ceil(steps * bs / len(train_set)))])
        total = 0.0
        for step in range(steps):
            idx = order[step * bs : (step + 1) * bs]
            x, mask = pad_sequences([train_set.sequences[i] for i in idx], config.seq_len, config.train_crop, rng)
            pred = pooler(x.to(dev), mask.to(dev))
            loss = contrastive_loss(pred, train_set.target[torch.from_numpy(idx)].to(dev), scale)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            total += float(loss.detach())
        row = {"epoch": epoch + 1, "loss": total / steps, "seconds": time.perf_counter() - t0}
        result.history.append(row)
        say(f"epoch {epoch + 1}/{epochs}: loss {row['loss']:.4f}, {row['seconds']:.1f} s")
    pooler.eval()
    if isinstance(val, SequenceSet) and len(val):
        g, g_emb = gallery_for(gallery, enc)
        result.val = evaluate_pooling(val, g, g_emb.cpu(), pooler)
        result.val_mean_pooling = evaluate_pooling(val, g, g_emb.cpu())
    return result


__all__ = [
    "PoolerTrainResult",
    "SequenceSet",
    "embed_recordings",
    "evaluate_pooling",
    "simulate_sequences",
    "train_pooler",
]
