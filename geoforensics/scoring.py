"""Audio windows -> BirdNET V2.4 species scores (:class:`WindowScores`), and their disk cache.

* :func:`score_windows`: mono audio at BirdNET's rate -> 3 s windows (:data:`geoforensics.defaults.WINDOW`)
  -> the process-wide BirdNET (:func:`geoforensics.models.birdnet.get_audio_model`). Files and arrays of
  any rate reach it through :func:`geoforensics.evidence.gather_evidence` (``score_audio``, ``cached_scores``).
* The scores cache: a file's scores kept on disk under ``cache_dir("birdnet-scores")`` as float32, so a
  cached result equals a fresh one. The key is the resolved path, size and mtime of the file, the BirdNET
  model version, the window spec and the duration cap: a changed file or setting never reuses stale
  scores. Writes are atomic; an unreadable entry is recomputed.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import time
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from .audio.windows import WindowSpec, split_windows
from .cachefiles import load_arrays, save_arrays
from .defaults import MAX_DURATION_S, WINDOW
from .models.birdnet import MODEL_VERSION, SAMPLE_RATE, get_audio_model, load_labels
from .paths import cache_dir

log = logging.getLogger(__name__)

SCORES_CACHE = "birdnet-scores"
"""Folder (under :func:`geoforensics.paths.cache_dir`) of the scores cache."""


@dataclass
class WindowScores:
    """Species scores per audio window: ``scores[w, s]`` in [0, 1] for windows starting at ``starts_s``
    (seconds) and holding real audio until ``ends_s``; ``duration_s`` is the audio scored and
    ``source_duration_s`` the length of the whole recording, when known (longer where it was cut at
    ``max_duration_s``)."""

    starts_s: np.ndarray
    ends_s: np.ndarray
    scores: np.ndarray
    duration_s: float = 0.0
    timings: dict[str, float] = field(default_factory=dict)
    source_duration_s: float | None = None

    def cut_note(self) -> str | None:
        """The result note saying the recording was cut (:func:`cut_note`), or None."""
        return cut_note(self.duration_s, self.source_duration_s)


def cut_note(analysed_s: float, total_s: float | None) -> str | None:
    """"analysed the first 600 s of 7,200 s ..." when ``total_s`` is longer than ``analysed_s``, else None."""
    if total_s is None or not np.isfinite(total_s) or total_s <= analysed_s + 0.05:
        return None
    return (
        f"analysed the first {analysed_s:,.0f} s of {total_s:,.0f} s: the rest of the recording was not listened to "
        "(raise max_duration_s, or --max-duration, to analyse more)"
    )


NOISE_FLOOR_TABLE = Path(__file__).parent / "models" / "birdnet_noise_floor.json"
"""Per BirdNET class, the highest score it reached on generated non-animal sound (``forensics/noise.py`` builds it)."""


@lru_cache(maxsize=1)
def noise_floor() -> np.ndarray:
    """Per BirdNET class, the score it may reach on non-animal sound (0 for classes never seen there): white
    noise scores as a Lesser Spotted Woodpecker, an engine's drone as a Great Bittern."""
    labels = load_labels()
    out = np.zeros(len(labels), np.float32)
    if NOISE_FLOOR_TABLE.is_file():
        for name, value in json.loads(NOISE_FLOOR_TABLE.read_text())["floor"].items():
            try:
                out[labels.index(name)] = value
            except KeyError:
                continue
    out.setflags(write=False)
    return out


def discount(scores: np.ndarray, floor: np.ndarray | None = None) -> np.ndarray:
    """Scores [windows, classes] less what non-animal sound can give each class (:func:`noise_floor`, or
    ``floor``), rescaled to [0, 1]: ``max(0, (q - floor) / (1 - floor))``."""
    f = noise_floor() if floor is None else np.asarray(floor, np.float32)
    if scores.shape[-1] != len(f):
        return scores
    discounted: np.ndarray = np.clip((scores - f) / (1.0 - np.minimum(f, 0.99)), 0.0, 1.0).astype(np.float32)
    return discounted


