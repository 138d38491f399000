"""The public Python API: ``locate`` (where was this audio recorded?), ``check`` (does it fit a claimed place?)
and ``analyze`` (a clip's sound against its picture and its claims), each from a file or, for the first two,
an audio array. Images and text are geolocated by their geolocators (``get_geolocator("image-geoclip")``,
``"text-geoclip"``), or from the command line (``geoforensics locate-image``, ``locate-text``)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .arguments import number
from .dates import parse_date
from .defaults import AUDIO_MODEL, MAX_DURATION_LIMIT_S, MAX_DURATION_S, MAX_TOP_K, TOP_K
from .forensics.analysis import analyze_media
from .forensics.checker import check as _check
from .geolocators.registry import get_geolocator
from .prediction import GeoPrediction

if TYPE_CHECKING:
    from .evidence import ClipEvidence
    from .ffmpeg import MediaFile
    from .forensics.analysis import ForensicReport
    from .forensics.results import ClaimCheck


def locate(
    source: str | os.PathLike[str] | np.ndarray | MediaFile | ClipEvidence,
    *,
    sample_rate: int | None = None,
    date: Any = None,
    model: str = AUDIO_MODEL,
    top_k: int = TOP_K,
    max_duration_s: float | None = None,
    **options: Any,
) -> GeoPrediction:
    """Where was this audio recorded? ``source`` is a file (any audio or video; its tags are never
    read), a mono/stereo array with ``sample_rate``, or a clip's gathered evidence
    (:func:`geoforensics.evidence.gather_evidence`). ``date`` ("YYYY-MM-DD", "YYYY-MM", a
    ``datetime.date`` or a month 1-12) is optional and sharpens the species ranges. Files are analysed
    up to ``max_duration_s`` (default ``defaults.MAX_DURATION_S``, 600 s). ``options`` configure the geolocator
    (e.g. ``gallery``, ``prior``); each distinct configuration is built once per process."""
    date = parse_date(date)
    top_k = number(top_k, "top_k", int, 1, MAX_TOP_K)
    if max_duration_s is not None:
        max_duration_s = number(max_duration_s, "max_duration_s", float, 0, MAX_DURATION_LIMIT_S, above=True)
    geo = get_geolocator(model, **options)
    return geo.predict(source, date=date, sample_rate=sample_rate, k=top_k, max_duration_s=max_duration_s)


def check(
    source: str | os.PathLike[str] | np.ndarray,
    claim: Any,
    *,
    sample_rate: int | None = None,
    date: Any = None,
    max_duration_s: float | None = MAX_DURATION_S,
) -> ClaimCheck:
    """Does the sound of ``source`` (a file, or an array with ``sample_rate``) fit ``claim`` ("lat, lon", a
    place name, a (lat, lon) pair or a :class:`~geoforensics.forensics.claims.Claim`)? A
    :class:`~geoforensics.forensics.results.ClaimCheck`: verdict, calibrated mismatch score, evidence."""
    return _check(source, claim, date=date, sample_rate=sample_rate, max_duration_s=max_duration_s)


def analyze(path: str | Path, *, claim: Any = None, date: Any = None, **options: Any) -> ForensicReport:
    """Where a clip's sound points, where its picture points, and whether they fit its claims (the user's,
    the file's GPS tag, the picture's guess): :func:`geoforensics.forensics.analysis.analyze_media`."""
    return analyze_media(path, claim=claim, date=date, **options)
