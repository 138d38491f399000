"""Untrusted text made safe to show: the one place every ``geoforensics`` command prints tags, file
names, URLs, place names, dataset ids and error messages through (:func:`safe`), and every picture we
draw (report page, evidence video) writes them through (:func:`drawable`).

A container tag, a file name or a CSV field may hold escape sequences (clear the screen, set the
window title, hide text), bidirectional overrides that reorder what is shown, or a newline that
forges a line of the report (a fake ``gps:``). :func:`safe` replaces every such character with a
visible escape (``\\x1b``, ``\\n``, ``\\u202e``), so a value always stays on its line and shows
what it holds. JSON output needs none of this (``json.dumps`` escapes control characters itself).
"""

from __future__ import annotations

import logging
import unicodedata

_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
_UNSAFE_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})


def _escape(ch: str) -> str:
    if ch in _NAMED:
        return _NAMED[ch]
    o = ord(ch)
    if 0xDC80 <= o <= 0xDCFF:  # an undecodable byte of a file name (surrogateescape)
        return f"\\x{o - 0xDC00:02x}"
    if o <= 0xFF:
        return f"\\x{o:02x}"
    return f"\\u{o:04x}" if o <= 0xFFFF else f"\\U{o:08x}"


def safe(text: object, *, multiline: bool = False) -> str:
    """``str(text)`` with control characters (C0, DEL, C1, so ANSI escape sequences are inert),
    format characters (bidi overrides and isolates, zero-width characters), line and paragraph
    separators and undecodable file-name bytes replaced by visible escapes. ``multiline`` keeps
    newlines and tabs (for a whole report; everything else is still escaped)."""
    s = str(text)
    if s.isprintable():
        return s
    keep = "\n\t" if multiline else ""
    return "".join(
        _escape(ch) if ch not in keep and unicodedata.category(ch) in _UNSAFE_CATEGORIES else ch for ch in s
    )


def drawable(text: object, limit: int = 200) -> str:
    """:func:`safe` text cut to ``limit`` characters, for matplotlib and PIL; draw it with
    ``parse_math=False`` so a ``$...$`` in a file name is not read as mathtext."""
    s = safe(text)
    return s if len(s) <= limit else s[: limit - 1] + "…"


class SafeFormatter(logging.Formatter):
    """A logging formatter that passes each message through :func:`safe` (log messages quote file names
    and ffmpeg's words); a traceback attached to a record keeps its lines."""

    def format(self, record: logging.LogRecord) -> str:
        clean = logging.makeLogRecord(record.__dict__)
        clean.msg, clean.args = safe(record.getMessage()), None
        return super().format(clean)
