"""The claim check on a tiny fake world (known ranges), through the public protocol, and on the real flagship
example."""

from __future__ import annotations

import json

import numpy as np
import pytest

from geoforensics.audio.hum import HumResult
from geoforensics.errors import InputError
from geoforensics.forensics import checker as K
from geoforensics.forensics import claims as C
from geoforensics.forensics import results as R
from geoforensics.paths import PROJECT_ROOT

from .conftest import BERLIN, CHICAGO, MADRID, NEW_YORK, PARIS, SYDNEY
from .conftest import window_scores as scores


def test_the_right_place_is_consistent_and_a_far_one_a_mismatch(geo):
    checker = K.ClaimChecker(scores([0.97, 0.0, 0.0, 0.0], [0.9, 0.0, 0.0, 0.0]), geolocator=geo)
    here = checker.check(PARIS)
    far = checker.check(SYDNEY)
    assert here.verdict == "consistent" and here.mismatch_score <= K.CONSISTENT_AT
    assert far.verdict == "mismatch" and far.mismatch_score >= K.MISMATCH_AT
    assert far.log_bayes_factor > 0 > here.log_bayes_factor
    paris = far.evidence[0]
    assert paris.scientific_name == "paris" and paris.windows == 2 and paris.score == pytest.approx(0.97, abs=1e-4)
    assert not paris.lives_here and paris.nearest_km is not None
    # the bump lives >= 0.1 within about 1,700 km of Paris: the nearest such place is ~15,000 km from Sydney
    assert 14000 < paris.nearest_km < 17500
    assert here.evidence[0].lives_here and here.evidence[0].nearest_km == pytest.approx(0.0, abs=160)
    assert "MISMATCH" in far.text and "PARIS" in far.text


def test_within_the_tolerance_is_not_a_mismatch(geo):
    checker = K.ClaimChecker(scores([0.97, 0.0, 0.0, 0.0]), geolocator=geo)
    assert checker.check((PARIS[0] + 1.5, PARIS[1] + 1.5)).verdict == "consistent"


def test_one_weak_false_species_does_not_convict(geo):
    clean = K.ClaimChecker(scores([0.95, 0.9, 0.0, 0.0]), geolocator=geo).check(PARIS)
    noisy = K.ClaimChecker(scores([0.95, 0.9, 0.0, 0.3]), geolocator=geo).check(PARIS)
    assert clean.verdict == noisy.verdict == "consistent"


def test_no_animal_sound_is_inconclusive(geo):
    res = K.ClaimChecker(scores([0.01, 0.0, 0.02, 0.0]), geolocator=geo).check(SYDNEY)
    assert res.verdict == "inconclusive" and res.mismatch_score == 0.5 and res.evidence == []
    assert "No animal sound" in res.text


def _hum(hz: int | None, confidence: float = 1.0) -> HumResult:
    return HumResult(grid_hz=hz, confidence=confidence, reason="test")


def test_mains_hum_counts_for_or_against_the_claimed_grid(geo):
    ws = scores([0.01, 0.0, 0.0, 0.0])  # no species: the hum alone speaks
    against = K.ClaimChecker(ws, geolocator=geo, hum=_hum(50)).check(CHICAGO)
    fits = K.ClaimChecker(ws, geolocator=geo, hum=_hum(50)).check(BERLIN)
    assert against.hum.claim_grid_hz == 60 and against.hum.log_lr > 0
    assert fits.hum.claim_grid_hz == 50 and fits.hum.log_lr < 0
    assert against.mismatch_score > K.calibrated(0.0) > fits.mismatch_score
    none = K.ClaimChecker(ws, geolocator=geo, hum=_hum(None)).check(CHICAGO)
    assert none.hum.log_lr == 0 and none.verdict == "inconclusive"


def test_json_round_trip(geo):
    checker = K.ClaimChecker(scores([0.97, 0.0, 0.0, 0.8], [0.9, 0.0, 0.0, 0.0]), geolocator=geo, hum=_hum(60, 0.7))
    res = checker.check(C.Claim(*NEW_YORK, source="map"))
    again = R.ClaimCheck.from_json(res.to_json())
    assert again == res
    d = json.loads(res.to_json())
    assert {"file", "claim", "verdict", "mismatch_score", "evidence"} <= set(d)
    assert d["claim"]["source"] == "map" and d["claim"]["lat"] == pytest.approx(NEW_YORK[0])


