"""What BirdNET "hears" in sounds with no animal in them, so the claim check does not believe it.

BirdNET V2.4 scores stationary non-animal sound as birds: white noise as a Lesser Spotted Woodpecker
(0.58), an engine's drone as a Great Bittern (0.80). Such a false species, heard in every window,
would make a claim look wrong. The *noise floor* of a species is the highest score BirdNET gives it on
a corpus of generated non-animal sound (noise of several colours and levels, engines and drones,
sirens and sweeps, wind, rain, music, clicks, mains hum, speech-like vowels: :func:`non_animal_signals`); the
claim check discounts every score to ``max(0, (q - floor) / (1 - floor))``, so a species counts only for what
it scores above what noise alone can give it.

The table ships as ``models/birdnet_noise_floor.json`` (read by :func:`geoforensics.scoring.noise_floor`, which
also applies it: :func:`geoforensics.scoring.discount`); rebuild it with

    python -m geoforensics.forensics.noise            # writes the table (about a minute on 2 cores)

:func:`held_out_signals` are other signals of the same kinds (other seeds, levels and pitches), for
measuring what the discount does on sound it was not built from (``benchmarks/claim_check.py``).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from ..evidence import score_audio
from ..models.birdnet import MODEL_VERSION, load_labels
from ..scoring import NOISE_FLOOR_TABLE

SAMPLE_RATE = 48_000
SECONDS = 15.0
TABLE = NOISE_FLOOR_TABLE
FLOOR_MARGIN = 0.05
"""Added to each measured maximum (the corpus cannot hold every variant of each sound)."""


def _coloured(rng: np.random.Generator, n: int, slope: float) -> np.ndarray:
    """Noise with power spectrum ~ 1 / f**slope (0 white, 1 pink, 2 brown), unit RMS."""
    f = np.fft.rfft(rng.standard_normal(n))
    f /= np.maximum(np.arange(len(f)), 1.0) ** (slope / 2)
    x: np.ndarray = np.fft.irfft(f, n)
    scaled: np.ndarray = x / (x.std() + 1e-12)
    return scaled


def _moving_average(x: np.ndarray, width: int) -> np.ndarray:
    c = np.concatenate([[0.0], np.cumsum(x)])
    lo = np.clip(np.arange(len(x)) - width // 2, 0, len(x))
    hi = np.clip(lo + width, 0, len(x))
    mean: np.ndarray = (c[hi] - c[lo]) / np.maximum(hi - lo, 1)
    return mean


def _tone_stack(t: np.ndarray, f0: np.ndarray | float, harmonics: int, decay: float) -> np.ndarray:
    phase = 2 * np.pi * np.cumsum(np.broadcast_to(f0, t.shape)) / SAMPLE_RATE
    x: np.ndarray = np.sum([np.sin(k * phase) / k**decay for k in range(1, harmonics + 1)], axis=0)
    scaled: np.ndarray = x / (np.abs(x).max() + 1e-12)
    return scaled


def _signals(rng: np.random.Generator, levels: tuple[float, ...], pitch: float) -> Iterator[tuple[str, np.ndarray]]:
    n = int(SECONDS * SAMPLE_RATE)
    t = np.arange(n) / SAMPLE_RATE
    for level in levels:
        a = 10 ** (level / 20)
        for name, slope in (("white", 0.0), ("pink", 1.0), ("brown", 2.0), ("blue", -1.0)):
            yield f"{name} noise {level:g} dB", a * _coloured(rng, n, slope)
        wobble = 1 + 0.08 * np.sin(2 * np.pi * rng.uniform(0.05, 0.4) * t)
        for f0 in (30 * pitch, 55 * pitch, 95 * pitch, 140 * pitch):
            yield (f"engine {f0:.0f} Hz {level:g} dB",
                   a * (_tone_stack(t, f0 * wobble, 12, 1.0) + 0.1 * _coloured(rng, n, 1.0)))
        for f0 in (60 * pitch, 300 * pitch, 700 * pitch):
            sweep = f0 * (1 + 0.5 * np.sin(2 * np.pi * rng.uniform(0.1, 0.5) * t))
            yield f"sweep {f0:.0f} Hz {level:g} dB", a * _tone_stack(t, sweep, 5, 1.0)
        yield (f"drone 200 Hz {level:g} dB",
               a * _tone_stack(t, 200 * pitch * (1 + 0.002 * np.sin(2 * np.pi * 7 * t)), 30, 0.5))
        gust = _moving_average(np.abs(rng.standard_normal(n)), 24000)
        yield f"wind {level:g} dB", a * _coloured(rng, n, 2.0) * gust / (gust.max() + 1e-12)
        drops = (rng.random(n) < 0.002) * rng.standard_normal(n)
        yield (f"rain {level:g} dB",
               a * (np.convolve(drops, np.exp(-np.arange(200) / 30), "same") + 0.3 * _coloured(rng, n, 0.5)))
        yield f"clicks {level:g} dB", a * (rng.random(n) < 0.0005) * np.sign(rng.standard_normal(n))
        hz = 50 if rng.random() < 0.5 else 60
        yield f"hum {hz} Hz {level:g} dB", a * (_tone_stack(t, float(hz), 6, 1.0) + 0.05 * _coloured(rng, n, 0.0))
        notes = 220 * pitch * 2 ** (rng.integers(0, 12, 16) / 12)
        seq = np.repeat(notes, int(np.ceil(n / 16)))[:n]
        yield f"music {level:g} dB", a * _tone_stack(t, seq, 8, 1.5) * (0.6 + 0.4 * np.sin(2 * np.pi * 2 * t) ** 2)
        chord = np.sum([_tone_stack(t, 130.8 * pitch * r, 6, 1.2) for r in (1.0, 1.26, 1.5)], axis=0)
        yield f"chord {level:g} dB", a * chord / 3
        formants = np.sum([np.sin(2 * np.pi * f * t) * np.exp(-((f - 700) / 900) ** 2)
                           for f in np.arange(120, 3000, 120) * pitch], axis=0)
        syll = (np.sin(2 * np.pi * 4 * t) > 0).astype(float)
        yield f"vowels {level:g} dB", a * formants / (np.abs(formants).max() + 1e-12) * syll
    yield "silence", np.zeros(n)


def non_animal_signals(seed: int = 0) -> Iterator[tuple[str, np.ndarray]]:
    """The corpus the noise floor is built from: (name, mono float32 at 48 kHz)."""
    rng = np.random.default_rng(seed)
    for name, x in _signals(rng, (-40.0, -20.0, -6.0), 1.0):
        yield name, np.asarray(x, np.float32)


def held_out_signals(seed: int = 1) -> Iterator[tuple[str, np.ndarray]]:
    """Sounds of the same kinds at other levels and pitches, never used to build the table."""
    rng = np.random.default_rng(seed)
    for name, x in _signals(rng, (-30.0, -12.0), 1.19):
        yield name, np.asarray(x, np.float32)


def build_table(path: Path = TABLE) -> dict[str, Any]:
    """Score the corpus with BirdNET and write each species' highest score (plus ``FLOOR_MARGIN``)."""
    labels = load_labels()
    top = np.zeros(len(labels), np.float32)
    names = []
    for name, x in non_animal_signals():
        top = np.maximum(top, score_audio(x, sample_rate=SAMPLE_RATE).scores.max(0))
        names.append(name)
    floor = {labels.scientific[i]: round(float(top[i]) + FLOOR_MARGIN, 3) for i in np.where(top >= 0.05)[0]}
    table = {
        "model": MODEL_VERSION,
        "command": "python -m geoforensics.forensics.noise",
        "margin": FLOOR_MARGIN,
        "signals": names,
        "floor": dict(sorted(floor.items(), key=lambda kv: -kv[1])),
    }
    path.write_text(json.dumps(table, indent=1) + "\n")
    return table


if __name__ == "__main__":
    t = build_table()
    print(f"wrote {TABLE}: {len(t['floor'])} classes from {len(t['signals'])} signals", file=sys.stderr)
