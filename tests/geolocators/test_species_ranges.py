import numpy as np
import pytest

from geoforensics.geo.galleries import uniform_grid
from geoforensics.geo.geodesy import haversine_km
from geoforensics.geolocators.species_ranges import NO_EVIDENCE_NOTE, SpeciesRangeGeolocator
from geoforensics.scoring import WindowScores

from ..ranges.fake import BumpRangeModel

PARIS, NEW_YORK, SYDNEY, MADRID = (48.85, 2.35), (40.7, -74.0), (-33.9, 151.2), (40.4, -3.7)


@pytest.fixture
def geo(tmp_path, monkeypatch):
    monkeypatch.setenv("GEOFORENSICS_CACHE", str(tmp_path))
    model = BumpRangeModel({"paris": PARIS, "madrid": MADRID, "newyork": NEW_YORK, "sydney": SYDNEY}, widespread=40)
    return SpeciesRangeGeolocator(gallery=uniform_grid(2.0).latlon, range_model=model, prior=None)


def scores(*rows):
    s = np.array(rows, dtype=np.float32)
    s = np.concatenate([s, np.zeros((len(s), 40), np.float32)], axis=1)
    n = len(s)
    return WindowScores(starts_s=np.arange(n) * 1.5, ends_s=np.arange(n) * 1.5 + 3, scores=s)


def test_two_species_meet_where_ranges_overlap(geo):
    pred = geo.predict_from_scores(scores([0.9, 0.9, 0.0, 0.0]))
    mid = ((PARIS[0] + MADRID[0]) / 2, (PARIS[1] + MADRID[1]) / 2)
    assert haversine_km(pred.point, mid) < 400
    assert abs(pred.probs.sum() - 1) < 1e-9
    assert pred.evidence[0].scientific_name in {"paris", "madrid"}
    assert pred.evidence[0].common_name in {"PARIS", "MADRID"}
    assert pred.confidence > 0.1


def test_weak_false_positive_does_not_veto(geo):
    clean = geo.predict_from_scores(scores([0.95, 0.0, 0.0, 0.0]))
    noisy = geo.predict_from_scores(scores([0.95, 0.0, 0.0, 0.3]))
    assert haversine_km(clean.point, PARIS) < 300
    assert haversine_km(noisy.point, PARIS) < 300
    syd = next(e for e in noisy.evidence if e.scientific_name == "sydney")
    assert syd.shift_km < 100


def test_evidence_shift_and_windows(geo):
    pred = geo.predict_from_scores(scores([0.9, 0.0, 0.0, 0.0], [0.0, 0.0, 0.8, 0.0], [0.9, 0.0, 0.0, 0.0]))
    ev = {e.scientific_name: e for e in pred.evidence}
    assert ev["paris"].windows == [0, 2]
    assert ev["newyork"].windows == [1]
    assert len(pred.windows) == 3
    assert haversine_km((pred.windows[1].lat, pred.windows[1].lon), NEW_YORK) < 300
    assert haversine_km((pred.windows[0].lat, pred.windows[0].lon), PARIS) < 300
    assert pred.windows[1].label == "NEWYORK"


def test_no_evidence_is_uniform_and_says_so(geo):
    pred = geo.predict_from_scores(scores([0.01, 0.0, 0.02, 0.0]))
    assert pred.entropy_ratio() > 0.999
    assert pred.confidence == 0.0
    assert pred.confidence_label == "none"
    assert NO_EVIDENCE_NOTE in pred.notes
    assert pred.evidence == []
    assert pred.windows[0].lat is None


def test_week_uses_dated_ranges(geo):
    undated = geo.predict_from_scores(scores([0.9, 0.0, 0.0, 0.0]))
    dated = geo.predict_from_scores(scores([0.9, 0.0, 0.0, 0.0]), week=20)
    assert dated.probs.max() > 1.5 * undated.probs.max()
    assert "week 20" in dated.version


def test_score_columns_must_match_species(geo):
    with pytest.raises(ValueError, match="species scores"):
        geo.predict_from_scores(WindowScores(np.zeros(1), np.full(1, 3.0), np.zeros((1, 2), np.float32)))


def test_result_round_trips_through_json(geo):
    from geoforensics.prediction import GeoPrediction

    pred = geo.predict_from_scores(scores([0.9, 0.9, 0.0, 0.0]))
    back = GeoPrediction.from_json(pred.to_json(surface="full"))
    assert back.point == pytest.approx(pred.point)
    assert [e.scientific_name for e in back.evidence] == [e.scientific_name for e in pred.evidence]
    assert back.windows[0].label == pred.windows[0].label


def test_weak_evidence_is_flagged(geo):
    pred = geo.predict_from_scores(scores([0.2, 0.0, 0.0, 0.0]))
    assert any(n.startswith("weak species evidence") for n in pred.notes)
    strong = geo.predict_from_scores(scores([0.9, 0.0, 0.0, 0.0]))
    assert not any(n.startswith("weak") for n in strong.notes)


def test_a_cut_recording_says_so_in_the_notes(geo):
    ws = scores([0.9, 0.0, 0.0, 0.0])
    ws.duration_s, ws.source_duration_s = 600.0, 7200.0
    assert any(n.startswith("analysed the first 600 s of 7,200 s") for n in geo.predict_from_scores(ws).notes)
    ws.source_duration_s = 600.0
    assert not any("analysed the first" in n for n in geo.predict_from_scores(ws).notes)


def test_the_default_prior_only_lowers_empty_places(tmp_path, monkeypatch):
    """With the default photo-density prior and no evidence, busy places keep equal weight and
    Antarctica is ten times less likely; the result still says there is no species evidence."""
    monkeypatch.setenv("GEOFORENSICS_CACHE", str(tmp_path))
    model = BumpRangeModel({"paris": PARIS}, widespread=40)
    geo = SpeciesRangeGeolocator(gallery=uniform_grid(2.0).latlon, range_model=model)
    assert geo.prior == "photo-density" and geo.prior_weight == 1.0
    pred = geo.predict_from_scores(scores([0.01]))
    g = geo.gallery
    p_paris = pred.probs[np.argmin(haversine_km(g, PARIS))]
    p_ny = pred.probs[np.argmin(haversine_km(g, NEW_YORK))]
    p_pole = pred.probs[np.argmin(haversine_km(g, (-85.0, 0.0)))]
    assert p_paris == pytest.approx(p_ny) and p_pole == pytest.approx(p_paris / 10, rel=0.05)
    assert pred.confidence == 0.0 and NO_EVIDENCE_NOTE in pred.notes
    assert any("photo-density" in n for n in pred.notes)
