"""Media we write: a picture track we made, joined with the sound of the user's file.

The user's file is opened only through ``ffmpeg.input_args`` (local file, container whitelist, no
playlists), like every other read of it.
"""

from __future__ import annotations

from pathlib import Path

from ..errors import InputError
from ..ffmpeg import StreamInfo, ffmpeg_exe, ffmpeg_reason, input_args, run_ffmpeg


def mux_with_audio(
    picture: Path,
    source: Path,
    out: Path,
    *,
    span_s: float,
    audio: StreamInfo | None,
    copy: bool = True,
    kbps: int = 128,
    timeout_s: float = 300.0,
) -> str:
    """Write ``out`` (MP4): the video track of ``picture`` (copied) with the first ``span_s`` seconds of
    ``source``'s ``audio`` stream, copied as it is (``copy``) or re-encoded to AAC at ``kbps`` (stereo at
    most), both starting at 0 s; ``audio`` None: the picture alone. Returns how the audio was written.
    InputError when ffmpeg fails or runs past ``timeout_s``."""
    cmd = [ffmpeg_exe(), "-hide_banner", "-nostdin", "-loglevel", "error", "-y", "-i", f"file:{picture.resolve()}"]
    how = "none"
    if audio is not None:
        cmd += ["-t", f"{span_s:.6f}", *input_args(source), "-map", "0:v:0", "-map", f"1:{audio.index}"]
        if copy:
            cmd += ["-c:a", "copy"]
            how = f"copied ({audio.codec})"
        else:
            cmd += ["-c:a", "aac", "-b:a", f"{kbps}k", *(["-ac", "2"] if (audio.channels or 2) > 2 else [])]
            how = f"re-encoded (AAC {kbps} kb/s)"
    else:
        cmd += ["-map", "0:v:0"]
    cmd += ["-c:v", "copy", "-movflags", "+faststart", "-f", "mp4", f"file:{out.resolve()}"]
    proc = run_ffmpeg(cmd, source, "adding the sound of", timeout_s)
    if proc.returncode != 0 or not out.is_file():
        raise InputError(f"could not add the sound of {source.name}: {ffmpeg_reason(proc.stderr, source)}")
    return how
