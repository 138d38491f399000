"""Geodesy, metrics, H3 cells, galleries and place names. (lat, lon) in degrees everywhere."""

from .geodesy import (
    EARTH_RADIUS_KM,
    CoordinateError,
    as_latlon,
    great_circle_path,
    haversine_km,
    haversine_km_torch,
    haversine_matrix_km,
    latlon_to_xyz,
    xyz_to_latlon,
)

__all__ = [
    "EARTH_RADIUS_KM",
    "CoordinateError",
    "as_latlon",
    "great_circle_path",
    "haversine_km",
    "haversine_km_torch",
    "haversine_matrix_km",
    "latlon_to_xyz",
    "xyz_to_latlon",
]
