"""Checks of the arguments users give the Python API and the command line: one clear :class:`InputError`
for a bad number, the same words everywhere (``cli.options.number`` turns them into usage errors)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .errors import InputError


def number(
    value: Any, name: str, kind: type = float, low: float | None = None, high: float | None = None, *,
    above: bool = False,
) -> Any:
    """``value`` as ``kind`` (int or float; text is read), finite, at least ``low`` (more than ``low`` with
    ``above``) and at most ``high``; :class:`InputError` naming ``name`` otherwise."""
    what = "a whole number" if kind is int else "a number"
    if isinstance(value, (bool, np.bool_)):
        raise InputError(f"{name} must be {what}, not {value!r}")
    try:
        parsed = kind(value.strip() if isinstance(value, str) else value)
    except (TypeError, ValueError, OverflowError):
        shown = value if isinstance(value, (str, int, float)) else type(value).__name__
        raise InputError(f"{name} must be {what}, got {shown!r}") from None
    if kind is int and not isinstance(value, str) and float(value) != parsed:
        raise InputError(f"{name} must be {what}, got {value!r}")
    if not math.isfinite(parsed):
        raise InputError(f"{name} must be a finite number, got {value!r}")
    too_low = low is not None and (parsed <= low if above else parsed < low)
    if too_low or (high is not None and parsed > high):
        if low is not None and high is not None:
            bound = f"more than {low:g} and at most {high:g}" if above else f"from {low:g} to {high:g}"
        elif low is not None:
            bound = f"more than {low:g}" if above else f"at least {low:g}"
        else:
            bound = f"at most {high:g}"
        raise InputError(f"{name} must be {bound}, got {value}")
    return parsed


__all__ = ["number"]
