"""``geoforensics batch`` and the Ray paths of ``evaluate-model`` and ``table1``.

Without Ray: inputs, the resumable CSV/Parquet result files, the command line, and that ``locate``
and ``import geoforensics`` never import Ray. With Ray (real processes, on this machine): a local
batch (a Ray started and stopped by the command), and a two-node cluster (a head and a second raylet
started with ``ray start``) that a batch joins and survives a killed worker on. Every Ray process a
test starts carries a marker in its environment; the fixtures stop exactly those processes, by id,
and check that none is left (``ray stop --force`` would stop every Ray of this user on the machine).
"""

from __future__ import annotations

import csv
import hashlib
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from geoforensics.batch import collect_inputs, read_results
from geoforensics.batch.reaper import marked
from geoforensics.batch.reaper import stop as reaper_stop
from geoforensics.batch.sinks import COLUMNS, CsvSink, ParquetSink, normalise, open_sink, parts_dir
from geoforensics.cli import main
from geoforensics.errors import InputError
from geoforensics.evaluation.evaluate import read_points_csv
from geoforensics.geo.geodesy import haversine_km
from geoforensics.paths import PROJECT_ROOT, shared_dir
from tests.media import make_audio

XC = shared_dir() / "data" / "xc-dev" if shared_dir() else None
SHORT_CLIPS = ("XC175830", "XC937886", "XC132324")  # the three shortest of xc-dev (5-6.5 s)
MAX_S = 15.0
MARKER_VAR = "GEOFORENSICS_TEST_RAY"

try:
    import ray  # noqa: F401
    import ray.data  # noqa: F401

    HAS_RAY = True
except ImportError:
    HAS_RAY = False

needs_ray = pytest.mark.skipif(not HAS_RAY, reason="ray[data] not installed (pip install -e '.[scale]')")
needs_xc = pytest.mark.skipif(XC is None or not (XC / "labels.csv").exists(),
                              reason="../shared/data/xc-dev not available")


def row(audio_id: str, lat: float | None = 1.5, lon: float | None = 2.5, error: str | None = None) -> dict:
    return {"audio_id": audio_id, "latitude": lat, "longitude": lon, "confidence": 0.25, "place": "near X, Y",
            "error": error, "elapsed_s": 0.5, "path": f"/a/{audio_id}.mp3"}


# ---------------------------------------------------------------- command line, imports


def test_batch_help(capsys):
    with pytest.raises(SystemExit) as e:
        main(["batch", "--help"])
    assert e.value.code == 0
    out = capsys.readouterr().out
    for flag in ("--out", "--address", "--workers", "--model", "--gallery", "--date", "--max-duration", "--top-k"):
        assert flag in out


def test_ray_options_on_evaluation_commands(capsys):
    for command in ("evaluate-model", "table1"):
        with pytest.raises(SystemExit):
            main([command, "--help"])
        out = capsys.readouterr().out
        assert "--address" in out and "--workers" in out


def test_out_must_be_csv_or_parquet(tmp_path, capsys):
    with pytest.raises(SystemExit) as e:
        main(["batch", str(tmp_path), "--out", str(tmp_path / "out.json")])
    assert e.value.code == 2
    assert ".csv or .parquet" in capsys.readouterr().err


def test_locate_and_import_never_import_ray(tmp_path):
    clip = make_audio(tmp_path / "tone.wav", 3.0)
    code = (
        "import sys\n"
        "import geoforensics\n"
        "from geoforensics.cli import build_parser\n"
        "build_parser()\n"
        "import geoforensics.batch\n"
        f"pred = geoforensics.locate({str(clip)!r})\n"
        "assert pred.point is not None\n"
        "print(sorted(m for m in sys.modules if m == 'ray' or m.startswith('ray.')))\n"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=600, cwd=PROJECT_ROOT)
    assert r.returncode == 0, r.stderr[-2000:]
    assert r.stdout.strip().splitlines()[-1] == "[]"


def test_cpu_budget_sizes_birdnet_to_the_worker():
    from geoforensics.batch.engine import cpu_budget
    from geoforensics.models.birdnet import BirdNETAudio

    real = os.cpu_count()
    with cpu_budget(1):
        assert os.cpu_count() == 1
        model = BirdNETAudio()
    assert os.cpu_count() == real
    assert model._workers == 1  # one single-thread interpreter: the worker owns one CPU
    windows = np.zeros((3, 144_000), np.float32)
    np.testing.assert_allclose(model.scores(windows), BirdNETAudio(workers=2).scores(windows), atol=1e-5)


# ---------------------------------------------------------------- inputs


def test_ray_data_threads_are_waited_for_before_ray_stops():
    """A Ray Data thread still inside a Ray call at ray.shutdown() ends the process with status 1 and no
    message; the session waits for them (they stop by themselves), but never longer than its timeout."""
    import threading

    from geoforensics.batch.engine import RAY_DATA_THREADS, _wait_for_ray_data

    release, hold = threading.Event(), threading.Event()
    finishing = threading.Thread(target=time.sleep, args=(0.3,), name="iter_threaded", daemon=True)
    stuck = threading.Thread(target=release.wait, name="StreamingExecutor-ds", daemon=True)
    other = threading.Thread(target=hold.wait, name="unrelated", daemon=True)
    assert finishing.name.startswith(RAY_DATA_THREADS) and stuck.name.startswith(RAY_DATA_THREADS)
    for t in (finishing, stuck, other):
        t.start()
    try:
        t0 = time.monotonic()
        _wait_for_ray_data(timeout_s=1.0)
        waited = time.monotonic() - t0
        assert not finishing.is_alive()  # joined
        assert stuck.is_alive() and 0.9 < waited < 5.0  # given up on after the timeout, not forever
        release.set()
        t0 = time.monotonic()
        _wait_for_ray_data(timeout_s=30.0)
        assert time.monotonic() - t0 < 5.0  # an unrelated thread is never waited for
        assert not stuck.is_alive() and other.is_alive()
    finally:
        release.set()
        hold.set()


