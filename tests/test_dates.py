"""One strict parser for the dates users give; the lenient one for dataset metadata lives beside it."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

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
    assert ([week_of(x) for x in (None, "2020-01-01", "2020-06-15", "2020-12-31", "2020-06", 3)]
            == [-1, 1, 23, 48, 22, 10])
    with pytest.raises(InputError):
        week_of("2021-02-30")


def test_metadata_dates_stay_lenient() -> None:
    assert metadata_date("2021-05-04 06:10:00+00:00") == (dt.date(2021, 5, 4), False)
    assert metadata_date("2021-05-00") == (dt.date(2021, 5, 1), True)
    assert metadata_date("20210504") == (dt.date(2021, 5, 4), False)
    assert metadata_date("unknown") == (None, False)
    with pytest.raises(InputError, match="row 3"):
        metadata_date("2021-13-01", "row 3")


# ---------------------------------------------------------------- recorder file names

FILE_NAMES = [
    ("20210514_053000.WAV", RecordingDate(2021, 5, 14), dt.time(5, 30)),  # AudioMoth
    ("SMM01234_20210514_053000.wav", RecordingDate(2021, 5, 14), dt.time(5, 30)),  # Song Meter Mini
    ("S4A01234_20190101_000000.wav", RecordingDate(2019, 1, 1), dt.time(0, 0)),  # Song Meter SM4
    ("NORTH-POND_0+1_20200229_235959.wav", RecordingDate(2020, 2, 29), dt.time(23, 59, 59)),  # SM3, two channels
    ("SWIFT07_20210514_053000.flac", RecordingDate(2021, 5, 14), dt.time(5, 30)),
    ("2021-05-14_05-30-00.mp3", RecordingDate(2021, 5, 14), dt.time(5, 30)),
    ("site3 2021-05-14T05.30.00.wav", RecordingDate(2021, 5, 14), dt.time(5, 30)),
    ("20210514T053000Z.wav", RecordingDate(2021, 5, 14), dt.time(5, 30)),
    ("/data/card 2/ESP01_20200101.wav", RecordingDate(2020, 1, 1), None),
    ("2021-05-14.ogg", RecordingDate(2021, 5, 14), None),
    ("SITE_20210514_0530.wav", RecordingDate(2021, 5, 14), None),  # minutes only: the date alone is read
    ("20210514_053000_20210514.wav", RecordingDate(2021, 5, 14), dt.time(5, 30)),  # one date twice
]


@pytest.mark.parametrize("name, date, time", FILE_NAMES)
def test_recorder_file_names_give_their_date_and_time(name: str, date: RecordingDate, time: dt.time | None) -> None:
    from geoforensics.dates import date_from_filename, filename_stamp

    stamp = filename_stamp(name)
    assert stamp is not None and stamp.date == date and stamp.time == time and not stamp.problem
    assert date_from_filename(name) == date
    assert date_from_filename(Path(name)) == date
    assert "from the file name" in stamp.note and str(date) in stamp.note


NOT_A_DATE = [
    ("20210230_053000.wav", "no day 30"),
    ("SMM01234_20211305_053000.wav", "month must be 01 to 12"),
    ("20210514_253000.wav", "25:30:00 is not a time of day"),
    ("20210514_056100.wav", "05:61:00 is not a time of day"),
    ("20210514_053000_20210515_060000.wav", "more than one date"),
    ("14052021_0530.wav", "year comes last"),
    ("05-14-2021.wav", "year comes last"),
]


@pytest.mark.parametrize("name, why", NOT_A_DATE)
def test_impossible_or_ambiguous_names_give_no_date_and_say_why(name: str, why: str) -> None:
    from geoforensics.dates import date_from_filename, filename_stamp

    assert date_from_filename(name) is None
    stamp = filename_stamp(name)
    assert stamp is not None and stamp.date is None and why in stamp.problem
    assert stamp.note.startswith("no date taken from the file name (") and "\n" not in stamp.note


@pytest.mark.parametrize(
    "name",
    ["XC132220.mp3", "rec-123456789.wav", "x_120210514_053000.wav", "track20210514.wav", "20210514053000.wav", ""],
)
def test_names_without_a_stamp_of_their_own_give_nothing(name: str) -> None:
    from geoforensics.dates import filename_stamp

    assert filename_stamp(name) is None


def test_the_real_clips_carry_no_date_in_their_names() -> None:
    from geoforensics.dates import date_from_filename

    examples = Path(__file__).resolve().parents[1] / "examples"
    names = sorted(p.name for p in examples.glob("*.mp3"))
    assert names and all(date_from_filename(n) is None for n in names)
