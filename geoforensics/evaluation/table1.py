"""The paper's Table 1 on any dataset: every registered system on the same recordings, one report.

A *Table-1 system* (:class:`TableSystem`) is a registered geolocator plus what it is fed from each
recording (:data:`INPUT_KINDS`) and whether it is trained. Trained systems (``trains=True``) are fit
with k-fold cross-validation over the dataset itself: for each fold a fresh geolocator is created,
``fit(features, latlon)`` on the other folds, and predicts the held-out fold. Adding a row (AG-CLIP
and its ablations, say) is one call::

    register_table1_system(TableSystem("agclip", "Retrieve", "AG-CLIP", geolocator="agclip", feed="audio"))

BirdNET scores come from the one scorer's disk cache (:func:`geoforensics.evidence.cached_scores`), so
re-runs only redo the location step. The report (:func:`write_report`) is a Markdown table (median, mean, %
within 1/25/200/750/2500 km), per-system prediction CSVs in the benchmark's format, a CDF plot and an
error map, all in one folder.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..atomic import write_text
from ..data import open_dataset
from ..defaults import GALLERY, MAX_DURATION_S
from ..errors import InputError, MissingWeightsError
from ..evidence import cached_scores
from ..geo.galleries import h3_neighbours
from ..geo.geodesy import haversine_km
from ..geo.metrics import THRESHOLDS_KM, format_metrics_row, geolocation_metrics, metrics_table_header
from ..geolocators import Geolocator, create_geolocator
from ..geolocators.base import Trainable
from ..models.registry import resolve_pretrained
from ..prediction import GeoPrediction
from ..progress import Progress
from ..registry import Registry
from ..scoring import WindowScores, pool_scores
from .evaluate import evaluate_files, write_points_csv
from .plots import cdf_plot, error_map

INPUT_KINDS = ("audio", "scores", "features", "species", "truth", "none")


@dataclass
class Sample:
    """One recording as Table-1 systems see it: true location (only oracles and scoring read it),
    date, annotated species, cached BirdNET window scores and a pooled feature vector."""

    id: str
    lat: float
    lon: float
    date: Any = None
    species: tuple[str, ...] = ()
    audio_path: Path | None = None
    scores: WindowScores | None = None
    features: np.ndarray | None = None

    def feed(self, kind: str) -> Any:
        """What a system with input kind ``kind`` receives."""
        if kind == "audio":
            return self.audio_path
        if kind == "scores":
            return self.scores
        if kind == "features":
            return self.features
        if kind == "species":
            return self.species
        if kind == "truth":
            return (self.lat, self.lon)
        if kind == "none":
            return None
        raise ValueError(f"unknown input kind {kind!r}; one of {INPUT_KINDS}")


@dataclass(frozen=True)
class TableSystem:
    """One Table-1 row: registry ``geolocator`` (with ``options``), its ``feed`` and whether it ``trains``."""

    key: str
    group: str
    label: str
    geolocator: str
    feed: str = "scores"
    trains: bool = False
    options: tuple[tuple[str, Any], ...] = ()
    note: str = ""
    train_gallery: tuple[int, int] | None = None
    """``(res, k)``: the gallery is rebuilt per cross-validation fold from the H3 res-``res`` cells
    (and their ``k``-ring) of the *other* folds' locations, so a clip's own location never seeds it."""
    seeded: bool = False
    """The geolocator takes ``seed`` (random draws or training); such rows vary with ``--seed`` and are
    repeated over ``--seeds`` (trained rows are always seeded)."""
    sample_gallery: str = ""
    """A gallery made of the evaluated recordings' own locations: "train" (per fold, the exact
    locations of the other folds: the paper's "Train" gallery), "validation" (per fold, the locations
    of one other fold, the next: a held-out set's locations like the paper's "Validation" gallery) or
    "test" (every recording's location, its own included: the paper's test-set ("XCDC") gallery, an
    optimistic upper bound)."""

    @property
    def row_name(self) -> str:
        return f"{self.group}: {self.label}"

    @property
    def uses_seed(self) -> bool:
        return self.trains or self.seeded


SYSTEMS: Registry[TableSystem] = Registry("Table-1 system")
"""The Table-1 rows by key, in table order."""


def register_table1_system(system: TableSystem) -> TableSystem:
    """Add (or replace) a Table-1 row; the order of registration is the order of the table."""
    if system.feed not in INPUT_KINDS:
        raise ValueError(f"unknown input kind {system.feed!r}; one of {INPUT_KINDS}")
    return SYSTEMS.register(system.key, system, description=system.row_name)


def register_agclip_checkpoint(
    label: str, path: str | Path, pooling: str = "mean", gallery: str = GALLERY
) -> TableSystem:
    """Add a row "Retrieve: AG-CLIP (label)" for a trained checkpoint (``geoforensics train`` output) or a
    shipped head's tag (either may start with "agclip:"), so ablations trained with the same CLI are
    evaluated beside the registered rows. The row's geolocator is "agclip:PATH", like any model name."""
    value = str(path).removeprefix("agclip:")
    if not resolve_pretrained("agclip", value).is_file():
        raise InputError(f"AG-CLIP checkpoint {value}: no such file")
    key = "agclip-" + "".join(c if c.isalnum() or c in "-_." else "-" for c in label)
    return register_table1_system(TableSystem(key, "Retrieve", f"AG-CLIP ({label})", f"agclip:{value}", feed="scores",
                                              options=_opts(pooling=pooling, gallery=gallery),
                                              note=f"checkpoint {value}"))


