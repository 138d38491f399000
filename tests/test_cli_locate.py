import csv
import json
import subprocess
import sys

import numpy as np
import pytest

from geoforensics.cli import main
from geoforensics.errors import InputError
from geoforensics.evaluation.evaluate import read_points_csv
from geoforensics.paths import PROJECT_ROOT, shared_dir

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
    r = subprocess.run([sys.executable, "-m", "geoforensics", "locate", str(tmp_path / "nope.wav")],
                       capture_output=True, text=True)
    assert r.returncode == 2 and "no such file" in r.stderr


@pytest.mark.skipif(XC is None, reason="../shared/data/xc-dev not available")
def test_locate_json_csv_then_evaluate(tmp_path):
    clip = XC / "audio" / "XC148645.mp3"
    out_csv = tmp_path / "pred.csv"
    r = subprocess.run(
        [sys.executable, "-m", "geoforensics", "locate", str(clip), "--json", "--surface", "none",
         "--csv", str(out_csv)],
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
    r = subprocess.run([sys.executable, "-m", "geoforensics", "evaluate", str(out_csv), str(gold), "--json"],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    m = json.loads(r.stdout)
    assert m["median_error"] < 2500 and m["continent"] == 1.0


def test_models_lists_registered_geolocators(capsys):
    assert main(["models", "--json"]) == 0
    names = json.loads(capsys.readouterr().out)
    assert {"species-ranges", "naive", "oracle-full", "image-geoclip"} <= set(names)


EXAMPLES = PROJECT_ROOT / "examples"
CLIPS = [EXAMPLES / "XC148645.mp3", EXAMPLES / "XC132220.mp3"]


def test_folder_search_uses_the_one_extension_list(tmp_path):
    from geoforensics.media.limits import expand_inputs

    (tmp_path / "sub").mkdir()
    for name in ("a.oga", "b.WAV", "sub/c.mp4", "notes.txt", "cover.jpg"):
        (tmp_path / name).write_bytes(b"x")
    assert expand_inputs([str(tmp_path)]) == [tmp_path / "a.oga", tmp_path / "b.WAV", tmp_path / "sub" / "c.mp4"]
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match="no audio or video files in folder"):
        expand_inputs([str(tmp_path / "empty")])


def test_several_files_json_lines_and_csv_to_files(tmp_path, capsys):
    out_json, out_csv = tmp_path / "out" / "pred.jsonl", tmp_path / "out" / "pred.csv"
    argv = ["locate", *map(str, CLIPS), "--surface", "none", "--top-k", "3", "--json", str(out_json),
            "--csv", str(out_csv)]
    assert main(argv) == 0
    captured = capsys.readouterr()
    assert captured.out.startswith("XC148645.mp3: ") and "\nXC132220.mp3: " in captured.out  # the text report stays
    assert f"wrote 2 JSON lines to {out_json}" in captured.err and f"wrote 2 predictions to {out_csv}" in captured.err
    lines = [json.loads(line) for line in out_json.read_text().splitlines()]
    assert [d["file"] for d in lines] == list(map(str, CLIPS)) and all(len(d["top_k"]) == 3 for d in lines)
    assert lines[0]["evidence"][0]["scientific_name"] == "Aquila adalberti"
    points = read_points_csv(out_csv)
    assert points.ids == ["XC148645", "XC132220"]
    np.testing.assert_allclose(points.latlon, [d["point"] for d in lines], atol=5e-7)
    assert out_csv.read_text().splitlines()[1] == "XC148645,{:.6f},{:.6f}".format(*lines[0]["point"])


def test_bare_csv_after_the_inputs_prints_predictions_only(capsys):
    """`geoforensics locate FILES --csv`: the prediction CSV on standard output, no text report in it."""
    assert main(["locate", *map(str, CLIPS), "--csv"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "audio_id,latitude,longitude"
    assert [line.split(",")[0] for line in out[1:]] == ["XC148645", "XC132220"]
    lat, lon = map(float, out[1].split(",")[1:])
    assert 36 < lat < 44 and -10 < lon < 0  # the Spanish Imperial Eagle clip: Iberia


def test_csv_rows_reach_the_disk_as_they_are_computed(tmp_path, monkeypatch, capsys):
    import geoforensics.cli.locate as cli_locate

    out_csv = tmp_path / "pred.csv"
    real_locate = cli_locate.locate
    seen_before_second: list[str] = []

    def locate_then_crash(path, **kw):
        if getattr(path, "name", None) == CLIPS[1].name:
            seen_before_second.append(out_csv.read_text())
            raise KeyboardInterrupt
        return real_locate(path, **kw)

    monkeypatch.setattr(cli_locate, "locate", locate_then_crash)
    assert main(["locate", *map(str, CLIPS), "--csv", str(out_csv)]) == 130
    assert seen_before_second[0].startswith("audio_id,latitude,longitude\nXC148645,")
    assert read_points_csv(out_csv).ids == ["XC148645"]


def test_failure_leaves_no_csv(tmp_path, capsys):
    bad = tmp_path / "notes.mp3"
    bad.write_text("not audio")
    out_csv = tmp_path / "pred.csv"
    assert main(["locate", str(bad), "--csv", str(out_csv)]) == 2
    assert "notes.mp3" in capsys.readouterr().err
    assert not out_csv.exists()
