"""The claim check on real soundtracks: xc-dev under speech, music and noise, packed like a phone video.

    nice -n 15 .venv/bin/python benchmarks/claim_distractors.py [--kinds speech music traffic] [--levels -6] [--fit]

Each xc-dev clip is mixed under each distractor of ``benchmarks/distractors.py`` (speech, music, traffic, wind,
rain, crowd) at each bird-to-distractor level (0, -6, -12 dB: RMS over the clip), packed through one phone path
(AAC in mp4 with H.264, or Opus in Matroska, 64-128 kb/s, mono or stereo: the five profiles take turns over the
clips) and checked through the public path a user's file takes (:func:`check_file`). Two references: the
original mp3 (``original``) and the clip packed alone (``clean``). Claims are those of ``claim_check.py``: the
true location, ``--far`` land points >= 3,000 km away and one at about 500 / 1,000 / 2,000 km; the same claims
in every condition (seeded per clip).

Reported per soundtrack and level: AUC (true vs far claims) with a 95 % bootstrap interval over clips, the three
verdict rates of true and of far claims at the shipped calibration and thresholds, the *masked-window share*
(windows where BirdNET's own non-animal classes, "Human vocal", "Engine", "Noise", ..., score at least
:data:`MASKED_AT` and above every animal species after the noise-floor discount) and the *bird windows lost*
(windows where the clip packed alone has a species at :data:`HEARD_AT` or more after the discount, and the mixture
has none). With ``--fit`` the calibration is refitted on all conditions together, cross-validated in folds grouped
by clip, and the rates are given again with those scores.

Each (clip, condition) result is cached under ``cache_dir("distractor-benchmark")`` (the result as JSON, BirdNET's
raw window scores as a sparse npz, the packed file), keyed by the clip file, the condition, the seed, the
generator's version and its tools, and the source of the checker, so a re-run recomputes only what changed and
front ends can be measured on the same files. Saves ``benchmarks/results/claim_distractors.{md,json}``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks import claim_check as CC  # noqa: E402
from benchmarks import distractors as D  # noqa: E402
from benchmarks.machine import machine, save_results  # noqa: E402
from geoforensics.atomic import write_text  # noqa: E402
from geoforensics.cachefiles import load_arrays, save_arrays  # noqa: E402
from geoforensics.data import open_dataset  # noqa: E402
from geoforensics.forensics import checker as C  # noqa: E402
from geoforensics.paths import cache_dir  # noqa: E402

MASKED_AT = 0.25
"""Raw BirdNET score from which a non-animal class can mark a window as masked."""
HEARD_AT = 0.3
"""Score (after the noise-floor discount) from which a species counts as heard in a window."""
NOT_ANIMAL = ("Engine", "Environmental", "Fireworks", "Gun", "Human non-vocal", "Human vocal", "Human whistle",
              "Noise", "Power tools", "Siren")
"""BirdNET's classes that are neither an animal species nor a dog."""
CHECKER_SOURCES = ("forensics/claims.py", "forensics/noise.py", "forensics/birdnet_noise_floor.json", "scoring.py",
                   "audio/decode.py", "audio/hum.py", "audio/windows.py", "geolocators/species_ranges.py", "ffmpeg.py")
"""Files whose content keys the cache: a changed checker never reuses stale results."""
REFERENCES = ("original", "clean")


@dataclass(frozen=True)
class Condition:
    """A soundtrack: ``kind`` "original" (the mp3 as is), "clean" (packed alone) or a distractor, at ``level_db``."""

    kind: str
    level_db: float | None = None

    @property
    def name(self) -> str:
        return self.kind if self.level_db is None else f"{self.kind} {self.level_db:+g} dB"


# ---------------------------------------------------------------- the one call to the checker


