"""Recordings through geolocators on Ray Data: a dataset of rows, a pool of actors, rows out as they finish.

``locate_many`` turns :class:`~geoforensics.batch.inputs.BatchInput` rows (id, path, date) into a
Ray Dataset and maps it with a fixed pool of actors (:class:`_Locator`), each holding the geolocator
from :func:`geoforensics.geolocators.registry.get_geolocator` with the user's options, loaded once
per actor. Only paths travel: decoding (ffmpeg) and BirdNET run in the actor, on the node that
reads the file, so on a cluster the paths must name the same file on every node (a shared
filesystem). Result rows come back in the order they finish.

Each actor is given one CPU and loads BirdNET with one interpreter per CPU it was given (not per
CPU of the node), so N actors on N cores do not oversubscribe them. A recording that fails is a
row with its ``error``; the batch goes on. An actor that dies (killed, out of memory, its node
lost) is restarted by Ray and its unfinished recordings are retried.

``score_many`` is the same for BirdNET window scores (:func:`geoforensics.evidence.cached_scores`).
:func:`ray_session` starts a local Ray on 127.0.0.1 and stops it afterwards, or joins a running
cluster (``host:port`` or ``ray://host:10001``) and leaves it running. Ray is imported only here.

A local Ray gets at most one worker per CPU and per :data:`WORKER_BYTES` of available memory, a
temporary folder of its own, and a reaper (:mod:`.reaper`) that stops its processes and removes
that folder when the batch ends, even by SIGKILL. While Ray runs, SIGTERM is handled like Ctrl-C
(Ray's own handler prints a native stack dump and aborts). A cluster address is checked before
Ray is asked to join it: nothing answering there fails in seconds, and a loopback address is
dialled as it is (Ray would swap it for this machine's network address).
"""

from __future__ import annotations

import logging
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager, nullcontext
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..defaults import AUDIO_MODEL, MAX_DURATION_S, TOP_K
from ..errors import GeoforensicsError, InputError
from ..evidence import cached_scores, gather_evidence
from ..forensics.checker import ClaimChecker
from ..forensics.claims import Claim, point_label
from ..forensics.results import ClaimCheck, SpeciesAtClaim
from ..geolocators.base import Geolocator
from ..geolocators.registry import GEOLOCATORS, get_geolocator
from ..models.birdnet import get_audio_model, get_meta_model
from ..prediction import GeoPrediction
from . import reaper
from .inputs import BatchInput
from .sinks import COLUMNS, FLOAT_COLUMNS

log = logging.getLogger(__name__)

LOCAL_OBJECT_STORE_BYTES = 1 << 30
"""Object store of a local Ray: results are small, so 1 GiB of shared memory is plenty."""

ROWS_PER_TASK = 4
"""Recordings per Ray task (the unit an actor is given, and redoes if it dies), so that work spreads
evenly and a lost actor costs little; rows still come back one by one."""

MAX_TASKS = 20_000
"""At most this many tasks (input blocks, made on the driver): beyond 80,000 recordings tasks grow."""

WORKER_BYTES = 1 << 30
"""Memory a worker needs: its peak is ~0.7-1.0 GB (BirdNET, the range model, one decoded clip)."""

RAY_BYTES = 1 << 30
"""Memory a local Ray needs besides its workers: its object store is reserved in :data:`LOCAL_OBJECT_STORE_BYTES`;
this is the driver, the GCS, the raylet and two agents (~0.6 GB), with room to spare."""

PROBE_TIMEOUT_S = 5.0
"""Seconds a cluster address has to accept a connection and answer as a gRPC server does."""


@dataclass(frozen=True)
class LocateSpec:
    """What every recording of a batch is asked: the geolocator (registry name and options) and the
    ``predict`` options, as ``geoforensics locate`` takes them."""

    model: str = AUDIO_MODEL
    options: tuple[tuple[str, Any], ...] = ()
    top_k: int = TOP_K
    max_duration_s: float | None = MAX_DURATION_S
    cache: bool = False
    """Keep each recording's BirdNET scores in the scores cache (for labels written after the run)."""

    @classmethod
    def of(cls, model: str = AUDIO_MODEL, *, top_k: int = TOP_K, max_duration_s: float | None = MAX_DURATION_S,
           cache: bool = False, **options: Any) -> LocateSpec:
        """A spec from ``locate``-style keywords (``options`` go to the geolocator)."""
        return cls(model, tuple(sorted(options.items())), top_k, max_duration_s, cache)

    def geolocator(self) -> Geolocator:
        """The process-wide geolocator for this spec."""
        return get_geolocator(self.model, **dict(self.options))


