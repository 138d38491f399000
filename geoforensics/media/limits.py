"""Limits on what the app accepts: file size, duration, number of frames, and the one list of media
file extensions (CLI folder search, the app's upload filter, URL downloads).

The file check itself (missing, empty, over ``max_bytes``) is ``geoforensics.ffmpeg.check_file``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from geoforensics.errors import InputError
from geoforensics.ffmpeg import format_mb  # re-exported: the UI words its limits with it

AUDIO_EXTS: frozenset[str] = frozenset({".wav", ".mp3", ".flac", ".ogg", ".oga", ".m4a", ".opus", ".aac"})
VIDEO_EXTS: frozenset[str] = frozenset({".mp4", ".mov", ".webm", ".mkv", ".avi", ".m4v"})
MEDIA_EXTS: frozenset[str] = AUDIO_EXTS | VIDEO_EXTS

__all__ = [
    "expand_inputs",
    "AUDIO_EXTS",
    "MEDIA_EXTS",
    "VIDEO_EXTS",
    "MediaLimits",
    "check_duration",
    "check_extension",
    "format_mb",
]


@dataclass(frozen=True)
class MediaLimits:
    """Upper bounds for one request: bytes on disk, seconds of media, frames sampled from a video."""

    max_bytes: int = 500_000_000
    max_duration_s: float = 1800.0
    max_frames: int = 120


def check_duration(duration_s: float | None, limits: MediaLimits = MediaLimits()) -> None:
    """InputError if ``duration_s`` is over ``limits.max_duration_s`` (an unknown duration passes)."""
    if duration_s is not None and duration_s > limits.max_duration_s:
        raise InputError(
            f"longer than {limits.max_duration_s / 60:g} minutes ({duration_s / 60:.1f} min); "
            "trim it and try again"
        )


def check_extension(path: str | Path, allowed: frozenset[str] = MEDIA_EXTS) -> str:
    """Return the lower-case suffix of ``path``; InputError if it is not in ``allowed``."""
    ext = Path(path).suffix.lower()
    if ext not in allowed:
        shown = " ".join(sorted(e.lstrip(".") for e in allowed))
        raise InputError(f"unsupported file type {ext or '(none)'!r}; expected one of: {shown}")
    return ext


def expand_inputs(items: list[str]) -> list[Path]:
    """Files as given, and media files (``media.limits.MEDIA_EXTS``) inside folders (sorted)."""
    out: list[Path] = []
    for item in items:
        p = Path(item)
        if p.is_dir():
            found = sorted(f for f in p.rglob("*") if f.is_file() and f.suffix.lower() in MEDIA_EXTS)
            if not found:
                raise InputError(f"no audio or video files in folder {p}")
            out.extend(found)
        elif p.exists():
            out.append(p)
        else:
            raise InputError(f"no such file: {p}")
    return out