def test_collect_inputs_files_folders_and_ids(tmp_path):
    a = make_audio(tmp_path / "a.wav", 1.0)
    (tmp_path / "site1").mkdir()
    (tmp_path / "site2").mkdir()
    make_audio(tmp_path / "site1" / "dawn.wav", 1.0)
    make_audio(tmp_path / "site2" / "dawn.wav", 1.0)
    items, no_audio = collect_inputs([str(tmp_path / "site1"), str(a)], date="2021-05")
    assert [(i.audio_id, Path(i.path).name, i.date) for i in items] == [
        ("dawn", "dawn.wav", "2021-05"), ("a", "a.wav", "2021-05")
    ]
    assert all(Path(i.path).is_absolute() for i in items) and no_audio == 0
    nested, _ = collect_inputs([str(tmp_path)])
    assert sorted(i.audio_id for i in nested) == ["a", "site1/dawn", "site2/dawn"]
    with pytest.raises(InputError, match="more than once"):
        collect_inputs([str(tmp_path / "site1"), str(tmp_path / "site2")])
    with pytest.raises(InputError, match="no such file"):
        collect_inputs([str(tmp_path / "missing.wav")])


def test_collect_inputs_reads_a_manifest_with_its_dates(tmp_path):
    make_audio(tmp_path / "one.wav", 1.0)
    make_audio(tmp_path / "two.wav", 1.0)
    (tmp_path / "labels.csv").write_text(
        "file,id,lat,lon,date\none.wav,rec-1,48.8,2.3,2020-06-01\ntwo.wav,rec-2,40.7,-74.0,\n"
    )
    for source in (tmp_path / "labels.csv", tmp_path):
        items, _ = collect_inputs([str(source)], date="2021-01-15")
        assert [(i.audio_id, Path(i.path).name, i.date) for i in items] == [
            ("rec-1", "one.wav", "2020-06-01"),
            ("rec-2", "two.wav", "2021-01-15"),
        ]


@needs_xc
def test_collect_inputs_reads_xc_dev():
    items, no_audio = collect_inputs([str(XC / "labels.csv")])
    assert len(items) == 86 and no_audio == 0
    assert all(Path(i.path).is_file() for i in items)
    assert all(i.date for i in items)


# ---------------------------------------------------------------- result files


def test_csv_sink_appends_whole_rows_and_resumes(tmp_path):
    out = tmp_path / "out.csv"
    with open_sink(out) as sink:
        assert isinstance(sink, CsvSink) and sink.done() == {}
        sink.write(row("a"))
        sink.write(row("b", None, None, error="cannot decode b.mp3"))
        # every row is on disk as soon as it is written
        assert out.read_text().count("\n") == 3
    lines = out.read_text().splitlines()
    assert lines[0] == ",".join(COLUMNS)
    assert lines[1].startswith("a,1.500000,2.500000,0.2500,")
    assert lines[2].startswith("b,,,") and "cannot decode b.mp3" in lines[2]
    with open_sink(out) as sink:
        assert sink.done() == {"a": False, "b": True}
        sink.write(row("c"))
    assert [r["audio_id"] for r in read_results(out)] == ["a", "b", "c"]
    assert read_results(out)[1]["latitude"] is None


def test_csv_sink_cuts_a_partial_last_row(tmp_path):
    out = tmp_path / "out.csv"
    with open_sink(out) as sink:
        sink.write(row("a"))
        sink.write(row("b"))
    with open(out, "a") as f:
        f.write("c,12.3")  # a crash mid-row
    with open_sink(out) as sink:
        assert set(sink.done()) == {"a", "b"}
        sink.write(row("c"))
    assert [r["audio_id"] for r in read_results(out)] == ["a", "b", "c"]
    assert read_results(out)[2]["latitude"] == 1.5


def test_csv_sink_retry_failed_and_refuses_other_files(tmp_path):
    out = tmp_path / "out.csv"
    with open_sink(out) as sink:
        sink.write(row("a"))
        sink.write(row("b", None, None, error="boom"))
    with open_sink(out, retry_failed=True) as sink:
        assert sink.done() == {"a": False}
    assert [r["audio_id"] for r in read_results(out)] == ["a"]
    manifest = tmp_path / "labels.csv"
    manifest.write_text("file,lat,lon\na.wav,1,2")
    with pytest.raises(InputError, match="not a batch result file"):
        open_sink(manifest)
    assert manifest.read_text() == "file,lat,lon\na.wav,1,2"  # untouched, partial last line included


def test_csv_result_reads_as_a_prediction_file(tmp_path):
    out = tmp_path / "out.csv"
    with open_sink(out) as sink:
        sink.write(row("a", 10.0, 20.0))
        sink.write(row("b", -5.0, 170.0))
    points = read_points_csv(out)
    assert points.ids == ["a", "b"]
    np.testing.assert_allclose(points.latlon, [[10, 20], [-5, 170]])