def require_ray() -> Any:
    """The ``ray`` module, or a GeoforensicsError saying how to install it."""
    try:
        import ray
        import ray.data  # noqa: F401
    except ImportError:
        raise GeoforensicsError(
            "this needs Ray Data, which is not installed: pip install 'geoforensics[scale]' (or 'ray[data]')"
        ) from None
    return ray


def check_model(name: str) -> None:
    """InputError for a geolocator name the registry does not know (``agclip:PATH.pt`` is known), before any
    actor starts."""
    GEOLOCATORS.parse(name)


# ---------------------------------------------------------------- in the actors


@contextmanager
def cpu_budget(n: int | None) -> Iterator[None]:
    """While models load, ``os.cpu_count()`` answers ``n``: BirdNET sizes its interpreter pool (one
    single-threaded interpreter per CPU) and the range model its threads from it, and an actor owns
    ``n`` CPUs, not the node's. None: unchanged."""
    if not n:
        yield
        return
    real = os.cpu_count
    os.cpu_count = lambda: n
    try:
        yield
    finally:
        os.cpu_count = real


def range_flag(e: SpeciesAtClaim) -> str:
    """A species heard that is unlikely at the claimed place, as a batch row writes it."""
    near = f"nearest {e.nearest_km:,.0f} km" if e.nearest_km is not None else "lives nowhere on the map"
    return f"{e.scientific_name} (score {e.score:.2f}, occurrence {e.occurrence:.2f}, {near})"


def result_row(
    item: dict[str, Any], pred: Any = None, error: str | None = None, elapsed_s: float = 0.0,
    check: ClaimCheck | None = None,
) -> dict[str, Any]:
    """The result row of one recording: from its prediction and the check of its claimed place, or its error."""
    row: dict[str, Any] = {
        "audio_id": item["audio_id"],
        "path": item["path"],
        "date": item.get("date") or None,
        "date_source": item.get("date_source") or None,
        "claim_latitude": item.get("claim_latitude") or None,
        "claim_longitude": item.get("claim_longitude") or None,
        "elapsed_s": elapsed_s,
        "error": error,
    }
    if check is not None:
        row.update(verdict=check.verdict, mismatch_score=check.mismatch_score,
                   range_flags="; ".join(range_flag(e) for e in check.range_flags))
    if pred is not None:
        r50, r90 = pred.region(0.5), pred.region(0.9)
        top = pred.evidence[0] if pred.evidence else None
        row.update(
            latitude=pred.lat,
            longitude=pred.lon,
            confidence=pred.confidence,
            radius50_km=r50.radius_km if r50 else None,
            radius90_km=r90.radius_km if r90 else None,
            top_species=top.scientific_name if top else None,
            top_species_common=top.common_name if top else None,
            top_species_score=top.score if top else None,
            place=pred.top_k[0].place if pred.top_k else None,
        )
    return row


def error_text(e: BaseException) -> str:
    """One line for a failed recording: the message of a user-facing error, else the type and message."""
    text = str(e) if isinstance(e, GeoforensicsError) else f"{type(e).__name__}: {e}"
    return " ".join(text.split()) or type(e).__name__


def _claim_of(item: dict[str, Any]) -> Claim | None:
    lat, lon = item.get("claim_latitude"), item.get("claim_longitude")
    if lat in (None, "") or lon in (None, ""):
        return None
    return Claim(float(lat), float(lon), "csv", point_label(float(lat), float(lon)))


