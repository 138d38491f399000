"""Priors over where recordings are made (optional; off by default).

People record where people go: a prior p(x) for the recording location can sharpen an audio
geolocator's surface (log-likelihood + weight x log-prior). It is also a bias: a clip from a rarely
recorded region is pulled toward busy ones. Measured on xc-dev (86 clips): median 1,178 -> 993 km with
the shipped prior at weight 0.5 and 500 km bandwidth, but South America's 5 clips got worse
(2,371 -> 5,638 km). So it stays opt-in, and its strength is always stated.

The shipped prior is the density of the 49,527 iNatSounds test locations (``cvl-umass/nat-sound2loc-
benchmark``, MIT licence), aggregated to H3 resolution-3 cells: the weight manager's entry
``prior-inat-test-density-h3r3`` (shipped in ``weights/``, SHA-256 checked like every model file). Do
not use it when evaluating on the iNatSounds test set itself: it was built from those answers.

    python -m geoforensics.geo.priors GOLD.csv OUT.npz    # rebuild the shipped file
"""

from __future__ import annotations

import hashlib
import sys
from functools import lru_cache
from pathlib import Path

import numpy as np

from ..paths import cache_dir
from .geodesy import EARTH_RADIUS_KM, latlon_to_xyz

PRIORS = {"inat-test-density": "prior-inat-test-density-h3r3"}
"""Named priors -> their entries in the weight manager's table (``models.weights.WEIGHTS``)."""
PRIOR_RES = 3


def build_density_file(points_csv: str | Path, out: str | Path) -> Path:
    """Aggregate the (lat, lon) rows of a CSV into H3 cell centroids and counts (an .npz)."""
    from .galleries import read_latlon_csv
    from .h3cells import cell_centroids, latlon_to_cells

    pts = read_latlon_csv(points_csv)
    cells, counts = np.unique(latlon_to_cells(pts, PRIOR_RES), return_counts=True)
    cent = cell_centroids(list(cells))
    out = Path(out)
    np.savez_compressed(out, latlon=cent.astype(np.float32), count=counts.astype(np.float32), res=PRIOR_RES)
    return out


def load_density(name: str) -> tuple[np.ndarray, np.ndarray]:
    """Centroids (n, 2) and counts (n,) of a named prior, from its verified file."""
    from ..models.weights import weight_path

    if name not in PRIORS:
        raise ValueError(f"unknown prior {name!r}; available: {', '.join(PRIORS)}")
    with np.load(weight_path(PRIORS[name])) as z:
        return z["latlon"].astype(np.float64), z["count"].astype(np.float64)


def kde_on_gallery(gallery: np.ndarray, points: np.ndarray, weights: np.ndarray, bandwidth_km: float) -> np.ndarray:
    """von Mises-Fisher kernel density of weighted points, evaluated at gallery points (sums to 1)."""
    g = latlon_to_xyz(gallery)
    p = latlon_to_xyz(points)
    kappa = (EARTH_RADIUS_KM / bandwidth_km) ** 2
    out = np.zeros(len(g))
    for i in range(0, len(p), 2048):
        out += np.exp(kappa * (g @ p[i : i + 2048].T - 1.0)) @ weights[i : i + 2048]
    density: np.ndarray = out / out.sum()
    return density


def log_prior(name: str, gallery: np.ndarray, bandwidth_km: float = 500.0, floor: float = 1e-3) -> np.ndarray:
    """log p(x) over ``gallery`` for a named prior; ``floor`` (relative to uniform) keeps empty
    regions possible. Cached on disk per gallery and bandwidth."""
    gallery = np.ascontiguousarray(gallery, dtype=np.float64)
    key = hashlib.sha256(gallery.tobytes() + f"{name}|{bandwidth_km}|{floor}".encode()).hexdigest()[:20]
    return _log_prior_cached(name, key, gallery.tobytes(), gallery.shape, bandwidth_km, floor)


@lru_cache(maxsize=4)
def _log_prior_cached(name: str, key: str, gbytes: bytes, shape: tuple[int, ...], bandwidth_km: float, floor: float) -> np.ndarray:
    path = cache_dir("priors") / f"{name}-{key}.npy"
    if path.exists():
        cached: np.ndarray = np.load(path)
        return cached
    gallery = np.frombuffer(gbytes, dtype=np.float64).reshape(shape)
    pts, w = load_density(name)
    p = kde_on_gallery(gallery, pts, w, bandwidth_km)
    lp = np.log(p + floor / len(p))
    tmp = path.with_suffix(".tmp.npy")
    np.save(tmp, lp)
    tmp.replace(path)
    return lp


if __name__ == "__main__":
    if len(sys.argv) != 3:
        print(__doc__)
        raise SystemExit(2)
    print(build_density_file(sys.argv[1], sys.argv[2]))