def test_failed_run_removes_only_a_new_empty_file(tmp_path):
    out = tmp_path / "out.csv"
    with pytest.raises(RuntimeError):
        with open_sink(out):
            raise RuntimeError("Ray did not start")
    assert not out.exists()
    with open_sink(out) as sink:
        sink.write(row("a"))
    with pytest.raises(RuntimeError):
        with open_sink(out):
            raise RuntimeError("Ray did not start")
    assert [r["audio_id"] for r in read_results(out)] == ["a"]


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_one_batch_at_a_time_on_an_out(tmp_path, suffix):
    out = tmp_path / f"out{suffix}"
    with open_sink(out) as sink:
        sink.write(row("a"))
        lock = sink.lock.path
        assert lock.read_text().startswith(f"{os.getpid()}@")
        with pytest.raises(InputError, match=rf"being written by another batch \(process {os.getpid()}@"):
            open_sink(out)
        code = f"from geoforensics.batch.sinks import open_sink\nopen_sink({str(out)!r})"
        other = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                               env={**os.environ, "PYTHONPATH": str(PROJECT_ROOT)})
        assert other.returncode == 1 and "being written by another batch" in other.stderr
    assert not lock.exists()
    before = digest(out)
    with open_sink(out) as sink:  # free again once the first one is done
        assert sink.done() == {"a": False}
    assert digest(out) == before


def test_a_lock_left_by_a_killed_batch_is_taken_over(tmp_path):
    out = tmp_path / "out.csv"
    (tmp_path / ".out.csv.lock").write_text("12345@elsewhere\n")  # nobody holds it
    with open_sink(out) as sink:
        sink.write(row("a"))
    assert not (tmp_path / ".out.csv.lock").exists()
    assert [r["audio_id"] for r in read_results(out)] == ["a"]


def test_every_id_is_in_out_once(tmp_path):
    out = tmp_path / "out.csv"
    with open_sink(out) as sink:
        assert sink.write(row("a", error="boom", lat=None, lon=None))
        assert not sink.write(row("a"))  # the same recording again (a task Ray ran twice): dropped
        sink.write(row("b"))
    lines = out.read_text().splitlines()
    assert [line.split(",")[0] for line in lines[1:]] == ["a", "b"]
    # two runs at once before OUT was locked wrote every row twice: the next run keeps one of each,
    # the located one where there is one
    with open(out, "a", newline="") as f:
        CsvSink._write_row(CsvSink._writer_on(f, header=False), normalise(row("b")))
        CsvSink._write_row(CsvSink._writer_on(f, header=False), normalise(row("a", 1.0, 2.0)))
    assert len(out.read_text().splitlines()) == 5
    with open_sink(out) as sink:
        assert sink.done() == {"a": False, "b": False}
    rows = read_results(out)
    assert [r["audio_id"] for r in rows] == ["a", "b"] and rows[0]["latitude"] == 1.0 and rows[0]["error"] is None
    with open_sink(out, retry_failed=True) as sink:
        assert sink.done() == {"a": False, "b": False}
    assert len(read_results(out)) == 2