def locate_and_check(geo: Any, item: dict[str, Any], spec: LocateSpec) -> tuple[GeoPrediction, ClaimCheck | None]:
    """One recording through ``geo`` as ``locate`` does it, and its claimed place (if any) checked as ``check``
    does it (the sound heard once for both; mains hum and the soundtrack's content count)."""
    date = item.get("date") or None
    claim = _claim_of(item)
    if claim is None and not spec.cache:
        return geo.predict(item["path"], k=spec.top_k, date=date, max_duration_s=spec.max_duration_s), None
    evidence = gather_evidence(item["path"], max_duration_s=spec.max_duration_s, hum=claim is not None,
                               content=claim is not None, cache=spec.cache, keep_audio=spec.model != AUDIO_MODEL)
    pred = geo.predict(evidence, k=spec.top_k, date=date, max_duration_s=spec.max_duration_s)
    if claim is None:
        return pred, None
    return pred, ClaimChecker.from_evidence(evidence, date=date).check(claim)


def locate_item(geo: Any, item: dict[str, Any], spec: LocateSpec) -> dict[str, Any]:
    """One recording through :func:`locate_and_check`; an error becomes the row's ``error``."""
    t0 = time.perf_counter()
    try:
        pred, check = locate_and_check(geo, item, spec)
    except Exception as e:  # noqa: BLE001 - a batch records every failure and goes on
        return result_row(item, error=error_text(e), elapsed_s=time.perf_counter() - t0)
    return result_row(item, pred, elapsed_s=time.perf_counter() - t0, check=check)


def _columns(rows: list[dict[str, Any]], names: Sequence[str]) -> dict[str, np.ndarray]:
    """Rows as numpy columns for Ray: numbers float64 with NaN for missing, the rest objects with ''."""
    out = {}
    for c in names:
        if c in FLOAT_COLUMNS:
            out[c] = np.array([np.nan if r.get(c) is None else float(r[c]) for r in rows], dtype=np.float64)
        else:
            out[c] = np.array(["" if r.get(c) is None else str(r[c]) for r in rows], dtype=object)
    return out


def _items(batch: dict[str, np.ndarray]) -> list[dict[str, Any]]:
    keys = list(batch)
    return [{k: (None if batch[k][i] is None else str(batch[k][i])) for k in keys} for i in range(len(batch[keys[0]]))]


def _warm_birdnet() -> None:
    get_audio_model()
    get_meta_model()


class _Actor:
    """Base of the actors: ``load`` runs once per actor with the actor's CPU budget. Should it fail
    (a missing gallery or weights file, on one node or all), the actor stays up and answers every
    batch with that error in the ``fatal`` column, which stops the run on the driver with the
    message; a failed constructor would instead surface as Ray's actor-death traceback."""

    columns: Sequence[str] = ()

    def __init__(self, threads: int | None, **options: Any) -> None:
        self.fatal = ""
        try:
            with cpu_budget(threads):
                self.load(**options)
        except Exception as e:  # noqa: BLE001 - reported to the driver, see the class docstring
            import socket

            self.fatal = f"{error_text(e)} (on {socket.gethostname()})"

    load: Callable[..., None]
    """Load the models: each actor declares its own options."""

    def rows(self, items: list[dict[str, Any]]) -> dict[str, np.ndarray]:
        raise NotImplementedError

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        items = _items(batch)
        if self.fatal:
            return {"fatal": np.array([self.fatal] * len(items), dtype=object)}
        out = self.rows(items)
        out["fatal"] = np.array([""] * len(items), dtype=object)
        return out


class _Locator(_Actor):
    """The actor of :func:`locate_many`: the geolocator (and BirdNET) loaded once, then rows."""

    def load(self, spec: LocateSpec) -> None:
        self.spec = spec
        self.geo = spec.geolocator()
        if getattr(self.geo, "modality", "") == "audio":
            _warm_birdnet()

    def rows(self, items: list[dict[str, Any]]) -> dict[str, np.ndarray]:
        return _columns([locate_item(self.geo, item, self.spec) for item in items], COLUMNS)


SCORE_COLUMNS = ("path", "error", "duration_s")


