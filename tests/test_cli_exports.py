"""Results where analysts work, from the command line: map layers, sound annotations and recorder dates
written by locate, check and analyze (issue: results where analysts already work)."""

from __future__ import annotations

import csv
import json
import shutil

import pytest

from geoforensics.cli import main
from geoforensics.paths import PROJECT_ROOT

EAGLE = PROJECT_ROOT / "examples" / "XC148645.mp3"
KAUAI = PROJECT_ROOT / "examples" / "kauai_with_european_birds.mp4"


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    try:
        code = main(argv)
    except SystemExit as e:
        code = int(e.code or 0)
    out = capsys.readouterr()
    return code, out.out, out.err


def test_check_writes_layers_and_a_raven_table_with_the_claim(tmp_path, capsys):
    geo, kml, sel = tmp_path / "e.geojson", tmp_path / "e.kml", tmp_path / "e.txt"
    code, _, err = run(["check", str(EAGLE), "--claim", "Sydney", "--max-duration", "12", "--geojson", str(geo),
                        "--kml", str(kml), "--labels", "raven", str(sel)], capsys)
    assert code == 0, err
    layers = json.loads(geo.read_text())
    kinds = {f["properties"]["kind"] for f in layers["features"]}
    assert {"guess", "region", "candidate", "claim", "distance"} <= kinds
    (claim,) = [f for f in layers["features"] if f["properties"]["kind"] == "claim"]
    assert (claim["properties"]["verdict"] == "mismatch"
            and claim["geometry"]["coordinates"][1] == pytest.approx(-33.87, abs=0.1))
    assert kml.read_text().startswith("<?xml") and "<kml" in kml.read_text()
    rows = list(csv.DictReader(sel.open(), delimiter="\t"))
    eagle = [r for r in rows if r["Species"] == "Aquila adalberti"]
    assert eagle and all(r["Lives At Claim"] == "no" for r in eagle), rows[:2]


def test_locate_many_files_writes_one_table_and_audacity_folders(tmp_path, capsys):
    two = [shutil.copy(EAGLE, tmp_path / "a.mp3"), shutil.copy(EAGLE, tmp_path / "b.mp3")]
    code, _, err = run(["locate", *map(str, two), "--max-duration", "9", "--labels", "audacity",
                        str(tmp_path / "tracks"), "--geojson", str(tmp_path / "all.geojson")], capsys)
    assert code == 0, err
    assert sorted(p.name for p in (tmp_path / "tracks").iterdir()) == ["a.mp3.txt", "b.mp3.txt"]
    first = (tmp_path / "tracks" / "a.mp3.txt").read_text().splitlines()[0].split("\t")
    assert float(first[0]) == 0.0 and float(first[1]) == 3.0 and "Aquila adalberti" in first[2]
    sources = {f["properties"].get("source") for f in json.loads((tmp_path / "all.geojson").read_text())["features"]}
    assert sources == {"a.mp3", "b.mp3"}


def test_a_recorder_s_file_name_gives_the_date_said_as_such_and_never_over_the_user_s(tmp_path, capsys):
    clip = shutil.copy(EAGLE, tmp_path / "SMM01234_20210514_053000.mp3")
    code, out, err = run(["check", str(clip), "--claim", "Madrid", "--max-duration", "9", "--json"], capsys)
    result = json.loads(out)
    assert result["date"] == "2021-05-14" and any("from the file name" in n for n in result["notes"])
    assert "from the file name" in err
    code, out, _ = run(["check", str(clip), "--claim", "Madrid", "--max-duration", "9", "--date", "2020-01", "--json"],
                       capsys)
    assert json.loads(out)["date"] == "2020-01"
    code, out, _ = run(["check", str(clip), "--claim", "Madrid", "--max-duration", "9", "--no-filename-date",
                        "--json"], capsys)
    assert json.loads(out)["date"] is None
    bad = shutil.copy(EAGLE, tmp_path / "SMM01234_20210230_053000.mp3")  # February 30th: looks like a date, is none
    code, out, err = run(["check", str(bad), "--claim", "Madrid", "--max-duration", "9", "--json"], capsys)
    assert code == 0 and json.loads(out)["date"] is None and "SMM01234_20210230_053000.mp3" in err


@pytest.mark.parametrize("argv, message", [
    (["--labels", "praat", "x.txt"], "--labels takes raven or audacity"),
    (["--labels", "raven", "-"], "--labels writes a file"),
])
def test_bad_export_options_are_refused_before_any_work(argv, message, tmp_path, capsys):
    code, _, err = run(["check", str(EAGLE), "--claim", "Madrid",
                        *[a.replace("x.", str(tmp_path / "x.")) for a in argv]], capsys)
    assert code == 2 and (message in err or "refusing to overwrite" in err or "must be" in err), err
