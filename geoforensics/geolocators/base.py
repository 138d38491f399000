"""The one interface every geolocator answers, so the app, the CLI and the benchmarks treat them alike."""

from __future__ import annotations

from typing import Any, Protocol, Self, runtime_checkable

import numpy as np

from ..defaults import TOP_K
from ..prediction import GeoPrediction


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
