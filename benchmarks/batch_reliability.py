"""What ``geoforensics batch`` costs and leaves behind when it is misused or stopped (issue 25).

    .venv/bin/python benchmarks/batch_reliability.py [--data ../shared/data/xc-dev] [--files 20]
        [--code LABEL=PATH ...] [--out benchmarks/results/batch_reliability]

Each ``--code`` is a checkout of the package to run (default: this one, as "this checkout"), so that a
version before a change can be measured beside it (``git archive COMMIT | tar -x -C /tmp/base``). Four
scenarios per checkout, each a fresh command on ``--files`` xc-dev clips (15 s analysed per clip), with
its own TMPDIR and a marker in its environment that every process it starts (Ray's included) inherits:

* ``--workers 16``: wall time, the most Ray workers alive at once, and peak memory of all the run's
  processes together, sampled every 0.25 s (sum of RSS, and of PSS, which counts shared pages once),
  beside ``/usr/bin/time -v``'s maximum resident set (of the largest single process);
* ``--address 127.0.0.1:1`` (nothing listens there): seconds until the command exits, and its last line;
* SIGKILL after 3 rows: seconds until no process of the run is left, memory still held 5 s after the
  kill, and the paths left in TMPDIR besides OUT;
* SIGTERM after 3 rows: exit status, whether a native stack dump was printed, seconds to exit,
  processes left 10 s later and paths left in TMPDIR besides OUT.

Prints a Markdown table and saves it (with the machine) to ``OUT.md`` and ``OUT.json``.
"""

from __future__ import annotations

import argparse
import os
import re
import secrets
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.machine import machine, save_results  # noqa: E402
from geoforensics.batch import reaper  # noqa: E402

MARK = "GEOFORENSICS_BENCH_RUN"
LIMIT_S = 600.0


def marked(token: str) -> list[int]:
    """Live processes whose environment holds ``MARK=token``."""
    return reaper.marked(f"{MARK}={token}", {os.getpid()})


def memory_mb(pids: list[int]) -> tuple[float, float]:
    """Sum of RSS and of PSS (MB) of ``pids``."""
    rss = pss = 0
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
                if line.startswith("Rss:"):
                    rss += int(line.split()[1])
                elif line.startswith("Pss:"):
                    pss += int(line.split()[1])
        except (OSError, ValueError, IndexError):
            pass
    return rss / 1024, pss / 1024


