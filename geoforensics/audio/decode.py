"""Decode the audio track of any audio or video file with the ffmpeg binary that ships with imageio-ffmpeg.

Only samples come back: container metadata (ID3 titles, GPS tags, comments) is never read, kept or
returned here. ``ffmpeg`` runs with ``-v error`` so that even its log never prints tags, the output
drops metadata (``-map_metadata -1``), and inputs are opened through the ``file`` protocol only.
Everything is piped; no temporary file is written.
"""

from __future__ import annotations

import logging
import math
import os
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from geoforensics.errors import InputError
from geoforensics.ffmpeg import ffmpeg_exe, input_args

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT_S: float = 120
PROBE_TIMEOUT_S: float = 30


@dataclass(frozen=True)
class MediaInfo:
    """What a media file holds, from ffmpeg's stream listing. Never carries container tags."""

    duration_s: float | None
    has_audio: bool
    has_video: bool
    audio_codec: str | None = None
    video_codec: str | None = None
    width: int | None = None
    height: int | None = None
    fps: float | None = None
    sample_rate: int | None = None
    channels: int | None = None


def _check_file(source: str | os.PathLike) -> Path:
    path = Path(os.fspath(source)).expanduser()
    if not path.exists():
        raise InputError(f"file not found: {path}")
    if not path.is_file():
        raise InputError(f"not a file: {path}")
    if path.stat().st_size == 0:
        raise InputError(f"{path.name} is empty (0 bytes)")
    return path.resolve()


_KNOWN_REASONS: tuple[tuple[str, str], ...] = (
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

_LOG_PREFIX = re.compile(r"^\[[^\]]*@ 0x[0-9a-f]+\]\s*")


def _ffmpeg_reason(stderr: bytes, path: Path) -> str:
    """A short, user-facing reason from ffmpeg's error output."""
    text = stderr.decode("utf-8", "replace")
    for needle, reason in _KNOWN_REASONS:
        if needle in text:
            return reason
    lines = [_LOG_PREFIX.sub("", ln).strip() for ln in text.splitlines()]
    lines = [ln for ln in lines if ln and not ln.startswith("Error opening")]
    if not lines:
        return "ffmpeg could not read it"
    reason = lines[-1].replace(f"file:{path}", path.name).replace(str(path), path.name).rstrip(".")
    return reason[:200]


def _run(cmd: list[str], timeout_s: float, path: Path, what: str) -> subprocess.CompletedProcess:
    try:
        # run() kills and reaps ffmpeg when the timeout expires.
        return subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, timeout=timeout_s, check=False)
    except subprocess.TimeoutExpired:
        raise InputError(f"{what} {path.name} timed out after {timeout_s:g} s") from None


