"""BirdNET V2.4's geographic meta-model as a :class:`~geoforensics.ranges.base.RangeModel`."""

from __future__ import annotations

import numpy as np

from ..models.birdnet import MODEL_VERSION, get_meta_model, load_labels


class BirdNETRangeModel:
    """Occurrence of BirdNET's 6,522 classes for (lat, lon, week). Non-species classes (human,
    noise, engine, ...) are set to 1 everywhere: they say nothing about place."""

    name = "birdnet-meta"
    version = MODEL_VERSION + "-MData-V2"

    def __init__(self) -> None:
        labels = load_labels()
        self.species = labels.scientific
        self.common_names = labels.common
        self._non_species = ~labels.is_species
        self.counts_in_richness = labels.is_species

    def occurrence(self, latlon: np.ndarray, week: int = -1, species: np.ndarray | None = None) -> np.ndarray:
        if species is None:
            occ = get_meta_model().occurrence(latlon, week)
            occ[:, self._non_species] = 1.0
            return occ
        idx = np.asarray(species, dtype=np.int64)
        occ = get_meta_model().occurrence(latlon, week, species=idx)
        occ[:, self._non_species[idx]] = 1.0
        return occ
