"""Downloads made on request: per-request folders in Gradio's cache, capped in age and size."""

from __future__ import annotations

import re
import shutil
import tempfile
import threading
import time
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..atomic import write_text
from ..forensics.results import ClaimCheck
from ..labels import LABEL_THRESHOLD, RecordingDetections, detections, write_labels
from ..models.birdnet import load_labels
from ..prediction import GeoPrediction
from ..scoring import WindowScores
from .lifecycle import remove_at_exit

EXPORT_TTL_S = 3600.0
#: The downloads kept at once (oldest dropped first): about 40 maps of 5 MB.
EXPORT_MAX_BYTES = 200_000_000


def safe_stem(name: str, default: str = "result") -> str:
    """A file-name-safe stem of ``name``."""
    stem = re.sub(r"[^A-Za-z0-9._-]+", "_", Path(name).stem).strip("._")[:60]
    return stem or default


class ExportStore:
    """Per-request folders for downloadable results, inside Gradio's cache so they are served without
    a second copy; they must outlive the request. Before each new folder the store drops folders older
    than ``ttl_s``, then the oldest until the rest fit in ``max_bytes``; the whole store goes at exit."""

    def __init__(
        self, ttl_s: float = EXPORT_TTL_S, max_bytes: int = EXPORT_MAX_BYTES, parent: str | Path | None = None
    ) -> None:
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


EXPORTS = ExportStore()


def export_prediction(
    pred_json: str, fig: Any, stem: str, title: str, notes: Sequence[str] = (), *,
    audio: GeoPrediction | None = None, image: GeoPrediction | None = None, claims: Sequence[ClaimCheck] = (),
    scores: WindowScores | None = None, source: str = "",
) -> list[str]:
    """Write ``{stem}.json``, ``{stem}_map.html`` (standalone, offline, with ``notes`` above the map) and, for
    an audio result, its map layers (``{stem}.geojson``, ``{stem}.kml``) and, with its window ``scores``, a
    Raven selection table (``{stem}.selections.txt``, the claim's "lives there?" column with a claim); their
    paths. Called only when the user asks for the downloads (the map is ~5 MB)."""
    from ..gis import result_collection, write_geojson, write_kml  # shapely, for the downloads only
    from ..viz import write_standalone_html  # lazy: loads plotly

    d = EXPORTS.new_dir()
    json_path = write_text(d / f"{stem}.json", pred_json)
    paths = [json_path, write_standalone_html(fig, d / f"{stem}_map.html", title=title, notes=notes)]
    if audio is not None:
        layers = result_collection(audio, image=image, claims=claims, source=source or stem)
        paths += [write_geojson(d / f"{stem}.geojson", layers), write_kml(d / f"{stem}.kml", layers)]
    if scores is not None:
        at_claim = {e.scientific_name: (e.occurrence, e.lives_here) for e in claims[0].evidence} if claims else None
        found = detections(scores, load_labels(), threshold=LABEL_THRESHOLD, prediction=audio, at_claim=at_claim)
        paths += write_labels(d / f"{stem}.selections.txt", "raven", [RecordingDetections(source or stem, found,
                                                                                           scores.duration_s)])
    return [str(p) for p in paths]
