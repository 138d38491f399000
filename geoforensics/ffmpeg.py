"""The one door to ffmpeg: its binary, the safe way to open a user's file, the file check, the
``ffmpeg -i`` probe, and the user-facing reason when ffmpeg fails.

Shared by ``audio`` (decoding) and ``media`` (frames, URL fetching, metadata), so they all refuse the
same files in the same words. The probe keeps the stream layout only; container tags are parsed
from the same report by ``media.metadata``, for display, and by nothing else.
"""

from __future__ import annotations

import functools
import os
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import InputError

# Demuxers ffmpeg may use on user files: containers only, never playlists (hls, concat) that open other files or URLs.
DEMUXERS = "mov,matroska,avi,mp3,flac,ogg,wav,aac,mpegts,flv,aiff,w64,asf"

PROBE_TIMEOUT_S: float = 30.0

_MB = 1_000_000


@functools.cache
def ffmpeg_exe() -> str:
    """Path of the ffmpeg binary shipped by imageio-ffmpeg (no system ffmpeg needed)."""
    import imageio_ffmpeg

    exe: str = imageio_ffmpeg.get_ffmpeg_exe()
    return exe


def _url(path: Path) -> str:
    return f"file:{path.resolve()}"


def input_args(path: str | os.PathLike[str]) -> list[str]:
    """ffmpeg arguments opening ``path`` as a local media file only: the ``file:`` prefix stops a name
    such as ``http:...`` being read as a protocol, and the whitelists stop playlists or reference files
    from pulling in URLs or other files."""
    return ["-protocol_whitelist", "file", "-format_whitelist", DEMUXERS, "-i", _url(Path(path))]


def format_mb(n_bytes: int) -> str:
    """``n_bytes`` as a short megabyte figure ("500", "0.5")."""
    return f"{n_bytes / _MB:.3g}"


def check_file(path: str | os.PathLike[str], max_bytes: int | None = None) -> Path:
    """``path`` as a Path; InputError if it is missing, not a regular file, empty, or over ``max_bytes``.

    Messages name the file (never its folder or contents).
    """
    p = Path(os.fspath(path)).expanduser()
    if not p.exists():
        raise InputError(f"file not found: {p.name}")
    if not p.is_file():
        raise InputError(f"not a file: {p.name}")
    size = p.stat().st_size
    if size == 0:
        raise InputError(f"{p.name} is empty (0 bytes)")
    if max_bytes is not None and size > max_bytes:
        raise InputError(f"file larger than {format_mb(max_bytes)} MB: {p.name}")
    return p


KNOWN_REASONS: tuple[tuple[str, str], ...] = (
    ("matches no streams", "it has no audio stream"),
    ("does not contain any stream", "it has no audio stream"),
    ("No such file or directory", "file not found"),
    ("Permission denied", "permission denied"),
    ("moov atom not found", "the file is truncated or incomplete (moov atom not found)"),
    ("Invalid data found when processing input", "not a readable audio or video file (invalid data)"),
    ("Failed to find two consecutive MPEG audio frames", "not a readable audio or video file (invalid data)"),
    ("End of file", "the file ends before any audio"),
    ("Decoder not found", "its audio codec is not supported"),
    ("Unsupported codec", "its audio codec is not supported"),
)
"""ffmpeg messages (first match wins) and what to tell the user instead."""

_LOG_PREFIX = re.compile(r"^\[[^\]]*@ 0x[0-9a-f]+\]\s*")
_OPEN_ERROR = re.compile(r"Error opening input(?: files?)?: (.+)$")


def ffmpeg_reason(stderr: str | bytes, path: str | os.PathLike[str] | None = None, fallback: str = "ffmpeg could not read it") -> str:
    """A short, one-line, user-facing reason from ffmpeg's error output; ``path`` is shown by its name only."""
    text = stderr.decode("utf-8", "replace") if isinstance(stderr, bytes) else stderr
    for needle, reason in KNOWN_REASONS:
        if needle in text:
            return reason
    lines = [_LOG_PREFIX.sub("", ln).strip() for ln in text.splitlines()]
    lines = [ln for ln in lines if ln and "output file" not in ln.lower()]
    opened = [m.group(1) for ln in lines if (m := _OPEN_ERROR.match(ln))]
    lines = opened or [ln for ln in lines if not ln.startswith("Error opening")]
    if not lines:
        return fallback
    reason = lines[-1]
    if path is not None:
        p = Path(os.fspath(path))
        for shown in (_url(p), str(p.resolve()), str(p)):
            reason = reason.replace(shown, p.name)
    return reason.rstrip(".")[:200]


def run_ffmpeg(cmd: list[str], path: Path, what: str, timeout_s: float) -> subprocess.CompletedProcess[bytes]:
    """Run ``cmd`` (stdin closed, output captured); InputError "``what`` NAME timed out" past ``timeout_s``."""
    try:
        # run() kills and reaps ffmpeg when the timeout expires.
        return subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, timeout=timeout_s, check=False)
    except subprocess.TimeoutExpired:
        raise InputError(f"{what} {path.name} timed out after {timeout_s:g} s") from None


