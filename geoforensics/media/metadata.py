"""Container and stream tags (title, creation date, GPS...), read for display only.

This is the one module that reads tags. Nothing it returns is ever an input to a prediction: the
geolocators see only decoded samples and pixels, so a forged or stripped tag cannot steer them, and
the UI can show the tags next to the predictions as a separate, untrusted claim.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from geoforensics.errors import InputError
from geoforensics.ffmpeg import PROBE_TIMEOUT_S, MediaFile, open_media
from geoforensics.geo.gazetteer import parse_coordinates

_STREAM_HEAD_RE = re.compile(r"^\s*Stream #\d+:(\d+)")
_TAG_RE = re.compile(r"^(\s+)([^:]*?)\s*: ?(.*)$")

# Keys checked for a position, in order, after any "streamN:" prefix is dropped and lower-cased.
GPS_KEYS: tuple[str, ...] = (
    "com.apple.quicktime.location.iso6709",
    "location",
    "location-eng",
    "xyz",
    "gps",
    "gps_coordinates",
    "coordinates",
)

_NUM = r"[+-]\d+(?:\.\d+)?"
_ISO6709_RE = re.compile(rf"^\s*(?P<lat>{_NUM})(?P<lon>{_NUM})(?P<alt>{_NUM})?\s*(?:CRS[^/]*)?/?\s*$")

_DISPLAY_KEYS: dict[str, tuple[str, ...]] = {
    "title": ("title",),
    "artist": ("artist", "album_artist", "author", "com.apple.quicktime.author"),
    "album": ("album",),
    "creation_time": ("creation_time", "com.apple.quicktime.creationdate", "date", "date-eng"),
    "comment": ("comment", "comment-eng", "com.apple.quicktime.comment"),
    "description": ("description", "synopsis", "com.apple.quicktime.description"),
    "make": ("com.apple.quicktime.make", "com.android.manufacturer", "make"),
    "model": ("com.apple.quicktime.model", "com.android.model", "model"),
    "software": ("com.apple.quicktime.software", "software", "com.android.version"),
    "encoder": ("encoder",),
    "copyright": ("copyright",),
}
_BORING = frozenset({"major_brand", "minor_version", "compatible_brands", "handler_name", "vendor_id", "language"})


def _split_ffmetadata_entry(entry: str) -> tuple[str, str] | None:
    """``key=value`` with ffmetadata's backslash escapes undone; None without an unescaped ``=``."""
    parts: list[list[str]] = [[]]
    chars = iter(entry)
    for ch in chars:
        if ch == "\\":
            parts[-1].append(next(chars, ""))
        elif ch == "=" and len(parts) == 1:
            parts.append([])
        else:
            parts[-1].append(ch)
    if len(parts) != 2:
        return None
    return "".join(parts[0]), "".join(parts[1])


def _parse_ffmetadata(text: str) -> dict[str, str]:
    """Global tags from ffmpeg's ffmetadata output (stops at the first [SECTION])."""
    out: dict[str, str] = {}
    entry = ""
    for line in text.split("\n"):
        if not entry:
            if line.startswith("["):
                break
            if not line or line[0] in ";#":
                continue
        entry += line
        trailing = len(entry) - len(entry.rstrip("\\"))
        if trailing % 2 == 1:
            entry += "\n"
            continue
        pair = _split_ffmetadata_entry(entry)
        if pair is not None:
            out[pair[0]] = pair[1].strip()
        entry = ""
    return out


def _parse_report_tags(report: str) -> dict[str, str]:
    """Tags from ``ffmpeg -i``'s report: the container's by their names, each stream's as ``streamN:key``."""
    out: dict[str, str] = {}
    prefix: str | None = None
    in_tags = False
    tags_indent = 0
    last_key: str | None = None
    for line in report.splitlines():
        stripped = line.strip()
        indent = len(line) - len(line.lstrip())
        head = _STREAM_HEAD_RE.match(line)
        if line.startswith("Input #"):
            prefix, in_tags = "", False
            continue
        if head or stripped.startswith(("Chapter", "Program", "Duration:")):
            prefix = f"stream{head.group(1)}:" if head else None
            in_tags = False
            continue
        if prefix is None:
            continue
        if stripped == "Metadata:":
            in_tags, tags_indent, last_key = True, indent, None
            continue
        if not in_tags or indent <= tags_indent:
            in_tags = False
            continue
        m = _TAG_RE.match(line)
        if not m:
            continue
        key, value = m.group(2).strip(), m.group(3).rstrip()
        if key:
            last_key = prefix + key
            out[last_key] = value
        elif last_key is not None:
            out[last_key] += "\n" + value
    return out


