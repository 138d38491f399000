"""Damaged cache files are never used: each is refused, named in a warning, removed and rebuilt, and the
answer is the one a fresh cache gives (issue: never lose or corrupt evidence, defect 5)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from geoforensics.cachefiles import ALWAYS_HASH_BYTES, is_intact, load_array, load_arrays, save_array, save_arrays
from geoforensics.paths import PROJECT_ROOT

EAGLE = PROJECT_ROOT / "examples" / "XC148645.mp3"


def damage(path: Path, how: str) -> None:
    """Damage a cache file the ways a disk, a crash or a person might."""
    data = path.read_bytes()
    if how == "empty":
        path.write_bytes(b"")
    elif how == "truncated":
        path.write_bytes(data[: len(data) // 2])
    elif how == "garbage":
        path.write_bytes(os.urandom(len(data)))
    elif how == "header-kept":  # a valid .npy/.npz header over altered data, same size
        cut = min(len(data) - 8, 256)
        path.write_bytes(data[:cut] + bytes(b ^ 0x5A for b in data[cut:]))
    elif how == "fifo":
        path.unlink()
        os.mkfifo(path)
    else:
        raise ValueError(how)


@pytest.mark.parametrize("how", ["empty", "truncated", "garbage", "header-kept", "fifo"])
def test_a_damaged_array_reads_as_absent_and_is_removed(tmp_path, how, caplog):
    path = tmp_path / "a.npy"
    save_array(path, np.arange(1000, dtype=np.float64))
    assert np.array_equal(load_array(path), np.arange(1000))
    damage(path, how)
    assert load_array(path) is None
    assert not os.path.lexists(path) and not (tmp_path / "a.npy.sha256").exists()
    assert "a.npy is damaged" in caplog.text


def test_named_arrays_and_a_missing_checksum(tmp_path):
    path = tmp_path / "s.npz"
    save_arrays(path, x=np.ones(3), y=np.zeros(2))
    got = load_arrays(path, "x", optional=("y", "z"))
    assert got is not None and set(got) == {"x", "y"} and got["x"].sum() == 3
    assert load_arrays(path, "missing") is None
    (tmp_path / "s.npz.sha256").unlink()  # written by an older version, or half written: not trusted
    assert load_arrays(path, "x") is None and not path.exists()


def test_large_files_are_hashed_when_touched(tmp_path):
    path = tmp_path / "big.npy"
    save_array(path, np.zeros(ALWAYS_HASH_BYTES // 8 + 1000))
    assert is_intact(path)
    with open(path, "r+b") as f:  # altered in place: the modification time moves, so it is hashed and refused
        f.seek(4096)
        f.write(b"\x01" * 64)
    assert not is_intact(path)


def _locate(cache: Path) -> tuple[int, dict, str]:
    env = {**os.environ, "GEOFORENSICS_CACHE": str(cache)}
    r = subprocess.run([sys.executable, "-m", "geoforensics", "locate", str(EAGLE), "--gallery", "uniform-10",
                        "--max-duration", "12", "--json", "-"], capture_output=True, text=True, env=env, timeout=300)
    return r.returncode, json.loads(r.stdout) if r.returncode == 0 else {}, r.stderr


@pytest.mark.slow
def test_every_cache_damaged_every_way_still_gives_the_fresh_answer(tmp_path):
    cache = tmp_path / "cache"
    code, fresh, err = _locate(cache)
    assert code == 0, err
    files = sorted(p for p in cache.rglob("*") if p.is_file() and p.suffix in (".npy", ".npz"))
    kinds = {p.parent.name for p in files}
    assert {"ranges", "galleries", "priors"} <= kinds, kinds
    ways = ["empty", "truncated", "garbage", "header-kept", "fifo"]
    for i, path in enumerate(files):
        damage(path, ways[i % len(ways)])
    code, again, err = _locate(cache)
    assert code == 0, err
    assert again["point"] == pytest.approx(fresh["point"]) and again["top_k"] == fresh["top_k"]
    assert err.count("is damaged") >= len(files)
    for path in files:
        assert path.is_file() and is_intact(path), path  # rebuilt


@pytest.mark.parametrize("how", ["empty", "header-kept"])
def test_damaged_scores_are_scored_again(tmp_path, monkeypatch, how):
    from geoforensics.evidence import cached_scores

    monkeypatch.setenv("GEOFORENSICS_CACHE", str(tmp_path))
    fresh = cached_scores(EAGLE, max_duration_s=9)
    (entry,) = (tmp_path / "birdnet-scores").glob("*.npz")
    damage(entry, how)
    again = cached_scores(EAGLE, max_duration_s=9)
    assert "cache_s" not in again.timings and np.array_equal(again.scores, fresh.scores)
    assert "cache_s" in cached_scores(EAGLE, max_duration_s=9).timings and is_intact(entry)
