"""Per-window AG-CLIP mel images cached on disk (BirdNET scores come from :mod:`geoforensics.scoring`).

Keyed like the scores cache by the audio file (resolved path, size, mtime) and the settings that
produce them, so a changed file or window spec never reuses a stale cache. Audio is decoded with
:func:`geoforensics.audio.decode_audio`, which never reads container tags.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import torch

from ..audio.decode import decode_audio
from ..audio.mel import get_mel_pipeline
from ..audio.windows import WindowSpec, split_windows
from ..cachefiles import load_arrays, save_arrays
from ..defaults import MAX_DURATION_S, WINDOW
from ..paths import cache_dir
from ..scoring import file_key


def mel_window_images(
    audio_path: str | os.PathLike[str],
    max_duration_s: float = MAX_DURATION_S,
    window: WindowSpec = WINDOW,
    pipeline: str = "agclip-mel-v1",
) -> np.ndarray:
    """uint8 [n_windows, 224, 224] mel images of a file (one channel: the pipeline repeats it thrice),
    cached under ``cache_dir("mels")``. Values are the pipeline's integer levels 0-255."""
    path = Path(audio_path)
    mel = get_mel_pipeline(pipeline)
    key = file_key(path, pipeline, mel.config, max_duration_s, window)
    file = cache_dir("mels") / f"{path.stem[:40]}-{key}.npz"
    cached = load_arrays(file, "images")
    if cached is not None:
        return cached["images"]
    sr = mel.config.sample_rate
    audio = decode_audio(path, sr, max_duration_s=max_duration_s)
    wins = split_windows(audio, sr, window)
    out = []
    for i in range(0, len(wins), 32):
        img = mel(wins.data[i : i + 32])[:, 0]
        out.append(img.round().clamp(0, 255).to(dtype=torch.uint8).numpy())
    images = np.concatenate(out)
    save_arrays(file, images=images)
    return images
