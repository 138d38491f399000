"""Merged H3 regions and great-circle lines as GeoJSON geometry: valid on a flat map, right on the sphere."""

from __future__ import annotations

import math

import h3
import numpy as np
import pytest
from shapely.geometry import shape

from geoforensics.geo.geodesy import EARTH_RADIUS_KM, haversine_km
from geoforensics.gis.geometry import cells_geometry, great_circle_geometry, point_geometry

FIJI = h3.latlng_to_cell(-17.8, 180.0, 2)
NORTH_POLE = h3.latlng_to_cell(90.0, 0.0, 2)


def sphere_area_km2(geometry: dict) -> float:
    """Area on the sphere of a (Multi)Polygon in (lon, lat), each edge a straight line in (lon, lat)."""

    def ring(points: list) -> float:
        pts = np.radians(np.asarray(points, dtype=np.float64))
        lon, lat = pts[:, 0], pts[:, 1]
        # integral of sin(lat) dlon along the ring, exact for edges along parallels and meridians
        total = 0.0
        for i in range(len(pts) - 1):
            dlon = lon[i + 1] - lon[i]
            if abs(lat[i + 1] - lat[i]) < 1e-15:
                total += dlon * math.sin(lat[i])
            else:
                t = np.linspace(0.0, 1.0, 65)
                la = lat[i] + t * (lat[i + 1] - lat[i])
                total += dlon * float(np.trapezoid(np.sin(la), t))
        return abs(total) * EARTH_RADIUS_KM**2

    polys = [geometry["coordinates"]] if geometry["type"] == "Polygon" else geometry["coordinates"]
    return sum(ring(rings[0]) - sum(ring(h) for h in rings[1:]) for rings in polys)


def cells_area_km2(cells) -> float:
    return sum(h3.cell_area(c, "km^2") for c in set(cells))


def check_rfc7946(geometry: dict) -> None:
    """Closed rings, exterior anticlockwise and holes clockwise, coordinates within range, valid shape."""
    polys = [geometry["coordinates"]] if geometry["type"] == "Polygon" else geometry["coordinates"]
    for rings in polys:
        for i, r in enumerate(rings):
            assert r[0] == r[-1] and len(r) >= 4
            arr = np.asarray(r)
            assert np.all(np.abs(arr[:, 0]) <= 180) and np.all(np.abs(arr[:, 1]) <= 90)
            signed = 0.5 * np.sum(arr[:-1, 0] * arr[1:, 1] - arr[1:, 0] * arr[:-1, 1])
            assert (signed > 0) == (i == 0), "exterior rings anticlockwise, holes clockwise"
    assert shape(geometry).is_valid


def test_a_region_across_the_antimeridian_is_cut_there_and_keeps_its_area():
    cells = list(h3.grid_disk(FIJI, 3))
    g = cells_geometry(cells)
    check_rfc7946(g)
    assert g["type"] == "MultiPolygon" and len(g["coordinates"]) == 2
    west, east = sorted(g["coordinates"], key=lambda p: p[0][0][0])
    assert max(x for x, _ in west[0]) == -180.0 or min(x for x, _ in west[0]) == -180.0
    assert max(x for x, _ in east[0]) == 180.0
    assert shape(g).bounds[0] == -180.0 and shape(g).bounds[2] == 180.0
    # the two halves together hold the 37 cells' area (the edges are straight in degrees, not geodesics)
    assert sphere_area_km2(g) == pytest.approx(cells_area_km2(cells), rel=0.01)


def test_a_ring_keeps_its_hole_and_a_ring_across_the_antimeridian_becomes_two_c_shapes():
    centre = h3.latlng_to_cell(10.0, 20.0, 2)
    ring = set(h3.grid_disk(centre, 4)) - set(h3.grid_disk(centre, 1))
    g = cells_geometry(list(ring))
    check_rfc7946(g)
    assert g["type"] == "Polygon" and len(g["coordinates"]) == 2
    assert not shape(g).contains(shape(point_geometry(10.0, 20.0)))
    assert sphere_area_km2(g) == pytest.approx(cells_area_km2(ring), rel=0.01)

    ring = set(h3.grid_disk(FIJI, 5)) - set(h3.grid_disk(FIJI, 2))
    g = cells_geometry(list(ring))
    check_rfc7946(g)
    assert g["type"] == "MultiPolygon" and all(len(p) == 1 for p in g["coordinates"])
    assert not shape(g).contains(shape(point_geometry(-17.8, 179.99)))
    assert sphere_area_km2(g) == pytest.approx(cells_area_km2(ring), rel=0.01)


def test_regions_at_the_poles():
    disk = list(h3.grid_disk(NORTH_POLE, 3))
    g = cells_geometry(disk)
    check_rfc7946(g)
    assert shape(g).bounds == pytest.approx((-180.0, shape(g).bounds[1], 180.0, 90.0))
    assert shape(g).contains(shape(point_geometry(89.9, 45.0)))
    assert sphere_area_km2(g) == pytest.approx(cells_area_km2(disk), rel=0.01)

    band = set(h3.grid_disk(NORTH_POLE, 6)) - set(h3.grid_disk(NORTH_POLE, 2))
    g = cells_geometry(list(band))
    check_rfc7946(g)
    assert shape(g).bounds[3] < 87.0, "the pole is not in a ring around it"
    assert sphere_area_km2(g) == pytest.approx(cells_area_km2(band), rel=0.01)

    south = h3.latlng_to_cell(-90.0, 0.0, 2)
    g = cells_geometry([south])
    check_rfc7946(g)
    assert shape(g).bounds[1] == -90.0
    assert sphere_area_km2(g) == pytest.approx(h3.cell_area(south, "km^2"), rel=0.01)


def test_the_whole_globe_is_one_rectangle_without_slivers():
    g = cells_geometry(list(h3.get_res0_cells()))
    check_rfc7946(g)
    assert g["type"] == "Polygon" and len(g["coordinates"]) == 1
    assert shape(g).bounds == (-180.0, -90.0, 180.0, 90.0)
    assert sphere_area_km2(g) == pytest.approx(4 * math.pi * EARTH_RADIUS_KM**2, rel=1e-6)
    assert cells_geometry([]) is None


def test_great_circle_lines():
    a, b = (-18.1, 178.4), (53.0, 158.6)  # Suva to Petropavlovsk-Kamchatsky: stays west of 180
    g = great_circle_geometry(a, b)
    assert g["type"] == "LineString"
    a, b = (-18.1, 178.4), (21.3, -157.9)  # Suva to Honolulu: crosses the antimeridian
    g = great_circle_geometry(a, b)
    assert g["type"] == "MultiLineString" and len(g["coordinates"]) == 2
    first, second = g["coordinates"]
    assert first[-1][0] == 180.0 and second[0][0] == -180.0 and first[-1][1] == second[0][1]
    assert shape(g).is_valid
    length = sum(float(haversine_km(p[::-1], q[::-1])) for part in g["coordinates"] for p, q in zip(part, part[1:]))
    assert length == pytest.approx(float(haversine_km(a, b)), rel=1e-3)
    assert first[0] == [178.4, -18.1] and second[-1] == [-157.9, 21.3]


def test_points_are_lon_lat_and_checked():
    assert point_geometry(-17.8, 178.5) == {"type": "Point", "coordinates": [178.5, -17.8]}
    with pytest.raises(ValueError, match="latitude"):
        point_geometry(95.0, 0.0)
