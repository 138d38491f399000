"""Files appear whole or not at all, keep the mode a plain open gives, and are never written over an input."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from geoforensics.atomic import atomic_open, atomic_path, refuse_overwrite, same_file, write_text
from geoforensics.errors import InputError


def test_a_failed_write_leaves_the_earlier_file_and_no_partial(tmp_path: Path) -> None:
    out = tmp_path / "results.json"
    out.write_text("earlier results")
    with pytest.raises(RuntimeError), atomic_open(out) as f:
        f.write("half of the new")
        raise RuntimeError("the run failed")
    assert out.read_text() == "earlier results"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["results.json"]


def test_an_interrupted_write_leaves_nothing_new(tmp_path: Path) -> None:
    out = tmp_path / "sub" / "map.html"
    with pytest.raises(KeyboardInterrupt), atomic_path(out) as tmp:
        tmp.write_text("partial")
        assert tmp.parent == out.parent and tmp.suffix == ".html"
        raise KeyboardInterrupt
    assert list(out.parent.iterdir()) == []


def test_new_files_get_the_umask_mode_and_replaced_files_keep_theirs(tmp_path: Path) -> None:
    old = os.umask(0o027)
    try:
        new = write_text(tmp_path / "new.csv", "a\n")
        assert stat.S_IMODE(new.stat().st_mode) == 0o640
    finally:
        os.umask(old)
    kept = tmp_path / "kept.csv"
    kept.write_text("x")
    kept.chmod(0o640)
    write_text(kept, "y")
    assert stat.S_IMODE(kept.stat().st_mode) == 0o640 and kept.read_text() == "y"


def test_new_files_are_not_private(tmp_path: Path) -> None:
    """mkstemp makes 0600 files; results must be readable as a plain open would make them."""
    old = os.umask(0o022)
    try:
        assert stat.S_IMODE(write_text(tmp_path / "o.parquet", "x").stat().st_mode) == 0o644
    finally:
        os.umask(old)


def test_refuse_overwrite_sees_links(tmp_path: Path) -> None:
    clip = tmp_path / "clip.mp4"
    clip.write_bytes(b"\0" * 10)
    (tmp_path / "hard.mp4").hardlink_to(clip)
    (tmp_path / "soft.mp4").symlink_to(clip)
    for name in ("clip.mp4", "hard.mp4", "soft.mp4", "./clip.mp4"):
        with pytest.raises(InputError, match="it is an input of this run"):
            refuse_overwrite(tmp_path / name, [clip], "--video")
    refuse_overwrite(tmp_path / "other.mp4", [clip])
    assert same_file(tmp_path / "hard.mp4", clip) and not same_file(tmp_path / "missing", clip)
