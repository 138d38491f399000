import json
import subprocess
import sys
from pathlib import Path

import pytest

from geoforensics.cli import main
from geoforensics.paths import PROJECT_ROOT


def _write(path: Path, rows: list[tuple]) -> Path:
    path.write_text("audio_id,latitude,longitude\n" + "".join(",".join(map(str, r)) + "\n" for r in rows))
    return path


def _run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "geoforensics", "evaluate", *args],
        capture_output=True, text=True, cwd=PROJECT_ROOT, timeout=120,
    )


def test_help(capsys):
    with pytest.raises(SystemExit) as e:
        main(["evaluate", "--help"])
    assert e.value.code == 0
    out = capsys.readouterr().out
    assert "PRED.csv" in out and "--json" in out


def test_json_output(tmp_path):
    gold = _write(tmp_path / "gold.csv", [("a", 0, 0), ("b", 0, 0), ("c", 10, 10)])
    pred = _write(tmp_path / "pred.csv", [("a", 0, 0), ("b", 0, 1), ("c", 10, 10)])
    r = _run(str(pred), str(gold), "--json")
    assert r.returncode == 0, r.stderr
    m = json.loads(r.stdout)
    assert list(m) == ["mean_error", "median_error", "street", "city", "region", "country", "continent"]
    assert m["mean_error"] == pytest.approx(111.19492664455873 / 3)
    assert m["median_error"] == 0.0
    assert m["street"] == pytest.approx(2 / 3)
    assert m["continent"] == 1.0


def test_table_output(tmp_path, capsys):
    gold = _write(tmp_path / "gold.csv", [("a", 0, 0), ("b", 0, 0)])
    pred = _write(tmp_path / "mine.csv", [("a", 0, 0), ("b", 0, 1)])
    assert main(["evaluate", str(pred), str(gold)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("| system | n | median km | mean km |")
    assert lines[2] == "| mine | 2 | 56 | 56 | 50.0 | 50.0 | 100.0 | 100.0 | 100.0 |"


def test_bad_file_exits_2_with_one_line(tmp_path):
    gold = _write(tmp_path / "gold.csv", [("a", 0, 0)])
    pred = _write(tmp_path / "pred.csv", [("a", "nan", 0)])
    r = _run(str(pred), str(gold))
    assert r.returncode == 2
    assert r.stdout == ""
    assert "Traceback" not in r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("geoforensics evaluate: error: predictions file ")
    assert "line 2 (audio_id a): latitude 'nan' is not a finite number" in lines[0]


def test_missing_file_exits_2(tmp_path, capsys):
    gold = _write(tmp_path / "gold.csv", [("a", 0, 0)])
    assert main(["evaluate", str(tmp_path / "none.csv"), str(gold)]) == 2
    err = capsys.readouterr().err
    assert "no such file" in err and err.count("\n") == 1
