"""A tiny deterministic range model: each species lives in a Gaussian bump around a known centre,
plus optional widespread species (0.5 everywhere) that make the richness realistic (near constant)."""

from __future__ import annotations

import numpy as np

from geoforensics.geo.geodesy import haversine_matrix_km


class BumpRangeModel:
    name = "bumps"
    version = "1"

    def __init__(
        self, centres: dict[str, tuple[float, float]], radius_km: float = 1500.0, floor: float = 1e-4,
        widespread: int = 0
    ):
        self.species = tuple(centres) + tuple(f"widespread{i}" for i in range(widespread))
        self.common_names = tuple(s.upper() for s in self.species)
        self.centres = np.array(list(centres.values()), dtype=float)
        self.radius_km = radius_km
        self.floor = floor
        self.widespread = widespread
        self.counts_in_richness = np.ones(len(self.species), bool)
        self.calls = 0

    def occurrence(self, latlon: np.ndarray, week: int = -1, species: np.ndarray | None = None) -> np.ndarray:
        self.calls += 1
        d = haversine_matrix_km(np.asarray(latlon, float).reshape(-1, 2), self.centres)
        scale = self.radius_km * (0.5 if week != -1 else 1.0)
        occ = np.clip(np.exp(-0.5 * (d / scale) ** 2), self.floor, 1.0)
        rest = np.full((len(occ), self.widespread), 0.5)
        out = np.concatenate([occ, rest], axis=1).astype(np.float32)
        return out if species is None else out[:, np.asarray(species, dtype=np.int64)]
