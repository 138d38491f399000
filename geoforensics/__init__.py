"""geoforensics: where was this recorded? Bioacoustic and image geolocation for geo-forensics.

The public API is small and imports its heavy parts lazily:

- ``GeoPrediction``: the one result object every geolocator returns.
"""

from __future__ import annotations

from .errors import GeoforensicsError, InputError, MissingWeightsError
from .prediction import GeoPrediction

__version__ = "0.1.0"

__all__ = ["GeoPrediction", "GeoforensicsError", "InputError", "MissingWeightsError", "__version__"]
