"""Tiny training runs with the non-default location encoders (Table 2b ablation, GeoCLAP-style tower):
finite loss, checkpoints that reload to the same model, and a geolocation from the reloaded head."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import torch

from geoforensics.models.registry import create_model
from geoforensics.train.config import load_config
from geoforensics.train.loop import train

from .conftest import tiny_config


@pytest.mark.parametrize("name", ["range", "learned-rff"])
def test_tiny_training_run_with_location_encoder(name: str, tiny_dataset: Path, tmp_path: Path):
    from geoforensics.geolocators.agclip import AGCLIPGeolocator
    from geoforensics.scoring import WindowScores

    out = tmp_path / "run"
    cfg_file = tiny_config(tmp_path / "tiny.yaml", tiny_dataset, out, epochs=2)
    cfg = load_config(cfg_file, {"model.location_encoder": name, "val_gallery": "uniform-10"})
    res = train(cfg)
    assert res["epochs_run"] == 2
    assert all(math.isfinite(h["loss"]) and math.isfinite(h["val_median_km"]) for h in res["history"])

    model = res["model"].eval()
    reloaded = create_model("agclip", pretrained=out / "last.pt")
    assert reloaded.config.location_encoder == name
    assert sorted(reloaded.state_dict()) == sorted(model.state_dict())
    pts = np.array([[48.85, 2.35], [-33.9, 151.2]])
    assert torch.equal(reloaded.location_encoder.encode(pts), model.location_encoder.encode(pts))
    if name == "learned-rff":
        fresh = torch.load(out / "last.pt", weights_only=True)["state_dict"]
        assert any(k.startswith("location_tower.") for k in fresh)

    s = np.random.default_rng(0).uniform(0, 0.05, (4, 6522)).astype(np.float32)
    s[:, 100] = 0.9
    geo = AGCLIPGeolocator(model=reloaded, gallery="uniform-10")
    p = geo.predict(WindowScores(np.arange(4) * 1.5, np.arange(4) * 1.5 + 3, s, duration_s=7.5))
    assert np.isfinite(p.probs).all() and abs(p.probs.sum() - 1) < 1e-9
    assert torch.allclose(geo.gallery_emb, reloaded.location_encoder.encode(geo.gallery), atol=1e-5)
