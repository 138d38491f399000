"""Stops what a local Ray leaves behind when the batch that started it ends, however it ends (SIGKILL too).

    python -I reaper.py TOKEN FOLDER DRIVER_PID      (stdin: a pipe from the batch, never written to)

:func:`geoforensics.batch.engine.ray_session` starts this script before a local Ray, with
``GEOFORENSICS_RAY_RUN=TOKEN`` in the environment every process of that Ray inherits, and ``FOLDER`` as
that Ray's temporary folder (sockets, session logs). When the pipe on its stdin closes (the batch
closed it after stopping Ray, or the batch died: the kernel closes it then), every process of this user
whose environment holds that token, or that holds a file inside ``FOLDER`` open, is sent SIGTERM, then
SIGKILL after :data:`GRACE_S`, and ``FOLDER`` is removed. Without it, a killed batch leaves Ray's two
agents running about 60 s (they wait for a GCS that is gone) and its session logs in ``TMPDIR``.

The environment alone does not find them all: Ray 2.60's raylet sometimes starts its two agents with an
environment of its own making that lacks the token (seen in about half of the local starts). Every Ray
process keeps its log files inside ``FOLDER`` open, which marks it as surely.

It imports the standard library only (started with ``-I``, it costs ~40 ms and ~10 MB), and runs in
a session of its own, so that a Ctrl-C or SIGTERM sent to the batch's process group leaves it its job.
"""

from __future__ import annotations

import os
import shutil
import signal
import sys
import time
from collections.abc import Collection
from pathlib import Path

RUN_VAR = "GEOFORENSICS_RAY_RUN"
"""The environment variable that marks the processes of one batch's local Ray."""

GRACE_S = 2.0
"""Seconds the processes get to exit after SIGTERM before SIGKILL."""


def marked(entry: str, spare: Collection[int] = (), folder: Path | None = None) -> list[int]:
    """Live processes (not zombies) whose environment holds ``entry`` (``NAME=value``), or that hold a file
    inside ``folder`` open, except ``spare``."""
    needle = entry.encode()
    found = []
    try:
        entries = os.listdir("/proc")
    except OSError:
        return []
    for d in entries:
        if not d.isdigit() or int(d) in spare:
            continue
        try:
            if needle not in Path(f"/proc/{d}/environ").read_bytes().split(b"\0") and not (
                folder is not None and _holds_open(d, folder)
            ):
                continue
            if Path(f"/proc/{d}/stat").read_text().rsplit(")", 1)[1].split()[0] in ("Z", "X"):
                continue
        except (OSError, IndexError):
            continue
        found.append(int(d))
    return found


def _holds_open(pid: str, folder: Path) -> bool:
    """Whether process ``pid`` has a file inside ``folder`` open."""
    inside = f"{folder}{os.sep}"
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            if os.readlink(f"/proc/{pid}/fd/{fd}").startswith(inside):
                return True
        except OSError:
            continue
    return False


def stop(entry: str, spare: Collection[int] = (), grace_s: float = GRACE_S, folder: Path | None = None) -> int:
    """SIGTERM, then SIGKILL after ``grace_s``, the processes :func:`marked` with ``entry`` (or ``folder``);
    how many there were."""
    first = marked(entry, spare, folder)
    for sig, wait_s in ((signal.SIGTERM, grace_s), (signal.SIGKILL, 5.0)):
        for pid in marked(entry, spare, folder):
            try:
                os.kill(pid, sig)
            except OSError:
                pass
        deadline = time.monotonic() + wait_s
        while marked(entry, spare, folder) and time.monotonic() < deadline:
            time.sleep(0.05)
    return len(first)


def main(argv: list[str]) -> int:
    token, folder, driver = argv[0], Path(os.path.realpath(argv[1])), int(argv[2])  # /proc/PID/fd links are real paths
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    while sys.stdin.buffer.read(4096):
        pass
    stop(f"{RUN_VAR}={token}", {os.getpid(), driver}, folder=folder)
    shutil.rmtree(folder, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
