import functools
import http.server
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from geoforensics.errors import InputError
from geoforensics.media import fetch as fetch_module
from geoforensics.media.fetch import check_url, fetch_url
from geoforensics.media.limits import MediaLimits
from tests.media import make_video

LOCAL = frozenset({"127.0.0.1"})


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("ftp://example.com/a.mp4", "only http"),
        ("file:///etc/passwd", "only http"),
        ("javascript:alert(1)", "only http"),
        ("http://127.0.0.1/", r"private/loopback address \(127\.0\.0\.1\)"),
        ("http://localhost/", "private/loopback"),
        ("http://10.0.0.1/", r"\(10\.0\.0\.1\)"),
        ("http://192.168.1.20:8080/x.mp4", "private/loopback"),
        ("http://169.254.169.254/latest/meta-data/", r"\(169\.254\.169\.254\)"),
        ("http://[::1]/", r"\(::1\)"),
        ("http://[::ffff:127.0.0.1]/", "private/loopback"),
        ("http://[fe80::1]/", "private/loopback"),
        ("http://0.0.0.0/", "private/loopback"),
        ("http://2130706433/", r"\(127\.0\.0\.1\)"),
        ("http://100.64.0.1/", "private/loopback"),
        ("http://224.0.0.1/", "private/loopback"),
        ("http://user:pw@example.com/", "user name or password"),
        ("https://token@example.com/v.mp4", "user name or password"),
        ("http://exa mple.com/", "not a valid URL"),
        ("http:///nohost", "not a valid URL"),
        ("", "no URL"),
    ],
)
def test_check_url_refuses(url: str, message: str) -> None:
    with pytest.raises(InputError, match=message):
        check_url(url)


def test_check_url_allow_hosts() -> None:
    check_url("http://127.0.0.1:8000/a.mp4", LOCAL)
    check_url("http://127.0.0.1:8000/a.mp4", frozenset({"127.0.0.1:8000"}))
    with pytest.raises(InputError, match="private"):
        check_url("http://127.0.0.1:8001/a.mp4", frozenset({"127.0.0.1:8000"}))
    with pytest.raises(InputError, match="private"):
        check_url("http://localhost/a.mp4", LOCAL)
    check_url("http://93.184.215.14/a.mp4")


class _Quiet(http.server.SimpleHTTPRequestHandler):
    """Serves a folder; sends `/redirect/<url>` to `<url>`, streams `/stream` without a length."""

    def log_message(self, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        if self.path.startswith("/redirect/"):
            self.send_response(302)
            self.send_header("Location", self.path[len("/redirect/"):])
            self.send_header("Content-Length", "0")
            self.end_headers()
        elif self.path == "/stream.mp4":
            data = (Path(self.directory) / "v.mp4").read_bytes()
            self.protocol_version = "HTTP/1.0"
            self.send_response(200)
            self.send_header("Content-Type", "video/mp4")
            self.end_headers()
            self.wfile.write(data)
        else:
            super().do_GET()


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    root = tmp_path_factory.mktemp("www")
    make_video(root / "v.mp4", 4.0, size="160x120")
    (root / "notes.mp4").write_bytes(b"this is not a video\n" * 100)
    (root / "clip.bin").write_bytes((root / "v.mp4").read_bytes())
    srv = _Server(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(root)))
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{srv.server_address[1]}", root
    srv.shutdown()
    srv.server_close()


def test_fetch_local_file(server: tuple[str, Path], tmp_path: Path) -> None:
    base, root = server
    dest = tmp_path / "dl"
    media = fetch_url(f"{base}/v.mp4", dest, allow_hosts=LOCAL, timeout_s=30)
    got = media.path
    assert media.info.has_video and media.size_bytes == got.stat().st_size
    assert got.parent == dest and got.suffix == ".mp4"
    assert got.read_bytes() == (root / "v.mp4").read_bytes()
    assert list(dest.iterdir()) == [got]


def test_fetch_refuses_loopback_without_allow_list(server: tuple[str, Path], tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"private/loopback address \(127\.0\.0\.1\)"):
        fetch_url(f"{server[0]}/v.mp4", tmp_path)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("path", ["/v.mp4", "/stream.mp4"])