def test_duplicated_parquet_rows_are_kept_once(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    from geoforensics.batch.sinks import _schema

    out = tmp_path / "out.parquet"
    rows = [normalise(r) for r in (row("a", None, None, error="boom"), row("b"), row("a", 5.0, 6.0), row("b"))]
    pq.write_table(pa.Table.from_pylist(rows, schema=_schema()), out)
    with open_sink(out) as sink:
        assert sink.done() == {"a": False, "b": False}
    assert sorted((r["audio_id"], r["latitude"]) for r in read_results(out)) == [("a", 5.0), ("b", 1.5)]


ODD_OUTS = {
    "not-utf8": ",".join(COLUMNS).encode() + b"\na,1.0,2.0" + b",\xff" * 12 + b"\n",
    "short-row": ",".join(COLUMNS).encode() + b"\na,1.0,2.0\n",
    "300kb-field": ",".join(COLUMNS).encode() + b"\na,1.0,2.0," + b"x" * 300_000 + b",,,,,,,,,,\n",
    "bad-number": ",".join(COLUMNS).encode() + b"\na,north,2.0" + b"," * 11 + b"\n",
    "no-id": ",".join(COLUMNS).encode() + b"\n,1.0,2.0" + b"," * 11 + b"\n",
    "other-csv": b"file,lat,lon\na.wav,1,2",
}


@pytest.mark.parametrize("name", sorted(ODD_OUTS))
def test_odd_existing_outs_are_refused_untouched(tmp_path, name):
    out = tmp_path / "out.csv"
    out.write_bytes(ODD_OUTS[name] + b"b,1.0,2.0,0.5")  # a partial last line too: not cut off when refusing
    before = digest(out)
    with pytest.raises(InputError, match=r"not a batch result file|line 2|name another --out"):
        open_sink(out)
    assert digest(out) == before and sorted(p.name for p in tmp_path.iterdir()) == ["out.csv"]


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_an_out_that_is_not_a_regular_file_is_refused_at_once(tmp_path, suffix):
    fifo = tmp_path / f"o{suffix}"
    os.mkfifo(fifo)
    with pytest.raises(InputError, match="not a regular file"):
        open_sink(fifo)  # opening it would block until a reader came
    assert sorted(p.name for p in tmp_path.iterdir()) == [fifo.name]


def test_formula_like_ids_round_trip_through_a_resumed_csv(tmp_path):
    out = tmp_path / "out.csv"
    ids = ['=HYPERLINK("http://x.example","y")', "@cmd", "-1", "'q"]
    with open_sink(out) as sink:
        for i in ids:
            sink.write(row(i, -10.0, -20.0))
    with open(out, newline="") as f:
        cells = [r[0] for r in csv.reader(f)][1:]
    assert cells == ['\'=HYPERLINK("http://x.example","y")', "'@cmd", "'-1", "''q"]
    with open_sink(out) as sink:
        assert set(sink.done()) == set(ids)  # resume sees the original ids: nothing is located twice
    assert [r["audio_id"] for r in read_results(out)] == ids and read_results(out)[0]["longitude"] == -20.0
    assert read_points_csv(out).ids == ids


def test_parquet_sink_parts_merge_and_resume(tmp_path, monkeypatch):
    import pyarrow.parquet as pq

    from geoforensics.batch import sinks

    monkeypatch.setattr(sinks, "PART_ROWS", 2)
    out = tmp_path / "out.parquet"
    sink = open_sink(out)
    assert isinstance(sink, ParquetSink)
    for name in "abc":
        sink.write(row(name))
    assert len(list(parts_dir(out).glob("part-*.parquet"))) == 1  # a, b written; c buffered
    # a crash here keeps the part (and the kernel drops the crashed run's lock): a new run sees a and b as done
    sink.lock.release()
    again = open_sink(out)
    assert set(again.done()) == {"a", "b"}
    again.write(row("c", error="boom", lat=None, lon=None))
    again.close()
    assert out.exists() and not parts_dir(out).exists()
    table = pq.read_table(out)
    assert table.column_names == list(COLUMNS)
    assert sorted(table["audio_id"].to_pylist()) == ["a", "b", "c"]
    with open_sink(out, retry_failed=True) as sink:
        assert sink.done() == {"a": False, "b": False}
    assert sorted(r["audio_id"] for r in read_results(out)) == ["a", "b"]


# ---------------------------------------------------------------- the engine's guards, without Ray running


def test_local_workers_are_capped_by_cpus_and_memory(monkeypatch, caplog):
    from geoforensics.batch import engine

    gb = 1 << 30
    monkeypatch.setattr(engine, "usable_cpus", lambda: 2)
    monkeypatch.setattr(engine, "available_memory", lambda: 20 * gb)
    assert engine.local_workers(None) == 2 and engine.local_workers(1) == 1 and not caplog.records
    assert engine.local_workers(16) == 2
    assert "--workers 16: this machine has 2 CPUs and 21.5 GB of memory available, which fit 2 workers" in caplog.text
    monkeypatch.setattr(engine, "usable_cpus", lambda: 64)
    monkeypatch.setattr(engine, "available_memory", lambda: 5 * gb)  # Ray's own 2 GiB, then 1 GiB a worker
    assert engine.local_workers(None) == 3 and engine.local_workers(16) == 3
    monkeypatch.setattr(engine, "available_memory", lambda: gb // 2)
    assert engine.local_workers(4) == 1  # never fewer than one
    monkeypatch.setattr(engine, "available_memory", lambda: None)
    assert engine.local_workers(None) == 64


def test_available_memory_reads_this_machine():
    from geoforensics.batch.engine import available_memory

    free = available_memory()
    total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    assert free is not None and 0 < free <= total


def _serve(reply: bytes | None) -> tuple[socket.socket, int]:
    """A listening socket on 127.0.0.1 that answers each connection with ``reply`` (None: says nothing)."""
    import threading

    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()

    def answer() -> None:
        while True:
            try:
                conn, _ = server.accept()
            except OSError:
                return
            if reply is not None:
                conn.recv(64)
                conn.sendall(reply)

    threading.Thread(target=answer, daemon=True).start()
    return server, server.getsockname()[1]


@needs_ray
def test_a_cluster_address_where_no_ray_answers_fails_at_once(monkeypatch):
    from geoforensics.batch import engine

    monkeypatch.setattr(engine, "PROBE_TIMEOUT_S", 1.0)
    port = free_port()
    with pytest.raises(InputError, match=rf"no Ray cluster answers at 127.0.0.1:{port} \(Connection refused\)"):
        engine.cluster_address(f"127.0.0.1:{port}")
    with pytest.raises(InputError, match="no Ray cluster answers at ray://"):
        engine.cluster_address(f"ray://127.0.0.1:{port}")
    for reply, why in ((None, "no answer within 1 s"), (b"SSH-2.0-OpenSSH_9.2\r\n", "not a Ray cluster")):
        server, port = _serve(reply)
        with server, pytest.raises(InputError, match=why):
            engine.cluster_address(f"localhost:{port}")
    for bad in ("nohost", "127.0.0.1:abc", "127.0.0.1:70000", "127.0.0.1:0"):
        with pytest.raises(InputError, match="give host:port"):
            engine.cluster_address(bad)
    settings = bytes([0, 0, 0, 4, 0, 0, 0, 0, 0])  # what a gRPC server (Ray's GCS) sends first
    server, port = _serve(settings)
    with server:
        assert engine.cluster_address(f"127.0.0.1:{port}") == (f"127.0.0.1:{port}", True)  # loopback stays loopback
        assert engine.cluster_address(f"ray://localhost:{port}") == (f"ray://localhost:{port}", True)


def test_sigterm_is_handled_like_ctrl_c_while_ray_runs():
    from geoforensics.batch.engine import _sigterm_like_ctrl_c

    before = signal.getsignal(signal.SIGTERM)
    with _sigterm_like_ctrl_c() as claim:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)  # what ray.init does (with its native handler)
        claim()
        with pytest.raises(KeyboardInterrupt):
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(5)
    assert signal.getsignal(signal.SIGTERM) == before


@pytest.mark.parametrize("via_symlink", [False, True], ids=["plain", "tmpdir-via-symlink"])
def test_the_reaper_stops_a_killed_batchs_processes_and_removes_its_folder(tmp_path, via_symlink):
    """A driver that dies by SIGKILL cannot clean up: its reaper stops every process carrying its token, and
    every process holding a file in the Ray folder open (Ray's agents may lack the token), and removes the
    folder; a process of neither kind is left alone."""
    code = (
        "import os, signal, subprocess, sys\n"
        "from geoforensics.batch.engine import _reaped_ray_folder\n"
        "with _reaped_ray_folder() as folder:\n"
        "    (folder / 'session_x').mkdir()\n"
        "    (folder / 'session_x' / 'raylet.out').write_text('log')\n"
        "    quiet = dict(stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)\n"
        "    marked = subprocess.Popen(['sleep', '300'], **quiet)\n"
        "    os.environ.pop('GEOFORENSICS_RAY_RUN')\n"
        "    plain = subprocess.Popen(['sleep', '300'], **quiet)\n"
        "    with open(folder / 'session_x' / 'agent.out', 'w') as log:\n"
        "        agent = subprocess.Popen(['sleep', '300'], stdin=subprocess.DEVNULL, stdout=log, stderr=log)\n"
        "    print(folder, marked.pid, plain.pid, agent.pid, flush=True)\n"
        "    os.kill(os.getpid(), signal.SIGKILL)\n"
    )
    short = Path(tempfile.mkdtemp(prefix="gfr", dir="/tmp"))  # Ray's folder must be short: its sockets are in it
    given = short
    if via_symlink:  # the open files' links in /proc are real paths: the reaper must match them all the same
        given = Path(f"{short}-l")
        given.symlink_to(short)
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT), "RAY_TMPDIR": str(given)}
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, env=env)
    assert r.returncode == -signal.SIGKILL, r.stderr[-2000:]
    folder, tagged, plain, agent = r.stdout.split()
    assert Path(folder).parent == given and Path(folder).name.startswith("gfray-")
    deadline = time.monotonic() + 30
    while (_state(int(tagged)) not in ("Z", "X") or Path(folder).exists()) and time.monotonic() < deadline:
        time.sleep(0.1)
    try:
        assert _state(int(tagged)) in ("Z", "X"), "the marked process outlived its batch"
        assert _state(int(agent)) in ("Z", "X"), "a process writing into the Ray folder outlived its batch"
        assert not Path(folder).exists()
        assert _state(int(plain)) not in ("Z", "X"), "a process of no Ray was stopped"
        assert list(short.iterdir()) == []
    finally:
        shutil.rmtree(short, ignore_errors=True)
        if given != short:
            given.unlink()
        for pid in (int(tagged), int(plain), int(agent)):
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass


