"""What is in the soundtrack, and does lowering it help the claim check? Measured on the distractor mixtures.

    nice -n 15 .venv/bin/python benchmarks/soundtrack_content.py [--kinds speech music traffic] [--levels -6]

Reads the packed mixtures and BirdNET's raw scores that ``claim_distractors.py`` keeps in its cache (running it
for any that are missing), then per clip and condition:

* the content analysis (``geoforensics.audio.content``): which kind dominates each window, the share of windows
  with an animal audible and masked, and how many clips get a masked reason (the verdict would be inconclusive);
* the claim check in three variants, each with the same claims as ``claim_distractors.py``:
  ``shipped`` (its cached result), ``guard`` (the same scores; a mismatch or consistent verdict becomes
  inconclusive when the content analysis gives a masked reason), ``floor`` (the noise floor extended with what
  BirdNET gives each class on the distractors alone, :func:`distractor_floor`, seeds the mixtures never use; then
  the guard) and ``frontend`` (the audio after ``geoforensics.audio.frontend.reduce_non_animal``; the changed
  windows scored again by BirdNET, then the same checker and the guard);
* the time the content analysis and the front end take per audio-minute.

Saves ``benchmarks/results/soundtrack_content.{md,json}``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks import claim_check as CC  # noqa: E402
from benchmarks import claim_distractors as B  # noqa: E402
from benchmarks import distractors as D  # noqa: E402
from benchmarks.machine import machine, save_results  # noqa: E402
from geoforensics.atomic import atomic_open, write_text  # noqa: E402
from geoforensics.audio.content import KINDS, SoundtrackContent, analyse_content  # noqa: E402
from geoforensics.data import open_dataset  # noqa: E402
from geoforensics.defaults import WINDOW  # noqa: E402
from geoforensics.forensics import checker as C  # noqa: E402

VARIANTS = ("shipped", "guard", "floor", "frontend")
VERSION = "content-3"


def content_of(audio: np.ndarray, raw: np.ndarray, floor: np.ndarray | None = None) -> SoundtrackContent:
    """The content analysis with BirdNET V2.4's labels and the claim check's noise floor (or ``floor``)."""
    from geoforensics.models.birdnet import load_labels
    from geoforensics.scoring import discount

    labels = load_labels()
    return analyse_content(audio, D.RATE, discount(raw, floor), labels=labels.scientific, is_species=labels.is_species,
                            window=WINDOW)


@contextmanager
def floor_of(floor: np.ndarray) -> Iterator[None]:
    """The claim check discounts by ``floor`` inside the block."""
    from geoforensics import scoring

    shipped = scoring.noise_floor
    scoring.noise_floor = lambda: floor  # type: ignore[assignment]
    try:
        yield
    finally:
        scoring.noise_floor = shipped


def checked(task: B.Task, audio: np.ndarray, scores: np.ndarray, content: SoundtrackContent,
            duration_s: float) -> list[list[Any]]:
    """The claims of ``task`` against a checker built from window ``scores``, verdicts guarded by ``content``."""
    from geoforensics.audio.hum import detect_hum
    from geoforensics.scoring import WindowScores

    ws = WindowScores(content.starts_s, content.ends_s, scores, duration_s, source_duration_s=duration_s)
    checker = C.ClaimChecker(ws, source=Path(task.media()).name, hum=detect_hum(audio, D.RATE))
    claims = []
    for kind, (lat, lon) in B.claims_for(task, checker.geo.gallery):
        res = checker.check(C.Claim(lat, lon, "csv"))
        claims.append([kind, lat, lon, res.log_bayes_factor, res.mismatch_score, guarded(res.verdict, content)])
    return claims


FLOOR_SEEDS = 4
FLOOR_LEVELS_DBFS = (-40.0, -20.0, -6.0)


def distractor_floor() -> np.ndarray:
    """Per BirdNET class, the highest score it reaches on the distractors alone (no bird; seeds the benchmark never
    mixes), plus the shipped table's margin; cached. A candidate extension of ``forensics/noise.py``'s table."""
    from geoforensics.evidence import score_audio
    from geoforensics.forensics.noise import FLOOR_MARGIN
    from geoforensics.models.birdnet import MODEL_VERSION, load_labels
    from geoforensics.paths import cache_dir

    file = cache_dir("distractor-benchmark") / f"floor-{D.VERSION}-{MODEL_VERSION}-{FLOOR_SEEDS}.npy"
    if file.is_file():
        return np.asarray(np.load(file))
    top = np.zeros(len(load_labels()), np.float32)
    for kind in D.KINDS:
        for i in range(FLOOR_SEEDS):
            x = D.distractor(kind, 15.0, D.seed_of("floor", kind, i)).mean(1)
            for level in FLOOR_LEVELS_DBFS:
                y = x * 10 ** (level / 20)
                top = np.maximum(top, score_audio(y, sample_rate=D.RATE).scores.max(0))
            print(f"floor: {kind} {i}", file=sys.stderr)
    floor = np.where(top >= 0.05, top + FLOOR_MARGIN, 0.0).astype(np.float32)
    with atomic_open(file, "wb") as f:
        np.save(f, floor)
    return floor


def guarded(verdict: str, content: SoundtrackContent) -> str:
    return "inconclusive" if content.masked_reason() is not None else verdict


def frontend_claims(task: B.Task, audio: np.ndarray, raw: np.ndarray, content: SoundtrackContent,
                    duration_s: float) -> tuple[list[list[Any]], float, int]:
    """The claims after the front end: the changed windows scored again by BirdNET."""
    from geoforensics.audio.frontend import reduce_non_animal
    from geoforensics.audio.windows import split_windows
    from geoforensics.models.birdnet import get_audio_model

    t0 = time.perf_counter()
    fe = reduce_non_animal(audio, D.RATE, content)
    t_fe = time.perf_counter() - t0
    scores = raw.copy()
    if fe.changed.any():
        wins = split_windows(fe.audio, D.RATE, WINDOW)
        scores[fe.changed] = get_audio_model().scores(wins.data[fe.changed])
    return checked(task, audio, scores, content, duration_s), t_fe, int(fe.changed.sum())


def run(task: B.Task, frontend: bool) -> dict[str, Any]:
    """Content, guard and (optionally) front end for one clip in one condition (cached beside its result)."""
    from geoforensics.audio.decode import decode_audio
    from geoforensics.scoring import noise_floor

    file = task.cache_file(f".{VERSION}{'-fe' if frontend else ''}.json")
    if file.is_file():
        try:
            return dict(json.loads(file.read_text()))
        except (OSError, ValueError):
            pass
    base = B.run_task(task)
    raw = B.load_raw(task.cache_file(".npz"))
    assert raw is not None
    audio = decode_audio(task.media(), D.RATE, max_duration_s=600)
    t0 = time.perf_counter()
    content = content_of(audio, raw)
    t_content = time.perf_counter() - t0
    out: dict[str, Any] = {
        "clip": task.clip, "condition": base["condition"], "kind": base["kind"], "has_evidence": base["has_evidence"],
        "duration_s": base["duration_s"], "dominant": content.dominant, "audible": content.audible.tolist(),
        "masked": content.masked.tolist(), "summary": content.summary(), "reason": content.masked_reason(),
        "content_s": t_content,
        "shipped": base["claims"],
        "guard": [[k, la, lo, lbf, s, guarded(v, content)] for k, la, lo, lbf, s, v in base["claims"]],
    }
    floor = np.maximum(noise_floor(), distractor_floor())
    with floor_of(floor):
        floor_content = content_of(audio, raw, floor)
        out["floor"] = checked(task, audio, raw, floor_content, base["duration_s"])
    out |= {"masked_share": float(content.masked.mean()), "reason_floor": floor_content.masked_reason(),
            "masked_share_floor": float(floor_content.masked.mean())}
    if frontend:
        claims, t_fe, changed = frontend_claims(task, audio, raw, content, base["duration_s"])
        out |= {"frontend": claims, "frontend_s": t_fe, "changed_windows": changed}
    write_text(file, json.dumps(out))
    return out


def _run(args: tuple[B.Task, bool]) -> dict[str, Any]:
    return run(*args)


def content_table(by_cond: dict[str, list[dict[str, Any]]]) -> list[str]:
    out = ["| soundtrack | windows | " + " | ".join(f"dominant: {k} %" for k in KINDS) +
           " | animal audible % | masked % | clips with a masked reason % |",
           "|---|---|" + "---|" * len(KINDS) + "---|---|---|"]
    for name, rs in by_cond.items():
        dom = [d for r in rs for d in r["dominant"]]
        n = max(len(dom), 1)
        aud = np.mean([a for r in rs for a in r["audible"]]) * 100 if dom else 0.0
        msk = np.mean([m for r in rs for m in r["masked"]]) * 100 if dom else 0.0
        reason = 100.0 * np.mean([r["reason"] is not None for r in rs]) if rs else 0.0
        out.append(f"| {name} | {len(dom)} | " + " | ".join(f"{100 * dom.count(k) / n:.1f}" for k in KINDS) +
                   f" | {aud:.1f} | {msk:.1f} | {reason:.1f} |")
    return out


def verdict_table(by_cond: dict[str, list[dict[str, Any]]], variants: list[str]) -> tuple[list[str], dict[str, Any]]:
    out = ["| soundtrack | variant | clips | AUC [95 % CI] | true: mismatch % | true: inconclusive % | "
           "true: consistent % | far: mismatch % | far: inconclusive % | far: consistent % |",
           "|---|---|---|---|---|---|---|---|---|---|"]
    data: dict[str, Any] = {}
    for name, rs in by_cond.items():
        for v in variants:
            rows = [CC.Row(r["clip"], "", k, lbf, s, vd, r["has_evidence"]) for r in rs if v in r
                    for k, _, _, lbf, s, vd in r[v]]
            if not rows:
                continue
            t = np.array([x.score for x in rows if x.kind == "true"])
            f = np.array([x.score for x in rows if x.kind == "far"])
            a = CC.auc(t, f)
            lo, hi = CC.bootstrap_auc(rows)
            rt, rf = CC.rates(rows, "true"), CC.rates(rows, "far")
            out.append(f"| {name} | {v} | {len({x.clip for x in rows})} | {a:.3f} [{lo:.3f}-{hi:.3f}] | "
                       f"{rt['mismatch']:.1f} | {rt['inconclusive']:.1f} | {rt['consistent']:.1f} | "
                       f"{rf['mismatch']:.1f} | {rf['inconclusive']:.1f} | {rf['consistent']:.1f} |")
            data[f"{name} / {v}"] = {"auc": a, "auc_ci": [lo, hi], "true": rt, "far": rf}
    return out, data


CALIBRATIONS = {
    "refit": ("shipped", lambda r, lbf: [lbf]),
    "refit, masked-aware": ("shipped", lambda r, lbf: [lbf, lbf * r["masked_share"]]),
    "floor, refit": ("floor", lambda r, lbf: [lbf]),
    "floor, refit, masked-aware": ("floor", lambda r, lbf: [lbf, lbf * r["masked_share_floor"]]),
}
"""Calibrations fitted on the mixtures: which variant's log Bayes factors, and the features of each claim."""


