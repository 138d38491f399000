"""Frames sampled from a video with one ffmpeg process.

Only stream layout (``geoforensics.ffmpeg.probe``) is read here; tags are the business of ``metadata.py``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import IO

from PIL import Image

from geoforensics.errors import InputError
from geoforensics.ffmpeg import PROBE_TIMEOUT_S, FfmpegStream, ffmpeg_exe, ffmpeg_reason, input_args, probe


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
    video = probe(path, timeout_s=min(timeout_s, PROBE_TIMEOUT_S)).video
    if video is None:
        raise InputError(f"no video stream in {Path(path).name}")
    cmd = [
        ffmpeg_exe(), "-hide_banner", "-nostdin", "-loglevel", "error",
        *input_args(path),
        "-map", f"0:{video.index}",
        "-vf", f"fps=fps=1/{every_s!r}:round=up,{_scale_filter(size)}",
        "-frames:v", str(max_frames),
        "-f", "image2pipe", "-c:v", "ppm", "-",
    ]  # fmt: skip
    frames: list[Frame] = []
    with FfmpegStream(cmd, timeout_s) as run:
        while len(frames) < max_frames:
            image = _read_ppm(run.stdout)
            if image is None:
                break
            frames.append(Frame(t_s=round(len(frames) * every_s, 6), image=image))
    if run.timed_out:
        raise InputError(f"extracting frames from {Path(path).name} timed out after {timeout_s:g} s")
    if not frames:
        reason = ffmpeg_reason(run.stderr, path, fallback="empty video")
        raise InputError(f"no frames could be decoded from {Path(path).name}: {reason}")
    return frames