class _Scorer(_Actor):
    """The actor of :func:`score_many`: BirdNET loaded once, then cached window scores per path."""

    def load(self, max_duration_s: float | None) -> None:
        self.max_duration_s = max_duration_s
        _warm_birdnet()

    def rows(self, items: list[dict[str, Any]]) -> dict[str, np.ndarray]:
        rows, arrays = [], []
        for item in items:
            try:
                ws = cached_scores(item["path"], max_duration_s=self.max_duration_s)
            except Exception as e:  # noqa: BLE001 - recorded per file; the caller decides
                rows.append({"path": item["path"], "error": error_text(e), "duration_s": None})
                arrays.append((np.zeros(0), np.zeros(0), np.zeros((0, 0), np.float32)))
                continue
            rows.append({"path": item["path"], "error": None, "duration_s": ws.duration_s})
            arrays.append((ws.starts_s, ws.ends_s, ws.scores))
        out = _columns(rows, SCORE_COLUMNS)
        out["duration_s"] = np.array([np.nan if r["duration_s"] is None else r["duration_s"] for r in rows])
        for i, name in enumerate(("starts_s", "ends_s", "scores")):
            col = np.empty(len(arrays), dtype=object)
            col[:] = [a[i] for a in arrays]
            out[name] = col
        return out


# ---------------------------------------------------------------- on the driver


@contextmanager
def ray_session(address: str | None = None, workers: int | None = None) -> Iterator[int]:
    """A Ray to run on; yields the number of actors to use.

    Without ``address``: a new local Ray on 127.0.0.1 with ``workers`` CPUs (default, and at most: what
    this machine's CPUs and available memory fit, see :func:`local_workers`), in a temporary folder of its
    own, shut down afterwards, leaving no process and no file behind (see :mod:`.reaper`). With ``address``
    (``host:port`` of a head node, ``ray://host:10001`` for Ray Client, or ``auto``): join that cluster
    (InputError within seconds when nothing answers there), and only disconnect afterwards; ``workers``
    defaults to its CPUs. A Ray already initialised in this process is used as it is. SIGTERM is handled
    like Ctrl-C while Ray runs.
    """
    ray = require_ray()
    if workers is not None and workers < 1:
        raise InputError(f"--workers must be at least 1, got {workers}")
    _quiet_ray_data()
    if ray.is_initialized():
        yield workers or max(1, int(ray.cluster_resources().get("CPU", 1)))
        return
    common = dict(include_dashboard=False, log_to_driver=False, logging_level=logging.WARNING)
    with ExitStack() as stack:
        claim_sigterm = stack.enter_context(_sigterm_like_ctrl_c())
        if address is None:
            n = local_workers(workers)
            folder = stack.enter_context(_reaped_ray_folder())
            with _quiet_init(), _loopback_only():
                ray.init(address="local", num_cpus=n, _node_ip_address="127.0.0.1", _temp_dir=str(folder),
                         object_store_memory=LOCAL_OBJECT_STORE_BYTES, **common)
            os.environ.pop(reaper.RUN_VAR, None)  # Ray's processes have it; nothing else this process starts
        else:
            target, loopback = cluster_address(address)
            with _quiet_init(), _loopback_only() if loopback else nullcontext():
                try:
                    ray.init(address=target, **common)
                except (ConnectionError, RuntimeError, ValueError) as e:
                    hint = ""
                    if os.environ.get("RAY_AUTH_MODE") is None:
                        hint = ("; if the cluster uses token authentication (Ray's default), set RAY_AUTH_MODE=token "
                                "and give its token in ~/.ray/auth_token or RAY_AUTH_TOKEN")
                    raise InputError(f"cannot join the Ray cluster at {address}: {e}{hint}") from None
            n = cluster_workers(workers, ray.cluster_resources())
        claim_sigterm()
        try:
            yield n
        finally:
            _wait_for_ray_data()
            ray.shutdown()