def decode_audio(
    source: str | os.PathLike,
    sample_rate: int,
    *,
    offset_s: float = 0.0,
    max_duration_s: float | None = None,
    timeout_s: float = DEFAULT_TIMEOUT_S,
) -> np.ndarray:
    """Decode the first audio stream of ``source`` to mono float32 at ``sample_rate``.

    ``offset_s`` skips the start, ``max_duration_s`` stops decoding after that many seconds (use
    ``defaults.MAX_DURATION_S`` for user uploads: uncapped, the whole track is held in memory, 2 GB for
    3 hours at 48 kHz). A truncated file gives what decodes. Raises
    InputError for a missing, empty or undecodable file, a file without audio, no decoded samples,
    or when ffmpeg takes longer than ``timeout_s``.
    """
    if isinstance(sample_rate, bool) or not isinstance(sample_rate, (int, np.integer)) or sample_rate <= 0:
        raise ValueError(f"sample_rate must be a positive integer, got {sample_rate!r}")
    if not math.isfinite(offset_s) or offset_s < 0:
        raise ValueError(f"offset_s must be >= 0, got {offset_s!r}")
    if max_duration_s is not None and (not math.isfinite(max_duration_s) or max_duration_s <= 0):
        raise ValueError(f"max_duration_s must be > 0 or None, got {max_duration_s!r}")
    if timeout_s <= 0:
        raise ValueError(f"timeout_s must be > 0, got {timeout_s!r}")
    path = _check_file(source)

    cmd = [ffmpeg_exe(), "-nostdin", "-hide_banner", "-v", "error"]
    if offset_s > 0:
        cmd += ["-ss", f"{offset_s:.6f}"]
    cmd += input_args(path)
    cmd += ["-map", "0:a:0", "-vn", "-sn", "-dn", "-map_metadata", "-1", "-ac", "1", "-ar", str(int(sample_rate))]
    if max_duration_s is not None:
        cmd += ["-t", f"{max_duration_s:.6f}"]
    cmd += ["-f", "f32le", "-c:a", "pcm_f32le", "pipe:1"]

    proc = _run(cmd, timeout_s, path, "decoding")
    n = len(proc.stdout) // 4
    if n == 0:
        if proc.returncode != 0:
            raise InputError(f"cannot decode {path.name}: {_ffmpeg_reason(proc.stderr, path)}")
        where = f" after {offset_s:g} s" if offset_s > 0 else ""
        raise InputError(f"no audio could be decoded from {path.name}{where}")
    if proc.returncode != 0:
        log.warning("%s decoded partially (%.2f s): %s", path.name, n / sample_rate, _ffmpeg_reason(proc.stderr, path))

    audio = np.frombuffer(proc.stdout, dtype="<f4", count=n).astype(np.float32)
    if not np.isfinite(audio).all():
        np.nan_to_num(audio, copy=False, nan=0.0, posinf=0.0, neginf=0.0)
    return audio


_DURATION = re.compile(r"^\s+Duration: (?:(\d+):(\d+):(\d+(?:\.\d+)?)|N/A)", re.M)
_STREAM = re.compile(r"^\s+Stream #\d+:\d+\S*: (Audio|Video): (.+)$", re.M)
_FPS = re.compile(r"^(\d+(?:\.\d+)?)(k?) (fps|tbr)$")
_SIZE = re.compile(r"^(\d+)x(\d+)(?:\s|$)")
_HZ = re.compile(r"^(\d+) Hz$")
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
    m = _FPS.match(field)
    if not m:
        return None
    return float(m.group(1)) * (1000 if m.group(2) else 1)


def probe_media(path: str | os.PathLike, *, timeout_s: float = PROBE_TIMEOUT_S) -> MediaInfo:
    """Streams and duration of a media file, parsed from ``ffmpeg -i`` (no ffprobe ships). Tags are skipped.

    ``duration_s`` is None where the container does not say. Raises InputError for a missing, empty
    or unreadable file.
    """
    p = _check_file(path)
    proc = _run([ffmpeg_exe(), "-nostdin", "-hide_banner", *input_args(p)], timeout_s, p, "reading")
    text = proc.stderr.decode("utf-8", "replace")
    if "Input #0" not in text:
        raise InputError(f"cannot read {p.name}: {_ffmpeg_reason(proc.stderr, p)}")

    duration = None
    m = _DURATION.search(text)
    if m and m.group(1) is not None:
        duration = int(m.group(1)) * 3600 + int(m.group(2)) * 60 + float(m.group(3))

    info: dict = {"duration_s": duration, "has_audio": False, "has_video": False}
    for kind, desc in _STREAM.findall(text):
        fields = _top_level_fields(desc)
        codec = fields[0].split(" ", 1)[0] if fields and fields[0] else None
        if kind == "Audio" and not info["has_audio"]:
            info.update(has_audio=True, audio_codec=codec)
            for f in fields[1:]:
                if (hz := _HZ.match(f)) is not None:
                    info["sample_rate"] = int(hz.group(1))
                elif f in _LAYOUTS:
                    info["channels"] = _LAYOUTS[f]
                elif (ch := re.match(r"^(\d+) channels", f)) is not None:
                    info["channels"] = int(ch.group(1))
        elif kind == "Video" and not info["has_video"] and "(attached pic)" not in desc:
            info.update(has_video=True, video_codec=codec)
            fps = tbr = None
            for f in fields[1:]:
                if (size := _SIZE.match(f)) is not None and "width" not in info:
                    info["width"], info["height"] = int(size.group(1)), int(size.group(2))
                elif f.endswith(" fps"):
                    fps = _rate(f)
                elif f.endswith(" tbr"):
                    tbr = _rate(f)
            info["fps"] = fps if fps is not None else tbr
    return MediaInfo(**info)