def input_report(
    path: str | os.PathLike[str], timeout_s: float = PROBE_TIMEOUT_S, output_args: tuple[str, ...] = ()
) -> tuple[str, bytes]:
    """``ffmpeg -i path [output_args]``: the report on the input (stderr up to any output) and stdout.

    The input's URL is replaced by the file's name in the report. InputError if the file is missing,
    empty or unreadable, or ffmpeg runs past ``timeout_s``.
    """
    p = check_file(path)
    proc = run_ffmpeg([ffmpeg_exe(), "-hide_banner", "-nostdin", *input_args(p), *output_args], p, "reading", timeout_s)
    text = proc.stderr.decode("utf-8", "replace")
    report = text.split("\nOutput #0", 1)[0].replace(_url(p), p.name.replace("\n", " "))
    if "Input #0" not in report:
        raise InputError(f"could not read {p.name}: {ffmpeg_reason(text, p)}")
    return report, proc.stdout


@dataclass(frozen=True)
class StreamInfo:
    """One stream as ``ffmpeg -i`` lists it (fields it does not state are None)."""

    index: int
    kind: str  # "audio", "video", "subtitle", "data" or "attachment"
    codec: str | None = None
    sample_rate: int | None = None
    channels: int | None = None
    width: int | None = None
    height: int | None = None
    fps: float | None = None
    cover_art: bool = False  # a still picture attached to an audio file (an mp3's or m4a's cover)


@dataclass(frozen=True)
class MediaInfo:
    """The streams and duration of a media file. Never carries container or stream tags."""

    streams: tuple[StreamInfo, ...]
    duration_s: float | None

    @property
    def audio_streams(self) -> list[StreamInfo]:
        return [s for s in self.streams if s.kind == "audio"]

    @property
    def video_streams(self) -> list[StreamInfo]:
        """Real video streams (cover art left out)."""
        return [s for s in self.streams if s.kind == "video" and not s.cover_art]

    @property
    def audio(self) -> StreamInfo | None:
        """The first audio stream (the one decoding reads), or None."""
        return next(iter(self.audio_streams), None)

    @property
    def video(self) -> StreamInfo | None:
        """The first real video stream (the one frames come from), or None."""
        return next(iter(self.video_streams), None)

    @property
    def has_audio(self) -> bool:
        return self.audio is not None

    @property
    def has_video(self) -> bool:
        return self.video is not None


_DURATION = re.compile(r"^\s+Duration: (?:(\d+):(\d+):(\d+(?:\.\d+)?)|N/A)", re.M)
_STREAM = re.compile(
    r"^\s+Stream #\d+:(\d+)(?:\[[^\]]*\])?(?:\([^)]*\))?: (Video|Audio|Subtitle|Data|Attachment): (.*)$", re.M
)
_RATE = re.compile(r"^(\d+(?:\.\d+)?)(k?) (fps|tbr)$")
_SIZE = re.compile(r"^(\d+)x(\d+)(?:\s|$)")
_HZ = re.compile(r"^(\d+) Hz$")
_CHANNELS = re.compile(r"^(\d+) channels")
_LAYOUTS = {"mono": 1, "stereo": 2, "2.1": 3, "quad": 4, "4.0": 4, "5.0": 5, "5.1": 6, "6.1": 7, "7.1": 8}


def _top_level_fields(desc: str) -> list[str]:
    """Split ffmpeg's stream description at commas outside brackets."""
    fields, depth, start = [], 0, 0
    for i, ch in enumerate(desc):
        if ch in "([":
            depth += 1
        elif ch in ")]":
            depth = max(0, depth - 1)
        elif ch == "," and depth == 0:
            fields.append(desc[start:i].strip())
            start = i + 1
    fields.append(desc[start:].strip())
    return fields


def _rate(field: str) -> float | None:
    m = _RATE.match(field)
    return float(m.group(1)) * (1000 if m.group(2) else 1) if m else None


def _stream(index: int, kind: str, desc: str) -> StreamInfo:
    fields = _top_level_fields(desc)
    info: dict[str, Any] = {"codec": fields[0].split(" ", 1)[0] or None}
    fps = tbr = None
    for f in fields[1:]:
        if (hz := _HZ.match(f)) is not None:
            info["sample_rate"] = int(hz.group(1))
        elif f.split("(", 1)[0] in _LAYOUTS:
            info["channels"] = _LAYOUTS[f.split("(", 1)[0]]
        elif (ch := _CHANNELS.match(f)) is not None:
            info["channels"] = int(ch.group(1))
        elif (size := _SIZE.match(f)) is not None and "width" not in info:
            info["width"], info["height"] = int(size.group(1)), int(size.group(2))
        elif f.endswith(" fps"):
            fps = _rate(f)
        elif f.endswith(" tbr"):
            tbr = _rate(f)
    if kind == "video":
        info["fps"] = fps if fps is not None else tbr
    return StreamInfo(index, kind, cover_art=kind == "video" and "(attached pic)" in desc, **info)


def parse_report(report: str) -> MediaInfo:
    """Streams and duration from ``ffmpeg -i``'s report on one input (tag lines are skipped)."""
    duration = None
    m = _DURATION.search(report)
    if m and m.group(1) is not None:
        duration = int(m.group(1)) * 3600 + int(m.group(2)) * 60 + float(m.group(3))
    streams = tuple(_stream(int(i), kind.lower(), desc.strip()) for i, kind, desc in _STREAM.findall(report))
    return MediaInfo(streams, duration)


def probe(path: str | os.PathLike[str], timeout_s: float = PROBE_TIMEOUT_S) -> MediaInfo:
    """Streams and duration of a media file, parsed from ``ffmpeg -i`` (no ffprobe ships). Tags are skipped.

    ``duration_s`` is None where the container does not say. InputError for a missing, empty or
    unreadable file, or when ffmpeg runs past ``timeout_s``.
    """
    report, _ = input_report(path, timeout_s)
    return parse_report(report)
