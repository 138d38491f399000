"""A built wheel carries what the package reads at run time (trained head, manifest, prior, example clips)
and finds it through importlib.resources when installed from the wheel alone, away from the checkout."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from geoforensics.paths import PROJECT_ROOT

pytestmark = pytest.mark.wheel

SHIPPED = [
    "geoforensics/weights_data/manifest.json",
    "geoforensics/weights_data/agclip-birdnet-sim-v1.pt",
    "geoforensics/weights_data/prior-inat-test-density-h3r3.npz",
    "geoforensics/examples_data/ATTRIBUTION.md",
    "geoforensics/examples_data/XC132220.mp3",
    "geoforensics/examples_data/kauai_with_european_birds.mp4",
]

CHECK = """
import sys
from pathlib import Path

import geoforensics
from geoforensics.geo.priors import load_density
from geoforensics.weights import WEIGHTS, status, weight_path
from geoforensics.paths import shipped_file

site = Path(sys.argv[1]).resolve()
assert Path(geoforensics.__file__).resolve().is_relative_to(site), geoforensics.__file__
for name in ("agclip-birdnet-sim-v1", "prior-inat-test-density-h3r3"):
    assert WEIGHTS[name].source == "shipped" and status(name) == "shipped", name
    assert weight_path(name).resolve().is_relative_to(site), weight_path(name)  # size and SHA-256 checked
latlon, count = load_density("inat-test-density")
assert count.sum() == 49527
clip = shipped_file("examples", "XC132220.mp3")
assert clip.is_file() and clip.resolve().is_relative_to(site)
print("ok")
"""


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """``pip wheel --no-deps --no-build-isolation`` of a copy of the project's packaging inputs (offline)."""
    src = tmp_path_factory.mktemp("src")
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(PROJECT_ROOT / name, src / name)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for name in ("geoforensics", "weights", "examples"):
        shutil.copytree(PROJECT_ROOT / name, src / name, symlinks=True, ignore=ignore)
    out = tmp_path_factory.mktemp("dist")
    env = {**os.environ, "PIP_NO_INDEX": "1", "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    cmd = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(out), str(src)]
    res = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300)
    assert res.returncode == 0, res.stdout + res.stderr
    (whl,) = out.glob("geoforensics-*.whl")
    return whl


def test_wheel_carries_the_shipped_files(wheel: Path):
    with zipfile.ZipFile(wheel) as z:
        info = {i.filename: i for i in z.infolist()}
    for name in SHIPPED:
        assert name in info, name
        source = PROJECT_ROOT / ("weights" if "weights_data" in name else "examples") / Path(name).name
        assert info[name].file_size == source.stat().st_size, name


def test_installed_wheel_reads_them_through_importlib_resources(wheel: Path, tmp_path: Path):
    site = tmp_path / "site"
    with zipfile.ZipFile(wheel) as z:
        z.extractall(site)
    env = {
        **os.environ,
        "PYTHONPATH": str(site),
        "GEOFORENSICS_WEIGHTS": str(tmp_path / "weights"),
        "GEOFORENSICS_CACHE": str(tmp_path / "cache"),
    }
    res = subprocess.run(
        [sys.executable, "-c", CHECK, str(site)], capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120
    )
    assert res.returncode == 0 and res.stdout.strip() == "ok", res.stdout + res.stderr
