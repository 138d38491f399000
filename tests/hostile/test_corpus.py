"""Every case of the hostile-input corpus (``corpus.py``) ends in a clean refusal or a correct result.

A clean refusal: exit status 2 and one ``error:`` line saying why (for the Python API, an
``InputError``), no traceback. A correct result: exit status 0, strict JSON (no NaN), a point on the
globe, and for real recordings the species that is really there. Always: nothing left in the
temporary folder, only terminal-safe text printed, and (checked with strace, in a subprocess) no file
that a playlist, a tag or a CSV points at is ever opened.

The fast subset (45 cases, about a minute) runs by default; ``pytest tests/hostile -m hostile``
runs the other 426 (about 20 minutes on 2 cores). Batch and evidence cases (issue 25) also check, through
``corpus.guarded``, that the files they name are unchanged (sha256), that no partial output is left, that a
damaged cache still gives the right answer, and that the CSVs they write read back.
``benchmarks/hostile_inputs.py`` runs all of them, one subprocess each, and counts the outcomes.
"""

from __future__ import annotations

import atexit
import json
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

import geoforensics
from geoforensics.cli import main
from geoforensics.errors import InputError
from geoforensics.text import safe
from tests.hostile.corpus import ARRAYS, EAGLE, Case, build_corpus, guarded
from tests.hostile.evidence_cases import run_api

ROOT = Path(tempfile.mkdtemp(prefix="geoforensics-hostile-"))
atexit.register(shutil.rmtree, ROOT, True)
CASES = build_corpus(ROOT)
PROJECT = Path(__file__).resolve().parents[2]


def _param(case: Case):
    return pytest.param(case, id=case.name, marks=() if case.fast else (pytest.mark.hostile,))


def strict_json(text: str):
    def refuse(constant: str):
        raise AssertionError(f"JSON holds {constant}")

    return json.loads(text, parse_constant=refuse)


def terminal_safe(text: str) -> None:
    for line in text.splitlines():
        assert safe(line, multiline=True) == line, f"unsafe output line: {line!r}"


def check_refusal(case: Case, rc: int, err: str) -> None:
    assert rc == 2, f"exit status {rc}, expected 2 (a refusal):\n{err[-3000:]}"
    assert "Traceback" not in err
    errors = [line for line in err.splitlines() if "error:" in line]
    assert len(errors) == 1, err[-3000:]
    if case.message:
        assert re.search(case.message, errors[0]), errors[0]


def check_prediction(case: Case, d: dict) -> None:
    lat, lon = d["point"]
    assert -90 <= lat <= 90 and -180 <= lon <= 180
    if case.species:
        assert d["evidence"] and d["evidence"][0]["scientific_name"] == case.species, d["evidence"][:2]
    if case.note:
        assert any(re.search(case.note, n) for n in d["notes"]), d["notes"]


def check_result(case: Case, rc: int, out: str, err: str, json_file: Path, command: str) -> None:
    assert rc == 0, f"exit status {rc}, expected a result:\n{err[-3000:]}"
    assert "Traceback" not in err
    docs = (
        [strict_json(line) for line in json_file.read_text().splitlines() if line.strip()] if command == "locate"
        else [strict_json(json_file.read_text())]
    )
    assert len(docs) == 1
    d = docs[0] if command == "locate" else docs[0]["audio"]
    if command == "analyze" and d is None:
        assert docs[0]["verdict"]["level"] == "inconclusive"
        return
    check_prediction(case, d)


def run_main(argv: list[str], capsys: pytest.CaptureFixture) -> tuple[int, str, str]:
    try:
        rc = main(argv)
    except SystemExit as e:
        rc = int(e.code or 0)
    captured = capsys.readouterr()
    return rc, captured.out, captured.err


