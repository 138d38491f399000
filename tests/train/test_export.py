"""Shipping a trained head: an fp16 copy and its entry in a weights manifest the weight manager reads."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from geoforensics import weights as W
from geoforensics.errors import GeoforensicsError
from geoforensics.models.agclip import AGCLIPConfig, AGCLIPModel, save_checkpoint_file
from geoforensics.models.registry import create_model
from geoforensics.train.export import export_head


def test_exported_head_is_a_verified_pretrained_entry(tmp_path: Path, monkeypatch):
    torch.manual_seed(0)
    model = AGCLIPModel(AGCLIPConfig(encoder="birdnet", hidden_dim=8))
    save_checkpoint_file(model, tmp_path / "last.pt", epoch=3)
    entry = export_head(tmp_path / "last.pt", "agclip-tiny-v0", tmp_path, licence="test", description="tiny head")
    (spec,) = W.read_shipped_manifest(tmp_path / "manifest.json")
    assert spec.name == entry["name"] == "agclip-tiny-v0" and (spec.model, spec.tag) == ("agclip", "tiny-v0")
    W.verify(spec, tmp_path / spec.path)
    monkeypatch.setitem(W.WEIGHTS, spec.name, spec)
    monkeypatch.setenv("GEOFORENSICS_WEIGHTS", str(tmp_path))  # where the entry's file is
    head = create_model("agclip", pretrained="tiny-v0")
    x = torch.rand(3, 6522)
    assert torch.allclose(head.embed(x), model.eval().embed(x), atol=2e-3)  # fp16 weights
    with pytest.raises(GeoforensicsError, match="agclip-TAG"):
        export_head(tmp_path / "last.pt", "tiny", tmp_path)
