"""Fetch a video or sound from a URL (yt-dlp), refusing local and private network addresses."""

from __future__ import annotations

import ipaddress
import logging
import re
import shutil
import socket
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

from geoforensics.errors import InputError
from geoforensics.ffmpeg import MediaFile, ffmpeg_exe, format_mb, open_media
from geoforensics.media.limits import MEDIA_EXTS, MediaLimits, check_duration, check_extension

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# Tries a small (<= 720p) video with sound first; sound-only sites fall through to the last two.
FORMAT = "bv*[height<=720]+ba/b[height<=720]/bv*+ba/b/ba"
# Download protocols whose every request goes through yt-dlp's own HTTP client (never ffmpeg, rtmp...).
SAFE_PROTOCOLS = frozenset(
    {"http", "https", "m3u8", "m3u8_native", "http_dash_segments", "http_dash_segments_generator"}
)

_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_ANSI_RE = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
_LEFTOVER_SUFFIXES = (".part", ".ytdl", ".temp", ".tmp")


def _forbidden(ip: IPAddress) -> bool:
    """True for any address that is not plainly public unicast, including IPv4 hidden in IPv6 forms."""
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = [ip.ipv4_mapped, ip.sixtofour, ip.teredo[1] if ip.teredo else None]
        if ip in _NAT64:
            embedded.append(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
        if any(e is not None and _forbidden(e) for e in embedded):
            return True
    return (
        ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
        or not ip.is_global
    )


def _host_allowed(host: str, port: int | None, allow_hosts: frozenset[str]) -> bool:
    if not allow_hosts:
        return False
    names = {host}
    if port is not None:
        names |= {f"{host}:{port}", f"[{host}]:{port}"}
    return any(n in {a.lower() for a in allow_hosts} for n in names)


def _resolve(host: str, port: int) -> list[IPAddress]:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError, OSError):
        raise InputError(f"could not fetch: cannot resolve host {host!r}") from None
    return [ipaddress.ip_address(str(info[4][0]).split("%", 1)[0]) for info in infos]


def check_url(url: str, allow_hosts: frozenset[str] = frozenset()) -> None:
    """InputError unless ``url`` is an http(s) URL without credentials whose host resolves only to public addresses.

    A host named in ``allow_hosts`` (``"127.0.0.1"`` or ``"127.0.0.1:8000"``) skips the address check.
    On its own this check can be fooled by a DNS server that answers differently when the URL is fetched
    (DNS rebinding) or by a redirect; ``fetch_url`` therefore checks again at connect time.
    """
    if not isinstance(url, str) or not url.strip():
        raise InputError("no URL given")
    url = url.strip()
    if any(ord(c) <= 0x20 or c == "\\" for c in url):
        raise InputError("not a valid URL (spaces, control characters or backslashes)")
    parts = urlsplit(url)
    if parts.scheme.lower() not in ("http", "https"):
        raise InputError("only http(s) URLs are allowed")
    if "@" in parts.netloc:
        raise InputError("URLs with a user name or password are not allowed")
    try:
        host, port = parts.hostname, parts.port
    except ValueError:
        raise InputError("not a valid URL (bad host or port)") from None
    if not host:
        raise InputError("not a valid URL (no host)")
    host = host.lower().rstrip(".")
    if _host_allowed(host, port, allow_hosts):
        return
    default_port = 443 if parts.scheme.lower() == "https" else 80
    for ip in _resolve(host, port or default_port):
        if _forbidden(ip):
            raise InputError(f"refusing to fetch from a private/loopback address ({ip})")


class _RefusedAddress(ConnectionRefusedError):
    """Raised inside yt-dlp's HTTP stack when a connection would reach a forbidden address."""


_policy = threading.local()
_guard_lock = threading.Lock()
_guard_installed = False


def _guarded_connect(original: Callable[..., socket.socket]) -> Callable[..., socket.socket]:
    """Wrap yt-dlp's ``create_connection``: in a guarded thread, vet every resolved address and connect to it."""

    def create_connection(address: tuple[str, int], *args: Any, **kwargs: Any) -> socket.socket:
        allow: frozenset[str] | None = getattr(_policy, "allow_hosts", None)
        host, port = address
        if allow is None or _host_allowed(str(host).lower().rstrip("."), port, allow):
            return original(address, *args, **kwargs)
        try:
            infos = socket.getaddrinfo(host, port, 0, socket.SOCK_STREAM)
        except (socket.gaierror, UnicodeError) as e:
            raise OSError(f"cannot resolve host {host!r}") from e
        addrs = [str(info[4][0]) for info in infos]
        for a in addrs:
            ip = ipaddress.ip_address(a.split("%", 1)[0])
            if _forbidden(ip):
                msg = f"refusing to fetch from a private/loopback address ({ip})"
                _policy.refusals.append(msg)
                raise _RefusedAddress(msg)
        err: OSError | None = None
        for a in dict.fromkeys(addrs):
            try:
                return original((a, port), *args, **kwargs)
            except OSError as e:
                err = e
        raise err or OSError(f"cannot connect to {host!r}")

    create_connection.geoforensics_guard = True  # type: ignore[attr-defined]  # a marker on the function object
    return create_connection


