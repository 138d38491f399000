"""Priors over where recordings are made: log-surface += weight x log-prior.

People record where people go. Two priors ship (SHA-256 checked by the weight manager like every
model file), both as H3 resolution-3 cell centroids and counts, smoothed over a gallery with a
von Mises-Fisher kernel (``kde_on_gallery``, bandwidth 500 km):

* ``photo-density`` (the default, weight 1): where people take photos, from the 100K GPS gallery that
  ships in the ``geoclip`` package. It is *one-sided*: ``min(0, log(0.9 d(x) + 0.1))`` with d the
  density relative to the gallery's average, so it never favours busy regions, and only lowers places
  where almost nobody goes (down to log 0.1, a factor 10, on ice caps and empty ocean islands). Measured
  on xc-dev (86 clips, paired bootstrap over clips, benchmarks/results/audio_geolocation.md): median
  1,177 -> 869 km, 8.1 -> 15.1 % within 200 km, mean 2,350 -> 2,023 km; nested cross-validation over
  the prior's settings, never splitting a recording site, puts the honest median at 890-970 km. The
  research notes behind the choice (levers tried, failure classes, what is noise) are summarised in
  the README.
* ``inat-test-density`` (opt-in, weight 0.5): the density of the 49,527 iNatSounds test locations
  (``cvl-umass/nat-sound2loc-benchmark``, MIT), as ``log(p + floor)``: two-sided, so it pulls clips
  toward busy regions (xc-dev median 993 km, but South America's clips get worse). Do not use it when
  evaluating on the iNatSounds test set itself: it was built from those answers.

    python -m geoforensics.geo.priors POINTS.csv OUT.npz    # rebuild a shipped file from lat/lon rows
"""

from __future__ import annotations

import hashlib
import sys
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from ..cachefiles import load_array, save_array
from ..paths import cache_dir
from ..registry import Registry
from ..weights import weight_path
from .galleries import read_latlon_csv
from .geodesy import EARTH_RADIUS_KM, latlon_to_xyz
from .h3cells import cell_centroids, latlon_to_cells


@dataclass(frozen=True)
class Prior:
    """A named prior: its file in the weight manager's table, its form and its default weight."""

    weights: str
    one_sided: bool
    weight: float
    description: str


PRIORS: Registry[Prior] = Registry("prior")
"""Named priors (``geoforensics.weights.WEIGHTS`` holds their files)."""
for _name, _prior in {
    "photo-density": Prior(
        "prior-geoclip-photo-density-h3r3", True, 1.0,
        "where people take photos (GeoCLIP's 100K gallery); only lowers places almost nobody visits",
    ),
    "inat-test-density": Prior(
        "prior-inat-test-density-h3r3", False, 0.5,
        "where iNatSounds test recordings were made; pulls toward busy regions",
    ),
}.items():
    PRIORS.register(_name, _prior, description=_prior.description)
PRIOR_RES = 3
ONE_SIDED_FLOOR = 0.1
"""A one-sided prior's value where nobody goes, relative to average places (log 0.1 = -2.3)."""


def one_sided(density: np.ndarray, cap: float = 1.0) -> np.ndarray:
    """The one-sided log-prior of a density relative to the gallery average (1 = average):
    ``min(log cap, log((1 - f) d + f))``, f = :data:`ONE_SIDED_FLOOR`; with ``cap`` 1 only places well
    below average lose (a larger cap, tried in ``benchmarks/audio_levers.py``, also lifts busy ones)."""
    out: np.ndarray = np.minimum(np.log(cap), np.log((1.0 - ONE_SIDED_FLOOR) * density + ONE_SIDED_FLOOR))
    return out


def build_density_file(points_csv: str | Path, out: str | Path) -> Path:
    """Aggregate the (lat, lon) rows of a CSV into H3 cell centroids and counts (an .npz)."""
    pts = read_latlon_csv(points_csv)
    cells, counts = np.unique(latlon_to_cells(pts, PRIOR_RES), return_counts=True)
    cent = cell_centroids(list(cells))
    out = Path(out)
    np.savez_compressed(out, latlon=cent.astype(np.float32), count=counts.astype(np.float32), res=PRIOR_RES)
    return out


def get_prior(name: str) -> Prior:
    """The table entry of a named prior; InputError listing the names otherwise."""
    return PRIORS[name]


def load_density(name: str) -> tuple[np.ndarray, np.ndarray]:
    """Centroids (n, 2) and counts (n,) of a named prior, from its verified file."""
    with np.load(weight_path(get_prior(name).weights)) as z:
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
    """The log-prior of a named prior over ``gallery`` (module docstring): ``min(0, log((1 - f) d + f))``
    with f = ``ONE_SIDED_FLOOR`` for one-sided priors, ``log(p + floor / N)`` otherwise (``floor``,
    relative to uniform, keeps empty regions possible). Cached on disk per gallery and bandwidth."""
    gallery = np.ascontiguousarray(gallery, dtype=np.float64)
    form = f"one-sided {ONE_SIDED_FLOOR}" if get_prior(name).one_sided else f"floor {floor}"
    key = hashlib.sha256(gallery.tobytes() + f"{name}|{bandwidth_km}|{form}".encode()).hexdigest()[:20]
    return _log_prior_cached(name, key, gallery.tobytes(), gallery.shape, bandwidth_km, floor)


@lru_cache(maxsize=4)
def _log_prior_cached(
    name: str, key: str, gbytes: bytes, shape: tuple[int, ...], bandwidth_km: float, floor: float
) -> np.ndarray:
    path = cache_dir("priors") / f"{name}-{key}.npy"
    cached = load_array(path)
    if cached is not None and cached.shape == shape[:1] and np.isfinite(cached).all():
        return cached
    gallery = np.frombuffer(gbytes, dtype=np.float64).reshape(shape)
    pts, w = load_density(name)
    p = kde_on_gallery(gallery, pts, w, bandwidth_km)
    if get_prior(name).one_sided:
        lp = one_sided(p * len(p))
    else:
        lp = np.log(p + floor / len(p))
    save_array(path, lp)
    return lp


if __name__ == "__main__":
    if len(sys.argv) != 3:
        print(__doc__)
        raise SystemExit(2)
    print(build_density_file(sys.argv[1], sys.argv[2]))