def usable_cpus() -> int:
    """CPUs this process may run on (its affinity mask, which ``taskset`` and containers narrow)."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def available_memory() -> int | None:
    """Bytes of memory available to new processes: the kernel's MemAvailable, less where a cgroup limit
    (a container) leaves less; None where neither can be read."""
    found: list[int] = []
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                found.append(int(line.split()[1]) * 1024)
    except (OSError, ValueError, IndexError):
        pass
    try:
        limit = Path("/sys/fs/cgroup/memory.max").read_text().strip()
        if limit != "max":
            found.append(int(limit) - int(Path("/sys/fs/cgroup/memory.current").read_text()))
    except (OSError, ValueError):
        pass
    return max(0, min(found)) if found else None


def local_workers(requested: int | None) -> int:
    """Workers for a local Ray: ``requested`` (default: one per CPU), at most one per usable CPU and per
    :data:`WORKER_BYTES` of the memory available beside Ray itself, at least 1. Asking for more is
    answered with a warning saying what fits, and that many are used (16 workers on a 2-CPU machine
    took 7.2 GB and 83 s for 20 clips, where 2 took 2.9 GB and 25 s: benchmarks/batch_reliability.py)."""
    cpus = usable_cpus()
    free = available_memory()
    fit = cpus if free is None else max(1, (free - RAY_BYTES - LOCAL_OBJECT_STORE_BYTES) // WORKER_BYTES)
    n = max(1, min(requested or cpus, cpus, fit))
    if requested and requested > n:
        memory = "" if free is None else f" and {free / 1e9:.1f} GB of memory available"
        log.warning("--workers %d: this machine has %d CPU%s%s, which fit %d worker%s (one CPU and about %.0f GB "
                    "each); using %d", requested, cpus, "s" * (cpus != 1), memory, n, "s" * (n != 1),
                    WORKER_BYTES / 1e9, n)
    return n


def cluster_workers(requested: int | None, resources: dict[str, float]) -> int:
    """Workers on a joined cluster: ``requested`` (default: one per CPU of the cluster now), with a warning
    when more are asked for than its CPUs or memory hold now (an autoscaling cluster may still grow)."""
    cpus = int(resources.get("CPU", 1))
    n = requested or max(1, cpus)
    fit = int(resources.get("memory", 0) // WORKER_BYTES) if resources.get("memory") else n
    if n > min(cpus, fit):
        log.warning("%d workers asked for, the cluster has %d CPUs and memory for about %d workers now: the others "
                    "start as nodes join", n, cpus, fit)
    return n


def cluster_address(address: str) -> tuple[str, bool]:
    """The address to give ``ray.init`` for ``--address``, and whether it is this machine's loopback.
    InputError, within :data:`PROBE_TIMEOUT_S` seconds or so, when no Ray answers there."""
    from ray._private.services import canonicalize_bootstrap_address, is_localhost, parse_address

    target = address
    scheme, _, rest = address.rpartition("://")
    if address == "auto":
        try:
            with _loopback_only():
                rest = canonicalize_bootstrap_address(address) or ""
        except (ConnectionError, ValueError) as e:
            raise InputError(f"--address auto: {e}") from None
        target = rest
    parsed = parse_address(rest)
    port = int(parsed[1]) if parsed is not None and parsed[1].isdigit() else 0
    if parsed is None or not 0 < port < 65536:
        raise InputError(f"--address {address}: give host:port of the cluster's head, ray://host:10001 or auto")
    host = parsed[0].strip("[]")
    problem = _probe_grpc(host, port, PROBE_TIMEOUT_S)
    if problem:
        raise InputError(
            f"no Ray cluster answers at {address} ({problem}); start one there (`ray start --head`), check the "
            "address, or leave out --address to run on a local Ray"
        )
    return target, is_localhost(host)


#: The first bytes a gRPC (HTTP/2) client sends: the connection preface, then an empty SETTINGS frame.
_HTTP2_HELLO = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + bytes([0, 0, 0, 4, 0, 0, 0, 0, 0])


def _probe_grpc(host: str, port: int, timeout_s: float) -> str | None:
    """Why ``host:port`` is no gRPC server (Ray's GCS and Ray Client are), or None when it answers as one:
    it accepts a connection and replies to HTTP/2's preface with a SETTINGS frame. With TLS
    (``RAY_USE_TLS``) only the connection is checked. Ray itself would retry such an address for minutes."""
    try:
        with socket.create_connection((host, port), timeout=timeout_s) as s:
            if os.environ.get("RAY_USE_TLS", "0").lower() in ("1", "true"):
                return None
            s.sendall(_HTTP2_HELLO)
            reply = s.recv(9)
    except TimeoutError:
        return f"no answer within {timeout_s:g} s"
    except OSError as e:
        return e.strerror or type(e).__name__
    if len(reply) < 9 or reply[3] != 4:
        return "something answers there, but not a Ray cluster"
    return None


@contextmanager
def _sigterm_like_ctrl_c() -> Iterator[Callable[[], None]]:
    """While Ray runs, SIGTERM goes to Python, as Ctrl-C does: to the handler there was before (the command's
    own), else one that raises KeyboardInterrupt, so that the run stops cleanly (Ray stopped, OUT closed).
    ``ray.init`` installs Ray's native handler (a stack dump, then an abort): call the function this yields
    after it. The handler there was before is back at the end. Only in the main thread."""
    if threading.current_thread() is not threading.main_thread():
        yield lambda: None
        return
    before = signal.getsignal(signal.SIGTERM)
    handler = before if callable(before) or before == signal.SIG_IGN else _interrupt

    def claim() -> None:
        signal.signal(signal.SIGTERM, handler)

    claim()
    try:
        yield claim
    finally:
        signal.signal(signal.SIGTERM, before if before is not None else signal.SIG_DFL)


def _interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def _ray_folder_parent() -> str:
    """Where a local Ray's folder goes: ``RAY_TMPDIR`` or the temporary folder, or /tmp when that path is
    too long: a socket path under it (``gfray-XXXXXXXX/session_<date>_<time>_<pid>/sockets/plasma_store``,
    79 bytes) must fit the 107 bytes of a Unix socket name."""
    parent = os.environ.get("RAY_TMPDIR") or tempfile.gettempdir()
    return parent if len(os.fsencode(parent)) <= 107 - 79 or not os.access("/tmp", os.W_OK) else "/tmp"


@contextmanager
def _reaped_ray_folder() -> Iterator[Path]:
    """A new folder for a local Ray, and the reaper (:mod:`.reaper`) that stops what that Ray leaves and
    removes the folder when this block ends or this process dies. The reaper's token is in this process's
    environment until the caller, once Ray has started (and its processes have inherited it), removes it."""
    folder = Path(tempfile.mkdtemp(prefix="gfray-", dir=_ray_folder_parent()))
    token = secrets.token_hex(8)
    try:
        proc = subprocess.Popen(
            [sys.executable, "-I", reaper.__file__, token, str(folder), str(os.getpid())],
            stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
        )
    except OSError:
        folder.rmdir()
        raise
    os.environ[reaper.RUN_VAR] = token  # every process of the Ray started now inherits it
    try:
        yield folder
    finally:
        os.environ.pop(reaper.RUN_VAR, None)
        if proc.stdin is not None:
            proc.stdin.close()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            log.warning("Ray's processes were still stopping after 30 s; its folder %s goes when they have", folder)


#: Ray Data's driver threads that call into Ray and stop by themselves once a run ends or is closed: the
#: streaming executor's scheduling loop, its metadata prefetcher, and the workers that fetch result blocks.
RAY_DATA_THREADS = ("StreamingExecutor-", "ray-data-metadata-prefetch", "iter_threaded")


def _wait_for_ray_data(timeout_s: float = 60.0) -> None:
    """Let Ray Data's driver threads finish before Ray is shut down. When a run is cut short (a worker
    that cannot load the models, Ctrl-C, an error writing OUT), closing the row iterator only asks the
    block-fetching threads to stop; one still inside a Ray call after ``ray.shutdown()`` ends the whole
    process with status 1 before our message is printed (Ray's "core worker has already been shutdown";
    seen in about 1 of 10 such runs on a busy 2-core machine)."""
    import threading

    deadline = time.monotonic() + timeout_s
    for t in threading.enumerate():
        if t.name.startswith(RAY_DATA_THREADS) and t is not threading.current_thread():
            t.join(max(0.0, deadline - time.monotonic()))


class _DropMessages(logging.Filter):
    def __init__(self, *starts: str) -> None:
        super().__init__()
        self.starts = starts

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith(self.starts)


@contextmanager
def _quiet_init() -> Iterator[None]:
    """Keep Ray's start-up notes off the command's output: the note that token authentication is on
    (it is, with the token in ``~/.ray/auth_token``) and the driver's native log lines (warnings of
    Ray Data's own actor set-up; ``RAY_BACKEND_LOG_LEVEL`` set by the user wins). Errors still raise."""
    drop = _DropMessages("Token authentication is enabled for this Ray cluster")
    logger = logging.getLogger("ray._private.authentication.authentication_token_setup")
    logger.addFilter(drop)
    had = "RAY_BACKEND_LOG_LEVEL" in os.environ
    os.environ.setdefault("RAY_BACKEND_LOG_LEVEL", "fatal")
    try:
        yield
    finally:
        logger.removeFilter(drop)
        if not had:
            os.environ.pop("RAY_BACKEND_LOG_LEVEL", None)


