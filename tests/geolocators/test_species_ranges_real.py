"""The default engine end to end with the real BirdNET models and the real 1 deg land gallery."""

import numpy as np
import pytest

import geoforensics
from geoforensics.paths import shared_dir

XC = shared_dir() / "data" / "xc-dev" if shared_dir() else None


@pytest.mark.skipif(XC is None, reason="../shared/data/xc-dev not available")
def test_real_clip_lands_within_2500_km():
    # XC148645: Spanish Imperial Eagle, recorded in Spain at (39.84, -6.00) per labels.csv.
    pred = geoforensics.locate(XC / "audio" / "XC148645.mp3")
    assert pred.distance_to(39.8427, -5.9972) < 2500
    assert pred.evidence[0].scientific_name == "Aquila adalberti"
    assert pred.evidence[0].score > 0.9
    assert pred.top_k[0].place.endswith("ES")
    assert len(pred.windows) >= 10
    assert abs(pred.probs.sum() - 1) < 1e-9


def test_silence_gives_no_evidence_not_a_confident_pin():
    pred = geoforensics.locate(np.zeros(48000 * 5, np.float32), sample_rate=48000)
    assert pred.evidence == []
    assert pred.confidence_label == "none"
    assert any("no species evidence" in n for n in pred.notes)
    # only the one-sided recording-effort prior shapes it: no place is more than 3x the uniform value
    assert pred.probs.max() < 3.0 / len(pred.probs) and pred.entropy_ratio() > 0.95


def test_array_input_is_resampled():
    rng = np.random.default_rng(0)
    pred = geoforensics.locate(0.01 * rng.standard_normal(22050 * 4).astype(np.float32), sample_rate=22050)
    assert len(pred.windows) == 2
    assert pred.windows[-1].end_s == pytest.approx(4.0, abs=0.01)


def test_opt_in_prior_is_stated_and_pulls_toward_recorded_regions():
    from geoforensics.geolocators.species_ranges import SpeciesRangeGeolocator

    geo = SpeciesRangeGeolocator(prior="inat-test-density", prior_weight=1.0)
    pred = geo.predict(np.zeros(48000 * 3, np.float32), sample_rate=48000)
    assert any("prior 'inat-test-density'" in n for n in pred.notes)
    assert "prior inat-test-density:1" in pred.version
    # iNatSounds test recordings concentrate in North America and Europe
    lat, lon = pred.top_k[0].lat, pred.top_k[0].lon
    assert (25 < lat < 60 and -130 < lon < -60) or (35 < lat < 70 and -10 < lon < 40)
