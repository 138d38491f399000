"""Galleries: the candidate locations a retrieval geolocator ranks (paper, supplement A.7, Table A1).

Every gallery is an (N, 2) float64 array of (lat, lon) degrees with a name and a source line.

Ordering is deterministic:

- grids (``uniform_grid``, ``land_grid``) are cell centres in row-major order, **latitude
  descending** (north to south, like an image of the world map) and longitude ascending within a
  row; 1 degree gives 180 x 360 = 64,800 centres from (89.5, -179.5) to (-89.5, 179.5);
- ``from_csv`` keeps file order (first occurrence of each point when de-duplicating);
- ``h3_neighbours`` sorts cells by their H3 index string.

Sizes are bounded, so that no name asks for more memory or disk than a machine has: grid steps
below :data:`MIN_GRID_STEP_DEG` (0.5 degrees: 259,200 points) are refused, and so is any gallery
over :data:`MAX_GALLERY_POINTS` points (CSV rows, H3 cells) or a CSV file over
:data:`MAX_CSV_BYTES`. (Species-range tables cost 13 kB of disk per gallery point and week.)

Errors name the file and the line, never what the file holds (a path such as ``csv:/etc/shadow``
must not leak its first line).

``land_grid`` keeps a grid centre when ``global_land_mask`` says it is on land. Antarctica and
Greenland's ice are land for that mask, so they are kept: 21,546 centres at 1 degree (15,483 north
of 60 S), close to the paper's "Land, 20K".

``get_gallery(name)`` builds galleries by name (every kind in :data:`GALLERIES`, GeoCLIP's 100K gallery
included; :func:`list_galleries` lists them) and caches the computed ones twice: in-process (LRU) and on disk
under ``cache_dir("galleries")`` as ``.npy`` files whose names hash the builder's parameters (and a
CSV file's sha256), written atomically. Arrays it returns are read-only, since they are shared.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from ..cachefiles import load_array, save_array
from ..errors import InputError
from ..paths import cache_dir
from ..registry import Registry
from ..tables import LAT_COLUMNS, LON_COLUMNS, find_column, parse_latlon, read_rows
from ..weights import weight_path
from .geodesy import CoordinateError, as_latlon, wrap_lon
from .h3cells import cell_centroids, grid_disk, latlon_to_cells

CACHE_FORMAT_VERSION = 1
MIN_GRID_STEP_DEG = 0.5
"""Finest grid step of ``uniform-STEP`` and ``land-STEP`` galleries (0.5 degrees: 259,200 points)."""
MAX_GALLERY_POINTS = 300_000
"""Most points a gallery may have (CSV rows, H3 cells)."""
MAX_CSV_BYTES = 64_000_000
"""Largest CSV file read as a gallery."""


@dataclass(eq=False)
class Gallery:
    """Candidate locations: ``latlon`` is (N, 2) float64 (lat, lon) degrees."""

    name: str
    latlon: np.ndarray
    source: str

    def __len__(self) -> int:
        return int(self.latlon.shape[0])


# ---------------------------------------------------------------- CSV helpers


def read_latlon_csv(path: str | os.PathLike[str], lat_col: str | None = None, lon_col: str | None = None) -> np.ndarray:
    """(N, 2) (lat, lon) from a CSV with lat/latitude and lon/lng/long/longitude columns (or those named)."""
    header, rows = read_rows(path, role="location CSV", max_rows=MAX_GALLERY_POINTS, max_bytes=MAX_CSV_BYTES)
    where = f"location CSV {Path(path)}"
    i_lat = find_column(header, lat_col, LAT_COLUMNS, "latitude", where)
    i_lon = find_column(header, lon_col, LON_COLUMNS, "longitude", where)
    need = max(i_lat, i_lon)
    out = np.empty((len(rows), 2), dtype=np.float64)
    for k, (line, row) in enumerate(rows):
        if len(row) <= need:
            raise InputError(f"{where}: line {line} has {len(row)} fields, expected at least {need + 1}")
        out[k] = parse_latlon(row[i_lat], row[i_lon], f"{where}: line {line}")
    return out


def file_sha256(path: str | os.PathLike[str]) -> str:
    """Hex sha256 of a file's bytes."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


# ---------------------------------------------------------------- builders


def dedupe(latlon: Any, decimals: int = 6) -> np.ndarray:
    """Drop repeated points, keeping the first of each in order.

    Points are equal when they agree to ``decimals`` decimal places, with longitude 180 taken as -180.
    """
    pts = as_latlon(latlon, name="gallery").reshape(-1, 2)
    key = np.round(np.stack([pts[:, 0], wrap_lon(pts[:, 1])], axis=1), decimals) + 0.0
    _, first = np.unique(key, axis=0, return_index=True)
    return pts[np.sort(first)]


