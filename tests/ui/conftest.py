"""Shared bits of the UI tests: example paths and a no-op progress callback."""

from __future__ import annotations

from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
DEMO_VIDEO = EXAMPLES / "kauai_with_european_birds.mp4"
EAGLE = EXAMPLES / "XC148645.mp3"


def no_progress(*args, **kwargs) -> None:
    return None


@pytest.fixture(scope="session")
def demo_video() -> Path:
    if not DEMO_VIDEO.is_file():
        pytest.skip("examples/kauai_with_european_birds.mp4 missing: run python examples/build_demo_video.py")
    return DEMO_VIDEO


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def app_url():
    """The app, queued and launched as ``app.py`` does, on a free 127.0.0.1 port; yields its URL."""
    from geoforensics.ui import QUEUE_OPTIONS, build_demo, launch_options

    demo = build_demo().queue(**QUEUE_OPTIONS)
    port = free_port()
    demo.launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True, **launch_options())
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        demo.close()
