"""A species' year-round range over the land gallery, for drawing on the maps."""

from __future__ import annotations

import numpy as np

from ..errors import InputError
from ..geolocators import get_geolocator
from ..geolocators.species_ranges import SpeciesRangeGeolocator
from .errors import text_input


def species_range(scientific_name: str) -> tuple[str, np.ndarray, np.ndarray]:
    """(label, (N, 2) lat/lon, (N,) occurrence) of a BirdNET species, read from the memory-mapped
    year-round range table of the default audio geolocator (built once, then shared)."""
    name = text_input(scientific_name, "the species")
    if not name:
        raise InputError("no species selected")
    geo = get_geolocator("species-ranges")
    assert isinstance(geo, SpeciesRangeGeolocator)  # its range table, not only predict
    labels = geo.species_names()
    try:
        i = labels.index(name)
    except KeyError:
        raise InputError(f"unknown species {name!r}") from None
    values = geo.table(-1).rows([i])[0]
    return f"{labels.common[i]} ({labels.scientific[i]})", geo.gallery, values
