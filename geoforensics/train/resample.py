"""Data resampling (paper Supp. Table A7, Fig. A9): per-example sampling weights that balance the
species and/or geographic distribution of the training data.

"For each recording of a given species at a particular location, we compute the number of training
recordings either (i) of that species or (ii) in the same h3 hexagon. With this count n, we assign the
recording a weight inversely proportional to n (w ∝ 1/n) or its square root (w ∝ 1/sqrt(n)).
Performing a weighted random sampling with these weights ..." and "location x species": the product
of both weights.

Modes: "none", "species", "location", "location-species"; ``power`` 1.0 gives 1/n, 0.5 gives 1/sqrt(n).
The paper does not give the H3 resolution; the default is 2 (about 5,900 cells worldwide, mean area
about 87,000 km^2, i.e. cells some 300 km across): the resolution of the paper's own H3 classification
baseline (Table A6 "classification (res=2)") and on the scale of the "Region 200 km" metric, so that
a cell is a region, not a city or a country.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Hashable, Sequence

import numpy as np
import torch
from torch.utils.data import WeightedRandomSampler

from ..errors import GeoforensicsError
from ..geo.h3cells import latlon_to_cells

RESAMPLE_MODES = ("none", "species", "location", "location-species")
DEFAULT_H3_RES = 2
UNLABELLED = "<unlabelled>"
"""The one species key shared by all recordings without a species label: together they count as one
more class, so species balancing neither ignores them nor lets each weigh like a singleton species."""


def inverse_count_weights(keys: Sequence[Hashable], power: float = 1.0) -> np.ndarray:
    """``1 / n ** power`` per item, where n is how many items share its key."""
    counts = Counter(keys)
    return np.array([counts[k] for k in keys], dtype=np.float64) ** -float(power)


def resampling_weights(
    species_keys: Sequence[Hashable | None] | None,
    latlon: np.ndarray,
    mode: str = "none",
    power: float = 1.0,
    h3_res: int = DEFAULT_H3_RES,
) -> np.ndarray:
    """Sampling probabilities (float64, summing to 1) of n training examples.

    ``species_keys``: one species per example (None -> :data:`UNLABELLED`), or None when the data
    carry no species (then only "none" and "location" work); ``latlon``: (n, 2) (lat, lon) degrees.
    """
    if mode not in RESAMPLE_MODES:
        raise GeoforensicsError(f"resample must be one of {', '.join(RESAMPLE_MODES)}, not {mode!r}")
    if power < 0:
        raise GeoforensicsError(f"resample_power must be >= 0, not {power}")
    pts = np.asarray(latlon, dtype=np.float64).reshape(-1, 2)
    n = len(pts)
    w = np.ones(n, dtype=np.float64)
    if "species" in mode:
        if species_keys is None:
            raise GeoforensicsError("species resampling needs a dataset with species labels")
        keys = [UNLABELLED if k is None or k == "" else k for k in species_keys]
        if len(keys) != n:
            raise GeoforensicsError(f"{len(keys)} species keys for {n} locations")
        w *= inverse_count_weights(keys, power)
    if "location" in mode:

        w *= inverse_count_weights(latlon_to_cells(pts, h3_res), power)
    return w / w.sum() if n else w


class EpochWeightedSampler(WeightedRandomSampler):
    """:class:`WeightedRandomSampler` (with replacement) whose draws are seeded by (seed, epoch, rank),
    so a resumed run repeats them and each DDP rank draws its own ``num_samples`` indices."""

    def __init__(self, weights: np.ndarray, num_samples: int, seed: int = 0, rank: int = 0) -> None:
        # torch annotates weights as Sequence[float] but converts them with as_tensor(dtype=double): a tensor is fine
        super().__init__(
            torch.as_tensor(weights, dtype=torch.double),  # type: ignore[arg-type]
            num_samples,
            replacement=True,
            generator=torch.Generator(),
        )
        self.seed, self.rank = int(seed), int(rank)
        self.set_epoch(0)

    def set_epoch(self, epoch: int) -> None:
        """Reseed for ``epoch``."""
        state = np.random.SeedSequence((self.seed, int(epoch), self.rank)).generate_state(1)[0]
        self.generator.manual_seed(int(state))


__all__ = ["RESAMPLE_MODES", "EpochWeightedSampler", "inverse_count_weights", "resampling_weights"]
