"""Mains hum: is there a stable 50 Hz or 60 Hz harmonic family in the audio? (a clue to the grid region).

Electrical mains hum leaks into recordings as narrowband lines at the grid frequency and its
harmonics (50/100/150/200/250 Hz or 60/120/180/240 Hz). Grids hold their frequency within about
+-0.1-0.2 Hz, so a real hum is a *stable* line family present through the whole clip.

How it is measured (numpy/scipy only, well under 0.1 s per audio-minute):

1. the audio is low-passed and decimated to about 1 kHz (one polyphase Kaiser FIR, 80 dB stop band,
   so a stable insect whistle at, say, 4,050 Hz cannot fold onto 50 Hz);
2. a spectrogram of 2 s Hann frames every 1 s and its per-bin median over time, the *long-term
   spectrum*: a line must be there in more than half of the frames to survive the median, so
   transient tones (a music note, a passing engine, bird song) do not;
3. per family, the fundamental (within ``search_hz`` of nominal) that best explains the harmonics
   of the long-term spectrum; per harmonic its peak-to-local-background ratio in dB. The background is
   the higher of the median levels 1-5 Hz beyond the search window on either side, so the flank of a
   strong neighbour (a note at 98 Hz beside 100 Hz) or a sloping rumble does not count as a line. A
   harmonic counts when it is ``harmonic_db`` above that, is a local peak, and implies the same
   fundamental as the family's strongest harmonic (within ``consistency_hz``);
4. per frame, whether those harmonics stand ``frame_db`` above their background, and the
   fundamental they give (parabolic peak interpolation, weighted towards higher harmonics): the
   *presence* is the fraction of frames where the family is found, the *longest gap* the longest run
   of frames without it (as a fraction), the *spread* the robust standard deviation
   (1.4826 x MAD) of the per-frame fundamental.

A family is detected when ``min_harmonics`` harmonics count, it is present in ``min_presence`` of
the frames with no gap longer than ``max_gap``, its spread is at most ``max_spread_hz`` and its
frequency within ``max_offset_hz`` of nominal. What this rejects, and why:

- a lone tone (a 100 Hz sine: one harmonic of the 50 Hz family): fewer than two harmonics;
- music (notes at 98/110/123 Hz and their harmonics): off the family's lines, and a note that does
  sit on one (100 Hz exactly) lasts a note, not the clip (presence, gap);
- engines and other drifting tones: no line in the long-term spectrum, large spread;
- bird song: broadband, transient chirps;
- a motor or generator a little off the grid frequency (49.5 Hz): ``max_offset_hz``;
- a recordist's high-pass filter: the hum is gone, so nothing is found (the honest answer);
- clips shorter than ``min_frames`` frames (6 s): too short to call anything stable, no verdict.

The ``confidence`` is a transparent heuristic, not a calibrated probability: presence times a ramp
of the family's strength (the level of its *second* strongest harmonic, so one loud tone does not
carry it: 0 at ``harmonic_db``, 1 at ``harmonic_db + full_db``), halved progressively between 0.1 Hz
and ``max_offset_hz`` off nominal, and reduced by the other family's confidence. When both families
are detected and neither has ``dominance`` times the other's confidence, the verdict is none.
Thresholds were chosen on generated hum mixed into the xc-dev clips; benchmarks/hum_detection.py
measures them (benchmarks/results/hum_detection.md).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from typing import Any

import numpy as np

from geoforensics.errors import InputError

NOMINAL_HZ: tuple[int, ...] = (50, 60)
"""The two grid frequencies."""

HARMONICS: dict[int, tuple[int, ...]] = {50: (1, 2, 3, 4, 5), 60: (1, 2, 3, 4)}
"""Harmonic numbers per family: 50-250 Hz and 60-240 Hz (300 Hz, both 6 x 50 and 5 x 60, is left out)."""

PASS_HZ = 280.0
"""Highest frequency kept by the decimation (the 250 Hz harmonic, its search window and background)."""

TARGET_RATE_HZ = 1000
"""The audio is decimated by an integer factor to a rate in [1, 2) kHz (audio below 2 kHz is kept as it is)."""

MIN_SAMPLE_RATE_HZ = 2 * int(PASS_HZ) + 40


@dataclass(frozen=True)
class HumConfig:
    """Analysis settings (see the module docstring); benchmarks/hum_detection.py measures the defaults."""

    frame_s: float = 2.0
    hop_s: float = 1.0
    min_frames: int = 5
    search_hz: float = 0.6
    track_hz: float = 0.25
    line_hz: float = 0.06
    consistency_hz: float = 0.06
    ring_hz: float = 4.0
    harmonic_db: float = 6.0
    frame_db: float = 10.0
    min_harmonics: int = 2
    min_presence: float = 0.75
    max_spread_hz: float = 0.2
    max_gap: float = 0.2
    max_offset_hz: float = 0.3
    full_db: float = 12.0
    dominance: float = 2.0

    def __post_init__(self) -> None:
        if not (self.frame_s > 0 and self.hop_s > 0 and self.min_frames >= 1):
            raise ValueError("frame_s and hop_s must be > 0, min_frames >= 1")
        if not 0 < self.search_hz < 5 or not 0 < self.track_hz <= self.search_hz:
            raise ValueError("need 0 < track_hz <= search_hz < 5")

    @property
    def min_duration_s(self) -> float:
        """The shortest clip that gives ``min_frames`` frames."""
        return self.frame_s + (self.min_frames - 1) * self.hop_s


DEFAULT_CONFIG = HumConfig()


@dataclass(frozen=True)
class HumFamily:
    """What was measured for one family (50 or 60 Hz).

    ``harmonic_db``: peak-to-local-background ratio in dB of each harmonic in the long-term spectrum
    (``harmonics`` gives their numbers); ``frequency_hz``: the measured fundamental (median of the
    per-frame estimates, else the long-term estimate); ``presence``: the fraction of frames where the
    family stands out; ``spread_hz``: robust standard deviation of the per-frame fundamental (None with
    fewer than two frames present); ``confidence``: see the module docstring.
    """

    nominal_hz: int
    frequency_hz: float
    harmonics: tuple[int, ...]
    harmonic_db: tuple[float, ...]
    harmonics_present: int
    strength_db: float
    presence: float
    longest_gap: float
    spread_hz: float | None
    detected: bool
    confidence: float


@dataclass(frozen=True)
class HumResult:
    """The verdict: ``grid_hz`` is 50, 60 or None (no stable hum, both, or too short: see ``reason``)."""

    grid_hz: int | None
    confidence: float
    reason: str
    families: tuple[HumFamily, ...] = field(default_factory=tuple)
    n_frames: int = 0
    duration_s: float = 0.0

    @property
    def verdict(self) -> str:
        """The verdict as text: "50 Hz", "60 Hz" or "none"."""
        return f"{self.grid_hz} Hz" if self.grid_hz else "none"

    @property
    def summary(self) -> str:
        """One line for a report: "50 Hz (confidence 0.80)", or "none" and why."""
        if self.grid_hz:
            return f"{self.grid_hz} Hz (confidence {self.confidence:.2f})"
        return f"none ({self.reason})" if self.reason else "none"

    def family(self, nominal_hz: int) -> HumFamily | None:
        """The measurements of one family, or None when the clip was too short to measure."""
        return next((f for f in self.families if f.nominal_hz == nominal_hz), None)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready types."""
        d = asdict(self)
        d["verdict"] = self.verdict
        for fam in d["families"]:
            fam["harmonics"] = list(fam["harmonics"])
            fam["harmonic_db"] = list(fam["harmonic_db"])
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> HumResult:
        """Inverse of ``to_dict``."""
        fams = tuple(
            HumFamily(**{**f, "harmonics": tuple(f["harmonics"]), "harmonic_db": tuple(f["harmonic_db"])})
            for f in d.get("families", ())
        )
        return cls(
            grid_hz=d["grid_hz"],
            confidence=float(d["confidence"]),
            reason=d["reason"],
            families=fams,
            n_frames=int(d.get("n_frames", 0)),
            duration_s=float(d.get("duration_s", 0.0)),
        )


