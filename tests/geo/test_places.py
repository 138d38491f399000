"""Offline place names of coordinates."""

import numpy as np
import pytest

from geoforensics.geo.places import nearest_places, place_name, place_names


def test_nearest_place_carries_country_and_distance():
    (row,) = nearest_places([(21.98, -159.37)])
    assert (row["name"], row["admin1"], row["cc"]) == ("Lihue", "Hawaii", "US")
    assert row["lat"] == pytest.approx(21.98, abs=0.01) and row["distance_km"] < 2
    assert nearest_places(np.zeros((0, 2))) == []


def test_place_names():
    assert place_name(21.98, -159.37) == "near Lihue, Hawaii, US"
    far = place_names([(-80.0, 0.0)])[0]
    assert far.endswith("GS") and " km from " in far
