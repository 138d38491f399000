"""Transformer pooling of window embeddings (paper Supp. A.6, Table 2c "Transformer").

The frozen AG-CLIP model predicts a unit 512-d location embedding per window; a small transformer
reads the sequence of N window predictions and predicts one 512-d embedding for the recording.
From the paper: N fixed at 32 (padding or cropping), 6 layers, 8 heads, hidden dimension 128.

Choices the paper leaves open (all in :class:`TransformerPoolerConfig`):

- **Hidden dimension 128** is read as the feed-forward width; attention works at ``dim`` (512).
- **Inputs** are scaled by sqrt(dim) (unit vectors have entries ~1/sqrt(dim)) and get a learned
  positional embedding per position. Pre-norm encoder layers (GELU), then a final LayerNorm.
- **Readout** ``"mean"``: masked mean of the output tokens; ``"cls"``: a learned CLS token.
- **Skip** (default on): the output is ``normalize(sqrt(dim) * masked_mean(inputs) + proj(readout))`` with
  ``proj`` zero-initialised, so an untrained pooler is exactly the paper's mean pooling and training
  learns a correction to it.
- **Short sequences** are zero-padded to ``seq_len`` with a key padding mask (padded positions take
  no part in attention or the readout). **Long sequences**: in training a random contiguous crop of
  ``seq_len`` windows; at inference ``test_crop="even"`` keeps ``seq_len`` evenly spaced windows
  (the whole recording is covered), ``"chunks"`` pools consecutive chunks of at most ``seq_len``
  windows and averages the chunk outputs.

Checkpoints are plain dicts ``{"kind", "config", "state_dict", ...}`` loadable with
``torch.load(..., weights_only=True)``.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ..config import config_from_dict
from ..errors import GeoforensicsError
from ..weights import load_checkpoint_blob

CHECKPOINT_KIND = "agclip-transformer-pooler"


@dataclass(frozen=True)
class TransformerPoolerConfig:
    """Architecture and sequence handling; defaults from Supp. A.6 unless marked otherwise."""

    dim: int = 512
    """L, the location embedding width (512 for GeoCLIP)."""
    seq_len: int = 32
    """N, windows per sequence (~50 s of 3 s windows at 1.5 s stride)."""
    layers: int = 6
    heads: int = 8
    ffn_dim: int = 128
    """"hidden dimension of 128", read as the feed-forward width."""
    dropout: float = 0.1
    """Not in the paper (PyTorch's default)."""
    readout: str = "mean"
    """"mean" (masked mean of output tokens) or "cls" (learned CLS token). Not in the paper."""
    skip: bool = True
    """Add the masked mean of the inputs to a zero-initialised projection of the readout. Not in the paper."""
    train_crop: str = "random"
    """Longer training sequences: "random" contiguous crop or "even" (evenly spaced windows)."""
    test_crop: str = "even"
    """Longer sequences at inference: "even" (evenly spaced windows) or "chunks" (average of chunk outputs)."""

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> TransformerPoolerConfig:
        """The config of a plain dict, refusing unknown keys."""
        return config_from_dict(cls, d, "pooler config")

    def validate(self) -> None:
        """Raise :class:`GeoforensicsError` on inconsistent settings."""
        if self.dim % self.heads:
            raise GeoforensicsError(f"pooler dim {self.dim} is not divisible by heads {self.heads}")
        if self.seq_len < 1 or self.layers < 1:
            raise GeoforensicsError("pooler seq_len and layers must be >= 1")
        if self.readout not in ("mean", "cls"):
            raise GeoforensicsError(f"pooler readout must be mean or cls, not {self.readout!r}")
        if self.train_crop not in ("random", "even"):
            raise GeoforensicsError(f"pooler train_crop must be random or even, not {self.train_crop!r}")
        if self.test_crop not in ("even", "chunks"):
            raise GeoforensicsError(f"pooler test_crop must be even or chunks, not {self.test_crop!r}")


def crop_indices(n: int, seq_len: int, how: str, rng: np.random.Generator | None = None) -> np.ndarray:
    """Indices of at most ``seq_len`` of ``n`` windows: all of them when n <= seq_len, else a
    "random" contiguous run (``rng`` required) or "even"-ly spaced windows including both ends."""
    if n <= seq_len:
        return np.arange(n)
    if how == "random":
        if rng is None:
            raise ValueError("a random crop needs rng")
        start = int(rng.integers(0, n - seq_len + 1))
        return np.arange(start, start + seq_len)
    if how == "even":
        return np.round(np.linspace(0, n - 1, seq_len)).astype(int)
    raise GeoforensicsError(f"unknown crop {how!r}")


def pad_sequences(
    sequences: list[torch.Tensor], seq_len: int, crop: str = "even", rng: np.random.Generator | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """Window embeddings [n_i, D] -> (x [B, seq_len, D] zero-padded, pad_mask [B, seq_len], True
    where padded); longer sequences are cropped with :func:`crop_indices`."""
    if not sequences:
        raise ValueError("no sequences")
    dim = sequences[0].shape[-1]
    x = torch.zeros(len(sequences), seq_len, dim, dtype=torch.float32)
    mask = torch.ones(len(sequences), seq_len, dtype=torch.bool)
    for i, s in enumerate(sequences):
        if len(s) == 0:
            raise GeoforensicsError("cannot pool an empty sequence of windows")
        idx = crop_indices(len(s), seq_len, crop, rng)
        x[i, : len(idx)] = s[torch.from_numpy(idx)].float()
        mask[i, : len(idx)] = False
    return x, mask


class TransformerPooler(nn.Module):
    """Window embeddings [B, N, D] (+ padding mask) -> one unit embedding [B, D] per sequence."""

    def __init__(self, config: TransformerPoolerConfig = TransformerPoolerConfig()) -> None:
        super().__init__()
        config.validate()
        self.config = config
        d = config.dim
        self.pos = nn.Parameter(torch.randn(config.seq_len, d) * 0.02)
        if config.readout == "cls":
            self.cls = nn.Parameter(torch.randn(d) * 0.02)
        layer = nn.TransformerEncoderLayer(
            d, config.heads, config.ffn_dim, config.dropout, activation="gelu", batch_first=True, norm_first=True
        )
        self.encoder = nn.TransformerEncoder(layer, config.layers, enable_nested_tensor=False)
        self.norm = nn.LayerNorm(d)
        self.proj = nn.Linear(d, d)
        if config.skip:
            nn.init.zeros_(self.proj.weight)
            nn.init.zeros_(self.proj.bias)

    def forward(self, x: torch.Tensor, pad_mask: torch.Tensor | None = None) -> torch.Tensor:
        """``x`` [B, N, D] with N <= seq_len; ``pad_mask`` [B, N] True at padded positions (every
        sequence needs one real window). Returns [B, D], L2-normalised."""
        b, n, d = x.shape
        if n > self.config.seq_len:
            raise GeoforensicsError(f"sequence of {n} windows is longer than the pooler's {self.config.seq_len}")
        if pad_mask is None:
            pad_mask = torch.zeros(b, n, dtype=torch.bool, device=x.device)
        keep = (~pad_mask).unsqueeze(-1).to(x.dtype)
        count = keep.sum(1).clamp_min(1.0)
        x = torch.where(keep.bool(), x, torch.zeros((), dtype=x.dtype, device=x.device))
        h = x * math.sqrt(d) + self.pos[:n]
        mask = pad_mask
        if self.config.readout == "cls":
            h = torch.cat([self.cls.expand(b, 1, d), h], 1)
            mask = torch.cat([torch.zeros(b, 1, dtype=torch.bool, device=x.device), pad_mask], 1)
        h = self.norm(self.encoder(h, src_key_padding_mask=mask))
        if self.config.readout == "cls":
            r = h[:, 0]
        else:
            r = (h * keep).sum(1) / count
        out = self.proj(r)
        if self.config.skip:
            out = out + math.sqrt(d) * (x * keep).sum(1) / count
        return F.normalize(out, dim=-1)

    @torch.no_grad()
    def pool(self, embeddings: torch.Tensor) -> torch.Tensor:
        """One recording: window embeddings [n, D] -> [D] unit vector, in eval mode, cropped per
        ``config.test_crop``."""
        if len(embeddings) == 0:
            raise GeoforensicsError("cannot pool an empty sequence of windows")
        was = self.training
        self.eval()
        try:
            dev = next(self.parameters()).device
            e = embeddings.float().to(dev)
            n, L = len(e), self.config.seq_len
            if self.config.test_crop == "chunks" and n > L:
                chunks = [e[i : i + L] for i in range(0, n, L)]
                x, mask = pad_sequences(chunks, L)
                v = self(x.to(dev), mask.to(dev)).mean(0)
            else:
                idx = torch.from_numpy(crop_indices(n, L, "even")).to(dev)
                v = self(e[idx][None])[0]
        finally:
            self.train(was)
        return F.normalize(v, dim=-1).cpu()


def save_pooler(path: str | Path, pooler: TransformerPooler, **extra: Any) -> None:
    """Write ``{"kind", "config", "state_dict", **extra}`` (plain types; ``weights_only=True`` loadable)."""
    state = {k: v.detach().cpu().clone() for k, v in pooler.state_dict().items()}
    torch.save({"kind": CHECKPOINT_KIND, "config": asdict(pooler.config), "state_dict": state, **extra}, Path(path))


def load_pooler(path: str | Path) -> TransformerPooler:
    """An eval-mode :class:`TransformerPooler` from a file written by :func:`save_pooler`."""
    p = Path(path)
    blob = load_checkpoint_blob(p, "pooler checkpoint")
    if not isinstance(blob, dict) or blob.get("kind") != CHECKPOINT_KIND:
        raise GeoforensicsError(f"{p} is not a transformer pooler checkpoint (see `geoforensics train-pooler`)")
    pooler = TransformerPooler(TransformerPoolerConfig.from_dict(blob["config"]))
    pooler.load_state_dict(blob["state_dict"], strict=True)
    return pooler.eval()


__all__ = [
    "TransformerPooler",
    "TransformerPoolerConfig",
    "crop_indices",
    "load_pooler",
    "pad_sequences",
    "save_pooler",
]
