"""Throughput of ``locate`` in one process against ``batch`` on 1 and 2 Ray workers, on xc-dev repeated.

    .venv/bin/python benchmarks/batch_scale.py [--data ../shared/data/xc-dev] [--files 300] [--workers 1 2]

xc-dev's clips are linked under distinct names in a temporary folder until there are ``--files`` of
them; each configuration then runs as its own command, from a cold start, on that folder:
``geoforensics locate FOLDER --csv OUT`` and ``geoforensics batch FOLDER --out OUT --workers N``
(default options: species-ranges, land-1 gallery, 600 s cap). Both write one row per file as it is
done, so polling OUT gives when each row arrived. Reported per configuration:

* end to end: files per minute over the whole command (start-up, model loading, Ray start and stop);
* steady state: files per minute from the row at 10 % to the row at 90 % of the files (the rate a long
  archive sees, without start-up and the last stragglers);
* per file: seconds of wall time each worker spends per file in steady state (workers x interval),
  the seconds the worker itself measured around ``predict`` (``elapsed_s`` in OUT, mean over the same
  rows), and Ray's overhead per file: the difference (scheduling, moving rows, gaps between tasks);
* peak memory: the largest resident set of the ``locate`` process, or of any Ray worker (``VmHWM``);
* the load average before and after (other work on the machine slows every configuration).

Prints a Markdown table and saves it to ``benchmarks/results/batch_scale.md`` (with the machine).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.machine import machine, save_results  # noqa: E402


def link_files(data: Path, n: int, folder: Path) -> list[Path]:
    """``n`` distinct names in ``folder``, symlinks to xc-dev's clips in turn (``r0-XC1.mp3``, ``r1-XC1.mp3``, ...)."""
    clips = sorted((data / "audio").glob("*.mp3"))
    if not clips:
        raise SystemExit(f"no clips in {data / 'audio'}")
    out = []
    for k in range(n):
        clip = clips[k % len(clips)]
        link = folder / f"r{k // len(clips)}-{clip.name}"
        link.symlink_to(clip)
        out.append(link)
    return out


def rows_in(path: Path) -> int:
    try:
        with open(path, "rb") as f:
            return max(0, f.read().count(b"\n") - 1)
    except OSError:
        return 0


def peak_rss_mb(pids: set[int], seen: dict[int, float]) -> None:
    """Update ``seen`` with each process's peak resident set (VmHWM, MB)."""
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    seen[pid] = max(seen.get(pid, 0.0), int(line.split()[1]) / 1024)
        except OSError:
            pass


def descendants(root: int) -> set[int]:
    """Processes under ``root`` (by parent id), and processes carrying ``GEOFORENSICS_BENCH`` in their
    environment (Ray's workers are children of its raylet)."""
    parent: dict[int, int] = {}
    marked: set[int] = set()
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                parent[int(d)] = int(Path(f"/proc/{d}/stat").read_text().rsplit(")", 1)[1].split()[1])
                if b"GEOFORENSICS_BENCH=1" in Path(f"/proc/{d}/environ").read_bytes().split(b"\0"):
                    marked.add(int(d))
            except (OSError, ValueError, IndexError):
                pass
    out, changed = {root}, True
    while changed:
        changed = False
        for p, pp in parent.items():
            if pp in out and p not in out:
                out.add(p)
                changed = True
    return out | marked