@contextmanager
def _loopback_only() -> Iterator[None]:
    """While a local Ray starts, keep it on 127.0.0.1: Ray swaps a loopback address for the machine's
    network address (so that other nodes could join) unless it runs in its single-machine mode
    (``RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0``), which a local batch is."""
    from ray._private import ray_constants

    name = ray_constants.ENABLE_RAY_CLUSTERS_ENV_VAR
    env, flag = os.environ.get(name), ray_constants.ENABLE_RAY_CLUSTER
    os.environ[name] = "0"
    ray_constants.ENABLE_RAY_CLUSTER = False
    try:
        yield
    finally:
        ray_constants.ENABLE_RAY_CLUSTER = flag
        if env is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = env


def _quiet_ray_data() -> None:
    """Our own progress bar replaces Ray Data's bars, their start-up lines and the note that they are off."""
    from ray.data import DataContext
    from ray.util.debug import log_once

    ctx = DataContext.get_current()
    ctx.enable_progress_bars = False
    ctx.print_on_execution_start = False
    log_once("ray_data_progress_manager_disabled")
    logging.getLogger("ray.data").setLevel(logging.WARNING)


def _map(
    items: Sequence[dict[str, Any]], actor: Callable[..., Any], kwargs: dict[str, Any], workers: int
) -> Iterator[dict[str, Any]]:
    """``items`` through a pool of ``workers`` one-CPU actors, rows yielded as they finish."""
    ray = require_ray()
    from ray.data import ActorPoolStrategy

    if not items:
        return
    n = len(items)
    blocks = min(n, max(4 * workers, -(-n // ROWS_PER_TASK)), MAX_TASKS)
    ctx = ray.data.DataContext.get_current()
    shaped = ctx.target_max_block_size
    ctx.target_max_block_size = 1  # every result row is a block of its own: it reaches the driver when done
    try:
        ds = ray.data.from_items(list(items), override_num_blocks=blocks)
        ds = ds.map_batches(
            actor,
            batch_size=1,
            batch_format="numpy",
            compute=ActorPoolStrategy(size=workers),
            num_cpus=1,
            fn_constructor_kwargs={**kwargs, "threads": 1},
        )
    finally:
        ctx.target_max_block_size = shaped
    rows = iter(ds.iter_rows())
    try:
        for row in rows:
            if row.get("fatal"):
                raise GeoforensicsError(f"a Ray worker could not load the models: {row['fatal']}")
            yield row
    finally:
        close = getattr(rows, "close", None)
        if close is not None:  # stop Ray Data's execution before Ray itself is stopped
            close()


def locate_many(
    items: Sequence[BatchInput], spec: LocateSpec, *, workers: int
) -> Iterator[dict[str, Any]]:
    """Result rows (see :data:`geoforensics.batch.sinks.COLUMNS`) of ``items``, in the order they
    finish, from ``workers`` actors of the current Ray (open one with :func:`ray_session`)."""
    rows = [{k: ("" if v is None else str(v)) for k, v in asdict(i).items()} for i in items]
    for row in _map(rows, _Locator, {"spec": spec}, workers):
        yield {c: row.get(c) for c in COLUMNS}


def score_many(
    paths: Sequence[str], *, max_duration_s: float | None = MAX_DURATION_S, workers: int
) -> Iterator[dict[str, Any]]:
    """BirdNET window scores of ``paths`` (through each worker's scores cache), in the order they
    finish: rows with ``path``, ``error`` ('' when none), ``starts_s``, ``ends_s``, ``scores`` and
    ``duration_s``."""
    yield from _map([{"path": os.path.abspath(p)} for p in paths], _Scorer, {"max_duration_s": max_duration_s}, workers)
