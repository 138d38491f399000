"""The paper's geolocation metrics, keyed as the official benchmark's evaluator keys them.

Median and mean great-circle error in km, and the fraction of predictions within 1, 25, 200,
750 and 2500 km ("street", "city", "region", "country", "continent").
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from .geodesy import as_latlon, haversine_km

THRESHOLDS_KM: dict[str, float] = {
    "street": 1.0,
    "city": 25.0,
    "region": 200.0,
    "country": 750.0,
    "continent": 2500.0,
}


def geolocation_metrics(errors_km: Any) -> dict[str, float]:
    """Metrics from distances in km: ``mean_error``, ``median_error`` and one fraction per threshold."""
    e = np.asarray(errors_km, dtype=np.float64).reshape(-1)
    if len(e) == 0:
        raise ValueError("no errors to summarise")
    out = {"mean_error": float(e.mean()), "median_error": float(np.median(e))}
    for name, km in THRESHOLDS_KM.items():
        out[name] = float((e <= km).mean())
    return out


def percent_within(errors_km: Any, km: float) -> float:
    """Percentage of the errors (km) at most ``km``: ``percent_within(e, 200)`` is the paper's "region" x 100."""
    e = np.asarray(errors_km, dtype=np.float64).reshape(-1)
    if len(e) == 0:
        raise ValueError("no errors to summarise")
    return float(100.0 * np.mean(e <= km))


def metrics_from_points(pred: Any, true: Any) -> dict[str, float]:
    """``geolocation_metrics`` of the Haversine distances between (N, 2) predicted and true points."""
    return geolocation_metrics(haversine_km(as_latlon(pred, name="predictions"), as_latlon(true, name="gold")))


def format_metrics_row(name: str, m: dict[str, float], n: int | None = None) -> str:
    """One Markdown table row: name, [n,] median, mean, then % at each threshold."""
    cells = [name] + ([str(n)] if n is not None else [])
    cells += [f"{m['median_error']:,.0f}", f"{m['mean_error']:,.0f}"]
    cells += [f"{100 * m[k]:.1f}" for k in THRESHOLDS_KM]
    return "| " + " | ".join(cells) + " |"


def metrics_table_header(with_n: bool = False) -> str:
    """The Markdown header matching ``format_metrics_row``."""
    cols = ["system"] + (["n"] if with_n else []) + ["median km", "mean km"]
    cols += [f"% ≤{int(km) if km >= 1 else km} km ({k})" for k, km in THRESHOLDS_KM.items()]
    return "| " + " | ".join(cols) + " |\n|" + "---|" * len(cols)


def paired_bootstrap(
    err: Any, base: Any, stat: Callable[[np.ndarray], float] = np.median, draws: int = 2000,
    rng: np.random.Generator | int = 0,
) -> tuple[float, float, float]:
    """``stat(err) - stat(base)`` for two systems' errors on the same items, and its 95 % interval from
    ``draws`` paired bootstrap resamples of the items (rows: an item's several errors move together).
    ``rng``: a seed or a generator (shared across calls, it keeps one stream of draws)."""
    a, b = np.asarray(err, dtype=np.float64), np.asarray(base, dtype=np.float64)
    if a.shape != b.shape or len(a) < 2:
        raise ValueError(f"paired errors need the same shape and at least 2 items, got {a.shape} and {b.shape}")
    gen = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
    d = [stat(a[i]) - stat(b[i]) for i in (gen.integers(0, len(a), len(a)) for _ in range(draws))]
    lo, hi = np.percentile(d, [2.5, 97.5])
    return float(stat(a) - stat(b)), float(lo), float(hi)
