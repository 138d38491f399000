"""The one audio scorer: audio -> 3 s windows -> BirdNET V2.4 species scores (:class:`WindowScores`).

Every geolocator, Table 1, training and the benchmarks get their species scores here:

* :func:`score_audio`: a file (decoded with :func:`geoforensics.audio.decode_audio`, which never reads
  container tags) or an array with its ``sample_rate``; at most ``max_duration_s`` seconds are scored;
  windows follow :data:`geoforensics.defaults.WINDOW`; BirdNET is the process-wide
  :func:`geoforensics.models.birdnet.get_audio_model`.
* :func:`cached_scores`: the same for a file, kept on disk under ``cache_dir("birdnet-scores")`` as
  float32, so a cached result equals a fresh one. The key is the resolved path, size and mtime of the
  file, the BirdNET model version, the window spec and the duration cap: a changed file or setting
  never reuses stale scores. Writes are atomic; an unreadable cache file is recomputed.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .audio.windows import WindowSpec
from .defaults import MAX_DURATION_S, WINDOW
from .errors import InputError
from .paths import cache_dir

log = logging.getLogger(__name__)

SCORES_CACHE = "birdnet-scores"
"""Folder (under :func:`geoforensics.paths.cache_dir`) of the scores cache."""


@dataclass
class WindowScores:
    """Species scores per audio window: ``scores[w, s]`` in [0, 1] for windows starting at ``starts_s``
    (seconds) and holding real audio until ``ends_s``; ``duration_s`` is the audio scored."""

    starts_s: np.ndarray
    ends_s: np.ndarray
    scores: np.ndarray
    duration_s: float = 0.0
    timings: dict[str, float] = field(default_factory=dict)


def pool_scores(scores: np.ndarray, how: str = "max") -> np.ndarray:
    """Clip-level species confidence from window scores [n_windows, n_species]."""
    if len(scores) == 0:
        return np.zeros(scores.shape[1], np.float32)
    if how == "max":
        return np.asarray(scores.max(0))
    if how == "mean":
        return np.asarray(scores.mean(0))
    raise ValueError(f"unknown pooling {how!r}: use 'max' or 'mean'")


def score_audio(
    source: str | os.PathLike[str] | np.ndarray,
    *,
    sample_rate: int | None = None,
    max_duration_s: float | None = MAX_DURATION_S,
    window: WindowSpec = WINDOW,
) -> WindowScores:
    """BirdNET scores of the windows of a file or of an array (mono or multichannel, with its
    ``sample_rate``). Only the first ``max_duration_s`` seconds are scored (None: all of it)."""
    from .audio.decode import decode_audio, load_array
    from .audio.windows import split_windows
    from .models.birdnet import SAMPLE_RATE, get_audio_model

    t0 = time.perf_counter()
    if isinstance(source, np.ndarray):
        if sample_rate is None:
            raise ValueError("pass sample_rate with an audio array")
        audio = load_array(source, sample_rate, SAMPLE_RATE)
        if max_duration_s is not None:
            audio = audio[: int(round(max_duration_s * SAMPLE_RATE))]
    else:
        audio = decode_audio(source, SAMPLE_RATE, max_duration_s=max_duration_s)
    t1 = time.perf_counter()
    wins = split_windows(audio, SAMPLE_RATE, window)
    scores = np.asarray(get_audio_model().scores(wins.data), dtype=np.float32)
    t2 = time.perf_counter()
    return WindowScores(
        starts_s=np.asarray(wins.starts_s, np.float64),
        ends_s=np.asarray(wins.ends_s, np.float64),
        scores=scores,
        duration_s=len(audio) / SAMPLE_RATE,
        timings={"decode_s": t1 - t0, "classify_s": t2 - t1},
    )


# ---------------------------------------------------------------- per-file disk caches


def file_key(path: Path, *settings: Any) -> str:
    """Cache key of a file's derived data: its resolved path, size and mtime, and ``settings``."""
    st = path.stat()
    text = "|".join(str(x) for x in (path.resolve(), st.st_size, st.st_mtime_ns, *settings))
    return hashlib.sha256(text.encode()).hexdigest()[:24]


def save_npz(path: Path, **arrays: Any) -> None:
    """Write ``arrays`` to ``path`` atomically (a temporary file in the same folder, then a rename)."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez(f, **arrays)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def load_npz(path: Path, *names: str) -> dict[str, np.ndarray] | None:
    """The arrays ``names`` of a cache file, or None when it is absent or unreadable (then it is recomputed)."""
    if not path.is_file():
        return None
    try:
        with np.load(path) as z:
            return {n: z[n] for n in names}
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as e:
        log.warning("cache file %s is unreadable (%s): recomputing", path, e)
        return None


def _cache_file(path: Path, max_duration_s: float | None, window: WindowSpec) -> Path:
    from .models.birdnet import MODEL_VERSION

    key = file_key(path, MODEL_VERSION, window, max_duration_s)
    return cache_dir(SCORES_CACHE) / f"{path.stem[:40]}-{key}.npz"


def cached_scores(
    path: str | os.PathLike[str], *, max_duration_s: float | None = MAX_DURATION_S, window: WindowSpec = WINDOW
) -> WindowScores:
    """:func:`score_audio` of a file, cached on disk (see the module docstring)."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"audio file {path}: no such file")
    t0 = time.perf_counter()
    file = _cache_file(path, max_duration_s, window)
    z = load_npz(file, "starts_s", "ends_s", "scores", "duration_s")
    if z is not None and z["scores"].ndim == 2 and len(z["starts_s"]) == len(z["ends_s"]) == len(z["scores"]):
        return WindowScores(z["starts_s"], z["ends_s"], z["scores"], float(z["duration_s"]),
                            timings={"cache_s": time.perf_counter() - t0})
    ws = score_audio(path, max_duration_s=max_duration_s, window=window)
    save_npz(file, starts_s=ws.starts_s, ends_s=ws.ends_s, scores=ws.scores, duration_s=np.float64(ws.duration_s))
    return ws


def store_scores(
    path: str | os.PathLike[str], ws: WindowScores, *, max_duration_s: float | None = MAX_DURATION_S, window: WindowSpec = WINDOW
) -> bool:
    """Put scores of ``path`` computed elsewhere (e.g. on a Ray worker, by :func:`score_audio` with the
    same settings) into this machine's cache, so :func:`cached_scores` finds them. Nothing is written
    when the cache already holds a readable entry; True when written."""
    path = Path(path)
    file = _cache_file(path, max_duration_s, window)
    if load_npz(file, "scores") is not None:
        return False
    save_npz(file, starts_s=np.asarray(ws.starts_s, np.float64), ends_s=np.asarray(ws.ends_s, np.float64),
             scores=np.asarray(ws.scores, np.float32), duration_s=np.float64(ws.duration_s))
    return True
