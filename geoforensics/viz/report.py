"""A forensic report drawn: its map (guesses, surfaces, claimed places), its timeline (with any splice)
and the lines that go with them, shared by the app, ``geoforensics analyze --html`` and the report files."""

from __future__ import annotations

from typing import Any

import numpy as np
import plotly.graph_objects as go

from ..forensics.analysis import ForensicReport
from ..forensics.claims import TOLERANCE_KM, ClaimCheck
from .maps import ClaimMarker, prediction_map
from .timeline import TimeSpan, window_timeline

CLAIM_SOURCE_NAMES = {"typed": "your claim", "map": "your map click", "api": "the claim", "csv": "the claim",
                      "file tag": "the file says", "image guess": "the picture says"}


def claim_marker(check: ClaimCheck) -> ClaimMarker:
    """How one claim check is drawn."""
    who = CLAIM_SOURCE_NAMES.get(check.claim.source, check.claim.source)
    return ClaimMarker(check.claim.lat, check.claim.lon, check.claim.label, check.verdict, TOLERANCE_KM, who, check.mismatch_score)


def report_claims(report: ForensicReport) -> list[ClaimCheck]:
    """The claims to draw, the headline's first."""
    first = report.headline_claim
    return ([first] if first else []) + [c for c in report.claims if c is not first]


def report_map(
    report: ForensicReport | None,
    species_range: tuple[str, np.ndarray, np.ndarray] | None = None,
    title: str | None = None,
) -> go.Figure:
    """The forensics map: both guesses, their surfaces, top-k, the discrepancy and every claimed place."""
    if report is None:
        return prediction_map(None, None, species_range=species_range)
    markers = [claim_marker(c) for c in report_claims(report)]
    return prediction_map(report.audio, report.image, species_range=species_range, claims=markers, title=title)


def splice_spans(report: ForensicReport) -> list[TimeSpan]:
    """The two sides of a detected splice, each labelled with where it points."""
    s = report.splice
    if s is None or not s.detected or len(s.segments) != 2 or s.change_s is None:
        return []
    a, b = s.segments
    return [
        TimeSpan(a.start_s, s.change_s, f"before {s.change_s:.1f} s: {a.place}"),
        TimeSpan(s.change_s, b.end_s, f"after: {b.place} ({s.distance_km:,.0f} km away)"),
    ]


def report_timeline(report: ForensicReport) -> Any:
    """The per-window timeline of the report's audio (None without audio), frames and splice included."""
    if report.audio is None:
        return None
    return window_timeline(report.audio, frames=report.image, spans=splice_spans(report))


def report_notes(report: ForensicReport) -> list[str]:
    """Plain-text lines for a report file: the headline verdict, each claim tested, splice and hum."""
    lines = [f"{report.source}: {report.verdict.text}"]
    for c in report_claims(report):
        who = CLAIM_SOURCE_NAMES.get(c.claim.source, c.claim.source)
        lines.append(f"{who[:1].upper()}{who[1:]}: {c.text}")
    if report.comparison is not None and report.comparison is not report.verdict:
        lines.append(f"Picture vs sound: {report.comparison.text}")
    if report.splice is not None:
        lines.append(f"Splice: {report.splice.text}")
    return lines


__all__ = ["CLAIM_SOURCE_NAMES", "claim_marker", "report_claims", "report_map", "report_notes", "report_timeline", "splice_spans"]
