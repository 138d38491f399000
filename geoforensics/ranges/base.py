"""The small interface a range model answers, so SINR or another model can replace BirdNET's."""

from __future__ import annotations

import datetime as _dt
from typing import Protocol, runtime_checkable

import numpy as np


@runtime_checkable
class RangeModel(Protocol):
    """Occurrence of every species at points and a week.

    ``species`` lists scientific names (the columns of :meth:`occurrence`); ``name`` and
    ``version`` key the on-disk caches, so change ``version`` whenever the outputs change. An
    optional boolean ``counts_in_richness`` marks the columns that are real species.
    """

    name: str
    version: str
    species: tuple[str, ...]

    def occurrence(self, latlon: np.ndarray, week: int = -1) -> np.ndarray:
        """Values in [0, 1], shape [n_points, n_species], for (lat, lon) degrees; week 1-48 or -1."""
        ...


def week_of(date: _dt.date | str | int | None) -> int:
    """Range-model week (1-48, four per month) for a date, ``"YYYY-MM-DD"``, ``"YYYY-MM"``, a month
    number 1-12, or -1 when unknown."""
    if date is None or date == "" or date == -1:
        return -1
    if isinstance(date, int):
        if not 1 <= date <= 12:
            raise ValueError(f"month must be 1-12, got {date}")
        return (date - 1) * 4 + 2
    if isinstance(date, str):
        text = date.strip()
        try:
            if len(text) == 7:
                return week_of(int(text[5:7]))
            date = _dt.date.fromisoformat(text[:10])
        except ValueError as e:
            raise ValueError(f"unreadable date {date!r}: use YYYY-MM-DD or YYYY-MM") from e
    return (date.month - 1) * 4 + min(4, (date.day - 1) // 7 + 1)
