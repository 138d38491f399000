"""The noise floor: what BirdNET hears in sound with no animal in it is not taken as evidence."""

from __future__ import annotations

import json

import numpy as np

from geoforensics.forensics import noise
from geoforensics.forensics.checker import claim_checker
from geoforensics.scoring import discount, noise_floor


def test_the_shipped_table_names_the_known_false_species():
    table = json.loads(noise.TABLE.read_text())
    assert table["command"] == "python -m geoforensics.forensics.noise"
    assert table["floor"]["Dryobates minor"] > 0.5  # white noise scores as a Lesser Spotted Woodpecker
    assert set(table["signals"]) == {name for name, _ in noise.non_animal_signals()}


def test_discount_removes_the_floor_and_keeps_real_scores():
    floor = noise_floor()
    i = int(np.nonzero(floor > 0.5)[0][0])
    j = int(np.nonzero(floor == 0)[0][0])
    s = np.zeros((2, len(floor)), np.float32)
    s[0, i], s[1, i], s[0, j] = floor[i], 1.0, 0.9
    d = discount(s)
    assert d[0, i] == 0.0 and d[1, i] == 1.0 and d[0, j] == np.float32(0.9)


def test_held_out_signals_are_not_the_corpus():
    built = {name: x for name, x in noise.non_animal_signals()}
    for name, x in noise.held_out_signals():
        assert (name not in built or name == "silence") and len(x) == int(noise.SECONDS * noise.SAMPLE_RATE)


def test_white_noise_gives_no_verdict():
    rng = np.random.default_rng(7)
    x = (0.05 * rng.standard_normal(48000 * 12)).astype(np.float32)
    checker = claim_checker(x, sample_rate=48000, hum=False)
    res = checker.check("22.05, -159.5")
    assert res.verdict == "inconclusive", res.text