# ---------------------------------------------------------------- processes of a test's Ray


def _state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return "X"


def ours(marker: str) -> list[int]:
    """Live processes whose environment carries ``marker`` (every process a test's Ray starts inherits it),
    this one excluded."""
    return marked(f"{MARKER_VAR}={marker}", {os.getpid()})


def left_running(marker: str, within_s: float = 30.0) -> list[str]:
    """The processes carrying ``marker`` still alive after ``within_s`` seconds (time to exit after
    their raylet stopped), as command lines."""
    deadline = time.monotonic() + within_s
    while ours(marker) and time.monotonic() < deadline:
        time.sleep(0.5)
    return [cmdline(p)[:100] for p in ours(marker)]


def stop(marker: str, grace_s: float = 10.0) -> None:
    """SIGTERM, then SIGKILL, the processes carrying ``marker``."""
    reaper_stop(f"{MARKER_VAR}={marker}", {os.getpid()}, grace_s)


def cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def parent(pid: int) -> int:
    try:
        return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
    except OSError:
        return 0


@dataclass
class RayEnv:
    marker: str
    env: dict[str, str]
    tmp: Path
    address: str | None = None

    def cli(self, *args: str, timeout: float = 900) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "geoforensics", *args], env=self.env, capture_output=True,
                              text=True, timeout=timeout, cwd=PROJECT_ROOT)


def ray_env(cache: Path) -> RayEnv:
    marker = secrets.token_hex(8)
    tmp = Path(tempfile.mkdtemp(prefix="gfr", dir="/tmp"))  # short: Ray's socket paths must fit 107 bytes
    env = {
        **os.environ,
        MARKER_VAR: marker,
        "PYTHONPATH": os.pathsep.join([str(PROJECT_ROOT), *filter(None, [os.environ.get("PYTHONPATH")])]),
        "RAY_TMPDIR": str(tmp),
        "GEOFORENSICS_CACHE": str(cache),
    }
    return RayEnv(marker, env, tmp)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("", 0))
        return s.getsockname()[1]


# ---------------------------------------------------------------- inputs for the Ray runs


@pytest.fixture(scope="module")
def clips(tmp_path_factory) -> Path:
    """A folder of real xc-dev clips (each also under two more names, symlinks), a generated tone, and
    a file that is not audio."""
    if XC is None or not (XC / "labels.csv").exists():
        pytest.skip("../shared/data/xc-dev not available")
    folder = tmp_path_factory.mktemp("clips")
    for name in SHORT_CLIPS:
        (folder / f"{name}.mp3").symlink_to(XC / "audio" / f"{name}.mp3")
        for copy in ("again", "more"):
            (folder / f"{copy}-{name}.mp3").symlink_to(XC / "audio" / f"{name}.mp3")
    make_audio(folder / "tone.wav", 4.0)
    (folder / "broken.mp3").write_text("not audio at all")
    return folder


