"""Training configuration: one dataclass, loadable from YAML, with the paper's values as defaults.

Sources: paper Supp. A.5 "Model Architecture and Hyperparameters" ("We train for 50 epochs with
early stopping using the Nesterov accelerated SGD optimizer with a batch size of 128, weight decay
of 10^-5, and learning rate linearly ramped from 10^-3 to 10^-2 over the first 5 epochs and then
cosine decayed back to 10^-3 over the remaining 45 epochs"), Sec. 4.1 and the authors' release
(momentum 0.9 in ``get_opt``).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ..config import config_from_dict
from ..defaults import GALLERY, MAX_DURATION_S, WINDOW
from ..errors import GeoforensicsError
from ..models.agclip import AGCLIPConfig
from .resample import DEFAULT_H3_RES, RESAMPLE_MODES
from .simulate import SimConfig


@dataclass(frozen=True)
class DataConfig:
    """What to train on: a dataset folder/file read by ``geoforensics.data.open_dataset``, or "simulated"."""

    source: str = "dataset"
    """"dataset" or "simulated" (BirdNET scores simulated from the range model)."""
    path: str = ""
    val_path: str = ""
    """A separate validation set; empty: ``val_fraction`` of ``path`` (split by location)."""
    val_fraction: float = 0.1
    max_duration_s: float = MAX_DURATION_S
    window_s: float = WINDOW.window_s
    """Supp. A.5: 3 s windows ..."""
    stride_s: float = WINDOW.stride_s
    """... strided by 1.5 s (test-time dense windows)."""
    train_windows: str = "random"
    """Supp. A.5 / Fig. A6: "we sample a window uniformly at random from each audio recording"."""
    checklist_week: int = -1
    """Range-model week of the checklists (-1: year-round, like SINR's)."""
    num_workers: int = 0
    limit: int = 0
    resample: str = "none"
    """Supp. Table A7 data resampling: "none", "species", "location" or "location-species"
    (:mod:`geoforensics.train.resample`). Simulated data support "location" only (their pool of places)."""
    resample_power: float = 1.0
    """Weights 1 / n ** power: 1.0 is the paper's w ∝ 1/n, 0.5 its w ∝ 1/sqrt(n)."""
    resample_h3_res: int = DEFAULT_H3_RES
    """H3 resolution of the "location" counts (not in the paper; 2 as its classification baseline,
    see :mod:`geoforensics.train.resample`)."""

    def __post_init__(self) -> None:
        if self.resample not in RESAMPLE_MODES:
            raise GeoforensicsError(f"data.resample must be one of {', '.join(RESAMPLE_MODES)}, not {self.resample!r}")
        if self.resample_power < 0:
            raise GeoforensicsError(f"data.resample_power must be >= 0, not {self.resample_power}")
        if not 0 <= self.resample_h3_res <= 15:
            raise GeoforensicsError(f"data.resample_h3_res must be an H3 resolution 0-15, not {self.resample_h3_res}")
        if self.source == "simulated" and "species" in self.resample:
            raise GeoforensicsError(
                "species resampling needs a dataset with species labels; simulated data support resample: location"
            )

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> DataConfig:
        """The config of a plain dict, refusing unknown keys."""
        return config_from_dict(cls, d, "data config")


@dataclass(frozen=True)
class TrainConfig:
    """Everything ``geoforensics train`` needs; see the module docstring for the sources."""

    model: AGCLIPConfig = field(default_factory=AGCLIPConfig)
    data: DataConfig = field(default_factory=DataConfig)
    sim: SimConfig = field(default_factory=SimConfig)
    epochs: int = 50
    batch_size: int = 128
    optimizer: str = "sgd_nesterov"
    """SGD with Nesterov momentum (Sec. 4.1); "adamw" is offered for other uses."""
    momentum: float = 0.9
    weight_decay: float = 1e-5
    lr_start: float = 1e-3
    lr_peak: float = 1e-2
    lr_end: float = 1e-3
    warmup_epochs: float = 5.0
    early_stopping_patience: int = 10
    """Epochs without a better validation median km before stopping (the paper gives no patience)."""
    val_gallery: str = GALLERY
    val_pooling: str = "mean"
    """Recording-level pooling for validation: the paper averages window predictions (Sec. 3)."""
    seed: int = 0
    amp: bool = True
    """Mixed precision, used only on CUDA."""
    device: str = "auto"
    output_dir: str = "runs/agclip"
    resume: bool = True
    """Continue from ``output_dir/last.pt`` when present."""
    progress: bool = True
    max_steps_per_epoch: int = 0

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> TrainConfig:
        """The config of a plain dict (sections ``model``, ``data``, ``sim`` as dicts), refusing unknown keys."""
        nested = {"model": AGCLIPConfig.from_dict, "data": DataConfig.from_dict, "sim": SimConfig.from_dict}
        return config_from_dict(cls, d, "config", nested)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def load_config(path: str | Path, overrides: dict[str, Any] | None = None) -> TrainConfig:
    """A :class:`TrainConfig` from a YAML file; ``overrides`` (dotted keys) win."""
    import yaml

    p = Path(path)
    if not p.is_file():
        raise GeoforensicsError(f"config file not found: {p}")
    d = yaml.safe_load(p.read_text()) or {}
    for key, value in (overrides or {}).items():
        node = d
        parts = key.split(".")
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = value
    return TrainConfig.from_dict(d)


def lr_at(epoch: float, cfg: TrainConfig) -> float:
    """Learning rate at a (fractional) epoch: linear ``lr_start`` -> ``lr_peak`` over ``warmup_epochs``,
    then cosine back to ``lr_end`` at ``epochs`` (Supp. A.5)."""
    if cfg.warmup_epochs > 0 and epoch < cfg.warmup_epochs:
        return cfg.lr_start + (cfg.lr_peak - cfg.lr_start) * epoch / cfg.warmup_epochs
    span = max(cfg.epochs - cfg.warmup_epochs, 1e-9)
    t = min(max((epoch - cfg.warmup_epochs) / span, 0.0), 1.0)
    return cfg.lr_end + 0.5 * (cfg.lr_peak - cfg.lr_end) * (1.0 + math.cos(math.pi * t))