@contextmanager
def raw_birdnet_scores() -> Iterator[list[np.ndarray]]:
    """Collects what BirdNET returns inside the block (the checker keeps only discounted scores)."""
    from geoforensics.models.birdnet import get_audio_model

    model = get_audio_model()
    original = model.scores
    seen: list[np.ndarray] = []

    def tapped(windows: np.ndarray) -> np.ndarray:
        s = original(windows)
        seen.append(np.asarray(s))
        return s

    model.scores = tapped  # type: ignore[method-assign]
    try:
        yield seen
    finally:
        del model.scores


def check_file(path: Path) -> tuple[C.ClaimChecker, np.ndarray]:
    """The claim checker of a file through the public path a user's file takes, and BirdNET's raw window scores."""
    with raw_birdnet_scores() as seen:
        checker = C.claim_checker(path)
    if len(seen) == 1 and len(seen[0]) == len(checker.scores.scores):
        return checker, seen[0]
    from geoforensics.evidence import score_audio

    return checker, score_audio(path).scores


# ---------------------------------------------------------------- one clip, one condition


def fingerprint() -> str:
    """The generator's version and tools, and the checker's source."""
    h = hashlib.sha256(D.VERSION.encode())
    for tool in ("espeak-ng", "fluidsynth"):
        try:
            h.update(subprocess.run([tool, "--version"], capture_output=True, timeout=30).stdout[:200])
        except OSError:
            h.update(b"missing " + tool.encode())
    pkg = ROOT / "geoforensics"
    for rel in CHECKER_SOURCES:
        f = pkg / rel
        h.update(rel.encode() + (f.read_bytes() if f.is_file() else b"missing"))
    return h.hexdigest()[:16]


@dataclass(frozen=True)
class Task:
    clip: str
    path: str
    lat: float
    lon: float
    index: int
    condition: Condition
    seed: int
    far: int
    fp: str

    @property
    def profile(self) -> D.Profile:
        return list(D.PROFILES.values())[self.index % len(D.PROFILES)]

    def cache_file(self, suffix: str = ".json") -> Path:
        """This task's result (``.json``), BirdNET's raw scores (``.npz``) or the packed file (its own suffix)."""
        st = Path(self.path).stat()
        key = "|".join(map(str, (self.path, st.st_size, st.st_mtime_ns, self.condition, self.seed, self.far,
                                 self.profile.name, self.fp)))
        digest = hashlib.sha256(key.encode()).hexdigest()[:20]
        return (cache_dir("distractor-benchmark")
                / f"{self.clip}-{self.condition.name.replace(' ', '')}-{digest}{suffix}")

    def media(self) -> Path:
        """The file the checker reads: the original, or the packed mixture (kept in the cache)."""
        if self.condition.kind == "original":
            return Path(self.path)
        return self.cache_file(self.profile.suffix)


SPARSE_AT = 0.005
"""Raw BirdNET scores below this are stored as 0 (the checker ignores anything under 0.05)."""


def save_raw(file: Path, raw: np.ndarray) -> None:
    w, c = np.nonzero(raw >= SPARSE_AT)
    save_arrays(file, shape=np.array(raw.shape), w=w.astype(np.int32), c=c.astype(np.int32),
             v=raw[w, c].astype(np.float32))


def load_raw(file: Path) -> np.ndarray | None:
    """BirdNET's raw window scores saved by :func:`run_task` (below :data:`SPARSE_AT`: 0), or None."""
    z = load_arrays(file, "shape", "w", "c", "v")
    if z is None:
        return None
    out = np.zeros(tuple(int(v) for v in z["shape"]), np.float32)
    out[z["w"], z["c"]] = z["v"]
    return out


def claims_for(task: Task, gallery: np.ndarray) -> list[tuple[str, tuple[float, float]]]:
    """The clip's claims, the same in every condition."""
    rng = np.random.default_rng(D.seed_of(task.seed, task.clip, "claims"))
    true = (task.lat, task.lon)
    claims = [("true", true)] + [("far", CC.random_claim(gallery, true, C.FAR_KM, 20038.0, rng))
                                 for _ in range(task.far)]
    return claims + [(f"{d} km", CC.random_claim(gallery, true, 0.8 * d, 1.2 * d, rng)) for d in CC.DISTANCES_KM]