def read_metadata(source: str | Path | MediaFile, timeout_s: float = PROBE_TIMEOUT_S) -> dict[str, str]:
    """All tags of ``source``: container tags by their own names, stream tags as ``streamN:key``; from the
    probe a :class:`~geoforensics.ffmpeg.MediaFile` already ran, else from a new one.

    For display only (see the module docstring). InputError if the file cannot be read.
    """
    media = open_media(source, timeout_s=timeout_s)
    tags = _parse_report_tags(media.tag_report)
    tags.update(_parse_ffmetadata(media.tag_ffmetadata))
    return tags


def _iso6709_part(number: str, deg_digits: int) -> float:
    """One ISO 6709 coordinate: ±DD[D].D, ±DD[D]MM.M or ±DD[D]MMSS.S, told apart by its integer digits."""
    sign = -1.0 if number[0] == "-" else 1.0
    body = number[1:]
    whole, _, frac = body.partition(".")
    frac_part = float(f"0.{frac}") if frac else 0.0
    n = len(whole)
    if n == deg_digits:
        return sign * (int(whole) + frac_part)
    if n == deg_digits + 2:
        return sign * (int(whole[:deg_digits]) + (int(whole[deg_digits:]) + frac_part) / 60)
    if n == deg_digits + 4:
        minutes, seconds = int(whole[deg_digits : deg_digits + 2]), int(whole[deg_digits + 2 :]) + frac_part
        return sign * (int(whole[:deg_digits]) + minutes / 60 + seconds / 3600)
    raise ValueError(f"bad ISO 6709 coordinate {number!r}")


def tag_coordinates(text: str) -> tuple[float, float] | None:
    """(lat, lon) from a position tag: ISO 6709 (``+48.8584+002.2945/``, as phones write it) or coordinate text
    as a user would type it (:func:`geoforensics.geo.gazetteer.parse_coordinates`); None for anything else,
    anything out of range, and (0, 0) (a blank position)."""
    m = _ISO6709_RE.match(text)
    if m:
        try:
            lat, lon = _iso6709_part(m.group("lat"), 2), _iso6709_part(m.group("lon"), 3)
        except ValueError:
            return None
        if not (-90.0 <= lat <= 90.0 and -180.0 <= lon <= 180.0):
            return None
    else:
        try:
            point = parse_coordinates(text) if text.strip() else None
        except InputError:
            return None
        if point is None:
            return None
        lat, lon = point
    return None if lat == 0.0 and lon == 0.0 else (lat, lon)


def _lookup(meta: Mapping[str, str], names: tuple[str, ...]) -> str | None:
    """First non-empty value among ``names``: container tags first, then any stream's."""
    lowered = {k.lower(): v for k, v in meta.items() if v and v.strip()}
    for name in names:
        if name in lowered:
            return lowered[name]
    for name in names:
        for key, value in lowered.items():
            if key.startswith("stream") and key.split(":", 1)[-1] == name:
                return value
    return None


def gps_from_metadata(meta: Mapping[str, str]) -> tuple[float, float] | None:
    """The claimed (lat, lon) in tags (ISO 6709 ``location`` or decimal), or None. (0, 0) counts as absent."""
    lowered = {k.lower(): v for k, v in meta.items()}
    candidates = [v for name in GPS_KEYS for k, v in lowered.items() if k.split(":", 1)[-1] == name]
    for value in candidates:
        coords = tag_coordinates(value)
        if coords is not None:
            return coords
    return None


def display_metadata(path: str | Path | MediaFile) -> dict[str, Any]:
    """A labelled summary of the tags for the UI: title, artist, creation_time, gps, comment, encoder...

    Only labels that are present appear; ``gps`` is a (lat, lon) tuple and ``gps_raw`` the tag it came
    from; ``other`` holds the remaining tags. This is shown to the user as the file's own claim and is
    never an input to any prediction. InputError if the file cannot be read.
    """
    meta = read_metadata(path)
    summary: dict[str, Any] = {}
    used: set[str] = set()
    for label, names in _DISPLAY_KEYS.items():
        value = _lookup(meta, names)
        if value is not None:
            summary[label] = value.strip()
    gps = gps_from_metadata(meta)
    if gps is not None:
        summary["gps"] = gps
        raw = _lookup(meta, GPS_KEYS)
        if raw:
            summary["gps_raw"] = raw.strip()
    for label in summary:
        used.update(_DISPLAY_KEYS.get(label, ()))
    used.update(GPS_KEYS)
    other = {
        k: v
        for k, v in meta.items()
        if v.strip() and k.lower().split(":", 1)[-1] not in used | _BORING and not k.lower().endswith("-eng")
    }
    if other:
        summary["other"] = other
    return summary