def cross_validated(results: list[dict[str, Any]], name: str, folds: int,
                    seed: int) -> tuple[list[dict[str, Any]], list[float]]:
    """The results with ``name``'s claims rescored by a calibration fitted on the other folds (grouped by clip,
    every condition together, true vs far weighted to equal odds), verdicts guarded; and the fit on all."""
    variant, feats = CALIBRATIONS[name]
    reason = "reason_floor" if variant == "floor" else "reason"
    clips = sorted({r["clip"] for r in results})
    order = np.random.default_rng(seed).permutation(len(clips))
    fold_of = {clips[j]: k % folds for k, j in enumerate(order)}

    def fit(sub: list[dict[str, Any]]) -> np.ndarray:
        X, y = [], []
        for r in sub:
            for kind, _, _, lbf, _, _ in r[variant]:
                if kind in ("true", "far"):
                    X.append(feats(r, lbf))
                    y.append(kind == "far")
        yy = np.array(y, float)
        w = np.where(yy == 1, 0.5 / max(yy.sum(), 1), 0.5 / max(len(yy) - yy.sum(), 1)) * len(yy)
        return CC.fit_logistic_features(np.array(X, float), yy, w)

    out = [dict(r) for r in results]
    for f in range(folds):
        beta = fit([r for r in results if fold_of[r["clip"]] != f])
        for r in out:
            if fold_of[r["clip"]] != f:
                continue
            claims = []
            for kind, la, lo, lbf, _, _ in r[variant]:
                z = float(np.dot(beta[:-1], feats(r, lbf)) + beta[-1])
                score = 1 / (1 + np.exp(-np.clip(z, -700, 700))) if r["has_evidence"] else 0.5
                v = C.verdict_of(score, r["has_evidence"])
                claims.append([kind, la, lo, lbf, score, "inconclusive" if r[reason] is not None else v])
            r[name] = claims
    return out, [float(b) for b in fit(results)]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data" / "xc-dev")
    ap.add_argument("--kinds", nargs="+", choices=D.KINDS, default=["speech", "music", "traffic"])
    ap.add_argument("--levels", nargs="+", type=float, default=[-6.0])
    ap.add_argument("--far", type=int, default=3)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--limit", type=int, default=0)
    ap.add_argument("--every", type=int, default=1)
    ap.add_argument("--no-frontend", action="store_true", help="content and guard only (no BirdNET re-scoring)")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "soundtrack_content")
    args = ap.parse_args(argv)

    every = [r for r in open_dataset(args.data) if r.audio_path is not None][: args.limit or None]
    recs = every[:: args.every]
    conds = [B.Condition(k) for k in B.REFERENCES] + [B.Condition(k, lv) for k in args.kinds for lv in args.levels]
    fp = B.fingerprint()
    distractor_floor()
    tasks = [(B.Task(r.id, str(r.audio_path), r.lat, r.lon, i, c, args.seed, args.far, fp), not args.no_frontend)
             for c in conds for i, r in enumerate(every) if r in recs]
    t0 = time.perf_counter()
    results = []
    with ProcessPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        for i, res in enumerate(pool.map(_run, tasks, chunksize=1)):
            results.append(res)
            print(f"[{i + 1}/{len(tasks)}] {res['clip']} {res['condition']}: {res['summary']}", file=sys.stderr)
    by_cond = {c.name: [r for r in results if r["condition"] == c.name] for c in conds}
    variants = [v for v in VARIANTS if v != "frontend" or not args.no_frontend]
    vlines, vdata = verdict_table(by_cond, variants)
    fits: dict[str, list[float]] = {}
    for name in CALIBRATIONS:
        results, fits[name] = cross_validated(results, name, args.folds, args.seed)
    by_cond = {c.name: [r for r in results if r["condition"] == c.name] for c in conds}
    clines, cdata = verdict_table(by_cond, list(CALIBRATIONS))
    minutes = sum(r["duration_s"] for r in results) / 60
    t_content = sum(r["content_s"] for r in results) / max(minutes, 1e-9)
    t_fe = sum(r.get("frontend_s", 0.0) for r in results) / max(minutes, 1e-9)
    cmd = " ".join(["benchmarks/soundtrack_content.py", *(argv if argv is not None else sys.argv[1:])])
    lines = [
        "# What is in the soundtrack, and the claim check with it (xc-dev under distractors)", "",
        f"`{cmd}` on {machine()}.",
        f"{len(recs)} clips, the mixtures and claims of `claim_distractors.py` (same seeds). Run time "
        f"{time.perf_counter() - t0:.0f} s. Content analysis {t_content:.2f} s per audio-minute"
        + (f", front end (without BirdNET's re-scoring) {t_fe:.2f} s per audio-minute" if not args.no_frontend else "")
        + " (process time as measured while the machine was shared).", "",
        "## What the content analysis finds", "", *content_table(by_cond), "",
        "## The claim check", "",
        "`shipped`: the checker as it is; `guard`: its scores, inconclusive when the content analysis finds the "
        "animals masked; `floor`: the noise floor extended by the distractors alone, then the guard; `frontend`: "
        "non-animal sound lowered before BirdNET, then the guard.", "",
        *vlines, "",
        f"## Calibration fitted on the mixtures ({args.folds} folds grouped by clip, all conditions above together)",
        "",
        "The log Bayes factors of `shipped` or `floor`, a logistic calibration refitted on the other folds (true vs "
        "far claims at equal odds), then the guard. `masked-aware` adds the log Bayes factor times the clip's masked "
        "share as a second feature, so masked clips can get their own slope. Fitted on all (coefficients, then "
        "offset): " + "; ".join(f"{k}: {', '.join(f'{b:.3f}' for b in v)}" for k, v in fits.items()) + ".", "",
        *clines, "",
    ]
    save_results(args.out, "\n".join(lines), {"conditions": vdata | cdata, "calibrations": fits, "clips": len(recs),
                                               "content_s_per_min": t_content, "frontend_s_per_min": t_fe,
                                               "results": [{k: r[k] for k in ("clip", "condition", "summary", "reason")}
                                                           for r in results]})
    return 0


if __name__ == "__main__":
    sys.exit(main())
