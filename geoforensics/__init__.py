"""geoforensics: where was this recorded? Bioacoustic and image geolocation for geo-forensics.

The public API is small (:mod:`geoforensics.api`; heavy parts are imported when first used):

- ``locate(path_or_array, ...)``: where was this audio recorded? Returns a ``GeoPrediction``.
- ``check(path_or_array, claim, ...)``: does its sound fit the place claimed? Returns a ``ClaimCheck``.
- ``analyze(path, claim=..., ...)``: the sound against the picture and the claims. Returns a ``ForensicReport``.
- ``GeoPrediction``: the one result object every geolocator returns.
"""

from __future__ import annotations

from .api import analyze, check, locate
from .errors import GeoforensicsError, InputError, MissingWeightsError
from .prediction import GeoPrediction

__version__ = "0.1.0"
"""The one place the version is written (``pyproject.toml`` reads it from here)."""

__all__ = [
    "GeoPrediction", "GeoforensicsError", "InputError", "MissingWeightsError", "__version__", "analyze", "check",
    "locate",
]
