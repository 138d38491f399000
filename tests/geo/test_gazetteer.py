"""Offline gazetteer: coordinates in the common forms, and place names from the GeoNames cities."""

import json

import pytest

from geoforensics.errors import InputError
from geoforensics.geo.gazetteer import Place, geocode, normalize, parse_coordinates


@pytest.mark.parametrize(
    "text",
    [
        "22.05,-159.5",
        "22.05, -159.5",
        "22.05 -159.5",
        "(22.05; -159.5)",
        "22.05 N 159.5 W",
        "22.05N, 159.5W",
        "N 22.05 W 159.5",
        "159.5 W 22.05 N",
        "22.05° N, 159.5° W",
        "22°3'0\"N 159°30'0\"W",
        "22°03′00″N 159°30′00″W",
        "22 3 0 N 159 30 0 W",
        "22d3m0sN 159d30m0sW",
        "22° 3' N, 159° 30' W",
        "lat 22.05 lon -159.5",
        "22.05 north 159.5 west",
    ],
)
def test_coordinate_forms(text):
    lat, lon = parse_coordinates(text)
    assert lat == pytest.approx(22.05, abs=1e-9) and lon == pytest.approx(-159.5, abs=1e-9)


def test_southern_and_eastern_hemispheres():
    assert parse_coordinates("33.87 S 151.21 E") == pytest.approx((-33.87, 151.21))
    assert parse_coordinates("-33.87, 151.21") == pytest.approx((-33.87, 151.21))
    assert parse_coordinates("33 52 S 151 12 E") == pytest.approx((-(33 + 52 / 60), 151.2))


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("91, 0", "latitude 91 is outside"),
        ("-90.5, 10", "latitude -90.5 is outside"),
        ("0, 181", "longitude 181 is outside"),
        ("22 N 23 S", "both values .* are latitudes"),
        ("-22 S 10 E", "negative value with a hemisphere"),
        ("22°75'N 10E", "below 60"),
        ("22.5°30'N 10E", "decimal part"),
        ("22.05 -159.5 -3", "cannot read"),
        ("22,05 -159,5", "cannot read"),
    ],
)
def test_bad_coordinates_are_refused_with_a_reason(text, match):
    with pytest.raises(InputError, match=match):
        parse_coordinates(text)
    with pytest.raises(InputError, match=match):
        geocode(text)


def test_names_are_not_coordinates():
    assert parse_coordinates("Lihue, Hawaii") is None
    assert parse_coordinates("Route 66, Arizona") is None


def test_coordinates_give_one_candidate():
    (p,) = geocode("22.05,-159.5")
    assert (p.lat, p.lon, p.kind, p.match) == (22.05, -159.5, "coordinates", "parsed")


def test_normalize_ignores_case_accents_and_punctuation():
    assert normalize("Zürich") == normalize("ZURICH") == "zurich"
    assert normalize("Kapa'a") == normalize("Kapaa")
    assert normalize("St. Louis") == normalize("Saint Louis") == "saint louis"
    assert normalize("São Tomé & Príncipe") == "sao tome and principe"


def test_lihue_hawaii():
    p = geocode("Lihue, Hawaii")[0]
    assert (p.name, p.admin1, p.cc, p.kind) == ("Lihue", "Hawaii", "US", "city")
    assert p.lat == pytest.approx(21.98, abs=0.01) and p.lon == pytest.approx(-159.37, abs=0.01)
    assert p.label == "Lihue, Hawaii, United States"
    assert geocode("lihue hawaii")[0].latlon == p.latlon
    assert geocode("LIHUE, HI")[0].latlon == p.latlon


def test_paris_is_ranked_with_the_others_listed():
    cands = geocode("Paris")
    assert (cands[0].name, cands[0].cc) == ("Paris", "FR")
    assert len(cands) >= 5 and len({p.label for p in cands}) == len(cands)
    assert any(p.admin1 == "Texas" for p in geocode("Paris", limit=20))
    assert geocode("Paris, TX")[0].admin1 == "Texas"
    assert geocode("Paris Texas")[0].admin1 == "Texas"
    assert geocode("Paris, France")[0].cc == "FR"


def test_unmatched_qualifier_keeps_the_candidates_with_a_note():
    cands = geocode("Paris, Atlantis")
    assert cands[0].cc == "FR" and "'Atlantis' matched none of them" in cands[0].note


def test_island_without_a_city_matches_its_county():
    p = geocode("Kauai")[0]
    assert p.kind == "county" and p.admin1 == "Hawaii" and p.cc == "US"
    assert 21.8 < p.lat < 22.3 and -159.8 < p.lon < -159.2
    assert "Kauai County" in p.note


def test_close_spelling_is_found_and_flagged():
    p = geocode("Lihuee")[0]
    assert (p.name, p.match) == ("Lihue", "fuzzy")
    assert "close spelling" in p.note


def test_accents_and_other_names():
    assert geocode("Zürich")[0].cc == "CH"
    assert geocode("São Paulo, Brazil")[0].name == "Sao Paulo"
    assert geocode("Osaka")[0].name == "Osaka-shi"
    assert geocode("New York")[0].name == "New York City"
    assert geocode("Kyiv")[0].name == "Kiev"


def test_country_alone_gives_its_capital_with_a_note():
    p = geocode("France")[0]
    assert (p.kind, p.cc) == ("country", "FR")
    assert p.lat == pytest.approx(48.85, abs=0.05) and "capital, Paris" in p.note
    assert geocode("Georgia")[0].cc == "GE"  # the country first, the US state after
    assert any(p.kind == "region" and p.cc == "US" for p in geocode("Georgia"))


@pytest.mark.parametrize(
    ("text", "cc", "lat", "lon"),
    [("Berlin", "DE", 52.52, 13.41), ("Chicago", "US", 41.85, -87.65), ("Tokyo", "JP", 35.69, 139.69)],
)
def test_capitals_and_big_cities_come_first(text, cc, lat, lon):
    p = geocode(text)[0]
    assert p.cc == cc and p.lat == pytest.approx(lat, abs=0.05) and p.lon == pytest.approx(lon, abs=0.05)


@pytest.mark.parametrize("text", ["", "   ", ",", "x" * 201])
def test_empty_or_huge_text_is_refused(text):
    with pytest.raises(InputError):
        geocode(text)


def test_unknown_name_is_refused():
    with pytest.raises(InputError, match="no place called 'Qwzxv Plqrs'"):
        geocode("Qwzxv Plqrs")


def test_place_serialises():
    d = json.loads(json.dumps(geocode("Lihue, Hawaii")[0].to_dict()))
    assert d["label"] == "Lihue, Hawaii, United States" and d["country"] == "United States"
    assert Place(**{k: v for k, v in d.items() if k not in ("label", "country")}) == geocode("Lihue, Hawaii")[0]
