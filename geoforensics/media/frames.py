"""Frames sampled from a video with one ffmpeg process, and the ffmpeg plumbing the media package shares.

Only stream layout (which streams exist, duration) is read here; tags are the business of ``metadata.py``.
"""

from __future__ import annotations

import re
import subprocess
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import numpy as np
from PIL import Image

from geoforensics.errors import InputError
from geoforensics.ffmpeg import ffmpeg_exe, input_args
from geoforensics.media.limits import check_file

_STREAM_RE = re.compile(
    r"^\s*Stream #\d+:(?P<index>\d+)(?:\[[^\]]*\])?(?:\([^)]*\))?: (?P<kind>Video|Audio|Subtitle|Data|Attachment): "
    r"(?P<desc>.*)$",
    re.MULTILINE,
)
_DURATION_RE = re.compile(r"Duration: (\d+):(\d{2}):(\d{2}(?:\.\d+)?)")
_ERROR_RE = re.compile(r"Error opening input(?: file)?: (.+)$", re.MULTILINE)


@dataclass(frozen=True)
class StreamInfo:
    """One stream as ffmpeg lists it."""

    index: int
    kind: str
    description: str

    @property
    def is_cover_art(self) -> bool:
        """True for a still picture attached to an audio file (an mp3's or m4a's cover)."""
        return "(attached pic)" in self.description


@dataclass(frozen=True)
class ProbeResult:
    """The streams and duration ``ffmpeg -i`` reports for a file (its tags are not kept)."""

    streams: tuple[StreamInfo, ...]
    duration_s: float | None

    @property
    def video_streams(self) -> list[StreamInfo]:
        """Real video streams (cover art left out)."""
        return [s for s in self.streams if s.kind == "Video" and not s.is_cover_art]

    @property
    def has_audio(self) -> bool:
        return any(s.kind == "Audio" for s in self.streams)


def ffmpeg_error(stderr: str, fallback: str = "unreadable or unsupported media") -> str:
    """The one line of ffmpeg's stderr that says why it failed."""
    m = _ERROR_RE.search(stderr)
    if m:
        return m.group(1).strip()
    lines = [ln.strip() for ln in stderr.splitlines() if ln.strip()]
    lines = [ln for ln in lines if "output file" not in ln.lower()]
    return lines[-1][:200] if lines else fallback


