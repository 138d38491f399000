"""``geoforensics check``: one claim, a CSV of claims (each file analysed once), and clean errors."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
import soundfile as sf

from geoforensics.cli import check as cli_check
from geoforensics.cli import main
from geoforensics.errors import InputError
from geoforensics.forensics.claims import read_claims_csv
from geoforensics.paths import PROJECT_ROOT

KAUAI = PROJECT_ROOT / "examples" / "kauai_with_european_birds.mp4"


def test_check_help():
    with pytest.raises(SystemExit) as e:
        main(["check", "--help"])
    assert e.value.code == 0


@pytest.mark.parametrize(
    "argv",
    [["check"], ["check", str(KAUAI)], ["check", "--claim", "1,1"],
     ["check", str(KAUAI), "--claim", "1,1", "--claims", "x.csv"]],
)
def test_wrong_combinations_are_refused(argv):
    with pytest.raises(InputError):
        cli_check.run(cli_check_args(argv))


def cli_check_args(argv):
    from geoforensics.cli import build_parser

    return build_parser().parse_args(argv)


def test_flagship_example_json(tmp_path):
    out = tmp_path / "check.json"
    r = subprocess.run(
        [sys.executable, "-m", "geoforensics", "check", str(KAUAI), "--claim", "Lihue, Hawaii", "--json", str(out)],
        capture_output=True, text=True, cwd=PROJECT_ROOT, timeout=300,
    )
    assert r.returncode == 0, r.stderr
    d = json.loads(out.read_text())
    assert d["verdict"] == "mismatch" and d["mismatch_score"] > 0.9
    assert d["claim"]["source"] == "typed" and "Lihue" in d["claim"]["label"]
    assert d["evidence"][0]["common_name"] == "Eurasian Blue Tit"
    assert "MISMATCH" in r.stdout  # the text report stays on stdout when JSON goes to a file


class Counting:
    """Wraps claim_checker to count how often each file is analysed."""

    def __init__(self, real):
        self.real, self.calls = real, []

    def __call__(self, path, **kw):
        self.calls.append(path.name)
        return self.real(path, **kw)


def test_claims_csv_analyses_each_file_once(tmp_path, monkeypatch, capsys):
    """However many claims and dates name a file, it is opened, decoded and scored once."""
    import geoforensics.cli.check as cli_check

    rng = np.random.default_rng(0)
    sf.write(tmp_path / "noise.wav", (0.05 * rng.standard_normal(48000 * 8)).astype(np.float32), 48000)
    (tmp_path / "claims.csv").write_text(
        "file,latitude,longitude,date\nnoise.wav,48.1,11.6,\nnoise.wav,22.05,-159.5,2021-05-14\nmissing.wav,1,1,\n"
    )
    counter = Counting(cli_check.gather_evidence)
    monkeypatch.setattr(cli_check, "gather_evidence", counter)
    out = tmp_path / "out.jsonl"
    code = main(["check", "--claims", str(tmp_path / "claims.csv"), "--json", str(out)])
    assert code == 1  # one file failed, the rest went on
    assert counter.calls == ["noise.wav", "missing.wav"]
    lines = [json.loads(x) for x in out.read_text().splitlines()]
    assert [x["line"] for x in lines] == [2, 3, 4]
    assert [x["verdict"] for x in lines[:2]] == ["inconclusive", "inconclusive"]  # white noise: no animal heard
    assert [x["date"] for x in lines[:2]] == [None, "2021-05-14"]
    assert lines[2]["verdict"] is None and "not found" in lines[2]["error"]


def test_claims_csv_errors_name_the_line(tmp_path):
    bad = tmp_path / "claims.csv"
    bad.write_text("file,latitude,longitude\nx.wav,95,0\n")
    with pytest.raises(InputError, match="line 2"):
        read_claims_csv(bad)
    bad.write_text("name,lat\nx.wav,1\n")
    with pytest.raises(InputError, match="file column"):
        read_claims_csv(bad)
