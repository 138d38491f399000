"""Detections for sound-annotation tools: Raven Pro selection tables and Audacity label tracks.

:func:`detections` lists one :class:`Detection` per window and species whose BirdNET score reaches a
threshold, with what a reviewer needs to check places: the window's own guess (from
``GeoPrediction.windows``), its distance from the clip's guess, and, when a place is claimed, the
species' occurrence there and whether it lives there.

* :func:`raven_table`: a Raven Pro 1.6 selection table, tab-separated, with its standard columns
  (:data:`RAVEN_COLUMNS`), then ``Begin Path``, ``File Offset (s)`` and ``Begin File`` when it covers
  more than one file (:data:`FILE_COLUMNS`; the times are then counted from the start of the first
  file, the files played one after another, as Raven does for a file sequence), then ours
  (:data:`EXTRA_COLUMNS`, :data:`CLAIM_COLUMNS`). One row per selection on ``Spectrogram 1``, channel 1,
  over the band BirdNET listens to (:data:`LOW_FREQ_HZ` to :data:`HIGH_FREQ_HZ`), as BirdNET-Analyzer writes.
* :func:`audacity_labels`: an Audacity (3.x) label track: ``start<TAB>end<TAB>label`` per line, each
  followed by Audacity's spectral-selection line ``\\<TAB>low<TAB>high``; the label names the species,
  its confidence and the places.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import numpy as np

from .atomic import write_text
from .errors import InputError
from .geo.geodesy import haversine_km
from .prediction import GeoPrediction, WindowPrediction
from .text import safe

if TYPE_CHECKING:
    from .models.birdnet import Labels
    from .scoring import WindowScores

RAVEN_COLUMNS = ("Selection", "View", "Channel", "Begin Time (s)", "End Time (s)", "Low Freq (Hz)", "High Freq (Hz)")
"""Raven Pro 1.6's standard selection-table columns."""
FILE_COLUMNS = ("Begin Path", "File Offset (s)", "Begin File")
"""Raven's columns that place a selection in one file of many."""
EXTRA_COLUMNS = ("Species", "Common Name", "Confidence", "Window Lat", "Window Lon", "Km From Clip Guess")
"""Ours: the species (scientific and common name), BirdNET's score, the window's own guess and its distance
from the clip's guess (blank where the window points nowhere)."""
CLAIM_COLUMNS = ("Occurrence At Claim", "Lives At Claim")
"""Ours, when a place is claimed: the range model's occurrence of the species there, and "yes"/"no"."""
VIEW = "Spectrogram 1"
LOW_FREQ_HZ = 0.0
HIGH_FREQ_HZ = 15000.0
"""The band BirdNET V2.4's spectrogram covers, the box every selection spans."""
FORMATS = ("raven", "audacity")
LABEL_THRESHOLD = 0.25
"""Default confidence from which a window's species becomes a label (BirdNET-Analyzer's own default)."""


@dataclass(frozen=True)
class Detection:
    """One window where one species scored at least the threshold, with the places a reviewer checks."""

    begin_s: float
    end_s: float
    scientific_name: str
    common_name: str
    confidence: float
    window_lat: float | None = None
    window_lon: float | None = None
    km_from_clip_guess: float | None = None
    occurrence_at_claim: float | None = None
    lives_at_claim: bool | None = None


@dataclass
class RecordingDetections:
    """The detections of one file, its path and length (seconds; places its rows in a many-file table)."""

    path: str
    detections: list[Detection] = field(default_factory=list)
    duration_s: float = 0.0


class SpeciesPlace(Protocol):
    """A species heard, at a claimed place (:class:`geoforensics.forensics.results.SpeciesAtClaim`)."""

    scientific_name: str
    occurrence: float

    @property
    def lives_here(self) -> bool: ...


def claim_occurrences(evidence: Sequence[SpeciesPlace]) -> dict[str, tuple[float, bool]]:
    """Each species heard -> (its occurrence at the claimed place, whether it lives there): the ``at_claim``
    of :func:`detections`, from a claim check's evidence."""
    return {e.scientific_name: (e.occurrence, e.lives_here) for e in evidence}


