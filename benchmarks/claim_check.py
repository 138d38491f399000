"""Claim check and splice detection on xc-dev: how often is a verdict right?

    .venv/bin/python benchmarks/claim_check.py [--data ../shared/data/xc-dev] [--far 3] [--fit] [--splices 60]

Each clip is checked against its true location (a true claim) and ``--far`` seeded claims at least
3,000 km away (random points of the land gallery), plus claims at about 500 / 1,000 / 2,000 km for the
resolution. Reports the AUC of the mismatch score (true vs far; 95 % bootstrap interval over clips),
the rates of each verdict at the shipped thresholds, per continent, and a reliability table. With
``--fit`` the calibration (slope, offset of the sigmoid on the log Bayes factor) is refitted by logistic
regression and the rates are those of 5-fold cross-validation grouped by clip (constants chosen on the
other folds), with the constants to ship printed. Splices: clip A then clip B from another continent,
decoded and joined as audio, against controls (A's second half then its first half; A alone):
detection rate, false alarms and the change-point error. Time: ``check`` on a 60 s clip, warm and in
a fresh process. Tags are never read. Saves benchmarks/results/claim_check.{md,json}.
"""

from __future__ import annotations

import argparse
import math
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.machine import machine, save_results  # noqa: E402
from geoforensics.data import open_dataset  # noqa: E402
from geoforensics.forensics import checker as C  # noqa: E402
from geoforensics.forensics import claims as claims_mod  # noqa: E402
from geoforensics.forensics import results as R  # noqa: E402
from geoforensics.forensics import splices as S  # noqa: E402
from geoforensics.geo.geodesy import haversine_km  # noqa: E402

DISTANCES_KM = (500, 1000, 2000)


@dataclass
class Row:
    clip: str
    continent: str
    kind: str
    log_bf: float
    score: float
    verdict: str
    has_evidence: bool


def random_claim(gallery: np.ndarray, true: tuple[float, float], lo: float, hi: float,
                 rng: np.random.Generator) -> tuple[float, float]:
    d = haversine_km(gallery, true)
    idx = np.where((d >= lo) & (d <= hi))[0]
    while len(idx) == 0:
        lo, hi = lo * 0.8, hi * 1.25
        idx = np.where((d >= lo) & (d <= hi))[0]
    lat, lon = gallery[rng.choice(idx)]
    return float(lat), float(lon)


def with_hum(path: Path, hz: int, level_db: float, rng: np.random.Generator) -> np.ndarray:
    """The clip at 48 kHz with mains hum added: ``hz`` and four harmonics (1/k), a slow +-0.05 Hz wander,
    at ``level_db`` relative to the clip's RMS."""
    from geoforensics.audio.decode import decode_audio

    x = decode_audio(path, 48000, max_duration_s=600)
    t = np.arange(len(x)) / 48000
    f = hz + 0.05 * np.sin(2 * np.pi * t / 37.0 + rng.uniform(0, 2 * np.pi))
    phase = 2 * np.pi * np.cumsum(f) / 48000
    hum = sum(np.sin(k * phase + rng.uniform(0, 2 * np.pi)) / k for k in range(1, 6))
    rms = float(np.sqrt(np.mean(x.astype(np.float64) ** 2))) or 1e-4
    hum *= rms * 10 ** (level_db / 20) / float(np.sqrt(np.mean(hum**2)))
    return (x + hum).astype(np.float32)


