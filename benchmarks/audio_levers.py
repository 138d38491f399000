"""Levers tried on the default audio engine that did not make the cut, each against the default on
xc-dev's real clips with a paired bootstrap (86 clips from 48 sites: a change whose interval spans 0
is noise).

    .venv/bin/python benchmarks/audio_levers.py [--data ../shared/data/xc-dev]

* **genus**: BirdNET confuses congeners (Japanese for Great Tit), so a species heard also lends weight
  to its genus: r_s <- (1 - g) r_s + g * (max or mean of its congeners' ranges), genus from the first
  word of the scientific name.
* **smoothed mode**: the point holding the most probability within r km (the Bayes choice for "within
  r km" metrics), instead of the mean of the 10 most probable cells; optionally re-centred on the
  probability-weighted mean of the points within r of it.
* **3 s stride**: every other window (BirdNET twice as fast), to see what the 1.5 s stride buys.
* **clustered point**: the mean of the 10 most probable cells, but only those within d km of the most
  probable one (a bimodal surface's plain mean can fall between its modes); and the plain mean of 5 or
  20 cells instead of 10.
* **capped two-sided prior**: the photo-density prior also lifts busy places, up to a cap:
  ``min(log cap, log(0.9 d + 0.1))`` instead of ``min(0, ...)``.

Scores come from the package's scores cache; containers' tags are never read. Prints and saves
``benchmarks/results/audio_levers.md``/``.json``.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.machine import machine, save_results  # noqa: E402
from geoforensics.data import open_dataset  # noqa: E402
from geoforensics.evidence import cached_scores  # noqa: E402
from geoforensics.geo.geodesy import EARTH_RADIUS_KM, haversine_km, latlon_to_xyz  # noqa: E402
from geoforensics.geo.metrics import paired_bootstrap, percent_within  # noqa: E402
from geoforensics.geo.priors import kde_on_gallery, load_density, one_sided  # noqa: E402
from geoforensics.geolocators.species_ranges import (  # noqa: E402
    SpeciesLikelihood,
    SpeciesRangeGeolocator,
    select_species,
    species_terms,
)
from geoforensics.prediction import GeoPrediction, point_estimate, spherical_mean  # noqa: E402
from geoforensics.scoring import WindowScores, pool_scores  # noqa: E402

CONTINENTS = ("Europe", "Asia", "North America")


class GenusRows:
    """A range table whose rows are widened toward each species' genus; richness as the table's."""

    def __init__(self, table: Any, congeners: list[np.ndarray], share: float, how: str) -> None:
        self.table, self.congeners, self.share, self.how = table, congeners, share, how
        self.richness, self.n_points = table.richness, table.n_points

    def rows(self, idx: np.ndarray) -> np.ndarray:
        r = self.table.rows(idx).astype(np.float64)
        for j, s in enumerate(idx):
            if len(self.congeners[s]) > 1:
                genus = self.table.rows(self.congeners[s]).astype(np.float64)
                r[j] = (1 - self.share) * r[j] + self.share * (genus.max(0) if self.how == "max" else genus.mean(0))
        return r


class GenusGeolocator(SpeciesRangeGeolocator):
    """The default engine with each heard species' range widened toward its genus."""

    def __init__(self, share: float, how: str) -> None:
        super().__init__()
        self.share, self.how = share, how
        labels = self.species_names()
        genus: dict[str, list[int]] = {}
        for i, name in enumerate(labels.scientific):
            if labels.is_species[i]:
                genus.setdefault(name.split()[0], []).append(i)
        self.congeners = [np.array(genus.get(n.split()[0], [i])) for i, n in enumerate(labels.scientific)]

    def likelihood(self, scores: np.ndarray, week: int = -1) -> SpeciesLikelihood:
        q = pool_scores(scores, self.rule.pooling)
        idx = select_species(q, self.species_names().is_species, self.rule)
        rows = GenusRows(self.table(week), self.congeners, self.share, self.how)
        return SpeciesLikelihood(idx, q, species_terms(rows, idx, q[idx], self.rule))  # type: ignore[arg-type]


def smoothed_mode(gallery: np.ndarray, radius_km: float,
                  recentre: bool) -> Callable[[GeoPrediction], tuple[float, float]]:
    """Point rule: the gallery point with the most probability within ``radius_km``."""
    from scipy import sparse
    from scipy.spatial import cKDTree

    xyz = latlon_to_xyz(gallery)
    tree = cKDTree(xyz)
    pairs = tree.sparse_distance_matrix(tree, 2 * np.sin(radius_km / EARTH_RADIUS_KM / 2), output_type="coo_matrix")
    near = sparse.csr_matrix((np.ones(len(pairs.data)), (pairs.row, pairs.col)), shape=(len(gallery),) * 2)
    near.setdiag(1)
    near = near.tocsr()

    def point(p: GeoPrediction) -> tuple[float, float]:
        i = int(np.argmax(near @ p.probs))
        if not recentre:
            return float(gallery[i, 0]), float(gallery[i, 1])
        nb = near[i].indices
        return spherical_mean(gallery[nb], p.probs[nb])

    return point


