"""World maps of geolocation results: where the birds say vs where the picture says.

Everything is drawn with ``go.Scattergeo`` on plotly's own ``natural earth`` projection, so a
figure renders offline once the bundled outlines are on the page (``geoforensics.viz.assets``).
plotly.js joins consecutive points by great-circle arcs and clips them at the map edge, so
hexagons and lines crossing the antimeridian need their longitudes wrapped, not shifted; the
rings are oriented clockwise, which is how d3-geo tells a small polygon from its complement.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any

import h3
import numpy as np
import plotly.graph_objects as go
from plotly.colors import sample_colorscale, unlabel_rgb

from ..geo.geodesy import (
    as_latlon,
    circle_polygon,
    great_circle_path,
    haversine_km,
    latlon_to_xyz,
    split_line,
    wrap_lon,
)
from ..geo.h3cells import cell_boundary, cell_centroids, cell_parent, gallery_cells, latlon_to_cells
from ..prediction import GeoPrediction, smallest_mass_set

SURFACE_RES = 2
SURFACE_MASS = 0.99
MAX_CELLS = 1500
N_BINS = 8
DECADES = 3.0
PATH_COLOR = "#6a3d9a"
CLAIM_COLORS = {"mismatch": "#c62828", "consistent": "#2e7d32", "inconclusive": "#424242"}
RANGE_RGB = (35, 139, 69)
MAP_HEIGHT = 560


@dataclass(frozen=True)
class _Style:
    label: str
    scale: str
    color: str
    dark: str
    symbol: str


@dataclass(frozen=True)
class ClaimMarker:
    """A claimed place to draw: where, what it is called, its verdict and the tolerance around it."""

    lat: float
    lon: float
    label: str
    verdict: str = "inconclusive"
    radius_km: float = 300.0
    source: str = "claim"
    score: float | None = None


AUDIO_STYLE = _Style("Audio", "Oranges", "#e6550d", "#7f2704", "circle")
IMAGE_STYLE = _Style("Image", "Blues", "#2171b5", "#08306b", "diamond")


def _labelled(style: _Style, pred: GeoPrediction) -> _Style:
    """The slot's colours, named after what a non-audio prediction came from (e.g. "Text");
    "audio" is also the result object's default, so it never overrides the slot's own name."""
    label = pred.modality.capitalize() if pred.modality and pred.modality != "audio" else style.label
    return style if label == style.label else replace(style, label=label)


@dataclass
class CellSurface:
    """A probability surface aggregated into H3 cells: ``cells[i]`` holds ``mass[i]``."""

    res: int
    cells: list[str]
    mass: np.ndarray


def discrepancy_km(a: GeoPrediction | Sequence[float], b: GeoPrediction | Sequence[float]) -> float:
    """Haversine km between two point estimates (``GeoPrediction`` or (lat, lon))."""
    pa = a.point if isinstance(a, GeoPrediction) else a
    pb = b.point if isinstance(b, GeoPrediction) else b
    return float(haversine_km(as_latlon(pa), as_latlon(pb)))


def _aggregate(cells: Iterable[str], values: np.ndarray) -> dict[str, float]:
    out: dict[str, float] = {}
    for c, v in zip(cells, values):
        out[c] = out.get(c, 0.0) + float(v)
    return out


def surface_cells(
    pred: GeoPrediction, *, mass: float = SURFACE_MASS, max_cells: int = MAX_CELLS, res: int = SURFACE_RES
) -> CellSurface:
    """The fewest H3 cells holding ``mass`` of ``pred``'s probability, most probable first, at
    ``res`` or, when that takes more than ``max_cells`` cells, the finest coarser resolution that fits."""
    probs = np.asarray(pred.probs, dtype=np.float64)
    idx = smallest_mass_set(probs, min(1.0, mass + 0.5 * (1.0 - mass)))
    gallery_names, index = gallery_cells(pred.gallery, res)
    cells = [str(c) for c in gallery_names[index[idx]]]
    values = probs[idx]
    total = float(probs.sum()) or 1.0
    for r in range(res, -1, -1):
        if r < res:
            cells = [cell_parent(c, r) for c in cells]
        agg = _aggregate(cells, values)
        names = sorted(agg, key=agg.__getitem__, reverse=True)
        m = np.array([agg[c] for c in names])
        n = min(int(np.searchsorted(np.cumsum(m), mass * total)) + 1, len(names))
        if n <= max_cells or r == 0:
            n = min(n, max_cells)
            return CellSurface(res=r, cells=names[:n], mass=m[:n])
    raise AssertionError("unreachable")


def clockwise_ring(ring: np.ndarray) -> np.ndarray:
    """``ring`` ((lat, lon), closed) oriented clockwise seen from above its centre, the winding
    d3-geo (plotly.js) reads as "the small polygon inside"; works across the antimeridian and poles."""
    xyz = latlon_to_xyz(ring)
    c = xyz[:-1].mean(axis=0)
    c /= np.linalg.norm(c)
    east = np.cross([0.0, 0.0, 1.0], c)
    if np.linalg.norm(east) < 1e-9:
        east = np.array([0.0, 1.0, 0.0])
    east /= np.linalg.norm(east)
    north = np.cross(c, east)
    x, y = xyz @ east, xyz @ north
    signed_area = 0.5 * float(np.sum(x[:-1] * y[1:] - x[1:] * y[:-1]))
    return ring[::-1].copy() if signed_area > 0 else ring


def _rings_lat_lon(rings: Iterable[np.ndarray], decimals: int = 4) -> tuple[list[float | None], list[float | None]]:
    """None-separated lat and lon lists for one plotly trace holding many rings or lines."""
    lat: list[float | None] = []
    lon: list[float | None] = []
    for ring in rings:
        if lat:
            lat.append(None)
            lon.append(None)
        r = np.round(np.asarray(ring, dtype=np.float64), decimals)
        lat.extend(r[:, 0].tolist())
        lon.extend(r[:, 1].tolist())
    return lat, lon


def _fmt_latlon(lat: float, lon: float) -> str:
    return f"{abs(lat):.2f}°{'N' if lat >= 0 else 'S'}, {abs(lon):.2f}°{'E' if lon >= 0 else 'W'}"


def _fmt_prob(p: float) -> str:
    return f"{p:.1%}" if p >= 0.001 else f"{100 * p:.2g}%"


def _rgba(rgb: str | tuple[float, ...], alpha: float) -> str:
    r, g, b = unlabel_rgb(rgb) if isinstance(rgb, str) else rgb
    return f"rgba({int(r)}, {int(g)}, {int(b)}, {alpha:.2f})"


def _hex_traces(
    surface: CellSurface, style: _Style, *, legendgroup: str, showscale_y: float | None
) -> list[go.Scattergeo]:
    """One filled trace per colour bin (log10 probability per cell), plus invisible centroid
    markers carrying the hover text and the colour bar."""
    if not surface.cells:
        return []
    logm = np.log10(np.clip(surface.mass, 1e-300, None))
    hi = float(logm.max())
    lo = hi - DECADES
    bins = np.clip(((logm - lo) / DECADES * N_BINS).astype(int), 0, N_BINS - 1)
    colors = sample_colorscale(style.scale, list(np.linspace(0.3, 1.0, N_BINS)))
    traces: list[go.Scattergeo] = []
    first = True
    for b in range(N_BINS):
        members = [c for c, k in zip(surface.cells, bins) if k == b]
        if not members:
            continue
        lat, lon = _rings_lat_lon(clockwise_ring(cell_boundary(c)) for c in members)
        alpha = 0.30 + 0.45 * b / (N_BINS - 1)
        traces.append(
            go.Scattergeo(
                lat=lat,
                lon=lon,
                mode="lines",
                fill="toself",
                fillcolor=_rgba(colors[b], alpha),
                line=dict(color=_rgba(colors[b], min(1.0, alpha + 0.15)), width=0.4),
                name=f"{style.label} probability",
                legendgroup=legendgroup,
                showlegend=first,
                hoverinfo="skip",
            )
        )
        first = False
    cen = cell_centroids(surface.cells)
    decade_ticks = np.arange(np.ceil(lo), np.floor(hi) + 1)
    colorbar = None
    if showscale_y is not None:
        colorbar = dict(
            title=dict(text=f"{style.label}<br>p / cell", side="top"),
            tickvals=decade_ticks.tolist(),
            ticktext=[_fmt_prob(10.0**t) for t in decade_ticks],
            thickness=12,
            len=0.42,
            y=showscale_y,
            yanchor="middle",
            x=1.0,
            xanchor="left",
        )
    traces.append(
        go.Scattergeo(
            lat=np.round(cen[:, 0], 4),
            lon=np.round(cen[:, 1], 4),
            mode="markers",
            marker=dict(
                size=9,
                opacity=0,
                color=np.clip(logm, lo, hi),
                cmin=lo,
                cmax=hi,
                colorscale=[[0, colors[0]], [1, colors[-1]]],
                showscale=colorbar is not None,
                colorbar=colorbar,
            ),
            hovertext=[
                f"{style.label}: {_fmt_prob(m)} in this cell<br>{c} (res {surface.res})"
                for c, m in zip(surface.cells, surface.mass)
            ],
            hoverinfo="text",
            name=f"{style.label} cells",
            legendgroup=legendgroup,
            showlegend=False,
        )
    )
    return traces


def region_outline(cells: Sequence[str]) -> list[np.ndarray]:
    """The outer edges of a set of H3 cells (their union's boundary) as (lat, lon) polylines."""
    members = set(cells)
    lines: list[np.ndarray] = []
    for c in cells:
        for edge in h3.origin_to_directed_edges(c):
            if h3.get_directed_edge_destination(edge) not in members:
                lines.extend(split_line(np.array(h3.directed_edge_to_boundary(edge), dtype=np.float64)))
    return lines


def _region_traces(
    pred: GeoPrediction, style: _Style, *, legendgroup: str, max_cells: int = 4000
) -> list[go.Scattergeo]:
    traces = []
    for region in sorted(pred.regions, key=lambda r: r.mass):
        if region.cells and len(region.cells) <= max_cells:
            lines = region_outline(region.cells)
            how = f"{len(region.cells)} H3 res-{region.h3_res} cells"
        else:
            lines = split_line(circle_polygon(pred.point, max(region.radius_km, 1.0)))
            how = "circle around the guess"
        lat, lon = _rings_lat_lon(lines)
        mass_pct = f"{region.mass:.0%}"
        traces.append(
            go.Scattergeo(
                lat=lat,
                lon=lon,
                mode="lines",
                line=dict(
                    color=style.dark,
                    width=2.0 if region.mass <= 0.5 else 1.3,
                    dash="solid" if region.mass <= 0.5 else "dash",
                ),
                name=f"{style.label} {mass_pct} region ({region.radius_km:,.0f} km)",
                legendgroup=f"{legendgroup}-region",
                hovertext=f"{style.label} {mass_pct} region: {how}; {mass_pct} of the probability lies within "
                f"{region.radius_km:,.0f} km of the guess",
                hoverinfo="text",
            )
        )
    return traces


def _top_k_trace(pred: GeoPrediction, style: _Style, *, legendgroup: str) -> go.Scattergeo | None:
    if not pred.top_k:
        return None
    text = []
    for i, c in enumerate(pred.top_k, 1):
        where = c.place or _fmt_latlon(c.lat, c.lon)
        cell = f"<br>H3 {c.h3_cell}" if c.h3_cell else ""
        text.append(f"{style.label} #{i}: {where}<br>p = {_fmt_prob(c.prob)}<br>{_fmt_latlon(c.lat, c.lon)}{cell}")
    return go.Scattergeo(
        lat=[c.lat for c in pred.top_k],
        lon=[c.lon for c in pred.top_k],
        mode="markers+text",
        text=[str(i) for i in range(1, len(pred.top_k) + 1)],
        textposition="top right",
        textfont=dict(size=11, color=style.dark),
        marker=dict(size=9, color=style.color, line=dict(color="white", width=1.2), symbol=style.symbol),
        hovertext=text,
        hoverinfo="text",
        name=f"{style.label} top {len(pred.top_k)}",
        legendgroup=legendgroup,
    )


def _point_trace(pred: GeoPrediction, style: _Style) -> go.Scattergeo:
    details = [f"<b>{style.label} guess</b>", _fmt_latlon(pred.lat, pred.lon)]
    if pred.model:
        details.append(f"model: {pred.model}")
    if pred.confidence is not None:
        details.append(f"confidence: {pred.confidence_label} ({pred.confidence:.2f})")
    if pred.top_k and pred.top_k[0].place:
        details.append(f"near {pred.top_k[0].place}")
    return go.Scattergeo(
        lat=[pred.lat],
        lon=[pred.lon],
        mode="markers",
        marker=dict(size=18, color=style.color, symbol=style.symbol, line=dict(color="white", width=2.5)),
        hovertext=["<br>".join(details)],
        hoverinfo="text",
        name=f"{style.label} guess",
    )


def _path_traces(a: GeoPrediction, b: GeoPrediction) -> list[go.Scattergeo]:
    d = discrepancy_km(a, b)
    label = f"Audio ↔ image: {d:,.0f} km"
    path = great_circle_path(a.point, b.point, n=int(np.clip(d / 100.0, 16, 256)))
    lat, lon = _rings_lat_lon(split_line(path))
    mid = path[len(path) // 2]
    return [
        go.Scattergeo(
            lat=lat,
            lon=lon,
            mode="lines",
            line=dict(color=PATH_COLOR, width=2.5),
            name=label,
            hovertext=label,
            hoverinfo="text",
        ),
        go.Scattergeo(
            lat=[float(mid[0])],
            lon=[float(mid[1])],
            mode="text",
            text=[f"<b>{d:,.0f} km</b>"],
            textposition="top center",
            textfont=dict(size=13, color=PATH_COLOR),
            hoverinfo="skip",
            showlegend=False,
            name="distance label",
        ),
    ]


def _range_traces(
    name: str, latlon: Any, values: Any, *, res: int = SURFACE_RES, max_cells: int = MAX_CELLS
) -> list[go.Scattergeo]:
    """Cells where a species' range value (mean over the cell's points) is at least half its maximum."""
    pts = as_latlon(latlon, name="species range").reshape(-1, 2)
    vals = np.asarray(values, dtype=np.float64).reshape(-1)
    if len(vals) != len(pts):
        raise ValueError(f"species range: {len(vals)} values for {len(pts)} points")
    if not len(vals) or not np.isfinite(vals).any() or np.nanmax(vals) <= 0:
        return []
    thr = 0.5 * float(np.nanmax(vals))
    cells = latlon_to_cells(pts, res)
    for r in range(res, -1, -1):
        if r < res:
            cells = [cell_parent(c, r) for c in cells]
        sums = _aggregate(cells, np.nan_to_num(vals))
        counts = _aggregate(cells, np.ones(len(vals)))
        keep = [c for c in sums if sums[c] / counts[c] >= thr]
        if len(keep) <= max_cells or r == 0:
            keep = sorted(keep, key=lambda c: sums[c] / counts[c], reverse=True)[:max_cells]
            break
    if not keep:
        return []
    lat, lon = _rings_lat_lon(clockwise_ring(cell_boundary(c)) for c in keep)
    return [
        go.Scattergeo(
            lat=lat,
            lon=lon,
            mode="lines",
            fill="toself",
            fillcolor=_rgba(RANGE_RGB, 0.22),
            line=dict(color=_rgba(RANGE_RGB, 0.55), width=0.5),
            name=f"Range: {name}",
            hoverinfo="skip",
        )
    ]


def _claim_traces(claims: Sequence[ClaimMarker], audio: GeoPrediction | None) -> list[go.Scattergeo]:
    """Each claimed place as a star coloured by its verdict inside its dashed tolerance circle; the
    first (the headline claim) also joined to the audio guess by a dotted great circle with its length."""
    traces: list[go.Scattergeo] = []
    for i, c in enumerate(claims):
        color = CLAIM_COLORS.get(c.verdict, CLAIM_COLORS["inconclusive"])
        score = f", mismatch score {c.score:.2f}" if c.score is not None else ""
        name = f"Claimed place ({c.source}): {c.verdict.upper()}"
        hover = (
            f"<b>{c.label}</b><br>{c.source}: {c.verdict.upper()}{score}<br>{_fmt_latlon(c.lat, c.lon)}"
            f"<br>tolerance {c.radius_km:,.0f} km"
        )
        lat, lon = _rings_lat_lon(split_line(circle_polygon((c.lat, c.lon), c.radius_km)))
        traces.append(
            go.Scattergeo(
                lat=lat, lon=lon, mode="lines", line=dict(color=color, width=1.6, dash="dash"),
                name=f"{name} — {c.radius_km:,.0f} km tolerance", legendgroup=f"claim{i}", showlegend=False,
                hoverinfo="skip",
            )
        )
        if i == 0 and audio is not None:
            d = discrepancy_km(audio, (c.lat, c.lon))
            path = great_circle_path(audio.point, (c.lat, c.lon), n=int(np.clip(d / 100.0, 16, 256)))
            plat, plon = _rings_lat_lon(split_line(path))
            traces.append(
                go.Scattergeo(
                    lat=plat, lon=plon, mode="lines", line=dict(color=color, width=1.6, dash="dot"),
                    name=f"Audio guess ↔ claim: {d:,.0f} km", hovertext=f"Audio guess ↔ claimed place: {d:,.0f} km",
                    hoverinfo="text", legendgroup=f"claim{i}", showlegend=False,
                )
            )
        traces.append(
            go.Scattergeo(
                lat=[c.lat], lon=[c.lon], mode="markers",
                marker=dict(size=22 if i == 0 else 16, color=color, symbol="star", line=dict(color="white", width=1.5)),
                name=name, hovertext=[hover], hoverinfo="text", legendgroup=f"claim{i}",
            )
        )
    return traces


def _centre_lon(points: list[tuple[float, float]]) -> float:
    """0 or 180: whichever central meridian keeps ``points`` furthest from the map's edge."""
    if not points:
        return 0.0
    lons = np.array([p[1] for p in points])
    spread = {c: float(np.max(np.abs(wrap_lon(lons - c)))) for c in (0.0, 180.0)}
    return 180.0 if spread[180.0] < spread[0.0] else 0.0


def style_geo(
    fig: go.Figure, *, centre_lon: float = 0.0, height: int = MAP_HEIGHT, title: str | None = None
) -> go.Figure:

    """The shared map look: natural earth, world_110m outlines (the bundled file), no fitbounds."""
    fig.update_geos(
        projection_type="natural earth",
        projection_rotation_lon=centre_lon,
        scope="world",
        resolution=110,
        fitbounds=False,
        showland=True,
        landcolor="#efebe1",
        showocean=True,
        oceancolor="#d4e4f1",
        showlakes=True,
        lakecolor="#d4e4f1",
        showcountries=True,
        countrycolor="#9c9c9c",
        countrywidth=0.5,
        showcoastlines=True,
        coastlinecolor="#6f6f6f",
        coastlinewidth=0.6,
        showframe=True,
        framecolor="#9c9c9c",
        bgcolor="white",
    )
    fig.update_layout(
        height=height,
        margin=dict(l=6, r=6, t=44 if title else 10, b=6),
        title=dict(text=title, x=0.01, xanchor="left") if title else None,
        legend=dict(orientation="h", x=0.5, xanchor="center", y=-0.01, yanchor="top", font=dict(size=11)),
        paper_bgcolor="white",
        hoverlabel=dict(align="left"),
    )
    return fig


def prediction_map(
    audio: GeoPrediction | None,
    image: GeoPrediction | None = None,
    *,
    show_surface: bool = True,
    top_k: bool = True,
    species_range: tuple[str, np.ndarray, np.ndarray] | None = None,
    title: str | None = None,
    claims: Sequence[ClaimMarker] = (),
) -> go.Figure:
    """Audio and/or image guesses on one world map: probability hexagons (oranges / blues),
    50% and 90% regions, top-k candidates, the point estimates and, when both are given, the
    great-circle path between them labelled with its Haversine length. ``species_range`` is
    (name, (N, 2) lat/lon, (N,) values), drawn in green where values reach half their maximum.
    ``claims``: claimed places (stars in their tolerance circles, coloured by verdict), the first
    joined to the audio guess.
    Render offline with ``geoforensics.viz.assets`` (``write_standalone_html`` / ``head_html``)."""
    fig = go.Figure()
    preds = [(p, _labelled(s, p)) for p, s in ((audio, AUDIO_STYLE), (image, IMAGE_STYLE)) if p is not None]
    if species_range is not None:
        fig.add_traces(_range_traces(*species_range))
    if show_surface:
        ys = [0.75, 0.25] if len(preds) == 2 else [0.5]
        for (pred, style), y in zip(preds, ys):
            fig.add_traces(_hex_traces(surface_cells(pred), style, legendgroup=style.label.lower(), showscale_y=y))
    for pred, style in preds:
        fig.add_traces(_region_traces(pred, style, legendgroup=style.label.lower()))
    if audio is not None and image is not None:
        fig.add_traces(_path_traces(audio, image))
    if top_k:
        for pred, style in preds:
            trace = _top_k_trace(pred, style, legendgroup=f"{style.label.lower()}-top")
            if trace is not None:
                fig.add_trace(trace)
    for pred, style in preds:
        fig.add_trace(_point_trace(pred, style))
    fig.add_traces(_claim_traces(claims, audio))
    points = [p.point for p, _ in preds] + [(c.lat, c.lon) for c in claims]
    return style_geo(fig, centre_lon=_centre_lon(points), title=title)


__all__ = [
    "AUDIO_STYLE",
    "CLAIM_COLORS",
    "ClaimMarker",
    "IMAGE_STYLE",
    "CellSurface",
    "clockwise_ring",
    "discrepancy_km",
    "prediction_map",
    "region_outline",
    "split_line",
    "style_geo",
    "surface_cells",
]
