"""Species oracles (paper, Sec. 3 and Table 1): geolocate from the checklist of species at the TRUE
location. They are upper bounds for species-based geolocation, not realistic systems.

Checklist: the range model's year-round occurrence at the true point, binarised at 0.1 (the paper's
threshold), real species only. Three modes:

* ``full``: the whole checklist;
* ``corrupt``: a random half of the present species omitted (set absent), the paper's "omit a random
  subset" at 50 %; ``corruption="swap"`` instead swaps them for as many random absent species;
* ``keep``: ``keep`` (10) random present species retained, the rest omitted.

Retrieval (checklist -> gallery point): the paper trains a linear map from checklists to GeoCLIP
embeddings and retrieves over the training set. Here no training is needed: every gallery point x
has its own binarised range-model checklist G(x), and we score x by the log-likelihood of the
observed checklist c under the corruption process, species independent:

    P(c_s = 1 | G_s(x) = 1) = rho(x),   P(c_s = 1 | G_s(x) = 0) = eps

with rho = 1 - eps (full), 1 - fraction (corrupt) and keep / |G(x)| (keep). For the full checklist
this is exactly the Hamming distance between checklists; for the partial ones it rewards gallery
points containing the observed species without penalising the species not reported more than the
corruption explains (Jaccard or cosine similarity would instead favour the species-poorest point
that contains them). ``eps`` (0.01) absorbs range-boundary differences between the true point and
the nearest gallery points. All counts come from one matrix product per batch of queries.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..defaults import GALLERY, TOP_K
from ..geo.galleries import get_gallery
from ..geo.geodesy import as_latlon
from ..models.birdnet import BirdNETRangeModel
from ..prediction import GeoPrediction
from ..ranges.base import RangeModel
from ..ranges.cache import range_table
from .baselines import make_prediction, truth_of
from .registry import register_geolocator

THRESHOLD = 0.1
MODES = ("full", "corrupt", "keep")


class ChecklistOracle:
    """Checklist at the true location (possibly corrupted) -> likelihood over a gallery's checklists."""

    modality = "oracle"

    def __init__(
        self,
        mode: str = "full",
        gallery: str | np.ndarray = GALLERY,
        range_model: RangeModel | None = None,
        threshold: float = THRESHOLD,
        fraction: float = 0.5,
        keep: int = 10,
        corruption: str = "drop",
        eps: float = 0.01,
        seed: int = 0,
        batch: int = 256,
    ):
        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}, not {mode!r}")
        if corruption not in ("drop", "swap"):
            raise ValueError(f"corruption must be 'drop' or 'swap', not {corruption!r}")

        if isinstance(gallery, str):
            self._gallery = np.asarray(get_gallery(gallery).latlon, dtype=np.float64)
        else:
            self._gallery = as_latlon(gallery, name="gallery").reshape(-1, 2).astype(np.float64)
        if range_model is None:

            range_model = BirdNETRangeModel()
        self.range_model = range_model
        self.mode, self.threshold, self.fraction, self.keep = mode, threshold, fraction, keep
        self.corruption, self.eps, self.batch = corruption, eps, batch
        self.rng = np.random.default_rng(seed)
        self.name = {
            "full": "oracle-full", "corrupt": f"oracle-corrupt{round(100 * fraction)}", "keep": f"oracle-keep{keep}"
        }[mode]
        self._G: np.ndarray | None = None

    @property
    def gallery(self) -> np.ndarray:
        return self._gallery

    @property
    def species_mask(self) -> np.ndarray:
        """Columns that are real species (non-species classes never enter a checklist)."""
        m = getattr(self.range_model, "counts_in_richness", None)
        return np.ones(len(self.range_model.species), bool) if m is None else np.asarray(m, bool)

    def checklists(self, latlon: Any) -> np.ndarray:
        """Binary checklists [n, n_species] (bool) at points: occurrence >= threshold, real species only."""
        pts = as_latlon(latlon, name="locations").reshape(-1, 2)
        out = np.zeros((len(pts), len(self.range_model.species)), bool)
        for i in range(0, len(pts), 4096):
            out[i : i + 4096] = self.range_model.occurrence(pts[i : i + 4096], -1) >= self.threshold
        listed: np.ndarray = out & self.species_mask
        return listed

    def gallery_checklists(self) -> np.ndarray:
        """[n_species, N] float32 checklists of the gallery (from the cached range table when possible)."""
        if self._G is None:

            try:
                table = range_table(self.range_model, self._gallery, -1)
                G = np.empty((table.values.shape[0], table.n_points), np.float32)
                for i in range(0, len(G), 512):
                    G[i : i + 512] = np.asarray(table.values[i : i + 512]) >= self.threshold
            except OSError:
                G = self.checklists(self._gallery).T.astype(np.float32)
            G[~self.species_mask] = 0.0
            self._G = np.ascontiguousarray(G)
        return self._G

    def corrupt(self, checklists: np.ndarray) -> np.ndarray:
        """The mode's corruption of true checklists [n, S] (copy; ``full`` returns them unchanged)."""
        c = np.array(checklists, dtype=bool, copy=True)
        if self.mode == "full":
            return c
        usable = np.where(self.species_mask)[0]
        for row in c:
            present = np.where(row)[0]
            if self.mode == "keep":
                drop = self.rng.permutation(present)[self.keep :]
            else:
                drop = self.rng.permutation(present)[: int(round(self.fraction * len(present)))]
            row[drop] = False
            if self.mode == "corrupt" and self.corruption == "swap" and len(drop):
                absent = np.setdiff1d(usable, present)
                row[self.rng.choice(absent, size=min(len(drop), len(absent)), replace=False)] = True
        return c

    def log_likelihood(self, observed: np.ndarray) -> np.ndarray:
        """[n, N] log-likelihood of observed checklists [n, S] at each gallery point (module docstring)."""
        G = self.gallery_checklists()
        n_g = G.sum(0).astype(np.float64)
        S = float(self.species_mask.sum())
        eps = self.eps
        out = np.empty((len(observed), G.shape[1]), np.float64)
        for i in range(0, len(observed), self.batch):
            q = np.asarray(observed[i : i + self.batch], np.float32)
            a = (q @ G).astype(np.float64)
            k = q.sum(1, dtype=np.float64)[:, None]
            if self.mode == "full":
                rho = np.full_like(n_g, 1.0 - eps)
            elif self.mode == "corrupt":
                rho = np.full_like(n_g, 1.0 - self.fraction)
            else:
                rho = np.minimum(self.keep / np.maximum(n_g, 1.0), 1.0)
            rho = np.clip(rho, eps, 1.0 - eps)[None]
            out[i : i + self.batch] = (
                a * np.log(rho) + (n_g[None] - a) * np.log1p(-rho) + (k - a) * np.log(eps) +
                (S - k - n_g[None] + a) * np.log1p(-eps)
            )
        return out

    def locate(self, true_latlon: Any) -> np.ndarray:
        """Point estimates (argmax gallery point), (n, 2), for true locations: the batch path."""
        ll = self.log_likelihood(self.corrupt(self.checklists(true_latlon)))
        points: np.ndarray = self._gallery[np.argmax(ll, axis=1)]
        return points

    def predict(
        self,
        inputs: Any,
        *,
        k: int = TOP_K,
        date: Any = None,
        sample_rate: int | None = None,
        max_duration_s: float | None = None,
        light: bool = False,
    ) -> GeoPrediction:
        """``inputs``: the true (lat, lon) (or an object with ``lat``/``lon``): oracle access. Year-round
        checklists: ``date``, ``sample_rate`` and ``max_duration_s`` do not apply."""
        ll = self.log_likelihood(self.corrupt(self.checklists(truth_of(inputs)[:1])))[0]
        pred = make_prediction(self._gallery, log_scores=ll, model=self.name, k=k, light=light)
        pred.notes.append(f"oracle: {self.mode} checklist at the true location (threshold {self.threshold:g})")
        return pred


@register_geolocator("oracle-full", "species oracle: full range-model checklist at the TRUE location (upper bound)")
def _oracle_full(gallery: str = GALLERY, **kw: Any) -> ChecklistOracle:
    return ChecklistOracle("full", gallery=gallery, **kw)


@register_geolocator("oracle-corrupt50", "species oracle: true checklist with half its species omitted")
def _oracle_corrupt(gallery: str = GALLERY, **kw: Any) -> ChecklistOracle:
    return ChecklistOracle("corrupt", gallery=gallery, **kw)


@register_geolocator("oracle-keep10", "species oracle: 10 random species of the true checklist")
def _oracle_keep(gallery: str = GALLERY, **kw: Any) -> ChecklistOracle:
    return ChecklistOracle("keep", gallery=gallery, **kw)