def table1_systems() -> dict[str, TableSystem]:
    """Registered Table-1 rows by key, in table order."""
    return dict(SYSTEMS.items())


def _opts(**kw: Any) -> tuple[tuple[str, Any], ...]:
    return tuple(sorted(kw.items()))


for _s in (
    TableSystem("naive", "Naive", "Rnd Train Loc", "naive", feed="none", trains=True),
    TableSystem("oracle-full", "Species Oracles", "Full checklist", "oracle-full", feed="truth"),
    TableSystem("oracle-corrupt50", "Species Oracles", "50% Corrupted", "oracle-corrupt50", feed="truth", seeded=True),
    TableSystem("oracle-keep10", "Species Oracles", "Keep random 10", "oracle-keep10", feed="truth", seeded=True),
    TableSystem("regress-euclidean", "Regress", "Euclidean", "regress-euclidean", feed="features", trains=True),
    TableSystem("regress-haversine", "Regress", "Haversine", "regress-haversine", feed="features", trains=True),
    TableSystem("regress-xyz", "Regress", "Unit sphere xyz", "regress-xyz", feed="features", trains=True),
    TableSystem("classify-res0", "Classify", "Res-0", "classify-res0", feed="features", trains=True),
    TableSystem("classify-res2", "Classify", "Res-2", "classify-res2", feed="features", trains=True),
    TableSystem("classify-hier", "Classify", "Hierarchical (0->1->2)", "classify-hier", feed="features", trains=True),
    TableSystem("species-annotated", "Species Ranges", "Annotated Species", "species-annotated", feed="species",
                options=_opts(prior=None)),
    TableSystem("species-top1", "Species Ranges", "Predicted Sp (Top 1)", "species-top1", feed="scores",
                options=_opts(prior=None)),
    TableSystem("species-all", "Species Ranges", "Predicted Sp (All)", "species-ranges", feed="scores",
                options=_opts(prior=None)),
    TableSystem("species-all-prior", "Species Ranges",
                "Predicted Sp (All) + photo-density prior (ours, the default engine)",
                "species-ranges", feed="scores", options=_opts(prior="photo-density")),
    # gallery ablation of the default system (Supp. Table A1); "species-all" itself uses --gallery (land-1)
    TableSystem("species-all-uniform1", "Species Ranges", "Predicted Sp (All), uniform 1° gallery", "species-ranges",
                feed="scores", options=_opts(gallery="uniform-1", prior=None)),
    TableSystem("species-all-uniform05", "Species Ranges", "Predicted Sp (All), uniform 0.5° gallery", "species-ranges",
                feed="scores", options=_opts(gallery="uniform-0.5", prior=None)),
    TableSystem("species-all-train", "Species Ranges", "Predicted Sp (All), train gallery", "species-ranges",
                feed="scores", options=_opts(prior=None), sample_gallery="train"),
    TableSystem("species-all-validation", "Species Ranges", "Predicted Sp (All), validation gallery", "species-ranges",
                feed="scores", options=_opts(prior=None), sample_gallery="validation"),
    TableSystem("species-all-h3train", "Species Ranges", "Predicted Sp (All), H3 train-neighbours gallery",
                "species-ranges", feed="scores", options=_opts(prior=None), train_gallery=(2, 1)),
    TableSystem("species-all-test", "Species Ranges", "Predicted Sp (All), test-set gallery", "species-ranges",
                feed="scores", options=_opts(prior=None), sample_gallery="test"),
    # AG-CLIP (shipped head on the same cached BirdNET window scores), its pooling and gallery ablations
    TableSystem("agclip", "Retrieve", "AG-CLIP", "agclip:birdnet-sim-v1", feed="scores",
                options=_opts(gallery="land-1", pooling="mean")),
    TableSystem("agclip-max", "Retrieve", "AG-CLIP (max pooling)", "agclip:birdnet-sim-v1", feed="scores",
                options=_opts(gallery="land-1", pooling="max")),
    TableSystem("agclip-kmeans", "Retrieve", "AG-CLIP (k-means pooling)", "agclip:birdnet-sim-v1", feed="scores",
                options=_opts(gallery="land-1", pooling="kmeans")),
    TableSystem("agclip-uniform1", "Retrieve", "AG-CLIP, uniform 1° gallery", "agclip:birdnet-sim-v1", feed="scores",
                options=_opts(gallery="uniform-1", pooling="mean")),
    TableSystem("agclip-uniform05", "Retrieve", "AG-CLIP, uniform 0.5° gallery", "agclip:birdnet-sim-v1", feed="scores",
                options=_opts(gallery="uniform-0.5", pooling="mean")),
    TableSystem("agclip-train", "Retrieve", "AG-CLIP, train gallery", "agclip:birdnet-sim-v1",
                feed="scores", options=_opts(pooling="mean"), sample_gallery="train"),
    TableSystem("taxabind-style", "Retrieve", "TaxaBind-style (species names -> CLIP text -> GeoCLIP)",
                "taxabind-style", feed="scores",
                note="zero-shot: BirdNET species names -> CLIP ViT-L/14 text -> GeoCLIP image head; "
                "no geotagged audio (geoforensics/geolocators/taxabind.py says how it differs from TaxaBind)"),
    TableSystem("agclip-validation", "Retrieve", "AG-CLIP, validation gallery", "agclip:birdnet-sim-v1",
                feed="scores", options=_opts(pooling="mean"), sample_gallery="validation"),
    TableSystem("agclip-h3train", "Retrieve", "AG-CLIP, H3 train-neighbours gallery", "agclip:birdnet-sim-v1",
                feed="scores", options=_opts(pooling="mean"), train_gallery=(2, 1)),
    TableSystem("agclip-test", "Retrieve", "AG-CLIP, test-set gallery", "agclip:birdnet-sim-v1",
                feed="scores", options=_opts(pooling="mean"), sample_gallery="test"),
):
    register_table1_system(_s)


