"""Simulated BirdNET score vectors for training AG-CLIP decoders on top of the frozen BirdNET encoder.

iNatSounds audio is not available, so each training example is generated from the BirdNET range
model (meta-model) instead of a recording:

1. **Location**: a point of the ``land-1`` gallery, drawn with probability ``prior_mix`` from the
   ``inat-test-density`` prior (where iNatSounds recordings are made) and otherwise uniformly, then
   jittered uniformly by +-``jitter_deg`` so targets are not only gallery points (a pool of
   ``pool_size`` such places and their GeoCLIP embeddings is drawn once). **Week**: uniform in 1-48.
2. **Species heard in the 3 s window**: ``n`` ~ ``n_true_probs`` real species, drawn without
   replacement with probability proportional to ``occurrence ** occurrence_power`` among species
   with occurrence >= ``min_occurrence`` at that place and week.
3. **Their BirdNET scores**: drawn from ``score_bins``/``score_probs``, the histogram of scores >= 0.1.
4. **Weak detections**: Poisson(``weak_rate``) more species scored U(0.01, 0.1), half in range, half
   anywhere. **False positives**: Poisson(``fp_rate``) species drawn in proportion to their global
   mean occurrence (widespread species are the usual confusions), scored from the same histogram.
   **Non-species classes** (human, noise, ...): one with probability ``nonspecies_prob``.
5. **Clips** (with probability ``clip_prob``): the example is the element-wise maximum of k ~ U{2..
   ``clip_max_windows``} windows at one place and week, i.e. BirdNET scores max-pooled over a clip;
   counts are summed over the k windows and scaled by ``clip_dedup`` (the same species recurs across
   windows: on xc-dev, 6.0 distinct species >= 0.1 per clip of median 14.5 windows against 1.27 per
   window).
6. **Background**: every other score is sigmoid(N(``bg_logit_mean``, ``bg_logit_std``)), with logits
   clipped at -15 like BirdNET's.

The histogram, per-window counts and background statistics are aggregate statistics of BirdNET V2.4
on the 86 xc-dev clips (1,704 windows, computed with :func:`score_statistics`): no location, date
or label of xc-dev was used. Per window: 1.27 species >= 0.1 on average (17 % none, 49 % one, 26 %
two, 6 % three, 2 % four or more) and 0.68 more in [0.05, 0.1); ``n_true_probs`` moves some of that
mass to fewer species to leave room for false positives. The split of detections into true and
false ones (``fp_rate``) cannot be measured without locations and is an assumption.

Targets: the GeoCLIP embedding of the location and the year-round checklist (occurrence >= 0.1),
and the month of the simulated week (BirdNET weeks: 4 per month, month = (week - 1) // 4) for the
auxiliary month loss (Supp. Table A8). That month can be learnt from the scores only because the
range model's occurrence depends on the week (migrants, breeding seasons); it is not a month of any
real recording.

Location resampling (Supp. Table A7, ``data.resample: location``): :meth:`ScoreSimulator.resample_pool`
weights the pool of places by 1 / n ** power, n the number of pool places in the same H3 cell.
Species resampling has no honest counterpart here (species are drawn per window from the range
model, not attached to examples), so it is refused.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from ..config import config_from_dict
from ..defaults import GALLERY
from ..errors import GeoforensicsError
from ..geo.galleries import get_gallery
from ..geo.priors import log_prior
from ..models.audio_encoders import BIRDNET_DIM
from ..models.birdnet import BirdNETRangeModel, get_meta_model, load_labels
from ..models.location_encoders import get_location_encoder
from ..ranges.cache import range_table
from .resample import resampling_weights


@dataclass(frozen=True)
class SimConfig:
    """Simulation settings (module docstring)."""

    gallery: str = GALLERY
    prior: str = "inat-test-density"
    prior_mix: float = 0.5
    prior_bandwidth_km: float = 500.0
    jitter_deg: float = 0.5
    n_true_probs: tuple[float, ...] = (0.22, 0.50, 0.21, 0.05, 0.02)
    occurrence_power: float = 1.0
    min_occurrence: float = 0.05
    score_bins: tuple[float, ...] = (0.1, 0.2, 0.3, 0.5, 0.7, 0.9, 0.99, 1.0)
    score_probs: tuple[float, ...] = (0.295, 0.126, 0.134, 0.096, 0.115, 0.134, 0.100)
    weak_rate: float = 0.68
    fp_rate: float = 0.3
    nonspecies_prob: float = 0.1
    bg_logit_mean: float = -13.7
    bg_logit_std: float = 1.9
    clip_prob: float = 0.0
    clip_max_windows: int = 16
    clip_dedup: float = 0.33
    pool_size: int = 50000
    steps_per_epoch: int = 100
    val_clips: int = 256
    val_windows: int = 8
    checklist_threshold: float = 0.1

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> SimConfig:
        """The config of a plain dict (lists become tuples), refusing unknown keys."""
        return config_from_dict(cls, d, "sim config")


def score_statistics(scores: list[np.ndarray]) -> dict[str, Any]:
    """Aggregate statistics of BirdNET window scores (no locations): counts per window and the
    histogram used by :class:`SimConfig`."""
    a = np.concatenate(scores)
    c = (a >= 0.1).sum(1)
    hi = a[a >= 0.1]
    bins = np.array(SimConfig.score_bins)
    lo = a[a < 0.05]
    lg = np.log(np.clip(lo, 1e-12, None) / (1 - lo))
    return {
        "windows": int(len(a)),
        "count_ge_0.1": (np.bincount(np.minimum(c, 4), minlength=5) / len(c)).round(3).tolist(),
        "mean_ge_0.1": float(c.mean()),
        "mean_0.05_0.1": float(((a >= 0.05) & (a < 0.1)).sum(1).mean()),
        "hist_ge_0.1": (np.histogram(hi, bins=bins)[0] / max(len(hi), 1)).round(3).tolist(),
        "bg_logit_mean": float(lg.mean()),
        "bg_logit_std": float(lg.std()),
    }


@dataclass
class SimBatch:
    """One batch: ``scores`` [B, 6522], ``latlon`` [B, 2], ``target`` [B, 512], ``checklist`` [B, 6522],
    ``clip`` [B] clip ids, ``month`` [B] month indices 0-11 of the simulated weeks."""

    scores: torch.Tensor
    latlon: np.ndarray
    target: torch.Tensor
    checklist: torch.Tensor
    clip: np.ndarray = field(default_factory=lambda: np.zeros(0, int))
    month: torch.Tensor = field(default_factory=lambda: torch.zeros(0, dtype=torch.long))


def week_to_month(weeks: np.ndarray) -> np.ndarray:
    """Month indices 0-11 of BirdNET weeks 1-48 (4 weeks per month)."""
    return (np.asarray(weeks, dtype=np.int64) - 1) // 4


def occurrence_rows(latlon: np.ndarray, weeks: np.ndarray) -> np.ndarray:
    """BirdNET meta-model occurrences [n, 6522] with one week per row, in one interpreter call
    (:meth:`BirdNETMeta.occurrence` takes one week for all rows)."""
    meta = get_meta_model()
    x = np.empty((len(latlon), 3), np.float32)
    x[:, :2] = latlon
    x[:, 2] = weeks
    with meta._lock:
        if len(x) != meta._size:
            meta._interp.resize_tensor_input(meta._in, [len(x), 3], strict=False)
            meta._interp.allocate_tensors()
            meta._size = len(x)
        meta._interp.set_tensor(meta._in, x)
        meta._interp.invoke()
        return np.array(meta._interp.get_tensor(meta._out))


class ScoreSimulator:
    """Generates :class:`SimBatch` es from a range model, a gallery and a location encoder (an
    object with ``.encode(latlon)``, or a name for :func:`~geoforensics.models.location_encoders.get_location_encoder`;
    default GeoCLIP's)."""

    def __init__(self, config: SimConfig = SimConfig(), range_model: Any = None, location_encoder: Any = None) -> None:
        self.config = config
        if range_model is None:

            range_model = BirdNETRangeModel()
        if location_encoder is None or isinstance(location_encoder, str):

            location_encoder = get_location_encoder(location_encoder or "geoclip")
        self.range_model = range_model
        self.encoder = location_encoder
        self.gallery = np.asarray(get_gallery(config.gallery).latlon, dtype=np.float64)
        labels = load_labels()
        self.is_species = labels.is_species
        self.species_idx = np.where(self.is_species)[0]
        self.nonspecies_idx = np.where(~self.is_species)[0]
        n = len(self.gallery)
        self.uniform_p = np.full(n, 1.0 / n)
        if config.prior and config.prior_mix > 0:
            lp = log_prior(config.prior, self.gallery, config.prior_bandwidth_km)
            p = np.exp(lp - lp.max())
            self.prior_p = p / p.sum()
        else:
            self.prior_p = self.uniform_p

        table = range_table(range_model, self.gallery, -1)
        prevalence = np.asarray(table.values[self.species_idx].mean(1), dtype=np.float64) + 1e-4
        self.fp_p = prevalence / prevalence.sum()
        self._pool: tuple[np.ndarray, torch.Tensor] | None = None
        self._pool_p: np.ndarray | None = None
        if config.pool_size > 0:
            pts = self.sample_locations(np.random.default_rng(12345), config.pool_size)
            self._pool = (pts, self.encoder.encode(pts))
        bins = np.asarray(config.score_bins)
        self._bins, self._bin_p = bins, np.asarray(config.score_probs) / np.sum(config.score_probs)

    def resample_pool(self, mode: str, power: float = 1.0, h3_res: int = 2) -> None:
        """Draw pool places with :func:`~geoforensics.train.resample.resampling_weights` of ``mode``
        ("none" or "location"; "species" raises) instead of uniformly."""
        if mode == "none":
            self._pool_p = None
            return
        if self._pool is None:
            raise GeoforensicsError("location resampling of simulated data needs a pool of places (sim.pool_size > 0)")
        self._pool_p = resampling_weights(None, self._pool[0], mode, power, h3_res)

    def sample_locations(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """(n, 2) (lat, lon) degrees: prior/uniform gallery points, jittered."""
        c = self.config
        use_prior = rng.random(n) < c.prior_mix
        idx = np.where(use_prior, rng.choice(len(self.gallery), n, p=self.prior_p), rng.choice(len(self.gallery), n))
        pts = self.gallery[idx] + rng.uniform(-c.jitter_deg, c.jitter_deg, (n, 2))
        pts[:, 0] = np.clip(pts[:, 0], -89.9, 89.9)
        pts[:, 1] = (pts[:, 1] + 180.0) % 360.0 - 180.0
        return pts

    def _scores_from_hist(self, rng: np.random.Generator, n: int) -> np.ndarray:
        b = rng.choice(len(self._bin_p), n, p=self._bin_p)
        return rng.uniform(self._bins[b], self._bins[b + 1])

    def window_scores(
        self, rng: np.random.Generator, occurrence: np.ndarray, k: np.ndarray | None = None
    ) -> np.ndarray:
        """[n, 6522] simulated BirdNET scores for windows (or max-pooled clips of ``k`` windows) whose
        places have ``occurrence`` [n, 6522]."""
        c = self.config
        n = len(occurrence)
        k = np.ones(n, int) if k is None else np.asarray(k)
        f = np.where(k > 1, k * c.clip_dedup, 1.0)
        logits = rng.standard_normal((n, BIRDNET_DIM), dtype=np.float32) * np.float32(c.bg_logit_std)
        logits += np.float32(c.bg_logit_mean)
        np.clip(logits, -15.0, 15.0, out=logits)
        out: np.ndarray = 1.0 / (1.0 + np.exp(-logits))
        kmax = int(k.max())
        draws = rng.choice(len(c.n_true_probs), (n, kmax), p=np.asarray(c.n_true_probs) / np.sum(c.n_true_probs))
        draws = np.where(np.arange(kmax)[None] < k[:, None], draws, 0).sum(1)
        n_true = np.where(k > 1, np.round(draws * c.clip_dedup), draws).astype(int)
        n_weak = rng.poisson(c.weak_rate * f)
        n_fp = rng.poisson(c.fp_rate * f)
        for i in range(n):
            occ = occurrence[i, self.species_idx]
            ok = np.where(occ >= c.min_occurrence)[0]
            if len(ok) and n_true[i]:
                w = occ[ok] ** c.occurrence_power
                n_pick = min(int(n_true[i]), len(ok))
                pick = self.species_idx[rng.choice(ok, n_pick, replace=False, p=w / w.sum())]
                out[i, pick] = np.maximum(out[i, pick], self._scores_from_hist(rng, n_pick))
            if n_weak[i]:
                half = rng.random(n_weak[i]) < 0.5
                inr = self.species_idx[rng.choice(ok, int(half.sum()))] if len(ok) else np.zeros(0, int)
                anyw = rng.choice(self.species_idx, int((~half).sum()))
                pick = np.concatenate([inr, anyw])
                out[i, pick] = np.maximum(out[i, pick], rng.uniform(0.01, 0.1, len(pick)))
            if n_fp[i]:
                pick = self.species_idx[rng.choice(len(self.species_idx), int(n_fp[i]), p=self.fp_p)]
                out[i, pick] = np.maximum(out[i, pick], self._scores_from_hist(rng, len(pick)))
            if rng.random() < min(1.0, c.nonspecies_prob * f[i]):
                j = rng.choice(self.nonspecies_idx)
                out[i, j] = max(out[i, j], float(self._scores_from_hist(rng, 1)[0]))
        return out

    def checklist(self, latlon: np.ndarray) -> np.ndarray:
        """[n, 6522] year-round checklist: occurrence >= threshold, real species only."""
        occ = occurrence_rows(latlon, np.full(len(latlon), -1))
        listed: np.ndarray = (occ >= self.config.checklist_threshold) & self.is_species[None]
        return listed

    def batch(self, rng: np.random.Generator, n: int, windows_per_clip: int = 1) -> SimBatch:
        """``n`` clips of ``windows_per_clip`` windows each (same place and week); rows are windows."""
        if self._pool is not None:
            if self._pool_p is None:
                j = rng.integers(0, len(self._pool[0]), n)
            else:
                j = rng.choice(len(self._pool[0]), n, p=self._pool_p)
            latlon, target = self._pool[0][j], self._pool[1][torch.from_numpy(j)]
        else:
            latlon = self.sample_locations(rng, n)
            target = self.encoder.encode(latlon)
        weeks = rng.integers(1, 49, n)
        occ = occurrence_rows(latlon, weeks)
        rep = np.repeat(np.arange(n), windows_per_clip)
        k = None
        if windows_per_clip == 1 and self.config.clip_prob > 0:
            k = np.where(rng.random(n) < self.config.clip_prob, rng.integers(2, self.config.clip_max_windows + 1, n), 1)
        scores = self.window_scores(rng, occ[rep], k)
        chk = self.checklist(latlon)
        return SimBatch(
            scores=torch.from_numpy(scores),
            latlon=latlon[rep],
            target=target[torch.from_numpy(rep)],
            checklist=torch.from_numpy(chk[rep].astype(np.float32)),
            clip=rep,
            month=torch.from_numpy(week_to_month(weeks)[rep]),
        )
