"""Downloading weights over HTTP from a local server on 127.0.0.1: a good file is verified and kept; a
truncated file, a broken connection and a wrong checksum are refused with a clear message and leave
nothing behind; the app's download button (same weight manager) on the same server; the one-time
offer of ``./run.sh app``'s first start."""

from __future__ import annotations

import hashlib
import http.server
import io
import threading
from collections.abc import Iterator
from pathlib import Path

import gradio as gr
import pytest

from geoforensics import weights as W
from geoforensics.errors import GeoforensicsError
from geoforensics.forensics.analysis import image_geolocator_status
from geoforensics.geolocators.image import CLIP_WEIGHTS

BLOB = bytes(range(256)) * 3000  # 768,000 bytes: several read chunks, several progress calls
NAME = "test-http-blob"


class Server:
    """http.server in a thread. Paths: /good.bin (the blob), /short.bin (its first half, honestly
    sized), /cut.bin (announces the full size, sends half, closes), /other.bin (same size, other bytes)."""

    def __init__(self) -> None:
        files = {"/good.bin": BLOB, "/short.bin": BLOB[: len(BLOB) // 2], "/other.bin": bytes(reversed(BLOB))}
        self.requests: list[str] = []
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's name)
                outer.requests.append(self.path)
                if self.path == "/cut.bin":
                    self.send_response(200)
                    self.send_header("Content-Length", str(len(BLOB)))
                    self.end_headers()
                    self.wfile.write(BLOB[: len(BLOB) // 2])
                    self.wfile.flush()
                    self.close_connection = True
                    return
                body = files.get(self.path)
                if body is None:
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}{path}"

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture(scope="module")
def server() -> Iterator[Server]:
    s = Server()
    yield s
    s.close()


@pytest.fixture(autouse=True)
def weights_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    d = tmp_path / "weights"
    monkeypatch.setenv("GEOFORENSICS_WEIGHTS", str(d))
    monkeypatch.setenv("GEOFORENSICS_CACHE", str(tmp_path / "cache"))
    return d


def register(monkeypatch: pytest.MonkeyPatch, url: str, name: str = NAME) -> W.WeightSpec:
    spec = W.WeightSpec(name=name, source="url", url=url, sha256=hashlib.sha256(BLOB).hexdigest(),
                        size_bytes=len(BLOB), licence="test", description="a test blob")
    monkeypatch.setitem(W.WEIGHTS, name, spec)
    return spec


def test_a_good_file_is_verified_and_cached(server, monkeypatch, weights_dir):
    register(monkeypatch, server.url("/good.bin"))
    calls: list[tuple[float, str]] = []
    assert W.status(NAME) == "absent"
    path = W.fetch(NAME, progress=lambda fraction, message: calls.append((fraction, message)))
    assert path == weights_dir / "good.bin" and path.read_bytes() == BLOB
    assert W.status(NAME) == "present" and W.weight_path(NAME) == path
    assert calls[-1] == (1.0, f"{NAME}: 1 of 1 MB") and all(0 <= f <= 1 for f, _ in calls)
    assert sorted(p.name for p in weights_dir.iterdir()) == ["good.bin"]  # no partial file left
    n = len(server.requests)
    assert W.fetch(NAME, progress=False) == path and len(server.requests) == n  # cached: not downloaded again


@pytest.mark.parametrize(
    "path, message",
    [
        ("/short.bin", r"refusing 'test-http-blob' \(truncated\): got 384,000 bytes"),
        ("/other.bin", r"refusing 'test-http-blob' \(wrong checksum\): got 768,000 bytes with sha256"),
        ("/cut.bin", r"refusing 'test-http-blob' \(truncated\): got 384,000 bytes"),  # the connection broke
        ("/missing.bin", "could not download 'test-http-blob' .*404"),
    ],
)
def test_bad_downloads_are_refused_and_leave_nothing(server, monkeypatch, weights_dir, path, message):
    register(monkeypatch, server.url(path))
    with pytest.raises(GeoforensicsError, match=message) as e:
        W.fetch(NAME, progress=False)
    assert "\n" not in str(e.value)
    assert not weights_dir.exists() or list(weights_dir.iterdir()) == []
    assert W.status(NAME) == "absent"


# -- the app's button ---------------------------------------------------------------------------


def error_text(excinfo: pytest.ExceptionInfo) -> str:
    msg = excinfo.value.message
    assert "\n" not in msg and "Traceback" not in msg
    return msg


def no_progress(*args: object, **kwargs: object) -> None:
    return None


def test_the_app_button_downloads_clip_and_turns_image_geolocation_on(server, monkeypatch, weights_dir):
    """The real handler and the real weights name, with a tiny file standing in for ViT-L/14: once it
    is verified, image geolocation reports available in the same process (no restart)."""
    from geoforensics.ui.clip_weights import download_clip

    monkeypatch.delenv("GEOFORENSICS_CLIP_CONFIG", raising=False)
    register(monkeypatch, server.url("/good.bin"), name=CLIP_WEIGHTS)
    assert not image_geolocator_status()[0]
    text, button = download_clip(progress=no_progress)
    assert (weights_dir / "good.bin").read_bytes() == BLOB
    assert image_geolocator_status() == (True, "")
    assert "checksum verified" in text and "Analyze" in text
    assert button.visible is False


def test_the_app_button_refuses_a_bad_file_and_stays_audio_only(server, monkeypatch, weights_dir):
    from geoforensics.ui.clip_weights import download_clip

    monkeypatch.delenv("GEOFORENSICS_CLIP_CONFIG", raising=False)
    register(monkeypatch, server.url("/other.bin"), name=CLIP_WEIGHTS)
    with pytest.raises(gr.Error) as e:
        download_clip(progress=no_progress)
    msg = error_text(e)
    assert msg.startswith("The CLIP download failed, so the app stays audio-only") and "wrong checksum" in msg
    assert not image_geolocator_status()[0]
    assert not weights_dir.exists() or list(weights_dir.iterdir()) == []


def test_the_app_button_offline_is_a_clear_message(monkeypatch, weights_dir):
    import socket

    from geoforensics.ui.clip_weights import download_clip

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: nothing listens there
    monkeypatch.delenv("GEOFORENSICS_CLIP_CONFIG", raising=False)
    register(monkeypatch, f"http://127.0.0.1:{port}/ViT-L-14.pt", name=CLIP_WEIGHTS)
    with pytest.raises(gr.Error) as e:
        download_clip(progress=no_progress)
    msg = error_text(e)
    assert "stays audio-only" in msg and "could not download" in msg and "--from FILE" in msg
    assert not image_geolocator_status()[0]


# -- ./run.sh app's first start -----------------------------------------------------------------


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_offer_on_a_terminal_asks_once_and_a_no_is_remembered(server, monkeypatch, weights_dir):
    register(monkeypatch, server.url("/good.bin"))
    n = len(server.requests)
    out = io.StringIO()
    assert W.offer(NAME, stdin=Terminal("\n"), out=out) is False  # Enter: the default is no
    assert "[y/N]" in out.getvalue() and "not be asked again" in out.getvalue()
    assert W.offer_marker(NAME).exists()
    out = io.StringIO()
    asked = Terminal("y\n")
    assert W.offer(NAME, stdin=asked, out=out) is False
    assert asked.tell() == 0 and "[y/N]" not in out.getvalue()  # not asked again: the command is printed
    assert f"geoforensics weights fetch {NAME}" in out.getvalue()
    assert len(server.requests) == n and W.status(NAME) == "absent"  # nothing downloaded without a yes


def test_offer_on_a_terminal_downloads_on_yes(server, monkeypatch, weights_dir):
    register(monkeypatch, server.url("/good.bin"))
    out = io.StringIO()
    assert W.offer(NAME, stdin=Terminal("y\n"), out=out) is True
    assert W.status(NAME) == "present" and "verified" in out.getvalue()
    assert W.offer(NAME, stdin=Terminal(""), out=io.StringIO()) is True  # present: nothing asked


def test_offer_without_a_terminal_prints_the_command_only(server, monkeypatch, weights_dir):
    register(monkeypatch, server.url("/good.bin"))
    n = len(server.requests)
    out = io.StringIO()
    assert W.offer(NAME, stdin=io.StringIO("y\n"), out=out) is False
    assert f"run `geoforensics weights fetch {NAME}`" in out.getvalue() and "[y/N]" not in out.getvalue()
    assert len(server.requests) == n and not W.offer_marker(NAME).exists()


def test_weights_offer_command(capsys):
    from geoforensics.cli import main

    with pytest.raises(SystemExit) as e:
        main(["weights", "offer", "--help"])
    assert e.value.code == 0 and "usage: geoforensics weights offer" in capsys.readouterr().out
    assert main(["weights", "offer", CLIP_WEIGHTS, "--why", "image geolocation is off without it"]) == 0
    err = capsys.readouterr().err  # pytest's stdin is not a terminal
    assert "geoforensics weights fetch clip-vit-l-14-openai" in err and "image geolocation is off without it" in err
