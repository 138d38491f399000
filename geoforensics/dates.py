"""Recording dates: one strict parser for what a user types, one lenient reader for dataset metadata,
and the range model's week of a date.

* :func:`parse_date` reads a date a *user* gives (``--date``, the app's box, the Python API, a claims
  CSV): ``YYYY-MM-DD`` or ``YYYY-MM`` in ASCII digits, a real calendar day, a year from
  :data:`MIN_YEAR` to :data:`MAX_YEAR`; a ``datetime.date``; or a month number 1-12. Anything else
  (``2021-02-30``, ``20210514``, ``2021-05-14garbage``, ``2021.5``) is an :class:`InputError` that
  says which forms work, raised before any audio is read.
* :func:`metadata_date` reads the dates datasets carry, which come in many shapes (``2021-05-04
  06:10:00+00:00``, ``2021/05/04``, Xeno-canto's ``2021-05-00``); see its docstring.
* :func:`week_of` is the range model's week (1-48, four per month) of either, or -1 without a date.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

import numpy as np

from .errors import InputError

MIN_YEAR = 1850
"""Earliest year a recording date may have (the oldest sound archives start around 1890)."""
MAX_YEAR = 2100
"""Latest year a recording date may have."""

_USER_DATE = re.compile(r"(\d{4})-(\d{2})(?:-(\d{2}))?", re.ASCII)
FORMS = "YYYY-MM-DD or YYYY-MM, e.g. 2021-05-14"


@dataclass(frozen=True, order=True)
class RecordingDate:
    """A recording date as precise as it is known: a day, a month of a year, or a month alone."""

    year: int | None
    month: int
    day: int | None = None

    def __str__(self) -> str:
        if self.year is None:
            return f"month {self.month}"
        return f"{self.year:04d}-{self.month:02d}" + (f"-{self.day:02d}" if self.day is not None else "")

    @property
    def week(self) -> int:
        """The range model's week, 1-48 (four per month; a month alone is its second week)."""
        if self.day is None:
            return (self.month - 1) * 4 + 2
        return (self.month - 1) * 4 + min(4, (self.day - 1) // 7 + 1)


def _checked(year: int | None, month: int, day: int | None, text: object) -> RecordingDate:
    if year is not None and not MIN_YEAR <= year <= MAX_YEAR:
        raise InputError(f"date {text!r}: the year must be from {MIN_YEAR} to {MAX_YEAR}")
    if not 1 <= month <= 12:
        raise InputError(f"date {text!r}: the month must be 01 to 12")
    if day is not None:
        try:
            dt.date(year or 2000, month, day)
        except ValueError:
            raise InputError(f"date {text!r}: there is no day {day} in that month") from None
    return RecordingDate(year, month, day)


def parse_date(value: object) -> RecordingDate | None:
    """A date a user gave (see the module docstring); None for None or blank text.
    :class:`InputError` for anything else."""
    if value is None or isinstance(value, RecordingDate):
        return value
    if isinstance(value, dt.date):  # datetime.datetime too
        return _checked(value.year, value.month, value.day, value.isoformat())
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        if not 1 <= int(value) <= 12:
            raise InputError(f"a date given as a number is a month, 1 to 12, not {value}")
        return RecordingDate(None, int(value), None)
    if not isinstance(value, str):
        raise InputError(f"a date is text ({FORMS}), a datetime.date or a month 1-12, not {type(value).__name__} {value!r}")
    text = value.strip()
    if not text:
        return None
    m = _USER_DATE.fullmatch(text)
    if m is None:
        shown = text if len(text) <= 40 else text[:39] + "…"
        raise InputError(f"unreadable date {shown!r}: use {FORMS}")
    year, month, day = (int(g) if g is not None else None for g in m.groups())
    assert year is not None and month is not None
    return _checked(year, month, day, text)


def week_of(value: object) -> int:
    """The range model's week (1-48) of a user's date (:func:`parse_date`) or a ``datetime.date``;
    -1 without one."""
    date = parse_date(value)
    return -1 if date is None else date.week


# ---------------------------------------------------------------- dates in dataset metadata

_EMPTY_TOKENS = {"", "?", "unknown", "nan", "none", "null", "n/a", "na", "-"}
_ISO_PREFIX = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:[T ].*)?$", re.ASCII)
_SLASHED = re.compile(r"^(\d{4})/(\d{1,2})/(\d{1,2})$", re.ASCII)
_COMPACT = re.compile(r"^(\d{4})(\d{2})(\d{2})$", re.ASCII)
_YEAR_MONTH = re.compile(r"^(\d{4})-(\d{1,2})$", re.ASCII)
_YEAR = re.compile(r"^(\d{4})$", re.ASCII)


def metadata_date(text: object, context: str = "date") -> tuple[dt.date | None, bool]:
    """(date, is_partial) of a dataset's date cell. ISO ``YYYY-MM-DD`` (a time after it, as in
    ``2021-05-04 06:10:00+00:00`` or ``2021-05-04T06:10``, is ignored), ``YYYY/MM/DD``, ``YYYYMMDD``,
    and Xeno-canto's partial forms: ``YYYY-MM`` and ``YYYY-MM-00`` give the first day of that month;
    ``YYYY``, ``YYYY-00`` and ``YYYY-00-00`` give None (a bare year says nothing about the season).
    Empty text, ``?``, ``unknown``, ``nan``, ``none``, ``null`` and ``n/a`` give None.
    :class:`InputError` naming ``context`` for anything else."""
    if text is None:
        return None, False
    s = str(text).strip()
    if s.lower() in _EMPTY_TOKENS:
        return None, False
    m = _ISO_PREFIX.match(s) or _SLASHED.match(s) or _COMPACT.match(s)
    if m:
        year, month, day = (int(g) for g in m.groups())
        if month == 0:
            return None, True
        if day == 0:
            return _calendar(year, month, 1, s, context), True
        return _calendar(year, month, day, s, context), False
    m = _YEAR_MONTH.match(s)
    if m:
        year, month = int(m.group(1)), int(m.group(2))
        return (None if month == 0 else _calendar(year, month, 1, s, context)), True
    if _YEAR.match(s):
        return None, True
    raise InputError(f"{context}: cannot read date {s!r} (expected YYYY-MM-DD, YYYY-MM or YYYY)")


def _calendar(year: int, month: int, day: int, raw: str, context: str) -> dt.date:
    try:
        return dt.date(year, month, day)
    except ValueError as e:
        raise InputError(f"{context}: invalid date {raw!r} ({e})") from None


__all__ = ["FORMS", "MAX_YEAR", "MIN_YEAR", "RecordingDate", "metadata_date", "parse_date", "week_of"]
