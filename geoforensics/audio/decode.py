"""Decode the audio track of any audio or video file with the ffmpeg binary that ships with imageio-ffmpeg,
and bring in-memory arrays to a model's sample rate, both with bounded memory.

Only samples come back: container metadata (ID3 titles, GPS tags, comments) is never read, kept or
returned here. ``ffmpeg`` runs with ``-v warning`` so that its log never prints tags, the output
drops metadata (``-map_metadata -1``), and inputs are opened through the ``file`` protocol only
(:func:`geoforensics.ffmpeg.input_args`, which also refuses executables, archives, images and text).
Everything is piped; no temporary file is written.

Arrays (:func:`load_array`) may have any sample rate from :data:`MIN_SAMPLE_RATE` to
:data:`MAX_SAMPLE_RATE` Hz. Rates whose ratio to the target is simple (8, 11.025, 16, 22.05, 24, 32,
44.1, 48, 88.2, 96, 192 kHz, ...) are resampled with ``torchaudio.functional.resample`` as before
(bit for bit, in one call up to :data:`SINGLE_CALL_SAMPLES` input samples, in blocks beyond, which
differs from one call by float rounding only); any other rate (44,101 Hz, 12,001 Hz) would need a
torchaudio kernel of gigabytes, so it goes through a polyphase filter (``scipy.signal``) in blocks,
its up/down factors at most :data:`MAX_POLYPHASE_FACTOR` (a rate whose exact ratio needs larger
factors is resampled at the nearest ratio within that bound: a time stretch of at most 1.1e-5, 6.3 ms
over 10 minutes, the worst case being 767,992 Hz).
"""

from __future__ import annotations

import functools
import logging
import math
import os
from fractions import Fraction
from pathlib import Path
from typing import IO

import numpy as np

from geoforensics.errors import InputError
from geoforensics.ffmpeg import (
    GUESSED_REASON,
    FfmpegStream,
    MediaFile,
    check_file,
    ffmpeg_exe,
    ffmpeg_reason,
    guessed_format,
    input_args,
    run_ffmpeg,
)

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT_S: float = 120

MIN_SAMPLE_RATE = 1_000
"""Lowest sample rate (Hz) an audio array may have; below it nothing a bird sings is left."""

MAX_SAMPLE_RATE = 768_000
"""Highest sample rate (Hz) an audio array may have (the fastest audio interfaces)."""

MAX_CHANNELS = 64
"""Most channels a file may have: more than ffmpeg's downmix handles (8) are averaged here; above this
ffmpeg's resampler stops."""

SINGLE_CALL_SAMPLES = 1 << 24
"""Input samples (about 6 min at 44.1 kHz) up to which an array is resampled by one torchaudio call."""

SINC_KERNEL_MAX = 1 << 22
"""Largest torchaudio kernel (floats, 16 MB) used; rates needing more take the polyphase path."""

MAX_POLYPHASE_FACTOR = 48_000
"""Largest up or down factor of the polyphase path (its filter then has 960,001 taps, 7.7 MB)."""

_BLOCK_SAMPLES = 1 << 20
_CHUNK_ELEMENTS = 1 << 22