# ---------------------------------------------------------------- samples with cached scores


def pooled_features(ws: WindowScores) -> np.ndarray:
    """The feature vector of the trained rows: max-pooled BirdNET scores over windows, float32."""
    return pool_scores(ws.scores, "max").astype(np.float32)


def load_samples(
    data: str | Path,
    limit: int = 0,
    max_duration_s: float = MAX_DURATION_S,
    progress: Progress | None = None,
) -> list[Sample]:
    """Recordings of a dataset (any format :func:`open_dataset` reads) with cached BirdNET scores."""
    ds = open_dataset(data)
    recs = list(ds)[: limit or None]
    out = []
    for i, r in enumerate(recs):
        if r.audio_path is None:
            raise InputError(f"recording {r.id} has no audio file")
        ws = cached_scores(r.audio_path, max_duration_s=max_duration_s)
        out.append(Sample(r.id, r.lat, r.lon, r.date, tuple(r.species), Path(r.audio_path), ws, pooled_features(ws)))
        if progress:
            progress((i + 1) / len(recs), f"[{i + 1}/{len(recs)}] scores for {r.id}")
    return out


# ---------------------------------------------------------------- running systems


@dataclass
class SystemResult:
    """Predictions of one system on every sample (in sample order), their errors and metrics."""

    system: TableSystem
    points: np.ndarray
    errors_km: np.ndarray
    metrics: dict[str, float]
    predictions: list[GeoPrediction] = field(default_factory=list, repr=False)
    seconds: float = 0.0
    note: str = ""
    skipped: str = ""
    """Why the row could not run here (e.g. weights absent); then points and errors are empty."""
    seed_metrics: list[dict[str, float]] = field(default_factory=list)
    """Metrics of each seed when the row was repeated over seeds (``metrics`` is then the first seed's)."""

    def metrics_summary(self) -> dict[str, tuple[float, float]]:
        """(mean, standard deviation) of each metric over seeds; std 0 for a single run."""
        runs = self.seed_metrics or [self.metrics]
        return {k: (float(np.mean([m[k] for m in runs])), float(np.std([m[k] for m in runs]))) for k in runs[0]}