def title(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")[0].decode(errors="replace")
    except OSError:
        return ""


def rows_in(path: Path) -> int:
    try:
        return max(0, path.read_bytes().count(b"\n") - 1)
    except OSError:
        return 0


class Run:
    """One command of one checkout, with its TMPDIR and marker."""

    def __init__(self, code: Path, args: list[str], timed: bool = False) -> None:
        self.token = secrets.token_hex(6)
        self.tmp = Path(tempfile.mkdtemp(prefix="gfb", dir="/tmp"))
        self.out = self.tmp / "out.csv"
        env = {k: v for k, v in os.environ.items() if k != "RAY_TMPDIR"}
        env.update(TMPDIR=str(self.tmp), PYTHONPATH=str(code))
        env[MARK] = self.token
        cmd = [sys.executable, "-m", "geoforensics", *args, "--out", str(self.out), "--quiet"]
        self.timev = self.tmp.parent / f"{self.tmp.name}.timev"
        if timed:
            cmd = ["/usr/bin/time", "-v", "-o", str(self.timev), *cmd]
        self.t0 = time.monotonic()
        self.proc = subprocess.Popen(cmd, env=env, cwd=code, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                     text=True)

    def left_paths(self) -> list[str]:
        keep = {self.out.name, f".{self.out.name}.lock"}
        return sorted(str(p.relative_to(self.tmp)) for p in self.tmp.iterdir() if p.name not in keep)

    def finish(self) -> tuple[int | None, str]:
        try:
            _, err = self.proc.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            _, err = self.proc.communicate()
        return self.proc.returncode, err

    def clean(self) -> None:
        for sig in (signal.SIGTERM, signal.SIGKILL):
            for pid in marked(self.token):
                try:
                    os.kill(pid, sig)
                except OSError:
                    pass
            time.sleep(2)
        shutil.rmtree(self.tmp, ignore_errors=True)
        self.timev.unlink(missing_ok=True)


def workers16(code: Path, clips: Path) -> dict:
    run = Run(code, ["batch", str(clips), "--workers", "16", "--max-duration", "15"], timed=True)
    peak_rss = peak_pss = 0.0
    most = 0
    while run.proc.poll() is None and time.monotonic() - run.t0 < LIMIT_S:
        pids = marked(run.token)
        rss, pss = memory_mb(pids)
        peak_rss, peak_pss = max(peak_rss, rss), max(peak_pss, pss)
        most = max(most, sum(title(p).startswith("ray::MapWorker") for p in pids))
        time.sleep(0.25)
    wall = time.monotonic() - run.t0
    status, err = run.finish()
    maxrss = 0.0
    if run.timev.exists():
        m = re.search(r"Maximum resident set size \(kbytes\): (\d+)", run.timev.read_text())
        maxrss = int(m.group(1)) / 1024 if m else 0.0
    warning = next((line for line in err.splitlines() if "--workers 16" in line), "")
    result = {"wall_s": wall, "status": status, "rows": rows_in(run.out), "most_workers": most,
              "peak_sum_rss_mb": peak_rss, "peak_sum_pss_mb": peak_pss, "time_v_max_rss_mb": maxrss,
              "warning": warning.split("] ")[-1][:200]}
    run.clean()
    return result


def dead_address(code: Path, clips: Path, limit_s: float = 180.0) -> dict:
    run = Run(code, ["batch", str(next(clips.iterdir())), "--address", "127.0.0.1:1"])
    while run.proc.poll() is None and time.monotonic() - run.t0 < limit_s:
        time.sleep(0.1)
    seconds = time.monotonic() - run.t0
    hung = run.proc.poll() is None
    status, err = run.finish()
    lines = [line for line in err.splitlines() if line.strip()]
    dialled = sorted(set(re.findall(r"(?:at address|answers at) (\S+?):1\b", err)))
    result = {"seconds": seconds, "hung": hung, "status": None if hung else status,
              "last_line": (lines[-1] if lines else "")[:200], "dialled": dialled}
    run.clean()
    return result


def interrupted(code: Path, clips: Path, sig: signal.Signals) -> dict:
    run = Run(code, ["batch", str(clips), "--workers", "2", "--max-duration", "15"])
    while run.proc.poll() is None and rows_in(run.out) < 3 and time.monotonic() - run.t0 < LIMIT_S:
        time.sleep(0.1)
    if run.proc.poll() is not None:
        status, err = run.finish()
        run.clean()
        return {"error": f"ended before the signal (status {status}): {err[-300:]}"}
    t0 = time.monotonic()
    run.proc.send_signal(sig)
    status, err = run.finish()
    exited = time.monotonic() - t0
    gone, held5 = None, None
    while time.monotonic() - t0 < 150:
        pids = marked(run.token)
        if held5 is None and time.monotonic() - t0 >= 5:
            held5 = memory_mb(pids)[0]
        if not pids:
            gone = time.monotonic() - t0
            break
        time.sleep(0.25)
    held5 = 0.0 if held5 is None else held5
    time.sleep(1)
    result = {"status": status, "exit_s": exited, "stack_dump": "SIGTERM received" in err or "*** " in err,
              "all_gone_s": gone, "held_mb_at_5s": held5, "left_paths": run.left_paths(),
              "left_files": sum(p.name not in (run.out.name, f".{run.out.name}.lock") for p in run.tmp.rglob("*")),
              "rows": rows_in(run.out)}
    run.clean()
    return result


def table(results: dict[str, dict]) -> str:
    def s(x: float | None, spec: str = ".1f") -> str:
        return "-" if x is None else format(x, spec)

    lines = ["| scenario | " + " | ".join(results) + " |", "|---" * (len(results) + 1) + "|"]
    rows = {
        "`--workers 16`: workers alive at most": lambda r: str(r["w16"]["most_workers"]),
        "`--workers 16`: peak memory of all its processes, sum of RSS / PSS (MB)":
            lambda r: f"{s(r['w16']['peak_sum_rss_mb'], ',.0f')} / {s(r['w16']['peak_sum_pss_mb'], ',.0f')}",
        "`--workers 16`: largest process (`/usr/bin/time -v`, MB)": lambda r: s(r["w16"]["time_v_max_rss_mb"], ",.0f"),
        "`--workers 16`: wall s (status)": lambda r: f"{s(r['w16']['wall_s'], '.0f')} ({r['w16']['status']})",
        "`--address 127.0.0.1:1`: seconds to exit": lambda r: (
            f"> {r['dead']['seconds']:.0f} (hung, killed)" if r["dead"]["hung"] else f"{r['dead']['seconds']:.1f}"),
        "`--address 127.0.0.1:1`: address dialled": lambda r: ", ".join(r["dead"]["dialled"]) or "none",
        "SIGKILL: all its processes gone after (s)": lambda r: s(r["kill"].get("all_gone_s")),
        "SIGKILL: memory still held 5 s later (MB RSS)": lambda r: s(r["kill"].get("held_mb_at_5s"), ",.0f"),
        "SIGKILL: files left in TMPDIR besides OUT and its lock": lambda r: str(r["kill"].get("left_files")),
        "SIGTERM: exit status / native stack dump": lambda r: f"{r['term'].get('status')} / "
                                                              f"{'yes' if r['term'].get('stack_dump') else 'no'}",
        "SIGTERM: all its processes gone after (s)": lambda r: s(r["term"].get("all_gone_s")),
        "SIGTERM: files left in TMPDIR besides OUT": lambda r: str(r["term"].get("left_files")),
    }
    for name, cell in rows.items():
        lines.append(f"| {name} | " + " | ".join(cell(r) for r in results.values()) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", default=str(ROOT.parent / "shared" / "data" / "xc-dev"), help="folder with audio/*.mp3")
    ap.add_argument("--files", type=int, default=20, help="clips per run")
    ap.add_argument("--code", action="append", default=[], metavar="LABEL=PATH", help="checkouts to compare")
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "batch_reliability"))
    args = ap.parse_args(argv)
    codes = dict(c.split("=", 1) for c in args.code) or {"this checkout": str(ROOT)}
    clips = Path(tempfile.mkdtemp(prefix="gfb-clips", dir="/tmp"))
    for clip in sorted((Path(args.data) / "audio").glob("*.mp3"))[: args.files]:
        (clips / clip.name).symlink_to(clip)
    results: dict[str, dict] = {}
    try:
        for label, path in codes.items():
            code = Path(path).resolve()
            print(f"{label} ({code}): --workers 16 ...", flush=True)
            r = {"w16": workers16(code, clips)}
            print(f"{label}: dead address ...", flush=True)
            r["dead"] = dead_address(code, clips)
            print(f"{label}: SIGKILL ...", flush=True)
            r["kill"] = interrupted(code, clips, signal.SIGKILL)
            print(f"{label}: SIGTERM ...", flush=True)
            r["term"] = interrupted(code, clips, signal.SIGTERM)
            results[label] = r
    finally:
        shutil.rmtree(clips, ignore_errors=True)
    command = shlex.join(["python", "benchmarks/batch_reliability.py", *(sys.argv[1:] if argv is None else argv)])
    text = (f"# batch under misuse and signals\n\n{table(results)}\n\n{args.files} xc-dev clips, 15 s each analysed. "
            f"Command: `{command}`. Machine: {machine()}.\n")
    save_results(args.out, text, {"command": command, "machine": machine(), "results": results})
    return 0


if __name__ == "__main__":
    sys.exit(main())
