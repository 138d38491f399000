"""Per-window view of a clip: which species each window heard, and how far its own location guess
lies from the clip-level one, so a spliced-in recording from elsewhere stands out."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import plotly.graph_objects as go
from plotly.colors import qualitative
from plotly.subplots import make_subplots

from ..geo.geodesy import haversine_km
from ..prediction import GeoPrediction, WindowPrediction

NO_LABEL = "(nothing detected)"
OUTLIER_COLOR = "#d62728"
WINDOW_COLOR = "#e6550d"
FRAME_COLOR = "#2171b5"
_PALETTE = qualitative.D3 + qualitative.Set2 + qualitative.Pastel1
SPAN_COLORS = ("#1f78b4", "#6a3d9a", "#b15928", "#33a02c")
KIND_COLORS = {"animal": "#006d2c", "speech": "#3182bd", "music": "#8856a7", "noise": "#a6761d", "silence": "#d9d9d9"}
"""The soundtrack band's colour for each kind of sound (:data:`geoforensics.audio.content.KINDS`)."""


@dataclass(frozen=True)
class TimeSpan:
    """A stretch of the clip to shade on both panels, e.g. one side of a splice, with its label."""

    start_s: float
    end_s: float
    label: str


@dataclass(frozen=True)
class ContentSpan:
    """What dominates one window of the soundtrack (animal, speech, music, noise or silence)."""

    start_s: float
    end_s: float
    kind: str
    audible: bool = False


def _centre(w: WindowPrediction) -> float:
    return 0.5 * (float(w.start_s) + float(w.end_s))


def window_distances_km(windows: list[WindowPrediction], point: tuple[float, float]) -> np.ndarray:
    """Haversine km from ``point`` to each window's guess; NaN where a window has none."""
    out = np.full(len(windows), np.nan)
    for i, w in enumerate(windows):
        if w.lat is not None and w.lon is not None:
            out[i] = float(haversine_km((w.lat, w.lon), point))
    return out


def _fmt_where(w: WindowPrediction) -> str:
    if w.lat is None or w.lon is None:
        return "no location"
    return f"{w.lat:.2f}, {w.lon:.2f}" + (f" (p = {w.prob:.2g})" if w.prob is not None else "")


