"""Results for GIS tools: GeoJSON (QGIS, GDAL, geopandas, web maps) and KML (Google Earth).

Build a FeatureCollection with :func:`result_collection` (one clip: guesses, regions, candidates,
claims and the distances between them) or :func:`batch_collection` (one point per batch row), then
write it with :func:`write_geojson`, :func:`write_kml` or :func:`write_gis` (by the file's suffix).
Geometry: :mod:`geoforensics.gis.geometry`; properties: :mod:`geoforensics.gis.features`; KML:
:mod:`geoforensics.gis.kml`.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..atomic import write_text
from ..errors import InputError
from .features import ClaimResult, batch_collection, collection, result_collection
from .geometry import cells_geometry, great_circle_geometry, point_geometry
from .kml import to_kml

GEOJSON_SUFFIXES = (".geojson", ".json")
KML_SUFFIXES = (".kml",)


def to_geojson(collection: Mapping[str, Any], indent: int | None = None) -> str:
    """The GeoJSON text of a FeatureCollection (strict JSON: no NaN)."""
    return json.dumps(collection, indent=indent, allow_nan=False, ensure_ascii=False) + "\n"


def write_geojson(path: str | os.PathLike[str], collection: Mapping[str, Any]) -> Path:
    """Write ``collection`` as GeoJSON to ``path`` (atomically); returns the path."""
    return write_text(path, to_geojson(collection))


def write_kml(path: str | os.PathLike[str], collection: Mapping[str, Any], *, name: str | None = None) -> Path:
    """Write ``collection`` as KML 2.2 to ``path`` (atomically); returns the path."""
    return write_text(path, to_kml(collection, name=name))


def write_gis(path: str | os.PathLike[str], collection: Mapping[str, Any]) -> Path:
    """GeoJSON or KML by the suffix of ``path`` (``.geojson``/``.json`` or ``.kml``); :class:`InputError` else."""
    suffix = Path(path).suffix.lower()
    if suffix in GEOJSON_SUFFIXES:
        return write_geojson(path, collection)
    if suffix in KML_SUFFIXES:
        return write_kml(path, collection)
    raise InputError(f"{Path(path).name}: name a .geojson or .kml file for the map layers")


__all__ = [
    "GEOJSON_SUFFIXES",
    "KML_SUFFIXES",
    "ClaimResult",
    "batch_collection",
    "cells_geometry",
    "collection",
    "great_circle_geometry",
    "point_geometry",
    "result_collection",
    "to_geojson",
    "to_kml",
    "write_geojson",
    "write_gis",
    "write_kml",
]
