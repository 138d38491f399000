import subprocess
import sys
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


# ---------------------------------------------------------------- issue 14: odd rates, long arrays, many channels


def test_common_rates_resample_exactly_as_torchaudio():
    import torch
    import torchaudio.functional as AF

    rng = np.random.default_rng(0)
    for sr in (8000, 16000, 22050, 24000, 32000, 44100, 96000):
        x = (0.3 * rng.standard_normal(sr * 3 + 7)).astype(np.float32)
        expected = AF.resample(torch.from_numpy(x), orig_freq=sr, new_freq=48000).numpy()
        got = load_array(x, sr, 48000)
        assert got.dtype == np.float32 and np.array_equal(got, expected), sr
    pcm = rng.integers(-3000, 3000, (44100 * 2, 2)).astype(np.int16)
    mono = (pcm.astype(np.float64) / 32768).mean(axis=1).astype(np.float32)
    assert np.array_equal(load_array(pcm, 44100, 48000), AF.resample(torch.from_numpy(mono), 44100, 48000).numpy())


@pytest.mark.parametrize("sr", [1000, 1001, 12001, 44101, 47999, 100003, 767999, 768000])
def test_any_rate_in_the_range_resamples_to_the_right_tone(sr):
    t = np.arange(sr * 3) / sr
    y = load_array(0.5 * np.sin(2 * np.pi * 300 * t), sr, 48000)
    assert len(y) == pytest.approx(3 * 48000, abs=2)
    middle = y[48000:96000]
    assert dominant_hz(middle, 48000) == pytest.approx(300, abs=1)
    assert np.abs(middle).max() == pytest.approx(0.5, abs=0.01)


@pytest.mark.parametrize(
    ("rate", "message"),
    [(1, "outside the supported range"), (999, "outside"), (768_001, "outside"), (1e12, "outside"),
     (44100.5, "whole number"), (float("nan"), "whole number"), ("44100", "whole number"), (True, "whole number")],
)
def test_sample_rates_outside_the_range_are_refused(rate, message):
    with pytest.raises(InputError, match=message):
        load_array(np.zeros(1000, np.float32), rate, 48000)