def ffmpeg_report(path: str | Path, timeout_s: float = 30.0, extra_args: tuple[str, ...] = ()) -> tuple[str, str]:
    """Run ``ffmpeg -i path [extra_args]``; return its input report (stderr up to any output) and its stdout.

    InputError if the file is missing, empty, unreadable, not a media file, or ffmpeg hangs.
    """
    p = check_file(path, limits=None)
    cmd = [ffmpeg_exe(), "-hide_banner", "-nostdin", *input_args(p), *extra_args]
    try:
        proc = subprocess.run(cmd, capture_output=True, timeout=timeout_s, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        raise InputError(f"reading {p.name} took longer than {timeout_s:g} s") from None
    report = proc.stderr.decode("utf-8", "replace").split("\nOutput #0", 1)[0]
    if "Input #0" not in report:
        raise InputError(f"could not read {p.name}: {ffmpeg_error(report)}")
    return report, proc.stdout.decode("utf-8", "replace")


def probe(path: str | Path, timeout_s: float = 30.0) -> ProbeResult:
    """Streams and duration of a media file. InputError if it cannot be read."""
    report, _ = ffmpeg_report(path, timeout_s)
    streams = tuple(
        StreamInfo(int(m.group("index")), m.group("kind"), m.group("desc").strip())
        for m in _STREAM_RE.finditer(report)
    )
    d = _DURATION_RE.search(report)
    duration = int(d.group(1)) * 3600 + int(d.group(2)) * 60 + float(d.group(3)) if d else None
    return ProbeResult(streams, duration)


def is_video(path: str | Path) -> bool:
    """True if ``path`` has a real video stream (an audio file's cover art does not count)."""
    return bool(probe(path).video_streams)


@dataclass(frozen=True)
class Frame:
    """One sampled frame: its time from the start of the video and the picture (RGB)."""

    t_s: float
    image: Image.Image


def _scale_filter(size: int | None) -> str:
    square = "scale=w='iw*max(sar,0)':h=ih,setsar=1"
    if size is None:
        return square
    return f"{square},scale=w='min({size},iw)':h='min({size},ih)':force_original_aspect_ratio=decrease"


def _read_ppm(stream: IO[bytes]) -> Image.Image | None:
    """Next binary PPM from ffmpeg's ``-c:v ppm`` pipe, or None at the end."""
    magic = stream.readline()
    if not magic:
        return None
    dims = stream.readline().split()
    maxval = stream.readline().strip()
    if magic.strip() != b"P6" or len(dims) != 2 or maxval != b"255":
        raise InputError("could not decode the video frames (unexpected data from ffmpeg)")
    w, h = int(dims[0]), int(dims[1])
    data = stream.read(w * h * 3)
    if len(data) < w * h * 3:
        return None
    return Image.frombytes("RGB", (w, h), data)


def extract_frames(
    path: str | Path,
    every_s: float = 2.0,
    max_frames: int = 60,
    size: int | None = 448,
    timeout_s: float = 120.0,
) -> list[Frame]:
    """Sample one RGB frame every ``every_s`` seconds from the start, at most ``max_frames``.

    ``size`` bounds the longer side in pixels (aspect kept, never enlarged); None keeps the full size.
    One ffmpeg process decodes and pipes all frames. InputError: unreadable file, no video stream,
    bad arguments, or ffmpeg running past ``timeout_s``.
    """
    if not every_s > 0:
        raise InputError(f"every_s must be positive, got {every_s}")
    if max_frames < 1:
        raise InputError(f"max_frames must be at least 1, got {max_frames}")
    if size is not None and size < 2:
        raise InputError(f"size must be at least 2 pixels, got {size}")
    info = probe(path, timeout_s=min(timeout_s, 30.0))
    videos = info.video_streams
    if not videos:
        raise InputError(f"no video stream in {Path(path).name}")
    cmd = [
        ffmpeg_exe(), "-hide_banner", "-nostdin", "-loglevel", "error",
        *input_args(path),
        "-map", f"0:{videos[0].index}",
        "-vf", f"fps=fps=1/{every_s!r}:round=up,{_scale_filter(size)}",
        "-frames:v", str(max_frames),
        "-f", "image2pipe", "-c:v", "ppm", "-",
    ]  # fmt: skip
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout is not None and proc.stderr is not None
    stdout, stderr = proc.stdout, proc.stderr
    timed_out = threading.Event()

    def _kill() -> None:
        timed_out.set()
        proc.kill()

    stderr_chunks: list[bytes] = []
    drain = threading.Thread(target=lambda: stderr_chunks.append(stderr.read()), daemon=True)
    timer = threading.Timer(timeout_s, _kill)
    timer.start()
    drain.start()
    frames: list[Frame] = []
    try:
        while len(frames) < max_frames:
            image = _read_ppm(stdout)
            if image is None:
                break
            frames.append(Frame(t_s=round(len(frames) * every_s, 6), image=image))
    finally:
        timer.cancel()
        stdout.close()
        if proc.poll() is None:
            proc.kill()
        proc.wait()
        drain.join(timeout=5)
        stderr.close()
    if timed_out.is_set():
        raise InputError(f"extracting frames took longer than {timeout_s:g} s")
    if not frames:
        err = b"".join(stderr_chunks).decode("utf-8", "replace")
        raise InputError(f"no frames could be decoded from {Path(path).name}: {ffmpeg_error(err, 'empty video')}")
    return frames


def extract_audio(
    path: str | Path,
    sample_rate: int,
    *,
    max_duration_s: float | None = None,
    timeout_s: float = 120.0,
) -> np.ndarray:
    """The soundtrack of an audio or video file as mono float32 at ``sample_rate`` (decoded by ``audio.decode``).

    InputError if the file cannot be read or has no audio stream.
    """
    if not probe(path, timeout_s=min(timeout_s, 30.0)).has_audio:
        raise InputError(f"no audio stream in {Path(path).name}")
    from geoforensics.audio.decode import decode_audio

    return decode_audio(path, sample_rate, max_duration_s=max_duration_s, timeout_s=timeout_s)
