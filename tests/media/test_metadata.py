from pathlib import Path

import pytest

from geoforensics.errors import InputError
from geoforensics.media.metadata import display_metadata, gps_from_metadata, read_metadata, tag_coordinates
from tests.media import make_audio, make_mp3_with_cover, make_video


def test_mp4_title_and_location_round_trip(tmp_path: Path) -> None:
    mp4 = make_video(
        tmp_path / "tagged.mp4", 1.0,
        extra=("-metadata", "title=Test", "-metadata", "location=+48.8584+002.2945/",
               "-metadata", "creation_time=2024-05-01T10:20:30Z"),
    )  # fmt: skip
    meta = read_metadata(mp4)
    assert meta["title"] == "Test"
    assert meta["location"] == "+48.8584+002.2945/"
    assert meta["creation_time"].startswith("2024-05-01T10:20:30")
    assert meta["stream0:handler_name"] == "VideoHandler"
    assert gps_from_metadata(meta) == (48.8584, 2.2945)

    shown = display_metadata(mp4)
    assert shown["title"] == "Test"
    assert shown["gps"] == (48.8584, 2.2945)
    assert shown["gps_raw"] == "+48.8584+002.2945/"
    assert shown["creation_time"].startswith("2024-05-01")
    assert "major_brand" not in shown.get("other", {})


def test_mp3_tags_with_escapes_and_newlines(tmp_path: Path) -> None:
    mp3 = make_audio(
        tmp_path / "song.mp3",
        extra=("-metadata", "title=Dawn chorus; a=b #1", "-metadata", "artist=Someone",
               "-metadata", "comment=line one\nline two"),
    )  # fmt: skip
    meta = read_metadata(mp3)
    assert meta["title"] == "Dawn chorus; a=b #1"
    assert meta["artist"] == "Someone"
    assert meta["comment"] == "line one\nline two"
    assert gps_from_metadata(meta) is None
    shown = display_metadata(mp3)
    assert shown["title"] == "Dawn chorus; a=b #1" and shown["artist"] == "Someone"
    assert "gps" not in shown


def test_cover_art_stream_tags(tmp_path: Path) -> None:
    mp3 = make_mp3_with_cover(tmp_path / "c.mp3", tmp_path, extra=("-metadata:s:v", "title=Album cover"))
    assert read_metadata(mp3)["stream1:title"] == "Album cover"


def test_untagged_file(tmp_path: Path) -> None:
    wav = make_audio(tmp_path / "plain.wav", 0.5, extra=("-fflags", "+bitexact", "-flags:a", "+bitexact"))
    assert gps_from_metadata(read_metadata(wav)) is None
    assert "gps" not in display_metadata(wav)


def test_unreadable_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(b"\x00garbage" * 100)
    with pytest.raises(InputError, match="could not read"):
        read_metadata(bad)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("+48.8584+002.2945/", (48.8584, 2.2945)),
        ("+48.8584+002.2945+035.000/", (48.8584, 2.2945)),
        ("-33.8688+151.2093+010.123CRS:WGS_84/", (-33.8688, 151.2093)),
        ("+37.4219-122.0840/", (37.4219, -122.084)),
        ("+4851.504+00217.670/", (48.8584, 2.2945)),
        ("+485130.24+0021740.20/", (48.8584, 2.2945)),
        ("48.8584, 2.2945", (48.8584, 2.2945)),
        ("-33.8688,151.2093", (-33.8688, 151.2093)),
        ("48.8584 N, 2.2945 W", (48.8584, -2.2945)),
        ("+00.0000+000.0000/", None),
        ("91, 0", None),
        ("10, 181", None),
        ("Paris", None),
        ("", None),
    ],
)
def test_tag_coordinates(text: str, expected: tuple[float, float] | None) -> None:
    got = tag_coordinates(text)
    if expected is None:
        assert got is None
    else:
        assert got == pytest.approx(expected, abs=1e-6)


def test_gps_key_priority_and_stream_keys() -> None:
    meta = {
        "location": "garbage",
        "com.apple.quicktime.location.ISO6709": "+51.5007-000.1246+010.000/",
    }
    assert gps_from_metadata(meta) == pytest.approx((51.5007, -0.1246))
    assert gps_from_metadata({"stream0:location": "+35.6586+139.7454/"}) == pytest.approx((35.6586, 139.7454))
    assert gps_from_metadata({"title": "+48.8584+002.2945/"}) is None
