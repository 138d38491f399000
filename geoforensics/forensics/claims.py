"""Claims: the place a clip is said to come from, typed ("lat, lon" or a place name, geocoded offline),
clicked on a map, the file's own GPS tag (a claim to test, never an input to a prediction), a CSV row,
or the picture's guess. Checking a claim is :mod:`geoforensics.forensics.checker`'s job."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from ..errors import InputError
from ..geo.gazetteer import geocode
from ..geo.geodesy import as_latlon
from ..geo.places import place_name

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


__all__ = ["CLAIM_SOURCES", "Claim", "claim_candidates", "point_label", "resolve_claim"]
