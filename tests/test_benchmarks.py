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


@pytest.mark.parametrize(
    ("lat", "lon", "continent"),
    [
        (37.0, -5.0, "Europe"), (35.3, 25.0, "Europe"), (28.3, -16.5, "Europe"), (64.0, -19.0, "Europe"),
        (33.0, -7.0, "Africa"), (36.8, 10.2, "Africa"), (-19.0, 47.0, "Africa"), (14.9, -23.5, "Africa"),
        (32.0, 35.0, "Asia"), (39.0, 35.0, "Asia"), (36.7, 54.5, "Asia"), (1.3, 103.8, "Asia"), (-7.0, 110.0, "Asia"),
        (10.0, -84.0, "North America"), (18.0, -66.0, "North America"), (70.0, -40.0, "North America"),
        (4.0, -74.0, "South America"), (10.5, -66.9, "South America"), (-0.4, -90.3, "South America"),
        (-33.0, 151.0, "Oceania"), (-6.0, 145.0, "Oceania"), (-41.0, 174.0, "Oceania"), (20.0, -157.0, "Oceania"),
    ],
)
def test_rough_continents(lat, lon, continent):
    sys.path.insert(0, str(ROOT))
    from benchmarks.prior_locations import rough_continent

    assert rough_continent(lat, lon) == continent


def test_rough_continents_agree_with_xc_dev_labels():
    import csv

    from geoforensics.paths import shared_dir

    sys.path.insert(0, str(ROOT))
    from benchmarks.prior_locations import rough_continent

    labels = shared_dir() / "data" / "xc-dev" / "labels.csv" if shared_dir() else None
    if labels is None or not labels.is_file():
        pytest.skip("../shared/data/xc-dev is not on this machine")
    with open(labels, newline="") as f:
        rows = list(csv.DictReader(f))
    assert all(rough_continent(float(r["lat"]), float(r["lon"])) == r["continent"].split(" (")[0] for r in rows)
