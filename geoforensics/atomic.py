"""Writing files so that nothing is lost: every file appears whole or not at all, and never over an input.

Every file the package writes (results for a user, cache entries, checkpoints, downloads) goes
through :func:`atomic_path` or :func:`atomic_open`: the content is written to a temporary file in
the destination's folder and renamed over the destination only when it is complete. A run that
fails or is interrupted leaves an earlier file at that path exactly as it was, and no partial file.
The new file gets the mode a plain ``open`` would give it (``0o666`` less the umask), or the mode of
the file it replaces.

:func:`refuse_overwrite` is the other half: a result is never written over a file the same run reads
(the same file through any path, link or hard link).
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import IO, Any, BinaryIO, Literal, TextIO, overload

from .errors import InputError


def _umask() -> int:
    """The process's umask, read without changing it where ``/proc`` says it (Linux); else set and restored."""
    try:
        m = re.search(r"^Umask:\s*([0-7]+)", Path("/proc/self/status").read_text(), re.M)
        if m:
            return int(m.group(1), 8)
    except OSError:
        pass
    old = os.umask(0o022)
    os.umask(old)
    return old


def _mode_for(dest: Path) -> int:
    try:
        return dest.stat().st_mode & 0o7777
    except OSError:
        return 0o666 & ~_umask()


@contextmanager
def atomic_path(dest: str | os.PathLike[str]) -> Iterator[Path]:
    """A temporary path beside ``dest`` (same suffix, so writers that read it see the right format) to
    write the new content to; when the block ends normally it replaces ``dest`` at once, else it is
    removed and ``dest`` is untouched. The folder of ``dest`` is created if needed."""
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name[:80]}.", suffix=".part" + dest.suffix)
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        os.chmod(tmp, _mode_for(dest))
        os.replace(tmp, dest)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


@overload
def atomic_open(
    dest: str | os.PathLike[str], mode: Literal["w"] = "w", **kwargs: Any
) -> AbstractContextManager[TextIO]: ...
@overload
def atomic_open(
    dest: str | os.PathLike[str], mode: Literal["wb"], **kwargs: Any
) -> AbstractContextManager[BinaryIO]: ...
@contextmanager  # type: ignore[misc]
def atomic_open(dest: str | os.PathLike[str], mode: str = "w", **kwargs: Any) -> Iterator[IO[Any]]:
    """``open(dest, mode, **kwargs)`` written through :func:`atomic_path` (``mode`` "w" or "wb")."""
    if mode not in ("w", "wb"):
        raise ValueError(f"atomic_open writes a new file: mode 'w' or 'wb', not {mode!r}")
    if mode == "w":
        kwargs.setdefault("encoding", "utf-8")
    with atomic_path(dest) as tmp, open(tmp, mode, **kwargs) as stream:
        yield stream
        stream.flush()
        os.fsync(stream.fileno())


def write_text(dest: str | os.PathLike[str], text: str) -> Path:
    """Write ``text`` (UTF-8) to ``dest`` atomically; returns ``dest`` as a Path."""
    with atomic_open(dest, "w", newline="") as f:
        f.write(text)
    return Path(dest)


def unwritable(path: str | os.PathLike[str]) -> str | None:
    """Why ``path`` cannot be written (not a regular file, no writable folder on its way, ...), or None: checked
    before any work, so a bad destination fails at once rather than after a render."""
    path = Path(path)
    if path.exists():
        if not path.is_file():
            return "it is not a regular file"
        return None if os.access(path, os.W_OK) else "it is not writable"
    folder = path.absolute().parent
    while not folder.exists():
        if folder == folder.parent:
            return "no folder of its path exists"
        folder = folder.parent
    if not folder.is_dir():
        return f"{folder} is not a folder"
    if not os.access(folder, os.W_OK | os.X_OK):
        return f"folder {folder} is not writable"
    try:  # the permission bits say yes; a read-only or special file system may still say no
        fd, probe = tempfile.mkstemp(dir=folder, prefix=".geoforensics-probe-")
        os.close(fd)
        os.unlink(probe)
    except OSError as e:
        return f"folder {folder} is not writable ({(e.strerror or type(e).__name__).lower()})"
    return None


def same_file(a: str | os.PathLike[str], b: str | os.PathLike[str]) -> bool:
    """True when ``a`` and ``b`` name one existing file (through any path, symbolic or hard link)."""
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def check_writable(path: str | os.PathLike[str], what: str = "the output") -> None:
    """:class:`InputError` when :func:`unwritable` finds a reason."""
    problem = unwritable(path)
    if problem is not None:
        raise InputError(f"cannot write {what} to {Path(path).name}: {problem}")


def refuse_overwrite(
    out: str | os.PathLike[str], inputs: Iterable[str | os.PathLike[str]], what: str = "the output"
) -> None:
    """:class:`InputError` when ``out`` is one of ``inputs`` (the same file by any path or link)."""
    for item in inputs:
        if same_file(out, item):
            raise InputError(
                f"refusing to write {what} to {Path(out).name}: it is an input of this run ({Path(item).name}); "
                "name another file"
            )


__all__ = ["atomic_open", "atomic_path", "check_writable", "refuse_overwrite", "same_file", "unwritable", "write_text"]
