"""Per-window features cached on disk: BirdNET V2.4 scores and AG-CLIP mel images.

Both are keyed by the audio file (resolved path, size, mtime) and the settings that produce them, so
a changed file or window spec never reuses a stale cache. Audio is decoded with
:func:`geoforensics.audio.decode_audio`, which never reads container tags.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..audio.windows import WindowSpec, split_windows
from ..defaults import MAX_DURATION_S, WINDOW
from ..paths import cache_dir



def _key(path: Path, *parts: Any) -> str:
    st = path.stat()
    text = "|".join(str(x) for x in (path.resolve(), st.st_size, st.st_mtime_ns, *parts))
    return hashlib.sha256(text.encode()).hexdigest()[:24]


def _save_npz(path: Path, **arrays: np.ndarray) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp.npz")
    np.savez(tmp, **arrays)
    os.replace(tmp, path)


def birdnet_window_scores(
    audio_path: str | os.PathLike, max_duration_s: float = MAX_DURATION_S, window: WindowSpec = WINDOW, geolocator: Any = None
) -> Any:
    """:class:`~geoforensics.geolocators.species_ranges.WindowScores` of a file, cached under ``cache_dir("birdnet-scores")``.

    Computed with ``SpeciesRangeGeolocator.species_scores`` (decode, window, BirdNET), so the cached
    scores are exactly what the default geolocator sees.
    """
    from ..geolocators.species_ranges import SpeciesRangeGeolocator, WindowScores

    path = Path(audio_path)
    key = _key(path, "birdnet-v2.4", max_duration_s, window)
    file = cache_dir("birdnet-scores") / f"{path.stem[:40]}-{key}.npz"
    if file.is_file():
        try:
            z = np.load(file)
            return WindowScores(
                starts_s=z["starts_s"], ends_s=z["ends_s"], scores=z["scores"], duration_s=float(z["duration_s"])
            )
        except (OSError, ValueError, KeyError):
            pass
    if geolocator is None:
        geolocator = SpeciesRangeGeolocator(window=window, max_duration_s=max_duration_s)
    ws = geolocator.species_scores(path)
    _save_npz(
        file,
        starts_s=ws.starts_s,
        ends_s=ws.ends_s,
        scores=ws.scores.astype(np.float32),
        duration_s=np.float64(ws.duration_s),
    )
    return ws


def mel_window_images(
    audio_path: str | os.PathLike,
    max_duration_s: float = MAX_DURATION_S,
    window: WindowSpec = WINDOW,
    pipeline: str = "agclip-mel-v1",
) -> np.ndarray:
    """uint8 [n_windows, 224, 224] mel images of a file (one channel: the pipeline repeats it thrice),
    cached under ``cache_dir("mels")``. Values are the pipeline's integer levels 0-255."""
    from ..audio.decode import decode_audio
    from ..audio.mel import get_mel_pipeline

    path = Path(audio_path)
    mel = get_mel_pipeline(pipeline)
    key = _key(path, pipeline, mel.config, max_duration_s, window)
    file = cache_dir("mels") / f"{path.stem[:40]}-{key}.npz"
    if file.is_file():
        try:
            return np.load(file)["images"]
        except (OSError, ValueError, KeyError):
            pass
    sr = mel.config.sample_rate
    audio = decode_audio(path, sr, max_duration_s=max_duration_s)
    wins = split_windows(audio, sr, window)
    out = []
    for i in range(0, len(wins), 32):
        img = mel(wins.data[i : i + 32])[:, 0]
        out.append(img.round().clamp(0, 255).to(dtype=torch.uint8).numpy())
    images = np.concatenate(out)
    _save_npz(file, images=images)
    return images
