"""geoforensics.audio.content: what each window holds, in generated sound with known content."""

from __future__ import annotations

import json

import numpy as np
import pytest

from geoforensics.audio.content import AUDIBLE_AT, KINDS, analyse_content
from geoforensics.defaults import WINDOW
from geoforensics.errors import InputError

RATE = 48_000
LABELS = ("Turdus merula", "Parus major", "Human vocal", "Engine", "Noise", "Dog")
SPECIES = np.array([True, True, False, False, False, False])


def chirps(seconds: float, level: float = 0.3) -> np.ndarray:
    """Sweeps from 6 to 3 kHz, 0.2 s every 0.5 s."""
    t = np.arange(int(seconds * RATE)) / RATE
    local = t % 0.5
    return (level * np.sin(2 * np.pi * np.cumsum(6000 - 15000 * local) / RATE) * (local < 0.2)).astype(np.float32)


def chords(seconds: float, level: float = 0.3) -> np.ndarray:
    """Triads of harmonic tones, a new chord every 0.75 s (C, F, G, A minor)."""
    t = np.arange(int(seconds * RATE)) / RATE
    roots = np.array([130.8, 174.6, 196.0, 220.0])[(t // 0.75).astype(int) % 4]
    x = sum(np.sin(2 * np.pi * k * r * roots * t) / k for r in (1.0, 1.26, 1.5) for k in range(1, 6))
    return (level * x / np.abs(x).max()).astype(np.float32)


def vowels(seconds: float) -> np.ndarray:
    """A voice-like buzz (120 Hz with formants) switched on and off four times a second: syllables."""
    t = np.arange(int(seconds * RATE)) / RATE
    f0 = 120 * (1 + 0.05 * np.sin(2 * np.pi * 0.7 * t))
    phase = 2 * np.pi * np.cumsum(f0) / RATE
    x = sum(np.sin(k * phase) * np.exp(-(((k * 120) - 600) / 500) ** 2) for k in range(1, 30))
    return (0.3 * x / np.abs(x).max() * (np.sin(2 * np.pi * 4 * t) > 0)).astype(np.float32)


def scores(n: int, **per_class: float | np.ndarray) -> np.ndarray:
    s = np.zeros((n, len(LABELS)), np.float32)
    for name, v in per_class.items():
        s[:, LABELS.index(name.replace("_", " "))] = v
    return s


def analyse(x: np.ndarray, s: np.ndarray | None = None):
    return analyse_content(x, RATE, s, labels=LABELS if s is not None else None, is_species=SPECIES, window=WINDOW)


def test_silence_is_silence_and_not_masked():
    c = analyse(np.zeros(12 * RATE, np.float32), scores(7))
    assert len(c) == 7 and c.dominant == ["silence"] * 7
    assert not c.masked.any() and c.masked_reason() is None
    assert c.summary() == "birds audible in 0 of 7 windows; the rest is quiet"


def test_birds_heard_everywhere():
    x = chirps(12)
    c = analyse(x, scores(7, Turdus_merula=0.9))
    assert c.audible.all() and c.dominant == ["animal"] * 7
    assert c.summary() == "birds audible in 7 of 7 windows" and c.masked_reason() is None
    assert c.level_dbfs == pytest.approx(20 * np.log10(0.3 * np.sqrt(0.2)), abs=1.5)  # chirps 40 % of the time


def test_music_covers_the_rest():
    x = np.concatenate([chirps(6), chords(9)])
    n = 9
    animal = np.where(np.arange(n) < 3, 0.9, 0.0)
    c = analyse(x, scores(n, Turdus_merula=animal))
    assert c.dominant[-4:] == ["music"] * 4
    assert c.summary() == "birds audible in 3 of 9 windows; music covers the rest"
    assert c.masked_reason() is None  # three windows with a bird still carry evidence


def test_pure_music_speech_and_a_tone_are_masked_with_a_reason():
    music = analyse(chords(12), scores(7))
    assert music.dominant == ["music"] * 7
    assert music.masked_reason() == "birds audible in 0 of 7 windows; music covers the rest"
    speech = analyse(vowels(12), scores(7, Human_vocal=0.8))
    assert speech.dominant == ["speech"] * 7
    assert speech.masked_reason() == "birds audible in 0 of 7 windows; speech covers the rest"
    t = np.arange(12 * RATE) / RATE
    tone = analyse((0.3 * np.sin(2 * np.pi * 440 * t)).astype(np.float32), scores(7))
    assert tone.dominant == ["noise"] * 7 and tone.masked.all()
    assert tone.toned.all()
    assert tone.masked_reason() == "birds audible in 0 of 7 windows; a steady tone covers the rest"
    heard = analyse((0.3 * np.sin(2 * np.pi * 440 * t)).astype(np.float32), scores(7, Turdus_merula=0.64))
    assert not heard.audible.any()  # BirdNET's bird in a pure tone is the tone (it hears a Buff-spotted Flufftail)


def test_a_field_recordings_background_is_not_masking():
    rng = np.random.default_rng(1)
    x = (0.05 * rng.standard_normal(15 * RATE)).astype(np.float32)
    x[: 3 * RATE] += chirps(3)
    c = analyse(x, scores(9, Turdus_merula=np.r_[0.9, [0.0] * 8]))
    assert c.summary() == "birds audible in 1 of 9 windows; noise covers the rest"
    assert c.masked.mean() > 0.5 and c.masked_reason() is None


def test_speech_from_the_signal_alone():
    c = analyse(vowels(12))
    assert not c.has_birdnet
    assert np.all(c.presence[:, KINDS.index("speech")] > 0.5)
    assert c.summary() == "animals not assessed (no species scores); speech covers the rest"


def test_the_noise_floor_discounts_animal_scores():
    from geoforensics.scoring import discount

    x = chirps(12)
    floor = np.zeros(len(LABELS))
    floor[LABELS.index("Parus major")] = 0.6
    raw = scores(7, Parus_major=0.7)
    c = analyse_content(x, RATE, discount(raw, floor), labels=LABELS, is_species=SPECIES, window=WINDOW)
    assert c.presence[:, 0] == pytest.approx((0.7 - 0.6) / 0.4, abs=1e-6)
    assert not c.audible.any() and (0.7 - 0.6) / 0.4 < AUDIBLE_AT


def test_dog_counts_as_an_animal():
    c = analyse(chirps(6), scores(3, Dog=0.8))
    assert c.audible.all()


def test_json_and_bad_input():
    c = analyse(np.concatenate([chirps(6), chords(6)]), scores(7, Turdus_merula=np.r_[[0.9] * 3, [0.0] * 4]))
    d = json.loads(json.dumps(c.to_dict()))
    assert d["kinds"] == list(KINDS) and len(d["windows"]) == 7
    assert d["windows"][0]["audible"] and d["windows"][-1]["dominant"] == "music"
    assert sum(d["windows"][-1]["shares"].values()) == pytest.approx(1.0, abs=0.01)
    with pytest.raises(ValueError, match="rows of scores"):
        analyse(chirps(12), scores(3))
    with pytest.raises(InputError):
        analyse(np.zeros(0, np.float32))
