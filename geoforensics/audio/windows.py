"""Split a recording into fixed-length, overlapping windows (the paper: 3 s windows every 1.5 s)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from geoforensics.errors import InputError

PAD_MODES = ("zeros", "shift")


@dataclass(frozen=True)
class WindowSpec:
    """How to cut windows.

    ``pad``: ``"zeros"`` zero-pads the last, partial window (and a clip shorter than one window);
    ``"shift"`` instead moves the last window back so it ends at the clip's end (no padding, more
    overlap); a clip shorter than one window is still zero-padded. ``min_fraction``: a trailing
    partial window holding less than this fraction of real audio is dropped (0 keeps it, so every
    sample is covered whenever ``stride_s <= window_s``); a clip's only window is always kept.
    """

    window_s: float = 3.0
    stride_s: float = 1.5
    pad: str = "zeros"
    min_fraction: float = 0.0

    def __post_init__(self) -> None:
        if not (math.isfinite(self.window_s) and self.window_s > 0):
            raise ValueError(f"window_s must be > 0, got {self.window_s!r}")
        if not (math.isfinite(self.stride_s) and self.stride_s > 0):
            raise ValueError(f"stride_s must be > 0, got {self.stride_s!r}")
        if self.pad not in PAD_MODES:
            raise ValueError(f"pad must be one of {PAD_MODES}, got {self.pad!r}")
        if not 0.0 <= self.min_fraction <= 1.0:
            raise ValueError(f"min_fraction must be in [0, 1], got {self.min_fraction!r}")


@dataclass
class Windows:
    """Windows of one clip: ``data`` [n, window_samples] float32; ``starts_s``/``ends_s`` in seconds.

    ``ends_s`` is where the real audio in each window ends (clipped to the clip's length), so the
    padded tail of the last window is ``window_s - (ends_s - starts_s)``.
    """

    data: np.ndarray
    starts_s: np.ndarray
    ends_s: np.ndarray
    sample_rate: int

    def __len__(self) -> int:
        return int(self.data.shape[0])

    @property
    def window_samples(self) -> int:
        """Samples per window."""
        return int(self.data.shape[1])


def _window_starts(n: int, w: int, s: int, spec: WindowSpec) -> np.ndarray:
    """Start sample of every window for a clip of ``n`` samples."""
    if n <= w:
        return np.zeros(1, dtype=np.int64)
    n_full = 1 + (n - w) // s
    starts = np.arange(n_full, dtype=np.int64) * s
    last_end = int(starts[-1]) + w
    if last_end < n:
        tail_start = n_full * s
        if spec.pad == "shift":
            starts = np.append(starts, n - w)
        elif tail_start < n and (n - tail_start) >= spec.min_fraction * w:
            starts = np.append(starts, tail_start)
    return starts


def split_windows(audio: np.ndarray, sample_rate: int, spec: WindowSpec = WindowSpec()) -> Windows:
    """Cut mono ``audio`` into windows of ``spec.window_s`` every ``spec.stride_s`` seconds.

    Every sample lies in at least one window (when ``stride_s <= window_s`` and ``min_fraction`` is
    0) and no window is all padding. A clip shorter than one window gives one zero-padded window.
    Raises InputError for empty or non-1-D audio.
    """
    x = np.asarray(audio)
    if x.ndim != 1:
        raise InputError(f"expected mono audio (1-D), got shape {tuple(x.shape)}")
    if x.size == 0:
        raise InputError("the audio is empty (0 samples)")
    if isinstance(sample_rate, bool) or int(sample_rate) != sample_rate or sample_rate <= 0:
        raise ValueError(f"sample_rate must be a positive integer, got {sample_rate!r}")
    sample_rate = int(sample_rate)
    x = x.astype(np.float32, copy=False)

    n = x.shape[0]
    w = max(1, round(spec.window_s * sample_rate))
    s = max(1, round(spec.stride_s * sample_rate))
    starts = _window_starts(n, w, s, spec)

    total = max(n, int(starts[-1]) + w)
    padded = np.zeros(total, dtype=np.float32)
    padded[:n] = x
    # A read-only view of every length-w slice; fancy indexing copies just the chosen rows.
    data = np.lib.stride_tricks.sliding_window_view(padded, w)[starts]

    starts_s = starts / sample_rate
    ends_s = np.minimum(starts + w, n) / sample_rate
    return Windows(data=np.ascontiguousarray(data), starts_s=starts_s, ends_s=ends_s, sample_rate=sample_rate)
