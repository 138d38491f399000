"""geoforensics: where was this recorded? Bioacoustic and image geolocation for geo-forensics.

The public API is small and imports its heavy parts lazily (:mod:`geoforensics.api`):

- ``locate(path_or_array, ...)``: where was this audio recorded? Returns a ``GeoPrediction``.
- ``check(path_or_array, claim, ...)``: does its sound fit the place claimed? Returns a ``ClaimCheck``.
- ``analyze(path, claim=..., ...)``: the sound against the picture and the claims. Returns a ``ForensicReport``.
- ``GeoPrediction``: the one result object every geolocator returns.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .errors import GeoforensicsError, InputError, MissingWeightsError
from .prediction import GeoPrediction

if TYPE_CHECKING:
    from .forensics.analysis import ForensicReport
    from .forensics.results import ClaimCheck

__version__ = "0.1.0"
"""The one place the version is written (``pyproject.toml`` reads it from here)."""


def locate(*args: Any, **kwargs: Any) -> GeoPrediction:
    """Geolocate audio; see :func:`geoforensics.api.locate`."""
    from .api import locate as _locate

    return _locate(*args, **kwargs)


def check(*args: Any, **kwargs: Any) -> ClaimCheck:
    """Test a claimed place against a clip's sound; see :func:`geoforensics.api.check`."""
    from .api import check as _check

    return _check(*args, **kwargs)


def analyze(*args: Any, **kwargs: Any) -> ForensicReport:
    """Analyse a clip's sound, picture and claims; see :func:`geoforensics.api.analyze`."""
    from .api import analyze as _analyze

    return _analyze(*args, **kwargs)


__all__ = [
    "GeoPrediction", "GeoforensicsError", "InputError", "MissingWeightsError", "__version__", "analyze", "check", "locate",
]
