"""The one builder of settings dataclasses from plain dicts."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from geoforensics.config import config_from_dict
from geoforensics.errors import GeoforensicsError


@dataclass(frozen=True)
class Inner:
    size: int = 1


@dataclass(frozen=True)
class Outer:
    name: str = "x"
    bins: tuple[float, ...] = (0.1, 0.2)
    tags: list[str] = field(default_factory=list)
    inner: Inner = field(default_factory=Inner)


def test_fields_tuples_and_nested():
    nested = {"inner": lambda d: config_from_dict(Inner, d, "inner")}
    o = config_from_dict(Outer, {"bins": [1, 2], "tags": ["a"], "inner": {"size": 3}}, "outer", nested)
    assert o == Outer(bins=(1, 2), tags=["a"], inner=Inner(3))
    assert config_from_dict(Outer, None, "outer") == Outer()
    assert config_from_dict(Outer, {"inner": None}, "outer", {"inner": lambda d: Inner(**d)}).inner == Inner()


def test_unknown_keys_are_named():
    with pytest.raises(GeoforensicsError, match="unknown outer fields: nme, sizes"):
        config_from_dict(Outer, {"nme": "y", "sizes": 2}, "outer")
