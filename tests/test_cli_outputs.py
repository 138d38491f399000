"""Evidence is never lost: no output over an input, a failed run leaves earlier outputs as they were, and a bad
--date is a usage error before any work (issue: never lose or corrupt evidence, defects 1 and 2)."""

from __future__ import annotations

import hashlib
import shutil
import time
from pathlib import Path

import pytest

from geoforensics.cli import main
from geoforensics.paths import PROJECT_ROOT
from tests.media import make_audio

DEMO = PROJECT_ROOT / "examples" / "kauai_with_european_birds.mp4"


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    try:
        code = main(argv)
    except SystemExit as e:
        code = int(e.code or 0)
    return code, capsys.readouterr().err


@pytest.mark.parametrize(
    "argv",
    [
        ["analyze", "{x}", "--video", "{x}"],
        ["analyze", "{x}", "--video", "{link}"],
        ["analyze", "{x}", "--video", "{hard}"],
        ["locate", "{dir}", "--json", "{dir}/../in/x.json", "--csv", "{dir}/../in/x.json"],
    ],
)
def test_an_output_over_an_input_is_refused_before_any_work(argv, tmp_path, capsys):
    folder = tmp_path / "in"
    folder.mkdir()
    x = folder / "x.mp4"
    shutil.copy(DEMO, x)
    (folder / "link.mp4").symlink_to(x)
    (folder / "hard.mp4").hardlink_to(x)
    before = sha(x)
    names = {"x": str(x), "link": str(folder / "link.mp4"), "hard": str(folder / "hard.mp4"), "dir": str(folder)}
    t0 = time.perf_counter()
    code, err = run([a.format(**names) for a in argv], capsys)
    assert code == 2 and "Traceback" not in err
    assert "refusing to write" in err or "name the same file" in err or "refusing to overwrite" in err
    assert time.perf_counter() - t0 < 5  # refused before decoding or rendering anything
    assert sha(x) == before


def test_claims_file_is_not_overwritten_by_its_own_results(tmp_path, capsys):
    claims = tmp_path / "c.jsonl"
    claims.write_text(f"file,latitude,longitude\n{DEMO},22.05,-159.5\n")
    before = sha(claims)
    code, err = run(["check", "--claims", str(claims), "--json", str(claims)], capsys)
    assert code == 2 and "it is an input of this run" in err
    assert sha(claims) == before


def test_a_media_output_inside_an_input_folder_is_refused(tmp_path):
    """A folder's media files are inputs (locate and batch read them all); other files beside an input are not."""
    import argparse

    from geoforensics.cli.options import check_outputs
    from geoforensics.errors import InputError

    make_audio(tmp_path / "a.wav")
    shutil.copy(DEMO, tmp_path / "old.mp4")
    with pytest.raises(InputError, match="media file in the input folder"):
        check_outputs(argparse.Namespace(files=[str(tmp_path)], video=str(tmp_path / "old.mp4"), argv=[]))
    check_outputs(argparse.Namespace(files=[str(tmp_path)], video=str(tmp_path / "new.mp4"),
                                     json=str(tmp_path / "r.json")))
    check_outputs(argparse.Namespace(source=str(tmp_path / "a.wav"), video=str(tmp_path / "old.mp4"),
                                     argv=["analyze", str(tmp_path / "a.wav"), "--video", str(tmp_path / "old.mp4")]))


def test_a_failed_run_leaves_earlier_results_as_they_were(tmp_path, capsys):
    earlier = tmp_path / "existing.json"
    earlier.write_text('{"earlier": "results"}\n')
    bad = tmp_path / "bad.mp3"
    bad.write_text("not audio at all\n")
    code, err = run(["locate", str(bad), "--json", str(earlier)], capsys)
    assert code == 2 and "bad.mp3" in err
    assert earlier.read_text() == '{"earlier": "results"}\n'
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.mp3", "existing.json"]


BAD_DATES = ["2021-02-30", "0000-00-00", "99999-01-01", "yesterday", "2021-13", "-1", " ", "",
             "٢٠٢١-٠٥-١٤", "2021-05-14garbage", "2021-05-14T25:99", "20210514", "2021.5", "2021-05-1", "1-1-1", "2021-"]


