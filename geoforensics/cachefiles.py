"""Cache files that are never trusted blindly: written atomically with a checksum beside them, and read
back only when they check out.

Every cache (BirdNET's scores, range tables and richness, galleries, priors, embeddings) writes through
:func:`save_array` / :func:`save_arrays` and reads through :func:`load_array` / :func:`load_arrays`. Beside
each file ``NAME`` lies ``NAME.sha256``: the SHA-256 of its bytes, its size and its modification time. A
file is used only when it is a regular file (a FIFO is never opened), its size matches, and either its
modification time is the one recorded (the file has not been touched since it was written and checked)
or its bytes hash to the recorded SHA-256 (checked in full). Files under :data:`ALWAYS_HASH_BYTES` are
hashed every time. Anything else (missing, 0 bytes, truncated, garbage, a valid header over altered data,
no checksum) reads as absent: a warning names the file, the file is removed, and the caller rebuilds it.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from .atomic import atomic_path, write_text

log = logging.getLogger(__name__)

ALWAYS_HASH_BYTES = 16_000_000
"""Files up to this size are hashed on every load; larger ones (range tables, embeddings) when touched."""


def _sidecar(path: Path) -> Path:
    return path.with_name(path.name + ".sha256")


def _digest(path: Path) -> str:
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def write_checked(path: Path, write: Callable[[Path], None]) -> None:
    """Write ``path`` with ``write(tmp)`` atomically, then its checksum beside it."""
    with atomic_path(path) as tmp:
        write(tmp)
        digest = _digest(tmp)
    st = path.stat()
    write_text(_sidecar(path), json.dumps({"sha256": digest, "size": st.st_size, "mtime_ns": st.st_mtime_ns}))


def is_intact(path: Path) -> bool:
    """Whether ``path`` is a regular file that matches its checksum (see the module docstring); a file that
    does not is removed, with its checksum, and a warning naming it."""
    side = _sidecar(path)
    if not os.path.lexists(path):
        return False
    why = None
    try:
        st = os.lstat(path)
        record = json.loads(side.read_text()) if side.is_file() else None
        if not os.path.isfile(path) or os.path.islink(path):
            why = "not a regular file"
        elif record is None:
            why = "no checksum beside it"
        elif st.st_size != record.get("size"):
            why = f"{st.st_size} bytes, {record.get('size')} written"
        elif ((st.st_size <= ALWAYS_HASH_BYTES or st.st_mtime_ns != record.get("mtime_ns"))
              and _digest(path) != record.get("sha256")):
            why = "its bytes do not match its checksum"
    except (OSError, ValueError, AttributeError) as e:
        why = f"unreadable ({e})"
    if why is None:
        return True
    log.warning("cache file %s is damaged (%s): rebuilding it", path, why)
    for p in (path, side):
        try:
            if os.path.lexists(p):
                os.unlink(p)
        except OSError as e:
            log.warning("could not remove damaged cache file %s: %s", p, e)
    return False


def save_array(path: Path, array: np.ndarray) -> None:
    """Save ``array`` (.npy, no pickles) with its checksum."""
    write_checked(path, lambda tmp: np.save(tmp, np.asarray(array), allow_pickle=False))


def load_array(path: Path, *, mmap: bool = False) -> np.ndarray | None:
    """The array saved by :func:`save_array`, memory-mapped read-only with ``mmap``; None when absent or damaged."""
    if not is_intact(path):
        return None
    try:
        array: np.ndarray = np.load(path, mmap_mode="r" if mmap else None, allow_pickle=False)
    except (OSError, ValueError, EOFError) as e:
        log.warning("cache file %s is unreadable (%s): rebuilding it", path, e)
        return None
    return array


def save_arrays(path: Path, **arrays: Any) -> None:
    """Save named arrays (.npz) with their checksum."""
    write_checked(path, lambda tmp: np.savez(tmp, **arrays))


def load_arrays(path: Path, *names: str, optional: tuple[str, ...] = ()) -> dict[str, np.ndarray] | None:
    """The arrays ``names`` (and those of ``optional`` it holds) saved by :func:`save_arrays`; None when the
    file is absent, damaged or lacks one of ``names``."""
    if not is_intact(path):
        return None
    try:
        with np.load(path, allow_pickle=False) as z:
            return {n: z[n] for n in names} | {n: z[n] for n in optional if n in z.files}
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as e:
        log.warning("cache file %s is unreadable (%s): rebuilding it", path, e)
        return None


__all__ = ["ALWAYS_HASH_BYTES", "is_intact", "load_array", "load_arrays", "save_array", "save_arrays", "write_checked"]
