"""Data resampling weights (Supp. Table A7) on hand-made inputs, the sampler and config checks."""

from __future__ import annotations

import math

import numpy as np
import pytest

from geoforensics.errors import GeoforensicsError
from geoforensics.train.config import DataConfig
from geoforensics.train.data import resampling_weights
from geoforensics.train.resample import EpochWeightedSampler

PARIS, PARIS2, SYDNEY = (48.85, 2.35), (48.86, 2.36), (-33.9, 151.2)


def test_species_weights_inverse_count_and_sqrt():
    keys = ["a", "a", "a", "b"]
    pts = np.array([PARIS] * 4)
    np.testing.assert_allclose(resampling_weights(keys, pts, "species"), np.array([1 / 3, 1 / 3, 1 / 3, 1]) / 2)
    s = 3 / math.sqrt(3) + 1
    np.testing.assert_allclose(resampling_weights(keys, pts, "species", 0.5),
                               np.array([1 / math.sqrt(3)] * 3 + [1]) / s)
    np.testing.assert_allclose(resampling_weights(keys, pts, "none"), np.full(4, 0.25))


def test_location_weights_count_h3_cells():
    pts = np.array([PARIS, PARIS2, PARIS, SYDNEY])
    np.testing.assert_allclose(resampling_weights(None, pts, "location"), np.array([1 / 3, 1 / 3, 1 / 3, 1]) / 2)
    # at resolution 15 (cells under 1 m^2) the two Paris points no longer share a cell
    np.testing.assert_allclose(resampling_weights(None, pts, "location", h3_res=15), np.array([0.5, 1, 0.5, 1]) / 3)


def test_location_species_is_the_product():
    pts = np.array([PARIS, PARIS2, SYDNEY])
    keys = ["x", "y", "y"]
    # species: 1, 1/2, 1/2; location: 1/2, 1/2, 1 -> 1/2, 1/4, 1/2, normalised by 5/4
    np.testing.assert_allclose(resampling_weights(keys, pts, "location-species"), [0.4, 0.2, 0.4])
    sq = np.array([1 / math.sqrt(2), 1 / 2, 1 / math.sqrt(2)])
    np.testing.assert_allclose(resampling_weights(keys, pts, "location-species", 0.5), sq / sq.sum())


def test_unlabelled_recordings_share_one_key_and_errors():
    w = resampling_weights([None, "", None, "a"], np.array([PARIS] * 4), "species")
    np.testing.assert_allclose(w, np.array([1 / 3, 1 / 3, 1 / 3, 1]) / 2)
    with pytest.raises(GeoforensicsError, match="species labels"):
        resampling_weights(None, np.array([PARIS]), "species")
    with pytest.raises(GeoforensicsError, match="resample must be one of"):
        resampling_weights(None, np.array([PARIS]), "country")
    assert resampling_weights([], np.zeros((0, 2)), "location").shape == (0,)


def test_data_config_checks():
    assert DataConfig().resample == "none" and DataConfig().resample_h3_res == 2
    with pytest.raises(GeoforensicsError, match="data.resample"):
        DataConfig(resample="bogus")
    with pytest.raises(GeoforensicsError, match="species resampling needs a dataset with species labels"):
        DataConfig(source="simulated", resample="location-species")
    assert DataConfig(source="simulated", resample="location", resample_power=0.5).resample_power == 0.5


def test_epoch_weighted_sampler_is_seeded_by_epoch_and_rank():
    w = np.array([0.0, 0.5, 0.5, 0.0])
    s = EpochWeightedSampler(w, 50, seed=3)
    a = list(s)
    s.set_epoch(0)
    assert list(s) == a and len(a) == 50 and set(a) <= {1, 2}
    s.set_epoch(1)
    assert list(s) != a
    assert list(EpochWeightedSampler(w, 50, seed=3, rank=1)) != a