@pytest.mark.parametrize("command", ["check", "analyze", "locate", "batch"])
@pytest.mark.parametrize("date", BAD_DATES)
def test_every_bad_date_is_a_usage_error_before_any_work(command, date, tmp_path, capsys):
    clip = make_audio(tmp_path / "a.wav")
    argv = {"check": ["check", str(clip), "--claim", "22.05,-159.5"], "analyze": ["analyze", str(clip)],
            "locate": ["locate", str(clip)], "batch": ["batch", str(clip), "--out", str(tmp_path / "o.csv")]}[command]
    t0 = time.perf_counter()
    code, err = run([*argv, f"--date={date}"], capsys)
    assert code == 2, err
    assert "--date" in err and "Traceback" not in err
    assert time.perf_counter() - t0 < 2
    assert not (tmp_path / "o.csv").exists()


def test_bad_date_in_a_claims_csv_names_its_line_before_any_work(tmp_path, capsys):
    claims = tmp_path / "c.csv"
    claims.write_text(f"file,latitude,longitude,date\n{DEMO},22.05,-159.5,2021-05-14\n{DEMO},22.05,-159.5,2021-02-30\n")
    t0 = time.perf_counter()
    code, err = run(["check", "--claims", str(claims)], capsys)
    assert code == 2 and "line 3" in err and "no day 30" in err
    assert time.perf_counter() - t0 < 2


@pytest.mark.parametrize("claim", ["-33.9,151.2", "-33.9, 151.2", "- 33.9, 151.2"])
def test_a_southern_claim_starting_with_a_dash_is_a_claim(claim, capsys):
    from geoforensics.cli import _join_dashed_values, build_parser

    args = build_parser().parse_args(_join_dashed_values(["check", "x.mp3", "--claim", claim]))
    assert args.claim == claim and args.file == "x.mp3"
    assert build_parser().parse_args(["check", "x.mp3", f"--claim={claim}"]).claim == claim
    assert _join_dashed_values(["check", "--claim", "--json"]) == ["check", "--claim", "--json"]  # an option stays one


@pytest.mark.slow
@pytest.mark.parametrize("outputs", [["--video", "{out}/e.mp4"], ["--json", "{out}/r.json"]])
def test_sigterm_stops_like_ctrl_c_and_leaves_nothing(outputs, tmp_path):
    """SIGTERM mid-run: status 143, no geoforensics-* temporary folder, no partial or empty output, and an
    earlier output left as it was."""
    import os
    import signal
    import subprocess
    import sys

    out, tmp = tmp_path / "out", tmp_path / "tmp"
    out.mkdir()
    tmp.mkdir()
    earlier = out / "r.json"
    earlier.write_text('{"earlier": true}\n')
    argv = [a.format(out=out) for a in outputs]
    env = {**os.environ, "TMPDIR": str(tmp)}
    proc = subprocess.Popen([sys.executable, "-m", "geoforensics", "analyze", str(DEMO), "--claim", "Lihue, Hawaii",
                             *argv],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not any(tmp.iterdir()):
        time.sleep(0.05)  # the analysis has started once its temporary folder exists
    assert any(tmp.iterdir()), "the command never started"
    time.sleep(1.0)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 143, err
    assert "Traceback" not in err
    assert list(tmp.iterdir()) == []
    assert sorted(p.name for p in out.iterdir()) == ["r.json"] and earlier.read_text() == '{"earlier": true}\n'


def test_an_unwritable_destination_is_refused_before_any_render(tmp_path, monkeypatch):
    """/proc accepts nothing, even from root: refused at once by the API writers, not after a render."""
    import geoforensics.viz.evidence as evidence
    import geoforensics.viz.page as page
    from geoforensics.errors import InputError
    from geoforensics.forensics.analysis import ForensicReport, Verdict

    monkeypatch.setattr(evidence, "_background", lambda *a, **k: pytest.fail("rendered before checking"))
    monkeypatch.setattr(page, "report_page", lambda *a, **k: pytest.fail("drawn before checking"))
    report = ForensicReport("x.mp4", 1.0, True, None, None, "", Verdict("inconclusive", "inconclusive: test"))
    with pytest.raises(InputError, match="cannot write the evidence video to e.mp4: folder /proc is not writable"):
        evidence.render_evidence_video(report, DEMO, "/proc/e.mp4")
    with pytest.raises(InputError, match="cannot write the report to r.png"):
        page.write_report_page(report, "/proc/r.png")
    code_args = ["analyze", str(DEMO), "--video", "/proc/e.mp4"]
    with pytest.raises(SystemExit) as e:
        main(code_args)
    assert e.value.code == 2
