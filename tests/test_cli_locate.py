import csv
import json
import subprocess
import sys

import pytest

from geoforensics.cli import main
from geoforensics.paths import shared_dir

XC = shared_dir() / "data" / "xc-dev" if shared_dir() else None


def test_locate_help():
    with pytest.raises(SystemExit) as e:
        main(["locate", "--help"])
    assert e.value.code == 0


def test_top_level_help_lists_commands(capsys):
    with pytest.raises(SystemExit):
        main(["--help"])
    out = capsys.readouterr().out
    assert "locate" in out and "evaluate" in out


def test_python_m_help():
    r = subprocess.run([sys.executable, "-m", "geoforensics", "--help"], capture_output=True, text=True)
    assert r.returncode == 0 and "locate" in r.stdout


def test_bad_file_is_a_clean_error(tmp_path):
    bad = tmp_path / "notes.mp3"
    bad.write_text("not audio")
    r = subprocess.run([sys.executable, "-m", "geoforensics", "locate", str(bad)], capture_output=True, text=True)
    assert r.returncode == 2
    assert "Traceback" not in r.stderr
    assert "error:" in r.stderr


def test_missing_file(tmp_path):
    r = subprocess.run([sys.executable, "-m", "geoforensics", "locate", str(tmp_path / "nope.wav")], capture_output=True, text=True)
    assert r.returncode == 2 and "no such file" in r.stderr


@pytest.mark.skipif(XC is None, reason="../shared/data/xc-dev not available")
def test_locate_json_csv_then_evaluate(tmp_path):
    clip = XC / "audio" / "XC148645.mp3"
    out_csv = tmp_path / "pred.csv"
    r = subprocess.run(
        [sys.executable, "-m", "geoforensics", "locate", str(clip), "--json", "--surface", "none", "--csv", str(out_csv)],
        capture_output=True,
        text=True,
    )
    assert r.returncode == 0, r.stderr
    d = json.loads(r.stdout.strip().splitlines()[-1])
    assert d["evidence"][0]["scientific_name"] == "Aquila adalberti"
    rows = list(csv.DictReader(out_csv.open()))
    assert rows[0]["audio_id"] == "XC148645"
    gold = tmp_path / "gold.csv"
    gold.write_text("audio_id,latitude,longitude\nXC148645,39.8427,-5.9972\n")
    r = subprocess.run([sys.executable, "-m", "geoforensics", "evaluate", str(out_csv), str(gold), "--json"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    m = json.loads(r.stdout)
    assert m["median_error"] < 2500 and m["continent"] == 1.0


def test_models_lists_registered_geolocators(capsys):
    assert main(["models", "--json"]) == 0
    names = json.loads(capsys.readouterr().out)
    assert {"species-ranges", "naive", "oracle-full", "image-geoclip"} <= set(names)
