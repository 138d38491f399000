"""Frames sampled from a video with one ffmpeg process (``extract_frames``), and its picture streamed at a
fixed rate and size (``VideoFrames``, for the evidence video).

Only stream layout (``geoforensics.ffmpeg.probe``) is read here; tags are the business of ``metadata.py``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import IO

import numpy as np
from PIL import Image

from geoforensics.errors import InputError
from geoforensics.ffmpeg import (
    PROBE_TIMEOUT_S,
    FfmpegStream,
    MediaFile,
    ffmpeg_exe,
    ffmpeg_reason,
    input_args,
    open_media,
    probe,
)


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
    source: str | Path | MediaFile,
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
    media = open_media(source, timeout_s=min(timeout_s, PROBE_TIMEOUT_S))
    path, video = media.path, media.info.video
    if video is None:
        raise InputError(f"no video stream in {path.name}")
    cmd = [
        ffmpeg_exe(), "-hide_banner", "-nostdin", "-loglevel", "error",
        *input_args(media),
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


class VideoFrames:
    """The picture of a video as RGB arrays of exactly ``width`` x ``height`` (scaled to fit, aspect kept,
    black bars), ``fps`` frames a second from the start, for at most ``duration_s`` seconds; one ffmpeg
    process on the hardened input path, read in order as the frames are asked for.

    ``with VideoFrames(path, 640, 360, 12, 60) as frames: frames.get(i)`` gives frame ``i`` (the last
    one again once the video has ended, black before any). InputError for a file with no video stream,
    or when ffmpeg runs past ``timeout_s``.
    """

    def __init__(
        self, path: str | Path, width: int, height: int, fps: float, duration_s: float, timeout_s: float = 600.0
    ) -> None:
        if width < 2 or height < 2 or width % 2 or height % 2:
            raise InputError(f"frame size must be even and at least 2 x 2, got {width} x {height}")
        if not fps > 0 or not duration_s > 0:
            raise InputError(f"fps and duration must be positive, got {fps} and {duration_s}")
        self.path, self.width, self.height, self.fps, self.duration_s = Path(path), width, height, fps, duration_s
        self.timeout_s = timeout_s
        self._run: FfmpegStream | None = None
        self._index = -1
        self._last = np.zeros((height, width, 3), dtype=np.uint8)
        self._ended = False

    def __enter__(self) -> VideoFrames:
        video = probe(self.path, timeout_s=min(self.timeout_s, PROBE_TIMEOUT_S)).video
        if video is None:
            raise InputError(f"no video stream in {self.path.name}")
        w, h = self.width, self.height
        cmd = [
            ffmpeg_exe(), "-hide_banner", "-nostdin", "-loglevel", "error",
            "-t", f"{self.duration_s:.6f}", *input_args(self.path),
            "-map", f"0:{video.index}", "-an", "-sn", "-dn",
            "-vf", (
                f"{_scale_filter(None)},scale={w}:{h}:force_original_aspect_ratio=decrease:force_divisible_by=2,"
                f"pad={w}:{h}:(ow-iw)/2:(oh-ih)/2:black,fps=fps={self.fps!r}"
            ),
            "-f", "rawvideo", "-pix_fmt", "rgb24", "-",
        ]  # fmt: skip
        self._run = FfmpegStream(cmd, self.timeout_s).__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._run is not None:
            self._run.__exit__(*exc)
            if self._run.timed_out:
                raise InputError(f"reading the picture of {self.path.name} timed out after {self.timeout_s:g} s")

    def get(self, index: int) -> np.ndarray:
        """Frame ``index`` (0 at the start), read forward from the last one asked for."""
        if self._run is None:
            raise RuntimeError("VideoFrames.get outside its with-block")
        size = self.width * self.height * 3
        while self._index < index and not self._ended:
            data = self._run.stdout.read(size)
            if len(data) < size:
                self._ended = True
                break
            self._last = np.frombuffer(data, dtype=np.uint8).reshape(self.height, self.width, 3)
            self._index += 1
        return self._last
