"""Training ablations of Supp. Tables A7 (data resampling) and A8 (month loss), on tiny runs."""

from __future__ import annotations

import csv
import dataclasses
import math
from pathlib import Path

import numpy as np
import pytest
import torch

from geoforensics.data import open_dataset
from geoforensics.errors import GeoforensicsError
from geoforensics.models.registry import create_model
from geoforensics.paths import PROJECT_ROOT
from geoforensics.train.config import DataConfig, TrainConfig, load_config
from geoforensics.train.data import WindowDataset
from geoforensics.train.loop import DistInfo, make_loader, train
from geoforensics.train.resample import EpochWeightedSampler
from geoforensics.train.simulate import ScoreSimulator, SimConfig, week_to_month

from .conftest import tiny_config

TINY_SIM = SimConfig(pool_size=300, steps_per_epoch=3, val_clips=6, val_windows=2)


def _log(out: Path) -> list[dict[str, str]]:
    with open(out / "log.csv") as f:
        return list(csv.DictReader(f))


def test_dataset_months_and_species_weights(tiny_dataset: Path):
    recs = open_dataset(tiny_dataset)
    undated = [dataclasses.replace(r, date=None) if i == 0 else r for i, r in enumerate(recs)]
    ds = WindowDataset(undated, "birdnet", DataConfig(resample="species"), train=True)
    assert ds.months.tolist() == [-1, 4, 4, 4, 4, 4]  # tiny dates are 2020-05-0x
    assert ds[1][3] == 4 and ds[0][3] == -1
    # no species labels in the tiny set: all recordings share the unlabelled key -> uniform
    assert ds.species_keys() == [None] * 6
    np.testing.assert_allclose(ds.sampling_weights(), np.full(6, 1 / 6))

    cfg = TrainConfig(data=DataConfig(resample="location"), batch_size=4)
    loader = make_loader(ds, cfg, DistInfo())
    assert isinstance(loader.sampler, EpochWeightedSampler) and loader.sampler.num_samples == 6
    x, target, checklist, month, idx = next(iter(loader))
    assert month.tolist() == ds.months[idx].tolist()
    rank1 = make_loader(ds, cfg, DistInfo(rank=1, world=2)).sampler
    assert rank1.num_samples == 3 and rank1.rank == 1
    assert not isinstance(make_loader(ds, TrainConfig(), DistInfo()).sampler, EpochWeightedSampler)


def test_dataset_run_with_month_loss_and_location_resampling(tiny_dataset: Path, tmp_path: Path):
    out = tmp_path / "run"
    cfg_file = tiny_config(tmp_path / "tiny.yaml", tiny_dataset, out, epochs=1, resume="false")
    cfg = load_config(cfg_file, {"model.month_weight": 0.8, "data.resample": "location", "data.resample_power": 0.5})
    res = train(cfg)
    row = _log(out)[0]
    assert math.isfinite(float(row["loss"])) and float(row["month"]) > 0
    m = create_model("agclip", pretrained=out / "last.pt")
    assert m.config.month_weight == 0.8 and m.month_decoder is not None
    x = WindowDataset(open_dataset(tiny_dataset), "birdnet", cfg.data, train=False).all_windows(0)
    assert m(x).month_logits.shape == (len(x), 12)
    assert torch.equal(m.embed(x), res["model"].eval().embed(x))


def test_simulated_batches_carry_month_and_location_resampling():
    assert week_to_month(np.array([1, 4, 5, 48])).tolist() == [0, 0, 1, 11]
    sim = ScoreSimulator(TINY_SIM)
    b = sim.batch(np.random.default_rng(0), 4, 3)
    assert b.month.shape == (12,) and b.month.dtype == torch.long
    assert int(b.month.min()) >= 0 and int(b.month.max()) <= 11
    assert torch.equal(b.month[::3], b.month[1::3])  # windows of one clip share the week
    sim.resample_pool("location", 1.0, 2)
    assert sim._pool_p is not None and sim._pool_p.sum() == pytest.approx(1.0) and np.ptp(sim._pool_p) > 0
    with pytest.raises(GeoforensicsError, match="species resampling needs a dataset with species labels"):
        sim.resample_pool("species")


def test_simulated_run_with_month_loss_and_location_resampling(tmp_path: Path):
    out = tmp_path / "sim"
    over = {
        "sim": dataclasses.asdict(TINY_SIM),
        "model.hidden_dim": 16,
        "model.queue_size": 0,
        "model.month_weight": 1.0,
        "data.resample": "location",
        "data.resample_power": 0.5,
        "epochs": 1,
        "batch_size": 8,
        "progress": False,
        "resume": False,
        "output_dir": str(out),
    }
    res = train(load_config(PROJECT_ROOT / "configs" / "agclip_birdnet_sim.yaml", over))
    row = _log(out)[0]
    assert math.isfinite(float(row["loss"])) and float(row["month"]) > 0
    assert create_model("agclip", pretrained=out / "last.pt").month_decoder is not None
    assert res["epochs_run"] == 1


@pytest.mark.parametrize("name,check", [
    ("agclip_sim_month0.8.yaml", lambda c: c.model.month_weight == 0.8 and c.data.resample == "none"),
    ("agclip_sim_resample_location_sqrt.yaml",
     lambda c: (c.data.resample, c.data.resample_power, c.model.month_weight) == ("location", 0.5, 0.0)),
])
def test_ablation_yamls(name: str, check):
    base = load_config(PROJECT_ROOT / "configs" / "agclip_birdnet_sim.yaml")
    cfg = load_config(PROJECT_ROOT / "configs" / "ablations" / name)
    assert check(cfg) and cfg.output_dir != base.output_dir and cfg.output_dir.startswith("runs/")
    assert (cfg.epochs, cfg.sim, cfg.optimizer) == (base.epochs, base.sim, base.optimizer)
