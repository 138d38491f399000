"""The options the subcommands share: declared once, with the package defaults, and --json [OUT] everywhere."""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

import pytest

from geoforensics import defaults
from geoforensics.cli import build_parser, main
from geoforensics.cli.options import OPTIONS
from tests.media import make_audio


def subcommands() -> dict[str, argparse.ArgumentParser]:
    """Every (sub)subcommand parser by its command line, e.g. "weights list"."""
    out: dict[str, argparse.ArgumentParser] = {}

    def walk(parser: argparse.ArgumentParser, prefix: str) -> None:
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for name, sub in action.choices.items():
                    out[f"{prefix} {name}".strip()] = sub
                    walk(sub, f"{prefix} {name}")

    walk(build_parser(), "")
    return out


COMMANDS = sorted(subcommands())


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_answers_help(command: str, capsys: pytest.CaptureFixture) -> None:
    with pytest.raises(SystemExit) as e:
        main([*command.split(), "--help"])
    assert e.value.code == 0
    assert f"usage: geoforensics {command}" in capsys.readouterr().out


def test_shared_options_have_one_declaration_and_the_package_defaults() -> None:
    expected = {
        "--gallery": defaults.GALLERY,
        "--model": defaults.AUDIO_MODEL,
        "--top-k": defaults.TOP_K,
        "--max-duration": defaults.MAX_DURATION_S,
        "--date": None,
        "--json": None,
        "--csv": None,
    }
    users: dict[str, list[str]] = {flag: [] for flag in expected}
    for command, parser in subcommands().items():
        for action in parser._actions:
            flag = next((f for f in action.option_strings if f in expected), None)
            if flag is None:
                continue
            users[flag].append(command)
            shared = OPTIONS[flag.lstrip("-").replace("-", "_")][1]
            assert action.default == expected[flag], (command, flag)
            assert action.help == shared["help"], (command, flag)
            if flag in ("--json", "--csv"):
                assert (action.nargs, action.const) == ("?", "-"), (command, flag)
    assert sorted(users["--json"]) == [
        "analyze", "check", "evaluate", "locate", "locate-image", "locate-text", "models", "weights list",
    ]
    assert sorted(users["--gallery"]) == ["batch", "evaluate-model", "locate", "table1", "train-pooler"]
    assert sorted(users["--csv"]) == ["evaluate-model", "locate"]
    assert sorted(users["--date"]) == ["analyze", "batch", "check", "locate"]
    assert sorted(users["--top-k"]) == ["batch", "locate", "locate-image", "locate-text"]


def test_json_value_forms() -> None:
    parser = build_parser()
    assert parser.parse_args(["evaluate", "p.csv", "g.csv", "--json"]).json == "-"
    assert parser.parse_args(["evaluate", "p.csv", "g.csv", "--json", "-"]).json == "-"
    assert parser.parse_args(["evaluate", "p.csv", "g.csv", "--json", "m.json"]).json == "m.json"
    assert parser.parse_args(["evaluate", "p.csv", "g.csv"]).json is None
    assert parser.parse_args(["locate", "a.wav", "--top-k", "3", "--max-duration", "30"]).top_k == 3
    assert parser.parse_args(["locate", "a.wav", "b.wav", "--csv"]).csv == "-"
    assert parser.parse_args(["locate", "a.wav", "--csv", "p.csv"]).csv == "p.csv"
    assert parser.parse_args(["locate", "a.wav"]).csv is None


@pytest.mark.parametrize("argv", [["--top-k", "0"], ["--max-duration", "-1"], ["--top-k", "two"]])
def test_numbers_are_checked(argv: list[str], capsys: pytest.CaptureFixture) -> None:
    with pytest.raises(SystemExit) as e:
        main(["locate", "a.wav", *argv])
    assert e.value.code == 2
    assert f"argument {argv[0]}" in capsys.readouterr().err


