"""Reading claims: typed coordinates and place names, and clean refusals."""

from __future__ import annotations

import pytest

from geoforensics.errors import InputError
from geoforensics.forensics import claims as C


@pytest.mark.parametrize(
    "text, latlon",
    [("22.05,-159.5", (22.05, -159.5)), ("22.05 N 159.5 W", (22.05, -159.5)), ("Lihue, Hawaii", (21.98, -159.37))],
)
def test_typed_claims(text, latlon):
    claim = C.resolve_claim(text)
    assert claim.source == "typed"
    assert claim.lat == pytest.approx(latlon[0], abs=0.05) and claim.lon == pytest.approx(latlon[1], abs=0.05)


def test_bad_claims_are_refused():
    for bad in ("91, 0", "", "zzqxv nowhere land"):
        with pytest.raises(InputError):
            C.resolve_claim(bad)
    with pytest.raises(InputError):
        C.resolve_claim(("north", 3))


