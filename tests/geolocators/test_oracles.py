import numpy as np
import pytest

from geoforensics.geo.galleries import uniform_grid
from geoforensics.geo.geodesy import haversine_km
from geoforensics.geo.metrics import geolocation_metrics
from geoforensics.geolocators.oracles import ChecklistOracle

from ..ranges.fake import BumpRangeModel


@pytest.fixture(scope="module")
def model():
    rng = np.random.default_rng(1)
    centres = {f"sp{i}": (float(rng.uniform(-60, 70)), float(rng.uniform(-180, 180))) for i in range(400)}
    return BumpRangeModel(centres, radius_km=1200.0)


@pytest.fixture(scope="module")
def queries():
    rng = np.random.default_rng(2)
    return np.c_[rng.uniform(-50, 60, 60), rng.uniform(-170, 170, 60)]


def oracle(model, mode, tmp_path_factory, **kw):
    import os

    os.environ["GEOFORENSICS_CACHE"] = str(tmp_path_factory.getbasetemp() / "cache")
    return ChecklistOracle(mode, gallery=uniform_grid(3.0).latlon, range_model=model, seed=0, **kw)


def test_full_checklist_beats_keep_10(model, queries, tmp_path_factory):
    full = oracle(model, "full", tmp_path_factory)
    keep = oracle(model, "keep", tmp_path_factory)
    e_full = haversine_km(full.locate(queries), queries)
    e_keep = haversine_km(keep.locate(queries), queries)
    m_full, m_keep = geolocation_metrics(e_full), geolocation_metrics(e_keep)
    assert m_full["median_error"] < 250  # grid of 3 degrees: about 170 km at worst to the nearest point
    assert m_full["median_error"] < m_keep["median_error"]
    assert m_full["region"] > m_keep["region"]
    assert all(np.isfinite(list(m_keep.values())))


def test_corruption_is_exactly_what_is_documented(model, queries, tmp_path_factory):
    o = oracle(model, "corrupt", tmp_path_factory)
    true = o.checklists(queries[:5])
    bad = o.corrupt(true)
    assert not (bad & ~true).any()  # drop only omits species
    assert np.array_equal(bad.sum(1), true.sum(1) - np.round(0.5 * true.sum(1)).astype(int))
    swap = oracle(model, "corrupt", tmp_path_factory, corruption="swap").corrupt(true)
    assert np.array_equal(swap.sum(1), true.sum(1))
    keep = oracle(model, "keep", tmp_path_factory).corrupt(true)
    assert np.array_equal(keep.sum(1), np.minimum(true.sum(1), 10)) and not (keep & ~true).any()


def test_full_mode_is_hamming_distance(model, queries, tmp_path_factory):
    o = oracle(model, "full", tmp_path_factory)
    c = o.checklists(queries[:3])
    ll = o.log_likelihood(c)
    G = o.gallery_checklists().T.astype(bool)
    hamming = (c[:, None, :] != G[None]).sum(-1)
    assert np.array_equal(np.argmax(ll, 1), np.argmin(hamming, 1))


def test_predict_returns_geoprediction(model, tmp_path_factory):
    o = oracle(model, "full", tmp_path_factory)
    pred = o.predict((48.85, 2.35), light=True)
    assert abs(pred.probs.sum() - 1) < 1e-9 and pred.model == "oracle-full"
    assert pred.distance_to(48.85, 2.35) < 400
