"""What a recording date costs the claim check: dated and undated checks side by side, in one run.

    .venv/bin/python benchmarks/dated_check.py [--data ../shared/data/xc-dev] [--clips 12] [--repeats 3]

Three measures, each dated and undated interleaved so that both see the same machine:

* the issue's command, ``geoforensics check examples/XC132220.mp3 --claim "22.05,-159.5" [--date 2021-05-14]``,
  as a user runs it (a fresh process each time; the median of ``--repeats`` runs);
* ``claim_checker(clip, date=...).check(claim)`` in one process with the models loaded, on ``--clips`` xc-dev
  clips with their own recording dates (best of ``--repeats``);
* ``check --claims`` over a CSV naming those clips, with and without a date column (one process each).

The first dated check of a week on a machine also computes that week's species richness once (kept on
disk): timed separately, from an empty cache folder.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.machine import machine, save_results  # noqa: E402

EXAMPLE = ROOT / "examples" / "XC132220.mp3"
CLAIM = "22.05,-159.5"
DATE = "2021-05-14"


def _cli(args: list[str], env: dict[str, str] | None = None) -> float:
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-m", "geoforensics", *args], check=True, capture_output=True, cwd=ROOT,
                   env={**os.environ, **(env or {})})
    return time.perf_counter() - t0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", default=str(ROOT.parent / "shared" / "data" / "xc-dev"), help="folder with labels.csv")
    ap.add_argument("--clips", type=int, default=12, help="xc-dev clips checked in process and through --claims")
    ap.add_argument("--repeats", type=int, default=3, help="runs of each timing")
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "dated_check"), help="output path stem")
    args = ap.parse_args(argv)

    from geoforensics.data import open_dataset
    from geoforensics.dates import week_of
    from geoforensics.forensics.checker import claim_checker
    from geoforensics.paths import cache_dir

    base = ["check", str(EXAMPLE), "--claim", CLAIM]
    _cli(base)  # the year-round tables built, if this cache is new
    for f in cache_dir("ranges").glob(f"*-w{week_of(DATE)}-*.richness.npy*"):
        f.unlink()  # the week never seen: its richness is computed once, in the next run
    cold_s = _cli([*base, "--date", DATE])
    _cli([*base, "--date", DATE])
    undated, dated = [], []
    for _ in range(args.repeats):
        undated.append(_cli(base))
        dated.append(_cli([*base, "--date", DATE]))
    cli = {"undated_s": statistics.median(undated), "dated_s": statistics.median(dated), "first_dated_cold_s": cold_s}

    recs = [r for r in open_dataset(args.data) if r.audio_path is not None and r.date is not None][: args.clips]
    claim_checker(recs[0].audio_path).check(CLAIM)  # models and year-round ranges loaded
    for r in recs:  # each week's richness on disk, as after a first use
        claim_checker(r.audio_path, date=r.date, max_duration_s=3).check(CLAIM)
    rows = []
    for r in recs:
        best: dict[str, float] = {}
        for _ in range(args.repeats):
            for label, date in (("undated", None), ("dated", r.date)):
                t0 = time.perf_counter()
                claim_checker(r.audio_path, date=date).check((r.lat, r.lon))
                best[label] = min(best.get(label, float("inf")), time.perf_counter() - t0)
        rows.append((r.id, best["undated"], best["dated"]))
    ratios = [d / u for _, u, d in rows]

    with tempfile.TemporaryDirectory() as tmp:
        plain, with_dates = Path(tmp) / "claims.csv", Path(tmp) / "claims_dated.csv"
        plain.write_text("file,latitude,longitude\n" + "".join(f"{r.audio_path},{r.lat},{r.lon}\n" for r in recs))
        with_dates.write_text("file,latitude,longitude,date\n"
                              + "".join(f"{r.audio_path},{r.lat},{r.lon},{r.date.isoformat()}\n" for r in recs))
        claims = {"undated_s": _cli(["check", "--claims", str(plain), "--json", str(Path(tmp) / "a.jsonl")]),
                  "dated_s": _cli(["check", "--claims", str(with_dates), "--json", str(Path(tmp) / "b.jsonl")])}

    lines = [
        "# What a recording date costs the claim check", "", f"Machine: {machine()}", "",
        f"`.venv/bin/python benchmarks/dated_check.py --clips {args.clips} --repeats {args.repeats}`", "",
        "| measure | undated | dated | dated / undated |", "|---|---|---|---|",
        f"| `geoforensics check examples/XC132220.mp3 --claim \"{CLAIM}\"` (fresh process, median of {args.repeats}) | "
        f"{cli['undated_s']:.2f} s | {cli['dated_s']:.2f} s | {cli['dated_s'] / cli['undated_s']:.2f} |",
        f"| `claim_checker(...).check(...)`, models loaded, {len(rows)} xc-dev clips with their own dates (median of "
        f"per-clip best of {args.repeats}) | {statistics.median(u for _, u, _ in rows):.2f} s | "
        f"{statistics.median(d for _, _, d in rows):.2f} s | {statistics.median(ratios):.2f} (max {max(ratios):.2f}) |",
        f"| `check --claims` over the same {len(rows)} clips (one process) | {claims['undated_s']:.1f} s | "
        f"{claims['dated_s']:.1f} s | {claims['dated_s'] / claims['undated_s']:.2f} |",
        "",
        f"The first dated check of a week on a machine also computes that week's richness over the gallery, once "
        f"(kept on disk, 86 KB): that run of the dated command took {cold_s:.1f} s.",
    ]
    data = {"machine": machine(), "cli": cli, "clips": [{"id": i, "undated_s": u, "dated_s": d} for i, u, d in rows],
            "claims_csv": claims, "median_ratio": statistics.median(ratios)}
    save_results(args.out, "\n".join(lines), data)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
