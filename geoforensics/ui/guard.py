"""What the app refuses before Gradio sees it: calls by name of the endpoints meant for the page alone, and
uploads past a client's share or the app's space.

:class:`AppGuard` is an ASGI middleware (installed by ``launch_options``):

* ``POST /gradio_api/call/NAME`` (and ``/call/v2/NAME``) runs a named endpoint; Gradio resolves any name, so
  the events the page uses privately (a claim re-check, the evidence video, the downloads) could be called
  by name. Only endpoints whose ``api_visibility`` is "public" are let through; others get 404.
* ``POST /gradio_api/upload``: each client (by address) may upload at most :data:`UPLOAD_FILES_PER_MINUTE`
  files a minute and :data:`UPLOAD_BYTES_PER_HOUR` bytes an hour, and nobody may upload while the app's
  upload folder holds :data:`UPLOAD_SPACE_BYTES` (Gradio's clean-up empties it as files age). Past that:
  429 or 507 with a one-line reason.
"""

from __future__ import annotations

import re
import threading
import time
from collections import defaultdict, deque
from collections.abc import Awaitable, Callable, MutableMapping
from pathlib import Path
from typing import Any

from .exports import tree_bytes

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

UPLOAD_FILES_PER_MINUTE = 60
"""Files one client may upload in a minute."""
UPLOAD_BYTES_PER_HOUR = 2_000_000_000
"""Bytes one client may upload in an hour (four files at the 500 MB limit)."""
UPLOAD_SPACE_BYTES = 8_000_000_000
"""Bytes the upload folder may hold before new uploads wait for the clean-up."""
SPACE_CHECK_S = 5.0
"""How long a measure of the upload folder is reused."""

_CALL = re.compile(r"^(?:.*)/gradio_api/call/(?:v2/)?([^/]+)/?$")
_UPLOAD = re.compile(r"^(?:.*)/gradio_api/upload/?$")


_LOCK = threading.Lock()
_FILES: dict[str, deque[float]] = defaultdict(deque)
_BYTES: dict[str, deque[tuple[float, int]]] = defaultdict(deque)


def forget_uploads() -> None:
    """Forget every client's recent uploads (their shares start again)."""
    with _LOCK:
        _FILES.clear()
        _BYTES.clear()


class AppGuard:
    """ASGI middleware: see the module docstring."""

    def __init__(self, app: ASGIApp, upload_dir: Callable[[], str] | None = None) -> None:
        self.app = app
        self.upload_dir = upload_dir
        self._space: tuple[float, int] = (0.0, 0)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope.get("type") == "http" and scope.get("method") == "POST":
            path = str(scope.get("path", ""))
            call = _CALL.match(path)
            if call and not self._public(scope, call.group(1)):
                await _refuse(send, 404, f"no public endpoint named {call.group(1)!r}")
                return
            if _UPLOAD.match(path):
                problem = self._upload_problem(scope)
                if problem is not None:
                    await _refuse(send, *problem)
                    return
        await self.app(scope, receive, send)

    @staticmethod
    def _public(scope: Scope, name: str) -> bool:
        app = scope.get("app")
        blocks = app.get_blocks() if app is not None and hasattr(app, "get_blocks") else None
        if blocks is None:
            return True
        return any(fn.api_name == name and fn.api_visibility == "public" for fn in blocks.fns.values())

    def _upload_problem(self, scope: Scope) -> tuple[int, str] | None:
        client = (scope.get("client") or ("unknown", 0))[0]
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        size = int(headers["content-length"]) if headers.get("content-length", "").isdigit() else 0
        now = time.monotonic()
        with _LOCK:
            files, sent = _FILES[client], _BYTES[client]
            while files and now - files[0] > 60:
                files.popleft()
            while sent and now - sent[0][0] > 3600:
                sent.popleft()
            if len(files) >= UPLOAD_FILES_PER_MINUTE:
                return 429, f"too many uploads: at most {UPLOAD_FILES_PER_MINUTE} a minute; wait a minute and try again"
            if sum(n for _, n in sent) + size > UPLOAD_BYTES_PER_HOUR:
                return 429, f"upload quota reached: at most {UPLOAD_BYTES_PER_HOUR / 1e9:g} GB an hour per client"
            if self._used(now) + size > UPLOAD_SPACE_BYTES:
                return 507, "the app's upload space is full; try again in a few minutes"
            files.append(now)
            sent.append((now, size))
        return None

    def _used(self, now: float) -> int:
        at, used = self._space
        if now - at > SPACE_CHECK_S and self.upload_dir is not None:
            folder = Path(self.upload_dir())
            used = tree_bytes(folder) if folder.is_dir() else 0
            self._space = (now, used)
        return used


async def _refuse(send: Send, status: int, message: str) -> None:
    body = ('{"error": "' + message.replace("\\", "\\\\").replace('"', '\\"') + '"}').encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


__all__ = ["UPLOAD_BYTES_PER_HOUR", "UPLOAD_FILES_PER_MINUTE", "UPLOAD_SPACE_BYTES", "AppGuard", "forget_uploads"]