# ---------------------------------------------------------------- decimation


@lru_cache(maxsize=16)
def _decimator(sample_rate: int) -> tuple[int, np.ndarray]:
    """(factor q, polyphase matrix G of shape (m, q)) of a Kaiser FIR low-pass for ``sample_rate``.

    One stage, so that a single matrix product (the whole factor as BLAS's inner dimension) filters
    and decimates; split into stages of 8 x 6, the small inner dimensions made BLAS slower, not faster.
    """
    from scipy.signal import firwin, kaiserord

    q = sample_rate // TARGET_RATE_HZ if sample_rate >= 2 * TARGET_RATE_HZ else 1
    if q == 1:
        return 1, np.ones((1, 1), np.float32)
    out_rate = sample_rate / q
    # Keep [0, PASS_HZ]; stop by 80 dB what would fold onto it ([out_rate - PASS_HZ, ...]).
    numtaps, beta = kaiserord(80.0, (out_rate - 2 * PASS_HZ) / (sample_rate / 2))
    m = -(-numtaps // q)
    h = firwin(m * q, out_rate / 2, window=("kaiser", beta), fs=sample_rate)
    # G[i, r] = h[L - 1 - i q - r]: y[n] = sum_i (G @ X)[i, n + i] with X[r, b] = x[b q + r].
    return q, np.ascontiguousarray(h[::-1].reshape(m, q), dtype=np.float32)


def decimate(audio: np.ndarray, sample_rate: int) -> tuple[np.ndarray, float]:
    """Low-pass to ``PASS_HZ`` and decimate by an integer factor to 1-2 kHz; returns (signal, its rate)."""
    q, g = _decimator(int(sample_rate))
    x = np.ascontiguousarray(audio, dtype=np.float32)
    if q == 1:
        return x, float(sample_rate)
    m = g.shape[0]
    b = len(x) // q
    if b < m:
        return np.zeros(0, np.float32), sample_rate / q
    z = g @ x[: b * q].reshape(b, q).T  # (m, b)
    n = b - m + 1
    y = z[0, :n].copy()
    for i in range(1, m):
        y += z[i, i : n + i]
    return y, sample_rate / q


# ---------------------------------------------------------------- analysis


def _power_spectrogram(y: np.ndarray, rate: float, cfg: HumConfig) -> tuple[np.ndarray, float]:
    """Power spectrogram (frames x bins up to PASS_HZ) and the bin spacing in Hz."""
    n = round(cfg.frame_s * rate)
    hop = round(cfg.hop_s * rate)
    frames = np.lib.stride_tricks.sliding_window_view(y, n)[::hop]
    nfft = 1 << math.ceil(math.log2(2 * n))
    df = rate / nfft
    keep = int(PASS_HZ / df) + 2
    win = np.hanning(n).astype(np.float32)
    spec = np.fft.rfft(frames * win, nfft, axis=1)[:, :keep]
    power = spec.real**2 + spec.imag**2
    return power.astype(np.float64) + 1e-30, df


def _bins(lo_hz: float, hi_hz: float, df: float, nbins: int) -> np.ndarray:
    idx = np.arange(math.ceil(lo_hz / df), math.floor(hi_hz / df) + 1)
    return idx[(idx > 0) & (idx < nbins - 1)]


def _background(power: np.ndarray, left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """The local background of a line: the higher of the median levels on its two sides.

    Taking the higher side means the flank of a strong neighbour (a music note 2 Hz away) is not
    mistaken for a line standing above its background.
    """
    background: np.ndarray = np.maximum(np.median(power[..., left], axis=-1), np.median(power[..., right], axis=-1))
    return background


def _peak_hz(power: np.ndarray, i: np.ndarray, df: float) -> np.ndarray:
    """Frequencies of the peaks at bins ``i`` (one per row), refined by a parabola through the log powers."""
    rows = np.arange(power.shape[0])
    a, b, c = (np.log(power[rows, i + d]) for d in (-1, 0, 1))
    den = a - 2 * b + c
    off = np.where(den < 0, 0.5 * (a - c) / np.where(den < 0, den, -1.0), 0.0)
    hz: np.ndarray = (i + np.clip(off, -0.5, 0.5)) * df
    return hz


def _climb(spectrum: np.ndarray, i: int, steps: int) -> tuple[int, bool]:
    """From bin ``i`` up the slope for at most ``steps`` bins: (bin reached, whether it is a local maximum)."""
    last = len(spectrum) - 1
    for _ in range(steps + 1):
        if not 0 < i < last:
            return i, False
        if spectrum[i + 1] > spectrum[i] and spectrum[i + 1] >= spectrum[i - 1]:
            i += 1
        elif spectrum[i - 1] > spectrum[i]:
            i -= 1
        else:
            return i, True
    return i, False


def _longest_gap(present: np.ndarray) -> int:
    """The longest run of consecutive False values."""
    best = run = 0
    for p in present:
        run = 0 if p else run + 1
        best = max(best, run)
    return best


def _measure_family(power: np.ndarray, longterm: np.ndarray, df: float, nominal: int, cfg: HumConfig) -> dict[str, Any]:
    ks = HARMONICS[nominal]
    nbins = longterm.shape[0]
    sides = []
    for k in ks:
        inner = k * cfg.search_hz + 1.0
        left = _bins(k * nominal - inner - cfg.ring_hz, k * nominal - inner, df, nbins)
        right = _bins(k * nominal + inner, k * nominal + inner + cfg.ring_hz, df, nbins)
        sides.append((left, right))
    lt_bg = np.array([_background(longterm, left, right) for left, right in sides])

    # The fundamental that best explains the harmonics of the long-term spectrum.
    cands = np.arange(nominal - cfg.search_hz, nominal + cfg.search_hz + 1e-9, 0.01)
    total = np.zeros_like(cands)
    for k, bg in zip(ks, lt_bg):
        idx = np.clip(np.rint(k * cands / df).astype(int), 1, nbins - 2)
        db = np.maximum(10 * np.log10(longterm / bg), 0.0)
        # Capped so that one loud line cannot carry the family, and taken over +-1 bin so that a line
        # counts for every candidate that puts its harmonic next to it; the small uncapped term
        # finds the line's centre.
        near = np.maximum(np.maximum(db[idx - 1], db[idx]), db[idx + 1])
        total += np.minimum(near, 30.0) + 0.01 * db[idx]
    f0 = float(cands[int(np.argmax(total))])

    # Each harmonic in the long-term spectrum: its peak near k * f0 (a local maximum within 0.5 Hz, not
    # the flank of something else), its level above the background and the fundamental it implies.
    lt = longterm[None, :]
    harmonic_db, implied, candidate = [], [], []
    for k, bg in zip(ks, lt_bg):
        w = _bins(k * f0 - cfg.line_hz * k - df, k * f0 + cfg.line_hz * k + df, df, nbins)
        i, is_peak = _climb(longterm, int(w[np.argmax(longterm[w])]), max(1, round(0.5 / df)))
        db = float(10 * np.log10(longterm[i] / bg))
        harmonic_db.append(round(db, 2))
        implied.append(float(_peak_hz(lt, np.array([i]), df)[0]) / k if is_peak else math.nan)
        candidate.append(is_peak and db >= cfg.harmonic_db)
    present_ks: list[int] = []
    strength = 0.0
    if any(candidate):
        ref = implied[int(np.argmax([db if c else -np.inf for db, c in zip(harmonic_db, candidate)]))]
        present_ks = [k for k, c, f in zip(ks, candidate, implied) if c and abs(f - ref) <= cfg.consistency_hz]
        levels = sorted((harmonic_db[ks.index(k)] for k in present_ks), reverse=True)
        strength = levels[1] if len(levels) > 1 else 0.0
    lt_freq = (
        float(np.average([implied[ks.index(k)] for k in present_ks], weights=[k * k for k in present_ks]))
        if present_ks
        else f0
    )

    # Per frame: does the family stand out, and at which fundamental?
    use = present_ks or list(ks)
    n_frames = power.shape[0]
    est = np.zeros((n_frames, len(use)))
    wts = np.zeros((n_frames, len(use)))
    for j, k in enumerate(use):
        left, right = sides[ks.index(k)]
        w = _bins(k * lt_freq - k * cfg.track_hz - df, k * lt_freq + k * cfg.track_hz + df, df, nbins)
        i = w[np.argmax(power[:, w], axis=1)]
        ratio_db = 10 * np.log10(power[np.arange(n_frames), i] / _background(power, left, right))
        est[:, j] = _peak_hz(power, i, df) / k
        wts[:, j] = np.where(ratio_db >= cfg.frame_db, k * k * np.minimum(ratio_db, 30.0), 0.0)
    present = wts.sum(axis=1) > 0
    fs = (est[present] * wts[present]).sum(axis=1) / wts[present].sum(axis=1)
    frequency = float(np.median(fs)) if len(fs) else lt_freq
    spread = float(1.4826 * np.median(np.abs(fs - np.median(fs)))) if len(fs) >= 2 else None
    return {
        "nominal_hz": nominal,
        "frequency_hz": round(frequency, 3),
        "harmonics": tuple(ks),
        "harmonic_db": tuple(harmonic_db),
        "harmonics_present": len(present_ks),
        "strength_db": round(strength, 2),
        "presence": round(float(present.mean()), 3),
        "longest_gap": round(_longest_gap(present) / n_frames, 3),
        "spread_hz": None if spread is None else round(spread, 4),
    }


def _family_confidence(m: dict[str, Any], cfg: HumConfig) -> tuple[bool, float]:
    detected = (
        m["harmonics_present"] >= cfg.min_harmonics
        and m["presence"] >= cfg.min_presence
        and m["longest_gap"] <= cfg.max_gap
        and m["spread_hz"] is not None
        and m["spread_hz"] <= cfg.max_spread_hz
        and abs(m["frequency_hz"] - m["nominal_hz"]) <= cfg.max_offset_hz
    )
    if not detected:
        return False, 0.0
    ramp = float(np.clip((m["strength_db"] - cfg.harmonic_db) / cfg.full_db, 0.0, 1.0))
    # Grids hold +-0.1 Hz; further off (up to max_offset_hz) is less typical of a grid-locked hum.
    off = max(0.0, abs(m["frequency_hz"] - m["nominal_hz"]) - 0.1) / max(cfg.max_offset_hz - 0.1, 1e-9)
    return True, round(m["presence"] * ramp * (1.0 - 0.5 * off), 3)


def detect_hum(audio: np.ndarray, sample_rate: int, *, config: HumConfig = DEFAULT_CONFIG) -> HumResult:
    """Look for a stable 50 Hz or 60 Hz mains-hum family in mono ``audio`` (any float or int dtype).

    Returns a ``HumResult`` whose ``grid_hz`` is 50, 60 or None. Raises InputError for empty,
    non-finite or non-mono audio, or a sample rate below ``MIN_SAMPLE_RATE_HZ``.
    """
    if isinstance(sample_rate, bool) or not isinstance(sample_rate, (int, np.integer)) or sample_rate <= 0:
        raise ValueError(f"sample_rate must be a positive integer, got {sample_rate!r}")
    x = np.asarray(audio)
    if x.ndim != 1:
        raise InputError(f"hum detection needs mono audio (1-D), got shape {tuple(x.shape)}")
    if x.size == 0:
        raise InputError("the audio is empty (0 samples)")
    if not np.issubdtype(x.dtype, np.number) or np.iscomplexobj(x):
        raise InputError(f"audio must be a real numeric array, got dtype {x.dtype}")
    if np.issubdtype(x.dtype, np.integer):  # PCM; unsigned PCM is centred on its mid-scale
        half = float(2 ** (8 * x.dtype.itemsize - 1))
        x = (x.astype(np.float32) - (half if np.issubdtype(x.dtype, np.unsignedinteger) else 0.0)) / half
    if not np.isfinite(x).all():
        raise InputError("the audio contains NaN or infinite values")
    if sample_rate < MIN_SAMPLE_RATE_HZ:
        raise InputError(
            f"a sample rate of {sample_rate} Hz is too low for mains hum (needs >= {MIN_SAMPLE_RATE_HZ} Hz)"
        )

    cfg = config
    duration = round(len(x) / sample_rate, 3)
    y, rate = decimate(x, int(sample_rate))
    frame, hop = round(cfg.frame_s * rate), round(cfg.hop_s * rate)
    n_frames = 0 if len(y) < frame else 1 + (len(y) - frame) // hop
    if n_frames < cfg.min_frames:
        why = f"too short: {duration:.1f} s (hum needs at least {cfg.min_duration_s:g} s)"
        return HumResult(None, 0.0, why, (), n_frames, duration)
    if not np.any(y):
        return HumResult(None, 0.0, f"digital silence below {PASS_HZ:g} Hz", (), n_frames, duration)

    power, df = _power_spectrogram(y, rate, cfg)
    longterm = np.median(power, axis=0)
    fams = []
    for nominal in NOMINAL_HZ:
        m = _measure_family(power, longterm, df, nominal, cfg)
        detected, conf = _family_confidence(m, cfg)
        fams.append(HumFamily(**m, detected=detected, confidence=conf))

    found = sorted((f for f in fams if f.detected), key=lambda f: f.confidence, reverse=True)
    if not found:
        best = max(fams, key=lambda f: (min(f.harmonics_present, cfg.min_harmonics), f.presence))
        return HumResult(None, 0.0, _why_not(best, cfg), tuple(fams), n_frames, duration)
    win = found[0]
    if len(found) > 1 and win.confidence < cfg.dominance * found[1].confidence:
        return HumResult(None, 0.0, "both 50 Hz and 60 Hz families are present", tuple(fams), n_frames, duration)
    other = max(f.confidence for f in fams if f is not win)
    reason = (
        f"stable {win.nominal_hz} Hz family at {win.frequency_hz:.2f} Hz: {win.harmonics_present} harmonics, "
        f"present in {100 * win.presence:.0f} % of frames"
    )
    return HumResult(win.nominal_hz, round(win.confidence * (1.0 - other), 3), reason, tuple(fams), n_frames, duration)


def _why_not(f: HumFamily, cfg: HumConfig) -> str:
    if f.harmonics_present < cfg.min_harmonics:
        return "no stable hum: no family with two harmonics above the background"
    if f.presence < cfg.min_presence:
        return f"no stable hum: the {f.nominal_hz} Hz family is present in only {100 * f.presence:.0f} % of frames"
    if f.longest_gap > cfg.max_gap:
        return (
            f"no stable hum: the {f.nominal_hz} Hz family is missing from {100 * f.longest_gap:.0f} % of the clip "
            "at a stretch"
        )
    if f.spread_hz is None or f.spread_hz > cfg.max_spread_hz:
        return f"no stable hum: the {f.nominal_hz} Hz family's frequency wanders ({f.spread_hz} Hz spread)"
    return (
        f"no grid hum: the {f.nominal_hz} Hz family sits at {f.frequency_hz:.2f} Hz, too far from {f.nominal_hz} Hz "
        "for a grid (a generator or a motor?)"
    )
