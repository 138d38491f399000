"""Range values precomputed over a gallery and a week, memory-mapped from disk.

A query then costs reading a few species rows, not thousands of model calls: the table is stored
species-major ([n_species, n_points], float16), so one species' range over the whole gallery is one
contiguous read. Over the 1 deg land gallery that is 6,522 x 16,896 x 2 B = 220 MB per week,
built in a few seconds and written atomically, so concurrent processes never see half a file.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from collections import OrderedDict
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import numpy.typing as npt

from ..atomic import atomic_open
from ..paths import cache_dir
from .base import RangeModel

CHUNK = 4096


@dataclass
class RangeTable:
    """Occurrence of each species over ``gallery`` at ``week`` (``values[s, i]``)."""

    model: str
    week: int
    gallery: np.ndarray
    values: np.ndarray
    species: tuple[str, ...]
    richness: np.ndarray

    @property
    def n_points(self) -> int:
        return int(self.values.shape[1])

    def rows(self, species_idx: npt.ArrayLike) -> np.ndarray:
        """float32 ranges [k, n_points] of the given species indices."""
        return np.asarray(self.values[np.asarray(species_idx, dtype=np.int64)], dtype=np.float32)


def _key(model: RangeModel, gallery: np.ndarray, week: int) -> str:
    h = hashlib.sha256()
    h.update(np.ascontiguousarray(gallery, dtype=np.float64).tobytes())
    h.update(f"{model.name}|{model.version}|{week}|{len(model.species)}".encode())
    return h.hexdigest()[:20]


def build_values(model: RangeModel, gallery: np.ndarray, week: int, out: np.ndarray | None) -> np.ndarray:
    """Fill ``out`` [n_species, n_points] (None: keep nothing) with the model's occurrences, chunk by chunk;
    return the richness of each point (sum of occurrences over real species, i.e. expected species count)."""
    counted = np.asarray(getattr(model, "counts_in_richness", np.ones(len(model.species), bool)))
    richness = np.zeros(len(gallery), np.float64)
    for i in range(0, len(gallery), CHUNK):
        occ = model.occurrence(gallery[i : i + CHUNK], week)
        if out is not None:
            out[:, i : i + CHUNK] = occ.T.astype(out.dtype)
        richness[i : i + CHUNK] = occ @ counted.astype(np.float32)
    return richness


_lock = threading.Lock()


def range_table(model: RangeModel, gallery: np.ndarray, week: int = -1, *, directory: Path | None = None) -> RangeTable:
    """The cached :class:`RangeTable` for ``model`` over ``gallery`` at ``week``; built on first use."""
    gallery = np.ascontiguousarray(gallery, dtype=np.float64)
    with _lock:
        return _range_table(model, gallery.tobytes(), gallery.shape, week, str(directory or cache_dir("ranges")))


@lru_cache(maxsize=8)
def _range_table_cached(model_name: str, key: str, path: str, n_species: int, n_points: int) -> np.ndarray:
    values: np.ndarray = np.load(path, mmap_mode="r")
    return values


def _range_table(model: RangeModel, gallery_bytes: bytes, shape: tuple[int, ...], week: int, directory: str) -> RangeTable:
    gallery = np.frombuffer(gallery_bytes, dtype=np.float64).reshape(shape)
    key = _key(model, gallery, week)
    path = Path(directory) / f"{model.name}-w{week}-{key}.npy"
    rich_path = path.with_suffix(".richness.npy")
    if not (path.exists() and rich_path.exists()):
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".tmp{os.getpid()}.npy")
        try:
            arr = np.lib.format.open_memmap(tmp, mode="w+", dtype=np.float16, shape=(len(model.species), len(gallery)))
            richness = build_values(model, gallery, week, arr)
            arr.flush()
            del arr
            np.save(tmp.with_suffix(".r.npy"), richness)
            os.replace(tmp.with_suffix(".r.npy"), rich_path)
            os.replace(tmp, path)
        finally:
            tmp.unlink(missing_ok=True)
            tmp.with_suffix(".r.npy").unlink(missing_ok=True)
        meta = {"model": model.name, "version": model.version, "week": week, "n_points": len(gallery)}
        path.with_suffix(".json").write_text(json.dumps(meta))
    values = _range_table_cached(model.name, key, str(path), len(model.species), len(gallery))
    return RangeTable(
        model=model.name,
        week=week,
        gallery=gallery,
        values=values,
        species=tuple(model.species),
        richness=np.load(rich_path),
    )


class WeekRanges:
    """Ranges for one week over a gallery, computed as they are asked for.

    A full table per week would take 220 MB of disk each (x 48). Instead the richness of the week (one
    pass of the range model over the gallery, all species) is computed once per machine and kept on
    disk (86 KB over the 1 deg land grid), and species rows are computed when first asked for, many at
    once, from a model that answers for a few species quickly (``occurrence(..., species=...)``: the
    BirdNET meta-model's last layer for those species only), and kept in memory (the most recent
    :data:`MAX_ROWS`). Same ``rows``/``richness``/``n_points`` as :class:`RangeTable`.
    """

    MAX_ROWS = 512

    def __init__(self, model: RangeModel, gallery: np.ndarray, week: int, directory: Path | None = None):
        self.model_obj = model
        self.model = model.name
        self.week = week
        self.gallery = np.ascontiguousarray(gallery, dtype=np.float64)
        self.species = tuple(model.species)
        self._dir = directory
        self._rows: OrderedDict[int, np.ndarray] = OrderedDict()
        self._richness: np.ndarray | None = None
        self._lock = threading.Lock()

    @property
    def n_points(self) -> int:
        return len(self.gallery)

    @property
    def richness(self) -> np.ndarray:
        if self._richness is None:
            path = Path(self._dir or cache_dir("ranges")) / (
                f"{self.model}-w{self.week}-{_key(self.model_obj, self.gallery, self.week)}.richness.npy")
            cached = _load_richness(path, self.n_points)
            if cached is None:
                cached = build_values(self.model_obj, self.gallery, self.week, None)
                with atomic_open(path, "wb") as f:
                    np.save(f, cached)
            self._richness = cached
        return self._richness

    def rows(self, species_idx: npt.ArrayLike) -> np.ndarray:
        """float32 ranges [k, n_points] of the given species indices."""
        idx = [int(i) for i in np.asarray(species_idx, dtype=np.int64).reshape(-1)]
        with self._lock:
            missing = sorted(set(idx) - set(self._rows))
            if missing:
                cols = np.empty((len(missing), self.n_points), np.float32)
                for i in range(0, self.n_points, CHUNK):
                    part = self.model_obj.occurrence(self.gallery[i : i + CHUNK], self.week, species=np.array(missing))
                    cols[:, i : i + CHUNK] = part.T
                for j, s in enumerate(missing):
                    self._rows[s] = cols[j]
            for s in idx:
                self._rows.move_to_end(s)
            out = np.stack([self._rows[s] for s in idx]) if idx else np.zeros((0, self.n_points), np.float32)
            while len(self._rows) > max(self.MAX_ROWS, len(idx)):
                self._rows.popitem(last=False)
        return out


def _load_richness(path: Path, n_points: int) -> np.ndarray | None:
    if not path.is_file():
        return None
    try:
        arr: np.ndarray = np.load(path, allow_pickle=False)
    except (OSError, ValueError, EOFError):
        return None
    return arr if arr.shape == (n_points,) and arr.dtype == np.float64 and np.isfinite(arr).all() else None