def test_fetch_too_large(server: tuple[str, Path], tmp_path: Path, path: str) -> None:
    with pytest.raises(InputError, match="file larger than"):
        fetch_url(f"{server[0]}{path}", tmp_path, allow_hosts=LOCAL, limits=MediaLimits(max_bytes=5000))
    assert list(tmp_path.iterdir()) == []


def test_fetch_too_long(server: tuple[str, Path], tmp_path: Path) -> None:
    with pytest.raises(InputError, match="longer than"):
        fetch_url(f"{server[0]}/v.mp4", tmp_path, allow_hosts=LOCAL, limits=MediaLimits(max_duration_s=2))
    assert list(tmp_path.iterdir()) == []


def test_fetch_404(server: tuple[str, Path], tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"^could not fetch: .*404") as e:
        fetch_url(f"{server[0]}/missing.mp4", tmp_path, allow_hosts=LOCAL)
    assert "\x1b" not in str(e.value) and "\n" not in str(e.value)
    assert list(tmp_path.iterdir()) == []


def test_fetch_not_media(server: tuple[str, Path], tmp_path: Path) -> None:
    with pytest.raises(InputError, match="could not fetch"):
        fetch_url(f"{server[0]}/notes.mp4", tmp_path, allow_hosts=LOCAL)
    assert list(tmp_path.iterdir()) == []


def test_fetch_refuses_a_download_without_a_media_extension(server: tuple[str, Path], tmp_path: Path) -> None:
    with pytest.raises(InputError,
                       match=r"^could not fetch: unsupported file type '\.unknown_video'; expected one of: .*mp4"):
        fetch_url(f"{server[0]}/clip.bin", tmp_path, allow_hosts=LOCAL)
    assert list(tmp_path.iterdir()) == []


def test_fetch_redirect_to_private_host(server: tuple[str, Path], tmp_path: Path) -> None:
    base = server[0]
    target = base.replace("127.0.0.1", "localhost") + "/v.mp4"
    with pytest.raises(InputError, match="private/loopback"):
        fetch_url(f"{base}/redirect/{target}", tmp_path, allow_hosts=LOCAL)
    assert list(tmp_path.iterdir()) == []