def window_summary(checker: C.ClaimChecker, raw: np.ndarray) -> dict[str, list[Any]]:
    """Per window: the best animal species after the discount, and the best non-animal class (raw)."""
    labels = checker.labels
    animal = np.asarray(labels.is_species) | (np.array(labels.scientific) == "Dog")
    other = np.array([labels.scientific.index(n) for n in NOT_ANIMAL])
    disc = checker.scores.scores
    a = np.where(animal, disc, 0).max(1) if len(disc) else np.zeros(0)
    o = raw[:, other] if len(raw) else np.zeros((0, len(other)))
    return {"animal": np.round(a, 4).tolist(), "other": np.round(o.max(1), 4).tolist(),
            "other_label": [NOT_ANIMAL[i] for i in o.argmax(1)]}


def run_task(task: Task) -> dict[str, Any]:
    """Mix, pack, check and summarise one clip in one condition (cached)."""
    file = task.cache_file()
    if file.is_file() and task.cache_file(".npz").is_file():
        try:
            return dict(json.loads(file.read_text()))
        except (OSError, ValueError):
            pass
    t0 = time.perf_counter()
    cond = task.condition
    measured = None
    path = task.media()
    if cond.kind == "original":
        profile = "mp3 as published"
    else:
        bird = D.bird_audio(task.path)
        m = D.make_mixture(bird, None if cond.kind == "clean" else cond.kind, cond.level_db,
                           D.seed_of(task.seed, task.clip, cond.kind))
        measured = m.level_db
        if not path.is_file():
            D.pack(m.mix, task.profile, path)
        profile = task.profile.name
    checker, raw = check_file(path)
    claims = []
    for kind, (lat, lon) in claims_for(task, checker.geo.gallery):
        res = checker.check(C.Claim(lat, lon, "csv"))
        claims.append([kind, lat, lon, res.log_bayes_factor, res.mismatch_score, res.verdict])
    save_raw(task.cache_file(".npz"), raw)
    out = {"clip": task.clip, "condition": cond.name, "kind": cond.kind, "level_db": cond.level_db,
           "measured_db": measured, "profile": profile, "has_evidence": checker.has_evidence,
           "duration_s": checker.scores.duration_s, "claims": claims, "windows": window_summary(checker, raw),
           "seconds": time.perf_counter() - t0}
    write_text(file, json.dumps(out))
    return out


# ---------------------------------------------------------------- tables


def rows_of(results: list[dict[str, Any]]) -> list[CC.Row]:
    return [CC.Row(r["clip"], "", k, lbf, s, v, r["has_evidence"])
            for r in results for k, _, _, lbf, s, v in r["claims"]]


def window_shares(results: list[dict[str, Any]], clean: dict[str, dict[str, Any]]) -> tuple[float, float]:
    """Masked-window share and bird windows lost (against the clip packed alone), pooled over windows, in %."""
    masked = total = lost = heard = 0
    for r in results:
        a, o = np.array(r["windows"]["animal"]), np.array(r["windows"]["other"])
        masked += int(((o >= MASKED_AT) & (o > a)).sum())
        total += len(a)
        ref = clean.get(r["clip"])
        if ref is not None:
            c = np.array(ref["windows"]["animal"])
            n = min(len(c), len(a))
            was = c[:n] >= HEARD_AT
            heard += int(was.sum())
            lost += int((was & (a[:n] < HEARD_AT)).sum())
    return 100.0 * masked / max(total, 1), 100.0 * lost / max(heard, 1)


