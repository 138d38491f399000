import numpy as np
import pytest

from geoforensics.geo.galleries import uniform_grid
from geoforensics.geo.geodesy import haversine_km
from geoforensics.geo.metrics import geolocation_metrics
from geoforensics.geolocators.baselines import NaiveGeolocator, SpeciesVariantGeolocator
from geoforensics.geolocators.classification import CellClassifier
from geoforensics.geolocators.regression import RegressionGeolocator
from geoforensics.geolocators.species_ranges import SpeciesRangeGeolocator
from geoforensics.scoring import WindowScores

from ..ranges.fake import BumpRangeModel

PARIS, NEW_YORK, SYDNEY, NAIROBI = (48.85, 2.35), (40.7, -74.0), (-33.9, 151.2), (-1.3, 36.8)
CITIES = [PARIS, NEW_YORK, SYDNEY, NAIROBI]


def clustered(n_per=12, d=30, seed=0):
    """Features that say which of 4 cities a recording is near (plus noise), and locations near it."""
    rng = np.random.default_rng(seed)
    X, Y = [], []
    for k, c in enumerate(CITIES):
        for _ in range(n_per):
            x = rng.normal(0, 0.1, d)
            x[k] += 1.0
            X.append(x)
            Y.append((c[0] + rng.normal(0, 0.5), c[1] + rng.normal(0, 0.5)))
    return np.array(X, np.float32), np.array(Y)


def test_naive_lands_in_the_thousands_of_km():
    rng = np.random.default_rng(0)
    train = np.c_[rng.uniform(-60, 70, 500), rng.uniform(-180, 180, 500)]
    test = np.c_[rng.uniform(-60, 70, 300), rng.uniform(-180, 180, 300)]
    naive = NaiveGeolocator(seed=0).fit(None, train)
    pts = np.array([naive.predict(None, light=True).point for _ in test])
    assert all(any(np.allclose(p, t) for t in train[:]) for p in pts[:20])
    m = geolocation_metrics(haversine_km(pts, test))
    assert 5000 < m["median_error"] < 12000
    assert m["region"] < 0.05


@pytest.mark.parametrize("loss", ["euclidean", "haversine", "xyz"])
def test_regression_learns_separable_locations(loss):
    X, Y = clustered()
    geo = RegressionGeolocator(loss, epochs=300, lr=3e-3).fit(X, Y)
    assert geo.losses[-1] < geo.losses[0]
    pred = geo.predict(X[0], light=True)
    assert np.isfinite(pred.point).all() and abs(pred.probs.sum() - 1) < 1e-9
    m = geolocation_metrics(haversine_km(geo.locate(X), Y))
    assert np.isfinite(m["mean_error"]) and m["median_error"] < 2500


@pytest.mark.parametrize("levels", ["res0", "res2", "hier"])
def test_cell_classifier_finds_the_right_cell(levels):
    X, Y = clustered()
    geo = CellClassifier(levels, epochs=150, lr=3e-3).fit(X, Y)
    pts = np.array([geo.predict(x, light=True).point for x in X])
    m = geolocation_metrics(haversine_km(pts, Y))
    limit = {"res0": 1500, "res2": 400, "hier": 400}[levels]
    assert m["median_error"] < limit
    assert len(geo.gallery) == {"res0": 122, "res2": 5882, "hier": 5882}[levels]


@pytest.fixture
def engine(tmp_path, monkeypatch):
    monkeypatch.setenv("GEOFORENSICS_CACHE", str(tmp_path))
    model = BumpRangeModel({"paris": PARIS, "newyork": NEW_YORK, "sydney": SYDNEY, "nairobi": NAIROBI}, widespread=20)
    return SpeciesRangeGeolocator(gallery=uniform_grid(2.0).latlon, range_model=model)


def test_species_variants(engine):
    annotated = SpeciesVariantGeolocator("annotated", engine=engine)
    for light in (True, False):
        assert annotated.predict(("sydney",), light=light).distance_to(*SYDNEY) < 400
    s = np.zeros((3, 24), np.float32)
    s[:, 0] = 0.6  # paris, the best species
    s[1, 2] = 0.5  # sydney, second: ignored by top-1
    ws = WindowScores(np.arange(3.0), np.arange(3.0) + 3, s)
    top1 = SpeciesVariantGeolocator("top1", engine=engine)
    assert top1.window_scores(ws).scores[0, 2] == 0 and top1.window_scores(ws).scores[0, 0] == pytest.approx(0.6)
    assert top1.predict(ws, light=True).distance_to(*PARIS) < 400
    assert top1.predict(ws).model == "species-top1"
