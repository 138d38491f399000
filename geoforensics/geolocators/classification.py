"""Classification baselines (paper, Table 1 "Classify" and supplement A.3): an MLP classifies a
feature vector into H3 cells; the prediction is the most probable cell's centre.

* ``res0``: 122 classes (H3 resolution 0); ``res2``: 5,882 classes (resolution 2);
* ``hier``: one shared trunk with heads at resolutions 0, 1 and 2 trained jointly (sum of the three
  cross-entropies); a resolution-2 cell scores log p0(parent at 0) + log p1(parent at 1) + log p2(cell),
  so coarse heads, which see more examples per class, steer the fine one.

The gallery is every cell centroid at the finest resolution, so surfaces of different recordings
share it and can be averaged.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from ..defaults import TOP_K
from ..errors import InputError
from ..geo.geodesy import as_latlon
from ..geo.h3cells import cell_centroids, cell_label_index, cell_parent, cells_at_resolution, latlon_to_cells
from ..prediction import GeoPrediction
from .baselines import make_prediction
from .registry import register_geolocator
from .regression import Standardizer, fit_full_batch

LEVELS = {"res0": (0,), "res2": (2,), "hier": (0, 1, 2)}


def _parent_index(cells: tuple[str, ...], res: int) -> np.ndarray:
    index = cell_label_index(res)
    return np.array([index[cell_parent(c, res)] for c in cells])


def _labels(pts: np.ndarray, res: int) -> list[int]:
    index = cell_label_index(res)
    return [index[c] for c in latlon_to_cells(pts, res)]


class _Heads(torch.nn.Module):
    def __init__(self, d_in: int, n_classes: tuple[int, ...], hidden: int, dropout: float):
        super().__init__()
        self.trunk = torch.nn.Sequential(torch.nn.Dropout(dropout), torch.nn.Linear(d_in, hidden), torch.nn.ReLU())
        self.heads = torch.nn.ModuleList(torch.nn.Linear(hidden, n) for n in n_classes)

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        h = self.trunk(x)
        return [head(h) for head in self.heads]


class CellClassifier:
    """Feature vector -> H3 cell probabilities (``levels``: ``res0``, ``res2`` or ``hier``)."""

    modality = "audio"

    def __init__(
        self,
        levels: str = "hier",
        hidden: int = 128,
        epochs: int = 200,
        lr: float = 1e-3,
        weight_decay: float = 1e-3,
        dropout: float = 0.2,
        seed: int = 0,
    ):
        if levels not in LEVELS:
            raise ValueError(f"levels must be one of {tuple(LEVELS)}, not {levels!r}")
        self.levels, self.res = levels, LEVELS[levels]
        self.hidden, self.epochs, self.lr, self.wd, self.dropout, self.seed = (
            hidden, epochs, lr, weight_decay, dropout, seed
        )
        self.name = f"classify-{levels}"
        fine = self.res[-1]
        self.cells = cells_at_resolution(fine)
        self._gallery = cell_centroids(self.cells)
        self.parent_index = [
            _parent_index(self.cells, r) if r != fine else np.arange(len(self.cells)) for r in self.res
        ]
        self.model: _Heads | None = None

    @property
    def gallery(self) -> np.ndarray:
        return self._gallery

    def fit(self, features: Any, latlon: Any) -> CellClassifier:
        """Train on features [n, d] and true (lat, lon) [n, 2] (labels: their cells at each level)."""
        pts = as_latlon(latlon, name="training locations").reshape(-1, 2)
        X = np.asarray(features, np.float32)
        if len(X) != len(pts) or len(X) < 2:
            raise InputError(
                f"classification needs >= 2 training rows with features, got {len(X)} and {len(pts)} locations"
            )
        self.scale = Standardizer().fit(X)
        Xt = self.scale(X)
        ys = [torch.as_tensor(_labels(pts, r)) for r in self.res]
        self.model = _Heads(
            Xt.shape[1], tuple(len(cells_at_resolution(r)) for r in self.res), self.hidden, self.dropout
        )
        ce = torch.nn.functional.cross_entropy
        self.losses = fit_full_batch(
            self.model, lambda outs: sum((ce(o, y) for o, y in zip(outs, ys)), torch.tensor(0.0)),
            Xt, self.epochs, self.lr, self.wd, self.seed,
        )
        return self

    def log_scores(self, features: Any) -> np.ndarray:
        """[n, n_cells] log-probabilities of the finest cells (summed over levels for ``hier``)."""
        if self.model is None:
            raise InputError(f"{self.name} is not trained: call fit() first")
        with torch.no_grad():
            outs = self.model(self.scale(np.atleast_2d(features)))
        total = np.zeros((outs[0].shape[0], len(self.cells)))
        for o, idx in zip(outs, self.parent_index):
            total += torch.log_softmax(o, -1).double().numpy()[:, idx]
        return total

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
        """A feature vector -> probabilities over cell centres; the point is the best cell's centre
        (``date``, ``sample_rate`` and ``max_duration_s`` do not apply to features)."""
        return make_prediction(self._gallery, log_scores=self.log_scores(inputs)[0], model=self.name, k=k, light=light)


@register_geolocator("classify-res0", "Table-1 baseline: MLP over the 122 H3 res-0 cells (fit first)")
def _classify_res0(**kw: Any) -> CellClassifier:
    return CellClassifier("res0", **kw)


@register_geolocator("classify-res2", "Table-1 baseline: MLP over the 5,882 H3 res-2 cells (fit first)")
def _classify_res2(**kw: Any) -> CellClassifier:
    return CellClassifier("res2", **kw)


@register_geolocator("classify-hier", "Table-1 baseline: hierarchical H3 classifier, res 0 -> 1 -> 2 (fit first)")
def _classify_hier(**kw: Any) -> CellClassifier:
    return CellClassifier("hier", **kw)
