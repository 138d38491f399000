"""A tiny synthetic dataset: generated chirps at a few places, as a CSV manifest."""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np
import pytest

PLACES = [(48.85, 2.35), (40.7, -74.0), (-33.9, 151.2), (35.7, 139.7), (-1.3, 36.8), (-23.5, -46.6)]


def write_wav(path: Path, audio: np.ndarray, sr: int) -> None:
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(sr)
        w.writeframes((np.clip(audio, -1, 1) * 32767).astype("<i2").tobytes())


@pytest.fixture(scope="session")
def tiny_dataset(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("tiny-ds")
    sr = 22050
    t = np.arange(int(4.5 * sr)) / sr
    rows = ["file,id,lat,lon,date,species"]
    for i, (lat, lon) in enumerate(PLACES):
        f0 = 1500 + 700 * i
        audio = 0.3 * np.sin(2 * np.pi * (f0 + 300 * np.sin(2 * np.pi * 3 * t)) * t) * (np.sin(2 * np.pi * 2 * t) > 0)
        write_wav(root / f"clip{i}.wav", audio, sr)
        rows.append(f"clip{i}.wav,c{i},{lat},{lon},2020-05-0{i + 1},")
    (root / "labels.csv").write_text("\n".join(rows) + "\n")
    return root


def tiny_config(path: Path, data: Path, out: Path, epochs: int = 2, **extra: str) -> Path:
    """A tiny YAML: frozen BirdNET encoder on the synthetic clips, AdamW, 6 clips per batch."""
    lines = [
        "model: {encoder: birdnet, hidden_dim: 16}",
        f"data: {{source: dataset, path: '{data}', val_path: '{data}', max_duration_s: 10}}",
        f"epochs: {epochs}",
        "batch_size: 6",
        "optimizer: adamw",
        "lr_start: 0.01",
        "lr_peak: 0.01",
        "lr_end: 0.01",
        "warmup_epochs: 0",
        "val_gallery: land-1",
        "progress: false",
        f"output_dir: '{out}'",
    ] + [f"{k}: {v}" for k, v in extra.items()]
    path.write_text("\n".join(lines) + "\n")
    return path
