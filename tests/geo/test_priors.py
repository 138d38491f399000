"""The shipped recording prior: read through the weight manager (SHA-256 checked), and its density."""

from __future__ import annotations

import numpy as np
import pytest

from geoforensics import weights as W
from geoforensics.errors import InputError
from geoforensics.geo import priors


def test_shipped_prior_is_verified_and_holds_the_inat_test_locations(isolated_cache):
    spec = W.get_spec(priors.PRIORS["inat-test-density"].weights)
    assert spec.source == "shipped" and W.status(spec.name) == "shipped"
    latlon, count = priors.load_density("inat-test-density")
    assert latlon.shape == (len(count), 2) and len(count) > 1000
    assert np.abs(latlon[:, 0]).max() <= 90 and np.abs(latlon[:, 1]).max() <= 180
    assert count.min() >= 1 and count.sum() == 49_527
    with pytest.raises(InputError, match="unknown prior 'nope'; known: inat-test-density, photo-density"):
        priors.load_density("nope")


def test_a_corrupt_prior_is_refused(isolated_cache):
    """A copy in the weights folder wins over the shipped file, and is checked like any weights file."""
    spec = W.get_spec(priors.PRIORS["inat-test-density"].weights)
    data = bytearray(W.weight_path(spec.name).read_bytes())
    data[len(data) // 2] ^= 0xFF
    (W.weights_dir() / spec.filename).write_bytes(bytes(data))
    with pytest.raises(W.ChecksumError, match="fail the checksum"):
        priors.load_density("inat-test-density")


def test_log_prior_on_a_gallery(isolated_cache):
    gallery = np.array([[48.0, 2.0], [40.7, -74.0], [-75.0, 0.0]])
    lp = priors.log_prior("inat-test-density", gallery, bandwidth_km=500.0)
    assert lp.shape == (3,) and np.isfinite(lp).all()
    assert lp[0] > lp[2] and lp[1] > lp[2]  # Paris and New York are recorded far more than the Antarctic


def test_photo_density_prior_is_one_sided():
    """The default prior never favours busy places over average ones; it lowers empty ones by up to 10x."""
    from geoforensics.geo.galleries import get_gallery
    from geoforensics.geo.geodesy import haversine_km

    spec = W.get_spec(priors.PRIORS["photo-density"].weights)
    W.verify(spec, W.weight_path(spec.name))
    g = get_gallery("land-1").latlon
    lp = priors.log_prior("photo-density", g)
    assert lp.max() == 0.0 and lp.min() >= np.log(priors.ONE_SIDED_FLOOR) - 1e-9
    paris = int(np.argmin(haversine_km(g, (48.85, 2.35))))
    pole = int(np.argmin(haversine_km(g, (-85.0, 0.0))))
    assert lp[paris] == 0.0 and lp[pole] == pytest.approx(np.log(priors.ONE_SIDED_FLOOR), abs=0.01)
    assert 0.6 < np.mean(lp < -1.0) < 0.8  # most of the land grid (Antarctica, Siberia, deserts) is nearly unvisited


def test_one_sided_cap_lifts_busy_places_up_to_the_cap_only():
    d = np.array([0.0, 1.0, 3.0, 10.0])
    np.testing.assert_allclose(priors.one_sided(d), [np.log(0.1), 0.0, 0.0, 0.0])
    np.testing.assert_allclose(priors.one_sided(d, cap=2.0), [np.log(0.1), 0.0, np.log(2.0), np.log(2.0)])
