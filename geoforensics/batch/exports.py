"""A batch's results in analysts' tools, written from OUT after the run (so a resumed batch's files cover
every recording in OUT): GeoJSON / KML (:func:`geoforensics.gis.batch_collection`: one point per recording,
its claimed place with the verdict and range flags, the line between them) and one Raven selection table
(with its file columns, whatever the number of files) or a folder of Audacity label tracks
(:mod:`geoforensics.labels`), each window's own guess from the species-range model and, with a claimed place,
each species' occurrence there."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from ..evidence import cached_scores
from ..forensics.checker import ClaimChecker
from ..forensics.claims import Claim, point_label
from ..gis import batch_collection, write_gis
from ..labels import RecordingDetections, claim_occurrences, detections, write_labels
from ..models.birdnet import load_labels
from .engine import LocateSpec
from .sinks import read_results


def recording_labels(row: Mapping[str, Any], spec: LocateSpec, threshold: float) -> RecordingDetections:
    """The detections of one located row: its BirdNET scores (from the scores cache the batch filled), each
    window's guess, and the species' occurrences at its claimed place."""
    scores = cached_scores(row["path"], max_duration_s=spec.max_duration_s)
    checker = ClaimChecker(scores, source=Path(row["path"]).name, date=row.get("date"))
    at_claim = None
    if row.get("claim_latitude") is not None and row.get("claim_longitude") is not None:
        lat, lon = float(row["claim_latitude"]), float(row["claim_longitude"])
        at_claim = claim_occurrences(checker.check(Claim(lat, lon, "csv", point_label(lat, lon))).evidence)
    found = detections(scores, load_labels(), threshold=threshold, prediction=checker.prediction, at_claim=at_claim)
    return RecordingDetections(row["path"], found, scores.duration_s)


def write_batch_exports(
    out: str | os.PathLike[str],
    spec: LocateSpec,
    *,
    gis: Sequence[str | os.PathLike[str]] = (),
    labels: tuple[str, str] | None = None,
    threshold: float,
) -> list[Path]:
    """Write the map layers (each of ``gis``: .geojson or .kml) and the ``labels`` (format, destination) of
    the batch result file ``out``; the files written. Failed rows are points without geometry in the map
    layers and have no labels."""
    rows = read_results(out)
    written = [write_gis(path, batch_collection(rows, name=Path(out).stem)) for path in gis]
    if labels is not None:
        fmt, dest = labels
        recordings = [recording_labels(r, spec, threshold) for r in rows if not r.get("error")]
        written += write_labels(dest, fmt, recordings, file_columns=True)
    return written


__all__ = ["recording_labels", "write_batch_exports"]