def condition_line(name: str, rows: list[CC.Row], shares: tuple[float, float]) -> tuple[str, dict[str, Any]]:
    t = np.array([r.score for r in rows if r.kind == "true"])
    f = np.array([r.score for r in rows if r.kind == "far"])
    a = CC.auc(t, f)
    lo, hi = CC.bootstrap_auc(rows)
    rt, rf = CC.rates(rows, "true"), CC.rates(rows, "far")
    clips = len({r.clip for r in rows})
    line = (f"| {name} | {clips} | {a:.3f} [{lo:.3f}-{hi:.3f}] | {rt['mismatch']:.1f} | {rt['inconclusive']:.1f} | "
            f"{rt['consistent']:.1f} | {rf['mismatch']:.1f} | {rf['inconclusive']:.1f} | {rf['consistent']:.1f} | "
            f"{shares[0]:.1f} | {shares[1]:.1f} |")
    data = {"clips": clips, "auc": a, "auc_ci": [lo, hi], "true": rt, "far": rf, "masked_pct": shares[0],
            "bird_windows_lost_pct": shares[1]}
    return line, data


HEADER = ["| soundtrack | clips | AUC [95 % CI] | true: mismatch % | true: inconclusive % | true: consistent % | "
          "far: mismatch % | far: inconclusive % | far: consistent % | masked windows % | bird windows lost % |",
          "|---|---|---|---|---|---|---|---|---|---|---|"]


def table(by_cond: dict[str, list[dict[str, Any]]], clean: dict[str, dict[str, Any]],
          rows: dict[str, list[CC.Row]]) -> tuple[list[str], dict[str, Any]]:
    lines, data = list(HEADER), {}
    for name, results in by_cond.items():
        line, d = condition_line(name, rows[name], window_shares(results, clean))
        lines.append(line)
        data[name] = d
    return lines, data


def profile_table(by_cond: dict[str, list[dict[str, Any]]]) -> list[str]:
    """AUC and verdict rates per phone path, over all mixtures (not the references)."""
    out = ["| phone path | clip-conditions | AUC | true: mismatch % | far: mismatch % |", "|---|---|---|---|---|"]
    mixed = [r for name, rs in by_cond.items() for r in rs if r["kind"] not in REFERENCES]
    for prof in sorted({r["profile"] for r in mixed}):
        sub = [r for r in mixed if r["profile"] == prof]
        rows = [CC.Row(f"{r['clip']}|{r['condition']}", "", k, lbf, s, v, r["has_evidence"])
                for r in sub for k, _, _, lbf, s, v in r["claims"]]
        t = np.array([x.score for x in rows if x.kind == "true"])
        f = np.array([x.score for x in rows if x.kind == "far"])
        out.append(f"| {prof} | {len(sub)} | {CC.auc(t, f):.3f} | {CC.rates(rows, 'true')['mismatch']:.1f} | "
                   f"{CC.rates(rows, 'far')['mismatch']:.1f} |")
    return out