def title(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")[0].decode(errors="replace")
    except OSError:
        return ""


def run(label: str, cmd: list[str], out: Path, n: int, workers: int) -> dict:
    """Run one configuration, polling OUT for row arrival times and the processes for peak memory."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "GEOFORENSICS_BENCH": "1"}
    load_before = os.getloadavg()
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, cwd=ROOT)
    arrivals: list[float] = []  # arrivals[i]: when row i + 1 was seen
    peaks: dict[int, float] = {}
    titles: dict[int, str] = {}
    while proc.poll() is None:
        k = rows_in(out)
        now = time.perf_counter() - t0
        arrivals += [now] * (k - len(arrivals))
        pids = descendants(proc.pid)
        peak_rss_mb(pids, peaks)
        titles.update({p: title(p) for p in pids if p not in titles or titles[p].startswith("ray::IDLE")})
        time.sleep(0.25)
    wall = time.perf_counter() - t0
    err = proc.stderr.read() if proc.stderr else ""
    arrivals += [wall] * (rows_in(out) - len(arrivals))
    if len(arrivals) != n:
        raise SystemExit(f"{label}: {len(arrivals)} rows for {n} files (exit {proc.returncode}):\n{err[-2000:]}")
    import csv

    lo, hi = n // 10, n - 1 - n // 10  # steady state: the rows from the 10th to the 90th percentile
    with open(out, newline="") as f:  # rows in the order they were written, i.e. finished
        elapsed = [float(r["elapsed_s"]) for r in list(csv.DictReader(f))[lo + 1 : hi + 1] if r.get("elapsed_s")]
    span = arrivals[hi] - arrivals[lo]
    steady = (hi - lo) / span * 60 if span > 0 else float("nan")
    per_file_wall = workers * span / (hi - lo) if span > 0 else float("nan")
    mean_elapsed = sum(elapsed) / len(elapsed) if elapsed else float("nan")
    worker_peaks = [mb for p, mb in peaks.items() if titles.get(p, "").startswith("ray::MapWorker")]
    main_peak = peaks.get(proc.pid, 0.0)
    return {
        "label": label,
        "workers": workers,
        "files": n,
        "wall_s": wall,
        "first_row_s": arrivals[0],
        "end_to_end_fpm": n / wall * 60,
        "steady_fpm": steady,
        "per_file_wall_s": per_file_wall,
        "per_file_predict_s": mean_elapsed if elapsed else None,
        "overhead_per_file_s": per_file_wall - mean_elapsed if elapsed else None,
        "peak_worker_mb": max(worker_peaks) if worker_peaks else main_peak,
        "peak_driver_mb": main_peak,
        "load_before": load_before,
        "load_after": os.getloadavg(),
    }


def duration_fit(out: Path, data: Path) -> dict | None:
    """Least squares of a batch's per-file ``elapsed_s`` on the clip's duration (xc-dev's labels):
    seconds per file = fixed + per_audio_minute x minutes, and the correlation."""
    import csv

    import numpy as np

    with open(data / "labels.csv", newline="") as f:
        duration = {Path(r["file"]).stem: float(r["duration_s"]) for r in csv.DictReader(f) if r.get("duration_s")}
    with open(out, newline="") as f:
        pairs = [(duration[r["audio_id"].split("-", 1)[1]], float(r["elapsed_s"])) for r in csv.DictReader(f)
                 if r.get("elapsed_s") and r["audio_id"].split("-", 1)[1] in duration]
    if len(pairs) < 10:
        return None
    x, y = np.array(pairs).T
    (fixed, per_min), *_ = np.linalg.lstsq(np.c_[np.ones_like(x), x / 60], y, rcond=None)
    return {"fixed_s": float(fixed), "per_audio_minute_s": float(per_min), "r": float(np.corrcoef(x, y)[0, 1]),
            "mean_duration_s": float(x.mean())}


def fmt(x, spec: str) -> str:
    return "-" if x is None or x != x else format(x, spec)


def table(results: list[dict]) -> str:
    best = (max(r["steady_fpm"] for r in results if r["workers"] == 0)
            if any(r["workers"] == 0 for r in results) else None)
    lines = [
        "| configuration | files | wall s | first row s | files/min end to end | files/min steady "
        "| x best single process (steady) | s per file per worker | s in predict per file | Ray overhead s per file "
        "| peak MB per worker | load avg before -> after |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        ratio = r["steady_fpm"] / best if best else None
        lines.append(
            f"| {r['label']} | {r['files']} | {r['wall_s']:.0f} | {fmt(r['first_row_s'], '.0f')} "
            f"| {r['end_to_end_fpm']:.1f} | {fmt(r['steady_fpm'], '.1f')} | {fmt(ratio, '.2f')} "
            f"| {fmt(r['per_file_wall_s'], '.2f')} "
            f"| {fmt(r['per_file_predict_s'], '.2f')} | {fmt(r['overhead_per_file_s'], '.3f')} "
            f"| {r['peak_worker_mb']:.0f} | {r['load_before'][0]:.1f} -> {r['load_after'][0]:.1f} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", default=str(ROOT.parent / "shared" / "data" / "xc-dev"), help="folder with audio/*.mp3")
    ap.add_argument("--files", type=int, default=300, help="files per configuration (xc-dev repeated)")
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 2], help="batch worker counts to run")
    ap.add_argument("--no-locate", action="store_true", help="skip the single-process locate run")
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "batch_scale"), help="output path stem")
    args = ap.parse_args(argv)

    tmp = Path(tempfile.mkdtemp(prefix="batch-scale-"))
    try:
        folder = tmp / "clips"
        folder.mkdir()
        n = len(link_files(Path(args.data), args.files, folder))
        py = [sys.executable, "-m", "geoforensics"]
        configs = [] if args.no_locate else [("locate, one process", py + ["locate", str(folder), "--csv"], 0)]
        configs += [
            (f"batch, {w} Ray worker{'s' * (w > 1)}",
             py + ["batch", str(folder), "--workers", str(w), "--quiet", "--out"], w)
            for w in args.workers
        ]
        results = []
        for label, cmd, workers in configs:
            out = tmp / f"out-{len(results)}.csv"
            print(f"{label}: {n} files ... (load average {os.getloadavg()[0]:.1f})", file=sys.stderr, flush=True)
            r = run(label, cmd + [str(out)], out, n, max(workers, 1))
            r["workers"] = workers
            r["duration_fit"] = duration_fit(out, Path(args.data)) if workers else None
            results.append(r)
            print(f"  {r['wall_s']:.0f} s, {r['steady_fpm']:.1f} files/min steady", file=sys.stderr, flush=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    fits = [
        f"- {r['label']}: {f['fixed_s']:.2f} s + {f['per_audio_minute_s']:.2f} s per minute of audio "
        f"per file and worker (least squares over the {n} files, r = {f['r']:.2f}; "
        f"mean clip {f['mean_duration_s']:.1f} s)"
        for r in results if (f := r.get("duration_fit"))
    ]
    text = "\n".join([
        f"# locate vs batch on Ray: xc-dev repeated to {n} files",
        "",
        f"Machine: {machine()}.",
        "",
        table(results),
        "",
        "Time in predict against the clip's length:",
        "",
        *fits,
        "",
        "Steady state: from the row at 10 % of the files to the row at 90 %. Per file per worker: workers x that "
        "interval / its rows. "
        "In predict: the worker's own time around `predict` (decode, BirdNET, ranges). Locate's BirdNET runs two "
        "single-thread interpreters (one per CPU); each Ray worker runs one (it owns one CPU).",
        "",
        "Command: `" + " ".join(["python benchmarks/batch_scale.py", *(sys.argv[1:] if argv is None else argv)]) + "`",
    ])
    save_results(args.out, text, {"results": results, "machine": machine()})
    return 0


if __name__ == "__main__":
    sys.exit(main())
