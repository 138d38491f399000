"""Media tests: fixtures are generated with ffmpeg (lavfi testsrc + sine) in tmp_path."""

from __future__ import annotations

import subprocess
from pathlib import Path

from geoforensics.ffmpeg import ffmpeg_exe


def ffmpeg(*args: str) -> None:
    """Run ffmpeg quietly; fail the test with its stderr if it fails."""
    proc = subprocess.run(
        [ffmpeg_exe(), "-hide_banner", "-nostdin", "-loglevel", "error", "-y", *args],
        capture_output=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr.decode("utf-8", "replace")


def make_video(
    path: Path,
    duration_s: float = 6.0,
    size: str = "320x240",
    rate: int = 10,
    *,
    audio: bool = True,
    extra: tuple[str, ...] = (),
) -> Path:
    """An H.264 testsrc video (with a 440 Hz sine track unless ``audio`` is False)."""
    args = ["-f", "lavfi", "-i", f"testsrc=size={size}:rate={rate}:duration={duration_s}"]
    if audio:
        args += ["-f", "lavfi", "-i", f"sine=frequency=440:duration={duration_s}", "-c:a", "aac", "-shortest"]
    ffmpeg(*args, "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", *extra, str(path))
    return path


def make_audio(path: Path, duration_s: float = 3.0, *, extra: tuple[str, ...] = ()) -> Path:
    """A 440 Hz sine in the format ``path``'s extension implies."""
    ffmpeg("-f", "lavfi", "-i", f"sine=frequency=440:duration={duration_s}", *extra, str(path))
    return path


def make_mp3_with_cover(path: Path, tmp_dir: Path, *, extra: tuple[str, ...] = ()) -> Path:
    """An mp3 with a PNG cover picture attached (a video stream marked ``attached pic``)."""
    cover = tmp_dir / "cover.png"
    ffmpeg("-f", "lavfi", "-i", "testsrc=size=64x64:rate=1:duration=1", "-frames:v", "1", str(cover))
    ffmpeg(
        "-f", "lavfi", "-i", "sine=frequency=440:duration=3", "-i", str(cover),
        "-map", "0:a", "-map", "1:v", "-c:a", "libmp3lame", "-c:v", "png",
        "-id3v2_version", "3", "-disposition:v", "attached_pic", *extra, str(path),
    )  # fmt: skip
    return path
