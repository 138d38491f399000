"""The shipped AG-CLIP head: a SHA-256-checked entry of the weight manager, one loading route through the
model registry, "agclip:TAG" and "agclip:PATH.pt" as model names, finite predictions on a real clip."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from geoforensics import weights as W
from geoforensics.cli import main
from geoforensics.errors import InputError
from geoforensics.models.registry import create_model, get_model, list_pretrained
from geoforensics.paths import shared_dir, shipped_file

HEAD = "agclip-birdnet-sim-v1"


def test_shipped_head_is_a_verified_weights_entry(tmp_path: Path):
    spec = W.get_spec(HEAD)
    assert spec.source == "shipped" and (spec.model, spec.tag) == ("agclip", "birdnet-sim-v1")
    assert spec.preprocessing["inference_pooling"] == "mean"
    assert spec.metadata["training_config"]["model"]["encoder"] == "birdnet"
    path = W.weight_path(HEAD)
    assert path == shipped_file("weights", spec.path) and path.stat().st_size < 8_000_000
    assert W.status(HEAD) == "shipped"
    assert {"prior-inat-test-density-h3r3", HEAD} <= {s.name for s in W.WEIGHTS.values() if s.source == "shipped"}
    data = bytearray(path.read_bytes())
    data[-10] ^= 0xFF
    (tmp_path / path.name).write_bytes(bytes(data))
    with pytest.raises(W.ChecksumError, match="checksum"):
        W.verify(spec, tmp_path / path.name)


def test_registry_and_create_model():
    from geoforensics.geolocators.registry import list_geolocators

    assert "agclip:birdnet-sim-v1" in list_geolocators() and list_pretrained("agclip") == ["birdnet-sim-v1"]
    m = create_model("agclip", pretrained="birdnet-sim-v1")
    assert m.input_kind == "birdnet" and m.config.encoder == "birdnet" and not m.training
    again = create_model("agclip", pretrained=HEAD)
    assert again is not m and again.config == m.config
    shared = get_model("agclip", pretrained="birdnet-sim-v1")
    assert shared is get_model("agclip", pretrained="birdnet-sim-v1") and shared is not m
    with pytest.raises(InputError, match="neither a pretrained tag .*birdnet-sim-v1"):
        create_model("agclip", pretrained="birdnet-sim-v9")


def _window_scores():
    from geoforensics.scoring import WindowScores

    rng = np.random.default_rng(0)
    s = rng.uniform(0, 0.05, (6, 6522)).astype(np.float32)
    s[:3, 100] = s[3:, 2000] = 0.95
    return WindowScores(np.arange(6) * 1.5, np.arange(6) * 1.5 + 3, s, duration_s=10.5)


def test_a_checkpoint_path_is_a_model_name(tmp_path: Path, isolated_cache):
    """"agclip:PATH.pt" goes through the same builder and loader as a shipped head; a rewritten file is read again."""
    import torch

    from geoforensics.geolocators.registry import create_geolocator, get_geolocator
    from geoforensics.models.agclip import AGCLIPConfig, AGCLIPModel, save_checkpoint_file

    torch.manual_seed(0)
    ckpt = tmp_path / "tiny.pt"
    save_checkpoint_file(AGCLIPModel(AGCLIPConfig(encoder="birdnet", hidden_dim=8)), ckpt)
    geo = create_geolocator(f"agclip:{ckpt}", gallery="uniform-10")
    assert geo.name == f"agclip:{ckpt}" and geo.model.config.hidden_dim == 8
    assert geo.model is get_model("agclip", pretrained=ckpt)
    p = geo.predict(_window_scores())
    assert p.model == f"agclip:{ckpt}" and np.isfinite(p.probs).all() and abs(p.probs.sum() - 1) < 1e-9
    assert get_geolocator(f"agclip:{ckpt}", gallery="uniform-10").model is geo.model
    save_checkpoint_file(AGCLIPModel(AGCLIPConfig(encoder="birdnet", hidden_dim=4)), ckpt)
    assert get_model("agclip", pretrained=ckpt).config.hidden_dim == 4
    with pytest.raises(InputError, match="no such file"):
        create_geolocator(f"agclip:{tmp_path / 'missing.pt'}")


def _write_chirp(path: Path, f0: float, sr: int = 22050, seconds: float = 4.5) -> None:
    import wave

    t = np.arange(int(seconds * sr)) / sr
    audio = 0.3 * np.sin(2 * np.pi * (f0 + 300 * np.sin(2 * np.pi * 3 * t)) * t)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(sr)
        w.writeframes((audio * 32767).astype("<i2").tobytes())


def test_a_checkpoint_path_is_a_model_name_in_the_cli(tmp_path: Path, capsys, isolated_cache):
    """locate --model, evaluate-model --model and table1 --agclip-head all take "agclip:PATH.pt"."""
    import csv

    import torch

    from geoforensics.models.agclip import AGCLIPConfig, AGCLIPModel, save_checkpoint_file

    torch.manual_seed(0)
    ckpt = tmp_path / "tiny.pt"
    save_checkpoint_file(AGCLIPModel(AGCLIPConfig(encoder="birdnet", hidden_dim=8)), ckpt)
    data = tmp_path / "ds"
    data.mkdir()
    for i in range(2):
        _write_chirp(data / f"clip{i}.wav", 1500 + 700 * i)
    (data / "labels.csv").write_text("file,id,lat,lon\nclip0.wav,c0,48.85,2.35\nclip1.wav,c1,40.7,-74.0\n")
    name = f"agclip:{ckpt}"
    out = tmp_path / "pred.csv"
    assert main(["evaluate-model", "--model", name, "--data", str(data), "--gallery", "uniform-10",
                 "--out", str(out)]) == 0
    assert name in capsys.readouterr().out
    rows = list(csv.DictReader(out.open()))
    assert [r["audio_id"] for r in rows] == ["c0", "c1"]
    assert all(abs(float(r["latitude"])) <= 90 for r in rows)
    located = tmp_path / "located.csv"
    assert main(["locate", str(data / "clip0.wav"), "--model", name, "--gallery", "uniform-10",
                 "--csv", str(located)]) == 0
    assert list(csv.DictReader(located.open()))[0]["latitude"] == rows[0]["latitude"]
    from geoforensics.evaluation import table1

    try:
        assert main(["table1", "--agclip-head", f"tiny={name}", "--list", "--data", str(data),
                     "--out", str(tmp_path)]) == 0
        assert f"geolocator {name}" in capsys.readouterr().out
    finally:
        table1.SYSTEMS.unregister("agclip-tiny")


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

    ws = _window_scores()
    geo = AGCLIPGeolocator(gallery="uniform-10", pooling=pooling)
    p = geo.predict(ws)
    assert p.version.endswith(f"pool {pooling}") and len(p.windows) == 6
    assert np.isfinite(p.probs).all() and abs(p.probs.sum() - 1) < 1e-9
    assert np.abs(geo.gallery - [p.lat, p.lon]).sum(1).min() < 1e-9
