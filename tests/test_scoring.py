"""The one scorer: real generated audio through ffmpeg decoding, the default windows and BirdNET, and its disk cache."""

from __future__ import annotations

import os
import wave
from pathlib import Path

import numpy as np
import pytest

from geoforensics.audio.windows import WindowSpec
from geoforensics.errors import InputError
from geoforensics.evidence import cached_scores, score_audio
from geoforensics.models.birdnet import load_labels
from geoforensics.paths import cache_dir
from geoforensics.scoring import SCORES_CACHE, WindowScores, pool_scores

pytestmark = pytest.mark.usefixtures("isolated_cache")

SR = 22050


def _chirps(seconds: float, sr: int = SR) -> np.ndarray:
    t = np.arange(int(seconds * sr)) / sr
    return (0.3 * np.sin(2 * np.pi * (2500 + 400 * np.sin(2 * np.pi * 3 * t)) * t)
            * (np.sin(2 * np.pi * 2 * t) > 0)).astype(np.float32)


def _write_wav(path: Path, audio: np.ndarray, sr: int = SR) -> Path:
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(sr)
        w.writeframes((np.clip(audio, -1, 1) * 32767).astype("<i2").tobytes())
    return path


def _cache_files() -> list[Path]:
    return sorted(cache_dir(SCORES_CACHE).glob("*.npz"))


def _same(a: WindowScores, b: WindowScores) -> bool:
    return (
        np.array_equal(a.starts_s, b.starts_s)
        and np.array_equal(a.ends_s, b.ends_s)
        and a.scores.dtype == b.scores.dtype == np.float32
        and np.array_equal(a.scores, b.scores)
        and a.duration_s == b.duration_s
    )


def test_array_and_file_give_default_windows_and_birdnet_scores(tmp_path):
    audio = _chirps(4.5)
    ws = score_audio(audio, sample_rate=SR)
    assert ws.scores.shape == (2, len(load_labels())) and ws.scores.dtype == np.float32
    assert ((ws.scores >= 0) & (ws.scores <= 1)).all()
    assert ws.starts_s.tolist() == [0.0, 1.5] and ws.ends_s.tolist() == [3.0, 4.5]
    assert ws.duration_s == pytest.approx(4.5)
    assert set(ws.timings) == {"decode_s", "classify_s"}
    from_file = score_audio(_write_wav(tmp_path / "c.wav", audio))
    assert from_file.starts_s.tolist() == ws.starts_s.tolist()
    assert np.abs(from_file.scores - ws.scores).max() < 0.05  # 16-bit PCM and ffmpeg's resampler


def test_max_duration_caps_arrays_and_files(tmp_path):
    audio = _chirps(10.0)
    for source, kw in ((audio, {"sample_rate": SR}), (_write_wav(tmp_path / "long.wav", audio), {})):
        ws = score_audio(source, max_duration_s=4.5, **kw)
        assert ws.duration_s == pytest.approx(4.5, abs=1e-3) and len(ws.scores) == 2
        assert len(score_audio(source, max_duration_s=None, **kw).scores) == 6
    # the sample rate says how long the array is: the same samples at half the rate last twice as long
    assert score_audio(audio, sample_rate=SR // 2, max_duration_s=None).duration_s == pytest.approx(20.0)
    with pytest.raises(ValueError, match="sample_rate"):
        score_audio(audio)


def test_cache_equals_a_fresh_result_and_is_reused(tmp_path, monkeypatch):
    path = _write_wav(tmp_path / "clip.wav", _chirps(4.5))
    fresh = score_audio(path)
    first = cached_scores(path)
    assert _same(first, fresh)
    (file,) = _cache_files()
    assert file.name.startswith("clip-") and file.suffix == ".npz"

    import geoforensics.scoring as scoring

    def no_birdnet():
        raise AssertionError("BirdNET ran although the scores are cached")

    monkeypatch.setattr(scoring, "get_audio_model", no_birdnet)
    again = cached_scores(path)
    assert _same(again, fresh) and "cache_s" in again.timings
    assert _cache_files() == [file]


def test_key_follows_file_and_settings(tmp_path):
    path = _write_wav(tmp_path / "clip.wav", _chirps(4.5))
    cached_scores(path)
    assert len(cached_scores(path, max_duration_s=3.0).scores) == 1
    assert len(cached_scores(path, window=WindowSpec(3.0, 1.0)).scores) == 3
    assert len(_cache_files()) == 3
    _write_wav(path, _chirps(7.5))  # the file changes: its old scores are not reused
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))
    assert len(cached_scores(path).scores) == 4
    assert len(_cache_files()) == 4