def decode_audio(
    source: str | os.PathLike[str] | MediaFile,
    sample_rate: int,
    *,
    offset_s: float = 0.0,
    max_duration_s: float | None = None,
    timeout_s: float = DEFAULT_TIMEOUT_S,
) -> np.ndarray:
    """Decode the first audio stream of ``source`` to mono float32 at ``sample_rate``.

    ``offset_s`` skips the start, ``max_duration_s`` stops decoding after that many seconds (use
    ``defaults.MAX_DURATION_S`` for user uploads: uncapped, the whole track is held in memory, 2 GB for
    3 hours at 48 kHz). A truncated file gives what decodes. Files of 9 to :data:`MAX_CHANNELS`
    channels, which ffmpeg cannot mix down, are averaged here. Raises InputError for a missing,
    empty or undecodable file, a file that is not audio or video, a file without audio, more than
    :data:`MAX_CHANNELS` channels, no decoded samples, or when ffmpeg takes longer than ``timeout_s``.
    """
    if isinstance(sample_rate, bool) or not isinstance(sample_rate, (int, np.integer)) or sample_rate <= 0:
        raise ValueError(f"sample_rate must be a positive integer, got {sample_rate!r}")
    if not math.isfinite(offset_s) or offset_s < 0:
        raise ValueError(f"offset_s must be >= 0, got {offset_s!r}")
    if max_duration_s is not None and (not math.isfinite(max_duration_s) or max_duration_s <= 0):
        raise ValueError(f"max_duration_s must be > 0 or None, got {max_duration_s!r}")
    if timeout_s <= 0:
        raise ValueError(f"timeout_s must be > 0, got {timeout_s!r}")
    path = source.path if isinstance(source, MediaFile) else check_file(source)
    if isinstance(source, MediaFile) and not source.info.has_audio:
        raise InputError(f"cannot decode {path.name}: {source.missing()}")

    head = [ffmpeg_exe(), "-nostdin", "-hide_banner", "-v", "warning"]
    if offset_s > 0:
        head += ["-ss", f"{offset_s:.6f}"]
    head += input_args(source if isinstance(source, MediaFile) else path)
    head += ["-map", "0:a:0", "-vn", "-sn", "-dn", "-map_metadata", "-1"]
    tail = ["-t", f"{max_duration_s:.6f}"] if max_duration_s is not None else []

    cmd = head + ["-ac", "1", "-ar", str(int(sample_rate)), *tail, "-f", "f32le", "-c:a", "pcm_f32le", "pipe:1"]
    proc = run_ffmpeg(cmd, path, "decoding", timeout_s)
    if guessed_format(proc.stderr):
        raise InputError(f"cannot decode {path.name}: {GUESSED_REASON}")
    n = len(proc.stdout) // 4
    if n == 0 and proc.returncode != 0 and _cannot_mix_down(proc.stderr):
        cmd = head + [
            "-ar", str(int(sample_rate)), *tail, "-fflags", "+bitexact", "-f", "wav", "-c:a", "pcm_f32le", "pipe:1"
        ]
        return _finite(_decode_averaging_channels(cmd, path, timeout_s), path, offset_s)
    if n == 0:
        if proc.returncode != 0:
            raise InputError(f"cannot decode {path.name}: {ffmpeg_reason(proc.stderr, path)}")
        where = f" after {offset_s:g} s" if offset_s > 0 else ""
        raise InputError(f"no audio could be decoded from {path.name}{where}")
    if proc.returncode != 0:
        log.warning("%s decoded partially (%.2f s): %s", path.name, n / sample_rate, ffmpeg_reason(proc.stderr, path))
    audio = np.frombuffer(proc.stdout, dtype="<f4", count=n).astype(np.float32)
    return _finite(audio, path, offset_s)


def _finite(audio: np.ndarray, path: Path, offset_s: float) -> np.ndarray:
    if len(audio) == 0:
        where = f" after {offset_s:g} s" if offset_s > 0 else ""
        raise InputError(f"no audio could be decoded from {path.name}{where}")
    if not np.isfinite(audio).all():
        np.nan_to_num(audio, copy=False, nan=0.0, posinf=0.0, neginf=0.0)
    return audio


_MIXDOWN_FAILURES = ("Rematrix is needed", "Failed to configure output pad", "Error reinitializing filters")


def _cannot_mix_down(stderr: bytes) -> bool:
    text = stderr.decode("utf-8", "replace")
    return any(s in text for s in _MIXDOWN_FAILURES)


def _read_exact(stream: IO[bytes], n: int) -> bytes:
    out = bytearray()
    while len(out) < n:
        chunk = stream.read(n - len(out))
        if not chunk:
            break
        out += chunk
    return bytes(out)


