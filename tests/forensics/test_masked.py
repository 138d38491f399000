"""The claim check under speech, music and sounds without animals, through BirdNET and the shipped range
model: a soundtrack the animals cannot be heard in is inconclusive, with the reason, never a mismatch."""

from __future__ import annotations

import numpy as np
import pytest

from benchmarks import distractors as D
from geoforensics.forensics.checker import claim_checker
from geoforensics.paths import PROJECT_ROOT

MADRID, SYDNEY = (40.4, -3.7), (-33.9, 151.2)
SECONDS = 15.0
EXAMPLES = PROJECT_ROOT / "examples"


def verdicts(audio: np.ndarray) -> tuple[list[str], str | None]:
    checker = claim_checker(np.asarray(audio, np.float32), sample_rate=D.RATE)
    return [checker.check(c).verdict for c in (MADRID, SYDNEY)], checker.masked_reason


@pytest.mark.parametrize("kind", [
    pytest.param(k, marks=pytest.mark.skipif(not D.available(k), reason=f"the Debian tools for {k} are not installed"))
    for k in ("speech", "music")
])
def test_speech_or_music_alone_is_inconclusive_and_says_why(kind):
    found, reason = verdicts(D.distractor(kind, SECONDS, seed=4).mean(1))
    assert found == ["inconclusive", "inconclusive"]
    assert reason is not None and reason.endswith(f"{kind} covers the rest") and "birds audible in 0 of" in reason


def test_silence_is_inconclusive_for_want_of_species():
    found, reason = verdicts(np.zeros(int(SECONDS * D.RATE)))
    assert found == ["inconclusive", "inconclusive"]
    assert reason is None  # no species at all: inconclusive by the evidence rule, not the masking one


def test_a_tone_is_not_a_flufftail():
    t = np.arange(int(SECONDS * D.RATE)) / D.RATE
    found, reason = verdicts(0.3 * np.sin(2 * np.pi * 440 * t))  # BirdNET: Buff-spotted Flufftail, 0.64
    assert found == ["inconclusive", "inconclusive"]
    assert reason == "birds audible in 0 of 9 windows; a steady tone covers the rest"


def test_birds_heard_before_the_music_still_carry_the_verdict():
    checker = claim_checker(EXAMPLES / "eagle_under_music.mp4")
    far, near = checker.check(SYDNEY), checker.check(MADRID)
    assert checker.masked_reason is None
    assert (far.verdict, near.verdict) == ("mismatch", "consistent")
    assert far.soundtrack is not None and far.soundtrack["summary"].endswith("music covers the rest")
    assert "Aquila adalberti" in [e.scientific_name for e in far.evidence]


@pytest.mark.skipif(not D.available("music"), reason="Debian fluidsynth + fluid-soundfont-gm are not installed")
def test_a_bird_buried_under_music_all_through_is_masked():
    bird = D.bird_audio(EXAMPLES / "XC148645.mp3", max_duration_s=SECONDS)
    mixture = D.make_mixture(bird, "music", -12.0, seed=3)
    found, reason = verdicts(mixture.mix.mean(1))
    assert found == ["inconclusive", "inconclusive"] and reason is not None and "music" in reason
