"""Load on the web app: N concurrent sessions x M requests through ``gradio_client`` against ``app.py``
started on 127.0.0.1 (a subprocess on a free port, its own Gradio cache and TMPDIR).

    .venv/bin/python benchmarks/app_load.py [--sessions 8] [--requests 3] [--clips 12] [--workers N]
        [--timeout 900] [--out benchmarks/results/app_load]

Inputs: the shipped examples (three Xeno-canto mp3s and the Kauai video) and the shortest xc-dev clips
(``../shared/data/xc-dev`` or ``$GEOFORENSICS_XC_DEV``), ``--clips`` in all. Request ``j`` of session
``i`` sends input ``(i * M + j) % clips`` to ``/analyze`` (even ``j``) or ``/locate_audio`` (odd ``j``;
the video always goes to ``/analyze``). First every (endpoint, input) pair is called once, serially,
for the reference answers; then the N sessions run at once, each request after the previous one.

Reported: errors, latency p50/p95 (serial and under load), the server's peak RSS (``VmHWM``, ffmpeg
children not included), disk kept per request (bytes under the app's Gradio cache, which holds the
uploads and the export folders, and its TMPDIR, after all requests minus before the first, divided by
the requests; identical uploads are stored once by Gradio, so the figure per distinct input is given
too), and whether every answer under load equals the serial answer (same point to 1e-6 degrees, same
species, same verdict). The load average before and after says how busy the machine was.
Prints the table and writes ``OUT.md`` and ``OUT.json`` with the machine it ran on.
"""

from __future__ import annotations

import argparse
import csv
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.machine import machine, save_results  # noqa: E402
from geoforensics.paths import shared_dir  # noqa: E402

XC_DEV = Path(os.environ.get("GEOFORENSICS_XC_DEV") or (shared_dir() or ROOT) / "data" / "xc-dev")
EXAMPLES = ROOT / "examples"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def tree_bytes(path: Path) -> int:
    """Bytes in the files under ``path``."""
    return sum(f.lstat().st_size for f in path.rglob("*") if f.is_file() and not f.is_symlink()) if path.exists() else 0


