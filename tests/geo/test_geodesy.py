import math

import numpy as np
import pytest
import torch

from geoforensics.geo.geodesy import (
    CoordinateError,
    as_latlon,
    circle_polygon,
    from_lonlat,
    great_circle_path,
    haversine_km,
    haversine_km_torch,
    haversine_matrix_km,
    latlon_to_xyz,
    latlon_to_xyz_torch,
    spherical_mean,
    split_at_antimeridian,
    to_lonlat,
    xyz_to_latlon,
)

PARIS = (48.8566, 2.3522)
LONDON = (51.5074, -0.1278)
NEW_YORK = (40.7128, -74.0060)
SYDNEY = (-33.8688, 151.2093)
TOKYO = (35.6762, 139.6503)


@pytest.mark.parametrize(
    "a, b, km",
    [
        (PARIS, LONDON, 343.6),  # R = 6371 km spherical values
        (LONDON, NEW_YORK, 5570.2),
        (NEW_YORK, SYDNEY, 15988.8),
        (TOKYO, SYDNEY, 7826.6),
    ],
)
def test_haversine_known_city_distances(a, b, km):
    assert haversine_km(a, b) == pytest.approx(km, abs=1.0)
    assert haversine_km(b, a) == pytest.approx(km, abs=1.0)


def test_haversine_special_cases():
    assert haversine_km((0, 0), (0, 0)) == 0.0
    assert haversine_km((90, 0), (-90, 0)) == pytest.approx(math.pi * 6371.0)
    assert haversine_km((0, 179.5), (0, -179.5)) == pytest.approx(111.19, abs=0.01)  # across the antimeridian
    assert haversine_km((89.9, 0), (89.9, 180)) == pytest.approx(22.24, abs=0.01)  # over the pole


def test_haversine_vectorised_and_matrix():
    a = np.array([PARIS, LONDON, TOKYO])
    d = haversine_km(a, a[::-1])
    assert d.shape == (3,) and d[1] == 0.0
    m = haversine_matrix_km(a, np.array([PARIS, SYDNEY]))
    assert m.shape == (3, 2)
    assert m[0, 0] == 0 and m[2, 1] == pytest.approx(7826.6, abs=1.0)


def test_haversine_torch_matches_numpy_and_has_gradients():
    a = torch.tensor([PARIS, NEW_YORK], dtype=torch.float64, requires_grad=True)
    b = torch.tensor([LONDON, NEW_YORK], dtype=torch.float64)
    d = haversine_km_torch(a, b)
    np.testing.assert_allclose(d.detach().numpy(), haversine_km(a.detach().numpy(), b.numpy()), atol=1e-3)
    d.sum().backward()
    assert torch.isfinite(a.grad).all()  # finite even where a == b


def test_xyz_round_trip_and_axes():
    pts = np.array([[0, 0], [0, 90], [90, 0], [-45.5, -170.25], [12.3, 179.9]])
    np.testing.assert_allclose(latlon_to_xyz([0, 0]), [1, 0, 0], atol=1e-12)
    np.testing.assert_allclose(latlon_to_xyz([90, 0]), [0, 0, 1], atol=1e-12)
    back = xyz_to_latlon(latlon_to_xyz(pts))
    np.testing.assert_allclose(back[[0, 1, 3, 4]], pts[[0, 1, 3, 4]], atol=1e-9)
    assert back[2, 0] == pytest.approx(90)
    t = latlon_to_xyz_torch(torch.tensor(pts, dtype=torch.float64)).numpy()
    np.testing.assert_allclose(t, latlon_to_xyz(pts), atol=1e-12)


def test_order_converters():
    np.testing.assert_array_equal(to_lonlat([[10, 20]]), [[20, 10]])
    np.testing.assert_array_equal(from_lonlat(to_lonlat([[10, 20]])), [[10, 20]])


@pytest.mark.parametrize(
    "bad, word",
    [([[91, 0]], "latitude"), ([[0, 181]], "longitude"), ([[float("nan"), 0]], "finite"),
     ([[1, 2, 3]], "last dimension")],
)
def test_validation_errors_are_clear(bad, word):
    with pytest.raises(CoordinateError, match=word):
        as_latlon(bad)


def test_great_circle_path_ends_and_equal_steps():
    path = great_circle_path(LONDON, NEW_YORK, n=50)
    assert path.shape == (50, 2)
    np.testing.assert_allclose(path[0], LONDON, atol=1e-9)
    np.testing.assert_allclose(path[-1], NEW_YORK, atol=1e-9)
    steps = haversine_km(path[:-1], path[1:])
    np.testing.assert_allclose(steps, 5570.2 / 49, atol=0.5)
    assert path[:, 0].max() > 52  # the great circle bends north of both ends


def test_great_circle_path_across_antimeridian():
    path = great_circle_path(TOKYO, (21.3, -157.8), n=40)  # Tokyo -> Honolulu crosses 180
    assert np.all(np.abs(path[:, 1]) <= 180)
    segs = split_at_antimeridian(path)
    assert len(segs) == 2
    assert sum(len(s) for s in segs) == 40
    total = sum(haversine_km(s[:-1], s[1:]).sum() for s in segs)
    assert total < haversine_km(TOKYO, (21.3, -157.8))  # one hop across the cut is missing


def test_great_circle_path_antipodes_and_same_point():
    p = great_circle_path((0, 0), (0, 180), n=5)
    assert haversine_km(p[0], p[-1]) == pytest.approx(math.pi * 6371.0)
    assert great_circle_path(PARIS, PARIS, n=3).shape == (3, 2)


def test_spherical_mean_across_antimeridian():
    lat, lon = spherical_mean([[0, 179], [0, -179]])
    assert abs(lat) < 1e-9 and abs(abs(lon) - 180) < 1e-9


def test_circle_polygon_radius():
    ring = circle_polygon(PARIS, 500, n=36)
    np.testing.assert_allclose(haversine_km(PARIS, ring), 500, atol=1e-6)
    np.testing.assert_allclose(ring[0], ring[-1])
