"""One strict parser for the dates users give; the lenient one for dataset metadata lives beside it."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from geoforensics.dates import RecordingDate, metadata_date, parse_date, week_of
from geoforensics.errors import InputError

BAD = [
    "2021-02-30", "0000-00-00", "99999-01-01", "yesterday", "2021-13", "-1", "2021-05-14garbage",
    "2021-05-14T25:99", "20210514", "٢٠٢١-٠٥-١٤", "2021-5-14", "2021-05-32", "1492-10-12", "2021/05/14",
    "2021-00", "2021-05-00", "14.05.2021", "2021-05-14 ", "\x1b[31m2021",
]


@pytest.mark.parametrize("text", [t for t in BAD if t.strip() == t] + ["2021-05-14garbage"])
def test_bad_dates_are_input_errors_that_name_the_forms(text: str) -> None:
    with pytest.raises(InputError, match="YYYY-MM|year|month|day"):
        parse_date(text)


@pytest.mark.parametrize("value", [2021.5, [2021, 5], b"2021-05-14", 0, 13, True, -1])
def test_bad_values_from_python_are_input_errors(value: object) -> None:
    with pytest.raises(InputError):
        parse_date(value)


def test_good_dates() -> None:
    assert parse_date(" 2021-05-14 ") == RecordingDate(2021, 5, 14)
    assert str(parse_date("2024-05")) == "2024-05"
    assert str(parse_date("2024-02-29")) == "2024-02-29"
    assert parse_date(dt.date(2020, 6, 15)) == RecordingDate(2020, 6, 15)
    assert parse_date(dt.datetime(2020, 6, 15, 23, 59)) == RecordingDate(2020, 6, 15)
    assert parse_date(np.int64(5)) == RecordingDate(None, 5) and str(parse_date(5)) == "month 5"
    assert parse_date(None) is None and parse_date("  ") is None
    assert parse_date(parse_date("2021-05")) == RecordingDate(2021, 5)


def test_week_of() -> None:
    assert [week_of(x) for x in (None, "2020-01-01", "2020-06-15", "2020-12-31", "2020-06", 3)] == [-1, 1, 23, 48, 22, 10]
    with pytest.raises(InputError):
        week_of("2021-02-30")


def test_metadata_dates_stay_lenient() -> None:
    assert metadata_date("2021-05-04 06:10:00+00:00") == (dt.date(2021, 5, 4), False)
    assert metadata_date("2021-05-00") == (dt.date(2021, 5, 1), True)
    assert metadata_date("20210504") == (dt.date(2021, 5, 4), False)
    assert metadata_date("unknown") == (None, False)
    with pytest.raises(InputError, match="row 3"):
        metadata_date("2021-13-01", "row 3")
