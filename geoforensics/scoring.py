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
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .atomic import atomic_open
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


def recording_duration(
    source: str | os.PathLike[str] | np.ndarray, analysed_s: float, max_duration_s: float | None,
    sample_rate: int | None = None, container_s: float | None = None,
) -> float | None:
    """Length in seconds of the whole recording of which ``analysed_s`` seconds were analysed: an array's
    from its samples and ``sample_rate``; a file's is ``analysed_s`` unless decoding stopped at
    ``max_duration_s``, then the container's figure (``container_s`` when the caller probed the file
    already, else probed here; None when it does not say)."""
    if isinstance(source, np.ndarray):
        from .audio.decode import array_samples

        return array_samples(source) / float(sample_rate or 1)
    if max_duration_s is None or analysed_s < max_duration_s - 0.01:
        return analysed_s
    if container_s is not None:
        return container_s
    from .ffmpeg import probe

    try:
        return probe(source).duration_s
    except InputError:
        return None


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
    ``sample_rate``). Only the first ``max_duration_s`` seconds are scored (None: all of it): a file
    is decoded no further, an array is cut before it is resampled, and ``source_duration_s`` says how
    long the whole recording was (:meth:`WindowScores.cut_note`)."""
    from .audio.decode import decode_audio, load_array
    from .audio.windows import split_windows
    from .models.birdnet import SAMPLE_RATE, get_audio_model

    t0 = time.perf_counter()
    if isinstance(source, np.ndarray):
        if sample_rate is None:
            raise InputError("pass sample_rate with an audio array")
        audio = load_array(source, sample_rate, SAMPLE_RATE, max_duration_s=max_duration_s)
    else:
        audio = decode_audio(source, SAMPLE_RATE, max_duration_s=max_duration_s)
    total_s = recording_duration(source, len(audio) / SAMPLE_RATE, max_duration_s, sample_rate)
    t1 = time.perf_counter()
    wins = split_windows(audio, SAMPLE_RATE, window)
    duration_s = len(audio) / SAMPLE_RATE
    del audio
    scores = np.asarray(get_audio_model().scores(wins.data), dtype=np.float32)
    t2 = time.perf_counter()
    return WindowScores(
        starts_s=np.asarray(wins.starts_s, np.float64),
        ends_s=np.asarray(wins.ends_s, np.float64),
        scores=scores,
        duration_s=duration_s,
        timings={"decode_s": t1 - t0, "classify_s": t2 - t1},
        source_duration_s=total_s,
    )


# ---------------------------------------------------------------- per-file disk caches


def file_key(path: Path, *settings: Any) -> str:
    """Cache key of a file's derived data: its resolved path, size and mtime, and ``settings``."""
    st = path.stat()
    text = "|".join(str(x) for x in (path.resolve(), st.st_size, st.st_mtime_ns, *settings))
    return hashlib.sha256(text.encode()).hexdigest()[:24]


def save_npz(path: Path, **arrays: Any) -> None:
    """Write ``arrays`` to ``path`` atomically (a temporary file in the same folder, then a rename)."""
    with atomic_open(path, "wb") as f:
        np.savez(f, **arrays)


def load_npz(path: Path, *names: str, optional: tuple[str, ...] = ()) -> dict[str, np.ndarray] | None:
    """The arrays ``names`` (and those of ``optional`` it holds) of a cache file, or None when it is
    absent, unreadable or lacks one of ``names`` (then it is recomputed)."""
    if not path.is_file():
        return None
    try:
        with np.load(path) as z:
            return {n: z[n] for n in names} | {n: z[n] for n in optional if n in z.files}
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
    z = load_npz(file, "starts_s", "ends_s", "scores", "duration_s", optional=("source_duration_s",))
    if z is not None and z["scores"].ndim == 2 and len(z["starts_s"]) == len(z["ends_s"]) == len(z["scores"]):
        duration_s = float(z["duration_s"])
        if "source_duration_s" in z:  # NaN: unknown
            total_s = float(z["source_duration_s"])
            total = None if np.isnan(total_s) else total_s
        else:  # written before the recording's length was kept
            total = recording_duration(path, duration_s, max_duration_s)
        return WindowScores(z["starts_s"], z["ends_s"], z["scores"], duration_s,
                            timings={"cache_s": time.perf_counter() - t0}, source_duration_s=total)
    ws = score_audio(path, max_duration_s=max_duration_s, window=window)
    total = np.nan if ws.source_duration_s is None else ws.source_duration_s
    save_npz(file, starts_s=ws.starts_s, ends_s=ws.ends_s, scores=ws.scores, duration_s=np.float64(ws.duration_s),
             source_duration_s=np.float64(total))
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