def folds_of(n: int, k: int, seed: int = 0) -> list[np.ndarray]:
    """``k`` disjoint index sets covering ``range(n)`` (``k >= n``: leave-one-out)."""
    k = max(2, min(int(k), n))
    perm = np.random.default_rng(seed).permutation(n)
    return [np.sort(perm[i::k]) for i in range(k)]


def _create(system: TableSystem, overrides: dict[str, Any]) -> Geolocator:
    return create_geolocator(system.geolocator, **{**dict(system.options), **overrides.get(system.key, {})})


def _sample_gallery_predictions(
    system: TableSystem, samples: Sequence[Sample], true: np.ndarray, folds: int, seed: int,
    overrides: dict[str, dict[str, Any]], preds: list[GeoPrediction | None],
) -> str:
    """Fill ``preds`` with a gallery of the samples' own locations (test set, other folds or next fold); the note."""
    n = len(samples)
    note = system.note
    if system.sample_gallery == "test":
        note = note or (
            f"gallery: the {len(np.unique(true, axis=0))} distinct locations of these {n} recordings, "
            "each one's own included"
        )
        geo = _create(system, {system.key: {**overrides.get(system.key, {}), "gallery": np.unique(true, axis=0)}})
        for i, s in enumerate(samples):
            preds[i] = geo.predict(s.feed(system.feed), light=True)
    elif system.sample_gallery in ("train", "validation"):
        parts = folds_of(n, folds, seed)
        what = "the other folds" if system.sample_gallery == "train" else "the next fold"
        note = note or f"gallery: the exact locations of {what} ({len(parts)}-fold over these {n} recordings)"
        for j, test in enumerate(parts):
            if system.sample_gallery == "train":
                train = np.setdiff1d(np.arange(n), test)
            else:
                train = parts[(j + 1) % len(parts)]
            gallery = np.unique(true[train], axis=0)
            geo = _create(system, {system.key: {**overrides.get(system.key, {}), "gallery": gallery}})
            for i in test:
                preds[i] = geo.predict(samples[i].feed(system.feed), light=True)
    else:
        raise ValueError(f"unknown sample_gallery {system.sample_gallery!r}: train, validation or test")
    return note


def _train_gallery_predictions(
    system: TableSystem, samples: Sequence[Sample], true: np.ndarray, folds: int, seed: int,
    overrides: dict[str, dict[str, Any]], preds: list[GeoPrediction | None],
) -> str:
    """Fill ``preds`` with a gallery of H3 cells around the other folds' locations; the note."""
    assert system.train_gallery is not None
    n = len(samples)
    res, ring = system.train_gallery
    parts = folds_of(n, folds, seed)
    note = system.note or (f"gallery: H3 res-{res} cells and {ring}-ring of the other folds' locations "
                           f"({len(parts)}-fold over these {n} recordings)")
    for test in parts:
        train = np.setdiff1d(np.arange(n), test)
        gallery = h3_neighbours(true[train], res, ring).latlon
        geo = _create(system, {system.key: {**overrides.get(system.key, {}), "gallery": gallery}})
        for i in test:
            preds[i] = geo.predict(samples[i].feed(system.feed), light=True)
    return note


