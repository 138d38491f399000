"""Report figures with matplotlib (offline, no basemap download): error CDFs and an error map."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from ..geo.metrics import THRESHOLDS_KM


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def cdf_plot(errors: Mapping[str, Any], path: str | Path, title: str = "") -> Path:
    """Fraction of recordings within each distance (log x axis, 1 to 20,000 km), one curve per system,
    with the paper's thresholds marked (as in the paper's Fig. 3, left)."""
    plt = _pyplot()
    outside = len(errors) > 8
    fig, ax = plt.subplots(figsize=(12.5, max(5.0, 0.2 * len(errors) + 1.5)) if outside else (8, 5))
    xs = np.logspace(0, np.log10(20038), 400)
    colours = plt.cm.tab20(np.linspace(0, 1, 20))
    for j, (name, e) in enumerate(errors.items()):
        e = np.sort(np.asarray(e, float))
        ax.plot(xs, np.searchsorted(e, xs, side="right") / max(len(e), 1), label=name, lw=1.6,
                color=colours[(2 * j) % 20 + (j // 10) % 2], ls=("-", "--", ":")[(j // 20) % 3])
    for key, km in THRESHOLDS_KM.items():
        ax.axvline(km, color="0.7", lw=0.8, ls="--")
        ax.text(km, 1.01, f"{key}\n{km:g} km", ha="center", va="bottom", fontsize=7, color="0.4")
    ax.set_xscale("log")
    ax.set_xlim(1, 20038)
    ax.set_ylim(0, 1)
    ax.set_xlabel("geolocation error (km, log scale)")
    ax.set_ylabel("fraction of recordings within")
    if title:
        ax.set_title(title, pad=28)
    ax.grid(alpha=0.3)
    if outside:
        ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0.0, frameon=False)
    else:
        ax.legend(fontsize=7, loc="upper left")
    fig.tight_layout()
    path = Path(path)
    fig.savefig(path, dpi=120, bbox_inches="tight")
    plt.close(fig)
    return path


def _land_background(ax: Any) -> None:
    try:
        from global_land_mask import globe
    except ImportError:
        return
    lat = np.linspace(89.5, -89.5, 180)
    lon = np.linspace(-179.5, 179.5, 360)
    land = globe.is_land(*np.meshgrid(lat, lon, indexing="ij"))
    ax.imshow(land, extent=(-180, 180, -90, 90), cmap="Greys", vmin=0, vmax=4, interpolation="nearest", zorder=0)


def error_map(true_latlon: Any, errors_km: Any, path: str | Path, title: str = "") -> Path:
    """True locations coloured by error (km, log colour scale) over a land mask."""
    from matplotlib.colors import LogNorm

    plt = _pyplot()
    pts = np.asarray(true_latlon, float).reshape(-1, 2)
    e = np.clip(np.asarray(errors_km, float), 1.0, 20038.0)
    fig, ax = plt.subplots(figsize=(10, 5.2))
    _land_background(ax)
    sc = ax.scatter(
        pts[:, 1], pts[:, 0], c=e, cmap="viridis_r", norm=LogNorm(1, 20038), s=18, edgecolor="k", lw=0.3, zorder=2
    )
    fig.colorbar(sc, ax=ax, label="error (km)", shrink=0.8)
    ax.set_xlim(-180, 180)
    ax.set_ylim(-90, 90)
    ax.set_xlabel("longitude")
    ax.set_ylabel("latitude")
    if title:
        ax.set_title(title)
    fig.tight_layout()
    path = Path(path)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
