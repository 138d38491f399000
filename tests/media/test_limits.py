import pytest

from geoforensics.errors import InputError
from geoforensics.media.limits import AUDIO_EXTS, MEDIA_EXTS, VIDEO_EXTS, MediaLimits, check_duration, check_extension


def test_duration_limit() -> None:
    with pytest.raises(InputError, match="longer than 30 minutes"):
        check_duration(3600.0, MediaLimits())
    check_duration(1799.0)
    check_duration(None)
    with pytest.raises(InputError, match=r"longer than 1 minutes \(1\.5 min\)"):
        check_duration(90.0, MediaLimits(max_duration_s=60))


def test_extensions() -> None:
    assert check_extension("X.MP4") == ".mp4"
    assert check_extension("call.oga") == ".oga"
    with pytest.raises(InputError, match="unsupported file type '.txt'"):
        check_extension("notes.txt")
    with pytest.raises(InputError, match=r"unsupported file type '\(none\)'"):
        check_extension("README")
    assert MEDIA_EXTS == AUDIO_EXTS | VIDEO_EXTS and not AUDIO_EXTS & VIDEO_EXTS
    assert {".wav", ".mp3", ".flac", ".ogg", ".oga", ".opus", ".m4a", ".aac", ".mp4", ".mov", ".webm", ".mkv", ".avi",
            ".m4v"} == MEDIA_EXTS
