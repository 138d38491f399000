"""Claims: the place a clip is said to come from, typed ("lat, lon" or a place name, geocoded offline),
clicked on a map, the file's own GPS tag (a claim to test, never an input to a prediction), a CSV row,
or the picture's guess; many claims come in a CSV (:func:`read_claims_csv`). Checking a claim is
:mod:`geoforensics.forensics.checker`'s job."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ..dates import RecordingDate, parse_date
from ..errors import InputError
from ..geo.gazetteer import geocode
from ..geo.geodesy import as_latlon
from ..geo.places import place_name
from ..tables import (
    DATE_COLUMNS,
    FILE_COLUMNS,
    LAT_COLUMNS,
    LON_COLUMNS,
    find_column,
    open_table,
    parse_latlon,
    pick_column,
)

CLAIM_SOURCES = ("typed", "map", "file tag", "image guess", "csv", "api")


@dataclass
class Claim:
    """A place a clip is said to come from, (lat, lon) degrees, with where the claim comes from."""

    lat: float
    lon: float
    source: str = "api"
    label: str = ""
    alternatives: list[str] = field(default_factory=list)
    """Other places a typed name could mean (best first), so a user can pick another."""

    def __post_init__(self) -> None:
        lat, lon = as_latlon([[self.lat, self.lon]], name="claim")[0]
        self.lat, self.lon = float(lat), float(lon)
        if self.source not in CLAIM_SOURCES:
            raise InputError(f"claim source must be one of {CLAIM_SOURCES}, not {self.source!r}")
        if not self.label:
            self.label = f"{self.lat:.4f}, {self.lon:.4f}"

    @property
    def latlon(self) -> tuple[float, float]:
        return (self.lat, self.lon)


def point_label(lat: float, lon: float) -> str:
    """ "21.9789, -159.3711 (near Lihue, Hawaii, US)": a point and the nearest named place (offline)."""
    return f"{lat:.4f}, {lon:.4f} ({place_name(lat, lon)})"


def claim_candidates(text: str, source: str = "typed", limit: int = 6) -> list[Claim]:
    """The places a typed claim could mean, best first, each a :class:`Claim`: "lat, lon" in the
    common forms gives one, a place name up to ``limit`` geocoded offline. The first carries the
    others' labels as ``alternatives``. :class:`InputError` when the text names nothing."""
    places = geocode(text, limit=max(limit, 1))
    out = []
    for p in places:
        if p.kind == "coordinates":
            label = point_label(p.lat, p.lon)
        else:
            label = p.label + (f" ({p.note})" if p.note else "")
        out.append(Claim(p.lat, p.lon, source, label))
    out[0].alternatives = [p.label for p in places[1:]]
    return out


def resolve_claim(claim: Claim | str | Sequence[float], source: str = "typed") -> Claim:
    """A :class:`Claim` from a Claim, a (lat, lon) pair, or text: "lat, lon" in the common forms or a
    place name geocoded offline (the best candidate; the others become ``alternatives``)."""
    if isinstance(claim, Claim):
        return claim
    if isinstance(claim, str):
        return claim_candidates(claim, source)[0]
    try:
        lat, lon = (float(v) for v in claim)
    except (TypeError, ValueError):
        raise InputError(f"a claim is 'lat, lon' or a place name, not {claim!r}") from None
    return Claim(lat, lon, source)


@dataclass(frozen=True)
class ClaimRow:
    """One row of a claims CSV: the file, the place claimed for it, its date (or None) and its line."""

    file: Path
    lat: float
    lon: float
    date: RecordingDate | None
    line: int


MAX_CLAIMS = 1_000_000
"""Most rows a claims CSV may hold (each file named in it is analysed once)."""


def read_claims_csv(path: str | os.PathLike[str]) -> list[ClaimRow]:
    """Rows of a claims CSV (columns file, latitude, longitude and optionally date, under any of the names
    :mod:`geoforensics.tables` knows; other columns ignored), read as a stream (at most :data:`MAX_CLAIMS`). A
    relative ``file`` is looked up beside the CSV first, then from here; a file named again is looked up once.
    :class:`InputError`, naming the line, for a missing column, a bad place or date, or no rows."""
    csv_path = Path(path)
    where = f"claims CSV {csv_path.name}"
    out = []
    found: dict[str, Path] = {}
    with open_table(csv_path, role="claims CSV", max_rows=MAX_CLAIMS) as (header, rows):
        i_file = find_column(header, None, FILE_COLUMNS, "file", where)
        i_lat = find_column(header, None, LAT_COLUMNS, "latitude", where)
        i_lon = find_column(header, None, LON_COLUMNS, "longitude", where)
        date_column = pick_column(header, DATE_COLUMNS)
        i_date = header.index(date_column) if date_column is not None else None
        need = max(i_file, i_lat, i_lon)
        for line, row in rows:
            if len(row) <= need:
                raise InputError(f"{where}: line {line} has {len(row)} fields, expected at least {need + 1}")
            lat, lon = parse_latlon(row[i_lat], row[i_lon], f"{where}: line {line}")
            name = row[i_file].strip()
            if not name:
                raise InputError(f"{where}: line {line} names no file")
            if name not in found:
                beside = csv_path.parent / name
                found[name] = beside if not Path(name).is_absolute() and beside.exists() else Path(name)
            text = row[i_date] if i_date is not None and i_date < len(row) else ""
            try:
                date = parse_date(text)
            except InputError as e:
                raise InputError(f"{where}: line {line}: {e}") from None
            out.append(ClaimRow(found[name], lat, lon, date, line))
    if not out:
        raise InputError(f"{where}: no data rows after the header")
    return out


__all__ = ["CLAIM_SOURCES", "MAX_CLAIMS", "Claim", "ClaimRow", "claim_candidates", "point_label", "read_claims_csv",
           "resolve_claim"]