def window_timeline(
    pred: GeoPrediction,
    *,
    frames: GeoPrediction | None = None,
    spans: Sequence[TimeSpan] = (),
    content: Sequence[ContentSpan] = (),
    height: int = 460,
) -> go.Figure:
    """Two panels over time (s): each window's top species and its score (bars one stride wide, so
    overlapping windows tile the axis; one colour per species), and each window's distance from the clip-level
    point estimate (red beyond the 90% region radius). ``frames`` (e.g. per-video-frame image guesses in its
    ``windows``) adds each frame's distance from the same audio point. ``spans`` (e.g. the two sides of a splice)
    are shaded on both panels and labelled on top, with a dashed line where one ends and the next begins.
    ``content`` adds a band between them: what dominates each window (birds, speech, music, noise, silence)."""

    dist_row = 3 if content else 2
    fig = make_subplots(
        rows=dist_row,
        cols=1,
        shared_xaxes=True,
        vertical_spacing=0.08 if content else 0.12,
        row_heights=[0.45, 0.1, 0.45] if content else None,
        subplot_titles=("Top species per window",) + (("What the soundtrack holds",) if content else ())
        + ("Distance from the clip's audio guess",),
    )
    windows = list(pred.windows)
    starts = np.array([float(w.start_s) for w in windows])
    step = float(np.min(np.diff(np.unique(starts)))) if len(np.unique(starts)) > 1 else None
    labels = [w.label or NO_LABEL for w in windows]
    species = list(dict.fromkeys(label for label in labels if label != NO_LABEL))
    colors = {s: _PALETTE[i % len(_PALETTE)] for i, s in enumerate(species)}
    colors[NO_LABEL] = "#bdbdbd"
    for name in species + ([NO_LABEL] if NO_LABEL in labels else []):
        idx = [i for i, label in enumerate(labels) if label == name]
        ws = [windows[i] for i in idx]
        fig.add_trace(
            go.Bar(
                x=[float(w.start_s) + 0.5 * step if step else _centre(w) for w in ws],
                y=[float(w.score) if w.score is not None else 0.0 for w in ws],
                width=[max(min(float(w.end_s) - float(w.start_s), step or np.inf), 1e-3) for w in ws],
                marker=dict(color=colors[name], line=dict(color="white", width=0.5)),
                text=[name] * len(ws),
                textposition="inside",
                insidetextanchor="middle",
                textangle=0,
                name=name,
                hovertext=[
                    f"{w.start_s:.1f}–{w.end_s:.1f} s<br><b>{name}</b><br>score "
                    + (f"{w.score:.3f}" if w.score is not None else "n/a")
                    + f"<br>{_fmt_where(w)}"
                    for w in ws
                ],
                hoverinfo="text",
            ),
            row=1,
            col=1,
        )

    if content:
        _content_band(fig, content)

    dist = window_distances_km(windows, pred.point)
    region = pred.region(0.9)
    radius = region.radius_km if region is not None else None
    has = ~np.isnan(dist)
    if has.any():
        ws = [w for w, h in zip(windows, has) if h]
        d = dist[has]
        outlier = d > radius if radius is not None else np.zeros(len(d), dtype=bool)
        fig.add_trace(
            go.Scatter(
                x=[_centre(w) for w in ws],
                y=np.round(d, 1),
                mode="lines+markers",
                line=dict(color=WINDOW_COLOR, width=1),
                marker=dict(
                    size=9,
                    color=[OUTLIER_COLOR if o else WINDOW_COLOR for o in outlier],
                    line=dict(color="white", width=1),
                ),
                error_x=dict(
                    type="data",
                    array=[0.5 * (float(w.end_s) - float(w.start_s)) for w in ws],
                    thickness=1,
                    width=0,
                    color="rgba(230, 85, 13, 0.45)",
                ),
                name="Audio window vs clip guess",
                hovertext=[
                    f"{w.start_s:.1f}–{w.end_s:.1f} s: {km:,.0f} km from the clip guess"
                    + ("<br><b>outside the 90% region</b>" if o else "")
                    + f"<br>{w.label or NO_LABEL}<br>{_fmt_where(w)}"
                    for w, km, o in zip(ws, d, outlier)
                ],
                hoverinfo="text",
            ),
            row=dist_row,
            col=1,
        )
    if radius is not None:
        fig.add_hline(
            y=radius,
            row=dist_row,
            col=1,
            line=dict(color="#7f7f7f", dash="dash", width=1),
            annotation_text=f"audio 90% radius {radius:,.0f} km",
            annotation_position="top left",
            annotation_font=dict(size=10, color="#555"),
        )

    if frames is not None:
        fd = window_distances_km(list(frames.windows), pred.point)
        fh = ~np.isnan(fd)
        if fh.any():
            fws = [w for w, h in zip(frames.windows, fh) if h]
            fig.add_trace(
                go.Scatter(
                    x=[_centre(w) for w in fws],
                    y=np.round(fd[fh], 1),
                    mode="markers",
                    marker=dict(size=8, color=FRAME_COLOR, symbol="diamond", line=dict(color="white", width=1)),
                    name="Video frame vs audio guess",
                    hovertext=[
                        f"frame {w.start_s:.1f} s: {km:,.0f} km from the audio guess<br>{_fmt_where(w)}"
                        for w, km in zip(fws, fd[fh])
                    ],
                    hoverinfo="text",
                ),
                row=dist_row,
                col=1,
            )
        image_km = float(haversine_km(frames.point, pred.point))
        fig.add_hline(
            y=image_km,
            row=dist_row,
            col=1,
            line=dict(color=FRAME_COLOR, dash="dot", width=1),
            annotation_text=f"image guess {image_km:,.0f} km",
            annotation_position="bottom right",
            annotation_font=dict(size=10, color=FRAME_COLOR),
        )

    for i, span in enumerate(spans):
        color = SPAN_COLORS[i % len(SPAN_COLORS)]
        fig.add_vrect(
            x0=span.start_s, x1=span.end_s, row="all", col=1, fillcolor=color, opacity=0.12, line_width=0, layer="below"
        )

        fig.add_annotation(
            x=0.5 * (span.start_s + span.end_s), xref="x", y=1.0, yref="y domain", yanchor="top", showarrow=False,
            text=span.label, font=dict(size=11, color=color), bgcolor="rgba(255,255,255,0.85)",
        )
        if i:
            fig.add_vline(x=span.start_s, row="all", col=1, line=dict(color="#424242", dash="dash", width=1.5))
    if not windows:
        fig.add_annotation(text="no per-window results", xref="paper", yref="paper", x=0.5, y=0.8, showarrow=False)
    fig.update_xaxes(title_text="time (s)", row=dist_row, col=1, rangemode="tozero")
    fig.update_yaxes(title_text="score", row=1, col=1, rangemode="tozero")
    fig.update_yaxes(title_text="km", row=dist_row, col=1, rangemode="tozero")
    fig.update_layout(
        height=height,
        bargap=0,
        margin=dict(l=60, r=10, t=40, b=40),
        legend=dict(orientation="h", x=0.0, y=-0.18, yanchor="top", font=dict(size=11)),
        uniformtext=dict(minsize=8, mode="hide"),
        hoverlabel=dict(align="left"),
        plot_bgcolor="white",
        paper_bgcolor="white",
    )
    fig.update_xaxes(showgrid=True, gridcolor="#eeeeee", zeroline=False)
    fig.update_yaxes(showgrid=True, gridcolor="#eeeeee", zeroline=False)
    return fig


__all__ = ["SPAN_COLORS", "TimeSpan", "window_distances_km", "window_timeline"]


def _content_band(fig: go.Figure, content: Sequence[ContentSpan]) -> None:
    """Row 2: one bar per window, coloured by the kind of sound that dominates it."""
    for kind, color in KIND_COLORS.items():
        spans = [c for c in content if c.kind == kind]
        if not spans:
            continue
        name = "birds/animals" if kind == "animal" else kind
        fig.add_trace(
            go.Bar(
                x=[0.5 * (c.start_s + c.end_s) for c in spans],
                y=[1.0] * len(spans),
                width=[max(c.end_s - c.start_s, 1e-3) for c in spans],
                marker=dict(color=color, line=dict(color="white", width=0.5)),
                name=f"soundtrack: {name}",
                legendgroup="soundtrack",
                hovertext=[f"{c.start_s:.1f}–{c.end_s:.1f} s: mostly {name}"
                           + ("<br>birds audible" if c.audible and kind != "animal" else "") for c in spans],
                hoverinfo="text",
            ),
            row=2,
            col=1,
        )
    fig.update_yaxes(visible=False, range=[0, 1], row=2, col=1)
