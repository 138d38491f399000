import io
import subprocess
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from geoforensics.errors import InputError
from geoforensics.ffmpeg import ffmpeg_exe, open_media
from geoforensics.media.frames import extract_frames
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
    with pytest.raises(InputError, match="no video stream"):
        extract_frames(wav)


def test_mp3_cover_art_is_not_a_video(tmp_path: Path) -> None:
    mp3 = make_mp3_with_cover(tmp_path / "song.mp3", tmp_path)
    with pytest.raises(InputError, match="no video stream"):
        extract_frames(mp3)


@pytest.mark.parametrize("content", [b"", b"not a video at all" * 50])
def test_bad_files_give_input_error(tmp_path: Path, content: bytes) -> None:
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(content)
    with pytest.raises(InputError, match="bad.mp4"):
        extract_frames(bad)
    with pytest.raises(InputError, match="not found"):
        extract_frames(tmp_path / "missing.mp4")


def test_bad_arguments(video: Path) -> None:
    with pytest.raises(InputError):
        extract_frames(video, every_s=0)
    with pytest.raises(InputError):
        extract_frames(video, max_frames=0)


def test_timeout_gives_input_error(video: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(InputError, match="reading testsrc.mp4 timed out after"):
        extract_frames(video, timeout_s=1e-4)
    with pytest.raises(InputError, match="extracting frames from testsrc.mp4 timed out after"):
        extract_frames(open_media(video), timeout_s=1e-3)  # probed already: the extraction itself times out
