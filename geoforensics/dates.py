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
* :func:`date_from_filename` reads the time stamp recorders write into their file names
  (AudioMoth ``20210514_053000.WAV``, Song Meter ``SMM01234_20210514_053000.wav``, ...): a date to offer,
  marked as taken from the file name, when a user gave none; :func:`filename_stamp` says what was
  read, or why a name that looks like a date gives none.
"""

from __future__ import annotations

import datetime as dt
import os
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
    def calendar_date(self) -> dt.date | None:
        """The day as a ``datetime.date``; None for a month alone or a month of a year."""
        return None if self.year is None or self.day is None else dt.date(self.year, self.month, self.day)

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
        raise InputError(
            f"a date is text ({FORMS}), a datetime.date or a month 1-12, not {type(value).__name__} {value!r}"
        )
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


# ---------------------------------------------------------------- dates in recorder file names

_SEP = r"[_\-. ]"
_TIME_COMPACT = r"(?:[_\-T](?P<H>\d{2})(?P<M>\d{2})(?P<S>\d{2})Z?)?"
_TIME_EXTENDED = r"(?:[_T ](?P<H>\d{2})[\-.:](?P<M>\d{2})[\-.:](?P<S>\d{2})Z?)?"
_STAMPS = (
    re.compile(rf"(?:^|(?<={_SEP}))(?P<y>(?:19|20)\d{{2}})(?P<m>\d{{2}})(?P<d>\d{{2}})"
               rf"{_TIME_COMPACT}(?={_SEP}|$)", re.ASCII),
    re.compile(rf"(?:^|(?<={_SEP}))(?P<y>(?:19|20)\d{{2}})-(?P<m>\d{{2}})-(?P<d>\d{{2}})"
               rf"{_TIME_EXTENDED}(?={_SEP}|$)", re.ASCII),
)
_DAY_FIRST = re.compile(
    rf"(?:^|(?<={_SEP}))(?P<a>\d{{2}})[\-.]?(?P<b>\d{{2}})[\-.]?(?P<y>(?:19|20)\d{{2}})(?={_SEP}|$)", re.ASCII
)
FILENAME_FORMS = (
    "YYYYMMDD_HHMMSS (AudioMoth), PREFIX_YYYYMMDD_HHMMSS (Song Meter, Swift and most other recorders), "
    "YYYYMMDDTHHMMSS, YYYY-MM-DD_HH-MM-SS, or the date alone (YYYYMMDD, YYYY-MM-DD) as its own part of the name"
)


@dataclass(frozen=True)
class FilenameStamp:
    """What a file name says about when it was recorded. ``date`` is None when the name looks like a time
    stamp but is not one (``problem`` says why); ``time`` is as the recorder wrote it (AudioMoth: UTC unless
    set otherwise; Song Meter and Swift: the recorder's clock), None for a date alone."""

    text: str
    date: RecordingDate | None
    time: dt.time | None = None
    problem: str = ""

    @property
    def note(self) -> str:
        """One line for the user: the date taken from the file name, or why none was."""
        if self.date is None:
            return f"no date taken from the file name ({self.text}): {self.problem}"
        when = str(self.date) + (f" {self.time.isoformat()}" if self.time is not None else "")
        return f"recording date {when} from the file name ({self.text})"


def _stamp(text: str, groups: dict[str, str | None]) -> FilenameStamp:
    year, month, day = int(groups["y"] or 0), int(groups["m"] or 0), int(groups["d"] or 0)
    try:
        date = _checked(year, month, day, text)
    except InputError as e:
        return FilenameStamp(text, None, problem=str(e).split(": ", 1)[-1])
    if groups.get("H") is None:
        return FilenameStamp(text, date)
    try:
        time = dt.time(int(groups["H"] or 0), int(groups["M"] or 0), int(groups["S"] or 0))
    except ValueError:
        return FilenameStamp(text, None, problem=f"{groups['H']}:{groups['M']}:{groups['S']} is not a time of day")
    return FilenameStamp(text, date, time)


def filename_stamp(name: str | os.PathLike[str]) -> FilenameStamp | None:
    """The time stamp in a recording's file name (folders and the extension are ignored), or None when
    the name holds nothing date-like. The forms read are :data:`FILENAME_FORMS`; a stamp is a part of the
    name of its own (at the start or after ``_``, ``-``, ``.`` or a space, and ending the name or followed
    by one of them), so longer runs of digits are never read as a date.

    A stamp with ``date`` None and a ``problem`` is returned for a name that looks like a date but gives
    none: an impossible day or time (``20210230_053000``), two different stamps in one name, or a day and
    month whose order cannot be told (``14052021``, ``05-14-2021``)."""
    stem = os.path.basename(os.fspath(name))
    stem, dot, ext = stem.rpartition(".")
    if not dot or not ext.isalnum() or len(ext) > 5:
        stem = stem + dot + ext
    found: dict[str, FilenameStamp] = {}
    for pattern in _STAMPS:
        for m in pattern.finditer(stem):
            found.setdefault(m.group(0), _stamp(repr(m.group(0)), m.groupdict()))
    if not found:
        day_first = _DAY_FIRST.search(stem)
        if day_first is None:
            return None
        return FilenameStamp(
            repr(day_first.group(0)), None, problem="the year comes last, so day and month cannot be told apart"
        )
    stamps = list(found.values())
    if len(stamps) == 1:
        return stamps[0]
    dates = {s.date for s in stamps}
    if len(dates) == 1 and None not in dates:
        return max(stamps, key=lambda s: s.time is not None)
    return FilenameStamp(" and ".join(s.text for s in stamps), None, problem="it holds more than one date")


def recording_date(
    given: object, path: str | os.PathLike[str] | None, *, from_filename: bool = True
) -> tuple[RecordingDate | None, str]:
    """The date a recording is analysed for: the user's (:func:`parse_date`), else, with ``from_filename``, the
    one a recorder wrote into the file name, with the note that says where it came from ("recording date
    2021-05-14 05:30:00 from the file name ('20210514_053000')"; also a name that looks like a date but is
    not one; "" otherwise). Container tags are never read for it."""
    date = parse_date(given)
    if date is not None or not from_filename or path is None:
        return date, ""
    stamp = filename_stamp(path)
    return (None, "") if stamp is None else (stamp.date, stamp.note)


def date_from_filename(name: str | os.PathLike[str]) -> RecordingDate | None:
    """The recording date a file name gives (:func:`filename_stamp`); None when it gives none, or an
    impossible or ambiguous one. Offer it only where the user gave no date and the tags hold none, and
    say it comes from the file name."""
    stamp = filename_stamp(name)
    return None if stamp is None else stamp.date


__all__ = [
    "recording_date",
    "FILENAME_FORMS",
    "FORMS",
    "MAX_YEAR",
    "MIN_YEAR",
    "FilenameStamp",
    "RecordingDate",
    "date_from_filename",
    "filename_stamp",
    "metadata_date",
    "parse_date",
    "week_of",
]