@pytest.fixture(scope="module")
def reference(clips) -> dict[str, tuple[float, float]]:
    """What ``locate`` answers for each clip (the same options as the batches)."""
    from geoforensics.api import locate

    out = {}
    for f in sorted(clips.iterdir()):
        if f.name != "broken.mp3":
            out[f.stem] = locate(f, max_duration_s=MAX_S).point
    return out


def check_rows(rows: list[dict], clips: Path, reference: dict[str, tuple[float, float]]) -> None:
    """Every clip once; the broken file recorded with its error; the others located as ``locate`` does."""
    ids = [r["audio_id"] for r in rows]
    assert sorted(ids) == sorted(f.stem for f in clips.iterdir())
    by_id = {r["audio_id"]: r for r in rows}
    broken = by_id.pop("broken")
    assert broken["latitude"] is None and "broken.mp3" in broken["error"]
    for audio_id, r in by_id.items():
        assert r["error"] is None, r
        km = haversine_km((r["latitude"], r["longitude"]), reference[audio_id])
        assert km < 1.0, (audio_id, km)
        assert 0 <= r["confidence"] <= 1 and r["elapsed_s"] > 0
    for name in SHORT_CLIPS:  # real birds: species and regions are reported
        assert by_id[name]["top_species"] and by_id[name]["top_species_score"] > 0.1
        assert 0 < by_id[name]["radius50_km"] <= by_id[name]["radius90_km"]
        assert by_id[name]["place"]


# ---------------------------------------------------------------- a local Ray, started by the command


@needs_ray
@pytest.mark.slow
def test_local_batch_resumes_and_leaves_nothing_running(clips, reference, tmp_path):
    env = ray_env(tmp_path / "cache")
    out = tmp_path / "out.csv"
    args = ("batch", str(clips), "--out", str(out), "--workers", "2", "--max-duration", str(MAX_S), "--quiet")
    try:
        # the workers cannot build the model: one clear error, no traceback, no OUT left behind
        bad = env.cli(*args[:6], "--gallery", f"csv:{tmp_path / 'missing.csv'}")
        assert bad.returncode == 2, bad.stderr[-3000:]
        assert "could not load the models" in bad.stderr and "missing.csv" in bad.stderr
        assert "Traceback" not in bad.stderr and not out.exists()
        assert list(env.tmp.iterdir()) == [], "the local Ray's folder must go with it"

        first = env.cli(*args)
        assert first.returncode == 1, first.stderr[-3000:]  # the broken file failed
        assert "Traceback" not in first.stderr
        assert "1 failed" in first.stderr and "broken" in first.stderr
        check_rows(read_results(out), clips, reference)
        assert not left_running(env.marker), "the local Ray must be stopped when the batch ends"
        assert list(env.tmp.iterdir()) == [] and sorted(p.name for p in tmp_path.iterdir()) == ["cache", "out.csv"]

        # a second run has nothing to do and does not start Ray
        before = out.read_bytes()
        second = env.cli(*args)
        assert second.returncode == 0, second.stderr[-3000:]
        assert "0 located" in second.stderr and f"{len(list(clips.iterdir()))} already in OUT" in second.stderr
        assert "1 of them failed" in second.stderr
        assert out.read_bytes() == before

        # rows lost (deleted): only those are located again
        lines = out.read_text().splitlines()
        gone = {"again-XC937886", "tone"}
        out.write_text("\n".join(line for line in lines if line.split(",")[0] not in gone) + "\n")
        third = env.cli(*args)
        assert third.returncode == 0, third.stderr[-3000:]
        assert "2 located, 0 failed" in third.stderr
        rows = read_results(out)
        check_rows(rows, clips, reference)
        assert {r["audio_id"] for r in rows[-2:]} == gone
        assert not left_running(env.marker)
    finally:
        stop(env.marker)
        shutil.rmtree(env.tmp, ignore_errors=True)


def _rows_in(out: Path) -> list[dict]:
    try:
        return read_results(out)
    except (OSError, InputError):
        return []


def _start_batch(env: RayEnv, args: tuple[str, ...], out: Path, rows: int) -> tuple[subprocess.Popen, int]:
    """A batch started in the background, once OUT holds ``rows`` rows; and the most MapWorkers seen at once."""
    proc = subprocess.Popen([sys.executable, "-m", "geoforensics", *args], env=env.env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, cwd=PROJECT_ROOT)
    most, deadline = 0, time.monotonic() + 600
    while len(_rows_in(out)) < rows and proc.poll() is None and time.monotonic() < deadline:
        most = max(most, len(map_workers(env.marker)))  # not a worker's ffmpeg child before it execs
        time.sleep(0.1)
    assert proc.poll() is None, ("the batch ended before it could be interrupted", proc.communicate()[1][-3000:])
    return proc, most


