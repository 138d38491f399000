"""The small interface a range model answers, so SINR or another model can replace BirdNET's."""

from __future__ import annotations

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

    def occurrence(self, latlon: np.ndarray, week: int = -1, species: np.ndarray | None = None) -> np.ndarray:
        """Values in [0, 1], shape [n_points, n_species], for (lat, lon) degrees; week 1-48 or -1.
        ``species``: only these columns (indices into ``species``), [n_points, len(species)]."""
        ...
