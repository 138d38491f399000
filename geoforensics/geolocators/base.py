"""The one interface every geolocator answers, so the app, the CLI and the benchmarks treat them alike."""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

import numpy as np

from ..prediction import GeoPrediction


@runtime_checkable
class Geolocator(Protocol):
    """Something that turns an input (audio, image, text, ...) into a :class:`GeoPrediction`.

    ``gallery`` is the (N, 2) array of candidate (lat, lon) points in degrees that ``predict``
    distributes probability over; ``name`` is the registry name shown in reports.
    """

    name: str
    modality: str

    @property
    def gallery(self) -> np.ndarray: ...

    def predict(self, inputs: Any, **options: Any) -> GeoPrediction:
        """Probabilities over ``gallery`` plus point estimate, top-k, regions and evidence."""
        ...