@needs_ray
@pytest.mark.slow
def test_local_batch_stopped_by_sigterm_or_sigkill_leaves_nothing_and_resumes(clips, reference, tmp_path):
    """Issue 25: --workers 16 is capped to what the machine holds; a second batch on the same OUT is refused;
    SIGTERM stops a batch like Ctrl-C (status 143, no native stack dump); after SIGKILL the reaper stops Ray's
    processes (its two agents used to linger ~60 s) and removes its folder; resuming never duplicates a row."""
    from geoforensics.batch.engine import usable_cpus

    env = ray_env(tmp_path / "cache")
    out = tmp_path / "out.csv"
    args = ("batch", str(clips), "--out", str(out), "--workers", "16", "--max-duration", str(MAX_S), "--quiet")
    try:
        proc, most = _start_batch(env, args, out, 1)
        with pytest.raises(InputError, match=f"being written by another batch \\(process {proc.pid}@"):
            open_sink(out)
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 143, err[-3000:]
        assert "interrupted" in err and "SIGTERM" not in err and "Traceback" not in err, err[-3000:]
        assert "--workers 16: this machine has" in err and 1 <= most <= usable_cpus(), (most, err[-2000:])
        assert not left_running(env.marker) and list(env.tmp.iterdir()) == []
        assert sorted(p.name for p in tmp_path.iterdir()) == ["cache", "out.csv"]  # no lock left
        done = [r["audio_id"] for r in read_results(out)]
        assert len(done) == len(set(done)) >= 1
        # the SIGTERM'd run may have got through nearly every file before it stopped (a loaded machine): keep
        # its first row only, so that the next run still has work when it is killed
        out.write_text("".join(out.read_text().splitlines(keepends=True)[:2]))
        done = done[:1]

        proc, _ = _start_batch(env, args, out, len(done) + 1)
        proc.kill()
        proc.communicate(timeout=60)
        assert not left_running(env.marker, within_s=30), "Ray's processes outlived a killed batch"
        deadline = time.monotonic() + 30
        while list(env.tmp.iterdir()) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert list(env.tmp.iterdir()) == [], "the killed batch's Ray folder was left"
        done = [r["audio_id"] for r in read_results(out)]
        assert len(done) == len(set(done))

        last = env.cli(*args)  # takes over the lock file the killed batch left, locates the rest
        # the broken file fails in whichever run reaches it: this one exits 1 only when it is among the rest
        assert last.returncode == (0 if "broken" in done else 1), last.stderr[-3000:]
        assert f"{len(done)} already in OUT" in last.stderr
        check_rows(read_results(out), clips, reference)
        assert sorted(p.name for p in tmp_path.iterdir()) == ["cache", "out.csv"]
        assert not left_running(env.marker) and list(env.tmp.iterdir()) == []
    finally:
        stop(env.marker)
        shutil.rmtree(env.tmp, ignore_errors=True)


@needs_ray
def test_batch_on_a_dead_address_fails_at_once_and_leaves_nothing(tmp_path):
    clip = make_audio(tmp_path / "tone.wav", 2.0)
    out = tmp_path / "out.csv"
    port = free_port()
    env = ray_env(tmp_path / "cache")
    try:
        r = env.cli("batch", str(clip), "--out", str(out), "--address", f"127.0.0.1:{port}", "--quiet", timeout=120)
    finally:
        shutil.rmtree(env.tmp, ignore_errors=True)
    assert r.returncode == 2, r.stderr[-3000:]
    assert f"error: no Ray cluster answers at 127.0.0.1:{port} (Connection refused)" in r.stderr
    assert "Traceback" not in r.stderr and "192." not in r.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tone.wav"]


# ---------------------------------------------------------------- a two-node cluster on this machine


@pytest.fixture(scope="module")
def cluster(tmp_path_factory) -> Iterator[RayEnv]:
    """A Ray head and a second raylet joining it, one CPU each, started with ``ray start`` on 127.0.0.1
    (Ray announces the nodes under this machine's address), with their own token and temp folder."""
    if not HAS_RAY:
        pytest.skip("ray[data] not installed")
    env = ray_env(tmp_path_factory.mktemp("cache"))
    env.env.update(RAY_AUTH_MODE="token", RAY_AUTH_TOKEN=secrets.token_hex(16))
    port = free_port()
    ray_cli = str(Path(sys.executable).with_name("ray"))
    common = ["--num-cpus=1", "--node-ip-address=127.0.0.1", f"--temp-dir={env.tmp}", "--disable-usage-stats"]
    try:
        for cmd in (
            [ray_cli, "start", "--head", f"--port={port}", "--include-dashboard=false", *common],
            [ray_cli, "start", f"--address=127.0.0.1:{port}", *common],
        ):
            r = subprocess.run(cmd, env=env.env, capture_output=True, text=True, timeout=180)
            assert r.returncode == 0, (cmd, r.stdout[-2000:], r.stderr[-2000:])
        env.address = f"127.0.0.1:{port}"
        yield env
    finally:
        stop(env.marker)
        left = ours(env.marker)
        shutil.rmtree(env.tmp, ignore_errors=True)
        assert not left, f"Ray processes left running: {[cmdline(p)[:80] for p in left]}"


def raylets(marker: str) -> set[int]:
    return {p for p in ours(marker) if cmdline(p).split(" ")[0].endswith("/raylet")}


def map_workers(marker: str) -> dict[int, int]:
    """The Ray Data actors, each with its raylet: processes titled ``ray::MapWorker`` whose parent is a
    raylet. A worker's title is also, for a moment, that of each child it forks to run ffmpeg (until the
    child execs ffmpeg): such a child, whose parent is the worker, is no worker (it was the "third PID" of
    issue 22). The parent is read once, so a worker that exits meanwhile (parent 0) is left out too."""
    nodes = raylets(marker)
    found = {p: parent(p) for p in ours(marker) if cmdline(p).startswith("ray::MapWorker")}
    return {p: node for p, node in found.items() if node in nodes}


