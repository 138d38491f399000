"""Hear the birds through a soundtrack: lower what is not animal before species scoring.

Two steps, each applied only to the windows where :mod:`geoforensics.audio.content` finds no animal audible and
finds what the step removes (a window with a bird heard passes unchanged, and so does a clean recording):

* *held notes* (music, voiced speech): a harmonic/percussive split of the spectrogram below
  :data:`HARMONIC_TOP_HZ` (median filters along time and along frequency, as in Fitzgerald 2010, with
  ``scipy.ndimage``): time-frequency cells where the along-time median (sustained tones) beats the along-frequency
  median (clicks, chirps, sweeps) by :data:`HARMONIC_MARGIN_DB` are lowered by up to :data:`MAX_CUT_DB`. Bird
  song is mostly fast sweeps and short notes, which survive; a long whistle loses some of its level.
* *stationary noise* (traffic, wind, rain): spectral gating against the clip's noise profile (per frequency,
  the median power over the noisy windows, robust to intermittent song): a cell less than :data:`GATE_DB` above
  the profile is lowered by the dB it lacks, up to :data:`MAX_CUT_DB`.

:func:`reduce_non_animal` returns the cleaned audio and the windows it changed (so only those need scoring again).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .content import KINDS, SoundtrackContent

N_FFT = 2048
HOP = 512
HARMONIC_TOP_HZ = 5000.0
"""Held notes are lowered below this frequency (music and voices; most bird song lies above)."""
HARMONIC_MARGIN_DB = 6.0
MAX_CUT_DB = 18.0
GATE_DB = 10.0
PROFILE_PERCENTILE = 50.0
APPLY_AT = 0.5
"""Presence of music or speech from which a window's held notes are lowered."""
GATE_AT = 0.3
"""Presence of noise from which a window is gated."""


@dataclass
class FrontEndResult:
    """The cleaned audio and, per window of the content analysis, whether it was changed."""

    audio: np.ndarray
    changed: np.ndarray
    steps: tuple[str, ...]


def _stft(x: np.ndarray) -> np.ndarray:
    from scipy.signal import stft

    _, _, z = stft(x, nperseg=N_FFT, noverlap=N_FFT - HOP, boundary="even", padded=True)
    return np.asarray(z)


def _istft(z: np.ndarray, n: int) -> np.ndarray:
    from scipy.signal import istft

    _, x = istft(z, nperseg=N_FFT, noverlap=N_FFT - HOP, boundary=True)
    out = np.zeros(n, np.float32)
    m = min(n, len(x))
    out[:m] = x[:m]
    return out


def _frame_mask(content: SoundtrackContent, windows: np.ndarray, n_frames: int, sample_rate: int) -> np.ndarray:
    """STFT frames that fall inside the selected windows."""
    t = np.arange(n_frames) * HOP / sample_rate
    mask = np.zeros(n_frames, bool)
    for s, e in zip(content.starts_s[windows], content.ends_s[windows]):
        mask |= (t >= s) & (t < e)
    return mask


def _soft_cut(excess_db: np.ndarray) -> np.ndarray:
    """Gain (linear, amplitude) for cells ``excess_db`` below their keep line: 1 at 0 dB, down to -MAX_CUT_DB."""
    return np.asarray(10 ** (-np.clip(excess_db, 0.0, MAX_CUT_DB) / 20))


def reduce_non_animal(audio: np.ndarray, sample_rate: int, content: SoundtrackContent) -> FrontEndResult:
    """Lower held notes where music or speech is present and stationary noise where noise is, in the windows of
    ``content`` (the analysis of this ``audio``) that hold them. Windows with none pass unchanged."""
    from scipy.ndimage import median_filter

    x = np.asarray(audio, np.float32)
    pres = content.presence
    look = ~content.audible if content.has_birdnet else np.ones(len(content), bool)
    tonal = look & (np.maximum(pres[:, KINDS.index("music")], pres[:, KINDS.index("speech")]) >= APPLY_AT)
    noisy = look & (pres[:, KINDS.index("noise")] >= GATE_AT)
    if not (tonal.any() or noisy.any()):
        return FrontEndResult(x, np.zeros(len(content), bool), ())
    z = _stft(x)
    freqs = np.fft.rfftfreq(N_FFT, 1.0 / sample_rate)
    power = np.abs(z) ** 2 + 1e-20
    gain = np.ones(z.shape, np.float32)
    steps = []
    if tonal.any():
        frames = _frame_mask(content, tonal, z.shape[1], sample_rate)
        low = freqs < HARMONIC_TOP_HZ
        p = power[np.ix_(low, frames)]
        along_time = median_filter(p, size=(1, 17), mode="nearest")
        along_freq = median_filter(p, size=(17, 1), mode="nearest")
        excess = 2 * 10 * np.log10(along_time / along_freq) - HARMONIC_MARGIN_DB
        gain[np.ix_(low, frames)] = np.minimum(gain[np.ix_(low, frames)], _soft_cut(excess))
        steps.append("held notes lowered")
    if noisy.any():
        frames = _frame_mask(content, noisy, z.shape[1], sample_rate)
        profile = np.percentile(power[:, frames], PROFILE_PERCENTILE, axis=1)
        above = 10 * np.log10(power[:, frames] / profile[:, None])
        g = _soft_cut(GATE_DB - above)
        gain[:, frames] = np.minimum(gain[:, frames], median_filter(g, size=(3, 3), mode="nearest"))
        steps.append("stationary noise gated")
    y = _istft(z * gain, len(x))
    return FrontEndResult(y, tonal | noisy, tuple(steps))