class _NoFTPHandler(urllib.request.BaseHandler):
    """Stands in for urllib's FTP handler so that a redirect to ftp:// goes nowhere."""

    def ftp_open(self, req: urllib.request.Request) -> None:
        raise urllib.error.URLError("redirects to ftp:// are not followed")


def _install_guard() -> bool:
    """Route yt-dlp's HTTP connections through the address guard (once per process); False if not possible."""
    global _guard_installed
    with _guard_lock:
        if _guard_installed:
            return True
        try:
            from yt_dlp.networking import _urllib
        except ImportError:
            return False
        if not callable(getattr(_urllib, "create_connection", None)) or not hasattr(_urllib, "FTPHandler"):
            logging.getLogger(__name__).warning(
                "this yt-dlp has no yt_dlp.networking._urllib.create_connection; "
                "URL fetches are checked up front only, not at connect time"
            )
            return False
        if not getattr(_urllib.create_connection, "geoforensics_guard", False):
            _urllib.create_connection = _guarded_connect(_urllib.create_connection)
        _urllib.FTPHandler = _NoFTPHandler
        _guard_installed = True
        return True


@contextmanager
def _guarded(allow_hosts: frozenset[str]) -> Iterator[list[str]]:
    """While active, yt-dlp connections made by this thread obey the address policy; yields the refusals."""
    _install_guard()
    _policy.allow_hosts = frozenset(a.lower() for a in allow_hosts)
    _policy.refusals = []
    try:
        yield _policy.refusals
    finally:
        del _policy.allow_hosts


def _info_urls(info: dict[str, Any]) -> Iterator[str]:
    """Every URL a (selected or listed) format of ``info`` would fetch that is known before downloading."""
    for key in ("url", "webpage_url", "manifest_url"):
        if isinstance(info.get(key), str):
            yield info[key]
    for fmt in [info, *(info.get("requested_formats") or [])]:
        base = fmt.get("fragment_base_url")
        if isinstance(base, str):
            yield base
        for frag in fmt.get("fragments") or []:
            if isinstance(frag, dict):
                u = frag.get("url") or (urljoin(base, frag["path"]) if base and frag.get("path") else None)
                if isinstance(u, str):
                    yield u


def _format_problem(fmt: dict[str, Any], allow_hosts: frozenset[str], seen: dict[str, str | None]) -> str | None:
    """Why this format must not be downloaded, or None when it is safe."""
    protocol = str(fmt.get("protocol") or "https")
    if any(p not in SAFE_PROTOCOLS for p in protocol.split("+")):
        return f"unsupported protocol {protocol}"
    for u in _info_urls(fmt):
        if u in seen:
            problem = seen[u]
        else:
            try:
                check_url(u, allow_hosts)
                problem = None
            except InputError as e:
                problem = str(e)
            seen[u] = problem
        if problem:
            return problem
    return None


def _vet_info(info: dict[str, Any], limits: MediaLimits, allow_hosts: frozenset[str]) -> None:
    """Refuse playlists, live streams, over-long media and unsafe URLs; drop unsafe formats in place."""
    if info.get("_type") in ("playlist", "multi_video") or info.get("entries") is not None:
        raise InputError("playlists are not supported; paste the URL of a single video")
    if info.get("is_live") or info.get("live_status") in ("is_live", "is_upcoming"):
        raise InputError("live streams are not supported")
    check_duration(info.get("duration"), limits)
    seen: dict[str, str | None] = {}
    for key in ("webpage_url", "original_url"):
        if isinstance(info.get(key), str):
            check_url(info[key], allow_hosts)
    formats = info.get("formats")
    if formats:
        problems = [_format_problem(f, allow_hosts, seen) for f in formats]
        safe = [f for f, p in zip(formats, problems) if p is None]
        if not safe:
            raise InputError(problems[0] or "could not fetch: no usable format")
        info["formats"] = safe
        info.pop("requested_formats", None)
    else:
        problem = _format_problem(info, allow_hosts, seen)
        if problem:
            raise InputError(problem)
    chosen = info.get("requested_formats") or [info]
    size = sum(int(f.get("filesize") or f.get("filesize_approx") or 0) for f in chosen)
    if size > limits.max_bytes:
        raise InputError(f"file larger than {format_mb(limits.max_bytes)} MB")