def _wav_channels(stream: IO[bytes]) -> int:
    """Skip a WAV header written by ffmpeg to a pipe; the channel count of its ``fmt `` chunk."""
    if _read_exact(stream, 12)[8:12] != b"WAVE":
        raise ValueError("no WAV header")
    channels = 0
    for _ in range(64):
        head = _read_exact(stream, 8)
        if len(head) < 8:
            break
        tag, size = head[:4], int.from_bytes(head[4:], "little")
        if tag == b"data":
            return channels
        body = _read_exact(stream, min(size, 1 << 16) + (size & 1))
        if tag == b"fmt ":
            channels = int.from_bytes(body[2:4], "little")
    raise ValueError("no data chunk")


def _decode_averaging_channels(cmd: list[str], path: Path, timeout_s: float) -> np.ndarray:
    """Run ``cmd`` (ffmpeg writing a float32 WAV of every channel to stdout) and average the channels
    while reading, so memory holds the mono result and one block."""
    parts: list[np.ndarray] = []
    channels = 0
    with FfmpegStream(cmd, timeout_s) as run:
        try:
            channels = _wav_channels(run.stdout)
        except ValueError:
            channels = 0
        if 0 < channels <= MAX_CHANNELS:
            frame = 4 * channels
            block = frame * max(1, _BLOCK_SAMPLES // channels)
            while data := _read_exact(run.stdout, block):
                usable = len(data) // frame * frame
                x = np.frombuffer(data[:usable], dtype="<f4").reshape(-1, channels)
                parts.append(x.mean(axis=1, dtype=np.float64).astype(np.float32))
    if run.timed_out:
        raise InputError(f"decoding {path.name} timed out after {timeout_s:g} s")
    if channels > MAX_CHANNELS:
        raise InputError(
            f"cannot decode {path.name}: it has {channels} audio channels; at most {MAX_CHANNELS} are supported"
        )
    if not parts:
        text = run.stderr
        if "Failed to set option" in text.decode("utf-8", "replace"):
            raise InputError(
                f"cannot decode {path.name}: too many audio channels (at most {MAX_CHANNELS} are supported)"
            )
        raise InputError(f"cannot decode {path.name}: {ffmpeg_reason(text, path)}")
    return np.concatenate(parts)


# ---------------------------------------------------------------- arrays


def check_sample_rate(rate: object, name: str = "sample_rate") -> int:
    """``rate`` as an int; InputError unless it is a whole number of Hz from :data:`MIN_SAMPLE_RATE`
    to :data:`MAX_SAMPLE_RATE`."""
    if isinstance(rate, bool) or not isinstance(rate, (int, float, np.integer, np.floating)):
        raise InputError(f"{name} must be a whole number of Hz, got {type(rate).__name__}")
    if not math.isfinite(rate) or int(rate) != rate:
        raise InputError(f"{name} must be a whole number of Hz, got {rate!r}")
    if not MIN_SAMPLE_RATE <= rate <= MAX_SAMPLE_RATE:
        raise InputError(
            f"{name} {rate:g} Hz is outside the supported range, {MIN_SAMPLE_RATE:,} to {MAX_SAMPLE_RATE:,} Hz"
        )
    return int(rate)


def _to_float(x: np.ndarray) -> np.ndarray:
    if np.issubdtype(x.dtype, np.signedinteger):
        return x.astype(np.float64) / float(2 ** (8 * x.dtype.itemsize - 1))
    if np.issubdtype(x.dtype, np.unsignedinteger):
        mid = float(2 ** (8 * x.dtype.itemsize - 1))
        return (x.astype(np.float64) - mid) / mid
    return x


class _Mono:
    """Mono float32 samples of an array ``[T]``, ``[channels, T]`` or ``[T, channels]`` (the shorter axis
    holds the channels, averaged), read a stretch at a time so memory stays bounded."""

    def __init__(self, array: np.ndarray) -> None:
        x = np.asarray(array)
        if x.dtype == np.bool_ or not np.issubdtype(x.dtype, np.number) or np.iscomplexobj(x):
            raise InputError(f"audio must be a real numeric array, got dtype {x.dtype}")
        if x.ndim not in (1, 2):
            raise InputError(f"audio must be 1-D or 2-D (channels x samples), got shape {tuple(x.shape)}")
        if x.size == 0:
            raise InputError("the audio is empty (0 samples)")
        if x.ndim == 2 and (x.shape[0] == 1 or x.shape[1] == 1):
            x = x.reshape(-1)
        self.x = x
        self.time_axis = 0 if x.ndim == 1 or x.shape[0] >= x.shape[1] else 1
        self.channels = 1 if x.ndim == 1 else x.shape[1 - self.time_axis]
        self.n = x.shape[self.time_axis]

    def _mix(self, a: int, b: int) -> np.ndarray:
        if self.x.ndim == 1:
            y = _to_float(self.x[a:b])
        elif self.time_axis == 1:
            y = _to_float(self.x[:, a:b]).mean(axis=0)
        else:
            y = _to_float(self.x[a:b]).mean(axis=1)
        with np.errstate(over="ignore"):  # a finite float64 beyond float32's range becomes inf, refused below
            y = np.asarray(y, dtype=np.float32)
        if not np.isfinite(y).all():
            raise InputError("the audio contains NaN or infinite values")
        return y

    def read(self, a: int, b: int, limit: int | None = None) -> np.ndarray:
        """Samples ``a`` to ``b`` (zeros before 0 and from ``limit``, default the end)."""
        end = self.n if limit is None else min(limit, self.n)
        out = np.zeros(b - a, np.float32)
        lo, hi = max(a, 0), min(b, end)
        step = max(1, _CHUNK_ELEMENTS // self.channels)
        for i in range(lo, hi, step):
            j = min(hi, i + step)
            out[i - a : j - a] = self._mix(i, j)
        return out


def array_samples(array: np.ndarray) -> int:
    """Samples per channel of an audio array as :func:`load_array` reads it (InputError if it cannot)."""
    return int(_Mono(array).n)


def load_array(
    array: np.ndarray, sample_rate_in: int, sample_rate_out: int, *, max_duration_s: float | None = None
) -> np.ndarray:
    """Mono float32 at ``sample_rate_out`` from an in-memory array.

    Accepts mono ``[T]``, ``[channels, T]`` or ``[T, channels]`` (the shorter axis is taken as the
    channels and averaged); integer PCM is scaled to [-1, 1). ``max_duration_s`` keeps only the first
    seconds, cut *before* resampling (so a 2 h array is never resampled whole); the result equals
    the first seconds of the resampled whole up to float rounding. Memory beyond the input and the result stays bounded
    for any length, rate or channel count (see the module docstring for the resamplers). Raises InputError for empty or
    non-finite audio, a bad shape or dtype, or a ``sample_rate_in`` outside
    :data:`MIN_SAMPLE_RATE`..:data:`MAX_SAMPLE_RATE`.
    """
    sr_in = check_sample_rate(sample_rate_in)
    sr_out = check_sample_rate(sample_rate_out, "sample_rate_out")
    if max_duration_s is not None and (not math.isfinite(max_duration_s) or max_duration_s <= 0):
        raise ValueError(f"max_duration_s must be > 0 or None, got {max_duration_s!r}")
    mono = _Mono(array)
    n_keep, n_out = mono.n, None
    if max_duration_s is not None:
        n_out = int(round(max_duration_s * sr_out))
        # the filters reach a few samples ahead: keep a margin so the cut equals cutting the resampled whole
        n_keep = min(mono.n, math.ceil(max_duration_s * sr_in) + sr_in // 10 + 1024)
    if sr_in == sr_out:
        y = mono.read(0, min(n_keep, n_out if n_out is not None else n_keep))
    elif _sinc_kernel_size(sr_in, sr_out) <= SINC_KERNEL_MAX:
        y = _resample_sinc(mono, n_keep, sr_in, sr_out)
    else:
        y = _resample_polyphase(mono, n_keep, *_polyphase_factors(sr_in, sr_out))
    return np.ascontiguousarray(y[:n_out] if n_out is not None else y, dtype=np.float32)


def _sinc_kernel_size(sr_in: int, sr_out: int) -> int:
    """Floats in torchaudio's resampling kernel for these rates (new x (orig + 2 width))."""
    g = math.gcd(sr_in, sr_out)
    orig, new = sr_in // g, sr_out // g
    width = math.ceil(6 * orig / (min(orig, new) * 0.99))
    return new * (orig + 2 * width)


def _resample_sinc(mono: _Mono, n: int, sr_in: int, sr_out: int) -> np.ndarray:
    """torchaudio's resampling of the first ``n`` samples: one call up to :data:`SINGLE_CALL_SAMPLES`,
    else its kernel applied block by block."""
    import torch
    import torchaudio.functional as AF
    from torchaudio.functional.functional import _get_sinc_resample_kernel

    if n <= SINGLE_CALL_SAMPLES:
        with torch.no_grad():
            y = AF.resample(torch.from_numpy(mono.read(0, n)), orig_freq=sr_in, new_freq=sr_out)
        resampled: np.ndarray = y.numpy()
        return resampled
    g = math.gcd(sr_in, sr_out)
    orig, new = sr_in // g, sr_out // g
    kernel, width = _get_sinc_resample_kernel(sr_in, sr_out, g, dtype=torch.float32)
    k = kernel.shape[-1]
    n_out = int(torch.ceil(torch.as_tensor(new * n / orig)))  # as torchaudio computes it (float32)
    positions = math.ceil(n_out / new)
    per_block = max(1, _BLOCK_SAMPLES // orig)
    out = np.empty(positions * new, np.float32)
    for j0 in range(0, positions, per_block):
        j1 = min(positions, j0 + per_block)
        seg = mono.read(j0 * orig - width, (j1 - 1) * orig + k - width, limit=n)
        with torch.no_grad():
            y = torch.nn.functional.conv1d(torch.from_numpy(seg)[None, None], kernel, stride=orig)
        out[j0 * new : j1 * new] = y[0].transpose(0, 1).reshape(-1).numpy()
    return out[:n_out]


def _polyphase_factors(sr_in: int, sr_out: int) -> tuple[int, int]:
    """(up, down) of ``sr_out / sr_in``, or of the nearest ratio whose factors are at most
    :data:`MAX_POLYPHASE_FACTOR`."""
    ratio = Fraction(sr_out, sr_in)
    if max(ratio.numerator, ratio.denominator) > MAX_POLYPHASE_FACTOR:
        ratio = ratio.limit_denominator(MAX_POLYPHASE_FACTOR)
        if ratio.numerator > MAX_POLYPHASE_FACTOR:
            ratio = 1 / Fraction(sr_in, sr_out).limit_denominator(MAX_POLYPHASE_FACTOR)
    return ratio.numerator, ratio.denominator


@functools.lru_cache(maxsize=4)
def _polyphase_filter(up: int, down: int) -> np.ndarray:
    """``scipy.signal.resample_poly``'s own low-pass filter for these factors (Kaiser, beta 5), built once."""
    from scipy.signal import firwin

    rate = max(up, down)
    h: np.ndarray = firwin(2 * 10 * rate + 1, 1.0 / rate, window=("kaiser", 5.0))
    h.flags.writeable = False
    return h


def _resample_polyphase(mono: _Mono, n: int, up: int, down: int) -> np.ndarray:
    """``scipy.signal.resample_poly`` of the first ``n`` samples by ``up / down``, block by block.

    Each block starts at a multiple of ``down`` (so its outputs fall on the global output grid) and
    carries a margin wider than the filter's half-length on both sides, so its kept outputs equal
    those of one call on the whole signal up to float rounding.
    """
    from scipy.signal import resample_poly

    h = _polyphase_filter(up, down)
    half = (len(h) - 1) // 2
    margin = down * math.ceil((half / up + 2) / down)
    block = down * max(1, _BLOCK_SAMPLES // down)
    n_out = math.ceil(n * up / down)
    out = np.empty(n_out, np.float32)
    for s in range(0, n, block):
        e = min(n, s + block)
        seg = mono.read(s - margin, e + margin, limit=n)
        y = resample_poly(seg, up, down, window=h)
        o0, o1 = s * up // down, min(n_out, math.ceil(e * up / down))
        skip = margin * up // down
        out[o0:o1] = y[skip : skip + o1 - o0]
    return out


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
