"""Every benchmark script answers --help, and the shared machine description is filled in."""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCRIPTS = sorted(p for p in (ROOT / "benchmarks").glob("*.py") if p.name != "machine.py")


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.stem)
def test_help(script):
    out = subprocess.run([sys.executable, str(script), "--help"], capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("usage:")


def test_machine_description():
    sys.path.insert(0, str(ROOT))
    from benchmarks.machine import machine

    text = machine()
    assert "CPUs" in text and "Python 3." in text and "torch " in text
