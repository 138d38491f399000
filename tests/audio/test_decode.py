import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np
import pytest

from geoforensics.audio import (
    decode_audio,
    is_silent,
    load_array,
    rms_dbfs,
)
from geoforensics.defaults import MAX_DURATION_S
from geoforensics.errors import InputError
from geoforensics.ffmpeg import ffmpeg_exe, probe
from geoforensics.paths import shared_dir

TONE_HZ = 440.0
TONE_S = 2.0
SINE = f"sine=frequency={TONE_HZ:g}:sample_rate=44100:duration={TONE_S:g}"
VIDEO = f"testsrc=size=64x48:rate=10:duration={TONE_S:g}"
COORDS_TITLE = "Recorded at 48.8566 N, 2.3522 E"


def ffmpeg(*args: str) -> None:
    subprocess.run([ffmpeg_exe(), "-nostdin", "-v", "error", "-y", *args], check=True, timeout=60)


def dominant_hz(x: np.ndarray, sr: int) -> float:
    spectrum = np.abs(np.fft.rfft(x * np.hanning(len(x))))
    return float(np.fft.rfftfreq(len(x), 1 / sr)[np.argmax(spectrum)])


AUDIO_ONLY = {
    "wav": [],
    "flac": [],
    "mp3": ["-c:a", "libmp3lame"],
    "ogg": ["-c:a", "libvorbis"],
    "m4a": ["-c:a", "aac"],
    "opus": ["-c:a", "libopus"],
}
WITH_VIDEO = {
    "mp4": ["-c:v", "libx264", "-c:a", "aac"],
    "mov": ["-c:v", "mpeg4", "-c:a", "aac"],
    "mkv": ["-c:v", "mpeg4", "-c:a", "libvorbis"],
    "webm": ["-c:v", "libvpx", "-c:a", "libopus"],
}


