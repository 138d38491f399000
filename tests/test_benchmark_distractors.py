"""benchmarks/distractors.py: deterministic distractors that are what they say, mixed at the level asked for,
packed as the phone path says; and the window shares of benchmarks/claim_distractors.py."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from scipy import signal

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks import distractors as D  # noqa: E402

HAVE_ESPEAK = D.available("speech")
HAVE_FLUIDSYNTH = D.available("music")
NEEDS = {
    "speech": pytest.mark.skipif(not HAVE_ESPEAK, reason="Debian espeak-ng is not installed"),
    "crowd": pytest.mark.skipif(not HAVE_ESPEAK, reason="Debian espeak-ng is not installed"),
    "music": pytest.mark.skipif(not HAVE_FLUIDSYNTH, reason="Debian fluidsynth + fluid-soundfont-gm are not installed"),
}
KINDS = [pytest.param(k, marks=NEEDS[k]) if k in NEEDS else k for k in D.KINDS]
SECONDS = 6.0


def band_share(x: np.ndarray, lo: float, hi: float) -> float:
    """Share of the mono downmix's power between ``lo`` and ``hi`` Hz."""
    f, p = signal.welch(x.mean(1), D.RATE, nperseg=4096)
    return float(p[(f >= lo) & (f < hi)].sum() / p.sum())


