"""geoforensics: where was this recorded? Bioacoustic and image geolocation for geo-forensics.

The public API is small and imports its heavy parts lazily:

- ``locate(path_or_array, ...)``: where was this audio recorded? Returns a ``GeoPrediction``.
- ``GeoPrediction``: the one result object every geolocator returns.
"""

from __future__ import annotations

from typing import Any

from .errors import GeoforensicsError, InputError, MissingWeightsError
from .prediction import GeoPrediction


def locate(*args: Any, **kwargs: Any) -> GeoPrediction:
    """Geolocate audio; see :func:`geoforensics.api.locate`."""
    from .api import locate as _locate

    return _locate(*args, **kwargs)


__version__ = "0.1.0"

__all__ = ["locate", "GeoPrediction", "GeoforensicsError", "InputError", "MissingWeightsError", "__version__"]
