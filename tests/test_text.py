"""Untrusted strings reach the terminal only through geoforensics.text.safe: tags, file names, errors."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest

from geoforensics.cli import main
from geoforensics.text import SafeFormatter, drawable, safe
from tests.media import ffmpeg


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("plain text, été, 東京, 🐦", "plain text, été, 東京, 🐦"),
        ("\x1b[2J\x1b[H", "\\x1b[2J\\x1b[H"),  # clear the screen
        ("\x1b]0;owned\x07", "\\x1b]0;owned\\x07"),  # set the window title
        ("line\ngps: 1, 2", "line\\ngps: 1, 2"),  # a forged report line
        ("a\rb\tc\x00d\x7fe", "a\\rb\\tc\\x00d\\x7fe"),
        ("\x9b31m", "\\x9b31m"),  # C1 control sequence introducer
        ("abc\u202egnp.exe", "abc\\u202egnp.exe"),  # right-to-left override
        ("x\u2066y\u2069\u200bz", "x\\u2066y\\u2069\\u200bz"),  # isolates, zero-width space
        ("p\u2028q\u2029r", "p\\u2028q\\u2029r"),  # line and paragraph separators
        ("bad\udcffname.mp3", "bad\\xffname.mp3"),  # an undecodable byte of a file name
    ],
)
def test_safe(raw: str, shown: str) -> None:
    assert safe(raw) == shown
    assert safe(shown) == shown  # escapes are plain text
    assert all(ch.isprintable() for ch in safe(raw))


def test_drawable_escapes_and_cuts() -> None:
    assert drawable("a\x1b[2Jb\nc") == "a\\x1b[2Jb\\nc"
    assert drawable("x" * 300, 10) == "x" * 9 + "…" and drawable("short", 10) == "short"


def test_safe_multiline_keeps_lines_only() -> None:
    assert safe("| a | b |\n|---|\t\x1b[2J", multiline=True) == "| a | b |\n|---|\t\\x1b[2J"
    assert safe(ValueError("x\ny")) == "x\\ny"


def test_safe_formatter() -> None:
    record = logging.LogRecord("x", logging.WARNING, __file__, 1, "%s decoded partially: %s", ("a\x1b[2J.mp3", "y\nz"),
                               None)
    assert SafeFormatter().format(record) == "a\\x1b[2J.mp3 decoded partially: y\\nz"
    assert record.getMessage() == "a\x1b[2J.mp3 decoded partially: y\nz"  # other handlers see the record unchanged


TITLE = "\x1b]0;pwned\x07\x1b[2J\x1b[31mred\u202egnp.exe"
COMMENT = "nice\ngps: 1.000, 2.000\r\x9b2J"


@pytest.fixture(scope="module")
def tagged(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("tags") / "tagged.mp3"
    ffmpeg(
        "-f", "lavfi", "-i", "sine=frequency=3000:duration=4",
        "-metadata", f"title={TITLE}", "-metadata", f"comment={COMMENT}", str(path),
    )  # fmt: skip
    return path


def _terminal_safe(text: str) -> None:
    for bad in ("\x1b", "\x07", "\x9b", "\r", "\u202e"):
        assert bad not in text, repr(bad)


def test_analyze_prints_tags_escaped_and_json_exact(tagged: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["analyze", str(tagged), "--max-duration", "6"]) == 0
    out = capsys.readouterr().out
    _terminal_safe(out)
    assert "  title: \\x1b]0;pwned\\x07\\x1b[2J\\x1b[31mred\\u202egnp.exe" in out
    assert "  comment: nice\\ngps: 1.000, 2.000\\r\\x9b2J" in out
    assert not any(line.lstrip().startswith("gps:") for line in out.splitlines())  # no forged line
    assert main(["analyze", str(tagged), "--max-duration", "6", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    meta = report["container_metadata_display_only"]
    assert meta["title"] == TITLE and meta["comment"] == COMMENT.strip()


def test_hostile_file_names_in_reports_and_errors(tmp_path: Path) -> None:
    name = "clip\x1b[2J\nfake: line\u202e.wav"
    weird = tmp_path / name
    ffmpeg("-f", "lavfi", "-i", "sine=frequency=3000:duration=4", "-f", "wav", str(weird))
    junk = tmp_path / "junk\x1b]0;t\x07.mp3"
    junk.write_bytes(b"\x00" * 64 + os.urandom(4096))
    r = subprocess.run(
        [sys.executable, "-m", "geoforensics", "locate", str(weird), str(junk), "--max-duration", "6", "--top-k", "1"],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert r.returncode == 1, r.stderr  # one file located, one refused
    _terminal_safe(r.stdout + r.stderr)
    assert "clip\\x1b[2J\\nfake: line\\u202e.wav: " in r.stdout
    assert "junk\\x1b]0;t\\x07.mp3: error: " in r.stderr
    assert "Traceback" not in r.stderr
    r = subprocess.run([sys.executable, "-m", "geoforensics", "locate", str(junk)], capture_output=True, text=True,
                       timeout=300)
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and "junk\\x1b]0;t\\x07.mp3" in r.stderr
