"""Limits on what the app accepts: file size, duration, number of frames, and file extensions."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from geoforensics.errors import InputError

AUDIO_EXTS: frozenset[str] = frozenset({".wav", ".mp3", ".flac", ".ogg", ".m4a", ".opus", ".aac"})
VIDEO_EXTS: frozenset[str] = frozenset({".mp4", ".mov", ".webm", ".mkv", ".avi", ".m4v"})
MEDIA_EXTS: frozenset[str] = AUDIO_EXTS | VIDEO_EXTS

_MB = 1_000_000


@dataclass(frozen=True)
class MediaLimits:
    """Upper bounds for one request: bytes on disk, seconds of media, frames sampled from a video."""

    max_bytes: int = 500 * _MB
    max_duration_s: float = 1800.0
    max_frames: int = 120


def format_mb(n_bytes: int) -> str:
    """``n_bytes`` as a short megabyte figure ("500", "0.5")."""
    return f"{n_bytes / _MB:.3g}"


def check_file(path: str | Path, limits: MediaLimits | None = MediaLimits()) -> Path:
    """Return ``path`` as a Path; InputError if it is missing, not a file, empty, or over ``limits.max_bytes``.

    ``limits=None`` skips the size bound (missing and empty files are still refused).
    """
    p = Path(path)
    if not p.exists():
        raise InputError(f"file not found: {p.name}")
    if not p.is_file():
        raise InputError(f"not a file: {p.name}")
    size = p.stat().st_size
    if size == 0:
        raise InputError(f"the file is empty: {p.name}")
    if limits is not None and size > limits.max_bytes:
        raise InputError(f"file larger than {format_mb(limits.max_bytes)} MB: {p.name}")
    return p


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
