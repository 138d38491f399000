"""``geoforensics batch`` with a claims (deployments) CSV, recorder file-name dates and the exports (issue 24):
the inputs, the claim check of each row, older OUT files, the map layers and labels; and one real batch on Ray."""

from __future__ import annotations

import csv
import json
import shutil

import pyarrow as pa
import pyarrow.parquet as pq
import pyogrio
import pytest

from geoforensics.batch import collect_inputs, read_results
from geoforensics.batch.engine import LocateSpec, locate_item
from geoforensics.batch.exports import write_batch_exports
from geoforensics.batch.sinks import COLUMNS, COLUMNS_V1, open_sink
from geoforensics.errors import InputError
from geoforensics.paths import PROJECT_ROOT
from tests.media import make_audio
from tests.test_batch import HAS_RAY, MAX_S, SHORT_CLIPS, XC, left_running, ray_env, stop
from tests.test_labels import read_raven

EAGLE = PROJECT_ROOT / "examples" / "XC148645.mp3"
SYDNEY, MADRID = (-33.87, 151.21), (40.42, -3.70)


def test_a_claims_csv_gives_places_and_dates_and_file_names_give_dates(tmp_path):
    site = tmp_path / "site"
    site.mkdir()
    moth = make_audio(site / "20210514_053000.wav", 1.0)  # AudioMoth
    meter = make_audio(site / "SMA01234_20200601_060000.wav", 1.0)  # Song Meter
    plain = make_audio(site / "dawn.wav", 1.0)
    claims = tmp_path / "deployments.csv"
    claims.write_text(f"file,latitude,longitude,date,site\nsite/{moth.name},51.5,-0.1,,A\n{meter},-33.9,151.2,2020-06-02,B\n")
    items, _ = collect_inputs([str(site)], claims=str(claims))
    by_id = {i.audio_id: i for i in items}
    assert sorted(by_id) == ["20210514_053000", "SMA01234_20200601_060000", "dawn"]
    assert (by_id["20210514_053000"].date, by_id["20210514_053000"].date_source) == ("2021-05-14", "file name")
    assert (by_id["20210514_053000"].claim_latitude, by_id["20210514_053000"].claim_longitude) == (51.5, -0.1)
    assert (by_id["SMA01234_20200601_060000"].date, by_id["SMA01234_20200601_060000"].date_source) == (
        "2020-06-02", "claims CSV")  # the CSV's date wins over the file name's
    assert (by_id["dawn"].date, by_id["dawn"].claim_latitude) == (None, None)
    given, _ = collect_inputs([str(site)], "2019-03", claims=str(claims))
    assert {i.audio_id: (i.date, i.date_source) for i in given}["20210514_053000"] == ("2019-03", "--date")
    off, _ = collect_inputs([str(site)], filename_dates=False)
    assert {i.date for i in off} == {None}
    only_csv, _ = collect_inputs([], claims=str(claims))  # the CSV's files are the inputs
    assert sorted(i.audio_id for i in only_csv) == ["site/20210514_053000", "site/SMA01234_20200601_060000"]
    assert plain.exists()


@pytest.mark.parametrize(("body", "message"), [
    ("path,lat,lon\nsite/a.wav,1,2\nsite/a.wav,3,4\n", "another place or date than line 2"),
    ("file,lat,lon\nsite/missing.wav,1,2\n", "line 2: no such file"),
    ("recording,where\nsite/a.wav,Paris\n", "no file column"),
    ("file,lat,lon\nsite/a.wav,95,2\n", "line 2"),
    ("file,lat,lon,date\nsite/a.wav,1,2,20210514garbage\n", "line 2: unreadable date"),
])
def test_a_bad_claims_csv_is_refused_with_its_line(tmp_path, body, message):
    (tmp_path / "site").mkdir()
    make_audio(tmp_path / "site" / "a.wav", 1.0)
    claims = tmp_path / "claims.csv"
    claims.write_text(body)
    with pytest.raises(InputError, match=message):
        collect_inputs([], claims=str(claims))


