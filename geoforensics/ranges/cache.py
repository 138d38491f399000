"""Range values precomputed over a gallery and a week, memory-mapped from disk.

A query then costs reading a few species rows, not thousands of model calls: the table is stored
species-major ([n_species, n_points], float16), so one species' range over the whole gallery is one
contiguous read. Over the 1 deg land gallery that is 6,522 x 16,896 x 2 B = 220 MB per week,
built in a few seconds and written atomically, so concurrent processes never see half a file.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from ..atomic import write_text
from ..cachefiles import load_array, save_array, write_checked
from ..errors import GeoforensicsError
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


_TABLES: OrderedDict[Path, RangeTable] = OrderedDict()
"""The tables opened in this process (the last 8), each checked once."""


def _range_table(
    model: RangeModel, gallery_bytes: bytes, shape: tuple[int, ...], week: int, directory: str
) -> RangeTable:
    """Checked and memory-mapped once per process and table (:mod:`geoforensics.cachefiles`); a missing or
    damaged table is built again."""
    gallery = np.frombuffer(gallery_bytes, dtype=np.float64).reshape(shape)
    key = _key(model, gallery, week)
    path = Path(directory) / f"{model.name}-w{week}-{key}.npy"
    if path in _TABLES:
        _TABLES.move_to_end(path)
        return _TABLES[path]
    rich_path = path.with_suffix(".richness.npy")
    values = load_array(path, mmap=True)
    richness = load_array(rich_path)
    expected = (len(model.species), len(gallery))
    if values is None or richness is None or values.shape != expected or richness.shape != (len(gallery),):
        richness = np.zeros(len(gallery))

        def build(tmp: Path) -> None:
            arr = np.lib.format.open_memmap(tmp, mode="w+", dtype=np.float16, shape=expected)
            richness[:] = build_values(model, gallery, week, arr)
            arr.flush()
            del arr

        write_checked(path, build)
        save_array(rich_path, richness)
        meta = {"model": model.name, "version": model.version, "week": week, "n_points": len(gallery)}
        write_text(path.with_suffix(".json"), json.dumps(meta))
        values = load_array(path, mmap=True)
        if values is None:
            raise GeoforensicsError(
                f"the range table {path} could not be read back after it was written: check the disk"
            )
    table = RangeTable(model=model.name, week=week, gallery=gallery, values=values, species=tuple(model.species),
                       richness=richness)
    _TABLES[path] = table
    while len(_TABLES) > 8:
        _TABLES.popitem(last=False)
    return table


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
            cached = load_array(path)
            if cached is None or cached.shape != (self.n_points,) or not np.isfinite(cached).all():
                cached = build_values(self.model_obj, self.gallery, self.week, None)
                save_array(path, cached)
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
