"""Regression baselines (paper, Table 1 "Regress" and supplement A.3): a small MLP from a feature
vector (e.g. pooled BirdNET scores) straight to a location, with one of three losses:

* ``euclidean``: MSE on (lat / 90, lon / 180), coordinates normalised to [-1, 1] as in the paper;
* ``haversine``: the great-circle distance in km of the predicted (lat, lon) (differentiable);
* ``xyz``: MSE on the unit-sphere (x, y, z) (Perotin et al., 2019), renormalised at test time.

A regressor outputs one point; its :class:`GeoPrediction` surface is a Gaussian kernel (bandwidth
``bandwidth_km``) around that point over a uniform 1 degree grid (``gallery``), with the point itself as the point
estimate, so surfaces can be averaged like any other system's (spatiotemporal aggregation).
The training helpers (:func:`mlp`, :func:`fit_full_batch`, :class:`Standardizer`) are shared with
the classifiers.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import torch

from ..defaults import TOP_K
from ..errors import InputError
from ..geo.galleries import get_gallery
from ..geo.geodesy import as_latlon, haversine_km, haversine_km_torch, latlon_to_xyz_torch, xyz_to_latlon_torch
from ..prediction import GeoPrediction
from .baselines import make_prediction
from .registry import register_geolocator

LOSSES = ("euclidean", "haversine", "xyz")
SURFACE_GALLERY = "uniform-1"


class Standardizer:
    """Per-feature standardisation fit on training features, keeping the ``max_features`` features
    that vary most in training (BirdNET's 6,522 scores are mostly near 0; small data, small nets)."""

    def __init__(self, max_features: int = 512):
        self.max_features = max_features

    def fit(self, X: np.ndarray) -> Standardizer:
        X = np.asarray(X, np.float32)
        sd = X.std(0)
        order = np.argsort(-sd, kind="stable")[: self.max_features]
        self.keep = np.sort(order[sd[order] > 1e-6]) if (sd[order] > 1e-6).any() else np.sort(order)
        self.mean = X[:, self.keep].mean(0)
        self.std = X[:, self.keep].std(0) + 1e-3
        return self

    def __call__(self, X: np.ndarray) -> torch.Tensor:
        X = np.atleast_2d(np.asarray(X, np.float32))
        return torch.from_numpy((X[:, self.keep] - self.mean) / self.std)


def mlp(d_in: int, d_out: int, hidden: int = 128, dropout: float = 0.2) -> torch.nn.Module:
    """Two-layer MLP head (the paper's decoders are 2-layer MLPs with 128 hidden units)."""
    return torch.nn.Sequential(
        torch.nn.Dropout(dropout), torch.nn.Linear(d_in, hidden), torch.nn.ReLU(), torch.nn.Linear(hidden, d_out)
    )


def fit_full_batch(
    model: torch.nn.Module,
    loss_fn: Callable[[Any], torch.Tensor],
    X: torch.Tensor,
    epochs: int = 200,
    lr: float = 1e-3,
    weight_decay: float = 1e-3,
    seed: int = 0,
    threads: int = 1,
) -> list[float]:
    """Adam on the whole (small) training set; returns the loss per epoch. One thread by default:
    for nets this small, several threads on a shared machine are many times slower."""
    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        return _fit(model, loss_fn, X, epochs, lr, weight_decay, seed)
    finally:
        torch.set_num_threads(before)


def _fit(
    model: torch.nn.Module, loss_fn: Callable[[Any], torch.Tensor], X: torch.Tensor, epochs: int, lr: float, wd: float,
    seed: int,
) -> list[float]:
    torch.manual_seed(seed)
    for m in model.modules():
        reset = getattr(m, "reset_parameters", None)
        if callable(reset):
            reset()
    opt = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=wd)
    model.train()
    losses = []
    for _ in range(epochs):
        opt.zero_grad()
        loss = loss_fn(model(X))
        loss.backward()
        opt.step()
        losses.append(float(loss.detach()))
    model.eval()
    return losses


def _decode(out: torch.Tensor, loss: str) -> torch.Tensor:
    """Network outputs -> (lat, lon) degrees."""
    if loss == "xyz":
        return xyz_to_latlon_torch(out / out.norm(dim=-1, keepdim=True).clamp_min(1e-9))
    lat = torch.tanh(out[:, 0]) * 90.0 if loss == "haversine" else out[:, 0].clamp(-1, 1) * 90.0
    lon = torch.tanh(out[:, 1]) * 180.0 if loss == "haversine" else out[:, 1].clamp(-1, 1) * 180.0
    return torch.stack([lat, lon], dim=-1)


