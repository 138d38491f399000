"""The ffmpeg binary shipped by imageio-ffmpeg and the one safe way to open a user's file with it.

Shared by ``audio`` (decoding) and ``media`` (frames, metadata), so both refuse the same things.
"""

from __future__ import annotations

import functools
from pathlib import Path

# Demuxers ffmpeg may use on user files: containers only, never playlists (hls, concat) that open other files or URLs.
DEMUXERS = "mov,matroska,avi,mp3,flac,ogg,wav,aac,mpegts,flv,aiff,w64,asf"


@functools.cache
def ffmpeg_exe() -> str:
    """Path of the ffmpeg binary shipped by imageio-ffmpeg (no system ffmpeg needed)."""
    import imageio_ffmpeg

    return imageio_ffmpeg.get_ffmpeg_exe()


def input_args(path: str | Path) -> list[str]:
    """ffmpeg arguments opening ``path`` as a local media file only: the ``file:`` prefix stops a name
    such as ``http:...`` being read as a protocol, and the whitelists stop playlists or reference files
    from pulling in URLs or other files."""
    return ["-protocol_whitelist", "file", "-format_whitelist", DEMUXERS, "-i", f"file:{Path(path).resolve()}"]
