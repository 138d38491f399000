"""Offline place names for coordinates (GeoNames cities > 1000 people, via ``reverse_geocoder``)."""

from __future__ import annotations

import contextlib
import io
from functools import lru_cache
from typing import Any

from .geodesy import as_latlon, haversine_km


@lru_cache(maxsize=1)
def _geocoder() -> Any:
    """reverse_geocoder's RGeocoder (the package ships no types), loaded once."""
    import reverse_geocoder

    # mode=1: single process; the package prints a loading banner, which we keep off stdout.
    with contextlib.redirect_stdout(io.StringIO()):
        return reverse_geocoder.RGeocoder(mode=1, verbose=False)


def nearest_places(latlon: Any) -> list[dict[str, Any]]:
    """The nearest GeoNames populated place per point: ``name``, ``admin1``, ``admin2``, ``cc`` (ISO
    3166 country code), its ``lat``/``lon`` and ``distance_km`` from the point."""
    pts = as_latlon(latlon).reshape(-1, 2)
    if len(pts) == 0:
        return []
    rows = _geocoder().query([tuple(map(float, p)) for p in pts])
    out = []
    for p, row in zip(pts, rows):
        lat, lon = float(row["lat"]), float(row["lon"])
        out.append(
            {
                "name": row.get("name", ""),
                "admin1": row.get("admin1", ""),
                "admin2": row.get("admin2", ""),
                "cc": row.get("cc", ""),
                "lat": lat,
                "lon": lon,
                "distance_km": float(haversine_km(p, (lat, lon))),
            }
        )
    return out


def place_names(latlon: Any) -> list[str]:
    """A short human name per point: "near City, Region, CC" with the distance when far.

    The nearest populated place may be far away (oceans, deserts); the name then says how far,
    e.g. "640 km from Nuuk, Sermersooq, GL".
    """
    names = []
    for row in nearest_places(latlon):
        label = ", ".join(x for x in (row["name"], row["admin1"], row["cc"]) if x)
        d = row["distance_km"]
        names.append(f"near {label}" if d < 50 else f"{d:,.0f} km from {label}")
    return names


def place_name(lat: float, lon: float) -> str:
    """``place_names`` for one point."""
    return place_names([(lat, lon)])[0]
