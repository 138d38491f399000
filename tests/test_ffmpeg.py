"""The one media probe, file check and ffmpeg error reason, on files generated with the real ffmpeg."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from geoforensics.errors import InputError
from geoforensics.ffmpeg import (
    MediaInfo,
    StreamInfo,
    check_file,
    ffmpeg_reason,
    parse_report,
    probe,
)
from geoforensics.paths import shared_dir
from tests.media import ffmpeg, make_audio, make_mp3_with_cover, make_video

GPS_TITLE = "Recorded at 48.8566 N, 2.3522 E"


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("probe")
    out = {
        "wav": make_audio(d / "tone.wav", 2.0, extra=("-ac", "2", "-ar", "22050")),
        "flac": make_audio(d / "tone.flac", 2.0),
        "mp3_cover": make_mp3_with_cover(
            d / "song.mp3", d, extra=("-metadata", f"title={GPS_TITLE}", "-metadata", "location=+48.8566+002.3522/")
        ),
        "mp4": make_video(d / "clip.mp4", 2.0, size="64x48", rate=10, extra=("-metadata", f"title={GPS_TITLE}")),
        "silent_mp4": make_video(d / "silent.mp4", 1.0, size="32x32", audio=False),
    }
    out["webm"] = d / "clip.webm"
    ffmpeg(
        "-f", "lavfi", "-i", "testsrc=size=64x48:rate=25:duration=1", "-f", "lavfi", "-i", "sine=duration=1",
        "-c:v", "libvpx", "-c:a", "libopus", str(out["webm"]),
    )  # fmt: skip
    data = out["mp4"].read_bytes()
    out["truncated"] = d / "cut.mp4"
    out["truncated"].write_bytes(data[:2000])
    out["text"] = d / "notes.mp3"
    out["text"].write_text("meet at the harbour at dawn\n" * 20)
    out["empty"] = d / "empty.wav"
    out["empty"].write_bytes(b"")
    return out


def test_wav(files: dict[str, Path]) -> None:
    info = probe(files["wav"])
    assert info == MediaInfo(
        streams=(StreamInfo(0, "audio", codec="pcm_s16le", sample_rate=22050, channels=2),),
        duration_s=pytest.approx(2.0, abs=0.01),
    )
    assert info.has_audio and not info.has_video and info.video is None


def test_flac(files: dict[str, Path]) -> None:
    info = probe(files["flac"])
    assert (info.audio.codec, info.audio.sample_rate, info.audio.channels) == ("flac", 44100, 1)
    assert info.duration_s == pytest.approx(2.0, abs=0.05)
    assert info.audio.width is None and info.audio.fps is None


def test_mp3_cover_art_is_not_video_and_tags_are_never_kept(files: dict[str, Path]) -> None:
    info = probe(files["mp3_cover"])
    assert [(s.index, s.kind, s.codec, s.cover_art) for s in info.streams] == [
        (0, "audio", "mp3", False),
        (1, "video", "png", True),
    ]
    assert (info.streams[1].width, info.streams[1].height) == (64, 64)
    assert info.has_audio and not info.has_video
    assert info.video_streams == [] and info.video is None
    assert b"48.8566" in files["mp3_cover"].read_bytes()
    assert "48.8566" not in repr(info) and "2.3522" not in repr(info)


def test_video(files: dict[str, Path]) -> None:
    info = probe(files["mp4"])
    assert info.video == StreamInfo(0, "video", codec="h264", width=64, height=48, fps=10.0)
    assert info.audio == StreamInfo(1, "audio", codec="aac", sample_rate=44100, channels=1)
    assert info.duration_s == pytest.approx(2.0, abs=0.05)
    assert "48.8566" not in repr(info)
    webm = probe(files["webm"])
    assert (webm.video.codec, webm.video.width, webm.video.fps) == ("vp8", 64, 25.0)
    assert (webm.audio.codec, webm.audio.sample_rate) == ("opus", 48000)
    silent = probe(files["silent_mp4"])
    assert silent.has_video and not silent.has_audio


def test_truncated_file(files: dict[str, Path]) -> None:
    with pytest.raises(InputError, match=r"^could not read cut\.mp4: the file is truncated or incomplete"):
        probe(files["truncated"])


def test_non_media_file(files: dict[str, Path]) -> None:
    with pytest.raises(InputError, match=r"^could not read notes\.mp3: not a readable audio or video file") as e:
        probe(files["text"])
    assert "harbour" not in str(e.value) and "\n" not in str(e.value)
    assert str(files["text"].parent) not in str(e.value)


def test_empty_missing_and_folder(files: dict[str, Path], tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"^empty\.wav is empty \(0 bytes\)$"):
        probe(files["empty"])
    with pytest.raises(InputError, match=r"^file not found: nope\.wav$"):
        probe(tmp_path / "nope.wav")
    with pytest.raises(InputError, match="^not a file: "):
        probe(tmp_path)


def test_playlist_disguised_as_video_is_not_opened(tmp_path: Path) -> None:
    fake = tmp_path / "list.mp4"
    fake.write_text("#EXTM3U\n#EXTINF:1,\nhttp://127.0.0.1:9/x.ts\n")
    with pytest.raises(InputError, match=r"^could not read list\.mp4: ") as e:
        probe(fake)
    assert "127.0.0.1" not in str(e.value)


def test_timeout(files: dict[str, Path]) -> None:
    with pytest.raises(InputError, match=r"^reading clip\.mp4 timed out after 0\.0001 s$"):
        probe(files["mp4"], timeout_s=1e-4)


def test_check_file_size_limit(tmp_path: Path) -> None:
    f = tmp_path / "a.wav"
    f.write_bytes(b"x" * 2000)
    assert check_file(f) == f
    assert check_file(str(f), max_bytes=2000) == f
    with pytest.raises(InputError, match=r"^file larger than 0\.001 MB: a\.wav$"):
        check_file(f, max_bytes=1000)


def test_ffmpeg_reason() -> None:
    path = Path("/data/in/clip.mp4").resolve()
    assert ffmpeg_reason(b"[in#0 @ 0x55d0] moov atom not found\nError opening input files: Invalid data") == (
        "the file is truncated or incomplete (moov atom not found)"
    )
    assert ffmpeg_reason("Stream map '0:a:0' matches no streams.") == "it has no audio stream"
    odd = f"[in#0 @ 0x5a] Error opening input: Something odd in file:{path}.\nError opening input file file:{path}.\n"
    assert ffmpeg_reason(odd, path) == "Something odd in clip.mp4"
    assert ffmpeg_reason("[mp3float @ 0x7f] Header missing\n", path) == "Header missing"
    assert ffmpeg_reason("At least one output file must be specified\n", fallback="empty video") == "empty video"
    assert len(ffmpeg_reason("x" * 1000)) == 200


def test_report_with_tag_lines_that_look_like_streams() -> None:
    report = """Input #0, mp3, from 'x.mp3':
  Metadata:
    comment         : first line
                    :   Stream #0:7: Video: h264, 1x1, 1 fps
                    :   Duration: 99:00:00.00
  Duration: 00:00:03.00, start: 0.025056, bitrate: 66 kb/s
  Stream #0:0: Audio: mp3 (mp3float), 48000 Hz, 5.1(side), fltp, 64 kb/s
