"""Spatiotemporal aggregation (paper, Sec. 4.4 and Table 4): recordings in the same H3 cell (res 5
or 6) and time bin (week, month, year) are geolocated together by averaging their predicted
probability surfaces; the group's prediction is assigned to every member, so results compare
directly with the recording-level rows.

Time bins: ``week`` = ISO year and week, ``month`` = year and month, ``year`` = calendar year, ``all``
= no time grouping. Recordings without a date only group with other undated recordings.
Surfaces over the same gallery are averaged point by point; surfaces over different galleries are
pooled (each weighted 1 / group size) and identical points merged; the group's point is the argmax.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import InputError
from ..geo.geodesy import haversine_km
from ..geo.h3cells import latlon_to_cells
from ..geo.metrics import format_metrics_row, geolocation_metrics, metrics_table_header
from ..prediction import GeoPrediction

PERIODS = ("week", "month", "year", "all")
PAPER_GROUPINGS = ((6, "week"), (6, "month"), (6, "year"), (5, "year"))


def time_bin(date: dt.date | str | None, period: str) -> Hashable:
    """The time bin of a date (``datetime.date``, ``"YYYY-MM-DD"`` or None) for ``period``."""
    if period not in PERIODS:
        raise InputError(f"unknown time bin {period!r}; use one of {', '.join(PERIODS)}")
    if period == "all":
        return "all"
    if date is None or date == "":
        return None
    if isinstance(date, str):
        date = dt.date.fromisoformat(date[:10])
    if period == "year":
        return date.year
    if period == "month":
        return (date.year, date.month)
    iso = date.isocalendar()
    return (iso[0], iso[1])


def group_keys(latlon: Any, dates: Sequence[Any], res: int, period: str) -> list[tuple[str, Hashable]]:
    """One (H3 cell at ``res``, time bin) key per recording."""
    cells = latlon_to_cells(latlon, res)
    if len(dates) != len(cells):
        raise InputError(f"{len(dates)} dates for {len(cells)} locations")
    return [(c, time_bin(d, period)) for c, d in zip(cells, dates)]


def average_surfaces(preds: Sequence[GeoPrediction]) -> tuple[np.ndarray, np.ndarray]:
    """(gallery, probs) of the mean of the members' surfaces (see the module docstring)."""
    first = preds[0].gallery
    if all(p.gallery is first or (p.gallery.shape == first.shape and np.array_equal(p.gallery, first)) for p in preds):
        return first, np.mean([p.probs for p in preds], axis=0)
    pts = np.concatenate([p.gallery for p in preds])
    w = np.concatenate([p.probs / len(preds) for p in preds])
    uniq, inv = np.unique(np.round(pts, 6), axis=0, return_inverse=True)
    return uniq, np.bincount(inv.reshape(-1), weights=w, minlength=len(uniq))


def aggregate_points(preds: Sequence[GeoPrediction], keys: Sequence[Hashable]) -> np.ndarray:
    """(n, 2) point per recording: the argmax of its group's averaged surface."""
    groups: dict[Hashable, list[int]] = defaultdict(list)
    for i, k in enumerate(keys):
        groups[k].append(i)
    out = np.array([p.point for p in preds], dtype=np.float64)
    for members in groups.values():
        if len(members) < 2:
            continue
        gallery, probs = average_surfaces([preds[i] for i in members])
        out[members] = gallery[int(np.argmax(probs))]
    return out


@dataclass
class AggregationRow:
    """Metrics of one grouping, with the group-size distribution."""

    name: str
    metrics: dict[str, float]
    n_groups: int
    singletons: float
    mean_size: float


def aggregation_rows(
    preds: Sequence[GeoPrediction],
    true_latlon: Any,
    dates: Sequence[Any],
    groupings: Sequence[tuple[int, str]] = PAPER_GROUPINGS,
) -> list[AggregationRow]:
    """Table 4 (left): no grouping, then each (resolution, period) grouping."""
    true = np.asarray(true_latlon, float).reshape(-1, 2)
    base = np.array([p.point for p in preds], dtype=np.float64)
    rows = [AggregationRow("No grouping", geolocation_metrics(haversine_km(base, true)), len(true), 1.0, 1.0)]
    for res, period in groupings:
        keys = group_keys(true, dates, res, period)
        sizes = np.array(list(Counter(keys).values()))
        pts = aggregate_points(preds, keys)
        rows.append(
            AggregationRow(
                f"Resolution-{res} + {period.capitalize()}",
                geolocation_metrics(haversine_km(pts, true)),
                len(sizes),
                float((sizes == 1).mean()),
                float(sizes.mean()),
            )
        )
    return rows


def species_per_group(species: Sequence[Sequence[str]], keys: Sequence[Hashable]) -> dict[int, int]:
    """Table 4 (right): how many groups hold 1, 2, ... distinct annotated species."""
    groups: dict[Hashable, set[str]] = defaultdict(set)
    for sp, k in zip(species, keys):
        groups[k].update(sp[:1])
    return dict(sorted(Counter(len(v) for v in groups.values()).items()))


def aggregation_markdown(system: str, rows: Sequence[AggregationRow]) -> str:
    """Markdown section: metrics per grouping plus group counts."""
    lines = [f"## Spatiotemporal aggregation: {system}", "", metrics_table_header(with_n=False)]
    lines += [format_metrics_row(r.name, r.metrics) for r in rows]
    lines += ["", "| grouping | groups | share of singleton groups | mean group size |", "|---|---|---|---|"]
    lines += [f"| {r.name} | {r.n_groups} | {100 * r.singletons:.0f} % | {r.mean_size:.2f} |" for r in rows]
    return "\n".join(lines) + "\n"
