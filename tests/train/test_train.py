"""`geoforensics train` end to end on a tiny synthetic dataset (frozen BirdNET encoder)."""

from __future__ import annotations

import csv
from pathlib import Path

import torch

from geoforensics.cli import main
from geoforensics.data import open_dataset
from geoforensics.models.registry import create_model
from geoforensics.train.config import load_config
from geoforensics.train.data import WindowDataset
from geoforensics.train.loop import train

from .conftest import tiny_config


def _log(out: Path) -> list[dict[str, str]]:
    with open(out / "log.csv") as f:
        return list(csv.DictReader(f))


def test_train_cli_loss_down_reload_and_resume(tiny_dataset: Path, tmp_path: Path):
    out = tmp_path / "run"
    cfg_file = tiny_config(tmp_path / "tiny.yaml", tiny_dataset, out, epochs=3)
    assert main(["train", "--config", str(cfg_file), "--no-resume"]) == 0
    rows = _log(out)
    assert [int(r["epoch"]) for r in rows] == [1, 2, 3]
    assert float(rows[-1]["loss"]) < float(rows[0]["loss"])
    assert float(rows[-1]["contrastive"]) < float(rows[0]["contrastive"])

    cfg = load_config(cfg_file)
    ds = WindowDataset(open_dataset(tiny_dataset), "birdnet", cfg.data, train=False)
    x = ds.all_windows(0)
    a = create_model("agclip", pretrained=out / "last.pt")
    b = create_model("agclip", pretrained=out / "last.pt")
    assert torch.equal(a.embed(x), b.embed(x))
    assert torch.allclose(a.embed(x).norm(dim=1), torch.ones(len(x)), atol=1e-5)

    res = train(load_config(cfg_file, {"epochs": 5}))
    assert res["epochs_run"] == 5
    assert [h["epoch"] for h in res["history"]] == [4, 5]
    assert [int(r["epoch"]) for r in _log(out)] == [1, 2, 3, 4, 5]
    state = torch.load(out / "last.pt", weights_only=True)
    assert state["epoch"] == 4
    reloaded = create_model("agclip", pretrained=out / "last.pt")
    assert torch.equal(reloaded.embed(x), res["model"].eval().embed(x))