@pytest.mark.slow
def test_flagship_example_is_a_mismatch_offline_and_its_source_fits():
    """Kauai footage with a Swedish soundtrack: Lihue is a mismatch, Stockholm consistent."""
    checker = K.claim_checker(PROJECT_ROOT / "examples" / "kauai_with_european_birds.mp4")
    kauai = checker.check("Lihue, Hawaii")
    assert kauai.verdict == "mismatch", kauai.text
    assert kauai.evidence[0].common_name == "Eurasian Blue Tit" and kauai.evidence[0].score > 0.9
    assert checker.check("Stockholm").verdict == "consistent"



class OnlyTheProtocol:
    """A geolocator of its own, not the species-ranges engine: a fixed per-species likelihood table over a
    five-point gallery, answering the claim check through SpeciesLikelihoodModel and nothing else."""

    name = "five-towns"

    def __init__(self) -> None:
        from geoforensics.models.birdnet import Labels

        self._gallery = np.array([PARIS, MADRID, NEW_YORK, SYDNEY, (0.0, 0.0)], dtype=np.float64)
        self._labels = Labels(("paris", "sydney"), ("Paris bird", "Sydney bird"))
        self._ranges = np.array([[1.0, 0.6, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 1.0, 0.0]], dtype=np.float32)

    @property
    def gallery(self) -> np.ndarray:
        return self._gallery

    @property
    def detection_threshold(self) -> float:
        return 0.1

    def species_names(self):
        return self._labels

    def likelihood(self, scores: np.ndarray, week: int = -1):
        from geoforensics.geolocators.base import SpeciesLikelihood

        q = scores.max(0) if len(scores) else np.zeros(2)
        idx = np.array([i for i in np.argsort(-q) if q[i] >= 0.1], dtype=np.int64)
        terms = np.log(q[idx, None] * self._ranges[idx] + (1 - q[idx, None]) * 0.1)
        return SpeciesLikelihood(idx, q, terms)

    def occurrence(self, species: np.ndarray, week: int = -1) -> np.ndarray:
        return self._ranges[np.asarray(species, dtype=np.int64)]

    def predict_from_scores(self, ws, week: int = -1, k: int = 5, light: bool = False):
        from geoforensics.prediction import GeoPrediction

        return GeoPrediction.from_log_scores(self._gallery, self.likelihood(ws.scores).log_surface, k=k, names=False,
                                             model=self.name, modality="audio")

    def point_of(self, probs: np.ndarray) -> tuple[float, float]:
        i = int(np.argmax(probs))
        return float(self._gallery[i, 0]), float(self._gallery[i, 1])


def test_any_geolocator_answering_the_protocol_backs_a_verdict():
    from geoforensics.geolocators.base import SpeciesLikelihoodModel
    from geoforensics.scoring import WindowScores

    geo = OnlyTheProtocol()
    assert isinstance(geo, SpeciesLikelihoodModel)
    ws = WindowScores(np.array([0.0, 1.5]), np.array([3.0, 4.5]), np.array([[0.95, 0.0], [0.9, 0.0]], np.float32), 4.5)
    checker = K.ClaimChecker(ws, geolocator=geo)
    paris, sydney = checker.check(PARIS), checker.check(SYDNEY)
    assert paris.log_bayes_factor < 0 < sydney.log_bayes_factor and sydney.mismatch_score > paris.mismatch_score
    assert (paris.evidence[0].common_name == "Paris bird" and paris.evidence[0].lives_here
            and paris.evidence[0].windows == 2)
    assert not sydney.evidence[0].lives_here and sydney.evidence[0].nearest_km == pytest.approx(16960, rel=0.01)


def test_a_geolocator_without_the_protocol_is_a_clear_input_error():
    from geoforensics.geolocators.registry import create_geolocator
    from geoforensics.scoring import WindowScores

    ws = WindowScores(np.zeros(1), np.full(1, 3.0), np.zeros((1, 2), np.float32), 3.0)
    with pytest.raises(InputError, match="'naive' does not"):
        K.ClaimChecker(ws, geolocator=create_geolocator("naive"))
    with pytest.raises(InputError, match="species likelihoods"):
        K.claim_checker(PROJECT_ROOT / "examples" / "XC132220.mp3", geolocator=object())  # refused before decoding
