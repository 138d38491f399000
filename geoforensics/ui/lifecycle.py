"""What a request or the app leaves behind: scratch folders removed at the end, the exports and Gradio's
cache emptied at exit, SIGTERM handled like Ctrl-C."""

from __future__ import annotations

import atexit
import contextlib
import os
import shutil
import signal
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import gradio as gr

_AT_EXIT: set[Path] = set()
_AT_EXIT_LOCK = threading.Lock()
_DEMOS: list[gr.Blocks] = []
_CLEANED = False


def _clean_up() -> None:
    """Remove our folders and the files the apps put in Gradio's cache, once, whichever of the exit hooks and
    the SIGTERM watchdog comes first. Requests may still be running: their file sets are read as snapshots."""
    global _CLEANED
    with _AT_EXIT_LOCK:
        if _CLEANED:
            return
        _CLEANED = True
        for d in list(_AT_EXIT):
            shutil.rmtree(d, ignore_errors=True)
        _AT_EXIT.clear()
        for demo in _DEMOS:
            keep = {f for c in demo.blocks.values() for f in getattr(c, "keep_in_cache", set())}
            for files in list(demo.temp_file_sets):
                for f in list(files):
                    if f not in keep:
                        with contextlib.suppress(OSError):
                            os.remove(f)


atexit.register(_clean_up)


def remove_at_exit(path: Path) -> None:
    """Remove the folder ``path`` at exit (also after SIGTERM, see ``exit_on_sigterm``)."""
    with _AT_EXIT_LOCK:
        _AT_EXIT.add(path)


@contextlib.contextmanager
def request_dir() -> Iterator[Path]:
    """A scratch folder for one request, removed when the request ends, or at exit if it is cut short."""
    with tempfile.TemporaryDirectory(prefix="geoforensics-req-") as tmp:
        remove_at_exit(Path(tmp))
        try:
            yield Path(tmp)
        finally:
            with _AT_EXIT_LOCK:
                _AT_EXIT.discard(Path(tmp))


def empty_cache_at_exit(demo: gr.Blocks) -> None:
    """At exit, delete the files ``demo`` put in Gradio's cache (uploads, outputs; not the examples,
    which Gradio keeps and shares between runs). Gradio does this itself only when its server thread
    shuts down within 5 s, which open browser connections prevent."""
    with _AT_EXIT_LOCK:
        _DEMOS.append(demo)


EXIT_GRACE_S = 5.0
"""After SIGTERM, seconds the app waits for running requests before it leaves without them."""


def exit_on_sigterm() -> None:
    """Make SIGTERM stop the app the way Ctrl-C does (Gradio closes the server and empties its cache,
    then the exit hooks remove our folders), within :data:`EXIT_GRACE_S` plus the clean-up even while an
    analysis runs: Python would otherwise wait for the request's thread to finish (a 10-minute file, a
    minute). Only from the main thread, and only where SIGTERM still has its default action."""
    if threading.current_thread() is threading.main_thread() and signal.getsignal(signal.SIGTERM) is signal.SIG_DFL:
        signal.signal(signal.SIGTERM, _terminate)


def _terminate(signum: int, frame: object) -> None:
    threading.Thread(target=_leave_after, args=(EXIT_GRACE_S,), name="geoforensics-exit", daemon=True).start()
    raise KeyboardInterrupt


def _leave_after(grace_s: float) -> None:
    """Run the exit hooks (our folders, Gradio's cache) and leave, should the process still be here."""
    time.sleep(grace_s)
    _clean_up()
    os._exit(0)