def _cross_validated_predictions(
    system: TableSystem, samples: Sequence[Sample], true: np.ndarray, folds: int, seed: int,
    overrides: dict[str, dict[str, Any]], preds: list[GeoPrediction | None],
) -> str:
    """Fill ``preds`` with a trained row, fitted on the other folds for each fold; the note."""
    n = len(samples)
    X = np.stack([np.asarray(s.features) for s in samples]) if samples[0].features is not None else np.zeros((n, 0))
    parts = folds_of(n, folds, seed)
    note = system.note or f"{len(parts)}-fold cross-validation over these {n} recordings"
    for test in parts:
        train = np.setdiff1d(np.arange(n), test)
        geo = _create(system, overrides)
        if not isinstance(geo, Trainable):
            raise TypeError(f"Table-1 row {system.key}: geolocator {system.geolocator} has no fit()")
        geo.fit(X[train], true[train])
        for i in test:
            preds[i] = geo.predict(samples[i].feed(system.feed), light=True)
    return note


def run_system(
    system: TableSystem,
    samples: Sequence[Sample],
    folds: int = 5,
    seed: int = 0,
    overrides: dict[str, dict[str, Any]] | None = None,
) -> SystemResult:
    """Predict every sample with ``system`` (k-fold cross-validated when it trains)."""
    overrides = dict(overrides or {})
    if system.uses_seed:
        overrides[system.key] = {"seed": seed, **overrides.get(system.key, {})}
    t0 = time.perf_counter()
    n = len(samples)
    preds: list[GeoPrediction | None] = [None] * n
    true = np.array([[s.lat, s.lon] for s in samples], dtype=np.float64)
    note = system.note
    if system.sample_gallery:
        note = _sample_gallery_predictions(system, samples, true, folds, seed, overrides, preds)
    elif system.train_gallery is not None:
        note = _train_gallery_predictions(system, samples, true, folds, seed, overrides, preds)
    elif system.trains:
        note = _cross_validated_predictions(system, samples, true, folds, seed, overrides, preds)
    else:
        geo = _create(system, overrides)
        for i, s in enumerate(samples):
            preds[i] = geo.predict(s.feed(system.feed), light=True)
    done = [p for p in preds if p is not None]
    assert len(done) == n, "every branch predicts every sample once"
    points = np.array([p.point for p in done], dtype=np.float64)
    errors = haversine_km(points, true)
    return SystemResult(system, points, errors, geolocation_metrics(errors), done, time.perf_counter() - t0, note)


def run_table1(
    samples: Sequence[Sample],
    systems: Sequence[str] | None = None,
    folds: int = 5,
    seed: int = 0,
    overrides: dict[str, dict[str, Any]] | None = None,
    progress: Progress | None = None,
    seeds: int = 1,
) -> list[SystemResult]:
    """Run the named Table-1 systems (default: all registered) on ``samples``; rows that use a seed
    are repeated for seeds ``seed .. seed + seeds - 1`` (the paper's mean ± std)."""
    if not samples:
        raise InputError("no recordings to evaluate")
    keys = list(systems) if systems else SYSTEMS.names()
    registered = {k: SYSTEMS[k] for k in keys}

    out = []
    for n, k in enumerate(keys, 1):
        try:
            r = run_system(registered[k], samples, folds=folds, seed=seed, overrides=overrides)
            if seeds > 1 and r.system.uses_seed:
                more = [run_system(registered[k], samples, folds=folds, seed=seed + i, overrides=overrides)
                        for i in range(1, seeds)]
                r.seed_metrics = [r.metrics] + [m.metrics for m in more]
                r.seconds += sum(m.seconds for m in more)
        except MissingWeightsError as e:
            r = SystemResult(registered[k], np.zeros((0, 2)), np.zeros(0), {}, skipped=str(e).splitlines()[0])
            if progress:
                progress(n / len(keys), f"{r.system.row_name}: skipped ({r.skipped})")
            out.append(r)
            continue
        out.append(r)
        if progress:
            progress(
                n / len(keys), f"{r.system.row_name}: median {r.metrics['median_error']:,.0f} km ({r.seconds:.1f} s)"
            )
    return out


# ---------------------------------------------------------------- report