@pytest.fixture(scope="module")
def media(tmp_path_factory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("media")
    files: dict[str, Path] = {}
    for ext, codec in AUDIO_ONLY.items():
        files[ext] = d / f"tone.{ext}"
        ffmpeg("-f", "lavfi", "-i", SINE, *codec, str(files[ext]))
    for ext, codec in WITH_VIDEO.items():
        files[ext] = d / f"tone.{ext}"
        ffmpeg("-f", "lavfi", "-i", VIDEO, "-f", "lavfi", "-i", SINE, *codec, str(files[ext]))
    files["video_only"] = d / "silent_video.mp4"
    ffmpeg("-f", "lavfi", "-i", VIDEO, "-c:v", "libx264", str(files["video_only"]))
    return files


@pytest.mark.parametrize("ext", [*AUDIO_ONLY, *WITH_VIDEO])
def test_decodes_every_container_to_mono_float32(media, ext):
    sr = 16000
    x = decode_audio(media[ext], sr)
    assert x.dtype == np.float32 and x.ndim == 1
    assert len(x) == pytest.approx(TONE_S * sr, rel=0.01)
    assert dominant_hz(x, sr) == pytest.approx(TONE_HZ, abs=2)
    # lavfi's sine has amplitude 1/8.
    assert 0.09 < np.abs(x).max() < 0.2


@pytest.mark.parametrize("sr", [8000, 22050, 48000])
def test_resamples_to_requested_rate(media, sr):
    x = decode_audio(media["flac"], sr)
    assert len(x) == pytest.approx(TONE_S * sr, rel=0.005)
    assert dominant_hz(x, sr) == pytest.approx(TONE_HZ, abs=2)


def test_stereo_is_mixed_to_mono(tmp_path):
    path = tmp_path / "stereo.wav"
    ffmpeg(
        "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=16000:duration=1",
        "-f", "lavfi", "-i", "sine=frequency=1000:sample_rate=16000:duration=1",
        "-filter_complex", "[0:a][1:a]amerge=inputs=2", str(path),
    )
    assert probe(path).audio.channels == 2
    x = decode_audio(path, 16000)
    spectrum = np.abs(np.fft.rfft(x))
    freqs = np.fft.rfftfreq(len(x), 1 / 16000)
    top_two = sorted(freqs[np.argsort(spectrum)[-2:]])
    assert top_two == pytest.approx([440, 1000], abs=2)


def test_offset_and_max_duration(media):
    x = decode_audio(media["wav"], 8000, offset_s=1.5)
    assert len(x) == pytest.approx(0.5 * 8000, abs=80)
    y = decode_audio(media["wav"], 8000, offset_s=0.5, max_duration_s=1.0)
    assert len(y) == 8000


def test_offset_past_the_end_is_an_input_error(media):
    with pytest.raises(InputError, match="no audio"):
        decode_audio(media["wav"], 8000, offset_s=10)


def test_max_duration_caps_a_long_file(tmp_path):
    path = tmp_path / "long.flac"
    ffmpeg("-f", "lavfi", "-i", "sine=frequency=440:sample_rate=8000:duration=60", str(path))
    assert probe(path).duration_s == pytest.approx(60, abs=0.1)
    assert len(decode_audio(path, 8000)) == pytest.approx(60 * 8000, abs=8)
    assert len(decode_audio(path, 8000, max_duration_s=5)) == 5 * 8000


@pytest.fixture(scope="module")
def three_hour_mp3(tmp_path_factory) -> Path:
    """An mp3 of about 3 hours (11 MB): one 10 s mp3 stream without headers, repeated (mp3 frames concatenate)."""
    d = tmp_path_factory.mktemp("long")
    chunk = d / "chunk.mp3"
    ffmpeg(
        "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=8000:duration=10", "-b:a", "8k",
        "-write_xing", "0", "-id3v2_version", "0", "-f", "mp3", str(chunk),
    )
    path = d / "three_hours.mp3"
    path.write_bytes(chunk.read_bytes() * 1080)
    return path


def test_three_hour_file_decodes_only_the_cap_quickly(three_hour_mp3):
    assert probe(three_hour_mp3).duration_s > 3 * 3600 - 60
    t0 = time.perf_counter()
    x = decode_audio(three_hour_mp3, 22050, max_duration_s=MAX_DURATION_S)
    elapsed = time.perf_counter() - t0
    assert len(x) == MAX_DURATION_S * 22050
    assert elapsed < 20, f"decoding the first {MAX_DURATION_S} s took {elapsed:.1f} s"


def test_timeout_raises_input_error_and_leaves_nothing(three_hour_mp3, tmp_path, monkeypatch):
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setenv("TMPDIR", str(scratch))
    monkeypatch.setattr(tempfile, "tempdir", None)
    t0 = time.perf_counter()
    with pytest.raises(InputError, match="timed out after 0.2 s"):
        decode_audio(three_hour_mp3, 48000, timeout_s=0.2)
    assert time.perf_counter() - t0 < 5
    assert list(scratch.iterdir()) == []


def test_missing_file(tmp_path):
    with pytest.raises(InputError, match="file not found"):
        decode_audio(tmp_path / "nope.mp3", 16000)


def test_directory_is_not_a_file(tmp_path):
    with pytest.raises(InputError, match="not a file"):
        decode_audio(tmp_path, 16000)


def test_empty_file(tmp_path):
    path = tmp_path / "empty.wav"
    path.touch()
    with pytest.raises(InputError, match=r"empty \(0 bytes\)"):
        decode_audio(path, 16000)


def test_text_file_renamed_mp3(tmp_path):
    path = tmp_path / "notes.mp3"
    path.write_text("meet at the harbour at dawn\n" * 20)
    with pytest.raises(InputError, match="notes.mp3: not a readable audio or video file") as err:
        decode_audio(path, 16000)
    assert "\n" not in str(err.value)
    assert "harbour" not in str(err.value)


def test_video_without_audio(media):
    with pytest.raises(InputError, match="has no audio stream"):
        decode_audio(media["video_only"], 16000)
    info = probe(media["video_only"])
    assert info.has_video and not info.has_audio


def test_mp3_truncated_to_100_bytes(media, tmp_path):
    path = tmp_path / "cut.mp3"
    path.write_bytes(media["mp3"].read_bytes()[:100])
    with pytest.raises(InputError, match="cut.mp3"):
        decode_audio(path, 16000)


def test_truncated_mp3_decodes_what_is_there(media, tmp_path):
    data = media["mp3"].read_bytes()
    path = tmp_path / "half.mp3"
    path.write_bytes(data[: len(data) // 2])
    x = decode_audio(path, 16000)
    assert 0.3 * TONE_S * 16000 < len(x) < 0.7 * TONE_S * 16000
    assert dominant_hz(x, 16000) == pytest.approx(TONE_HZ, abs=3)


def test_truncated_mp4_without_index(media, tmp_path):
    path = tmp_path / "cut.mp4"
    path.write_bytes(media["mp4"].read_bytes()[:2000])
    with pytest.raises(InputError, match="cut.mp4"):
        decode_audio(path, 16000)


def test_tagged_mp3_decodes_and_no_tag_comes_back(tmp_path):
    cover = tmp_path / "cover.png"
    ffmpeg("-f", "lavfi", "-i", "color=c=red:s=32x32", "-frames:v", "1", str(cover))
    path = tmp_path / "tagged.mp3"
    ffmpeg(
        "-f", "lavfi", "-i", SINE, "-i", str(cover), "-map", "0:a", "-map", "1:v",
        "-c:a", "libmp3lame", "-c:v", "mjpeg", "-disposition:v:0", "attached_pic",
        "-metadata", f"title={COORDS_TITLE}", "-metadata", "comment=GPS -18.200888, 21.735268",
        "-id3v2_version", "3", str(path),
    )
    assert b"48.8566" in path.read_bytes()
    x = decode_audio(path, 16000)
    assert isinstance(x, np.ndarray)
    assert len(x) == pytest.approx(TONE_S * 16000, rel=0.01)
    assert dominant_hz(x, 16000) == pytest.approx(TONE_HZ, abs=2)
    info = probe(path)
    assert info.has_audio and not info.has_video  # the cover picture is not video
    assert "48.8566" not in repr(info) and "18.2008" not in repr(info)


def test_bad_arguments(media):
    with pytest.raises(ValueError):
        decode_audio(media["wav"], 0)
    with pytest.raises(ValueError):
        decode_audio(media["wav"], 16000, max_duration_s=0)
    with pytest.raises(ValueError):
        decode_audio(media["wav"], 16000, offset_s=-1)


def test_load_array_channels_dtypes_and_resampling():
    sr = 44100
    t = np.arange(sr) / sr
    left, right = 0.5 * np.sin(2 * np.pi * 440 * t), np.zeros(sr)
    for stereo in (np.stack([left, right]), np.stack([left, right], axis=1)):
        mono = load_array(stereo, sr, sr)
        assert mono.dtype == np.float32 and mono.shape == (sr,)
        np.testing.assert_allclose(mono, 0.25 * np.sin(2 * np.pi * 440 * t), atol=1e-6)
    pcm = (left * 32767).astype(np.int16)
    np.testing.assert_allclose(load_array(pcm, sr, sr), left, atol=1e-4)
    down = load_array(left, sr, 22050)
    assert down.shape == (22050,)
    assert dominant_hz(down, 22050) == pytest.approx(440, abs=1)
    assert np.abs(down).max() == pytest.approx(0.5, abs=0.01)


def test_load_array_rejects_bad_audio():
    with pytest.raises(InputError, match="empty"):
        load_array(np.zeros(0), 16000, 16000)
    with pytest.raises(InputError, match="NaN or infinite"):
        load_array(np.array([0.0, np.nan, 0.1]), 16000, 16000)
    with pytest.raises(InputError, match="1-D or 2-D"):
        load_array(np.zeros((2, 3, 4)), 16000, 16000)
    with pytest.raises(InputError, match="numeric"):
        load_array(np.array(["a", "b"]), 16000, 16000)
    with pytest.raises(ValueError):
        load_array(np.zeros(10), 0, 16000)


def test_silence_and_level():
    sr = 16000
    sine = np.sin(2 * np.pi * 440 * np.arange(sr) / sr)
    assert rms_dbfs(sine) == pytest.approx(-3.01, abs=0.01)
    assert rms_dbfs(np.zeros(sr)) == -np.inf
    assert is_silent(np.zeros(sr))
    assert is_silent(np.zeros(0))
    assert is_silent(1e-4 * sine)  # -83 dBFS
    assert not is_silent(0.01 * sine)  # -43 dBFS
    assert is_silent(0.01 * sine, threshold_db=-40)


def test_real_xeno_canto_mp3():
    shared = shared_dir()
    path = shared / "data" / "xc-dev" / "audio" / "XC346817.mp3" if shared else None
    if path is None or not path.is_file():
        pytest.skip("../shared/data/xc-dev is not on this machine")
    x = decode_audio(path, 48000)
    assert len(x) / 48000 == pytest.approx(21.55, abs=0.1)
    assert not is_silent(x)
