"""Settings dataclasses from plain dicts (YAML, JSON, checkpoints): one check of the keys for all of them."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import fields
from typing import TYPE_CHECKING, Any, TypeVar

from .errors import GeoforensicsError

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

T = TypeVar("T", bound="DataclassInstance")


def config_from_dict(
    cls: type[T],
    d: dict[str, Any] | None,
    what: str,
    nested: Mapping[str, Callable[[dict[str, Any]], object]] | None = None,
) -> T:
    """``cls(**d)`` for the dataclass ``cls``, refusing keys that are not its fields.

    ``what`` names the settings in the error ("model config", "data config", ...). A list given for a
    field annotated ``tuple[...]`` becomes a tuple (YAML and JSON have no tuples); ``nested`` maps a
    field to the function that builds it from its dict (an empty or null value gives ``{}``).
    """
    d = dict(d or {})
    types = {f.name: str(f.type) for f in fields(cls)}
    unknown = set(d) - set(types)
    if unknown:
        raise GeoforensicsError(f"unknown {what} fields: {', '.join(sorted(unknown))}")
    for key, value in d.items():
        if nested and key in nested:
            d[key] = nested[key](value or {})
        elif isinstance(value, list) and types[key].startswith("tuple"):
            d[key] = tuple(value)
    return cls(**d)


__all__ = ["config_from_dict"]