def _window_guesses(scores: WindowScores, prediction: GeoPrediction | None) -> list[WindowPrediction | None]:
    """The prediction's own guess for each scored window, matched by start time; None where it has none."""
    if prediction is None:
        return [None] * len(scores.starts_s)
    by_start = {round(w.start_s, 3): w for w in prediction.windows}
    return [by_start.get(round(float(s), 3)) for s in scores.starts_s]


def detections(
    scores: WindowScores,
    labels: Labels,
    *,
    threshold: float,
    prediction: GeoPrediction | None = None,
    at_claim: Mapping[str, tuple[float, bool]] | None = None,
    species_only: bool = True,
) -> list[Detection]:
    """Every (window, species) whose score is at least ``threshold``, in time order (the most confident
    first within a window). ``prediction``: the clip's result, whose ``windows`` give each window's own
    guess and whose point the distances are from. ``at_claim``: scientific name -> (occurrence, lives
    there) at a claimed place. ``species_only``: leave out BirdNET's human, noise and engine classes."""
    if not 0.0 < threshold <= 1.0:
        raise InputError(f"the detection threshold is a score above 0 and at most 1, not {threshold}")
    s = np.asarray(scores.scores)
    if s.ndim != 2 or s.shape[1] != len(labels.scientific) or s.shape[0] != len(scores.starts_s):
        raise ValueError(
            f"scores of shape {s.shape} for {len(scores.starts_s)} windows and {len(labels.scientific)} labels"
        )
    keep = s >= threshold
    if species_only:
        keep &= labels.is_species[None, :]
    guesses = _window_guesses(scores, prediction)
    out = []
    for w in range(s.shape[0]):
        guess = guesses[w]
        lat = lon = km = None
        if guess is not None and guess.lat is not None and guess.lon is not None:
            lat, lon = float(guess.lat), float(guess.lon)
            if prediction is not None:
                km = round(float(haversine_km(prediction.point, (lat, lon))), 1)
        for j in sorted(np.flatnonzero(keep[w]), key=lambda j: -s[w, j]):
            name = labels.scientific[j]
            occurrence, lives = at_claim[name] if at_claim is not None and name in at_claim else (None, None)
            out.append(Detection(
                begin_s=float(scores.starts_s[w]), end_s=float(scores.ends_s[w]), scientific_name=name,
                common_name=labels.common[j], confidence=float(s[w, j]), window_lat=lat, window_lon=lon,
                km_from_clip_guess=km, occurrence_at_claim=None if occurrence is None else float(occurrence),
                lives_at_claim=None if lives is None else bool(lives),
            ))
    return out


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    return safe(value)


def _seconds(x: float) -> str:
    return f"{x:.6f}"


def raven_table(
    recordings: Sequence[RecordingDetections], *, claim: bool | None = None, file_columns: bool | None = None
) -> str:
    """A Raven Pro 1.6 selection table of ``recordings`` (see the module docstring). ``claim``: add the
    claim columns (default: when any detection has an occurrence at a claim); ``file_columns``: add
    Raven's file columns (default: for more than one recording)."""
    if claim is None:
        claim = any(d.lives_at_claim is not None for r in recordings for d in r.detections)
    if file_columns is None:
        file_columns = len(recordings) > 1
    columns = RAVEN_COLUMNS + (FILE_COLUMNS if file_columns else ()) + EXTRA_COLUMNS + (CLAIM_COLUMNS if claim else ())
    lines = ["\t".join(columns)]
    selection = 0
    start = 0.0
    for rec in recordings:
        for d in rec.detections:
            selection += 1
            row: list[object] = [selection, VIEW, 1, _seconds(start + d.begin_s), _seconds(start + d.end_s),
                                 f"{LOW_FREQ_HZ:.1f}", f"{HIGH_FREQ_HZ:.1f}"]
            if file_columns:
                row += [rec.path, _seconds(d.begin_s), os.path.basename(rec.path)]
            row += [d.scientific_name, d.common_name, f"{d.confidence:.4f}",
                    None if d.window_lat is None else f"{d.window_lat:.4f}",
                    None if d.window_lon is None else f"{d.window_lon:.4f}",
                    None if d.km_from_clip_guess is None else f"{d.km_from_clip_guess:.1f}"]
            if claim:
                row += [None if d.occurrence_at_claim is None else f"{d.occurrence_at_claim:.4f}", d.lives_at_claim]
            lines.append("\t".join(_cell(v) for v in row))
        start += max(rec.duration_s, max((d.end_s for d in rec.detections), default=0.0))
    return "\n".join(lines) + "\n"