def pool_scores(scores: np.ndarray, how: str = "max") -> np.ndarray:
    """Clip-level species confidence from window scores [n_windows, n_species]."""
    if len(scores) == 0:
        return np.zeros(scores.shape[1], np.float32)
    if how == "max":
        return np.asarray(scores.max(0))
    if how == "mean":
        return np.asarray(scores.mean(0))
    raise ValueError(f"unknown pooling {how!r}: use 'max' or 'mean'")


def score_windows(
    audio: np.ndarray, window: WindowSpec = WINDOW, *, source_duration_s: float | None = None
) -> WindowScores:
    """BirdNET scores of the windows of mono float32 ``audio`` at BirdNET's rate; ``source_duration_s``: the
    whole recording's length when only part of it is ``audio``."""
    t0 = time.perf_counter()
    wins = split_windows(audio, SAMPLE_RATE, window)
    scores = np.asarray(get_audio_model().scores(wins.data), dtype=np.float32)
    return WindowScores(
        starts_s=np.asarray(wins.starts_s, np.float64),
        ends_s=np.asarray(wins.ends_s, np.float64),
        scores=scores,
        duration_s=len(audio) / SAMPLE_RATE,
        timings={"classify_s": time.perf_counter() - t0},
        source_duration_s=source_duration_s,
    )


# ---------------------------------------------------------------- per-file disk caches


def file_key(path: Path, *settings: Any) -> str:
    """Cache key of a file's derived data: its resolved path, size and mtime, and ``settings``."""
    st = path.stat()
    text = "|".join(str(x) for x in (path.resolve(), st.st_size, st.st_mtime_ns, *settings))
    return hashlib.sha256(text.encode()).hexdigest()[:24]


def _cache_file(path: Path, max_duration_s: float | None, window: WindowSpec) -> Path:
    key = file_key(path, MODEL_VERSION, window, max_duration_s)
    return cache_dir(SCORES_CACHE) / f"{path.stem[:40]}-{key}.npz"


def load_cached_scores(
    path: Path, max_duration_s: float | None = MAX_DURATION_S, window: WindowSpec = WINDOW
) -> WindowScores | None:
    """The cached scores of the file ``path`` with these settings, or None (absent, unreadable, or written
    without the recording's length by an older version for a recording cut at ``max_duration_s``)."""
    t0 = time.perf_counter()
    z = load_arrays(_cache_file(path, max_duration_s, window), "starts_s", "ends_s", "scores", "duration_s",
                 optional=("source_duration_s",))
    if z is None or z["scores"].ndim != 2 or not len(z["starts_s"]) == len(z["ends_s"]) == len(z["scores"]):
        return None
    duration_s = float(z["duration_s"])
    if "source_duration_s" in z:  # NaN: unknown
        total = None if np.isnan(total_s := float(z["source_duration_s"])) else total_s
    elif max_duration_s is None or duration_s < max_duration_s - 0.01:
        total = duration_s
    else:
        return None
    return WindowScores(z["starts_s"], z["ends_s"], z["scores"], duration_s,
                        timings={"cache_s": time.perf_counter() - t0}, source_duration_s=total)


def store_scores(
    path: str | os.PathLike[str], ws: WindowScores, *, max_duration_s: float | None = MAX_DURATION_S,
    window: WindowSpec = WINDOW,
) -> bool:
    """Put scores of ``path`` into this machine's cache (computed here, or elsewhere, e.g. on a Ray worker,
    with the same settings), so :func:`load_cached_scores` finds them. Nothing is written when the cache
    already holds a usable entry; True when written."""
    path = Path(path)
    file = _cache_file(path, max_duration_s, window)
    if load_cached_scores(path, max_duration_s, window) is not None:
        return False
    total = np.nan if ws.source_duration_s is None else ws.source_duration_s
    save_arrays(file, starts_s=np.asarray(ws.starts_s, np.float64), ends_s=np.asarray(ws.ends_s, np.float64),
             scores=np.asarray(ws.scores, np.float32), duration_s=np.float64(ws.duration_s),
             source_duration_s=np.float64(total))
    return True