def frame_db(x: np.ndarray, seconds: float = 0.05) -> np.ndarray:
    m = x.mean(1)
    n = int(seconds * D.RATE)
    frames = m[: len(m) // n * n].reshape(-1, n)
    return 10 * np.log10(np.mean(frames**2, 1) + 1e-12)


def birdsong(seconds: float = SECONDS, seed: int = 0) -> np.ndarray:
    """Chirps sweeping 6 -> 3 kHz, 0.2 s every 0.5 s, over faint hiss: a stand-in bird recording."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * D.RATE)) / D.RATE
    local = t % 0.5
    f = 6000 - 15000 * local
    chirp = np.sin(2 * np.pi * np.cumsum(f) / D.RATE) * (local < 0.2)
    return (0.3 * chirp + 0.003 * rng.standard_normal(len(t))).astype(np.float32)


@pytest.mark.parametrize("kind", KINDS)
def test_distractor_is_deterministic_and_unit_rms(kind):
    a = D.distractor(kind, SECONDS, seed=11)
    b = D.distractor(kind, SECONDS, seed=11)
    c = D.distractor(kind, SECONDS, seed=12)
    assert a.shape == (int(SECONDS * D.RATE), 2) and a.dtype == np.float32
    assert np.array_equal(a, b)
    assert not np.array_equal(a, c)
    assert D.rms(a) == pytest.approx(1.0, rel=1e-3)
    assert np.all(np.isfinite(a))


@pytest.mark.skipif(not HAVE_ESPEAK, reason="Debian espeak-ng is not installed")
def test_the_same_seed_gives_the_same_sound_in_another_process():
    code = ("import hashlib, sys; sys.path.insert(0, '.'); from benchmarks import distractors as D; "
            "print(hashlib.sha256(D.distractor('speech', 3.0, D.seed_of(0, 'XC1', 'speech')).tobytes()).hexdigest())")
    other = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120,
                           check=True)
    import hashlib

    here = hashlib.sha256(D.distractor("speech", 3.0, D.seed_of(0, "XC1", "speech")).tobytes()).hexdigest()
    assert other.stdout.strip() == here


@NEEDS["speech"]
def test_speech_is_speech():
    x = D.distractor("speech", 12.0, seed=3)
    assert band_share(x, 80, 4000) > 0.9
    levels = frame_db(x)
    # turns and pauses: some 50 ms frames at least 30 dB below the loudest, and syllables between
    assert np.mean(levels < levels.max() - 30) > 0.05
    assert np.mean(levels > levels.max() - 20) > 0.3


@NEEDS["crowd"]
def test_crowd_babble_has_no_pauses():
    x = D.distractor("crowd", 12.0, seed=3)
    levels = frame_db(x)
    assert band_share(x, 80, 4000) > 0.85
    assert np.percentile(levels, 95) - np.percentile(levels, 5) < 15


def tonal_share(x: np.ndarray) -> float:
    """Share of the 100-4000 Hz power in spectral peaks (bins 10x above their neighbourhood's median)."""
    from scipy.ndimage import median_filter

    f, p = signal.welch(x.mean(1), D.RATE, nperseg=8192)
    p = p[(f > 100) & (f < 4000)]
    return float(p[p > 10 * median_filter(p, 31)].sum() / p.sum())


@NEEDS["music"]
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_music_is_notes_and_the_midi_is_valid(seed):
    data, bpm = D.song(8.0, seed=seed)
    assert data[:4] == b"MThd" and data[14:18] == b"MTrk" and 70 <= bpm <= 140
    assert tonal_share(D.distractor("music", 8.0, seed=seed)) > 0.25
    assert tonal_share(D.distractor("rain", 8.0, seed=seed)) < 0.05


def test_traffic_wind_rain_have_their_spectra():
    traffic = D.distractor("traffic", 20.0, seed=2)
    wind = D.distractor("wind", 20.0, seed=2)
    rain = D.distractor("rain", 20.0, seed=2)
    assert band_share(wind, 0, 500) > 0.8
    assert band_share(rain, 500, 24000) > 0.8
    assert band_share(traffic, 0, 500) > 0.3 and band_share(traffic, 300, 4000) > 0.2
    # passing cars: the level rises and falls by more than 6 dB over the clip
    t = frame_db(traffic, 0.5)
    assert t.max() - np.median(t) > 6


@pytest.mark.parametrize("level", D.LEVELS_DB)
def test_mix_is_at_the_level_asked_for(level):
    bird = birdsong()
    m = D.make_mixture(bird, "wind", level, seed=4)
    assert m.level_db == pytest.approx(level, abs=0.5)
    assert np.abs(m.mix).max() == pytest.approx(D.PEAK, rel=1e-4)
    assert np.allclose(m.mix, m.bird + m.noise, atol=1e-5)
    clean = D.make_mixture(bird, None, None, seed=4)
    assert clean.level_db is None and not clean.noise.any()


@pytest.mark.parametrize("profile", list(D.PROFILES))
def test_pack_writes_the_phone_path(tmp_path, profile):
    from geoforensics.audio.decode import decode_audio
    from geoforensics.ffmpeg import probe

    p = D.PROFILES[profile]
    m = D.make_mixture(birdsong(), "rain", -6.0, seed=1)
    out = D.pack(m.mix, p, tmp_path / f"mix{p.suffix}")
    info = probe(out)
    assert info.audio is not None and info.audio.codec == p.codec and info.audio.channels == p.channels
    assert info.video is not None and info.video.codec == "h264"
    assert info.duration_s == pytest.approx(SECONDS, abs=0.1)
    # the level survives the codec: least squares of the decoded track on the two parts
    y = decode_audio(out, D.RATE)
    n = min(len(y), len(m.mix))
    parts = np.stack([m.bird.mean(1)[:n], m.noise.mean(1)[:n]], 1)
    (gb, gn), *_ = np.linalg.lstsq(parts, y[:n], rcond=None)
    after = D.db(gb * D.rms(m.bird) / (gn * D.rms(m.noise)))
    assert after == pytest.approx(-6.0, abs=1.0 if p.kbps < 96 else 0.5)


def test_window_shares_count_masked_and_lost_windows():
    from benchmarks.claim_distractors import window_shares

    clean = {"a": {"windows": {"animal": [0.9, 0.9, 0.1, 0.8], "other": [0, 0, 0, 0]}}}
    mixed = [{"clip": "a", "windows": {"animal": [0.9, 0.1, 0.1, 0.2], "other": [0.1, 0.6, 0.3, 0.1]}}]
    masked, lost = window_shares(mixed, clean)
    assert masked == pytest.approx(50.0)  # windows 2 and 3: a non-animal class >= 0.25 above the animals
    assert lost == pytest.approx(100 * 2 / 3)  # heard in 3 clean windows, gone in 2 of them