def grid_centres(step_deg: float) -> np.ndarray:
    """Centres of a ``step_deg`` lat/lon grid, latitude descending then longitude ascending."""
    step = float(step_deg)
    if math.isfinite(step) and 0 < step < MIN_GRID_STEP_DEG:
        n = 2 * (180.0 / step) ** 2
        raise InputError(
            f"grid step {step:g} degrees is finer than the finest allowed, {MIN_GRID_STEP_DEG:g} degrees "
            f"({n:,.0f} points instead of at most {2 * (180 / MIN_GRID_STEP_DEG) ** 2:,.0f})"
        )
    n_lat = 180.0 / step if step > 0 else math.inf
    if not math.isfinite(n_lat) or abs(n_lat - round(n_lat)) > 1e-9 or round(n_lat) < 1:
        raise InputError(f"grid step must divide 180 degrees evenly, got {step_deg}")
    n_lat = int(round(n_lat))
    lat = 90.0 - (np.arange(n_lat) + 0.5) * step
    lon = -180.0 + (np.arange(2 * n_lat) + 0.5) * step
    grid = np.stack(np.meshgrid(lat, lon, indexing="ij"), axis=-1)
    return grid.reshape(-1, 2)


def uniform_grid(step_deg: float = 1.0) -> Gallery:
    """Every cell centre of a ``step_deg`` grid (1 degree: 64,800; 0.5 degree: 259,200)."""
    return Gallery(f"uniform-{step_deg:g}", grid_centres(step_deg), f"uniform {step_deg:g} degree grid, cell centres")


def land_grid(step_deg: float = 1.0) -> Gallery:
    """The ``uniform_grid`` centres on land per ``global_land_mask`` (Antarctica included; 1 degree: 21,546)."""
    from global_land_mask import globe

    pts = grid_centres(step_deg)
    land = globe.is_land(pts[:, 0], pts[:, 1])
    return Gallery(f"land-{step_deg:g}", pts[land], f"land centres of the {step_deg:g} degree grid (global_land_mask)")


def from_csv(
    path: str | os.PathLike[str], lat_col: str | None = None, lon_col: str | None = None, unique: bool = True
) -> Gallery:
    """Locations from a CSV file, in file order, repeated points dropped unless ``unique`` is False."""
    pts = read_latlon_csv(path, lat_col, lon_col)
    if unique:
        pts = dedupe(pts)
    return Gallery(f"csv:{path}", pts, f"locations in {path}")


def h3_neighbours(latlon: Any, res: int = 2, k: int = 1) -> Gallery:
    """Centroids of the H3 cells (at ``res``) holding ``latlon`` and of every cell within ``k`` steps.

    The paper's "Train Neighbors" gallery, from training locations. Sorted by cell index.
    """
    if not 0 <= int(res) <= 15 or int(k) < 0:
        raise InputError(f"h3 gallery needs 0 <= res <= 15 and k >= 0, got res={res}, k={k}")
    try:
        pts = as_latlon(latlon, name="locations").reshape(-1, 2)
    except CoordinateError as e:
        raise InputError(str(e)) from None
    seeds = set(latlon_to_cells(pts, int(res)))
    # cells a k-ring around every seed may hold: at most 3k(k+1)+1 each, and never more than the resolution has
    bound = min(len(seeds) * (3 * int(k) * (int(k) + 1) + 1), 2 + 120 * 7 ** int(res))
    if bound > 20 * MAX_GALLERY_POINTS:
        raise InputError(
            f"h3 gallery: {k}-rings around {len(seeds):,} cells are too large (at most {MAX_GALLERY_POINTS:,} points)"
        )
    cells = sorted(grid_disk(seeds, int(k)))
    if len(cells) > MAX_GALLERY_POINTS:
        raise InputError(
            f"h3 gallery: {len(cells):,} cells, more than the {MAX_GALLERY_POINTS:,} points a gallery may have"
        )
    return Gallery(
        f"h3-r{res}-k{k}", cell_centroids(cells), f"H3 res {res} cells of {len(pts)} points and their {k}-ring"
    )


# ---------------------------------------------------------------- named, cached galleries