class RegressionGeolocator:
    """Feature vector -> MLP -> (lat, lon), trained with the ``loss`` of :data:`LOSSES`."""

    modality = "audio"

    def __init__(
        self,
        loss: str = "haversine",
        hidden: int = 128,
        epochs: int = 200,
        lr: float = 1e-3,
        weight_decay: float = 1e-3,
        bandwidth_km: float = 500.0,
        seed: int = 0,
        gallery: str | np.ndarray = SURFACE_GALLERY,
    ):
        """``gallery``: the points of the kernel surface (a gallery name or an (N, 2) array)."""
        if loss not in LOSSES:
            raise ValueError(f"loss must be one of {LOSSES}, not {loss!r}")
        self.loss, self.hidden, self.epochs, self.lr, self.wd = loss, hidden, epochs, lr, weight_decay
        self.bandwidth_km, self.seed = bandwidth_km, seed
        self.name = f"regress-{loss}"
        self.model: torch.nn.Module | None = None
        self._gallery_spec = gallery
        self._surface: np.ndarray | None = None

    @property
    def gallery(self) -> np.ndarray:
        if self._surface is None:
            if isinstance(self._gallery_spec, str):

                self._surface = np.asarray(get_gallery(self._gallery_spec).latlon)
            else:
                self._surface = as_latlon(self._gallery_spec, name="gallery").reshape(-1, 2).astype(np.float64)
        return self._surface

    def fit(self, features: Any, latlon: Any) -> RegressionGeolocator:
        """Train on features [n, d] and true (lat, lon) [n, 2]."""
        y = torch.as_tensor(as_latlon(latlon, name="training locations").reshape(-1, 2), dtype=torch.float32)
        X = np.asarray(features, np.float32)
        if len(X) != len(y) or len(X) < 2:
            raise InputError(f"regression needs >= 2 training rows with features, got {len(X)} and {len(y)} locations")
        self.scale = Standardizer().fit(X)
        Xt = self.scale(X)
        self.model = mlp(Xt.shape[1], 3 if self.loss == "xyz" else 2, self.hidden)
        if self.loss == "euclidean":
            target = y / torch.tensor([90.0, 180.0])
            loss_fn = lambda out: ((out - target) ** 2).sum(-1).mean()  # noqa: E731
        elif self.loss == "haversine":
            loss_fn = lambda out: haversine_km_torch(_decode(out, "haversine"), y).mean() / 1000.0  # noqa: E731
        else:
            target = latlon_to_xyz_torch(y)
            loss_fn = lambda out: ((out - target) ** 2).sum(-1).mean()  # noqa: E731
        self.losses = fit_full_batch(self.model, loss_fn, Xt, self.epochs, self.lr, self.wd, self.seed)
        return self

    def locate(self, features: Any) -> np.ndarray:
        """Predicted (lat, lon) [n, 2] for features [n, d]."""
        if self.model is None:
            raise InputError(f"{self.name} is not trained: call fit() first")
        with torch.no_grad():
            return _decode(self.model(self.scale(np.atleast_2d(features))), self.loss).double().numpy()

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
        """A feature vector -> the regressed point, with a kernel surface around it (``date``,
        ``sample_rate`` and ``max_duration_s`` do not apply to features)."""
        point = self.locate(inputs)[0]
        d = haversine_km(self.gallery, point)
        log_s = -0.5 * (d / self.bandwidth_km) ** 2
        return make_prediction(self.gallery, log_scores=log_s, model=self.name, k=k, light=light, point=tuple(point))


@register_geolocator(
    "regress-euclidean", "Table-1 baseline: MLP regression of normalised (lat, lon), MSE loss (fit first)"
)
def _regress_euclidean(**kw: Any) -> RegressionGeolocator:
    return RegressionGeolocator("euclidean", **kw)


@register_geolocator("regress-haversine", "Table-1 baseline: MLP regression of (lat, lon), Haversine loss (fit first)")
def _regress_haversine(**kw: Any) -> RegressionGeolocator:
    return RegressionGeolocator("haversine", **kw)


@register_geolocator("regress-xyz", "Table-1 baseline: MLP regression of unit-sphere xyz, MSE loss (fit first)")
def _regress_xyz(**kw: Any) -> RegressionGeolocator:
    return RegressionGeolocator("xyz", **kw)
