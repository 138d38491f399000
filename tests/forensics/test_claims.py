"""The claim check on a tiny fake world (known ranges), and on the real flagship example."""

from __future__ import annotations

import json

import numpy as np
import pytest

from geoforensics.audio.hum import HumResult
from geoforensics.errors import InputError
from geoforensics.forensics import checker as K
from geoforensics.forensics import claims as C
from geoforensics.forensics import results as R
from geoforensics.forensics import splices as S
from geoforensics.geo.galleries import uniform_grid
from geoforensics.geolocators.species_ranges import SpeciesRangeGeolocator
from geoforensics.paths import PROJECT_ROOT
from geoforensics.scoring import WindowScores

from ..ranges.fake import BumpRangeModel

PARIS, MADRID, NEW_YORK, SYDNEY = (48.85, 2.35), (40.4, -3.7), (40.7, -74.0), (-33.9, 151.2)
BERLIN, CHICAGO = (52.52, 13.4), (41.88, -87.63)


@pytest.fixture
def geo(tmp_path, monkeypatch) -> SpeciesRangeGeolocator:
    monkeypatch.setenv("GEOFORENSICS_CACHE", str(tmp_path))
    model = BumpRangeModel({"paris": PARIS, "madrid": MADRID, "newyork": NEW_YORK, "sydney": SYDNEY},
                           radius_km=800.0, widespread=40)
    return SpeciesRangeGeolocator(gallery=uniform_grid(2.0).latlon, range_model=model)


def scores(*rows: list[float]) -> WindowScores:
    s = np.array(rows, dtype=np.float32)
    s = np.concatenate([s, np.zeros((len(s), 40), np.float32)], axis=1)
    n = len(s)
    return WindowScores(starts_s=np.arange(n) * 1.5, ends_s=np.arange(n) * 1.5 + 3.0, scores=s, duration_s=n * 1.5 + 1.5)


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


def test_a_splice_between_continents_is_found_and_a_single_place_is_not(geo):
    europe = [0.95, 0.0, 0.0, 0.0]
    australia = [0.0, 0.0, 0.0, 0.95]
    spliced = S.find_splice(scores(*([europe] * 8 + [australia] * 8)), geo)
    assert spliced.detected and spliced.change_s == pytest.approx(12.0)
    a, b = spliced.segments
    assert a.species == ["PARIS"] and b.species == ["SYDNEY"]
    assert spliced.distance_km > 10000
    plain = S.find_splice(scores(*([europe] * 16)), geo)
    assert not plain.detected
    mixed = S.find_splice(scores(*([europe, [0.0, 0.9, 0.0, 0.0]] * 8)), geo)  # Paris and Madrid birds together
    assert not mixed.detected


def test_short_clips_have_no_splice(geo):
    assert not S.find_splice(scores(*([[0.9, 0, 0, 0]] * 5)), geo).detected


@pytest.mark.parametrize(
    "text, latlon",
    [("22.05,-159.5", (22.05, -159.5)), ("22.05 N 159.5 W", (22.05, -159.5)), ("Lihue, Hawaii", (21.98, -159.37))],
)
def test_typed_claims(text, latlon):
    claim = C.resolve_claim(text)
    assert claim.source == "typed"
    assert claim.lat == pytest.approx(latlon[0], abs=0.05) and claim.lon == pytest.approx(latlon[1], abs=0.05)


def test_bad_claims_are_refused():
    for bad in ("91, 0", "", "zzqxv nowhere land"):
        with pytest.raises(InputError):
            C.resolve_claim(bad)
    with pytest.raises(InputError):
        C.resolve_claim(("north", 3))


@pytest.mark.slow
def test_flagship_example_is_a_mismatch_offline_and_its_source_fits():
    """Kauai footage with a Swedish soundtrack: Lihue is a mismatch, Stockholm consistent."""
    checker = K.claim_checker(PROJECT_ROOT / "examples" / "kauai_with_european_birds.mp4")
    kauai = checker.check("Lihue, Hawaii")
    assert kauai.verdict == "mismatch", kauai.text
    assert kauai.evidence[0].common_name == "Eurasian Blue Tit" and kauai.evidence[0].score > 0.9
    assert checker.check("Stockholm").verdict == "consistent"