@dataclass(frozen=True)
class GalleryKind:
    """One kind of named gallery: ``params(arg, name)`` gives its builder's parameters and a source line
    from the name's argument (the STEP of "uniform-STEP", the PATH of "csv:PATH"; None where it takes
    none), ``build(params)`` the (N, 2) points. ``cached``: kept in memory and on disk (content-keyed);
    ``examples``: the names :func:`list_galleries` shows for it, with what each is (default: its usage)."""

    params: Callable[[str | None, str], tuple[dict[str, Any], str]]
    build: Callable[[dict[str, Any]], np.ndarray]
    cached: bool = True
    examples: tuple[tuple[str, str], ...] = ()


GALLERIES: Registry[GalleryKind] = Registry("gallery")
"""Every gallery a user can name, by kind. Names are "KIND" or "KIND:ARG" (the registry's grammar); the
grid kinds keep their own spelling "uniform-STEP" (``uniform-1`` is ``uniform:1``)."""
GRID_KINDS = ("uniform", "land")


def list_galleries() -> dict[str, str]:
    """Gallery names ``get_gallery`` takes (``PATH``, ``RES``, ``K`` are placeholders) and what each is."""
    out: dict[str, str] = {}
    for (_, kind), (usage, what) in zip(GALLERIES.items(), GALLERIES.usage().items()):
        out.update(kind.examples or {usage: what})
    return out


def _build_uniform(p: dict[str, Any]) -> np.ndarray:
    return uniform_grid(p["step"]).latlon


def _build_land(p: dict[str, Any]) -> np.ndarray:
    return land_grid(p["step"]).latlon


def _build_csv(p: dict[str, Any]) -> np.ndarray:
    _check_unchanged(p)
    return from_csv(p["path"]).latlon


def _build_h3(p: dict[str, Any]) -> np.ndarray:
    _check_unchanged(p)
    return h3_neighbours(read_latlon_csv(p["path"]), p["res"], p["k"]).latlon


@lru_cache(maxsize=1)
def load_gps_gallery_100k() -> np.ndarray:
    """GeoCLIP's 100K gallery as a read-only (100000, 2) float64 array of (lat, lon) degrees.

    The CSV's header names its columns (``LAT,LON``); they are read by name, not position.
    """
    path = weight_path("geoclip-gallery-100k")
    with open(path, encoding="utf-8") as f:
        header = [h.strip().upper() for h in f.readline().split(",")]
    cols = (header.index("LAT"), header.index("LON"))
    arr = np.loadtxt(path, delimiter=",", skiprows=1, usecols=cols, dtype=np.float64)
    arr = as_latlon(arr, name=str(path))
    arr.flags.writeable = False
    return arr


def _build_geoclip_100k(p: dict[str, Any]) -> np.ndarray:
    return load_gps_gallery_100k()


def _check_unchanged(p: dict[str, Any]) -> None:
    if file_sha256(p["path"]) != p["sha256"]:
        raise InputError(f"{p['path']} changed while its gallery was being built; try again")


def _parse_step(text: str, name: str) -> float:
    try:
        step = float(text)
    except ValueError:
        raise InputError(f"gallery {name!r}: {text!r} is not a grid step in degrees") from None
    grid_centres(step)
    return step


def _csv_file(path: str, name: str) -> tuple[str, str]:
    p = Path(path).expanduser()
    if not p.exists():
        raise InputError(f"gallery {name!r}: no such file {p}")
    if not p.is_file():
        raise InputError(f"gallery {name!r}: {p} is not a file")
    if p.stat().st_size > MAX_CSV_BYTES:
        raise InputError(f"gallery {name!r}: {p} is larger than {MAX_CSV_BYTES / 1e6:g} MB")
    return str(p.resolve()), file_sha256(p)


def _grid_params(what: str) -> Callable[[str | None, str], tuple[dict[str, Any], str]]:
    def params(arg: str | None, name: str) -> tuple[dict[str, Any], str]:
        step = _parse_step(arg or "", name)
        return {"step": step}, f"{what} {step:g} degree grid"

    return params


def _csv_params(arg: str | None, name: str) -> tuple[dict[str, Any], str]:
    path, digest = _csv_file(arg or "", name)
    return {"path": path, "sha256": digest}, f"locations in {path} (sha256 {digest[:12]})"


def _h3_params(arg: str | None, name: str) -> tuple[dict[str, Any], str]:
    parts = (arg or "").rsplit(":", 2)
    if len(parts) != 3 or not parts[1].isdigit() or not parts[2].isdigit():
        raise InputError(f"gallery {name!r}: expected h3:PATH:RES:K, e.g. h3:train.csv:2:1")
    path, digest = _csv_file(parts[0], name)
    res, k = int(parts[1]), int(parts[2])
    if not 0 <= res <= 15:
        raise InputError(f"gallery {name!r}: H3 resolution must be 0-15, got {res}")
    params = {"path": path, "sha256": digest, "res": res, "k": k}
    return params, f"H3 res {res} cells (and {k}-ring) of the locations in {path} (sha256 {digest[:12]})"