def collect(data: Path, far: int, seed: int, limit: int, hum_db: float | None = None) -> tuple[list[Row], float]:
    """Every claim of every clip, with its log Bayes factor under the shipped calibration. With ``hum_db``
    each clip first gets mains hum of its true place's grid (clips on no single grid are left out)."""
    from geoforensics.geo.grid import grid_frequency

    rng = np.random.default_rng(seed)
    recs = [r for r in open_dataset(data) if r.audio_path is not None][: limit or None]
    rows: list[Row] = []
    audio_s = 0.0
    t0 = time.perf_counter()
    for i, r in enumerate(recs):
        if hum_db is None:
            checker = C.claim_checker(Path(r.audio_path))
        else:
            hz = grid_frequency(r.lat, r.lon).hz
            if hz is None:
                continue
            checker = C.claim_checker(with_hum(Path(r.audio_path), hz, hum_db, rng), sample_rate=48000)
        audio_s += checker.scores.duration_s
        g = checker.geo.gallery
        true = (r.lat, r.lon)
        claims = [("true", true)] + [("far", random_claim(g, true, C.FAR_KM, 20038.0, rng)) for _ in range(far)]
        claims += [(f"{d} km", random_claim(g, true, 0.8 * d, 1.2 * d, rng)) for d in DISTANCES_KM]
        for kind, c in claims:
            res = checker.check(claims_mod.Claim(c[0], c[1], "csv"))
            rows.append(Row(r.id, "", kind, res.log_bayes_factor, res.mismatch_score, res.verdict,
                            checker.has_evidence))
        print(f"[{i + 1}/{len(recs)}] {r.id}", file=sys.stderr)
    return rows, time.perf_counter() - t0


def continents(data: Path) -> dict[str, str]:
    import csv

    with open(data / "labels.csv", newline="") as f:
        return {Path(row["file"]).stem: row.get("continent", "") for row in csv.DictReader(f)}


def auc(neg: np.ndarray, pos: np.ndarray) -> float:
    """P(a positive scores above a negative), ties counted half."""
    if not len(neg) or not len(pos):
        return float("nan")
    allv = np.concatenate([neg, pos])
    ranks = allv.argsort().argsort().astype(float) + 1
    # average ranks of ties
    for v in np.unique(allv):
        m = allv == v
        if m.sum() > 1:
            ranks[m] = ranks[m].mean()
    return float((ranks[len(neg):].sum() - len(pos) * (len(pos) + 1) / 2) / (len(neg) * len(pos)))


def bootstrap_auc(rows: list[Row], key: str = "score", n: int = 1000, seed: int = 1) -> tuple[float, float]:
    clips = sorted({r.clip for r in rows})
    by = {c: ([getattr(r, key) for r in rows if r.clip == c and r.kind == "true"],
              [getattr(r, key) for r in rows if r.clip == c and r.kind == "far"]) for c in clips}
    rng = np.random.default_rng(seed)
    vals = []
    for _ in range(n):
        pick = rng.choice(clips, len(clips))
        neg = np.array([x for c in pick for x in by[c][0]])
        pos = np.array([x for c in pick for x in by[c][1]])
        vals.append(auc(neg, pos))
    lo, hi = np.percentile(vals, [2.5, 97.5])
    return float(lo), float(hi)


def fit_logistic(x: np.ndarray, y: np.ndarray, w: np.ndarray) -> tuple[float, float]:
    """Slope and offset of a weighted logistic regression of y on x (Newton steps)."""
    a, b = fit_logistic_features(np.asarray(x, float)[:, None], y, w)
    return float(a), float(b)