def clustered_mean(gallery: np.ndarray, radius_km: float,
                   k: int = 10) -> Callable[[GeoPrediction], tuple[float, float]]:
    """Point rule: the probability-weighted mean of the ``k`` most probable points within ``radius_km``
    of the most probable one."""

    def point(p: GeoPrediction) -> tuple[float, float]:
        near = np.where(haversine_km(gallery, tuple(gallery[int(np.argmax(p.probs))])) <= radius_km, p.probs, 0.0)
        idx = np.argsort(-near)[:k]
        return spherical_mean(gallery[idx], near[idx])

    return point


def photo_density(geo: SpeciesRangeGeolocator) -> np.ndarray:
    """The photo density over the gallery relative to its average (1 = average), as the shipped prior reads it."""
    pts, w = load_density("photo-density")
    density: np.ndarray = kde_on_gallery(geo.gallery, pts, w, geo.prior_bandwidth_km) * len(geo.gallery)
    return density


def every_other(ws: WindowScores) -> WindowScores:
    return WindowScores(ws.starts_s[::2], ws.ends_s[::2], ws.scores[::2], ws.duration_s)


def row(name: str, err: np.ndarray, base: np.ndarray, continents: np.ndarray) -> str:
    d, lo, hi = paired_bootstrap(err, base)
    d2, lo2, hi2 = paired_bootstrap(err, base, lambda e: percent_within(e, 200))
    per = " | ".join(f"{np.median(err[continents == c]):,.0f}" for c in CONTINENTS)
    rest = np.median(err[~np.isin(continents, CONTINENTS)])
    return (f"| {name} | {np.median(err):,.0f} | {d:+,.0f} [{lo:+,.0f}, {hi:+,.0f}] | {percent_within(err, 200):.1f} | "
            f"{d2:+.1f} [{lo2:+.1f}, {hi2:+.1f}] | {err.mean():,.0f} | {per} | {rest:,.0f} |")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", default=str(ROOT.parent / "shared" / "data" / "xc-dev"), help="folder with labels.csv")
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "audio_levers"), help="output path stem")
    args = ap.parse_args(argv)

    recs = list(open_dataset(args.data))
    true = np.array([[r.lat, r.lon] for r in recs])
    continents = np.array([r.extra.get("continent", "?").split(" (")[0] for r in recs])
    scores = [cached_scores(r.audio_path) for r in recs]
    geo = SpeciesRangeGeolocator()
    preds = [geo.predict_from_scores(ws, light=True) for ws in scores]

    def errors(points: list[tuple[float, float]]) -> np.ndarray:
        return np.asarray(haversine_km(np.array(points), true), dtype=np.float64)

    base = errors([p.point for p in preds])
    results: dict[str, np.ndarray] = {}
    for share in (0.1, 0.25, 0.5):
        for how in ("mean", "max"):
            g = GenusGeolocator(share, how)
            results[f"genus {how}, share {share:g}"] = errors([g.predict_from_scores(ws, light=True).point
                                                               for ws in scores])
            print(f"genus {how} {share}", file=sys.stderr)
    for radius in (200, 500, 1000, 1500):
        for recentre in (False, True):
            point = smoothed_mode(geo.gallery, radius, recentre)
            label = f"smoothed mode, {radius} km" + (", re-centred" if recentre else "")
            results[label] = errors([point(p) for p in preds])
    for radius in (600, 1000, 2000):
        point = clustered_mean(geo.gallery, radius)
        results[f"mean of the 10 best cells within {radius} km of the best"] = errors([point(p) for p in preds])
    for kk in (5, 20):
        results[f"mean of the {kk} best cells"] = errors([point_estimate(geo.gallery, p.probs, f"topk_mean:{kk}")
                                                          for p in preds])
    plain = SpeciesRangeGeolocator(prior=None)
    surfaces = [plain.likelihood(ws.scores).log_surface for ws in scores]
    density = photo_density(geo)
    for cap in (1.5, 2.0, 4.0):
        lp = one_sided(density, cap)
        results[f"prior lifting busy places up to x{cap:g}"] = errors([
            GeoPrediction.from_log_scores(geo.gallery, s + lp, point_method=geo.point_method, names=False).point
            for s in surfaces])
    results["3 s stride (every other window)"] = errors([geo.predict_from_scores(every_other(ws), light=True).point
                                                         for ws in scores])

    lines = [
        f"# Levers tried on the default audio engine, xc-dev ({len(recs)} clips)",
        "",
        "Command: `"
        f"{' '.join(['.venv/bin/python benchmarks/audio_levers.py', *(sys.argv[1:] if argv is None else argv)])}`",
        f"Machine: {machine()}",
        "",
        "Each row against the default (photo-density prior, mean of the 10 best cells, 1.5 s stride) on the same "
        "clips; [95 % interval] from 2,000 paired bootstrap resamples of the clips. SA/AF/OC: the 8 clips of South "
        "America, Africa and Oceania together.",
        "",
        "| lever | median km | change of the median | % ≤200 km | change (points) | mean km | "
        + " | ".join(CONTINENTS) + " | SA/AF/OC |",
        "|---|---|---|---|---|---|" + "---|" * len(CONTINENTS) + "---|",
        row("default", base, base, continents),
        *[row(name, e, base, continents) for name, e in results.items()],
    ]
    save_results(args.out, "\n".join(lines), {"default": base.tolist(), **{k: v.tolist() for k, v in results.items()}})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
