import io
import subprocess
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from geoforensics.errors import InputError
from geoforensics.media import frames as frames_module
from geoforensics.ffmpeg import ffmpeg_exe
from geoforensics.media.frames import extract_audio, extract_frames, is_video, probe
from geoforensics.media.limits import MediaLimits, check_duration, check_extension, check_file
from tests.media import make_audio, make_mp3_with_cover, make_video


@pytest.fixture(scope="module")
def video(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_video(tmp_path_factory.mktemp("frames") / "testsrc.mp4")


def reference_frame(path: Path, t_s: float) -> np.ndarray:
    """The frame shown at ``t_s``, decoded by a separate seeking ffmpeg run."""
    out = subprocess.run(
        [ffmpeg_exe(), "-loglevel", "error", "-i", str(path), "-ss", str(t_s), "-frames:v", "1",
         "-f", "image2pipe", "-c:v", "ppm", "-"],
        capture_output=True, timeout=30, check=True,
    ).stdout  # fmt: skip
    return np.asarray(Image.open(io.BytesIO(out)).convert("RGB"), dtype=np.float32)


def test_frames_every_two_seconds(video: Path) -> None:
    frames = extract_frames(video, every_s=2.0, size=None)
    assert [f.t_s for f in frames] == [0.0, 2.0, 4.0]
    for f in frames:
        assert f.image.mode == "RGB"
        assert f.image.size == (320, 240)
        assert np.abs(np.asarray(f.image, dtype=np.float32) - reference_frame(video, f.t_s)).mean() < 1.0
    assert np.abs(np.asarray(frames[0].image, np.float32) - np.asarray(frames[1].image, np.float32)).mean() > 1.0


def test_size_bounds_longer_side_and_never_enlarges(video: Path) -> None:
    assert extract_frames(video, size=160)[0].image.size == (160, 120)
    assert extract_frames(video, size=448)[0].image.size == (320, 240)


def test_max_frames_caps(video: Path) -> None:
    frames = extract_frames(video, every_s=0.5, max_frames=4, size=64)
    assert [f.t_s for f in frames] == [0.0, 0.5, 1.0, 1.5]
    assert frames[0].image.size == (64, 48)


def test_audio_only_file_has_no_video(tmp_path: Path) -> None:
    wav = make_audio(tmp_path / "tone.wav")
    assert not is_video(wav)
    with pytest.raises(InputError, match="no video stream"):
        extract_frames(wav)


def test_mp3_cover_art_is_not_a_video(tmp_path: Path) -> None:
    mp3 = make_mp3_with_cover(tmp_path / "song.mp3", tmp_path)
    info = probe(mp3)
    assert any(s.kind == "Video" and s.is_cover_art for s in info.streams)
    assert info.video_streams == []
    assert not is_video(mp3)
    with pytest.raises(InputError, match="no video stream"):
        extract_frames(mp3)


def test_probe_reports_streams_and_duration(video: Path) -> None:
    info = probe(video)
    assert is_video(video) and info.has_audio
    assert info.duration_s == pytest.approx(6.0, abs=0.1)


@pytest.mark.parametrize("content", [b"", b"not a video at all" * 50])
def test_bad_files_give_input_error(tmp_path: Path, content: bytes) -> None:
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(content)
    with pytest.raises(InputError):
        extract_frames(bad)
    with pytest.raises(InputError, match="not found"):
        extract_frames(tmp_path / "missing.mp4")


def test_playlist_disguised_as_video_is_not_opened(tmp_path: Path) -> None:
    fake = tmp_path / "list.mp4"
    fake.write_text("#EXTM3U\n#EXTINF:1,\nhttp://127.0.0.1:9/x.ts\n")
    with pytest.raises(InputError, match="could not read"):
        is_video(fake)


def test_bad_arguments(video: Path) -> None:
    with pytest.raises(InputError):
        extract_frames(video, every_s=0)
    with pytest.raises(InputError):
        extract_frames(video, max_frames=0)


def test_extract_audio_from_video(video: Path, tmp_path: Path) -> None:
    pytest.importorskip("geoforensics.audio.decode")
    audio = extract_audio(video, 16000)
    assert audio.dtype == np.float32 and audio.ndim == 1
    assert len(audio) == pytest.approx(6 * 16000, rel=0.02)
    spectrum = np.abs(np.fft.rfft(audio[:16000]))
    assert np.argmax(spectrum) == pytest.approx(440, abs=2)
    silent = make_video(tmp_path / "silent.mp4", 2.0, audio=False)
    with pytest.raises(InputError, match="no audio stream"):
        extract_audio(silent, 16000)


def test_limits(tmp_path: Path) -> None:
    f = tmp_path / "a.wav"
    f.write_bytes(b"x" * 2000)
    assert check_file(f, MediaLimits(max_bytes=2000)) == f
    with pytest.raises(InputError, match="larger than"):
        check_file(f, MediaLimits(max_bytes=1000))
    (tmp_path / "empty.wav").write_bytes(b"")
    with pytest.raises(InputError, match="empty"):
        check_file(tmp_path / "empty.wav")
    with pytest.raises(InputError, match="not found"):
        check_file(tmp_path / "nope.wav")
    with pytest.raises(InputError, match="longer than 30 minutes"):
        check_duration(3600.0, MediaLimits())
    check_duration(None)
    assert check_extension("X.MP4") == ".mp4"
    with pytest.raises(InputError, match="unsupported file type"):
        check_extension("notes.txt")


def test_timeout_gives_input_error(video: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(InputError, match="longer than"):
        extract_frames(video, timeout_s=1e-4)
    known = probe(video)
    monkeypatch.setattr(frames_module, "probe", lambda path, timeout_s=30.0: known)
    with pytest.raises(InputError, match="extracting frames took longer than"):
        extract_frames(video, timeout_s=1e-3)
