"""Geodesy on a spherical Earth (R = 6371 km), the convention of the paper and its benchmark.

Every function takes and returns (lat, lon) in degrees, latitude first. Models that want another
order or unit convert at their edge with the named converters below (``to_lonlat``,
``latlon_to_radians``, ``latlon_to_xyz``).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import torch

EARTH_RADIUS_KM = 6371.0


class CoordinateError(ValueError):
    """Coordinates that are not finite (lat, lon) degrees within range."""


def as_latlon(points: Any, *, name: str = "coordinates") -> np.ndarray:
    """Return ``points`` as a float64 array of shape (..., 2), checked to be valid (lat, lon) degrees.

    Raises ``CoordinateError`` naming the first offending row: NaN/inf, |lat| > 90 or |lon| > 180.
    """
    arr = np.asarray(points, dtype=np.float64)
    if arr.shape[-1:] != (2,):
        raise CoordinateError(f"{name}: expected (lat, lon) pairs with last dimension 2, got shape {arr.shape}")
    flat = arr.reshape(-1, 2)
    bad = ~np.isfinite(flat).all(axis=1)
    if bad.any():
        i = int(np.argmax(bad))
        raise CoordinateError(f"{name}: row {i} is not finite: {flat[i].tolist()}")
    bad = np.abs(flat[:, 0]) > 90
    if bad.any():
        i = int(np.argmax(bad))
        raise CoordinateError(f"{name}: row {i} has latitude {flat[i, 0]} outside [-90, 90]")
    bad = np.abs(flat[:, 1]) > 180
    if bad.any():
        i = int(np.argmax(bad))
        raise CoordinateError(f"{name}: row {i} has longitude {flat[i, 1]} outside [-180, 180]")
    return arr


def wrap_lon(lon: Any) -> np.ndarray:
    """Wrap longitudes to [-180, 180)."""
    return (np.asarray(lon, dtype=np.float64) + 180.0) % 360.0 - 180.0


def to_lonlat(latlon: Any) -> np.ndarray:
    """(lat, lon) -> (lon, lat), for models such as SINR that take longitude first."""
    return np.asarray(latlon)[..., ::-1].copy()


def from_lonlat(lonlat: Any) -> np.ndarray:
    """(lon, lat) -> (lat, lon)."""
    return np.asarray(lonlat)[..., ::-1].copy()


def latlon_to_radians(latlon: Any) -> np.ndarray:
    """(lat, lon) in degrees -> (lat, lon) in radians."""
    return np.radians(np.asarray(latlon, dtype=np.float64))


def haversine_km(a: Any, b: Any) -> np.ndarray:
    """Great-circle distance in km between (lat, lon) arrays ``a`` and ``b`` (broadcasting)."""
    ra = np.radians(np.asarray(a, dtype=np.float64))
    rb = np.radians(np.asarray(b, dtype=np.float64))
    dlat = rb[..., 0] - ra[..., 0]
    dlon = rb[..., 1] - ra[..., 1]
    h = np.sin(dlat / 2) ** 2 + np.cos(ra[..., 0]) * np.cos(rb[..., 0]) * np.sin(dlon / 2) ** 2
    d: np.ndarray = 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(h, 0.0, 1.0)))
    return d


def haversine_matrix_km(a: Any, b: Any) -> np.ndarray:
    """All pairwise distances in km: (N, 2) x (M, 2) -> (N, M)."""
    return haversine_km(np.asarray(a)[:, None, :], np.asarray(b)[None, :, :])


def haversine_km_torch(a: torch.Tensor, b: torch.Tensor, eps: float = 1e-20) -> torch.Tensor:
    """Differentiable Haversine distance in km for (..., 2) (lat, lon) degree tensors.

    The square root is kept away from 0 by ``eps`` so the gradient is finite when a == b.
    """
    import torch

    a = torch.deg2rad(a)
    b = torch.deg2rad(b)
    dlat = b[..., 0] - a[..., 0]
    dlon = b[..., 1] - a[..., 1]
    h = torch.sin(dlat / 2) ** 2 + torch.cos(a[..., 0]) * torch.cos(b[..., 0]) * torch.sin(dlon / 2) ** 2
    return 2 * EARTH_RADIUS_KM * torch.asin(torch.sqrt(h.clamp(eps, 1.0)))


def latlon_to_xyz(latlon: Any) -> np.ndarray:
    """(lat, lon) degrees -> unit-sphere (x, y, z); x towards (0, 0), z towards the north pole."""
    r = np.radians(np.asarray(latlon, dtype=np.float64))
    lat, lon = r[..., 0], r[..., 1]
    return np.stack([np.cos(lat) * np.cos(lon), np.cos(lat) * np.sin(lon), np.sin(lat)], axis=-1)


def xyz_to_latlon(xyz: Any) -> np.ndarray:
    """Any non-zero (x, y, z) (normalised here) -> (lat, lon) degrees."""
    v = np.asarray(xyz, dtype=np.float64)
    norm = np.linalg.norm(v, axis=-1, keepdims=True)
    if np.any(norm == 0):
        raise CoordinateError("xyz_to_latlon: zero vector has no direction")
    v = v / norm
    lat = np.degrees(np.arcsin(np.clip(v[..., 2], -1.0, 1.0)))
    lon = np.degrees(np.arctan2(v[..., 1], v[..., 0]))
    return np.stack([lat, lon], axis=-1)


def latlon_to_xyz_torch(latlon: torch.Tensor) -> torch.Tensor:
    """Torch version of ``latlon_to_xyz``."""
    import torch

    r = torch.deg2rad(latlon)
    lat, lon = r[..., 0], r[..., 1]
    return torch.stack([torch.cos(lat) * torch.cos(lon), torch.cos(lat) * torch.sin(lon), torch.sin(lat)], dim=-1)


def xyz_to_latlon_torch(xyz: torch.Tensor) -> torch.Tensor:
    """Torch version of ``xyz_to_latlon`` (normalises its input)."""
    import torch

    v = torch.nn.functional.normalize(xyz, dim=-1)
    lat = torch.rad2deg(torch.asin(v[..., 2].clamp(-1.0, 1.0)))
    lon = torch.rad2deg(torch.atan2(v[..., 1], v[..., 0]))
    return torch.stack([lat, lon], dim=-1)


def spherical_mean(latlon: Any, weights: Any | None = None) -> np.ndarray:
    """Weighted centroid of points on the sphere (mean of unit vectors), as (lat, lon).

    Unlike averaging degrees, this is right across the antimeridian. For antipodal or evenly
    spread points the centroid is ill-defined; the result then follows floating-point noise.
    """
    xyz = latlon_to_xyz(latlon).reshape(-1, 3)
    w = np.ones(len(xyz)) if weights is None else np.asarray(weights, dtype=np.float64).reshape(-1)
    return xyz_to_latlon((xyz * w[:, None]).sum(axis=0))


def great_circle_path(a: Any, b: Any, n: int = 64) -> np.ndarray:
    """``n`` points (lat, lon) along the shorter great-circle arc from ``a`` to ``b``, ends included.

    Uses spherical linear interpolation, so it is correct across the antimeridian and near the
    poles. Longitudes are wrapped to [-180, 180); use ``split_at_antimeridian`` before drawing
    with a renderer that joins points by straight lines in longitude.
    """
    if n < 2:
        raise ValueError("great_circle_path needs n >= 2")
    pa, pb = latlon_to_xyz(as_latlon(a)), latlon_to_xyz(as_latlon(b))
    omega = math.acos(float(np.clip(np.dot(pa, pb), -1.0, 1.0)))
    t = np.linspace(0.0, 1.0, n)[:, None]
    if omega < 1e-12:
        pts = np.repeat(pa[None, :], n, axis=0)
    elif abs(omega - math.pi) < 1e-9:
        # Antipodes: every great circle joins them; take the one through the north pole
        # (or through (0, 90) when they are the poles themselves).
        ref = np.array([0.0, 0.0, 1.0]) if abs(pa[2]) < 0.999 else np.array([0.0, 1.0, 0.0])
        mid = ref - np.dot(ref, pa) * pa
        mid /= np.linalg.norm(mid)
        angle = t * math.pi
        pts = np.cos(angle) * pa + np.sin(angle) * mid
    else:
        pts = (np.sin((1 - t) * omega) * pa + np.sin(t * omega) * pb) / math.sin(omega)
    out = xyz_to_latlon(pts)
    out[:, 1] = wrap_lon(out[:, 1])
    return out


def split_at_antimeridian(path: Any) -> list[np.ndarray]:
    """Split a (lat, lon) polyline wherever consecutive longitudes jump by more than 180 degrees."""
    path = np.asarray(path, dtype=np.float64)
    if len(path) == 0:
        return []
    jumps = np.nonzero(np.abs(np.diff(path[:, 1])) > 180.0)[0]
    return [seg for seg in np.split(path, jumps + 1) if len(seg)]


def split_line(path: Any) -> list[np.ndarray]:
    """``split_at_antimeridian``, with each piece extended to the ±180° meridian where it is cut,
    so the pieces meet at the map edge."""
    segs = split_at_antimeridian(path)
    if len(segs) < 2:
        return segs
    out = [seg.copy() for seg in segs]
    for i in range(len(segs) - 1):
        (lat1, lon1), (lat2, lon2) = segs[i][-1], segs[i + 1][0]
        edge = 180.0 if lon1 > 0 else -180.0
        lon2u = lon2 + 360.0 if lon1 > 0 else lon2 - 360.0
        t = (edge - lon1) / (lon2u - lon1) if lon2u != lon1 else 0.0
        lat = lat1 + t * (lat2 - lat1)
        out[i] = np.vstack([out[i], [lat, edge]])
        out[i + 1] = np.vstack([[lat, -edge], out[i + 1]])
    return out


def destination_point(origin: Any, bearing_deg: float, distance_km: float) -> np.ndarray:
    """The point reached from ``origin`` after ``distance_km`` along the initial ``bearing_deg``."""
    lat1, lon1 = np.radians(as_latlon(origin))
    brg = math.radians(bearing_deg)
    d = distance_km / EARTH_RADIUS_KM
    lat2 = math.asin(math.sin(lat1) * math.cos(d) + math.cos(lat1) * math.sin(d) * math.cos(brg))
    lon2 = lon1 + math.atan2(
        math.sin(brg) * math.sin(d) * math.cos(lat1), math.cos(d) - math.sin(lat1) * math.sin(lat2)
    )
    return np.array([math.degrees(lat2), float(wrap_lon(math.degrees(lon2)))])


def circle_polygon(center: Any, radius_km: float, n: int = 72) -> np.ndarray:
    """A closed (lat, lon) ring of ``n`` + 1 points at ``radius_km`` around ``center`` (for maps)."""
    ring = np.array([destination_point(center, b, radius_km) for b in np.linspace(0, 360, n, endpoint=False)])
    return np.vstack([ring, ring[:1]])