def test_json_before_the_inputs_never_overwrites_one(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    a = make_audio(tmp_path / "a.wav", 0.5)
    b = make_audio(tmp_path / "b.wav", 0.5)
    before = a.read_bytes()
    with pytest.raises(SystemExit) as e:
        main(["locate", "--json", str(a), str(b)])
    assert e.value.code == 2
    err = capsys.readouterr().err
    assert f"refusing to overwrite {a}" in err and "put --json after the inputs" in err
    assert a.read_bytes() == before
    with pytest.raises(SystemExit):
        main(["locate", str(b), "--csv", str(a)])
    with pytest.raises(SystemExit):
        main(["locate", "--csv", str(a), str(b)])
    assert "put --csv after the inputs" in capsys.readouterr().err
    assert a.read_bytes() == before


def test_json_and_csv_cannot_share_stdout(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    a = make_audio(tmp_path / "a.wav", 0.5)
    assert main(["locate", str(a), "--json", "--csv", "-"]) == 2
    assert "--json and --csv cannot both write to standard output" in capsys.readouterr().err
    assert main(["locate", str(a), "--json", "--csv"]) == 2
    assert "--json and --csv cannot both write to standard output" in capsys.readouterr().err


def _write(path: Path, rows: list[tuple]) -> Path:
    path.write_text("audio_id,latitude,longitude\n" + "".join(",".join(map(str, r)) + "\n" for r in rows))
    return path


def test_evaluate_json_to_a_file_keeps_the_table(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    gold = _write(tmp_path / "gold.csv", [("a", 0, 0), ("b", 0, 0)])
    pred = _write(tmp_path / "mine.csv", [("a", 0, 0), ("b", 0, 1)])
    out = tmp_path / "metrics" / "m.json"
    assert main(["evaluate", str(pred), str(gold), "--json", str(out)]) == 0
    captured = capsys.readouterr()
    assert captured.out.splitlines()[2] == "| mine | 2 | 56 | 56 | 50.0 | 50.0 | 100.0 | 100.0 | 100.0 |"
    assert f"wrote {out}" in captured.err
    metrics = json.loads(out.read_text())
    assert metrics["median_error"] == pytest.approx(111.19492664455873 / 2) and metrics["street"] == 0.5


def test_failed_command_leaves_no_empty_json(tmp_path: Path) -> None:
    gold = _write(tmp_path / "gold.csv", [("a", 0, 0)])
    out = tmp_path / "m.json"
    assert main(["evaluate", str(tmp_path / "none.csv"), str(gold), "--json", str(out)]) == 2
    assert not out.exists()


@pytest.mark.parametrize("command", [["models"], ["weights", "list"]])
def test_listing_json_stdout_and_file(
    command: list[str], tmp_path: Path, capsys: pytest.CaptureFixture, isolated_cache: None
) -> None:
    assert main([*command, "--json"]) == 0
    on_stdout = json.loads(capsys.readouterr().out)
    out = tmp_path / "list.json"
    assert main([*command, "--json", str(out)]) == 0
    text = capsys.readouterr().out
    assert json.loads(out.read_text()) == on_stdout
    assert text.strip() and not text.lstrip().startswith(("{", "["))


# -------------------------------------------------- issue 14: every number checked, destinations first, strict JSON


@pytest.mark.parametrize(
    "argv",
    [
        ["locate", "a.wav", "--prior-weight", "nan"],
        ["locate", "a.wav", "--prior-weight=-1e9"],
        ["locate", "a.wav", "--prior-weight", "inf"],
        ["locate", "a.wav", "--top-k", "-5"],
        ["locate", "a.wav", "--top-k", "1000"],
        ["locate", "a.wav", "--top-k", "2.5"],
        ["locate", "a.wav", "--max-duration", "nan"],
        ["locate", "a.wav", "--max-duration", "0"],
        ["locate", "a.wav", "--max-duration", "1e9"],
        ["analyze", "a.wav", "--frame-every", "0"],
        ["analyze", "a.wav", "--frame-every", "nan"],
        ["analyze", "a.wav", "--max-frames", "0"],
        ["analyze", "a.wav", "--max-frames", "100000"],
        ["locate-image", "a.jpg", "--top-k", "0"],
        ["evaluate-model", "--data", "d", "--limit", "-1"],
        ["table1", "--data", "d", "--out", "o", "--folds", "1"],
        ["table1", "--data", "d", "--out", "o", "--seeds", "0"],
        ["table1", "--data", "d", "--out", "o", "--seed", "-1"],
        ["train", "--config", "c.yaml", "--epochs", "0"],
        ["train-pooler", "--output", "p.pt", "--batch-size", "1"],
        ["train-pooler", "--output", "p.pt", "--layers", "nan"],
        ["app", "--port", "0"],
        ["app", "--port", "70000"],
    ],
)
def test_every_number_is_checked(argv: list[str], capsys: pytest.CaptureFixture) -> None:
    with pytest.raises(SystemExit) as e:
        main(argv)
    assert e.value.code == 2
    err = capsys.readouterr().err
    flag = next(a for a in argv
                if a.startswith("--") and a not in ("--data", "--out", "--config", "--output")).split("=")[0]
    assert f"argument {flag}: must be" in err and "Traceback" not in err


def test_numbers_in_range_pass() -> None:
    args = build_parser().parse_args(["locate", "a.wav", "--prior-weight", "0", "--top-k", "100",
                                      "--max-duration", "1800"])
    assert (args.prior_weight, args.top_k, args.max_duration) == (0.0, 100, 1800.0)
    assert build_parser().parse_args(["app"]).port == 7860


def test_destinations_are_checked_before_any_work(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    a = make_audio(tmp_path / "a.wav", 0.5)
    blocker = tmp_path / "file.txt"
    blocker.write_text("x")
    for argv in (
        ["locate", str(a), "--csv", str(blocker / "sub" / "p.csv")],
        ["locate", str(a), "--json", str(blocker / "p.json")],
        ["analyze", str(a), "--json", str(blocker / "r.json")],
        ["analyze", str(a), "--html", str(blocker / "m.html")],
    ):
        with pytest.raises(SystemExit) as e:
            main(argv)
        assert e.value.code == 2
        err = capsys.readouterr().err
        assert f"cannot write {argv[-1]}: {blocker} is not a folder" in err, err
    with pytest.raises(SystemExit):
        main(["analyze", str(a), "--html", str(a)])  # an input is never overwritten
    assert "refusing to overwrite" in capsys.readouterr().err
    # a missing folder under a writable one is created when the command writes
    assert build_parser().parse_args(["locate", str(a), "--csv", str(tmp_path / "new" / "p.csv")]).csv


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write anywhere")
def test_unwritable_folder_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        with pytest.raises(SystemExit):
            main(["evaluate", "p.csv", "g.csv", "--json", str(locked / "m.json")])
        assert "is not writable" in capsys.readouterr().err
    finally:
        locked.chmod(0o700)


def test_json_never_holds_nan(capsys: pytest.CaptureFixture) -> None:
    import io

    import numpy as np

    from geoforensics.cli.options import write_json
    from geoforensics.prediction import GeoPrediction

    out = io.StringIO()
    write_json(out, {"a": float("nan"), "b": [np.float32("inf"), -np.inf, 1.5, np.int64(3)], "c": (np.nan,)})
    assert json.loads(out.getvalue()) == {"a": None, "b": [None, None, 1.5, 3], "c": [None]}
    assert "NaN" not in out.getvalue() and "Infinity" not in out.getvalue()
    pred = GeoPrediction.from_probs([[0, 0], [10, 10]], [0.5, 0.5], names=False, confidence=float("nan"))
    pred.timings = {"x": float("inf")}
    d = json.loads(pred.to_json())
    assert d["confidence"] is None and d["timings"] == {"x": None}
