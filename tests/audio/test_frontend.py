"""geoforensics.audio.frontend: held notes and steady noise are lowered where the content analysis finds them,
bird-like sweeps are kept, and a clean recording passes unchanged."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import signal

from geoforensics.audio.content import analyse_content
from geoforensics.audio.frontend import reduce_non_animal
from geoforensics.defaults import WINDOW
from tests.audio.test_content import LABELS, RATE, SPECIES, chirps, chords, scores


def band_db(x: np.ndarray, lo: float, hi: float) -> float:
    f, p = signal.welch(x, RATE, nperseg=4096)
    return float(10 * np.log10(p[(f >= lo) & (f < hi)].sum()))


def run(x: np.ndarray, animal: float = 0.9):
    n = len(analyse_content(x, RATE, window=WINDOW).starts_s)
    c = analyse_content(x, RATE, scores(n, Turdus_merula=animal), labels=LABELS, is_species=SPECIES, window=WINDOW)
    return c, reduce_non_animal(x, RATE, c)


def test_a_clean_recording_passes_unchanged():
    x = chirps(12)
    _, fe = run(x)
    assert not fe.changed.any() and fe.steps == ()
    assert np.array_equal(fe.audio, x)


def test_windows_with_a_bird_heard_pass_unchanged_even_under_music():
    x = chirps(12, 0.1) + chords(12, 0.3)
    _, fe = run(x, animal=0.9)
    assert not fe.changed.any() and np.array_equal(fe.audio, x)


def test_music_is_lowered_and_the_birds_kept():
    bird, music = chirps(12, 0.1), chords(12, 0.3)
    _, fe = run(bird + music, animal=0.1)
    assert fe.changed.all() and "held notes lowered" in fe.steps
    # the chords' part of the output (its projection) falls by > 8 dB; the sweeps at 3-6 kHz lose < 3 dB
    left_music = float(np.dot(fe.audio, music) / np.dot(music, music))
    assert 20 * np.log10(abs(left_music)) < -8
    assert band_db(fe.audio, 3000, 6000) == pytest.approx(band_db(bird + music, 3000, 6000), abs=3)


def test_steady_noise_is_gated():
    rng = np.random.default_rng(0)
    noise = signal.sosfilt(signal.butter(2, 2000, "low", fs=RATE, output="sos"), rng.standard_normal(12 * RATE))
    noise = (0.2 * noise / noise.std()).astype(np.float32)
    bird = chirps(12, 0.3)
    c, fe = run(bird + noise, animal=0.2)
    assert c.dominant.count("noise") >= 4 and "stationary noise gated" in fe.steps
    assert band_db(fe.audio, 100, 1500) < band_db(bird + noise, 100, 1500) - 6
    assert band_db(fe.audio, 3000, 6000) == pytest.approx(band_db(bird + noise, 3000, 6000), abs=3)