def label_text(d: Detection) -> str:
    """An Audacity label: the species, its confidence and the places, on one line."""
    parts = [f"{d.common_name} ({d.scientific_name}) {d.confidence:.2f}"]
    if d.window_lat is not None and d.window_lon is not None:
        where = f"window guess {d.window_lat:.2f}, {d.window_lon:.2f}"
        if d.km_from_clip_guess is not None:
            where += f", {d.km_from_clip_guess:,.0f} km from the clip's guess"
        parts.append(where)
    if d.lives_at_claim is not None:
        occ = "" if d.occurrence_at_claim is None else f" (occurrence {d.occurrence_at_claim:.2f})"
        parts.append(("lives at the claimed place" if d.lives_at_claim else "not at the claimed place") + occ)
    return _cell("; ".join(parts))


def audacity_labels(found: Sequence[Detection], *, frequencies: bool = True) -> str:
    """An Audacity label track (see the module docstring); ``frequencies``: add the spectral-selection lines."""
    lines = []
    for d in found:
        lines.append(f"{_seconds(d.begin_s)}\t{_seconds(d.end_s)}\t{label_text(d)}")
        if frequencies:
            lines.append(f"\\\t{LOW_FREQ_HZ:.6f}\t{HIGH_FREQ_HZ:.6f}")
    return "".join(line + "\n" for line in lines)


def write_labels(
    out: str | os.PathLike[str],
    fmt: str,
    recordings: Sequence[RecordingDetections],
    *,
    file_columns: bool | None = None,
) -> list[Path]:
    """Write ``recordings`` as ``fmt`` ("raven" or "audacity"), atomically; returns the files written.
    Raven: one table at ``out`` (``file_columns``: see :func:`raven_table`). Audacity: a label track is one file's,
    so ``out`` is the track for one recording, and a folder holding ``<file name>.txt`` for each of several."""
    if fmt not in FORMATS:
        raise InputError(f"labels format {fmt!r}: use {' or '.join(FORMATS)}")
    if fmt == "raven":
        return [write_text(out, raven_table(recordings, file_columns=file_columns))]
    if len(recordings) == 1:
        return [write_text(out, audacity_labels(recordings[0].detections))]
    folder = Path(out)
    if folder.exists() and not folder.is_dir():
        raise InputError(
            f"{folder.name}: Audacity labels for {len(recordings)} files go in a folder, one track each; name a folder"
        )
    written: list[Path] = []
    taken: set[str] = set()
    for rec in recordings:
        stem = Path(rec.path).name or "recording"
        name, n = f"{stem}.txt", 1
        while name.lower() in taken:
            n += 1
            name = f"{stem}.{n}.txt"
        taken.add(name.lower())
        written.append(write_text(folder / name, audacity_labels(rec.detections)))
    return written


__all__ = [
    "CLAIM_COLUMNS",
    "EXTRA_COLUMNS",
    "FILE_COLUMNS",
    "FORMATS",
    "HIGH_FREQ_HZ",
    "LOW_FREQ_HZ",
    "RAVEN_COLUMNS",
    "Detection",
    "RecordingDetections",
    "SpeciesPlace",
    "audacity_labels",
    "claim_occurrences",
    "detections",
    "label_text",
    "raven_table",
    "write_labels",
]