def refit(rows: dict[str, list[CC.Row]], folds: int, seed: int) -> tuple[dict[str, list[CC.Row]], dict[str, float]]:
    """Scores from a calibration refitted on every condition together, cross-validated by clip."""
    copies = {name: [CC.Row(**r.__dict__) for r in rs] for name, rs in rows.items()}
    flat = [r for rs in copies.values() for r in rs]
    _, fitted = CC.calibrate(flat, folds, seed)
    return copies, fitted


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data" / "xc-dev")
    ap.add_argument("--kinds", nargs="+", choices=D.KINDS, default=list(D.KINDS))
    ap.add_argument("--levels", nargs="+", type=float, default=list(D.LEVELS_DB))
    ap.add_argument("--no-references", action="store_true", help="skip the original and the clean packed clips")
    ap.add_argument("--far", type=int, default=3, help="far claims per clip (default 3)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--limit", type=int, default=0, help="only the first N clips")
    ap.add_argument("--every", type=int, default=1, help="only every N-th clip (a quicker, coarser run)")
    ap.add_argument("--jobs", type=int, default=2, help="worker processes (default 2)")
    ap.add_argument("--fit", action="store_true",
                    help="also refit the calibration on every condition (cross-validated)")
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "claim_distractors")
    args = ap.parse_args(argv)

    every = [r for r in open_dataset(args.data) if r.audio_path is not None][: args.limit or None]
    index = {r.id: i for i, r in enumerate(every)}  # a clip's phone path does not depend on --every
    recs = every[:: args.every]
    conds = [] if args.no_references else [Condition(k) for k in REFERENCES]
    conds += [Condition(k, lv) for k in args.kinds for lv in args.levels]
    conds_needed = conds if Condition("clean") in conds else [Condition("clean"), *conds]
    fp = fingerprint()
    tasks = [Task(r.id, str(r.audio_path), r.lat, r.lon, index[r.id], c, args.seed, args.far, fp)
             for c in conds_needed for r in recs]
    t0 = time.perf_counter()
    results: list[dict[str, Any]] = []
    with ProcessPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        for i, res in enumerate(pool.map(run_task, tasks, chunksize=1)):
            results.append(res)
            print(f"[{i + 1}/{len(tasks)}] {res['clip']} {res['condition']} ({res['seconds']:.1f} s)", file=sys.stderr)
    wall = time.perf_counter() - t0
    clean = {r["clip"]: r for r in results if r["kind"] == "clean"}
    by_cond: dict[str, list[dict[str, Any]]] = {}
    for c in conds:
        by_cond[c.name] = [r for r in results if r["condition"] == c.name]
    rows = {name: rows_of(rs) for name, rs in by_cond.items()}
    main_lines, main_data = table(by_cond, clean, rows)
    measured = [r["measured_db"] - r["level_db"] for r in results if r["measured_db"] is not None]
    computed = sum(r["seconds"] for r in results)
    cmd = " ".join(["benchmarks/claim_distractors.py", *(argv if argv is not None else sys.argv[1:])])
    lines = [
        "# The claim check under distractors (xc-dev)", "",
        f"`{cmd}` on {machine()}.",
        f"{len(recs)} clips; per clip its true location, {args.far} far claims (>= {C.FAR_KM:,.0f} km) and one at "
        f"about each of {', '.join(f'{d:,}' for d in CC.DISTANCES_KM)} km, the same in every condition "
        f"(seed {args.seed}). "
        f"Shipped calibration (slope {C.SLOPE}, offset {C.OFFSET}); mismatch from {C.MISMATCH_AT}, consistent up to "
        f"{C.CONSISTENT_AT}. Level: the bird recording's RMS over the clip against the distractor's (mono downmixes), "
        f"as mixed: off by at most {max(map(abs, measured), default=0):.3f} dB. Phone paths take turns over the clips: "
        f"{', '.join(D.PROFILES)}.",
        f"Masked windows: a non-animal BirdNET class ({', '.join(NOT_ANIMAL)}) scores >= {MASKED_AT} and above every "
        f"animal species (after the noise-floor discount). Bird windows lost: of the windows where the clip packed "
        f"alone has a species >= {HEARD_AT} (after the discount), those where the mixture has none.",
        f"Time: {wall:.0f} s wall for this run ({computed:.0f} s of per-clip work, cached results included at the time "
        f"they took).", "",
        *main_lines, "",
        "Per phone path (all mixtures pooled):", "", *profile_table(by_cond), "",
    ]
    summary: dict[str, Any] = {"conditions": main_data, "fingerprint": fp, "clips": len(recs),
                               "results": [{k: v for k, v in r.items() if k != "windows"} for r in results]}
    if args.fit:
        cv_rows, fitted = refit(rows, args.folds, args.seed)
        cv_lines, cv_data = table(by_cond, clean, cv_rows)
        lines += [f"## Calibration refitted on every condition ({args.folds} folds grouped by clip)", "",
                  f"Fitted on all: slope {fitted['slope']:.4f}, offset {fitted['offset']:.4f}; the rates below use the "
                  "cross-validated scores (AUC changes only by the fold-to-fold differences).", "", *cv_lines, ""]
        summary["refit"] = {"calibration": fitted, "conditions": cv_data}
    save_results(args.out, "\n".join(lines), summary)
    return 0


if __name__ == "__main__":
    sys.exit(main())
