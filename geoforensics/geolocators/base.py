"""The one interface every geolocator answers, so the app, the CLI and the benchmarks treat them alike."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, Self, runtime_checkable

import numpy as np

from ..defaults import TOP_K
from ..prediction import GeoPrediction

if TYPE_CHECKING:
    from ..models.birdnet import Labels
    from ..scoring import WindowScores


@runtime_checkable
class Geolocator(Protocol):
    """Something that turns an input (audio, image, text, ...) into a :class:`GeoPrediction`.

    ``gallery`` is the (N, 2) array of candidate (lat, lon) points in degrees that ``predict``
    distributes probability over; ``name`` is the registry name shown in reports; ``modality`` what
    it reads ("audio", "image", "text", "oracle" or "any").
    """

    name: str
    modality: str

    @property
    def gallery(self) -> np.ndarray: ...

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
        """Probabilities over ``gallery`` plus point estimate, top-``k``, regions and evidence.

        Every geolocator takes exactly these options and raises ``TypeError`` on any other; each
        honours those that apply to it and ignores the rest:

        * ``k``: candidate places listed in ``top_k``;
        * ``date``: when the input was recorded (a date, "YYYY-MM[-DD]" or a month), for models
          with seasonal ranges;
        * ``sample_rate``: of an audio array (required with one);
        * ``max_duration_s``: seconds of audio analysed (None: the geolocator's own cap);
        * ``light``: batch evaluation (Table 1): the same surface and point, but one candidate
          without place name, no regions, and no per-window or per-species detail where that costs time.
        """
        ...


@dataclass
class SpeciesLikelihood:
    """What the species heard say about every gallery point: the evidence species ``idx`` (columns of
    the scores, strongest first), the pooled confidence ``q`` of every class, and each evidence
    species' log-likelihood term over the gallery (``terms`` [len(idx), n_points])."""

    idx: np.ndarray
    q: np.ndarray
    terms: np.ndarray

    @property
    def log_surface(self) -> np.ndarray:
        """The summed log-likelihood over the gallery (zeros without evidence)."""
        surface: np.ndarray = self.terms.sum(0)
        return surface


@runtime_checkable
class SpeciesLikelihoodModel(Protocol):
    """A geolocator whose surface is built from the species heard, answering for each gallery point and
    week how well they fit it: what the claim check (``forensics.checker``) asks, and all it asks, of a
    geolocator. ``species-ranges`` implements it; any geolocator that does can back a verdict.

    * ``likelihood(scores, week)``: the log-likelihood of these window scores [windows, classes] over the
      gallery, species by species (:class:`SpeciesLikelihood`), pooled over the windows given;
    * ``occurrence(species, week)``: each class's range [len(species), n_points] over the gallery;
    * ``predict_from_scores(ws, week, ...)``: the prediction from these window scores;
    * ``point_of(probs)``: the point estimate of a surface over the gallery;
    * ``species_names()``: the classes (the columns of the scores) and which are species;
    * ``detection_threshold``: the confidence from which a class counts as heard in a window.
    """

    name: str

    @property
    def gallery(self) -> np.ndarray: ...

    @property
    def detection_threshold(self) -> float: ...

    def species_names(self) -> Labels: ...

    def likelihood(self, scores: np.ndarray, week: int = -1) -> SpeciesLikelihood: ...

    def occurrence(self, species: np.ndarray, week: int = -1) -> np.ndarray: ...

    def predict_from_scores(
        self, ws: WindowScores, week: int = -1, k: int = TOP_K, light: bool = False
    ) -> GeoPrediction: ...

    def point_of(self, probs: np.ndarray) -> tuple[float, float]: ...


@runtime_checkable
class Trainable(Protocol):
    """A geolocator fitted on features [n, d] and true (lat, lon) [n, 2] before it predicts
    (the naive, classification and regression baselines); ``fit`` returns the geolocator."""

    def fit(self, features: Any, latlon: Any) -> Self: ...


def prediction_options(k: int, light: bool, names: bool = True) -> dict[str, Any]:
    """Keyword arguments of :meth:`GeoPrediction.from_probs` for the ``k`` and ``light`` options."""
    if light:
        return {"k": 1, "names": False, "region_masses": ()}
    return {"k": k, "names": names}
