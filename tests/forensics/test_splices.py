"""Changes of place within a soundtrack, on the tiny fake world."""

from __future__ import annotations

import pytest

from geoforensics.forensics import splices as S

from .conftest import window_scores as scores


def test_a_splice_between_continents_is_found_and_a_single_place_is_not(geo):
    europe = [0.95, 0.0, 0.0, 0.0]
    australia = [0.0, 0.0, 0.0, 0.95]
    spliced = S.find_splice(scores(*([europe] * 8 + [australia] * 8)), geo)
    assert spliced.detected and spliced.change_s == pytest.approx(12.0)
    a, b = spliced.segments
    assert a.species == ["PARIS"] and b.species == ["SYDNEY"]
    assert spliced.distance_km > 10000
    plain = S.find_splice(scores(*([europe] * 16)), geo)
    assert not plain.detected
    mixed = S.find_splice(scores(*([europe, [0.0, 0.9, 0.0, 0.0]] * 8)), geo)  # Paris and Madrid birds together
    assert not mixed.detected


def test_short_clips_have_no_splice(geo):
    assert not S.find_splice(scores(*([[0.9, 0, 0, 0]] * 5)), geo).detected