@pytest.mark.parametrize("damage", ["truncated", "garbage", "missing-array", "empty"])
def test_a_corrupt_cache_file_is_recomputed(tmp_path, damage):
    path = _write_wav(tmp_path / "clip.wav", _chirps(4.5))
    fresh = cached_scores(path)
    (file,) = _cache_files()
    if damage == "truncated":
        file.write_bytes(file.read_bytes()[:200])
    elif damage == "garbage":
        file.write_bytes(b"not a zip file at all")
    elif damage == "missing-array":
        np.savez(file, starts_s=fresh.starts_s)
    else:
        file.write_bytes(b"")
    again = cached_scores(path)
    assert _same(again, fresh) and "classify_s" in again.timings
    assert _cache_files() == [file]  # rewritten in place, no temporary file left
    assert _same(cached_scores(path), fresh)


def test_missing_and_undecodable_files(tmp_path):
    with pytest.raises(InputError, match="no such file"):
        cached_scores(tmp_path / "nope.wav")
    junk = tmp_path / "junk.wav"
    junk.write_bytes(b"RIFF not really audio" * 10)
    with pytest.raises(InputError):
        cached_scores(junk)
    assert _cache_files() == []


def test_pool_scores():
    s = np.array([[0.1, 0.8], [0.5, 0.2]], np.float32)
    assert pool_scores(s).tolist() == pytest.approx([0.5, 0.8])
    assert pool_scores(s, "mean").tolist() == pytest.approx([0.3, 0.5])
    assert pool_scores(np.zeros((0, 3), np.float32)).tolist() == [0, 0, 0]
    with pytest.raises(ValueError, match="pooling"):
        pool_scores(s, "median")


def test_cut_recordings_say_so_for_arrays_and_files(tmp_path):
    audio = _chirps(20.0)
    path = _write_wav(tmp_path / "long.wav", audio)
    for source, kw in ((audio, {"sample_rate": SR}), (path, {})):
        ws = score_audio(source, max_duration_s=6.0, **kw)
        assert ws.duration_s == pytest.approx(6.0, abs=1e-3)
        assert ws.source_duration_s == pytest.approx(20.0, abs=0.01)
        assert ws.cut_note().startswith("analysed the first 6 s of 20 s")
        whole = score_audio(source, max_duration_s=None, **kw)
        assert whole.source_duration_s == pytest.approx(20.0, abs=0.01) and whole.cut_note() is None
        assert score_audio(source, max_duration_s=30.0, **kw).cut_note() is None
    cached = cached_scores(path, max_duration_s=6.0)
    assert cached.cut_note().startswith("analysed the first 6 s of 20 s")
    again = cached_scores(path, max_duration_s=6.0)
    assert "cache_s" in again.timings and again.source_duration_s == pytest.approx(20.0, abs=0.01)


def test_a_cache_file_without_the_recording_length_of_a_cut_recording_is_rebuilt(tmp_path):
    """An entry an older version wrote without the recording's length cannot say whether the recording
    was cut: it is scored again (no probe to guess it) and rewritten with the length."""
    path = _write_wav(tmp_path / "long.wav", _chirps(12.0))
    fresh = cached_scores(path, max_duration_s=4.5)
    (file,) = _cache_files()
    np.savez(file, starts_s=fresh.starts_s, ends_s=fresh.ends_s, scores=fresh.scores,
             duration_s=np.float64(fresh.duration_s))
    again = cached_scores(path, max_duration_s=4.5)
    assert "cache_s" not in again.timings and again.source_duration_s == pytest.approx(12.0, abs=0.01)
    third = cached_scores(path, max_duration_s=4.5)
    assert "cache_s" in third.timings and third.source_duration_s == pytest.approx(12.0, abs=0.01)


def test_cut_note_wording():
    from geoforensics.scoring import cut_note

    assert cut_note(600.0, 7200.0).startswith("analysed the first 600 s of 7,200 s")
    assert cut_note(600.0, 600.01) is None and cut_note(600.0, None) is None and cut_note(3.0, float("nan")) is None
