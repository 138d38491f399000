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

import numpy as np

from geoforensics.errors import InputError
from geoforensics.ffmpeg import check_file, ffmpeg_exe, ffmpeg_reason, input_args, run_ffmpeg

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT_S: float = 120


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
    path = check_file(source)

    cmd = [ffmpeg_exe(), "-nostdin", "-hide_banner", "-v", "error"]
    if offset_s > 0:
        cmd += ["-ss", f"{offset_s:.6f}"]
    cmd += input_args(path)
    cmd += ["-map", "0:a:0", "-vn", "-sn", "-dn", "-map_metadata", "-1", "-ac", "1", "-ar", str(int(sample_rate))]
    if max_duration_s is not None:
        cmd += ["-t", f"{max_duration_s:.6f}"]
    cmd += ["-f", "f32le", "-c:a", "pcm_f32le", "pipe:1"]

    proc = run_ffmpeg(cmd, path, "decoding", timeout_s)
    n = len(proc.stdout) // 4
    if n == 0:
        if proc.returncode != 0:
            raise InputError(f"cannot decode {path.name}: {ffmpeg_reason(proc.stderr, path)}")
        where = f" after {offset_s:g} s" if offset_s > 0 else ""
        raise InputError(f"no audio could be decoded from {path.name}{where}")
    if proc.returncode != 0:
        log.warning("%s decoded partially (%.2f s): %s", path.name, n / sample_rate, ffmpeg_reason(proc.stderr, path))

    audio = np.frombuffer(proc.stdout, dtype="<f4", count=n).astype(np.float32)
    if not np.isfinite(audio).all():
        np.nan_to_num(audio, copy=False, nan=0.0, posinf=0.0, neginf=0.0)
    return audio


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
