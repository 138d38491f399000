import os
from dataclasses import replace

import h3
import numpy as np
import pytest

from geoforensics.errors import InputError
from geoforensics.geo import galleries
from geoforensics.geo.galleries import (
    Gallery,
    dedupe,
    from_csv,
    gallery_cache_path,
    get_gallery,
    grid_centres,
    h3_neighbours,
    land_grid,
    list_galleries,
    uniform_grid,
)
from geoforensics.paths import shared_dir


@pytest.fixture(autouse=True)
def fresh_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("GEOFORENSICS_CACHE", str(tmp_path / "cache"))
    galleries.clear_memory_cache()
    yield
    galleries.clear_memory_cache()


def _contains(latlon: np.ndarray, point: tuple[float, float]) -> bool:
    return bool(np.any(np.all(np.isclose(latlon, point), axis=1)))


def test_uniform_grid_counts_and_order():
    g1 = uniform_grid(1)
    assert isinstance(g1, Gallery) and len(g1) == 64_800 and g1.latlon.dtype == np.float64
    assert g1.latlon[0].tolist() == [89.5, -179.5]
    assert g1.latlon[1].tolist() == [89.5, -178.5]
    assert g1.latlon[360].tolist() == [88.5, -179.5]
    assert g1.latlon[-1].tolist() == [-89.5, 179.5]
    assert len(uniform_grid(0.5)) == 259_200
    assert len(np.unique(g1.latlon, axis=0)) == 64_800


def test_grid_step_must_divide_180():
    with pytest.raises(InputError, match="divide 180"):
        grid_centres(0.7)
    with pytest.raises(InputError):
        grid_centres(0)


def test_land_grid():
    g = land_grid(1)
    assert len(g) == 21_546
    assert _contains(g.latlon, (48.5, 2.5))
    assert not _contains(g.latlon, (30.5, -40.5))
    assert _contains(g.latlon, (-80.5, 0.5))  # Antarctica is land for global_land_mask
    assert int((g.latlon[:, 0] > -60).sum()) == 15_483
    assert len(land_grid(0.5)) == 85_968


def test_from_csv_autodetects_columns_and_dedupes(tmp_path):
    p = tmp_path / "locs.csv"
    p.write_text("name,Latitude,LNG\na,48.85,2.35\nb,-33.87,151.21\nc,48.85,2.35\nd,10,180\ne,10,-180\n")
    g = from_csv(p)
    assert g.latlon.tolist() == [[48.85, 2.35], [-33.87, 151.21], [10.0, 180.0]]
    assert len(from_csv(p, unique=False)) == 5
    assert g.name == f"csv:{p}"


def test_from_csv_named_columns(tmp_path):
    p = tmp_path / "locs.csv"
    p.write_text("y,x\n1.5,2.5\n")
    assert from_csv(p, lat_col="y", lon_col="x").latlon.tolist() == [[1.5, 2.5]]
    with pytest.raises(InputError, match="no latitude column"):
        from_csv(p)
    with pytest.raises(InputError, match="no latitude column 'lat'"):
        from_csv(p, lat_col="lat", lon_col="x")


@pytest.mark.parametrize(
    "body, message",
    [
        ("lat,lon\n10,20\n95,20\n", r"line 3: latitude 95 is outside \[-90, 90\]"),
        ("lat,lon\n10,200\n", r"line 2: longitude 200 is outside \[-180, 180\]"),
        ("lat,lon\n10,20\nabc,20\n", r"line 3: latitude is not a number"),
        ("lat,lon\nnan,20\n", r"line 2: latitude 'nan' is not a finite number"),
        ("lat,lon\n10,\n", r"line 2: longitude is missing"),
        ("lat,lon\n10\n", r"line 2 has 1 fields"),
        ("lat,lon\n", r"no data rows"),
        ("", r"empty"),
        ("a,b\n1,2\n", r"no latitude column"),
    ],
)
def test_bad_csv_errors(tmp_path, body, message):
    p = tmp_path / "bad.csv"
    p.write_text(body)
    with pytest.raises(InputError, match=message):
        from_csv(p)


def test_missing_csv(tmp_path):
    with pytest.raises(InputError, match="no such file"):
        from_csv(tmp_path / "nope.csv")
    with pytest.raises(InputError, match="no such file"):
        get_gallery(f"csv:{tmp_path / 'nope.csv'}")


def test_h3_neighbours_one_point():
    g = h3_neighbours([(48.85, 2.35)], res=2, k=1)
    assert len(g) == 7
    centre = h3.latlng_to_cell(48.85, 2.35, 2)
    assert _contains(g.latlon, h3.cell_to_latlng(centre))
    assert {h3.latlng_to_cell(lat, lon, 2) for lat, lon in g.latlon} == set(h3.grid_disk(centre, 1))
    assert len(h3_neighbours([(48.85, 2.35)], res=2, k=0)) == 1
    assert len(h3_neighbours([(48.85, 2.35)], res=2, k=2)) == 19


def test_dedupe_keeps_first_in_order():
    pts = [(1, 2), (3, 4), (1.0000000001, 2), (5, 6), (3, 4)]
    assert dedupe(pts).tolist() == [[1, 2], [3, 4], [5, 6]]


def test_named_galleries():
    names = {"uniform-1", "uniform-0.5", "land-1", "land-0.5", "csv:PATH", "h3:PATH:RES:K", "geoclip-100k"}
    assert names <= set(list_galleries())
    assert len(get_gallery("uniform-1")) == 64_800
    assert len(get_gallery("uniform-0.5")) == 259_200
    assert len(get_gallery("land-1")) == 21_546
    assert len(get_gallery("land-0.5")) == 85_968
    assert get_gallery("uniform-1").name == "uniform-1"
    with pytest.raises(InputError, match="unknown gallery 'ocean-1'; known: csv:PATH, geoclip-100k, h3:PATH:RES:K"):
        get_gallery("ocean-1")
    with pytest.raises(InputError, match="expected h3:PATH:RES:K"):
        get_gallery("h3:foo.csv:2")