def fit_logistic_features(X: np.ndarray, y: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Coefficients of a weighted logistic regression of y on the columns of X, then the offset (Newton steps,
    from slope 1 on the first column)."""
    n, k = X.shape
    Z = np.hstack([X, np.ones((n, 1))])
    beta = np.zeros(k + 1)
    beta[0] = 1.0
    for _ in range(100):
        p = 1 / (1 + np.exp(-np.clip(Z @ beta, -50, 50)))
        g = Z.T @ (w * (p - y))
        H = (Z * (w * p * (1 - p))[:, None]).T @ Z + 1e-9 * np.eye(k + 1)
        step = np.linalg.solve(H, g)
        beta = beta - step
        if np.abs(step).max() < 1e-10:
            break
    return beta


def calibrate(rows: list[Row], folds: int, seed: int) -> tuple[tuple[float, float], dict[str, float]]:
    """Fit (slope, offset) on true vs far claims, weighted to equal odds; cross-validated scores
    replace the shipped ones in ``rows`` (grouped by clip)."""
    tf = [r for r in rows if r.kind in ("true", "far")]

    def xyw(sub: list[Row]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        x = np.array([r.log_bf for r in sub])
        y = np.array([r.kind == "far" for r in sub], float)
        n_far, n_true = y.sum(), len(y) - y.sum()
        w = np.where(y == 1, 0.5 / max(n_far, 1), 0.5 / max(n_true, 1)) * len(y)
        return x, y, w

    full = fit_logistic(*xyw(tf))
    clips = sorted({r.clip for r in rows})
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(clips))
    fold_of = {clips[j]: k % folds for k, j in enumerate(order)}
    for f in range(folds):
        a, b = fit_logistic(*xyw([r for r in tf if fold_of[r.clip] != f]))
        for r in rows:
            if fold_of[r.clip] == f:
                r.score = 1 / (1 + math.exp(-min(max(a * r.log_bf + b, -700), 700))) if r.has_evidence else 0.5
                r.verdict = verdict(r.score, r.has_evidence)
    return full, {"slope": full[0], "offset": full[1]}


def verdict(score: float, has_evidence: bool) -> str:
    return C.verdict_of(score, has_evidence)


def rates(rows: list[Row], kind: str) -> dict[str, float]:
    sub = [r for r in rows if r.kind == kind]
    n = max(len(sub), 1)
    return {v: 100.0 * sum(r.verdict == v for r in sub) / n for v in R.VERDICTS} | {"n": len(sub)}


def claims_table(rows: list[Row]) -> list[str]:
    t = np.array([r.score for r in rows if r.kind == "true"])
    f = np.array([r.score for r in rows if r.kind == "far"])
    lo, hi = bootstrap_auc(rows)
    out = [f"AUC (true vs far claims): **{auc(t, f):.3f}** (95 % bootstrap interval over clips {lo:.3f}-{hi:.3f})", ""]
    out += ["| claims | n | called mismatch % | inconclusive % | consistent % |", "|---|---|---|---|---|"]
    for kind in ["true", *(f"{d} km" for d in DISTANCES_KM), "far"]:
        r = rates(rows, kind)
        label = {"true": "true location", "far": f">= {C.FAR_KM:,.0f} km (far)"}.get(kind, f"about {kind} away")
        out.append(f"| {label} | {r['n']} | {r['mismatch']:.1f} | {r['inconclusive']:.1f} | {r['consistent']:.1f} |")
    return out


def continent_table(rows: list[Row]) -> list[str]:
    out = ["| continent | clips | AUC | true called mismatch % | far called mismatch % | inconclusive % (true / far) |",
           "|---|---|---|---|---|---|"]
    for cont in sorted({r.continent for r in rows}):
        sub = [r for r in rows if r.continent == cont]
        t = np.array([r.score for r in sub if r.kind == "true"])
        f = np.array([r.score for r in sub if r.kind == "far"])
        rt, rf = rates(sub, "true"), rates(sub, "far")
        out.append(f"| {cont or '?'} | {len(t)} | {auc(t, f):.3f} | {rt['mismatch']:.1f} | {rf['mismatch']:.1f} | "
                   f"{rt['inconclusive']:.1f} / {rf['inconclusive']:.1f} |")
    return out


def reliability(rows: list[Row]) -> list[str]:
    """Observed share of far claims per score bin (true and far claims weighted to equal odds)."""
    tf = [r for r in rows if r.kind in ("true", "far")]
    n_t = sum(r.kind == "true" for r in tf)
    n_f = len(tf) - n_t
    out = ["| mismatch score | claims | share far (equal odds) |", "|---|---|---|"]
    edges = [0, 0.05, 0.2, 0.5, 0.8, 0.95, 1.0001]
    for lo, hi in zip(edges[:-1], edges[1:]):
        sub = [r for r in tf if lo <= r.score < hi]
        if not sub:
            continue
        wf = sum(1 / n_f for r in sub if r.kind == "far")
        wt = sum(1 / n_t for r in sub if r.kind == "true")
        out.append(f"| {lo:.2f}-{min(hi, 1):.2f} | {len(sub)} | {wf / (wf + wt):.2f} |")
    return out


# ---------------------------------------------------------------- splices


def splices(data: Path, n: int, seed: int) -> tuple[list[str], dict]:
    from geoforensics.audio.decode import decode_audio
    from geoforensics.evidence import score_audio
    from geoforensics.geolocators.registry import get_geolocator
    from geoforensics.models.birdnet import SAMPLE_RATE

    cont = continents(data)
    recs = [r for r in open_dataset(data) if r.audio_path is not None]
    rng = np.random.default_rng(seed)
    geo = get_geolocator("species-ranges")
    audio: dict[str, np.ndarray] = {}

    def load(r) -> np.ndarray:
        if r.id not in audio:
            audio[r.id] = decode_audio(r.audio_path, SAMPLE_RATE, max_duration_s=120)
        return audio[r.id]

    long_enough = [r for r in recs if len(load(r)) >= 8 * SAMPLE_RATE]
    found = {"splice": [], "swapped": [], "plain": []}
    errors = []
    for _ in range(n):
        a, b = rng.choice(len(long_enough), 2, replace=False)
        while cont[long_enough[a].id] == cont[long_enough[b].id]:
            a, b = rng.choice(len(long_enough), 2, replace=False)
        xa, xb = load(long_enough[a]), load(long_enough[b])
        res = S.find_splice(score_audio(np.concatenate([xa, xb]), sample_rate=SAMPLE_RATE), geo)
        found["splice"].append(res.detected)
        if res.detected and res.change_s is not None:
            errors.append(abs(res.change_s - len(xa) / SAMPLE_RATE))
    for j in rng.choice(len(long_enough), min(n, len(long_enough)), replace=False):
        x = load(long_enough[j])
        h = len(x) // 2
        found["swapped"].append(S.find_splice(score_audio(np.concatenate([x[h:], x[:h]]), sample_rate=SAMPLE_RATE),
                                              geo).detected)
        found["plain"].append(S.find_splice(score_audio(x, sample_rate=SAMPLE_RATE), geo).detected)
    e = np.array(errors) if errors else np.array([np.nan])
    lines = [
        "| soundtrack | n | reported as a splice % |", "|---|---|---|",
        f"| clip A then clip B from another continent | {len(found['splice'])} | "
        f"{100 * np.mean(found['splice']):.1f} |",
        f"| control: A's second half then its first half | {len(found['swapped'])} | "
        f"{100 * np.mean(found['swapped']):.1f} |",
        f"| control: A alone | {len(found['plain'])} | {100 * np.mean(found['plain']):.1f} |",
        "",
        f"Change-point error of the detected splices: median {np.nanmedian(e):.1f} s, 90th percentile "
        f"{np.nanpercentile(e, 90):.1f} s, max {np.nanmax(e):.1f} s (windows every 1.5 s).",
    ]
    summary = {k: float(np.mean(v)) for k, v in found.items()} | {"change_error_median_s": float(np.nanmedian(e))}
    return lines, summary


# ---------------------------------------------------------------- time


def timing(data: Path) -> tuple[list[str], dict]:
    from geoforensics.audio.decode import decode_audio

    recs = [r for r in open_dataset(data) if r.audio_path is not None]
    longest = max(recs, key=lambda r: Path(r.audio_path).stat().st_size)
    with tempfile.TemporaryDirectory() as tmp:
        import soundfile as sf

        x = decode_audio(longest.audio_path, 48000, max_duration_s=60)
        x = np.tile(x, int(np.ceil(60 * 48000 / len(x))))[: 60 * 48000]
        clip = Path(tmp) / "sixty_seconds.wav"
        sf.write(clip, x, 48000)
        t0 = time.perf_counter()
        C.check(clip, "48.1, 11.6")
        first = time.perf_counter() - t0
        t0 = time.perf_counter()
        C.check(clip, "48.1, 11.6")
        warm = time.perf_counter() - t0
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-m", "geoforensics", "check", str(clip), "--claim", "48.1, 11.6",
                        "--json", "-"],
                       check=True, capture_output=True, cwd=ROOT)
        cold = time.perf_counter() - t0
    lines = [
        "| `check` on a 60 s clip | seconds |", "|---|---|",
        f"| warm (models loaded, second call in the process) | {warm:.2f} |",
        f"| first call in this process (models load) | {first:.2f} |",
        f"| cold: `geoforensics check` in a fresh process (disk caches present) | {cold:.2f} |",
    ]
    return lines, {"warm_s": warm, "first_call_s": first, "cold_process_s": cold}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data" / "xc-dev")
    ap.add_argument("--far", type=int, default=3, help="far claims per clip (default 3)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--limit", type=int, default=0, help="only the first N clips")
    ap.add_argument("--fit", action="store_true", help="refit the calibration; report cross-validated rates")
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--splices", type=int, default=60, help="synthetic splices (0: skip)")
    ap.add_argument("--no-timing", action="store_true")
    ap.add_argument("--hum-db", type=float, default=None, metavar="DB",
                    help="also check every clip with mains hum of its true place's grid added at DB re its RMS "
                         "(e.g. -30)")
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "claim_check")
    args = ap.parse_args(argv)

    rows, seconds = collect(args.data, args.far, args.seed, args.limit)
    cont = continents(args.data)
    for r in rows:
        r.continent = cont.get(r.clip, r.continent)
    fitted = None
    if args.fit:
        (slope, offset), fitted = calibrate(rows, args.folds, args.seed)
        t = np.array([r.log_bf for r in rows if r.kind == "true" and r.has_evidence])
        fitted["log_bf_true_q97"] = float(np.percentile(t, 97))
    lines = [
        "# Claim check on xc-dev", "",
        f"`{' '.join(['benchmarks/claim_check.py', *(argv if argv is not None else sys.argv[1:])])}` on {machine()}.",
        f"{len({r.clip for r in rows})} clips; per clip its true location, {args.far} far claims (random land points "
        f">= {C.FAR_KM:,.0f} km away, seed {args.seed}) and one claim at about each of "
        f"{', '.join(f'{d:,}' for d in DISTANCES_KM)} km. Thresholds: mismatch from {C.MISMATCH_AT}, consistent up to "
        f"{C.CONSISTENT_AT}. " + (f"Scores cross-validated ({args.folds} folds grouped by clip); the calibration "
                                  f"fitted on all clips: slope {fitted['slope']:.4f}, offset {fitted['offset']:.4f}."
                                  if fitted else f"Shipped calibration: slope {C.SLOPE}, offset {C.OFFSET}."),
        f"Analysis time: {seconds:.0f} s for all clips (decode, BirdNET, hum, splice search, every claim).", "",
        *claims_table(rows), "", "Per continent:", "", *continent_table(rows), "",
        "Reliability (true and far claims):", "", *reliability(rows), "",
    ]
    summary: dict = {"rows": [r.__dict__ for r in rows], "calibration": fitted}
    if args.hum_db is not None:
        hum_rows, _ = collect(args.data, args.far, args.seed, args.limit, hum_db=args.hum_db)
        for r in hum_rows:
            r.continent = cont.get(r.clip, r.continent)
        lines += [f"## With mains hum of the true place's grid ({args.hum_db:g} dB re the clip's RMS)", "",
                  "The same claims, each clip with generated 50 or 60 Hz hum (its true place's grid; clips on no "
                  "single grid left out). The hum counts for claims on its grid and against claims on the other one.",
                  "",
                  *claims_table(hum_rows), ""]
        summary["hum"] = {"level_db": args.hum_db, "rows": [r.__dict__ for r in hum_rows]}
    if args.splices:
        sl, ss = splices(args.data, args.splices, args.seed)
        lines += ["## Splices", "", *sl, ""]
        summary["splices"] = ss
    if not args.no_timing:
        tl, ts = timing(args.data)
        lines += ["## Time", "", *tl, ""]
        summary["timing"] = ts
    text = "\n".join(lines)
    save_results(args.out, text, summary)
    return 0


if __name__ == "__main__":
    sys.exit(main())