def test_odd_rates_and_long_arrays_stay_in_bounded_memory():
    """Before: 44,101 Hz built an 8.5 GB kernel, 12,001 Hz 2.3 GB, and a 2 h array was resampled whole
    (5-6 GB). One process does all of them; its peak RSS (torch and scipy loaded) stays under 1.5 GB."""
    code = """
import resource, numpy as np
from geoforensics.audio.decode import load_array
rng = np.random.default_rng(0)
for sr in (44101, 12001, 767999):
    y = load_array(rng.standard_normal(sr * 10).astype(np.float32), sr, 48000)
    assert len(y) in range(480000 - 20, 480000 + 20), (sr, len(y))
two_hours = np.broadcast_to(np.float32(0.1), (7200 * 44100,))   # a 1.3 GB array that takes no memory
y = load_array(two_hours, 44100, 48000, max_duration_s=600)
assert len(y) == 600 * 48000
y = load_array(np.broadcast_to(np.float32(0.1), (7200 * 44101,)), 44101, 48000, max_duration_s=600)
assert len(y) == 600 * 48000
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-2000:]
    peak_mb = int(r.stdout.split()[-1]) / 1024
    assert peak_mb < 1500, f"peak RSS {peak_mb:.0f} MB"


@pytest.mark.parametrize("sr", [44100, 44101, 8000])
def test_max_duration_cut_equals_cutting_the_resampled_whole(sr):
    x = np.random.default_rng(1).standard_normal(sr * 12).astype(np.float32)
    whole = load_array(x, sr, 48000)
    cut = load_array(x, sr, 48000, max_duration_s=5)
    assert len(cut) == 5 * 48000
    np.testing.assert_allclose(cut, whole[: 5 * 48000], atol=1e-6)


def test_nan_after_the_cut_is_never_read():
    x = np.zeros(16000 * 10, np.float32)
    x[16000 * 8] = np.nan
    assert len(load_array(x, 16000, 16000, max_duration_s=5)) == 5 * 16000
    with pytest.raises(InputError, match="NaN or infinite"):
        load_array(x, 16000, 16000)
    with pytest.raises(InputError, match="NaN or infinite"):
        load_array(np.array([1e300, 0.0]), 16000, 16000)  # finite in float64, infinite as float32


def _multichannel_wav(path: Path, channels: int, sr: int = 16000, seconds: float = 1.0) -> Path:
    import wave

    t = np.arange(int(sr * seconds)) / sr
    x = np.zeros((len(t), channels))
    x[:, 0] = 0.8 * np.sin(2 * np.pi * 440 * t)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(2)
        w.setframerate(sr)
        w.writeframes((x * 32767).astype("<i2").tobytes())
    return path


@pytest.mark.parametrize("channels", [9, 16, 64])
def test_many_channels_are_averaged(tmp_path, channels):
    path = _multichannel_wav(tmp_path / f"c{channels}.wav", channels)
    x = decode_audio(path, 16000)
    assert len(x) == 16000
    assert dominant_hz(x, 16000) == pytest.approx(440, abs=2)
    expected = 0.8 / channels if channels != 16 else None  # 16 channels get a known layout: ffmpeg's own downmix
    if expected is not None:
        assert np.abs(x).max() == pytest.approx(expected, rel=0.02)
    assert len(decode_audio(path, 8000, max_duration_s=0.5)) == 4000


def test_more_than_64_channels_is_a_clear_refusal(tmp_path):
    path = _multichannel_wav(tmp_path / "c65.wav", 65, seconds=0.2)
    with pytest.raises(InputError, match="c65.wav: .*at most 64"):
        decode_audio(path, 16000)


def _non_media(tmp_path: Path) -> dict[str, tuple[Path, str]]:
    import gzip
    import shutil
    import zipfile

    files: dict[str, tuple[Path, str]] = {}
    elf = tmp_path / "ls.mp3"
    shutil.copy(shutil.which("ls") or "/bin/ls", elf)
    files["elf"] = (elf, "ELF executable")
    z = tmp_path / "archive.mp3"
    with zipfile.ZipFile(z, "w") as f:
        f.writestr("a.txt", "x" * 1000)
    files["zip"] = (z, "zip archive")
    g = tmp_path / "song.wav"
    g.write_bytes(gzip.compress(b"RIFF" + bytes(4000)))
    files["gzip"] = (g, "gzip archive")
    png = tmp_path / "photo.m4a"
    ffmpeg("-f", "lavfi", "-i", "color=c=red:s=16x16", "-frames:v", "1", "-f", "image2", "-c:v", "png", str(png))
    files["png"] = (png, "PNG image")
    pdf = tmp_path / "doc.ogg"
    pdf.write_bytes(b"%PDF-1.4\n" + bytes(range(256)) * 4)
    files["pdf"] = (pdf, "PDF document")
    m3u = tmp_path / "list.mp3"
    m3u.write_text("#EXTM3U\n#EXTINF:1,\nfile:///etc/passwd\n")
    files["playlist"] = (m3u, "text")
    ffc = tmp_path / "concat.wav"
    ffc.write_text("ffconcat version 1.0\nfile '/etc/passwd'\n")
    files["ffconcat"] = (ffc, "text")
    script = tmp_path / "run.flac"
    script.write_bytes(b"#!/bin/sh\necho hi\n" + bytes(100))
    files["script"] = (script, "script")
    return files


def test_non_media_files_are_refused_before_ffmpeg_guesses(tmp_path):
    for kind, (path, what) in _non_media(tmp_path).items():
        with pytest.raises(InputError,
                           match=rf"{path.name}: not a readable audio or video file \(it is (a |an )?{what}") as e:
            decode_audio(path, 16000)
        assert "/etc/passwd" not in str(e.value), kind
        with pytest.raises(InputError, match=rf"^could not read {path.name}: not a readable audio or video file"):
            probe(path)


def test_a_guessed_format_is_refused(tmp_path):
    """Random bytes named .mp3 or .aac: ffmpeg's demuxers find a stray frame header (probe score 1)."""
    rng = np.random.default_rng(3)
    for ext in ("mp3", "aac"):
        path = tmp_path / f"noise.{ext}"
        path.write_bytes(rng.integers(0, 256, 200_000, dtype=np.uint8).tobytes())
        with pytest.raises(InputError, match=r"noise\.(mp3|aac): not a readable audio or video file"):
            decode_audio(path, 16000)


def test_a_fifo_never_blocks(tmp_path):
    import os

    from geoforensics.ffmpeg import content_problem

    fifo = tmp_path / "pipe.wav"
    os.mkfifo(fifo)
    with pytest.raises(InputError, match="not a file"):
        decode_audio(fifo, 16000)
    assert content_problem(fifo) == "not a regular file"