def _as_mono(x: np.ndarray) -> np.ndarray:
    if x.ndim == 1:
        return x
    if x.ndim != 2:
        raise InputError(f"audio must be 1-D or 2-D (channels x samples), got shape {tuple(x.shape)}")
    if x.shape[0] == 1 or x.shape[1] == 1:
        return x.reshape(-1)
    # The shorter axis holds the channels: [channels, T] or [T, channels].
    return x.mean(axis=0) if x.shape[0] < x.shape[1] else x.mean(axis=1)


def _to_float(x: np.ndarray) -> np.ndarray:
    if x.dtype == np.bool_ or not np.issubdtype(x.dtype, np.number) or np.iscomplexobj(x):
        raise InputError(f"audio must be a real numeric array, got dtype {x.dtype}")
    if np.issubdtype(x.dtype, np.signedinteger):
        return x.astype(np.float64) / float(2 ** (8 * x.dtype.itemsize - 1))
    if np.issubdtype(x.dtype, np.unsignedinteger):
        mid = float(2 ** (8 * x.dtype.itemsize - 1))
        return (x.astype(np.float64) - mid) / mid
    return x


def _check_rate(rate: int | float, name: str) -> int:
    if isinstance(rate, bool) or not isinstance(rate, (int, float, np.integer, np.floating)):
        raise ValueError(f"{name} must be a positive integer, got {rate!r}")
    if not math.isfinite(rate) or rate <= 0 or int(rate) != rate:
        raise ValueError(f"{name} must be a positive integer, got {rate!r}")
    return int(rate)


def load_array(array: np.ndarray, sample_rate_in: int, sample_rate_out: int) -> np.ndarray:
    """Mono float32 at ``sample_rate_out`` from an in-memory array.

    Accepts mono ``[T]``, ``[channels, T]`` or ``[T, channels]`` (the shorter axis is taken as the
    channels and averaged); integer PCM is scaled to [-1, 1). Resamples with
    ``torchaudio.functional.resample``. Raises InputError for empty or non-finite audio.
    """
    sr_in = _check_rate(sample_rate_in, "sample_rate_in")
    sr_out = _check_rate(sample_rate_out, "sample_rate_out")
    x = np.asarray(array)
    if x.size == 0:
        raise InputError("the audio is empty (0 samples)")
    x = _as_mono(_to_float(x))
    if not np.isfinite(x).all():
        raise InputError("the audio contains NaN or infinite values")
    x = np.ascontiguousarray(x, dtype=np.float32)
    if sr_in == sr_out:
        return x
    import torch
    import torchaudio.functional as AF

    with torch.no_grad():
        y = AF.resample(torch.from_numpy(x), orig_freq=sr_in, new_freq=sr_out)
    return np.ascontiguousarray(y.numpy(), dtype=np.float32)


def rms_dbfs(audio: np.ndarray) -> float:
    """Root-mean-square level in dB relative to full scale (1.0); ``-inf`` for digital silence or no samples."""
    x = np.asarray(audio, dtype=np.float64)
    if x.size == 0:
        return -math.inf
    rms = math.sqrt(float(np.mean(x * x)))
    return 20.0 * math.log10(rms) if rms > 0 else -math.inf


def is_silent(audio: np.ndarray, threshold_db: float = -60.0) -> bool:
    """True where the RMS level is below ``threshold_db`` dBFS (an empty array counts as silent)."""
    return rms_dbfs(audio) < threshold_db
