"""A tiny fake world for the claim check: four species living around Paris, Madrid, New York and Sydney."""

from __future__ import annotations

import numpy as np
import pytest

from geoforensics.geo.galleries import uniform_grid
from geoforensics.geolocators.species_ranges import SpeciesRangeGeolocator
from geoforensics.scoring import WindowScores

from ..ranges.fake import BumpRangeModel

PARIS, MADRID, NEW_YORK, SYDNEY = (48.85, 2.35), (40.4, -3.7), (40.7, -74.0), (-33.9, 151.2)
BERLIN, CHICAGO = (52.52, 13.4), (41.88, -87.63)


@pytest.fixture
def geo(tmp_path, monkeypatch) -> SpeciesRangeGeolocator:
    monkeypatch.setenv("GEOFORENSICS_CACHE", str(tmp_path))
    model = BumpRangeModel({"paris": PARIS, "madrid": MADRID, "newyork": NEW_YORK, "sydney": SYDNEY},
                           radius_km=800.0, widespread=40)
    return SpeciesRangeGeolocator(gallery=uniform_grid(2.0).latlon, range_model=model)


def window_scores(*rows: list[float]) -> WindowScores:
    s = np.array(rows, dtype=np.float32)
    s = np.concatenate([s, np.zeros((len(s), 40), np.float32)], axis=1)
    n = len(s)
    return WindowScores(starts_s=np.arange(n) * 1.5, ends_s=np.arange(n) * 1.5 + 3.0, scores=s,
                        duration_s=n * 1.5 + 1.5)


