"""Offline map outlines for plotly ``scattergeo``.

plotly.js draws nothing on a geo subplot, markers included, until it has the ``world_110m``
TopoJSON, which it otherwise fetches from a CDN. We ship that file (Natural Earth, public domain)
and hand it to plotly.js as ``window.PlotlyGeoAssets.topojson.world_110m``, which plotly.js reads
before it would fetch. See ``assets/README.md`` for its source.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from functools import lru_cache
from importlib.resources import files
from pathlib import Path
from typing import Any

from ..atomic import write_text

TOPOJSON_NAME = "world_110m"

PLOT_CONFIG: dict[str, Any] = {
    "displaylogo": False,
    "responsive": True,
    "scrollZoom": False,
    "modeBarButtonsToRemove": ["select2d", "lasso2d"],
    "toImageButtonOptions": {"format": "png", "scale": 2},
}


@lru_cache(maxsize=1)
def topojson_text() -> str:
    """The bundled ``world_110m`` TopoJSON, as text."""
    return (files("geoforensics.viz") / "assets" / f"{TOPOJSON_NAME}.json").read_text(encoding="utf-8")


def _js_safe(text: str) -> str:
    """JSON text made safe to inline in an HTML ``<script>`` element."""
    return (
        text.replace("</", "<\\/").replace("<!--", "<\\!--").replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")
    )


@lru_cache(maxsize=1)
def geo_assets_script() -> str:
    """A ``<script>`` that registers the bundled outlines with plotly.js; place it before any plot
    is drawn (before or after plotly.js itself loads). Keeps other registered topojson."""
    return (
        "<script>(function(w){var a=w.PlotlyGeoAssets=w.PlotlyGeoAssets||{};"
        "a.topojson=a.topojson||{};"
        f"a.topojson[{TOPOJSON_NAME!r}]={_js_safe(topojson_text())};"
        "})(window);</script>"
    )


def head_html() -> str:
    """HTML for a page's ``<head>``, e.g. ``demo.launch(head=head_html())`` in gradio, so its
    ``gr.Plot`` maps render without network access."""
    return geo_assets_script()


def figure_html(fig: Any, *, config: dict[str, Any] | None = None, include_plotlyjs: bool | str = True) -> str:
    """An HTML fragment (the geo assets, then the figure's div and script) to embed in a page."""
    body: str = fig.to_html(
        full_html=False, include_plotlyjs=include_plotlyjs, config={**PLOT_CONFIG, **(config or {})}
    )
    return geo_assets_script() + "\n" + body


def write_standalone_html(
    fig: Any,
    path: str | Path,
    *,
    title: str | None = None,
    config: dict[str, Any] | None = None,
    notes: Sequence[str] = (),
) -> Path:
    """Write one self-contained HTML file (plotly.js and the map outlines inlined) that renders
    from ``file://`` with no network. ``notes`` (plain text, escaped here) are paragraphs above the
    map, e.g. the verdict and the claims tested. Returns the path."""
    path = Path(path)
    if title is None:
        layout_title = getattr(getattr(fig.layout, "title", None), "text", None)
        title = layout_title or "geoforensics map"
    body = fig.to_html(full_html=False, include_plotlyjs=True, config={**PLOT_CONFIG, **(config or {})})
    if notes:
        paras = "".join(f"<p style=\"margin:4px 0\">{html.escape(n)}</p>" for n in notes)
        body = (
            f"<div class=\"gf-notes\" style=\"font-family:sans-serif;font-size:14px;padding:8px 12px\">{paras}</div>"
            f"\n{body}"
        )

    page = (
        "<!DOCTYPE html>\n<html>\n<head>\n<meta charset=\"utf-8\" />\n"
        f"<title>{html.escape(title)}</title>\n"
        f"{geo_assets_script()}\n"
        "</head>\n<body style=\"margin:0\">\n"
        f"{body}\n"
        "</body>\n</html>\n"
    )
    return write_text(path, page)