def markdown_table(results: Sequence[SystemResult], n: int) -> str:
    """Header plus one row per system (median, mean, % within each threshold)."""
    lines = [metrics_table_header(with_n=True)]
    for r in results:
        if r.skipped:
            lines.append(f"| {r.system.row_name} | 0 | skipped |" + " |" * (1 + len(THRESHOLDS_KM)))
        elif len(r.seed_metrics) > 1:
            ms = r.metrics_summary()
            cells = [
                f"{ms['median_error'][0]:,.0f} ± {ms['median_error'][1]:,.0f}",
                f"{ms['mean_error'][0]:,.0f} ± {ms['mean_error'][1]:,.0f}",
            ]
            cells += [f"{100 * ms[k][0]:.1f} ± {100 * ms[k][1]:.1f}" for k in THRESHOLDS_KM]
            lines.append(f"| {r.system.row_name} ({len(r.seed_metrics)} seeds) | {n} | " + " | ".join(cells) + " |")
        else:
            lines.append(format_metrics_row(r.system.row_name, r.metrics, n))
    return "\n".join(lines)


def write_predictions_csv(path: Path, samples: Sequence[Sample], points: np.ndarray) -> Path:
    """``audio_id,latitude,longitude`` as the official benchmark reads it."""
    return write_points_csv(path, [s.id for s in samples], points)


def write_gold_csv(path: Path, samples: Sequence[Sample]) -> Path:
    """The samples' true locations in the benchmark's format."""
    return write_predictions_csv(path, samples, np.array([[s.lat, s.lon] for s in samples]))


def write_report(
    out_dir: str | Path,
    samples: Sequence[Sample],
    results: Sequence[SystemResult],
    *,
    title: str = "Table 1",
    command: str = "",
    gold: str | Path | None = None,
    extra_sections: Sequence[str] = (),
) -> dict[str, Path]:
    """Write ``table1.md``, ``table1.json``, ``predictions/<system>.csv``, ``cdf.png`` and
    ``error_map.png`` (of the best system that is not an oracle) under ``out_dir``. With ``gold`` every prediction
    file is re-scored with :func:`evaluate_files` and the table uses those (identical) numbers."""
    out = Path(out_dir)
    (out / "predictions").mkdir(parents=True, exist_ok=True)
    gold_path = Path(gold) if gold else write_gold_csv(out / "predictions" / "gold.csv", samples)
    skipped = [r for r in results if r.skipped]
    results = [r for r in results if not r.skipped]
    if not results:
        raise InputError("no Table-1 system could run: " + "; ".join(f"{r.system.key}: {r.skipped}" for r in skipped))
    for r in results:
        f = write_predictions_csv(out / "predictions" / f"{r.system.key}.csv", samples, r.points)
        official = evaluate_files(f, gold_path)
        if abs(official["median_error"] - r.metrics["median_error"]) > 1e-6 * max(1.0, r.metrics["median_error"]):
            raise InputError(f"{gold_path} disagrees with the dataset's locations for {r.system.key}")
    n = len(samples)
    lines = [f"# {title}", "", f"{n} recordings." + (f" Command: `{command}`" if command else ""), ""]
    lines += [markdown_table(list(results) + skipped, n), ""]
    notes = [f"- {r.system.row_name}: {r.note}" for r in results if r.note]
    notes += [f"- {r.system.row_name}: skipped, {r.skipped}" for r in skipped]
    if notes:
        lines += ["Notes:", ""] + notes + [""]
    lines += list(extra_sections)
    lines += ["", "![CDF of errors](cdf.png)", "", "![Error map](error_map.png)", ""]
    paths = {
        "markdown": out / "table1.md", "json": out / "table1.json", "cdf": out / "cdf.png", "map": out / "error_map.png"
    }
    write_text(paths["markdown"], "\n".join(lines))
    write_text(paths["json"], json.dumps(
        {"n": n, "rows": {r.system.key: {"name": r.system.row_name, **r.metrics, "seconds": r.seconds, "note": r.note,
                                         **({"seeds": r.seed_metrics} if len(r.seed_metrics) > 1 else {})}
                          for r in results},
         "skipped": {r.system.key: r.skipped for r in skipped}}, indent=1))
    true = np.array([[s.lat, s.lon] for s in samples])
    cdf_plot({r.system.row_name: r.errors_km for r in results}, paths["cdf"], title=title)
    real = [r for r in results if r.system.feed != "truth"] or list(results)
    best = min(real, key=lambda r: r.metrics["median_error"])
    error_map(true, best.errors_km, paths["map"], title=f"{best.system.row_name}: error per recording (km)")
    return paths