GALLERIES.register(
    "uniform",
    GalleryKind(_grid_params("uniform"), _build_uniform, examples=(
        ("uniform-1", "uniform 1 degree grid, 64,800 cell centres"),
        ("uniform-0.5", "uniform 0.5 degree grid, 259,200 cell centres"),
    )),
    description=f"cell centres of a STEP-degree grid (uniform-STEP; STEP >= {MIN_GRID_STEP_DEG:g} divides 180)",
    arg="STEP",
)
GALLERIES.register(
    "land",
    GalleryKind(_grid_params("land centres of the"), _build_land, examples=(
        ("land-1", "1 degree grid centres on land (Antarctica included), 21,546"),
        ("land-0.5", "0.5 degree grid centres on land (Antarctica included), 85,968"),
    )),
    description="the uniform grid's centres on land, Antarctica included (land-STEP)",
    arg="STEP",
)
GALLERIES.register(
    "csv", GalleryKind(_csv_params, _build_csv),
    description="the locations in a CSV file (lat/latitude, lon/lng/longitude columns), de-duplicated", arg="PATH",
)
GALLERIES.register(
    "h3", GalleryKind(_h3_params, _build_h3),
    description="centroids of the H3 res-RES cells of a CSV file's locations and their K-ring", arg="PATH:RES:K",
)
GALLERIES.register(
    "geoclip-100k",
    GalleryKind(lambda arg, name: ({}, "GeoCLIP's 100K GPS gallery"), _build_geoclip_100k, cached=False),
    description="GeoCLIP's 100K GPS gallery (ships with the geoclip package; the image and text geolocators' default)",
)


def parse_gallery_name(name: str) -> tuple[str, dict[str, Any], str]:
    """``(kind, params, source)`` for a gallery name; ``InputError`` listing the valid names if unknown."""
    kind, dash, step = name.partition("-")
    if kind in GRID_KINDS and dash and step and name not in GALLERIES:
        name_in_grammar = f"{kind}:{step}"
    else:
        name_in_grammar = name
    kind, arg = GALLERIES.parse(name_in_grammar)
    if arg is None and GALLERIES.arg(kind) is not None:
        raise GALLERIES.unknown(name)
    params, source = GALLERIES[kind].params(arg, name)
    return kind, params, source


def gallery_cache_path(kind: str, params: dict[str, Any]) -> Path:
    """The ``.npy`` file a gallery of ``kind`` with ``params`` is cached in (content-keyed, path-free)."""
    keyed = {k: v for k, v in params.items() if k != "path"}
    blob = json.dumps({"v": CACHE_FORMAT_VERSION, "kind": kind, **keyed}, sort_keys=True)
    return cache_dir("galleries") / f"{kind}-{hashlib.sha256(blob.encode()).hexdigest()[:20]}.npy"


def _load_or_build(kind: str, params: dict[str, Any]) -> np.ndarray:
    path = gallery_cache_path(kind, params)
    cached = load_array(path)
    if cached is not None and cached.dtype == np.float64 and cached.ndim == 2 and cached.shape[1] == 2:
        return cached
    arr = np.ascontiguousarray(GALLERIES[kind].build(params), dtype=np.float64)
    try:
        save_array(path, arr)
    except OSError:
        pass
    return arr


@lru_cache(maxsize=16)
def _cached(kind: str, params_json: str) -> np.ndarray:
    arr = _load_or_build(kind, json.loads(params_json))
    arr.flags.writeable = False
    return arr


def get_gallery(name: str) -> Gallery:
    """The gallery called ``name`` (see ``list_galleries``), from the in-process or disk cache when built before.

    CSV-based galleries are keyed by the file's sha256, so an edited file is rebuilt.
    """
    kind, params, source = parse_gallery_name(name)
    if GALLERIES[kind].cached:
        return Gallery(name, _cached(kind, json.dumps(params, sort_keys=True)), source)
    arr = np.ascontiguousarray(GALLERIES[kind].build(params), dtype=np.float64)
    arr.flags.writeable = False
    return Gallery(name, arr, source)


def clear_memory_cache() -> None:
    """Forget galleries cached in this process (the disk cache stays)."""
    _cached.cache_clear()
