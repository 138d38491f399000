"""What every tab shares: limits, user-facing errors, date parsing, result summaries and exports."""

from __future__ import annotations

import atexit
import datetime as _dt
import functools
import logging
import re
import shutil
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
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
    weights) become a one-line ``gr.Error``; anything else, ``ValueError`` included, is a bug: logged
    with its traceback and shown as a generic line naming ``action`` and a reference to the log."""

    def deco(fn: F) -> F:
        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            try:
                return fn(*args, **kwargs)
            except gr.Error:
                raise
            except GeoforensicsError as e:
                raise gr.Error(one_line(str(e)) or f"{action} failed", print_exception=False) from None
            except Exception:
                ref = uuid.uuid4().hex[:8]
                log.exception("%s failed (ref %s)", action, ref)
                raise gr.Error(f"{action} failed because of an internal error (ref {ref}); it has been logged.", print_exception=False) from None

        return wrapper  # type: ignore[return-value]

    return deco


def parse_date(text: str | None) -> str | None:
    """``"YYYY-MM-DD"`` or ``"YYYY-MM"`` (or empty: None); :class:`InputError` otherwise."""
    text = (text or "").strip()
    if not text:
        return None
    try:
        if re.fullmatch(r"\d{4}-\d{2}", text):
            _dt.date.fromisoformat(text + "-01")
        else:
            _dt.date.fromisoformat(text)
    except ValueError:
        raise InputError(f"unreadable date {text!r}: use YYYY-MM-DD (or YYYY-MM), e.g. 2024-05-17") from None
    return text


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
    """Per-request folders for downloadable results, which must outlive the request (Gradio copies
    them into its cache after the handler returns); folders older than ``ttl_s`` are removed on the
    next export, and the whole store at exit."""

    def __init__(self, ttl_s: float = EXPORT_TTL_S) -> None:
        self.ttl_s = ttl_s
        self._root: Path | None = None
        self._lock = threading.Lock()

    def new_dir(self) -> Path:
        with self._lock:
            if self._root is None or not self._root.exists():
                self._root = Path(tempfile.mkdtemp(prefix="geoforensics-exports-"))
                atexit.register(shutil.rmtree, self._root, True)
            now = time.time()
            for d in self._root.iterdir():
                if now - d.stat().st_mtime > self.ttl_s:
                    shutil.rmtree(d, ignore_errors=True)
            out = self._root / uuid.uuid4().hex
            out.mkdir()
            return out


EXPORTS = ExportStore()


def export_prediction(pred_json: str, fig: Any, stem: str, title: str) -> list[str]:
    """Write ``{stem}.json`` and ``{stem}_map.html`` (standalone, offline) and return their paths."""
    from ..viz import write_standalone_html

    d = EXPORTS.new_dir()
    json_path = d / f"{stem}.json"
    json_path.write_text(pred_json, encoding="utf-8")
    html_path = write_standalone_html(fig, d / f"{stem}_map.html", title=title)
    return [str(json_path), str(html_path)]


def example_files(names: list[str]) -> list[str]:
    """Paths of the named files of the shipped examples that exist (none when the folder is absent)."""
    if EXAMPLES_DIR is None:
        return []
    return [str(EXAMPLES_DIR / n) for n in names if (EXAMPLES_DIR / n).is_file()]
