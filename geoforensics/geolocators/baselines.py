"""Table-1 baselines: the naive random-training-location guesser and the species-range variants.

* ``naive``: each query gets the location of a training recording drawn at random (paper: "Rnd Train
  Loc"). Its surface is one-hot on that draw, so averaging surfaces (spatiotemporal aggregation) keeps
  it a random training location.
* ``species-annotated``: the species-ranges engine fed the labelled species (focal first) as if
  heard with certainty in one window (the paper's "Annotated Species").
* ``species-top1``: the engine fed only the single best-scoring BirdNET species of the clip, with
  its score ("Predicted Sp (Top 1)"). "Predicted Sp (All)" is the default ``species-ranges``.

Helpers shared by the Table-1 systems live here too: :func:`make_prediction` (a light or full
:class:`GeoPrediction`) and :func:`truth_of` (the oracles' access to the true location).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..dates import week_of
from ..defaults import GALLERY, TOP_K
from ..errors import InputError
from ..evidence import score_audio
from ..geo.geodesy import as_latlon
from ..prediction import GeoPrediction
from ..scoring import WindowScores, pool_scores
from .base import prediction_options
from .registry import register_geolocator
from .species_ranges import SpeciesRangeGeolocator


def make_prediction(
    gallery: np.ndarray,
    *,
    log_scores: np.ndarray | None = None,
    probs: np.ndarray | None = None,
    model: str,
    k: int = TOP_K,
    light: bool = False,
    point_method: str = "argmax",
    point: tuple[float, float] | None = None,
) -> GeoPrediction:
    """A :class:`GeoPrediction` from log-scores or probabilities with ``k`` candidates; ``light``
    as in :meth:`Geolocator.predict`; ``point`` overrides the point estimate (regression, naive)."""
    kw: dict[str, Any] = {"point_method": point_method, "model": model, "modality": "audio",
                          **prediction_options(k, light)}
    if log_scores is not None:
        pred = GeoPrediction.from_log_scores(gallery, log_scores, **kw)
    else:
        pred = GeoPrediction.from_probs(gallery, probs, **kw)
    if point is not None:
        pred.point = (float(point[0]), float(point[1]))
    return pred


def truth_of(inputs: Any) -> np.ndarray:
    """(n, 2) true (lat, lon) from a pair, an (n, 2) array or objects with ``lat``/``lon``."""
    if hasattr(inputs, "lat") and hasattr(inputs, "lon"):
        return np.array([[float(inputs.lat), float(inputs.lon)]])
    if isinstance(inputs, (list, tuple)) and inputs and hasattr(inputs[0], "lat"):
        return np.array([[float(r.lat), float(r.lon)] for r in inputs])
    try:
        return as_latlon(inputs, name="true location").reshape(-1, 2)
    except (ValueError, TypeError) as e:
        raise InputError(f"an oracle needs the true location (lat, lon): {e}") from None


class NaiveGeolocator:
    """Guesses the location of a random training recording ("Rnd Train Loc")."""

    name = "naive"
    modality = "any"

    def __init__(self, train_latlon: Any | None = None, seed: int = 0):
        self._gallery = np.zeros((0, 2))
        self.rng = np.random.default_rng(seed)
        if train_latlon is not None:
            self.fit(None, train_latlon)

    @property
    def gallery(self) -> np.ndarray:
        return self._gallery

    def fit(self, features: Any, latlon: Any) -> NaiveGeolocator:
        """Remember the training locations (``features`` are ignored)."""
        self._gallery = as_latlon(latlon, name="training locations").reshape(-1, 2).astype(np.float64)
        return self

    def sample(self, n: int) -> np.ndarray:
        """``n`` random training locations, (n, 2)."""
        if not len(self._gallery):
            raise InputError("the naive geolocator has no training locations: call fit() first")
        return self._gallery[self.rng.integers(0, len(self._gallery), n)]

    def predict(
        self,
        inputs: Any = None,
        *,
        k: int = TOP_K,
        date: Any = None,
        sample_rate: int | None = None,
        max_duration_s: float | None = None,
        light: bool = False,
    ) -> GeoPrediction:
        """A one-hot surface on a random training location; ``inputs`` and the options but ``k`` and
        ``light`` are ignored."""
        if not len(self._gallery):
            raise InputError("the naive geolocator has no training locations: call fit() first")
        p = np.zeros(len(self._gallery))
        p[int(self.rng.integers(0, len(self._gallery)))] = 1.0
        return make_prediction(self._gallery, probs=p, model=self.name, k=k, light=light)


class SpeciesVariantGeolocator:
    """The species-ranges engine fed other evidence: the annotated species, or only BirdNET's top 1."""

    modality = "audio"

    def __init__(self, variant: str = "annotated", engine: SpeciesRangeGeolocator | None = None, **engine_options: Any):
        if variant not in ("annotated", "top1"):
            raise ValueError(f"variant must be 'annotated' or 'top1', not {variant!r}")
        self.variant = variant
        self.name = f"species-{variant}"
        self.engine = engine or SpeciesRangeGeolocator(**engine_options)
        self._index = {s: i for i, s in enumerate(self.engine.species_names().scientific)}

    @property
    def gallery(self) -> np.ndarray:
        return self.engine.gallery

    def window_scores(
        self, inputs: Any, sample_rate: int | None = None, max_duration_s: float | None = None
    ) -> WindowScores:
        """The evidence fed to the engine: one certain window of the annotated species, or the clip's
        best BirdNET species alone with its pooled score (audio is scored as the engine would)."""
        n = len(self._index)
        if self.variant == "annotated":
            names = getattr(inputs, "species", inputs)
            if isinstance(names, str):
                names = (names,)
            s = np.zeros((1, n), np.float32)
            for name in names or ():
                if name in self._index:
                    s[0, self._index[name]] = 1.0
            return WindowScores(starts_s=np.zeros(1), ends_s=np.full(1, 3.0), scores=s)
        ws = score_audio(inputs, sample_rate=sample_rate, window=self.engine.window,
                         max_duration_s=max_duration_s or self.engine.max_duration_s)
        q = pool_scores(ws.scores, self.engine.rule.pooling)
        usable = self.engine.species_names().is_species
        q = np.where(usable, q, -1.0)
        top = int(np.argmax(q))
        s = np.zeros((1, n), np.float32)
        s[0, top] = max(float(q[top]), 0.0)
        return WindowScores(starts_s=np.zeros(1), ends_s=np.full(1, 3.0), scores=s, duration_s=ws.duration_s,
                            source_duration_s=ws.source_duration_s)

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
        """Species names (annotated) or audio / :class:`WindowScores` (top 1) -> prediction;
        ``date`` selects the range model's week as for ``species-ranges``."""
        week = week_of(date)
        ws = self.window_scores(inputs, sample_rate, max_duration_s)
        pred = self.engine.predict_from_scores(ws, week=week, k=k, light=light)
        pred.model = self.name
        return pred


@register_geolocator("naive", "Table-1 baseline: the location of a random training recording (fit first)")
def _naive(train_latlon: Any = None, seed: int = 0, **_: Any) -> NaiveGeolocator:
    return NaiveGeolocator(train_latlon, seed=seed)


@register_geolocator("species-annotated", "species ranges of the annotated species (needs labels; Table 1)")
def _species_annotated(gallery: str = GALLERY, **kw: Any) -> SpeciesVariantGeolocator:
    return SpeciesVariantGeolocator("annotated", gallery=gallery, **kw)


@register_geolocator("species-top1", "species ranges of BirdNET's top-1 species only (Table 1)")
def _species_top1(gallery: str = GALLERY, **kw: Any) -> SpeciesVariantGeolocator:
    return SpeciesVariantGeolocator("top1", gallery=gallery, **kw)
