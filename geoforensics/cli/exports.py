"""The files analysts open in their own tools, written by ``locate``, ``check`` and ``analyze``: map layers
(``--geojson``, ``--kml``: :mod:`geoforensics.gis`) and sound annotations (``--labels raven|audacity OUT``:
:mod:`geoforensics.labels`), and the recording date a file name gives."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .. import dates
from ..dates import RecordingDate
from ..errors import InputError
from ..forensics.results import ClaimCheck
from ..labels import FORMATS, LABEL_THRESHOLD, RecordingDetections, claim_occurrences, detections, write_labels
from ..models.birdnet import load_labels
from ..prediction import GeoPrediction
from ..scoring import WindowScores
from ..text import safe
from .options import STDOUT, number, output_file


def add_export_options(p: argparse.ArgumentParser) -> None:
    """``--geojson OUT``, ``--kml OUT``, ``--labels raven|audacity OUT``, ``--label-threshold`` and
    ``--no-filename-date``, declared once for every command that writes them."""
    p.add_argument("--geojson", metavar="OUT.geojson", type=output_file("--geojson", (".geojson", ".json")),
                   help="write the result as GeoJSON map layers "
                        "(guesses, 50 %%/90 %% regions, candidates, claims, distances)")
    p.add_argument("--kml", metavar="OUT.kml", type=output_file("--kml", (".kml",)),
                   help="write the same layers as KML (Google Earth, QGIS)")
    p.add_argument("--labels", nargs=2, metavar=("raven|audacity", "OUT"),
                   help="write one label per window and species heard: a Raven selection table (.txt) or an Audacity "
                   "label track (.txt; a folder with one track per file for several files)")
    p.add_argument("--label-threshold", type=number(float, 0, 1, above=True), default=LABEL_THRESHOLD, metavar="Q",
                   help=f"confidence from which a species in a window becomes a label (default {LABEL_THRESHOLD:g})")
    p.add_argument("--no-filename-date", action="store_true",
                   help="do not take the recording date from a recorder's file name (AudioMoth, Song Meter, ...)")


def check_labels(args: argparse.Namespace) -> tuple[str, str] | None:
    """The ``--labels`` format and destination, checked before any work."""
    if not getattr(args, "labels", None):
        return None
    fmt, out = args.labels
    if fmt not in FORMATS:
        raise InputError(f"--labels takes {' or '.join(FORMATS)}, not {safe(fmt)!r}")
    if out == STDOUT:
        raise InputError("--labels writes a file: give it a name")
    return fmt, out


@dataclass
class Exported:
    """One file's results, as the export writers take them."""

    path: Path
    audio: GeoPrediction | None
    scores: WindowScores | None = None
    image: GeoPrediction | None = None
    claims: list[ClaimCheck] = field(default_factory=list)


def write_exports(args: argparse.Namespace, items: Sequence[Exported]) -> list[Path]:
    """Write what ``--geojson``, ``--kml`` and ``--labels`` ask for, from ``items``; the paths written."""
    written: list[Path] = []
    geojson, kml = getattr(args, "geojson", None), getattr(args, "kml", None)
    if geojson or kml:
        from ..gis import collection, result_collection, write_geojson, write_kml  # shapely: for map layers only

        features: list[dict[str, Any]] = []
        for it in items:
            features += result_collection(it.audio, image=it.image, claims=it.claims, source=it.path.name)["features"]
        layers = collection(features, name=items[0].path.name if len(items) == 1 else "geoforensics")
        if geojson:
            written.append(write_geojson(geojson, layers))
        if kml:
            written.append(write_kml(kml, layers))
    wanted = check_labels(args)
    if wanted is not None:
        fmt, out = wanted
        names = load_labels()
        recordings = []
        for it in items:
            if it.scores is None:
                continue
            claim = claim_occurrences(it.claims[0].evidence) if it.claims else None
            found = detections(it.scores, names, threshold=args.label_threshold, prediction=it.audio, at_claim=claim)
            recordings.append(RecordingDetections(str(it.path), found, it.scores.duration_s))
        written += write_labels(out, fmt, recordings)
    for path in written:
        print(f"wrote {safe(path)}", file=sys.stderr)
    return written


def recording_date(
    given: RecordingDate | None, path: Path, args: argparse.Namespace
) -> tuple[RecordingDate | None, str]:
    """The user's date, else (unless ``--no-filename-date``) the date a recorder wrote into the file name, with
    the note that says so ("recording date 2021-05-14, from the file name"; also for a name that looks like a
    date but is not one; "" otherwise), printed on stderr and meant for the result's notes. Container tags
    are never read for it."""
    date, note = dates.recording_date(given, path, from_filename=not getattr(args, "no_filename_date", False))
    if note:
        print(f"{safe(path.name)}: {safe(note)}", file=sys.stderr)
    return date, note


__all__ = ["LABEL_THRESHOLD", "Exported", "add_export_options", "check_labels", "recording_date",
           "write_exports"]
