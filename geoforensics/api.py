"""The public Python API: ``locate`` (audio), with image/text entry points added by their modules."""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from .defaults import AUDIO_MODEL, TOP_K
from .prediction import GeoPrediction


def locate(
    source: str | os.PathLike[str] | np.ndarray,
    *,
    sample_rate: int | None = None,
    date: Any = None,
    model: str = AUDIO_MODEL,
    top_k: int = TOP_K,
    max_duration_s: float | None = None,
    **options: Any,
) -> GeoPrediction:
    """Where was this audio recorded? ``source`` is a file (any audio or video; its tags are never
    read) or a mono/stereo array with ``sample_rate``. ``date`` ("YYYY-MM-DD", "YYYY-MM", a
    ``datetime.date`` or a month 1-12) is optional and sharpens the species ranges. Files are analysed
    up to ``max_duration_s`` (default ``defaults.MAX_DURATION_S``, 600 s). ``options`` configure the geolocator (e.g. ``gallery``,
    ``prior``); each distinct configuration is built once per process."""
    from .dates import parse_date
    from .geolocators.registry import get_geolocator

    date = parse_date(date)
    geo = get_geolocator(model, **options)
    return geo.predict(source, date=date, sample_rate=sample_rate, k=top_k, max_duration_s=max_duration_s)
