"""Media intake: limits and extensions, video frames, URL fetching, and tags (for display only).

The file check and the stream probe live in ``geoforensics.ffmpeg`` (shared with ``audio``).
Names are imported lazily, so importing ``media.limits`` or ``media.frames`` never loads ``metadata``
(which the geolocators, models, ranges and audio code must not import, even indirectly).
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "check_url": "fetch",
    "fetch_url": "fetch",
    "Frame": "frames",
    "VideoFrames": "frames",
    "extract_frames": "frames",
    "AUDIO_EXTS": "limits",
    "MEDIA_EXTS": "limits",
    "VIDEO_EXTS": "limits",
    "MediaLimits": "limits",
    "check_duration": "limits",
    "check_extension": "limits",
    "display_metadata": "metadata",
    "gps_from_metadata": "metadata",
    "tag_coordinates": "metadata",
    "read_metadata": "metadata",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