def _one_line(err: BaseException) -> str:
    """yt-dlp's error as one short line without colours, "ERROR:" or the extractor's name."""
    text = _ANSI_RE.sub("", str(err)).strip()
    text = re.sub(r"^(ERROR:\s*)+", "", text)
    text = re.sub(r"^\[[\w:.-]+\]\s*(\S+:\s*)?", "", text)
    text = re.sub(r"\s*\(caused by .*\)\s*$", "", text, flags=re.MULTILINE)
    line = text.splitlines()[0].strip() if text else type(err).__name__
    return line[:200]


class _Log:
    """Collects yt-dlp's messages instead of printing them."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def debug(self, msg: str) -> None:
        self.lines.append(_ANSI_RE.sub("", msg))

    info = warning = error = debug


def _new_files(folder: Path) -> list[Path]:
    """Finished downloads in ``folder``, largest first."""
    return sorted(
        (p for p in folder.rglob("*") if p.is_file() and not p.name.endswith(_LEFTOVER_SUFFIXES)),
        key=lambda p: p.stat().st_size,
        reverse=True,
    )


def fetch_url(
    url: str,
    dest_dir: Path,
    *,
    limits: MediaLimits = MediaLimits(),
    allow_hosts: frozenset[str] = frozenset(),
    timeout_s: float = 120.0,
) -> MediaFile:
    """Download the video or sound at ``url`` into ``dest_dir`` and return it, checked and probed
    (:class:`~geoforensics.ffmpeg.MediaFile`: analysing it opens it no more).

    Policy: ``check_url`` on the URL, then yt-dlp reads the page without downloading; the page URL,
    the final (post-redirect) media URLs and every format's URLs are checked again, unsafe formats are
    dropped, and playlists, live streams, media over ``limits.max_duration_s`` or ``limits.max_bytes``
    and non-HTTP protocols are refused before a byte of media is fetched. Beyond that, every connection
    yt-dlp opens in this call (redirects, manifests, segments included) is checked at connect time and
    made to the very address that was checked, which also defeats DNS rebinding. The download stops past
    ``max_bytes`` or ``timeout_s``; the result must be a readable audio or video file with one of the
    ``limits.MEDIA_EXTS`` extensions, within the limits.
    No config files, cookies, .netrc or cache are used. Everything goes to a private folder inside
    ``dest_dir``, removed on the way out, so a failure leaves nothing behind.

    Residual risks: with an HTTP(S) proxy set in the environment, the proxy (not this code) connects to
    the final host, so only the up-front URL checks apply; the connect-time guard relies on yt-dlp's
    urllib handler (``yt_dlp.networking._urllib``) and, should a yt-dlp release rename it, the up-front
    checks alone remain (a warning is logged); hosts in ``allow_hosts`` skip every address check.
    """
    check_url(url, allow_hosts)
    import yt_dlp
    from yt_dlp.utils import DownloadCancelled, DownloadError

    class _Abort(DownloadCancelled):  # type: ignore[misc]  # yt_dlp ships no types
        pass

    dest_dir = Path(dest_dir)
    dest_dir.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=".fetch-", dir=dest_dir))
    deadline = time.monotonic() + timeout_s
    log = _Log()
    refused: list[str] = []

    def progress(status: dict[str, Any]) -> None:
        if time.monotonic() > deadline:
            raise _Abort(f"took longer than {timeout_s:g} s")
        if int(status.get("downloaded_bytes") or 0) > limits.max_bytes:
            raise _Abort(f"file larger than {format_mb(limits.max_bytes)} MB")

    def match_filter(info: dict[str, Any], *, incomplete: bool = False) -> str | None:
        duration = info.get("duration")
        if duration is not None and duration > limits.max_duration_s:
            refused.append(f"longer than {limits.max_duration_s / 60:g} minutes")
            return refused[-1]
        return None

    opts = _ydl_options(work, limits, timeout_s, log, progress, match_filter)
    try:
        with _guarded(allow_hosts) as refusals, yt_dlp.YoutubeDL(opts) as ydl:
            try:
                _extract_and_download(ydl, url, limits, allow_hosts, deadline, timeout_s)
            except InputError:
                raise
            except _Abort as e:
                msg = str(e)
                raise InputError(msg if msg.startswith("file larger") else f"could not fetch: {msg}") from None
            except (DownloadError, DownloadCancelled) as e:
                if refusals:
                    raise InputError(refusals[-1]) from None
                raise InputError(f"could not fetch: {_one_line(e)}") from None
            except Exception as e:
                raise InputError(refusals[-1] if refusals else f"could not fetch: {_one_line(e)}") from None
        got = _downloaded_file(work, refused, log, limits)
        media = _checked_media(got, limits)
        return _move_into(dest_dir, got, media)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _ydl_options(
    work: Path,
    limits: MediaLimits,
    timeout_s: float,
    log: _Log,
    progress: Callable[[dict[str, Any]], None],
    match_filter: Callable[..., str | None],
) -> dict[str, Any]:
    """yt-dlp's options for one fetch into ``work``: no config, cookies or cache, the size and time limits."""
    return {
        "quiet": True,
        "no_warnings": True,
        "noprogress": True,
        "logger": log,
        "color": "never",
        "ignoreconfig": True,
        "cookiefile": None,
        "usenetrc": False,
        "cachedir": False,
        "noplaylist": True,
        "extract_flat": "in_playlist",
        "restrictfilenames": True,
        "windowsfilenames": True,
        "outtmpl": {"default": str(work / "%(id).60s.%(ext)s")},
        "paths": {"home": str(work), "temp": str(work)},
        "format": FORMAT,
        "merge_output_format": "mp4/mkv",
        "max_filesize": limits.max_bytes,
        "match_filter": match_filter,
        "progress_hooks": [progress],
        "socket_timeout": max(1.0, min(30.0, timeout_s)),
        "retries": 1,
        "fragment_retries": 1,
        "extractor_retries": 0,
        "hls_prefer_native": True,
        "ffmpeg_location": ffmpeg_exe(),
        "overwrites": True,
        "continuedl": False,
        "updatetime": False,
        "writethumbnail": False,
        "writesubtitles": False,
        "geo_bypass": False,
        "concurrent_fragment_downloads": 1,
        "compat_opts": {"prefer-legacy-http-handler"},
    }


