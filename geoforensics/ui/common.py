"""What every tab shares: limits, user-facing errors, date parsing, result summaries and exports."""

from __future__ import annotations

import atexit
import contextlib
import functools
import html
import logging
import os
import re
import shutil
import signal
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import gradio as gr

from .. import GeoPrediction
from ..defaults import MAX_DURATION_S
from ..errors import GeoforensicsError, InputError
from ..media.limits import AUDIO_EXTS, VIDEO_EXTS, MediaLimits, format_mb
from ..paths import shipped_file

log = logging.getLogger("geoforensics.ui")

#: What one request may bring: bytes on disk, minutes of a downloaded clip, frames sampled.
LIMITS = MediaLimits(max_frames=60)
#: Seconds of sound analysed per file (the rest of a longer file is ignored).
MAX_AUDIO_S = MAX_DURATION_S
EXPORT_TTL_S = 3600.0
#: The downloads kept at once (oldest dropped first): about 40 maps of 5 MB.
EXPORT_MAX_BYTES = 200_000_000
CLIP_COMMAND = "geoforensics weights fetch clip-vit-l-14-openai"

MEDIA_FILE_TYPES = sorted(AUDIO_EXTS | VIDEO_EXTS)


def _examples_dir() -> Path | None:
    """The shipped examples folder (package data; the checkout's ``examples/``), found by its
    ATTRIBUTION.md, which always ships with the clips; None when this installation lacks it."""
    try:
        attribution = shipped_file("examples", "ATTRIBUTION.md")
    except GeoforensicsError:
        return None
    return attribution.resolve().parent if attribution.is_file() else None


EXAMPLES_DIR = _examples_dir()

F = TypeVar("F", bound=Callable[..., Any])


HEAVY_ID = "geoforensics-heavy"
"""The one concurrency group of every heavy event (BirdNET, CLIP, ffmpeg): Gradio limits each listener
on its own otherwise, so eight listeners would run eight jobs at once."""
LIGHT: dict[str, Any] = {"queue": False}
"""Event options of the cheap redraws (a stored result drawn again, a claim re-checked): they skip the
queue, so they never wait behind an analysis."""
#: Cache clean-up, Gradio's ``delete_cache``: every 10 min, files older than 30 min go.
DELETE_CACHE = (600, 1800)


def _env_int(name: str, default: int, low: int = 1) -> int:
    text = os.environ.get(name, "").strip()
    if not text:
        return default
    try:
        value = int(text)
    except ValueError:
        raise InputError(f"{name} must be a whole number, not {text!r}") from None
    if value < low:
        raise InputError(f"{name} must be at least {low}, not {value}")
    return value


