from pathlib import Path

import pytest

from geoforensics.errors import GeoforensicsError
from geoforensics.paths import PROJECT_ROOT
from geoforensics.train.config import TrainConfig, load_config, lr_at


def test_paper_schedule_lr_at_epochs_0_5_50():
    cfg = TrainConfig()
    assert lr_at(0, cfg) == pytest.approx(1e-3)
    assert lr_at(2.5, cfg) == pytest.approx(5.5e-3)
    assert lr_at(5, cfg) == pytest.approx(1e-2)
    assert lr_at(27.5, cfg) == pytest.approx(5.5e-3)
    assert lr_at(50, cfg) == pytest.approx(1e-3)


def test_paper_yaml_has_paper_values():
    cfg = load_config(PROJECT_ROOT / "configs" / "agclip_paper.yaml")
    assert (cfg.epochs, cfg.batch_size, cfg.optimizer, cfg.momentum) == (50, 128, "sgd_nesterov", 0.9)
    assert (cfg.weight_decay, cfg.lr_start, cfg.lr_peak, cfg.lr_end, cfg.warmup_epochs) == (1e-5, 1e-3, 1e-2, 1e-3, 5)
    assert (cfg.model.encoder, cfg.model.hidden_dim, cfg.model.bce_weight, cfg.model.checklist_threshold) == (
        "mobilenetv3_large", 128, 0.01, 0.1)
    assert cfg.data.train_windows == "random" and (cfg.data.window_s, cfg.data.stride_s) == (3.0, 1.5)


def test_sim_yaml_loads_and_unknown_fields_fail(tmp_path: Path):
    cfg = load_config(PROJECT_ROOT / "configs" / "agclip_birdnet_sim.yaml", {"sim.steps_per_epoch": 3})
    assert cfg.model.encoder == "birdnet" and cfg.sim.steps_per_epoch == 3
    bad = tmp_path / "bad.yaml"
    bad.write_text("epochz: 3\n")
    with pytest.raises(GeoforensicsError, match="epochz"):
        load_config(bad)


@pytest.mark.parametrize(
    "section,key,what",
    [("model", "hidden", "model config"), ("data", "pathz", "data config"), ("sim", "jitter", "sim config")],
)
def test_unknown_fields_of_every_section_fail(tmp_path: Path, section: str, key: str, what: str):
    bad = tmp_path / "bad.yaml"
    bad.write_text(f"{section}: {{{key}: 1}}\n")
    with pytest.raises(GeoforensicsError, match=f"unknown {what} fields: {key}"):
        load_config(bad)


def test_sections_and_tuples_from_yaml(tmp_path: Path):
    f = tmp_path / "c.yaml"
    f.write_text("model: {encoder: birdnet}\ndata:\nsim: {n_true_probs: [0.5, 0.5]}\nepochs: 2\n")
    cfg = load_config(f)
    assert cfg.model.encoder == "birdnet" and cfg.data == TrainConfig().data and cfg.epochs == 2
    assert cfg.sim.n_true_probs == (0.5, 0.5)
    assert TrainConfig.from_dict(cfg.to_dict()) == cfg
