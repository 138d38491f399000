"""Matplotlib drawings of a forensic report, for files rather than the browser: the evidence video and the
one-page report. A world map from the bundled Natural Earth outlines (plate carrée, no network, no
browser), the per-window timeline, and what the distances on it are measured from.

The app's interactive figures stay Plotly (``maps.py``, ``timeline.py``); these draw the same layers in
the same colours.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from matplotlib.axes import Axes
from matplotlib.collections import PolyCollection

from ..forensics.analysis import ForensicReport
from ..forensics.checker import TOLERANCE_KM
from ..geo.geodesy import great_circle_path, haversine_km, split_at_antimeridian
from ..prediction import GeoPrediction, WindowPrediction, smallest_mass_set
from ..text import drawable
from .assets import topojson_text
from .maps import CLAIM_COLORS
from .timeline import _PALETTE as SPECIES_PALETTE
from .timeline import NO_LABEL, SPAN_COLORS

VERDICT_COLORS = {**CLAIM_COLORS, "uncertain": "#ef6c00"}
"""Colour of each verdict level (the map's claim colours, plus "uncertain")."""
AUDIO_COLOR, AUDIO_DARK = "#e6550d", "#7f2704"
IMAGE_COLOR = "#2171b5"
PATH_COLOR = "#6a3d9a"
LAND_COLOR, COAST_COLOR, SEA_COLOR = "#ece8dc", "#9e9e9e", "#dbe9f4"
SURFACE_MASS = 0.9


@lru_cache(maxsize=1)
def land_rings() -> tuple[np.ndarray, ...]:
    """The outer and inner rings of Natural Earth's 1:110m land, each (K, 2) as (lon, lat) degrees,
    decoded from the bundled TopoJSON (quantised, delta-encoded arcs)."""
    topo = json.loads(topojson_text())
    scale, shift = np.array(topo["transform"]["scale"]), np.array(topo["transform"]["translate"])
    arcs = [np.cumsum(np.array(a, dtype=np.float64), axis=0) * scale + shift for a in topo["arcs"]]

    def ring(indices: Sequence[int]) -> np.ndarray:
        parts = [arcs[i] if i >= 0 else arcs[~i][::-1] for i in indices]
        return np.concatenate([parts[0], *(p[1:] for p in parts[1:])])

    rings: list[np.ndarray] = []
    for geometry in topo["objects"]["land"]["geometries"]:
        polygons = geometry["arcs"] if geometry["type"] == "MultiPolygon" else [geometry["arcs"]]
        for r in (ring(r) for polygon in polygons for r in polygon):
            if np.abs(np.diff(r[:, 0])).max(initial=0.0) <= 180.0:
                rings.append(r)
                continue
            # a ring across the antimeridian: made continuous, then drawn on both sides of it
            r = r.copy()
            r[:, 0] = np.rad2deg(np.unwrap(np.deg2rad(r[:, 0])))
            rings += [r + [shift, 0.0] for shift in (-360.0, 0.0, 360.0)]
    return tuple(rings)


@dataclass(frozen=True)
class Reference:
    """The point the timeline's distances are measured from, and how it is named."""

    lat: float
    lon: float
    label: str
    is_claim: bool


def reference_point(report: ForensicReport) -> Reference | None:
    """The headline claim, else the picture's guess, else the sound's own guess (None without audio)."""
    check = report.headline_claim
    if check is not None:
        return Reference(check.claim.lat, check.claim.lon, "the claimed place", True)
    if report.image is not None:
        return Reference(report.image.lat, report.image.lon, "the picture's guess", False)
    if report.audio is not None:
        return Reference(report.audio.lat, report.audio.lon, "the sound's overall guess", False)
    return None


def short_label(label: str, limit: int = 34) -> str:
    """A claim's label cut to fit a map ("Lihue, Hawaii, United States")."""
    label = label.split(" (near ")[0] if label[:1].isdigit() or label[:1] == "-" else label
    return drawable(label, limit)


def _points(report: ForensicReport) -> list[tuple[float, float]]:
    pts: list[tuple[float, float]] = [(c.claim.lat, c.claim.lon) for c in report.claims]
    for pred in (report.audio, report.image):
        if pred is not None:
            pts.append((pred.lat, pred.lon))
    if report.audio is not None:
        pts += [(w.lat, w.lon) for w in report.audio.windows if w.lat is not None and w.lon is not None]
    return pts


def map_extent(
    points: Sequence[tuple[float, float]], aspect: float, min_span: float = 40.0
) -> tuple[float, float, float, float]:
    """(lon0, lon1, lat0, lat1) around ``points`` (lat, lon) with a margin, at least ``min_span``
    degrees wide, widened to ``aspect`` (width / height) and kept on the globe."""
    if not points:
        return -180.0, 180.0, -60.0, 85.0
    lats, lons = np.array([p[0] for p in points]), np.array([p[1] for p in points])
    lon0, lon1, lat0, lat1 = float(lons.min()), float(lons.max()), float(lats.min()), float(lats.max())
    w = max(lon1 - lon0, min_span) * 1.25
    h = max(lat1 - lat0, min_span / aspect) * 1.3
    w, h = max(w, h * aspect), max(h, w / aspect)
    w, h = min(w, 360.0), min(h, 180.0)
    w, h = min(w, h * aspect), min(h, w / aspect)
    cx, cy = 0.5 * (lon0 + lon1), 0.5 * (lat0 + lat1)
    cx = min(max(cx, -180 + w / 2), 180 - w / 2)
    cy = min(max(cy, -90 + h / 2), 90 - h / 2)
    return cx - w / 2, cx + w / 2, cy - h / 2, cy + h / 2


def draw_land(ax: Axes) -> None:
    """Sea background and land outlines."""
    ax.set_facecolor(SEA_COLOR)
    ax.add_collection(PolyCollection(list(land_rings()), facecolors=LAND_COLOR, edgecolors=COAST_COLOR, linewidths=0.4,
                                     zorder=1))


def _surface(ax: Axes, pred: GeoPrediction) -> None:
    """The smallest set of gallery points holding 90 % of the sound's probability, shaded by probability."""
    if len(pred.probs) == 0 or not np.isfinite(pred.probs).all() or pred.probs.sum() <= 0:
        return
    idx = smallest_mass_set(pred.probs, SURFACE_MASS)[:4000]
    p = pred.probs[idx]
    shade = np.clip(np.log10(p / p.max()) / 3.0 + 1.0, 0.05, 1.0)
    colors = np.zeros((len(idx), 4))
    colors[:, :3] = np.array([230, 85, 13]) / 255
    colors[:, 3] = 0.15 + 0.45 * shade
    ax.scatter(pred.gallery[idx, 1], pred.gallery[idx, 0], s=6, marker="s", c=colors, linewidths=0, zorder=2)


def draw_report_map(
    ax: Axes, report: ForensicReport, *, windows: bool = True, legend: bool = True, fontsize: float = 8.0
) -> None:
    """The report's map on ``ax``: land, the sound's 90 % region, each window's guess (``windows``), the
    sound's and the picture's guesses, every claimed place coloured by its verdict, and the arc from
    the sound's guess to the headline claim with its length. The extent fits them all at ``ax``'s aspect."""
    box = ax.get_window_extent()
    aspect = box.width / box.height
    lon0, lon1, lat0, lat1 = map_extent(_points(report), aspect)
    draw_land(ax)
    audio = report.audio
    if audio is not None:
        _surface(ax, audio)
        if windows:
            ws = [w for w in audio.windows if w.lat is not None and w.lon is not None]
            ax.scatter(np.array([w.lon for w in ws], dtype=float), np.array([w.lat for w in ws], dtype=float), s=14,
                       c=AUDIO_COLOR, alpha=0.5, edgecolors="white", linewidths=0.4, zorder=4,
                       label="a window's guess")
    headline = report.headline_claim
    if audio is not None and headline is not None:
        path = great_circle_path(audio.point, headline.claim.latlon, 97)
        for seg in split_at_antimeridian(path):
            ax.plot(seg[:, 1], seg[:, 0], color=PATH_COLOR, lw=1.2, ls="--", zorder=3)
        km = float(haversine_km(audio.point, headline.claim.latlon))
        mid = path[len(path) // 2]
        ax.annotate(f"{km:,.0f} km", (float(mid[1]), float(mid[0])), xytext=(0, 10), textcoords="offset points",
                    ha="center", va="bottom", fontsize=fontsize, color=PATH_COLOR, zorder=7,
                    bbox=dict(boxstyle="round,pad=0.15", fc="white", ec="none", alpha=0.75))
    for check in reversed(report.claims):
        c = check.claim
        color = VERDICT_COLORS.get(check.verdict, VERDICT_COLORS["inconclusive"])
        big = check is headline
        ax.scatter([c.lon], [c.lat], s=170 if big else 90, marker="*", c=color, edgecolors="black", linewidths=0.6,
                   zorder=6)
        if c.source != "image guess":
            left = c.lon > 0.5 * (lon0 + lon1)  # the label towards the middle of the map
            ax.annotate(short_label(c.label), (c.lon, c.lat), xytext=(-9 if left else 9, -14 if big else 8),
                        textcoords="offset points", ha="right" if left else "left", fontsize=fontsize, color=color,
                        fontweight="bold" if big else "normal", zorder=7,
                        bbox=dict(boxstyle="round,pad=0.15", fc="white", ec="none", alpha=0.75), parse_math=False)
    if report.image is not None:
        ax.scatter([report.image.lon], [report.image.lat], s=70, marker="D", c=IMAGE_COLOR, edgecolors="white",
                   linewidths=0.8, zorder=5, label="the picture's guess")
    if audio is not None:
        ax.scatter([audio.lon], [audio.lat], s=80, marker="o", c=AUDIO_COLOR, edgecolors=AUDIO_DARK, linewidths=1.2,
                   zorder=5, label="the sound's guess")
    ax.set_xlim(lon0, lon1)
    ax.set_ylim(lat0, lat1)
    ax.set_aspect("auto")
    ax.set_xticks([])
    ax.set_yticks([])
    if legend:
        handles = [h for h in ax.get_legend_handles_labels()[0]]
        if handles:
            ax.legend(loc="lower left", fontsize=fontsize - 1, framealpha=0.8, borderpad=0.3, handletextpad=0.2,
                      markerscale=0.8)


def window_distances(windows: Sequence[WindowPrediction], ref: Reference) -> np.ndarray:
    """Great-circle km from ``ref`` to each window's guess (NaN where a window has none)."""
    out = np.full(len(windows), np.nan)
    for i, w in enumerate(windows):
        if w.lat is not None and w.lon is not None:
            out[i] = float(haversine_km((w.lat, w.lon), (ref.lat, ref.lon)))
    return out


def window_stride(windows: Sequence[WindowPrediction]) -> float:
    """Seconds between window starts (a window's own length when there is one window)."""
    starts = np.unique([float(w.start_s) for w in windows])
    if len(starts) > 1:
        return float(np.min(np.diff(starts)))
    return float(windows[0].end_s - windows[0].start_s) if windows else 3.0


def species_colors(windows: Sequence[WindowPrediction]) -> dict[str, str]:
    """One colour per species label, in order of first appearance (grey for no detection)."""
    names = list(dict.fromkeys(w.label or NO_LABEL for w in windows))
    colors = {n: SPECIES_PALETTE[i % len(SPECIES_PALETTE)] for i, n in enumerate(x for x in names if x != NO_LABEL)}
    colors[NO_LABEL] = "#bdbdbd"
    return colors


def draw_timeline(
    ax_species: Axes, ax_km: Axes, report: ForensicReport, span_s: float, *, fontsize: float = 8.0
) -> None:
    """Two panels over ``[0, span_s]`` seconds: each window's top species and score (bars one stride
    wide, named where the species changes), and how far each window's guess lies from
    :func:`reference_point` (red beyond the claim tolerance when it is a claim); splice sides shaded,
    the change marked."""
    audio = report.audio
    windows = [w for w in (audio.windows if audio is not None else []) if w.start_s < span_s]
    stride = window_stride(windows)
    colors = species_colors(windows)
    for i, w in enumerate(windows):
        label = w.label or NO_LABEL
        x0, x1 = float(w.start_s), min(float(w.start_s) + stride, span_s)
        ax_species.bar(x0, float(w.score or 0.0), width=x1 - x0, align="edge", color=colors[label], edgecolor="white",
                       linewidth=0.4)
        if i == 0 or (windows[i - 1].label or NO_LABEL) != label:
            ax_species.text(x0 + 0.1, 1.02, label, fontsize=fontsize, va="bottom", ha="left", color="#212121",
                            clip_on=True)
    ax_species.set_ylim(0, 1.25)
    ax_species.set_yticks([0, 0.5, 1])
    ax_species.set_ylabel("score", fontsize=fontsize)
    ax_species.set_title("Top species in each 3 s window", fontsize=fontsize + 1, loc="left", pad=2)
    ref = reference_point(report)
    if ref is not None and windows:
        d = window_distances(windows, ref)
        x = np.array([float(w.start_s) + 0.5 * stride for w in windows])
        ok = ~np.isnan(d)
        ax_km.plot(x[ok], d[ok], color=AUDIO_COLOR, lw=1, zorder=2)
        far = d > TOLERANCE_KM if ref.is_claim else np.zeros(len(d), dtype=bool)
        ax_km.scatter(x[ok], d[ok], s=18, c=[VERDICT_COLORS["mismatch"] if f else AUDIO_COLOR for f in far[ok]],
                      edgecolors="white", linewidths=0.5, zorder=3)
        top = float(np.nanmax(d)) if ok.any() else 1.0
        ax_km.set_ylim(0, max(top * 1.15, 2 * TOLERANCE_KM if ref.is_claim else 100.0))
        if ref.is_claim:
            ax_km.axhline(TOLERANCE_KM, color="#757575", lw=0.8, ls=":")
        ax_km.set_title(f"How far each window's guess lies from {drawable(ref.label, 60)} (km)", fontsize=fontsize + 1,
                        loc="left", pad=2, parse_math=False)

    ax_km.yaxis.set_major_formatter(lambda v, _pos: f"{v:,.0f}")
    for ax in (ax_species, ax_km):
        ax.set_xlim(0, span_s)
        ax.tick_params(labelsize=fontsize - 1)
        ax.grid(axis="y", color="#eeeeee", lw=0.6)
        ax.set_axisbelow(True)
        for side in ("top", "right"):
            ax.spines[side].set_visible(False)
    ax_species.tick_params(labelbottom=False)
    ax_km.set_xlabel("time (s)", fontsize=fontsize, labelpad=1)
    s = report.splice
    if s is not None and s.detected and s.change_s is not None and len(s.segments) == 2:
        for i, seg in enumerate(s.segments):
            for ax in (ax_species, ax_km):
                ax.axvspan(seg.start_s, min(seg.end_s, span_s), color=SPAN_COLORS[i], alpha=0.12, lw=0, zorder=0)
        for ax in (ax_species, ax_km):
            ax.axvline(s.change_s, color="#424242", ls="--", lw=1.2)
        ax_km.text(s.change_s, 1.0, f" splice? {s.distance_km:,.0f} km jump", transform=ax_km.get_xaxis_transform(),
                   fontsize=fontsize, va="top", ha="left", color="#424242")


def distance_text(km: float | None) -> str:
    """A distance for a sentence ("12,098 km"; "n/a")."""
    return "n/a" if km is None or not math.isfinite(km) else f"{km:,.0f} km"


__all__ = [
    "VERDICT_COLORS",
    "Reference",
    "distance_text",
    "draw_land",
    "draw_report_map",
    "draw_timeline",
    "land_rings",
    "map_extent",
    "reference_point",
    "short_label",
    "species_colors",
    "window_distances",
    "window_stride",
]