@dataclass
class AppServer:
    """``app.py`` in a subprocess on a free 127.0.0.1 port, with its own Gradio cache (``cache``) and
    TMPDIR (``tmp``) under ``work``; ``env`` is added to the environment. ``stop`` sends SIGTERM."""

    work: Path
    env: dict[str, str] = field(default_factory=dict)
    start_timeout_s: float = 300.0
    port: int = 0
    proc: subprocess.Popen | None = None

    @property
    def cache(self) -> Path:
        return self.work / "gradio-cache"

    @property
    def tmp(self) -> Path:
        return self.work / "tmp"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    def start(self) -> AppServer:
        self.tmp.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        env = {**os.environ, "PYTHONPATH": str(ROOT), "GRADIO_SERVER_NAME": "127.0.0.1",
               "GRADIO_SERVER_PORT": str(self.port), "GRADIO_TEMP_DIR": str(self.cache), "TMPDIR": str(self.tmp),
               "GRADIO_ANALYTICS_ENABLED": "False", **self.env}
        self.log = open(self.work / "app.log", "wb")  # noqa: SIM115 (closed in stop)
        self.proc = subprocess.Popen([sys.executable, str(ROOT / "app.py")], cwd=ROOT, env=env, stdout=self.log,
                                     stderr=subprocess.STDOUT)
        deadline = time.monotonic() + self.start_timeout_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"app.py exited with status {self.proc.returncode}: {self.log_text()[-2000:]}")
            try:
                with urllib.request.urlopen(self.url + "config", timeout=5):
                    return self
            except OSError:
                time.sleep(0.5)
        self.stop()
        raise RuntimeError(f"app.py did not answer within {self.start_timeout_s:.0f} s")

    def log_text(self) -> str:
        return (self.work / "app.log").read_text(errors="replace")

    def peak_rss_mb(self) -> float:
        assert self.proc is not None
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
        return 0.0

    def disk_bytes(self) -> int:
        return tree_bytes(self.cache) + tree_bytes(self.tmp)

    def stop(self, timeout_s: float = 60.0) -> int | None:
        """SIGTERM, then wait (SIGKILL past ``timeout_s``); the exit status."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout_s)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
        return self.proc.returncode

    def __enter__(self) -> AppServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def inputs(n: int) -> list[Path]:
    """The shipped examples, then the shortest xc-dev clips (by duration, then name), ``n`` in all."""
    found = [p for p in sorted(EXAMPLES.glob("*.mp3")) + sorted(EXAMPLES.glob("*.mp4"))]
    labels = XC_DEV / "labels.csv"
    if labels.is_file():
        with labels.open() as f:
            rows = sorted(csv.DictReader(f), key=lambda r: (float(r["duration_s"] or 1e9), r["file"]))
        found += [XC_DEV / r["file"] for r in rows if (XC_DEV / r["file"]).is_file()]
    if len(found) < n:
        print(f"only {len(found)} inputs found (asked for {n})", file=sys.stderr)
    return found[:n]


def endpoint(path: Path, j: int) -> str:
    return "/analyze" if path.suffix == ".mp4" or j % 2 == 0 else "/locate_audio"


def call(client: Any, api: str, path: Path) -> dict:
    """One request; the raw result (the prediction, or the report) as a dict."""
    from gradio_client import handle_file

    if api == "/analyze":
        return client.predict(handle_file(str(path)), "", "", 5.0, "", api_name=api)[8]
    return client.predict(handle_file(str(path)), "", api_name=api)[6]


def stop_while_analysing(app: Any, clip: Path, timeout_s: float = 120.0) -> tuple[bool, float, int | None]:
    """Start an analysis of ``clip``, SIGTERM the app once it works on it; (still analysing at SIGTERM,
    seconds the app took to exit, its exit status)."""
    from gradio_client import Client, handle_file

    job = Client(app.url, verbose=False).submit(handle_file(str(clip)), "", "", 5.0, "", api_name="/analyze")
    deadline = time.monotonic() + timeout_s
    while not list(app.tmp.glob("geoforensics-req-*")) and not job.done() and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.5)
    busy = not job.done()
    t0 = time.monotonic()
    status = app.stop()
    return busy, time.monotonic() - t0, status


def summary(api: str, raw: dict) -> dict:
    """What must not change under load: the audio point, the species heard and (analyze) the verdict."""
    pred = raw["audio"] if api == "/analyze" else raw
    out = {"point": pred["point"] if pred else None,
           "species": [e["scientific_name"] for e in (pred or {}).get("evidence", [])]}
    if api == "/analyze":
        out["verdict"] = raw["verdict"]["level"]
    return out


def same(a: dict, b: dict) -> bool:
    if (a["point"] is None) != (b["point"] is None):
        return False
    close = a["point"] is None or all(abs(x - y) <= 1e-6 for x, y in zip(a["point"], b["point"], strict=True))
    return close and a["species"] == b["species"] and a.get("verdict") == b.get("verdict")


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1]


def run(args: argparse.Namespace) -> dict:
    from gradio_client import Client

    clips = inputs(args.clips)
    plan = [[(clips[(i * args.requests + j) % len(clips)], j) for j in range(args.requests)]
            for i in range(args.sessions)]
    pairs = sorted({(endpoint(p, j), p) for session in plan for p, j in session}, key=lambda t: (t[0], t[1].name))
    from geoforensics.ui.limits import AppLimits

    limits = AppLimits.from_env(args.workers or None)
    env = {"GEOFORENSICS_WORKERS": str(limits.workers), "GEOFORENSICS_QUEUE_SIZE": str(limits.waiting)}
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="app-load-") as tmp, AppServer(Path(tmp), env) as app:
        disk_before = app.disk_bytes()
        client = Client(app.url, verbose=False)
        reference: dict[tuple[str, str], dict] = {}
        serial_s: list[float] = []
        errors: list[str] = []
        for api, path in pairs:
            t0 = time.monotonic()
            try:
                reference[(api, path.name)] = summary(api, call(client, api, path))
            except Exception as e:  # noqa: BLE001 (counted and reported)
                errors.append(f"serial {api} {path.name}: {str(e).splitlines()[0] if str(e) else type(e).__name__}")
            serial_s.append(time.monotonic() - t0)
            print(f"serial {api} {path.name}: {serial_s[-1]:.1f} s", file=sys.stderr, flush=True)

        latencies: list[float] = []
        mismatches: list[str] = []
        lock = threading.Lock()

        def session(i: int) -> None:
            c = Client(app.url, verbose=False)
            for path, j in plan[i]:
                api = endpoint(path, j)
                t0 = time.monotonic()
                try:
                    got = summary(api, call(c, api, path))
                except Exception as e:  # noqa: BLE001 (counted and reported)
                    with lock:
                        errors.append(f"session {i} {api} {path.name}: "
                                      f"{str(e).splitlines()[0] if str(e) else type(e).__name__}")
                    continue
                dt = time.monotonic() - t0
                ref = reference.get((api, path.name))
                with lock:
                    latencies.append(dt)
                    if ref is None or not same(got, ref):
                        mismatches.append(f"session {i} {api} {path.name}")

        t_load = time.monotonic()
        threads = [threading.Thread(target=session, args=(i,)) for i in range(args.sessions)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(args.timeout)
        load_wall_s = time.monotonic() - t_load
        hung = sum(t.is_alive() for t in threads)
        requests = len(pairs) + args.sessions * args.requests
        disk_after = app.disk_bytes()
        peak_mb = app.peak_rss_mb()
        busy_at_stop, stop_s, status = stop_while_analysing(app, max(clips, key=lambda c: c.stat().st_size))
        leftovers = sorted(str(p.relative_to(app.work)) for p in app.tmp.rglob("*")) + sorted(
            str(p.relative_to(app.work)) for p in app.cache.rglob("geoforensics-*"))
        files_left = sum(1 for p in app.cache.rglob("*") if p.is_file())
    return {
        "machine": machine(),
        "sessions": args.sessions,
        "requests_per_session": args.requests,
        "workers": limits.workers,
        "queue_size": limits.waiting,
        "inputs": [p.name for p in clips],
        "requests": requests,
        "serial_requests": len(pairs),
        "load_requests": args.sessions * args.requests,
        "errors": errors,
        "hung_sessions": hung,
        "mismatches": mismatches,
        "equal_serial": len(latencies) - len(mismatches),
        "all_equal_serial": not mismatches and not errors and not hung,
        "serial_p50_s": pct(serial_s, 50),
        "serial_p95_s": pct(serial_s, 95),
        "load_p50_s": pct(latencies, 50),
        "load_p95_s": pct(latencies, 95),
        "load_wall_s": load_wall_s,
        "throughput_per_min": 60 * len(latencies) / load_wall_s if load_wall_s else 0.0,
        "peak_rss_mb": peak_mb,
        "disk_kept_bytes": disk_after - disk_before,
        "disk_kept_per_request_mb": (disk_after - disk_before) / requests / 1e6,
        "disk_kept_per_distinct_input_mb": (disk_after - disk_before) / len(clips) / 1e6,
        "exit_status_after_sigterm": status,
        "analysing_at_sigterm": busy_at_stop,
        "exit_s_after_sigterm": stop_s,
        "left_after_exit": leftovers,
        "files_left_in_cache_after_exit": files_left,
        "load_before": load_before,
        "load_after": os.getloadavg(),
        "cpus": os.cpu_count(),
    }


def table(r: dict) -> str:
    busy = max(r["load_before"][0], r["load_after"][0]) > 0.75 * (r["cpus"] or 1)
    lines = [
        f"# App load: {r['sessions']} sessions x {r['requests_per_session']} requests through gradio_client",
        "",
        f"Machine: {r['machine']}",
        "",
        f"Load average (1 min) before -> after: {r['load_before'][0]:.1f} -> {r['load_after'][0]:.1f}"
        + (" (the machine was shared with other work: latencies are slower than on an idle machine)" if busy else ""),
        "",
        "| measure | value |",
        "|---|---|",
        f"| heavy workers (analyses at once), queue size | {r['workers']}, {r['queue_size']} |",
        f"| requests (serial reference + under load) | {r['serial_requests']} + {r['load_requests']} |",
        f"| errors | {len(r['errors'])} |",
        f"| hung sessions | {r['hung_sessions']} |",
        f"| answers under load equal to the serial answer | {r['equal_serial']} of {r['load_requests']} |",
        f"| latency serial p50 / p95 | {r['serial_p50_s']:.1f} s / {r['serial_p95_s']:.1f} s |",
        f"| latency under load p50 / p95 | {r['load_p50_s']:.1f} s / {r['load_p95_s']:.1f} s |",
        f"| throughput under load | {r['throughput_per_min']:.1f} requests/min ({r['load_wall_s']:.0f} s wall) |",
        f"| server peak RSS | {r['peak_rss_mb']:.0f} MB |",
        f"| disk kept per request | {r['disk_kept_per_request_mb']:.2f} MB "
        f"({r['disk_kept_bytes'] / 1e6:.1f} MB for {r['requests']} requests) |",
        f"| disk kept per distinct input | {r['disk_kept_per_distinct_input_mb']:.2f} MB ({len(r['inputs'])} inputs) |",
        "| after SIGTERM: exit status, our folders left, files left in the Gradio cache | "
        f"{r['exit_status_after_sigterm']}, "
        f"{len(r['left_after_exit'])}, {r['files_left_in_cache_after_exit']} |",
        f"| seconds from SIGTERM to exit ({'during' if r.get('analysing_at_sigterm') else 'after'} an analysis) | "
        f"{r.get('exit_s_after_sigterm', float('nan')):.1f} s |",
        "",
        f"Inputs: {', '.join(r['inputs'])}.",
    ]
    if r["errors"] or r["mismatches"]:
        lines += ["", "Errors and mismatches:", ""] + [f"- {e}" for e in r["errors"] + r["mismatches"]]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sessions", type=int, default=8, help="concurrent sessions (default 8)")
    p.add_argument("--requests", type=int, default=3, help="requests per session, one after another (default 3)")
    p.add_argument("--clips", type=int, default=12,
                   help="distinct inputs: the 4 shipped examples, then the shortest xc-dev clips (default 12)")
    p.add_argument("--workers", type=int, default=0,
                   help="GEOFORENSICS_WORKERS for the app (default: the app's own default)")
    p.add_argument("--timeout", type=float, default=1800, help="seconds to wait for the sessions (default 1800)")
    p.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "app_load"),
                   help="results path without suffix")
    args = p.parse_args(argv)
    if min(args.sessions, args.requests, args.clips) < 1:
        p.error("--sessions, --requests and --clips must be at least 1")
    result = run(args)
    text = table(result)
    save_results(args.out, text, result)
    return 0 if result["all_equal_serial"] else 1


if __name__ == "__main__":
    sys.exit(main())
