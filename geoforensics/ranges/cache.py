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
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import numpy.typing as npt

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


def build_values(model: RangeModel, gallery: np.ndarray, week: int, out: np.ndarray) -> np.ndarray:
    """Fill ``out`` [n_species, n_points] with the model's occurrences, chunk by chunk; return the
    richness of each point (sum of occurrences over real species, i.e. expected species count)."""
    counted = np.asarray(getattr(model, "counts_in_richness", np.ones(len(model.species), bool)))
    richness = np.zeros(len(gallery), np.float64)
    for i in range(0, len(gallery), CHUNK):
        occ = model.occurrence(gallery[i : i + CHUNK], week)
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


class LazyRangeTable:
    """Ranges for one week computed on demand, keeping only the species asked for.

    A table per week would cost 220 MB of disk each (x 48); a dated query instead runs the range
    model once over the gallery (about 3 s over the 1 deg land grid on 2 cores) and keeps the rows of
    its evidence species and the richness. Same ``rows``/``richness``/``n_points`` as :class:`RangeTable`.
    """

    def __init__(self, model: RangeModel, gallery: np.ndarray, week: int):
        self.model_obj = model
        self.model = model.name
        self.week = week
        self.gallery = np.ascontiguousarray(gallery, dtype=np.float64)
        self.species = tuple(model.species)
        self._rows: dict[int, np.ndarray] = {}
        self._richness: np.ndarray | None = None

    @property
    def n_points(self) -> int:
        return len(self.gallery)

    @property
    def richness(self) -> np.ndarray:
        return self._richness if self._richness is not None else self._fill([])

    def rows(self, species_idx: npt.ArrayLike) -> np.ndarray:
        idx = [int(i) for i in np.asarray(species_idx, dtype=np.int64)]
        missing = sorted(set(idx) - set(self._rows))
        if missing or self._richness is None:
            self._fill(missing)
        if not idx:
            return np.zeros((0, self.n_points), np.float32)
        return np.stack([self._rows[i] for i in idx])

    def _fill(self, missing: list[int]) -> np.ndarray:
        """Run the range model over the gallery: keep the rows ``missing`` and the richness (returned)."""
        counted = np.asarray(getattr(self.model_obj, "counts_in_richness", np.ones(len(self.species), bool)))
        rich = np.zeros(self.n_points)
        cols = np.zeros((len(missing), self.n_points), np.float32)
        for i in range(0, self.n_points, CHUNK):
            occ = self.model_obj.occurrence(self.gallery[i : i + CHUNK], self.week)
            rich[i : i + CHUNK] = occ @ counted.astype(np.float32)
            if missing:
                cols[:, i : i + CHUNK] = occ[:, missing].T
        self._richness = rich
        for j, s in enumerate(missing):
            self._rows[s] = cols[j]
        return rich
