"""Mains-hum detection on generated signals with known answers."""

import json

import numpy as np
import pytest
import soundfile as sf
from scipy.signal import butter, sosfilt

from geoforensics.audio.hum import HumResult, decimate, detect_hum
from geoforensics.errors import InputError

SR = 16000


def noise(seconds: float, seed: int = 0, level: float = 0.1, sr: int = SR) -> np.ndarray:
    return (level * np.random.default_rng(seed).standard_normal(int(seconds * sr))).astype(np.float32)


def hum(
    seconds: float, f0: float, level: float, harmonics=(1, 2, 3), seed: int = 1, sr: int = SR, wander: float = 0.03
):
    """A hum family whose frequency wanders slowly by up to ``wander`` Hz; ``level`` is its RMS."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * sr)) / sr
    phase = 2 * np.pi * np.cumsum(f0 + wander * np.sin(2 * np.pi * t / 23.0)) / sr
    x = sum(np.sin(k * phase + rng.uniform(0, 2 * np.pi)) / k for k in harmonics)
    return (level * x / np.sqrt(np.mean(x**2))).astype(np.float32)


def tone(seconds: float, f: float, level: float, sr: int = SR) -> np.ndarray:
    t = np.arange(int(seconds * sr)) / sr
    return (level * np.sqrt(2) * np.sin(2 * np.pi * f * t)).astype(np.float32)


@pytest.mark.parametrize("f0", [50, 60])
def test_family_is_found_at_its_frequency(f0):
    r = detect_hum(noise(30) + hum(30, f0, 0.01), SR)
    assert r.grid_hz == f0 and r.verdict == f"{f0} Hz"
    fam = r.family(f0)
    assert fam.detected and abs(fam.frequency_hz - f0) < 0.05
    assert fam.harmonics_present >= 3 and fam.presence >= 0.9
    assert fam.spread_hz is not None and fam.spread_hz < 0.05
    assert min(fam.harmonic_db[:3]) > 10
    assert 0.5 < r.confidence <= 1.0
    other = r.family(110 - f0)
    assert not other.detected and other.confidence == 0.0


def test_measured_frequency_follows_an_off_nominal_grid():
    r = detect_hum(noise(40) + hum(40, 50.12, 0.01, wander=0.0), SR)
    assert r.grid_hz == 50
    assert r.family(50).frequency_hz == pytest.approx(50.12, abs=0.01)


def test_weak_hum_is_found_with_lower_confidence():
    strong = detect_hum(noise(30) + hum(30, 60, 0.01), SR)
    weak = detect_hum(noise(30) + hum(30, 60, 0.004), SR)
    assert weak.grid_hz == 60
    assert weak.confidence < strong.confidence


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_white_noise_gives_none(seed):
    r = detect_hum(noise(30, seed=seed), SR)
    assert r.grid_hz is None and r.confidence == 0.0
    assert r.reason.startswith("no stable hum")


def test_chirps_give_none():
    """Repeated upward sweeps through 40-400 Hz (every family line is crossed, none is held)."""
    t = np.arange(30 * SR) / SR
    tt = t % 1.5
    chirp = 0.05 * np.sin(2 * np.pi * (40 * tt + 120 * tt**2))
    assert detect_hum(noise(30) + chirp.astype(np.float32), SR).grid_hz is None


def test_pure_100_hz_sine_alone_does_not_give_50():
    r = detect_hum(noise(30) + tone(30, 100.0, 0.05), SR)
    assert r.grid_hz is None
    fam = r.family(50)
    assert fam.harmonic_db[1] > 20  # the line is seen...
    assert fam.harmonics_present == 1  # ...but one harmonic is not a family


def test_music_notes_near_the_hum_lines_give_none():
    rng = np.random.default_rng(3)
    x = np.zeros(30 * SR)
    i = 0
    while i < len(x):
        n = int(rng.uniform(0.3, 1.5) * SR)
        f = rng.choice([98.0, 110.0, 123.47])
        t = np.arange(min(n, len(x) - i)) / SR
        x[i : i + len(t)] = np.exp(-2 * t) * sum(np.sin(2 * np.pi * k * f * t) / k for k in range(1, 7))
        i += n
    assert detect_hum(noise(30) + (0.1 * x).astype(np.float32), SR).grid_hz is None


def test_drifting_engine_tone_gives_none():
    t = np.arange(40 * SR) / SR
    f = 55 + 15 * np.sin(2 * np.pi * t / 17.0)
    phase = 2 * np.pi * np.cumsum(f) / SR
    engine = 0.05 * sum(np.sin(k * phase) / k for k in range(1, 6))
    r = detect_hum(noise(40) + engine.astype(np.float32), SR)
    assert r.grid_hz is None


def test_harmonic_note_held_for_part_of_the_clip_gives_none():
    """A 100 Hz note with harmonics (a 50 Hz family's even lines) for 12 s of a 40 s clip."""
    x = noise(40)
    t = np.arange(12 * SR) / SR
    x[10 * SR : 22 * SR] += 0.05 * sum(np.sin(2 * np.pi * k * 100.0 * t) / k for k in (1, 2, 3))
    r = detect_hum(x, SR)
    assert r.grid_hz is None
    assert not r.family(50).detected and r.family(50).presence < 0.75


def test_motor_off_the_grid_frequency_gives_none():
    r = detect_hum(noise(30) + hum(30, 49.5, 0.01, wander=0.0), SR)
    assert r.grid_hz is None
    assert "too far" in r.reason


def test_high_passed_recording_gives_none():
    """A bird recordist's 500 Hz high-pass (8th order) removes the hum: nothing to report."""
    sos = butter(8, 500, "highpass", fs=SR, output="sos")
    x = sosfilt(sos, noise(30) + hum(30, 50, 0.01)).astype(np.float32)
    assert detect_hum(x, SR).grid_hz is None


def test_both_families_at_once_give_none():
    x = noise(30) + hum(30, 50, 0.01, seed=1) + hum(30, 60, 0.01, seed=2)
    r = detect_hum(x, SR)
    assert r.grid_hz is None and r.reason.startswith("both")
    assert r.family(50).detected and r.family(60).detected


def test_too_short_clip_gives_none():
    r = detect_hum(noise(6) + hum(6, 50, 0.05), SR)
    assert r.grid_hz is None and r.reason.startswith("too short")
    assert r.families == ()


def test_silence_gives_none():
    r = detect_hum(np.zeros(20 * SR, np.float32), SR)
    assert r.grid_hz is None and "silence" in r.reason


def test_decimation_keeps_the_hum_band_and_stops_aliases():
    sr = 48000
    t = np.arange(10 * sr) / sr
    y, rate = decimate(np.sin(2 * np.pi * 250 * t).astype(np.float32), sr)
    assert rate == 1000.0
    assert np.sqrt(np.mean(y[2000:-2000] ** 2)) == pytest.approx(np.sqrt(0.5), rel=0.01)
    # 4,050 Hz would fold onto 50 Hz after decimation to 1 kHz without the low-pass.
    y, _ = decimate(np.sin(2 * np.pi * 4050 * t).astype(np.float32), sr)
    assert 20 * np.log10(np.sqrt(np.mean(y[2000:-2000] ** 2)) / np.sqrt(0.5)) < -75


def test_stable_insect_whistle_does_not_fold_onto_50_hz():
    sr = 48000
    t = np.arange(30 * sr) / sr
    x = noise(30, sr=sr) + (0.3 * sum(np.sin(2 * np.pi * k * 4050 * t) for k in (1, 2))).astype(np.float32)
    assert detect_hum(x, sr).grid_hz is None
    assert detect_hum(x + hum(30, 60, 0.003, sr=sr), sr).grid_hz == 60


def test_integer_pcm_is_accepted():
    x = noise(20) + hum(20, 60, 0.02)
    pcm = np.round(x * 32767).astype(np.int16)
    assert detect_hum(pcm, SR).grid_hz == 60
    assert detect_hum((pcm.astype(np.int32) + 32768).astype(np.uint16), SR).grid_hz == 60


def test_result_round_trips_through_json():
    r = detect_hum(noise(20) + hum(20, 50, 0.01), SR)
    d = json.loads(json.dumps(r.to_dict()))
    assert d["verdict"] == "50 Hz" and d["families"][0]["nominal_hz"] == 50
    assert HumResult.from_dict(d) == r


@pytest.mark.parametrize(
    ("audio", "rate", "match"),
    [
        (np.zeros(0, np.float32), SR, "empty"),
        (np.zeros((2, SR * 20), np.float32), SR, "mono"),
        (np.full(SR * 20, np.nan, np.float32), SR, "NaN"),
        (np.zeros(400 * 20, np.float32), 400, "too low"),
        (np.array(["a", "b"]), SR, "numeric"),
    ],
)
def test_bad_input_is_refused(audio, rate, match):
    with pytest.raises(InputError, match=match):
        detect_hum(audio, rate)


def test_a_file_s_hum_comes_with_its_evidence(tmp_path):
    from geoforensics.evidence import gather_evidence

    path = tmp_path / "hum.wav"
    sf.write(path, noise(20, sr=44100) + hum(20, 60, 0.01, sr=44100), 44100)
    r = gather_evidence(path, hum=True).hum
    assert r is not None and r.grid_hz == 60 and r.duration_s == pytest.approx(20.0, abs=0.01)
    (tmp_path / "empty.wav").write_bytes(b"")
    with pytest.raises(InputError, match="empty"):
        gather_evidence(tmp_path / "empty.wav", hum=True)
