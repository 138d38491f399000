"""Geodesy, metrics, H3 cells, galleries and place names. (lat, lon) in degrees everywhere."""

from .gazetteer import Place, geocode, parse_coordinates
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
from .grid import GridFrequency, gallery_grid_mask, grid_frequency, grid_mask

__all__ = [
    "EARTH_RADIUS_KM",
    "CoordinateError",
    "GridFrequency",
    "Place",
    "as_latlon",
    "gallery_grid_mask",
    "geocode",
    "great_circle_path",
    "grid_frequency",
    "grid_mask",
    "haversine_km",
    "haversine_km_torch",
    "haversine_matrix_km",
    "latlon_to_xyz",
    "parse_coordinates",
    "xyz_to_latlon",
]
