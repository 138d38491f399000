"""Run the whole hostile-input corpus (``tests/hostile/corpus.py``) through ``geoforensics locate`` and
``geoforensics analyze``, one subprocess per case, and count what happened.

    .venv/bin/python benchmarks/hostile_inputs.py [--timeout 300] [--rss-cap-gb 3] [--kill-gb 6]
        [--only REGEX] [--limit N] [--no-strace] [--out benchmarks/results/hostile_inputs]

Each file case runs as ``locate FILE --json OUT`` and ``analyze FILE --json OUT``; each option, CSV,
URL, output, date, cache or claim case as its own command line; each array case through the Python API
(``geoforensics.locate``); each "Python API" case as a call that must raise ``InputError``; each signal case
as a command stopped by SIGTERM while it works (it must exit 143 and leave no temporary or partial file).
Cases that name inputs or earlier outputs check that their sha256 is unchanged; cache cases check that the
answer is still right (species and place) after a cache file was damaged.
Every run gets an empty TMPDIR of its own. A run is

* **refused**: exit status 2 with one ``error:`` line, no traceback;
* **succeeded**: exit status 0;
* **crashed**: anything else (a traceback, another exit status, a signal), or a file left in its
  TMPDIR, or (under strace) a file that a playlist, tag or CSV points at was opened;
* **hung**: still running after ``--timeout`` seconds (killed);
* **over memory**: peak RSS above ``--rss-cap-gb`` (the issue's 3 GB cap), or killed past ``--kill-gb``.

"unexpected" counts runs whose outcome differs from the case's expectation (a refusal where a result
was expected, or the reverse; "either" cases accept both). Peak RSS is the process's maximum resident
set (``wait4``), ffmpeg children included where they were waited for.

Prints the tables and writes ``OUT.md`` and ``OUT.json`` with the machine they ran on.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.machine import machine, save_results  # noqa: E402

OUTCOMES = ("refused", "succeeded", "crashed", "hung", "over memory")


@dataclass
class Run:
    case: str
    category: str
    command: str
    expect: str
    outcome: str
    exit_status: int | None
    seconds: float
    peak_rss_mb: float
    detail: str = ""
    unexpected: bool = False


def _rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except (OSError, ValueError):
        pass
    return 0.0


def run_one(
    cmd: list[str], work: Path, timeout_s: float, kill_mb: float, extra_env: dict[str, str] | None = None
) -> tuple[int | None, str, str, float, float, str]:
    """Run ``cmd`` with a fresh TMPDIR under ``work``; (status, stdout, stderr, seconds, peak MB, how it ended)."""
    scratch = work / "tmp"
    scratch.mkdir(parents=True)
    out_f, err_f = open(work / "stdout", "w+b"), open(work / "stderr", "w+b")
    env = {**os.environ, "TMPDIR": str(scratch), "PYTHONPATH": str(ROOT), **(extra_env or {})}
    t0 = time.monotonic()
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=out_f, stderr=err_f, env=env, cwd=ROOT,
                            start_new_session=True)
    ended, status, peak = "exit", None, 0.0
    while True:
        pid, wait_status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            peak = max(peak, usage.ru_maxrss / 1024)
            status = os.waitstatus_to_exitcode(wait_status)
            proc.returncode = status
            break
        peak = max(peak, _rss_mb(proc.pid))
        elapsed = time.monotonic() - t0
        if elapsed > timeout_s or peak > kill_mb:
            ended = "timeout" if elapsed > timeout_s else "memory"
            os.killpg(proc.pid, signal.SIGKILL)
        time.sleep(0.1)
    seconds = time.monotonic() - t0
    out_f.seek(0)
    err_f.seek(0)
    stdout, stderr = out_f.read().decode("utf-8", "replace"), err_f.read().decode("utf-8", "replace")
    out_f.close()
    err_f.close()
    left = sorted(p.name for p in scratch.iterdir())
    if left and ended == "exit":
        ended = f"left {len(left)} file(s) in TMPDIR: {', '.join(left[:3])}"
    return status, stdout, stderr, seconds, peak, ended


def classify(status: int | None, stderr: str, ended: str, peak_mb: float, cap_mb: float) -> tuple[str, str]:
    if ended == "timeout":
        return "hung", "killed after the timeout"
    if ended == "memory" or peak_mb > cap_mb:
        return "over memory", f"peak RSS {peak_mb:,.0f} MB"
    if ended != "exit":
        return "crashed", ended
    errors = [line for line in stderr.splitlines() if "error:" in line]
    if "Traceback" in stderr:
        last = [line for line in stderr.splitlines() if line.strip()][-1:]
        return "crashed", f"traceback: {last[0][:160] if last else ''}"
    if status == 0:
        return "succeeded", ""
    if status == 2 and len(errors) == 1:
        return "refused", errors[0].split("error:", 1)[1].strip()[:160]
    return "crashed", f"exit status {status}: {(errors or stderr.splitlines()[-1:] or [''])[0][:160]}"


def commands(case, out_dir: Path) -> list[tuple[str, list[str], Path | None]]:
    py = [sys.executable]
    if case.kind == "file":
        cap = ["--max-duration", f"{case.max_duration:g}"] if case.max_duration else []
        return [
            (c, [*py, "-m", "geoforensics", c, str(case.path), "--json", str(out_dir / f"{c}.json"), *cap],
             out_dir / f"{c}.json")
            for c in ("locate", "analyze")
        ]
    if case.kind == "array":
        return [("locate (API)", [*py, "-m", "tests.hostile.corpus", "--run-array", case.array, json.dumps(case.rate)],
                 None)]
    if case.kind == "api":
        return [("Python API", [*py, *case.python_args()], None)]
    if case.kind == "signal":
        return [(f"SIGTERM to {case.argv[0]}", [*py, *case.python_args()], None)]
    return [(case.argv[0], [*py, *case.python_args()], None)]


def opened_watched(trace: Path, watch) -> list[str]:
    if not trace.is_file():
        return []
    found = []
    for line in trace.read_text(errors="replace").splitlines():
        if " = -1 " not in line:
            found += [str(w) for w in watch if f'"{w}"' in line]
    return sorted(set(found))


def table(runs: list[Run], key) -> list[str]:
    groups: dict[str, list[Run]] = collections.defaultdict(list)
    for r in runs:
        groups[key(r)].append(r)
    lines = ["| | tried | " + " | ".join(OUTCOMES) + " | unexpected | peak RSS max (MB) |",
             "|---" * (len(OUTCOMES) + 4) + "|"]
    for name in sorted(groups):
        rs = groups[name]
        counts = collections.Counter(r.outcome for r in rs)
        lines.append(
            f"| {name} | {len(rs)} | " + " | ".join(str(counts.get(o, 0)) for o in OUTCOMES)
            + f" | {sum(r.unexpected for r in rs)} | {max(r.peak_rss_mb for r in rs):,.0f} |"
        )
    counts = collections.Counter(r.outcome for r in runs)
    lines.append(
        f"| **all** | **{len(runs)}** | " + " | ".join(f"**{counts.get(o, 0)}**" for o in OUTCOMES)
        + f" | **{sum(r.unexpected for r in runs)}** | **{max(r.peak_rss_mb for r in runs):,.0f}** |"
    )
    return lines


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--timeout", type=float, default=300.0, help="seconds before a run counts as hung (default 300)")
    ap.add_argument("--rss-cap-gb", type=float, default=3.0,
                    help="peak RSS above this counts as over memory (default 3)")
    ap.add_argument("--kill-gb", type=float, default=6.0, help="kill a run past this RSS (default 6)")
    ap.add_argument("--only", metavar="REGEX", help="only the cases whose name matches")
    ap.add_argument("--limit", type=int, default=0, help="only the first N cases (0 = all)")
    ap.add_argument("--no-strace", action="store_true", help="do not watch file opens with strace")
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "hostile_inputs"), help="output path stem")
    args = ap.parse_args(argv)

    from tests.hostile import corpus as corpus_mod

    strace = None if args.no_strace else shutil.which("strace")
    base = Path(tempfile.mkdtemp(prefix="geoforensics-hostile-bench-"))
    try:
        t0 = time.time()
        cases = corpus_mod.build_corpus(base / "corpus")
        if args.only:
            cases = [c for c in cases if re.search(args.only, c.name)]
        if args.limit:
            cases = cases[: args.limit]
        print(f"{len(cases)} cases; corpus built in {time.time() - t0:.0f} s", file=sys.stderr)
        runs: list[Run] = []
        for i, case in enumerate(cases):
            for command, cmd, out_json in commands(case, base):
                work = Path(tempfile.mkdtemp(dir=base, prefix="run-"))
                trace = work / "strace.log"
                if strace and case.watch:
                    cmd = [strace, "-f", "-qq", "-e", "trace=open,openat,openat2,creat", "-o", str(trace), *cmd]
                broke = ""
                status, stderr, seconds, peak, ended = None, "", 0.0, 0.0, "the case's setup failed"
                try:
                    with corpus_mod.guarded(case):  # batch cases: another batch holds OUT; inputs unchanged
                        status, _, stderr, seconds, peak, ended = run_one(
                            cmd, work, args.timeout, args.kill_gb * 1024, case.env
                        )
                except AssertionError as e:
                    broke = str(e)
                outcome, detail = classify(status, stderr, ended, peak, args.rss_cap_gb * 1024)
                if broke and (outcome in ("refused", "succeeded") or status is None):
                    outcome, detail = "crashed", broke[:160]
                opened = opened_watched(trace, case.watch)
                if opened and outcome in ("refused", "succeeded"):
                    outcome, detail = "crashed", f"opened {', '.join(opened)}"
                if out_json is not None and outcome == "refused" and out_json.exists():
                    outcome, detail = "crashed", "a refusal left its output file"
                unexpected = outcome in ("refused", "succeeded") and not (
                    case.expect == "either" or (case.expect == "refuse") == (outcome == "refused")
                )
                runs.append(Run(case.name, case.category, command, case.expect, outcome, status, round(seconds, 2),
                                round(peak, 1), detail, unexpected))
                if out_json is not None:
                    out_json.unlink(missing_ok=True)
                shutil.rmtree(work, ignore_errors=True)
                mark = "!" if outcome in ("crashed", "hung", "over memory") or unexpected else " "
                print(f"{mark} [{i + 1}/{len(cases)}] {case.name} {command}: {outcome} "
                      f"({seconds:.1f} s, {peak:,.0f} MB) {detail[:100]!r}",
                      file=sys.stderr, flush=True)
        total_s = time.time() - t0
    finally:
        shutil.rmtree(base, ignore_errors=True)

    by_command = table(runs, lambda r: r.command)
    by_category = table(runs, lambda r: r.category)
    bad = [r for r in runs if r.outcome in ("crashed", "hung", "over memory") or r.unexpected]
    succeeded = [r.peak_rss_mb for r in runs if r.outcome == "succeeded"]
    given = argv if argv is not None else sys.argv[1:]
    lines = [
        "# Hostile inputs through `locate` and `analyze`",
        "",
        f"Machine: {machine()}",
        "",
        f"Command: `python benchmarks/hostile_inputs.py{' ' + ' '.join(given) if given else ''}` "
        f"({len(cases)} cases, {len(runs)} runs, {total_s / 60:.0f} min; timeout {args.timeout:g} s, "
        f"memory cap {args.rss_cap_gb:g} GB, "
        f"strace {'on' if strace else 'off'}).",
        "",
        "## By command",
        "",
        *by_command,
        "",
        "## By category",
        "",
        *by_category,
        "",
        f"Peak RSS of the runs that succeeded: median {statistics.median(succeeded) if succeeded else 0:,.0f} MB, "
        f"max {max(succeeded) if succeeded else 0:,.0f} MB.",
        "",
        "## Runs that crashed, hung, went over memory or surprised",
        "",
        *([f"- `{r.case}` {r.command}: {r.outcome}{' (unexpected: expected ' + r.expect + ')' if r.unexpected else ''} "
           f"{r.detail!r}" for r in bad] or ["None."]),
        "",
    ]
    text = "\n".join(lines)
    save_results(args.out, text, {"machine": machine(), "runs": [asdict(r) for r in runs]})
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