def _extract_and_download(
    ydl: Any, url: str, limits: MediaLimits, allow_hosts: frozenset[str], deadline: float, timeout_s: float
) -> None:
    """Read the page without downloading, vet what it offers, then download it (before ``deadline``)."""
    info = ydl.extract_info(url, download=False)
    if not isinstance(info, dict):
        raise InputError("could not fetch: nothing found at this URL")
    _vet_info(info, limits, allow_hosts)
    if time.monotonic() > deadline:
        raise InputError(f"could not fetch: took longer than {timeout_s:g} s")
    ydl.process_ie_result(info, download=True)


def _downloaded_file(work: Path, refused: list[str], log: _Log, limits: MediaLimits) -> Path:
    """The media file the download left in ``work`` (InputError naming why there is none)."""
    files = _new_files(work)
    if not files:
        if refused:
            raise InputError(refused[-1])
        if any("max-filesize" in line for line in log.lines):
            raise InputError(f"file larger than {format_mb(limits.max_bytes)} MB")
        raise InputError("could not fetch: no media was downloaded")
    got = next((f for f in files if f.suffix.lower() in MEDIA_EXTS), files[0])
    try:
        check_extension(got)
    except InputError as e:
        raise InputError(f"could not fetch: {e}") from None
    return got


def _checked_media(got: Path, limits: MediaLimits) -> MediaFile:
    """The download opened and probed: a readable audio or video file within ``limits``."""
    try:
        media = open_media(got, limits.max_bytes)
    except InputError as e:
        raise InputError(f"could not fetch: the download is not a readable media file ({e})") from None
    info = media.info
    if not (info.has_audio or info.has_video):
        raise InputError("could not fetch: the download is not an audio or video file")
    check_duration(info.duration_s, limits)
    return media


def _move_into(dest_dir: Path, got: Path, media: MediaFile) -> MediaFile:
    """Move the download into ``dest_dir`` under a name not taken there; ``media`` at its new path."""
    final = dest_dir / got.name
    stem, n = got.stem, 1
    while final.exists():
        final = dest_dir / f"{stem}-{n}{got.suffix}"
        n += 1
    shutil.move(str(got), final)
    return replace(media, path=final)