"""
    assert parse_report(report) == MediaInfo(
        (StreamInfo(0, "audio", codec="mp3", sample_rate=48000, channels=6),), 3.0
    )


def test_real_xeno_canto_mp3() -> None:
    shared = shared_dir()
    path = shared / "data" / "xc-dev" / "audio" / "XC346817.mp3" if shared else None
    if path is None or not path.is_file():
        pytest.skip("../shared/data/xc-dev is not on this machine")
    info = probe(path)
    assert (info.audio.codec, info.audio.sample_rate, info.audio.channels) == ("mp3", 44100, 2)
    assert info.duration_s == pytest.approx(21.55, abs=0.1)
    assert "Namibia" not in repr(info)


def test_lower_layers_never_load_metadata() -> None:
    """audio/, models/, ranges/ and geolocators/ must not import media.metadata, even through media/__init__."""
    code = (
        "import sys\n"
        "import geoforensics.audio.decode, geoforensics.ffmpeg, geoforensics.media.frames, geoforensics.media.limits\n"
        "import geoforensics.models, geoforensics.ranges, geoforensics.geolocators.registry\n"
        "from geoforensics.geolocators import list_geolocators\n"
        "list_geolocators()\n"
        "print(sorted(m for m in sys.modules if m.startswith('geoforensics.media')))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, check=True).stdout
    assert "geoforensics.media.metadata" not in out
    assert "geoforensics.media.frames" in out  # the check itself ran