def test_a_deployed_recording_gets_its_verdict_and_range_flags():
    spec = LocateSpec.of(max_duration_s=MAX_S)
    geo = spec.geolocator()
    item = {"audio_id": "eagle", "path": str(EAGLE), "date": "", "date_source": ""}
    far = locate_item(geo, {**item, "claim_latitude": str(SYDNEY[0]), "claim_longitude": str(SYDNEY[1])}, spec)
    near = locate_item(geo, {**item, "claim_latitude": str(MADRID[0]), "claim_longitude": str(MADRID[1])}, spec)
    plain = locate_item(geo, item, spec)
    assert far["error"] is None and (far["verdict"], near["verdict"]) == ("mismatch", "consistent")
    assert far["mismatch_score"] > 0.5 > near["mismatch_score"]
    assert far["range_flags"].startswith("Aquila adalberti (score 1.00, occurrence 0.00, nearest 17,")
    assert "Aquila adalberti" not in (near["range_flags"] or "")
    assert (far["latitude"], far["longitude"]) == (plain["latitude"], plain["longitude"])  # the same guess
    assert "verdict" not in plain and plain["claim_latitude"] is None


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_an_out_from_before_claims_is_resumed_and_given_the_new_columns(tmp_path, suffix):
    out = tmp_path / f"out{suffix}"
    old = {"audio_id": "a", "latitude": 1.5, "longitude": 2.5, "confidence": 0.25, "date": "2021-05-14",
           "elapsed_s": 0.5, "path": "/a/a.mp3"}
    if suffix == ".csv":
        with open(out, "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(COLUMNS_V1)
            w.writerow([old.get(c, "") for c in COLUMNS_V1])
    else:
        pq.write_table(pa.Table.from_pylist([{c: old.get(c) for c in COLUMNS_V1}]), out)
    with open_sink(out) as sink:
        assert sink.done() == {"a": False}
        sink.write({"audio_id": "b", "latitude": 3.0, "longitude": 4.0, "verdict": "mismatch", "mismatch_score": 0.97,
                    "claim_latitude": 5.0, "claim_longitude": 6.0, "range_flags": "X y (score 0.50, ...)"})
    rows = read_results(out)
    assert [(r["audio_id"], r["latitude"], r["date"], r["verdict"]) for r in rows] == [
        ("a", 1.5, "2021-05-14", None), ("b", 3.0, None, "mismatch")]
    if suffix == ".csv":
        assert out.read_text().splitlines()[0] == ",".join(COLUMNS)


def test_the_exports_of_a_batch_open_in_their_tools(tmp_path):
    out = tmp_path / "out.csv"
    spec = LocateSpec.of(max_duration_s=MAX_S, cache=True)
    item = {"audio_id": "eagle", "path": str(EAGLE), "date": "2009-05-14", "date_source": "claims CSV",
            "claim_latitude": str(SYDNEY[0]), "claim_longitude": str(SYDNEY[1])}
    with open_sink(out) as sink:
        sink.write(locate_item(spec.geolocator(), item, spec))
        sink.write({"audio_id": "broken", "error": "not audio", "path": "/x/broken.mp3"})
    geojson, kml, raven = tmp_path / "b.geojson", tmp_path / "b.kml", tmp_path / "b.txt"
    written = write_batch_exports(out, spec, gis=[geojson, kml], labels=("raven", str(raven)), threshold=0.5)
    assert written == [geojson, kml, raven]
    feats = json.loads(geojson.read_text())["features"]
    assert [f["properties"]["kind"] for f in feats] == ["distance", "claim", "recording", "recording"]
    claim = feats[1]["properties"]
    assert claim["verdict"] == "mismatch" and "Aquila adalberti" in claim["range_flags"]
    assert feats[0]["properties"]["distance_km"] > 15_000  # Spain to Sydney
    assert len(pyogrio.raw.read(geojson)[2]) == 4
    assert kml.read_text().count("<Placemark") == 4
    rows = read_raven(raven.read_text())
    assert rows and {r["Begin File"] for r in rows} == {"XC148645.mp3"}
    eagle = [r for r in rows if r["Species"] == "Aquila adalberti"]
    assert eagle and {r["Lives At Claim"] for r in eagle} == {"no"} and float(eagle[0]["Occurrence At Claim"]) < 0.05


@pytest.mark.slow
@pytest.mark.skipif(not HAS_RAY or XC is None, reason="needs ray[data] and ../shared/data/xc-dev")
def test_a_batch_with_deployments_flags_and_exports_on_ray(tmp_path):
    labels = {r["file"]: r for r in csv.DictReader(open(XC / "labels.csv"))}
    claims = tmp_path / "deployments.csv"
    with open(claims, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["file", "lat", "lon", "date"])
        for name in SHORT_CLIPS:
            r = labels[f"audio/{name}.mp3"]
            w.writerow([XC / "audio" / f"{name}.mp3", r["lat"], r["lon"], r["date"]])
    env = ray_env(tmp_path / "cache")
    out = tmp_path / "out.csv"
    try:
        done = env.cli("batch", "--claims", str(claims), "--out", str(out), "--max-duration", str(MAX_S), "--quiet",
                       "--workers", "2", "--geojson", str(tmp_path / "out.geojson"),
                       "--labels", "audacity", str(tmp_path / "labels"))
        assert done.returncode == 0, done.stderr[-3000:]
        rows = read_results(out)
        assert sorted(r["audio_id"] for r in rows) == sorted(SHORT_CLIPS)
        assert all(r["verdict"] in ("consistent", "inconclusive", "mismatch") and r["date_source"] == "claims CSV"
                   for r in rows)
        assert all(r["claim_latitude"] is not None and r["mismatch_score"] is not None for r in rows)
        assert sorted(p.name for p in (tmp_path / "labels").iterdir()) == sorted(f"{n}.mp3.txt" for n in SHORT_CLIPS)
        assert len(json.loads((tmp_path / "out.geojson").read_text())["features"]) == 9
        assert not left_running(env.marker)
    finally:
        stop(env.marker)
        shutil.rmtree(env.tmp, ignore_errors=True)
