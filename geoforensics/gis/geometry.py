"""GeoJSON geometries of results: merged H3 regions, great-circle lines and points, valid on a flat map.

GIS tools (QGIS through GDAL, Google Earth, shapely) draw coordinates on a plane of longitude and
latitude, so every geometry here is cut where it crosses the antimeridian (RFC 7946, section 3.1.9)
and a region around a pole reaches it along the ±180° meridians and the pole's latitude.

Regions: each H3 cell becomes a polygon on its own, cut at the antimeridian or closed over a pole by
the ``antimeridian`` package (a cell is small, so its one crossing or its pole is never in doubt),
and shapely unions them on a grid of :data:`GRID_DEG`. Merging first and cutting the merged outline
instead (``h3.cells_to_geo``, then ``antimeridian.fix_shape``) gives invalid shapes for a ring of
cells around a pole and for the whole globe; cell by cell it is right for any set. Neighbouring
cells do not always draw their shared edge with the same points (H3's extra "distortion" vertices on
icosahedron edges, floating-point noise), so the union leaves slivers: holes smaller than
:data:`SLIVER_SHARE` of the smallest cell are dropped; a real hole is at least one cell. Cell edges
that a straight segment in degrees would misplace by more than :data:`EDGE_TOLERANCE_DEG` (long edges
near the poles) get points along their great circle, so a region keeps its cells' area (tested to 1 %).

Coordinates are GeoJSON's (longitude, latitude) order, rounded to :data:`DECIMALS` places (0.1 m).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..geo.geodesy import as_latlon, great_circle_path, haversine_km, latlon_to_xyz, split_line, xyz_to_latlon

DECIMALS = 6
"""Decimal places of every coordinate written (about 0.1 m; RFC 7946 recommends 6)."""
GRID_DEG = 10.0**-DECIMALS
"""Grid (degrees) that region vertices are snapped to when cells are merged."""
SLIVER_SHARE = 1e-3
"""A hole in a merged region smaller than this share of its smallest cell is a gap between cells, not a hole."""
EDGE_TOLERANCE_DEG = 0.01
"""How far (degrees, about 1 km) a cell's edge may stray from the straight segment in degrees that draws it."""
LINE_STEP_KM = 100.0
"""Spacing of the points along a great-circle line (16 to 256 points)."""


def point_geometry(lat: float, lon: float) -> dict[str, Any]:
    """A GeoJSON Point at (lat, lon) degrees."""
    (la, lo), = as_latlon([[lat, lon]], name="point")
    return {"type": "Point", "coordinates": [round(float(lo), DECIMALS), round(float(la), DECIMALS)]}


def _lonlat_list(path: np.ndarray) -> list[list[float]]:
    return [[round(float(lon), DECIMALS), round(float(lat), DECIMALS)] for lat, lon in path]


def great_circle_geometry(a: Sequence[float], b: Sequence[float]) -> dict[str, Any]:
    """The shorter great-circle arc from ``a`` to ``b`` ((lat, lon) degrees): a LineString, or a
    MultiLineString cut at the antimeridian whose pieces meet at ±180°."""
    d = float(haversine_km(a, b))
    path = great_circle_path(a, b, n=int(np.clip(d / LINE_STEP_KM, 16, 256)))
    pieces = [p for p in split_line(path) if len(p) >= 2]
    if len(pieces) == 1:
        return {"type": "LineString", "coordinates": _lonlat_list(pieces[0])}
    return {"type": "MultiLineString", "coordinates": [_lonlat_list(p) for p in pieces]}


def _cell_ring(cell: str) -> list[tuple[float, float]]:
    """A cell's boundary as (lon, lat) points. An edge whose great circle strays more than :data:`EDGE_TOLERANCE_DEG`
    from the straight line in degrees (long edges near the poles) gets points along its great circle."""
    import h3

    verts = np.array(h3.cell_to_boundary(cell), dtype=np.float64)
    nxt = np.roll(verts, -1, axis=0)
    mid = xyz_to_latlon(latlon_to_xyz(verts) + latlon_to_xyz(nxt))
    straight_lat = (verts[:, 0] + nxt[:, 0]) / 2.0
    dlon = (nxt[:, 1] - verts[:, 1] + 180.0) % 360.0 - 180.0
    straight_lon = verts[:, 1] + dlon / 2.0
    stray = np.hypot(mid[:, 0] - straight_lat,
                     ((mid[:, 1] - straight_lon + 180.0) % 360.0 - 180.0) * np.cos(np.radians(mid[:, 0])))
    ring: list[tuple[float, float]] = []
    for a, b, d in zip(verts, nxt, stray):
        n = int(math.ceil(math.sqrt(d / EDGE_TOLERANCE_DEG))) if d > EDGE_TOLERANCE_DEG else 1
        pts = great_circle_path(a, b, n + 1)[:-1] if n > 1 else a[None, :]
        ring.extend((float(lon), float(lat)) for lat, lon in pts)
    return ring


def _cell_polygon(cell: str) -> Any:
    """One H3 cell as a shapely (Multi)Polygon in (lon, lat), cut at the antimeridian or closed over a pole."""
    import antimeridian
    from shapely.geometry import Polygon

    ring = _cell_ring(cell)
    lons = np.array([p[0] for p in ring] + [ring[0][0]])
    polygon = Polygon(ring)
    if np.abs(np.diff(lons)).max() <= 180.0:
        return polygon
    return antimeridian.fix_polygon(polygon, fix_winding=False)


def cells_shape(cells: Sequence[str]) -> Any:
    """The union of H3 ``cells`` as one valid shapely (Multi)Polygon in (lon, lat) degrees, cut at the
    antimeridian (see the module docstring); None for no cells."""
    import shapely
    from shapely.geometry import MultiPolygon, Polygon
    from shapely.geometry.polygon import orient

    unique = sorted(set(cells))
    if not unique:
        return None
    parts = [_cell_polygon(c) for c in unique]
    smallest = min(p.area for p in parts)
    merged = shapely.union_all(parts, grid_size=GRID_DEG)
    polygons = list(merged.geoms) if hasattr(merged, "geoms") else [merged]
    cleaned = []
    for poly in polygons:
        if isinstance(poly, Polygon) and not poly.is_empty:
            holes = [h for h in poly.interiors if Polygon(h).area >= SLIVER_SHARE * smallest]
            cleaned.append(orient(Polygon(poly.exterior, holes), 1.0))
    return cleaned[0] if len(cleaned) == 1 else MultiPolygon(cleaned)


def _ring_list(ring: Any) -> list[list[float]]:
    return [[round(float(x), DECIMALS), round(float(y), DECIMALS)] for x, y in ring.coords]


def _polygon_list(poly: Any) -> list[list[list[float]]]:
    return [_ring_list(poly.exterior)] + [_ring_list(h) for h in poly.interiors]


def cells_geometry(cells: Sequence[str]) -> dict[str, Any] | None:
    """The union of H3 ``cells`` as a GeoJSON Polygon or MultiPolygon (exterior rings anticlockwise, holes
    clockwise, as RFC 7946 asks), valid across the antimeridian and at the poles; None for no cells."""
    shp = cells_shape(cells)
    if shp is None:
        return None
    if shp.geom_type == "Polygon":
        return {"type": "Polygon", "coordinates": _polygon_list(shp)}
    return {"type": "MultiPolygon", "coordinates": [_polygon_list(p) for p in shp.geoms]}

