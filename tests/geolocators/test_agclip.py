"""The shipped AG-CLIP head: SHA-256 checked, registered, finite predictions on a real clip."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from geoforensics.cli import main
from geoforensics.models.agclip import WEIGHTS_DIR, load_agclip, verified_weights_file
from geoforensics.models.weights import ChecksumError
from geoforensics.paths import shared_dir

HEAD = "agclip-birdnet-sim-v1"


def test_manifest_and_checksum(tmp_path: Path):
    path = verified_weights_file(HEAD)
    assert path.stat().st_size < 8_000_000
    entries = {e["name"]: e for e in json.loads((WEIGHTS_DIR / "manifest.json").read_text())["weights"]}
    assert {"prior-inat-test-density-h3r3", HEAD} <= set(entries)
    shutil.copy(WEIGHTS_DIR / "manifest.json", tmp_path / "manifest.json")
    data = bytearray(path.read_bytes())
    data[-10] ^= 0xFF
    (tmp_path / path.name).write_bytes(bytes(data))
    with pytest.raises(ChecksumError, match="checksum"):
        verified_weights_file(HEAD, tmp_path)


def test_registry_and_create_model():
    from geoforensics.geolocators.registry import list_geolocators
    from geoforensics.models.registry import create_model

    assert "agclip:birdnet-sim-v1" in list_geolocators()
    m = create_model("agclip", head="birdnet-sim-v1")
    assert m.input_kind == "birdnet" and m.config.encoder == "birdnet"
    assert load_agclip("birdnet-sim-v1").config == m.config


@pytest.mark.slow
def test_real_clip_prediction():
    from geoforensics.geolocators.registry import get_geolocator

    sd = shared_dir()
    if sd is None or not (sd / "data" / "xc-dev" / "labels.csv").is_file():
        pytest.skip("xc-dev not available")
    from geoforensics.data import open_dataset

    rec = open_dataset(sd / "data" / "xc-dev")[0]
    geo = get_geolocator("agclip:birdnet-sim-v1")
    p = geo.predict(rec.audio_path)
    assert p.modality == "audio" and p.model == "agclip:birdnet-sim-v1"
    assert np.isfinite(p.probs).all() and abs(p.probs.sum() - 1) < 1e-9
    assert -90 <= p.lat <= 90 and -180 <= p.lon <= 180
    assert len(p.windows) >= 1 and all(w.lat is not None for w in p.windows)
    assert p.evidence and p.evidence[0].score >= 0.1
    assert len(geo.gallery) == 21546


@pytest.mark.parametrize("cmd", ["train", "evaluate-model"])
def test_help(cmd: str, capsys):
    with pytest.raises(SystemExit) as e:
        main([cmd, "--help"])
    assert e.value.code == 0
    assert cmd in capsys.readouterr().out


@pytest.mark.parametrize("pooling", ["mean", "max", "kmeans"])
def test_poolings_on_window_scores(pooling: str):
    """Each pooling gives a finite prediction on a gallery node, from BirdNET window scores alone."""
    from geoforensics.geolocators.agclip import AGCLIPGeolocator
    from geoforensics.scoring import WindowScores

    rng = np.random.default_rng(0)
    s = rng.uniform(0, 0.05, (6, 6522)).astype(np.float32)
    s[:3, 100] = s[3:, 2000] = 0.95
    ws = WindowScores(np.arange(6) * 1.5, np.arange(6) * 1.5 + 3, s, duration_s=10.5)
    geo = AGCLIPGeolocator(gallery="uniform-10", pooling=pooling)
    p = geo.predict(ws)
    assert p.version.endswith(f"pool {pooling}") and len(p.windows) == 6
    assert np.isfinite(p.probs).all() and abs(p.probs.sum() - 1) < 1e-9
    assert np.abs(geo.gallery - [p.lat, p.lon]).sum(1).min() < 1e-9