@dataclass(frozen=True)
class AppLimits:
    """How many heavy jobs run at once (``workers``) and how many may wait (``waiting``); a request
    past that is refused with the queue's length and the wait, not Gradio's bare "Queue is full"."""

    workers: int
    waiting: int

    @classmethod
    def from_env(cls, workers: int | None = None, waiting: int | None = None) -> AppLimits:
        """The given values, else GEOFORENSICS_WORKERS (default: half the CPUs, at least 1) and
        GEOFORENSICS_QUEUE_SIZE (default: 8 per worker, at least 16)."""
        workers = workers or _env_int("GEOFORENSICS_WORKERS", max(1, (os.cpu_count() or 1) // 2))
        waiting = waiting or _env_int("GEOFORENSICS_QUEUE_SIZE", max(16, 8 * workers))
        return cls(workers, waiting)

    def heavy(self) -> dict[str, Any]:
        """Event options of a heavy listener: the shared group, its limit and the full-queue check."""
        return {"concurrency_id": HEAVY_ID, "concurrency_limit": self.workers, "validator": self.refuse_when_full}

    def queue_options(self) -> dict[str, Any]:
        """``Blocks.queue`` keywords: Gradio's own bound stays above ours (for the light queued events)."""
        return {"default_concurrency_limit": 1, "max_size": self.waiting + 32}

    def refuse_when_full(self, *inputs: Any) -> Any:
        """Gradio validator of the heavy events: refuse, saying how long the queue is and about how
        long it takes to clear, when ``waiting`` heavy requests already wait. Requests that arrive
        at the same instant are checked side by side, so a burst can pass the bound by a few;
        Gradio's ``max_size`` (``queue_options``) stays the hard limit."""
        waiting, eta_s = heavy_queue_state()
        verdicts: list[Any] = [None] * len(inputs)  # one per input; None: fine
        if waiting >= self.waiting and verdicts:
            wait = f", about {format_wait(eta_s)} to clear" if eta_s else ""
            verdicts[0] = gr.validate(
                False,
                f"The app is busy: {waiting} request{'s' if waiting != 1 else ''} already waiting for {self.workers} "
                f"worker{'s' if self.workers != 1 else ''}{wait}. Please try again in a few minutes.",
            )
        return verdicts[0] if len(verdicts) == 1 else tuple(verdicts)


APP_LIMITS = AppLimits.from_env()
"""The limits the app runs under unless given others (``build_demo(limits)``, ``geoforensics app --workers``)."""


def heavy_queue_state() -> tuple[int, float | None]:
    """(heavy requests waiting, seconds until they are all done, or None before any finished) of the
    app whose event is running now."""
    from gradio.context import LocalContext

    blocks = LocalContext.blocks.get(None)
    queue = getattr(blocks, "_queue", None)
    group = getattr(queue, "event_queue_per_concurrency_id", {}).get(HEAVY_ID)
    if group is None:
        return 0, None
    waiting = len(group.queue)
    times = [t for fn, t in queue.process_time_per_fn.items() if fn.concurrency_id == HEAVY_ID and t.count]  # type: ignore[union-attr]
    if not times:
        return waiting, None
    mean = sum(t.process_time for t in times) / sum(t.count for t in times)
    return waiting, mean * (waiting + group.current_concurrency) / max(1, group.concurrency_limit or 1)


def format_wait(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds < 90 else f"{seconds / 60:.0f} min"


def limits_text() -> str:
    """The limits, in one sentence for the UI."""
    return (
        f"Files up to {format_mb(LIMITS.max_bytes)} MB; URLs up to {LIMITS.max_duration_s / 60:g} min long. "
        f"The first {MAX_AUDIO_S / 60:g} min of sound and at most {LIMITS.max_frames} frames are analysed."
    )


def one_line(text: str, limit: int = 300) -> str:
    """The first line of ``text``, shortened to ``limit`` characters."""
    line = next((s.strip() for s in str(text).splitlines() if s.strip()), "")
    return line if len(line) <= limit else line[: limit - 1] + "…"


def user_errors(action: str) -> Callable[[F], F]:
    """Decorator for a handler: the user's errors (:class:`GeoforensicsError`: bad input, missing
    weights) become a one-line ``gr.Error`` (HTML-escaped: Gradio renders it as HTML, and it may quote
    what the user typed or a downloaded file's name); anything else, ``ValueError`` included, is a bug:
    logged with its traceback and shown as a generic line naming ``action`` and a reference to the log."""

    def deco(fn: F) -> F:
        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            try:
                return fn(*args, **kwargs)
            except gr.Error:
                raise
            except GeoforensicsError as e:
                raise gr.Error(html.escape(one_line(str(e)), quote=False) or f"{action} failed", print_exception=False) from None
            except Exception:
                ref = uuid.uuid4().hex[:8]
                log.exception("%s failed (ref %s)", action, ref)
                raise gr.Error(f"{action} failed because of an internal error (ref {ref}); it has been logged.", print_exception=False) from None

        return wrapper  # type: ignore[return-value]

    return deco


def md_escape(text: Any) -> str:
    """``text`` with Markdown and HTML special characters escaped (for untrusted strings)."""
    return re.sub(r"([\\`*_{}\[\]()<>#+|!~])", r"\\\1", str(text))


def fmt_latlon(point: tuple[float, float]) -> str:
    lat, lon = point
    return f"{abs(lat):.2f}° {'N' if lat >= 0 else 'S'}, {abs(lon):.2f}° {'E' if lon >= 0 else 'W'}"


def prediction_summary(pred: GeoPrediction, label: str) -> str:
    """Markdown lines: the guess, its place, how sure, and its uncertainty radii."""
    place = f" — near {md_escape(pred.top_k[0].place.removeprefix('near '))}" if pred.top_k and pred.top_k[0].place else ""
    conf = f"{pred.confidence:.2f}" if pred.confidence is not None else "n/a"
    r50, r90 = pred.region(0.5), pred.region(0.9)
    radii = f"; 50 % of the probability within {r50.radius_km:,.0f} km, 90 % within {r90.radius_km:,.0f} km" if r50 and r90 else ""
    lines = [f"**{label}:** {fmt_latlon(pred.point)}{place}", f"confidence **{pred.confidence_label}** ({conf}){radii}"]
    lines += [f"note: {md_escape(n)}" for n in pred.notes]
    return "  \n".join(lines)


EVIDENCE_HEADERS = ["species", "common name", "confidence", "windows heard", "km the guess moves without it"]


def evidence_rows(pred: GeoPrediction | None) -> list[list[Any]]:
    """The species evidence table: one row per species, strongest first."""
    if pred is None:
        return []
    return [
        [
            e.scientific_name,
            e.common_name,
            round(float(e.score), 3),
            len(e.windows),
            round(float(e.shift_km)) if e.shift_km is not None else None,
        ]
        for e in pred.evidence
    ]


def evidence_table(pred: GeoPrediction | None) -> Any:
    """``evidence_rows`` as a DataFrame with the table's headers (empty when there is none)."""
    import pandas as pd

    return pd.DataFrame(evidence_rows(pred), columns=EVIDENCE_HEADERS)


NO_RANGE = "(no range)"


def species_choices(pred: GeoPrediction | None) -> list[tuple[str, str]]:
    """Dropdown choices (label, scientific name) for the evidence species, after a "no range" entry."""
    choices = [(NO_RANGE, "")]
    if pred is not None:
        choices += [(f"{e.common_name} ({e.scientific_name})", e.scientific_name) for e in pred.evidence]
    return choices


TOP_K_HEADERS = ["rank", "place", "lat", "lon", "probability"]


def top_k_rows(pred: GeoPrediction | None) -> Any:
    """The top-k candidate table as a DataFrame."""
    import pandas as pd

    rows = [] if pred is None else [[i, c.place, round(c.lat, 3), round(c.lon, 3), round(c.prob, 4)] for i, c in enumerate(pred.top_k, 1)]
    return pd.DataFrame(rows, columns=TOP_K_HEADERS)


def safe_stem(name: str, default: str = "result") -> str:
    """A file-name-safe stem of ``name``."""
    stem = re.sub(r"[^A-Za-z0-9._-]+", "_", Path(name).stem).strip("._")[:60]
    return stem or default


class ExportStore:
    """Per-request folders for downloadable results, inside Gradio's cache so they are served without
    a second copy; they must outlive the request. Before each new folder the store drops folders older
    than ``ttl_s``, then the oldest until the rest fit in ``max_bytes``; the whole store goes at exit."""

    def __init__(self, ttl_s: float = EXPORT_TTL_S, max_bytes: int = EXPORT_MAX_BYTES, parent: str | Path | None = None) -> None:
        self.ttl_s = ttl_s
        self.max_bytes = max_bytes
        self.parent = parent
        self._root: Path | None = None
        self._lock = threading.Lock()

    @property
    def root(self) -> Path | None:
        """The store's folder (None until the first export)."""
        return self._root

    def _make_root(self) -> Path:
        from gradio.utils import get_upload_folder

        parent = Path(self.parent or get_upload_folder())
        parent.mkdir(parents=True, exist_ok=True)
        root = Path(tempfile.mkdtemp(prefix="geoforensics-exports-", dir=parent))
        remove_at_exit(root)
        return root

    def _evict(self, root: Path) -> None:
        now = time.time()
        dirs = sorted(((d.stat().st_mtime, d) for d in root.iterdir() if d.is_dir()), key=lambda t: t[0])
        sizes = {d: tree_bytes(d) for _, d in dirs}
        total = sum(sizes.values())
        for mtime, d in dirs:  # oldest first
            if now - mtime > self.ttl_s or total > self.max_bytes:
                shutil.rmtree(d, ignore_errors=True)
                total -= sizes[d]

    def new_dir(self) -> Path:
        with self._lock:
            if self._root is None or not self._root.exists():
                self._root = self._make_root()
            self._evict(self._root)
            out = self._root / f"{time.time_ns():020d}-{uuid.uuid4().hex[:8]}"
            out.mkdir()
            return out


def tree_bytes(path: Path) -> int:
    """Bytes in the files under ``path`` (0 when it is gone)."""
    total = 0
    for f in path.rglob("*"):
        try:
            total += f.lstat().st_size if f.is_file() else 0
        except OSError:
            pass
    return total


_AT_EXIT: set[Path] = set()
_AT_EXIT_LOCK = threading.Lock()


def _remove_all() -> None:
    with _AT_EXIT_LOCK:
        for d in list(_AT_EXIT):
            shutil.rmtree(d, ignore_errors=True)
        _AT_EXIT.clear()


atexit.register(_remove_all)


def remove_at_exit(path: Path) -> None:
    """Remove the folder ``path`` at exit (also after SIGTERM, see ``exit_on_sigterm``)."""
    with _AT_EXIT_LOCK:
        _AT_EXIT.add(path)


@contextlib.contextmanager
def request_dir() -> Iterator[Path]:
    """A scratch folder for one request, removed when the request ends, or at exit if it is cut short."""
    with tempfile.TemporaryDirectory(prefix="geoforensics-req-") as tmp:
        remove_at_exit(Path(tmp))
        try:
            yield Path(tmp)
        finally:
            with _AT_EXIT_LOCK:
                _AT_EXIT.discard(Path(tmp))


def empty_cache_at_exit(demo: gr.Blocks) -> None:
    """At exit, delete the files ``demo`` put in Gradio's cache (uploads, outputs; not the examples,
    which Gradio keeps and shares between runs). Gradio does this itself only when its server thread
    shuts down within 5 s, which open browser connections prevent."""
    from gradio.route_utils import delete_files_created_by_app

    atexit.register(delete_files_created_by_app, demo, None)


def upload_file(**kwargs: Any) -> gr.File:
    """A ``gr.File`` (type "filepath") without the empty temporary file that Gradio's preprocessing
    leaves, untracked, in its cache on every call (a subclass would make Gradio write a ``.pyi``
    into the package, so the one instance is given the fixed method)."""
    from gradio.utils import NamedString
    from gradio_client import utils as client_utils

    component = gr.File(**kwargs)

    def process(f: Any) -> Any:
        if component.file_types and not client_utils.is_valid_file(f.path, component.file_types):
            raise gr.Error(f"Invalid file type. Please upload a file that is one of these formats: {component.file_types}")
        return NamedString(f.path)

    if component.type == "filepath":
        component._process_single_file = process  # type: ignore[method-assign]
    return component


def exit_on_sigterm() -> None:
    """Make SIGTERM stop the app the way Ctrl-C does (Gradio closes the server and empties its cache,
    then the exit hooks remove our folders). Only from the main thread, and only where SIGTERM still
    has its default action."""
    if threading.current_thread() is threading.main_thread() and signal.getsignal(signal.SIGTERM) is signal.SIG_DFL:
        signal.signal(signal.SIGTERM, signal.default_int_handler)


EXPORTS = ExportStore()


def export_prediction(pred_json: str, fig: Any, stem: str, title: str, notes: Sequence[str] = ()) -> list[str]:
    """Write ``{stem}.json`` and ``{stem}_map.html`` (standalone, offline, with ``notes`` above the map)
    and return their paths. Called only when the user asks for the downloads (the map is ~5 MB)."""
    from ..viz import write_standalone_html

    d = EXPORTS.new_dir()
    json_path = d / f"{stem}.json"
    json_path.write_text(pred_json, encoding="utf-8")
    html_path = write_standalone_html(fig, d / f"{stem}_map.html", title=title, notes=notes)
    return [str(json_path), str(html_path)]


def example_files(names: list[str]) -> list[str]:
    """Paths of the named files of the shipped examples that exist (none when the folder is absent)."""
    if EXAMPLES_DIR is None:
        return []
    return [str(EXAMPLES_DIR / n) for n in names if (EXAMPLES_DIR / n).is_file()]


def clip_button_label() -> str:
    """The CLIP download button's label, with the size of the download."""
    from ..forensics.analysis import image_weights_size_gb

    return f"Download CLIP ViT-L/14 ({image_weights_size_gb():.1f} GB) for image geolocation"


def clip_download_button(elem_id: str) -> gr.Button:
    """The button that downloads CLIP, shown only while image geolocation is unavailable."""
    from ..forensics.analysis import image_geolocator_status

    return gr.Button(clip_button_label(), variant="secondary", size="sm", elem_id=elem_id, visible=not image_geolocator_status()[0])


CLIP_DOWNLOAD: dict[str, Any] = {"concurrency_id": "geoforensics-clip-download", "concurrency_limit": 1}
"""Event options of the CLIP download buttons: one download at a time, outside the heavy group (a
1 GB download must not hold up the analyses)."""


@user_errors("The CLIP download")
def download_clip(progress: gr.Progress = gr.Progress()) -> tuple[str, Any]:
    """Download and verify CLIP ViT-L/14 (the weight manager's fetch, with its checksum), then say
    whether image geolocation is on; offline, a one-line error and the app stays audio-only."""
    from ..forensics.analysis import fetch_image_weights, image_geolocator_status, image_weights_size_gb

    size = image_weights_size_gb() * 1e9

    def show(done: int, total: int | None) -> None:
        progress(min(done / (total or size), 1.0), desc=f"downloading CLIP ViT-L/14: {done / 1e6:,.0f} of {(total or size) / 1e6:,.0f} MB")

    progress(0.0, desc="connecting")
    try:
        path = fetch_image_weights(show)
    except GeoforensicsError as e:
        raise GeoforensicsError(f"The CLIP download failed, so the app stays audio-only: {one_line(str(e))}") from None
    ok, status = image_geolocator_status()
    if ok:
        text = (f'<span class="gf-tag gf-ok">Image geolocation</span> CLIP ViT-L/14 downloaded and its checksum verified '
                f"({md_escape(path.name)}): press **Analyze** to geolocate the frames.")
    else:
        text = (f'<span class="gf-tag gf-no">Image geolocation</span> CLIP ViT-L/14 downloaded and verified '
                f"({md_escape(path.name)}), but image geolocation is still unavailable: {status}")
    return text, gr.Button(visible=not ok)
