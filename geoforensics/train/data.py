"""Datasets of windows with targets, over any reader of :mod:`geoforensics.data`.

Each recording gives cached per-window features (BirdNET scores from :mod:`geoforensics.scoring` or
mel images from :mod:`geoforensics.train.features`), its GeoCLIP target embedding, its range-model
checklist and the month of its date (0-11, -1 when undated) for the auxiliary month loss (Supp. Table A8).
Training draws one window per recording uniformly at random (Supp. A.5, Fig. A6); evaluation uses
every window and pools per recording.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from torch.utils.data import Dataset

from ..audio.windows import WindowSpec
from ..evidence import cached_scores
from ..models.birdnet import BirdNETRangeModel, load_labels
from ..models.location_encoders import get_location_encoder
from .config import DataConfig
from .features import mel_window_images
from .resample import resampling_weights


def recording_features(path: Any, kind: str, data: DataConfig) -> np.ndarray:
    """Per-window features of one file: uint8 [n, 224, 224] mel images or float32 [n, 6522] scores."""
    spec = WindowSpec(data.window_s, data.stride_s)
    if kind == "mel":
        return mel_window_images(path, data.max_duration_s, spec)
    if kind == "birdnet":
        return cached_scores(path, max_duration_s=data.max_duration_s, window=spec).scores
    raise ValueError(f"unknown feature kind {kind!r}")


def features_to_input(x: np.ndarray | torch.Tensor, kind: str) -> torch.Tensor:
    """Cached features -> model input: mel images repeated to 3 channels (0-255 float), scores as float."""
    t = torch.as_tensor(np.asarray(x))
    if kind == "mel":
        t = t.float()
        if t.ndim == 2:
            t = t.unsqueeze(0)
        return t.unsqueeze(-3).expand(*t.shape[:-2], 3, *t.shape[-2:])
    return t.float()


def recording_month(r: Any) -> int:
    """Month index 0-11 of a recording's ``date``, -1 when it has none."""
    d = getattr(r, "date", None)
    return d.month - 1 if d is not None else -1


class WindowDataset(Dataset[tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor, int]]):
    """Recordings -> (input, target embedding [512], checklist [n_species], month, index).

    ``train=True``: one random window per item (a new draw each epoch via ``set_epoch``);
    ``train=False``: items are recordings and :meth:`all_windows` gives every window.
    """

    def __init__(
        self,
        recordings: Sequence[Any],
        kind: str,
        data: DataConfig,
        location_encoder: Any = None,
        range_model: Any = None,
        checklist_threshold: float = 0.1,
        train: bool = True,
        seed: int = 0,
    ) -> None:
        self.recordings = [r for r in recordings if r.audio_path is not None and r.audio_path.is_file()]
        self.kind, self.data, self.train, self.seed = kind, data, train, seed
        self.epoch = 0
        self.latlon = np.array([[r.lat, r.lon] for r in self.recordings], dtype=np.float64).reshape(-1, 2)
        if location_encoder is None or isinstance(location_encoder, str):

            location_encoder = get_location_encoder(location_encoder or "geoclip")
        dim = int(getattr(location_encoder, "dim", 512))
        self.targets = location_encoder.encode(self.latlon) if len(self.latlon) else torch.zeros(0, dim)
        if range_model is None:

            range_model = BirdNETRangeModel()

        occ = range_model.occurrence(self.latlon, data.checklist_week) if len(self.latlon) else np.zeros((0, 6522))
        mask = load_labels().is_species if occ.shape[1] == len(load_labels()) else np.ones(occ.shape[1], bool)
        self.checklists = torch.from_numpy(((occ >= checklist_threshold) & mask[None]).astype(np.float32))
        self.months = torch.tensor([recording_month(r) for r in self.recordings], dtype=torch.long)
        self._feats: dict[int, np.ndarray] = {}

    def __len__(self) -> int:
        return len(self.recordings)

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def features(self, i: int) -> np.ndarray:
        if i not in self._feats:
            self._feats[i] = recording_features(self.recordings[i].audio_path, self.kind, self.data)
        return self._feats[i]

    def species_keys(self) -> list[str | None]:
        """Each recording's focal (first) species, None when unlabelled."""
        return [r.species[0] if getattr(r, "species", ()) else None for r in self.recordings]

    def sampling_weights(self) -> np.ndarray:
        """Per-recording sampling probabilities of ``data.resample`` (Supp. Table A7)."""
        d = self.data
        return resampling_weights(self.species_keys(), self.latlon, d.resample, d.resample_power, d.resample_h3_res)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor, int]:
        f = self.features(i)
        if self.train and self.data.train_windows == "random":
            rng = np.random.default_rng((self.seed, self.epoch, i))
            w = int(rng.integers(len(f)))
        else:
            w = 0
        return features_to_input(f[w], self.kind), self.targets[i], self.checklists[i], self.months[i], i

    def all_windows(self, i: int) -> torch.Tensor:
        """Model inputs of every window of recording ``i``."""
        return features_to_input(self.features(i), self.kind)