def test_h3_named_gallery(tmp_path):
    p = tmp_path / "train.csv"
    p.write_text("latitude,longitude\n48.85,2.35\n48.86,2.36\n")
    g = get_gallery(f"h3:{p}:2:1")
    assert len(g) == 7


def test_cache_written_and_reused(monkeypatch, tmp_path):
    calls = []
    real = galleries.GALLERIES["uniform"]
    monkeypatch.setitem(galleries.GALLERIES, "uniform", replace(real, build=lambda p: calls.append(p) or real.build(p)))
    path = gallery_cache_path("uniform", {"step": 2.0})
    assert not path.exists()
    a = get_gallery("uniform-2")
    assert len(a) == 16_200 and calls == [{"step": 2.0}]
    assert path.is_file() and path.parent == tmp_path / "cache" / "galleries"
    assert not [f for f in os.listdir(path.parent) if f.endswith(".tmp")]
    mtime = path.stat().st_mtime_ns
    assert get_gallery("uniform-2").latlon is a.latlon  # in-process cache
    galleries.clear_memory_cache()
    b = get_gallery("uniform-2")  # disk cache, no rebuild
    assert len(calls) == 1 and path.stat().st_mtime_ns == mtime
    np.testing.assert_array_equal(a.latlon, b.latlon)
    assert not b.latlon.flags.writeable


def test_csv_cache_keyed_by_content(tmp_path):
    p = tmp_path / "g.csv"
    p.write_text("lat,lon\n1,2\n")
    assert get_gallery(f"csv:{p}").latlon.tolist() == [[1, 2]]
    p.write_text("lat,lon\n1,2\n3,4\n")
    assert get_gallery(f"csv:{p}").latlon.tolist() == [[1, 2], [3, 4]]
    assert len(list((tmp_path / "cache" / "galleries").glob("csv-*.npy"))) == 2


def test_corrupt_cache_file_is_rebuilt():
    path = gallery_cache_path("uniform", {"step": 30.0})
    path.write_bytes(b"not an npy file")
    assert len(get_gallery("uniform-30")) == 72


@pytest.mark.skipif(shared_dir() is None, reason="needs ../shared")
def test_gold_location_galleries():
    gold = shared_dir() / "data" / "benchmark-gold" / "xcdc_gold.csv"
    assert len(from_csv(gold, unique=False)) == 576
    assert len(get_gallery(f"csv:{gold}")) == 279
    assert len(get_gallery(f"h3:{gold}:2:1")) == 253


# ---------------------------------------------------------------- issue 14: bounded sizes, no file contents in errors


@pytest.mark.parametrize("name", ["uniform-0.001", "land-0.1", "uniform-0.25", "land-1e-9"])
def test_grids_finer_than_the_minimum_are_refused_at_once(name):
    with pytest.raises(InputError, match=r"finer than the finest allowed, 0\.5 degrees") as e:
        get_gallery(name)
    assert "259,200" in str(e.value)


@pytest.mark.parametrize("name", ["uniform-nan", "uniform-inf", "land--1", "uniform-0", "uniform-7"])
def test_bad_grid_steps_are_refused(name):
    with pytest.raises(InputError):
        get_gallery(name)


def test_csv_galleries_over_the_row_limit_are_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(galleries, "MAX_GALLERY_POINTS", 3)
    p = tmp_path / "many.csv"
    p.write_text("lat,lon\n" + "".join(f"{i},{i}\n" for i in range(4)))
    with pytest.raises(InputError, match="more than 3 data rows"):
        from_csv(p)
    p.write_text("lat,lon\n" + "".join(f"{i},{i}\n" for i in range(3)))
    assert len(from_csv(p)) == 3
    monkeypatch.setattr(galleries, "MAX_CSV_BYTES", 10)
    with pytest.raises(InputError, match="larger than"):
        get_gallery(f"csv:{p}")


def test_h3_galleries_are_bounded(tmp_path):
    with pytest.raises(InputError, match="too large"):
        h3_neighbours([(48.85, 2.35)], res=8, k=2000)
    assert len(h3_neighbours([(48.85, 2.35)], res=0, k=50)) == 122  # a huge k at res 0 is all 122 cells


def test_errors_never_quote_the_file(tmp_path):
    secret = "root:$6$s3cr3tHash:19000:0:99999:7:::"
    shadow = tmp_path / "shadow"
    shadow.write_text(secret + "\ndaemon:*:19000:0:99999:7:::\n")
    for name in (f"csv:{shadow}", f"h3:{shadow}:2:1"):
        with pytest.raises(InputError) as e:
            get_gallery(name)
        assert "s3cr3t" not in str(e.value) and "daemon" not in str(e.value)
        assert "shadow" in str(e.value) and "line 1" in str(e.value)
    bad = tmp_path / "bad.csv"
    bad.write_text("lat,lon\n10,20\npassword123,20\n")
    with pytest.raises(InputError, match="line 3: latitude is not a number") as e:
        from_csv(bad)
    assert "password123" not in str(e.value)


def test_a_fifo_or_folder_is_not_a_gallery(tmp_path):
    fifo = tmp_path / "pipe.csv"
    os.mkfifo(fifo)
    for target in (fifo, tmp_path):
        with pytest.raises(InputError, match="not a file"):
            get_gallery(f"csv:{target}")