def test_connect_time_guard_alone_stops_redirects(
    server: tuple[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(fetch_module, "_vet_info", lambda info, limits, allow_hosts: None)
    base = server[0]
    target = base.replace("127.0.0.1", "localhost") + "/v.mp4"
    with pytest.raises(InputError, match="private/loopback"):
        fetch_url(f"{base}/redirect/{target}", tmp_path, allow_hosts=LOCAL)
    with pytest.raises(InputError, match="could not fetch"):
        fetch_url(f"{base}/redirect/ftp://10.0.0.1/x.mp4", tmp_path, allow_hosts=LOCAL)
    assert list(tmp_path.iterdir()) == []


def test_fetch_redirect_within_allowed_host(server: tuple[str, Path], tmp_path: Path) -> None:
    base, root = server
    got = fetch_url(f"{base}/redirect/{base}/v.mp4", tmp_path, allow_hosts=LOCAL).path
    assert got.stat().st_size == (root / "v.mp4").stat().st_size


def test_playlist_refused() -> None:
    with pytest.raises(InputError, match="playlists are not supported"):
        fetch_module._vet_info({"_type": "playlist", "entries": []}, MediaLimits(), frozenset())


def test_unsafe_formats_dropped() -> None:
    info = {
        "webpage_url": "http://93.184.215.14/watch",
        "formats": [
            {"format_id": "a", "url": "http://10.0.0.1/a.mp4", "protocol": "http"},
            {"format_id": "b", "url": "rtmp://93.184.215.14/b", "protocol": "rtmp"},
            {"format_id": "c", "url": "http://93.184.215.14/c.mp4", "protocol": "http"},
        ],
    }
    fetch_module._vet_info(info, MediaLimits(), frozenset())
    assert [f["format_id"] for f in info["formats"]] == ["c"]
    only_private = {"formats": [{"url": "http://10.0.0.1/a.mp4", "protocol": "https"}]}
    with pytest.raises(InputError, match="private"):
        fetch_module._vet_info(only_private, MediaLimits(), frozenset())
    with pytest.raises(InputError, match="larger than"):
        fetch_module._vet_info(
            {"url": "http://93.184.215.14/c.mp4", "filesize": 10**9}, MediaLimits(), frozenset()
        )


# ---------------------------------------------------------------- issue 14: the SSRF tricks of the hostile-input audit


@pytest.mark.parametrize(
    "url",
    [
        "http://0x7f000001/", "http://0x7f.0.0.1/", "http://0177.0.0.1/", "http://017700000001/",
        "http://127.1/", "http://127.0.1/", "http://0/", "HTTP://127.0.0.1/", "http://LOCALHOST./",
        "http://127\u30020\u30020\u30021/",  # ideographic full stops
        "http://0xa9fea9fe/latest/meta-data/", "http://2852039166/latest/meta-data/", "http://[::ffff:169.254.169.254]/",
        "http://[0:0:0:0:0:0:0:1]/", "http://[::ffff:7f00:1]/", "http://[::127.0.0.1]/", "http://[64:ff9b::7f00:1]/",
        "http://[2002:7f00:1::]/", "http://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/", "http://[fc00::1]/",
        "http://[fd00:ec2::254]/", "http://[::]/", "https://[::1]:443/",
    ],
)
def test_check_url_refuses_address_tricks(url: str) -> None:
    with pytest.raises(InputError, match="private/loopback address"):
        check_url(url)


@pytest.mark.parametrize(
    "url",
    ["gopher://127.0.0.1:70/_x", "data:text/plain,hi", "dict://127.0.0.1:11211/", "file://localhost/etc/passwd",
     "ftp://93.184.215.14/a.mp4", "view-source:http://127.0.0.1/", "jar:http://127.0.0.1!/", "//127.0.0.1/"],
)
def test_check_url_refuses_other_schemes(url: str) -> None:
    with pytest.raises(InputError, match="only http"):
        check_url(url)


class _Counting(http.server.BaseHTTPRequestHandler):
    requests: list[str] = []

    def log_message(self, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        _Counting.requests.append(self.path)
        self.send_response(404)
        self.send_header("Content-Length", "0")
        self.end_headers()


def test_dns_rebinding_is_refused_before_connecting(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The name resolves to a public address when checked, then to 127.0.0.1 when yt-dlp connects:
    the connect-time guard refuses, and the local server never sees a request."""
    import socket

    srv = _Server(("127.0.0.1", 0), _Counting)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    port = srv.server_address[1]
    real = socket.getaddrinfo
    answers = iter(["93.184.215.14"])

    def rebinding(host: Any, *args: Any, **kwargs: Any) -> Any:
        if host == "rebind.test":
            ip = next(answers, "127.0.0.1")
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (ip, port))]
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", rebinding)
    _Counting.requests.clear()
    try:
        with pytest.raises(InputError, match=r"private/loopback address \(127\.0\.0\.1\)"):
            fetch_url(f"http://rebind.test:{port}/v.mp4", tmp_path, timeout_s=30)
    finally:
        srv.shutdown()
        srv.server_close()
    assert _Counting.requests == []
    assert list(tmp_path.iterdir()) == []


def test_redirect_to_the_metadata_address_is_refused(server: tuple[str, Path], tmp_path: Path) -> None:
    base = server[0]
    for target, ip in (("http://169.254.169.254/latest/meta-data/v.mp4", "169.254.169.254"),
                       ("http://0x7f000001/v.mp4", "127.0.0.1"), ("http://[::1]/v.mp4", "::1")):
        with pytest.raises(InputError, match=rf"^refusing to fetch from a private/loopback address \({ip}\)$"):
            fetch_url(f"{base}/redirect/{target}", tmp_path, allow_hosts=LOCAL, timeout_s=30)
    assert list(tmp_path.iterdir()) == []
