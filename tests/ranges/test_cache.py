import numpy as np

from geoforensics.geo.galleries import uniform_grid
from geoforensics.ranges import range_table
from geoforensics.ranges.cache import WeekRanges

from .fake import BumpRangeModel


def _model():
    return BumpRangeModel({"a": (48.85, 2.35), "b": (40.7, -74.0), "c": (-33.9, 151.2)})


def test_range_table_matches_model_and_is_cached(tmp_path):
    gallery = uniform_grid(10.0).latlon
    model = _model()
    t = range_table(model, gallery, -1, directory=tmp_path)
    assert t.values.shape == (3, len(gallery))
    assert isinstance(t.values, np.memmap)
    np.testing.assert_allclose(t.rows([1]), model.occurrence(gallery)[:, [1]].T, atol=1e-3)
    np.testing.assert_allclose(t.richness, model.occurrence(gallery).sum(1), rtol=1e-5)
    calls = model.calls
    again = range_table(model, gallery, -1, directory=tmp_path)
    assert model.calls == calls
    np.testing.assert_array_equal(np.asarray(again.values), np.asarray(t.values))
    assert len(list(tmp_path.glob("*.npy"))) == 2
    assert not list(tmp_path.glob("*tmp*"))


def test_range_table_keyed_by_week_and_gallery(tmp_path):
    model = _model()
    g10 = uniform_grid(10.0).latlon
    t1 = range_table(model, g10, -1, directory=tmp_path)
    t2 = range_table(model, g10, 20, directory=tmp_path)
    t3 = range_table(model, uniform_grid(15.0).latlon, -1, directory=tmp_path)
    assert not np.allclose(np.asarray(t1.values), np.asarray(t2.values))
    assert t3.values.shape[1] != t1.values.shape[1]


def test_week_ranges_equal_the_full_table_and_compute_each_week_once(tmp_path):
    model = _model()
    gallery = uniform_grid(10.0).latlon
    full = range_table(model, gallery, 12, directory=tmp_path / "full")
    week = WeekRanges(model, gallery, 12, directory=tmp_path)
    np.testing.assert_allclose(week.rows([2, 0]), full.rows([2, 0]), atol=1e-3)
    np.testing.assert_allclose(week.richness, full.richness, rtol=1e-5)
    calls = model.calls
    np.testing.assert_allclose(week.rows([0, 2]), full.rows([0, 2]), atol=1e-3)  # kept: no new model call
    assert model.calls == calls
    again = WeekRanges(model, gallery, 12, directory=tmp_path)  # a new process: the richness comes from disk
    np.testing.assert_allclose(again.richness, full.richness, rtol=1e-5)
    assert model.calls == calls
    (tmp_path / next(p.name for p in tmp_path.glob("*.richness.npy"))).write_bytes(b"")  # a damaged file is rebuilt
    np.testing.assert_allclose(WeekRanges(model, gallery, 12, directory=tmp_path).richness, full.richness, rtol=1e-5)
    assert model.calls > calls