@needs_ray
@pytest.mark.slow
def test_cluster_batch_survives_a_killed_worker(cluster, clips, reference, tmp_path):
    out = tmp_path / "out.csv"
    assert len(raylets(cluster.marker)) == 2
    proc = subprocess.Popen(
        [sys.executable, "-m", "geoforensics", "batch", str(clips), "--out", str(out), "--address", cluster.address,
         "--workers", "2", "--max-duration", str(MAX_S), "--quiet"],
        env=cluster.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=PROJECT_ROOT,
    )
    killed, nodes, rows_at_kill = None, set(), 0
    deadline = time.monotonic() + 600
    while proc.poll() is None and time.monotonic() < deadline:
        workers = map_workers(cluster.marker)
        nodes |= set(workers.values())
        if killed is None and workers and out.exists():
            rows_at_kill = len(read_results(out))
            if rows_at_kill >= 1:  # workers up and results coming: kill one mid-batch
                killed = min(workers)
                os.kill(killed, signal.SIGKILL)
        time.sleep(0.1)
    _, stderr = proc.communicate(timeout=60)
    assert killed is not None, ("no worker was killed", nodes, proc.returncode, stderr[-2000:])
    assert rows_at_kill < len(list(clips.iterdir())), "the batch was over before the kill"
    assert nodes == raylets(cluster.marker), ("the workers ran on both nodes of the cluster", nodes)
    assert proc.returncode == 1, stderr[-3000:]
    assert "Traceback" not in stderr
    check_rows(read_results(out), clips, reference)
    assert killed not in ours(cluster.marker)
    assert len(raylets(cluster.marker)) == 2, "joining a cluster leaves it running"


@needs_ray
@pytest.mark.slow
def test_cluster_batch_to_parquet(cluster, clips, reference, tmp_path):
    import pyarrow.parquet as pq

    out = tmp_path / "out.parquet"
    r = cluster.cli("batch", str(clips / f"{SHORT_CLIPS[0]}.mp3"), str(clips / "tone.wav"), "--out", str(out),
                    "--address", cluster.address, "--max-duration", str(MAX_S), "--quiet")
    assert r.returncode == 0, r.stderr[-3000:]
    assert "2 located" in r.stderr
    table = pq.read_table(out)
    assert table.column_names == list(COLUMNS) and not parts_dir(out).exists()
    for rec in read_results(out):
        assert haversine_km((rec["latitude"], rec["longitude"]), reference[rec["audio_id"]]) < 1.0


@needs_ray
@needs_xc
@pytest.mark.slow
def test_evaluate_model_on_the_cluster_matches_locate(cluster, tmp_path):
    from geoforensics.api import locate
    from geoforensics.data import open_dataset

    out = tmp_path / "pred.csv"
    r = cluster.cli("evaluate-model", "--data", str(XC), "--limit", "3", "--address", cluster.address,
                    "--csv", str(out))
    assert r.returncode == 0, r.stderr[-3000:]
    assert "median" in r.stdout.lower() or "km" in r.stdout
    pred = read_points_csv(out)
    recs = list(open_dataset(XC))[:3]
    assert pred.ids == [rec.id for rec in recs]
    for rec, point in zip(recs, pred.latlon):
        assert haversine_km(point, locate(rec.audio_path).point) < 1.0


@needs_ray
@needs_xc
@pytest.mark.slow
def test_table1_scores_on_the_cluster_fill_the_local_cache(cluster, tmp_path, monkeypatch):
    from geoforensics.data import open_dataset
    from geoforensics.evidence import cached_scores, score_audio

    r = cluster.cli("table1", "--data", str(XC), "--limit", "2", "--systems", "species-all", "--out",
                    str(tmp_path / "t1"), "--address", cluster.address)
    assert r.returncode == 0, r.stderr[-3000:]
    assert (tmp_path / "t1" / "table1.md").exists()
    cache = Path(cluster.env["GEOFORENSICS_CACHE"]) / "birdnet-scores"
    assert len(list(cache.glob("*.npz"))) == 2
    monkeypatch.setenv("GEOFORENSICS_CACHE", cluster.env["GEOFORENSICS_CACHE"])
    for rec in list(open_dataset(XC))[:2]:
        cached = cached_scores(rec.audio_path)
        assert "cache_s" in cached.timings  # read from the cache the workers filled
        fresh = score_audio(rec.audio_path)
        np.testing.assert_allclose(cached.scores, fresh.scores, atol=1e-4)
        np.testing.assert_allclose(cached.starts_s, fresh.starts_s)


@needs_ray
def test_cluster_recipe_is_a_valid_ray_cluster_config():
    import yaml
    from ray.autoscaler._private.util import prepare_config, validate_config

    config = yaml.safe_load((PROJECT_ROOT / "docs" / "ray-cluster.yaml").read_text())
    validate_config(prepare_config(config))
    assert any("[scale]" in c for c in config["setup_commands"])


class _Sleeper:
    """A stand-in actor for the engine's plumbing: each row takes 0.4 s."""

    def __init__(self, threads: int | None) -> None:
        self.threads = threads

    def __call__(self, batch: dict) -> dict:
        time.sleep(0.4)
        return {"id": batch["id"], "threads": np.array([self.threads] * len(batch["id"]))}


@needs_ray
@pytest.mark.slow
def test_rows_come_back_one_by_one_as_they_finish():
    from geoforensics.batch import engine

    with engine.ray_session(None, 1) as n:
        assert n == 1
        t0, seen = time.monotonic(), []
        for r in engine._map([{"id": str(i)} for i in range(12)], _Sleeper, {}, 1):
            seen.append((time.monotonic() - t0, r["id"], int(r["threads"])))
    import ray

    assert not ray.is_initialized()
    assert sorted(i for _, i, _ in seen) == sorted(str(i) for i in range(12))
    assert {t for _, _, t in seen} == {1}  # one thread per one-CPU worker
    gaps = np.diff([t for t, _, _ in seen])
    # one worker, 0.4 s a row: rows arrive spread out, not all at the end of a task of several rows
    assert seen[-1][0] - seen[0][0] > 3.0 and (gaps > 0.2).sum() >= 8, seen