def run_subprocess(
    args: list[str], tmp: Path, watch: tuple[Path, ...], extra_env: dict[str, str] | None = None
) -> tuple[int, str, str, list[str]]:
    """``python ARGS`` (e.g. ``-m geoforensics ...``) with its own temp folder, a timeout, and under strace when
    watching files."""
    cmd = [sys.executable, *args]
    trace = tmp / "strace.log"
    strace = shutil.which("strace")
    if watch and strace:
        cmd = [strace, "-f", "-qq", "-e", "trace=open,openat,openat2,creat,execve", "-o", str(trace), *cmd]
    env = {**__import__("os").environ, "TMPDIR": str(tmp / "tmp"), "PYTHONPATH": str(PROJECT), **(extra_env or {})}
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=300, env=env, cwd=PROJECT)
    opened = []
    if trace.is_file():
        for line in trace.read_text(errors="replace").splitlines():
            if " = -1 " in line:
                continue
            opened += [str(w) for w in watch if f'"{w}"' in line]
        trace.unlink()
    return r.returncode, r.stdout, r.stderr, opened


def run_case(case: Case, tmp: Path, capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch) -> None:
    scratch = tmp / "tmp"
    scratch.mkdir()
    monkeypatch.setenv("TMPDIR", str(scratch))
    monkeypatch.setattr(tempfile, "tempdir", None)
    if case.kind == "array":
        try:
            pred = geoforensics.locate(ARRAYS[case.array](), sample_rate=case.rate, top_k=3,
                                       max_duration_s=case.max_duration)
        except InputError as e:
            assert case.expect in ("refuse", "either"), f"refused: {e}"
            assert str(e) and (not case.message or re.search(case.message, str(e))), str(e)
        else:
            assert case.expect in ("ok", "either"), "a result where a refusal was expected"
            check_prediction(case, strict_json(pred.to_json(surface="none")))
        assert list(scratch.iterdir()) == []
        return

    if case.kind == "api":
        with pytest.raises(InputError) as refused:
            run_api(case.argv[0], EAGLE)
        assert str(refused.value) and "Traceback" not in str(refused.value)
        assert list(scratch.iterdir()) == []
        return

    runs: list[tuple[str, list[str], Path | None]] = []
    if case.kind == "file":
        for command in ("locate", "analyze"):
            out = tmp / f"{command}.json"
            cap = ["--max-duration", f"{case.max_duration:g}"] if case.max_duration else []
            runs.append((command, [command, str(case.path), "--json", str(out), *cap], out))
    else:
        runs.append((case.argv[0], list(case.argv), None))
    for command, argv, json_file in runs:
        if case.isolate or case.watch or case.kind == "signal":
            args = ["-m", "geoforensics", *argv] if case.kind == "file" else case.python_args()
            rc, out, err, opened = run_subprocess(args, tmp, case.watch, case.env)
            assert opened == [], f"opened {opened}"
        else:
            rc, out, err = run_main(argv, capsys)
        terminal_safe(out + err)
        refused = rc != 0
        if case.expect == "refuse" or (case.expect == "either" and refused):
            check_refusal(case, rc, err)
            if json_file is not None:
                assert not json_file.exists(), "a refusal left an output file"
        elif json_file is not None:
            check_result(case, rc, out, err, json_file, command)
            json_file.unlink()
        else:
            assert rc == 0, err[-3000:]
            if case.species:
                assert case.species in out
        assert list(scratch.iterdir()) == [], f"left in the temp folder: {list(scratch.iterdir())}"


@pytest.mark.parametrize("case", [_param(c) for c in CASES])
def test_hostile_input(
    case: Case, tmp_path: Path, capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    with guarded(case):  # batch cases (issue 25): inputs and earlier outputs unchanged, CSVs read back
        run_case(case, tmp_path, capsys, monkeypatch)


def test_the_corpus_covers_the_issue() -> None:
    categories = {c.category for c in CASES}
    assert len(CASES) >= 200
    assert {
        "empty", "random bytes", "truncated", "absurd WAV header", "NaN/inf audio", "playlist", "symlink", "FIFO",
        "odd file name", "bad CSV", "non-media file", "huge duration", "many channels", "array input",
        "escape sequences in tags", "bad option", "hostile URL", "batch OUT", "Ray cluster", "CSV injection",
        "outputs", "dates", "caches", "concurrent batches", "signals", "claims", "Python API", "big tables",
    } <= categories
    assert 20 <= sum(c.fast for c in CASES) <= 50
    assert len({c.name for c in CASES}) == len(CASES)
