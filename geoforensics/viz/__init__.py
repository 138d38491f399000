"""Maps and timelines of geolocation results (plotly), renderable offline.

``prediction_map`` draws audio and image guesses on a world map; ``window_timeline`` shows the
per-window species and distances. Maps need the bundled outlines on the page: use
``write_standalone_html`` for a file, or ``head_html()`` as the ``head`` of a gradio app.
"""

from __future__ import annotations

from .assets import PLOT_CONFIG, figure_html, geo_assets_script, head_html, write_standalone_html
from .maps import ClaimMarker, discrepancy_km, prediction_map, surface_cells
from .timeline import TimeSpan, window_distances_km, window_timeline

__all__ = [
    "PLOT_CONFIG",
    "ClaimMarker",
    "TimeSpan",
    "discrepancy_km",
    "figure_html",
    "geo_assets_script",
    "head_html",
    "prediction_map",
    "surface_cells",
    "window_distances_km",
    "window_timeline",
    "write_standalone_html",
]
