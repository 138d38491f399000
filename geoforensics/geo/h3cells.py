"""H3 (v4) helpers: cells as class labels with centroids, hexagon boundaries for maps, grid disks."""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache
from typing import Any

import h3
import numpy as np

from .geodesy import as_latlon


def latlon_to_cells(latlon: Any, res: int) -> list[str]:
    """The H3 cell (hex string) of each (lat, lon) point at resolution ``res``."""
    pts = as_latlon(latlon).reshape(-1, 2)
    return [h3.latlng_to_cell(float(lat), float(lon), res) for lat, lon in pts]


def gallery_cells(gallery: Any, res: int) -> tuple[np.ndarray, np.ndarray]:
    """The distinct H3 cells (at ``res``) of a gallery's points, in order of first appearance, and for
    each point the index of its cell: ``names[index[i]]`` is point i's cell. Computed once per gallery
    and resolution (a 21,546-point gallery takes 0.05 s to convert, and every prediction needs it)."""
    pts = np.ascontiguousarray(as_latlon(gallery).reshape(-1, 2), dtype=np.float64)
    return _gallery_cells(pts.tobytes(), int(res))


@lru_cache(maxsize=16)
def _gallery_cells(data: bytes, res: int) -> tuple[np.ndarray, np.ndarray]:
    pts = np.frombuffer(data, dtype=np.float64).reshape(-1, 2)
    names, first, index = np.unique(np.array(latlon_to_cells(pts, res)), return_index=True, return_inverse=True)
    order = np.argsort(first, kind="stable")
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    return names[order], rank[index.reshape(-1)]


def cell_centroids(cells: Iterable[str]) -> np.ndarray:
    """(lat, lon) centroid of each cell, shape (N, 2)."""
    return np.array([h3.cell_to_latlng(c) for c in cells], dtype=np.float64).reshape(-1, 2)


def cell_boundary(cell: str) -> np.ndarray:
    """Closed (lat, lon) ring of a cell's boundary, for drawing."""
    ring = np.array(h3.cell_to_boundary(cell), dtype=np.float64)
    return np.vstack([ring, ring[:1]])


@lru_cache(maxsize=8)
def cells_at_resolution(res: int) -> tuple[str, ...]:
    """Every H3 cell at resolution ``res``, sorted: a stable class-label order (res 0: 122, 1: 842, 2: 5882)."""
    if not 0 <= res <= 3:
        raise ValueError(f"cells_at_resolution is meant for class labels at res 0-3, got {res}")
    cells: set[str] = set()
    for base in h3.get_res0_cells():
        cells.update(h3.cell_to_children(base, res) if res else [base])
    return tuple(sorted(cells))


def cell_label_index(res: int) -> dict[str, int]:
    """Cell -> class index for ``cells_at_resolution(res)``."""
    return {c: i for i, c in enumerate(cells_at_resolution(res))}


def grid_disk(cells: Iterable[str], k: int) -> set[str]:
    """Every cell within ``k`` steps of any of ``cells``."""
    out: set[str] = set()
    for c in cells:
        out.update(h3.grid_disk(c, k))
    return out


def cell_parent(cell: str, res: int) -> str:
    """The ancestor of ``cell`` at the coarser resolution ``res``."""
    parent: str = h3.cell_to_parent(cell, res)
    return parent
