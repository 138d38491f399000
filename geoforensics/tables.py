"""Tables users give us (CSV or tab-separated: galleries, claims, predictions, dataset manifests): the
column names we recognise, one reader, and the checks of their cells.

The reader streams the file (never read whole), refuses what is not a regular file (a FIFO never hangs
it), files over :data:`MAX_TABLE_BYTES`, non-UTF-8 bytes, NUL bytes and fields over
:data:`MAX_FIELD_CHARS`, each with one line naming the file and the line, never quoting its content.
"""

from __future__ import annotations

import csv
import math
import os
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from .errors import InputError

LAT_COLUMNS = ("lat", "latitude")
LON_COLUMNS = ("lon", "lng", "long", "longitude")
FILE_COLUMNS = ("file", "path", "audio_path", "audio", "filename", "file_name")
ID_COLUMNS = ("xc_id", "id", "audio_id", "recording_id")
DATE_COLUMNS = ("date", "recording_date", "recorded")
SPECIES_COLUMNS = ("species", "scientific_name", "scientific")

MAX_TABLE_BYTES = 512_000_000
"""Largest table read (a million rows of a batch manifest take about 100 MB)."""
MAX_FIELD_CHARS = csv.field_size_limit()
"""Longest cell read: the csv module's limit, 131,072 characters (a path or a species list is far shorter)."""


def _norm(name: str) -> str:
    return re.sub(r"[\s_\-()]+", "", name.strip().lower())


def pick_column(columns: Iterable[str], candidates: Sequence[str]) -> str | None:
    """The first of ``candidates`` present in ``columns`` (case-, space-, dash- and underscore-insensitive)."""
    by_norm = {_norm(c): c for c in columns}
    for cand in candidates:
        hit = by_norm.get(_norm(cand))
        if hit is not None:
            return hit
    return None


def find_column(header: list[str], wanted: str | None, candidates: Sequence[str], what: str, where: str) -> int:
    """Index of column ``wanted`` (exact), or else of the first header matching ``candidates`` (:func:`pick_column`);
    :class:`InputError` naming ``where`` when there is none."""
    if wanted is not None:
        if wanted in header:
            return header.index(wanted)
        raise InputError(f"{where}: no {what} column {wanted!r} in its header row (line 1, {len(header)} columns)")
    hit = pick_column(header, candidates)
    if hit is None:
        raise InputError(
            f"{where}: no {what} column (looked for {', '.join(candidates)}) in its header row "
            f"(line 1, {len(header)} columns)"
        )
    return header.index(hit)


@contextmanager
def open_table(
    path: str | os.PathLike[str],
    role: str = "CSV file",
    *,
    max_rows: int | None = None,
    max_bytes: int = MAX_TABLE_BYTES,
    delimiter: str | None = ",",
) -> Iterator[tuple[list[str], Iterator[tuple[int, list[str]]]]]:
    """A table's stripped header and an iterator of ``(line number, cells)`` per non-blank data row (the line
    where the row starts; the header is line 1), read as it is iterated. ``delimiter`` None: tab when the header
    has more tabs than commas. :class:`InputError` for a missing, non-regular, too large, unreadable, non-UTF-8
    or empty file, NUL bytes, a field over :data:`MAX_FIELD_CHARS`, or more than ``max_rows`` data rows."""
    p = Path(path)
    where = f"{role} {p}"
    try:
        if not p.exists():
            raise InputError(f"{where}: no such file")
        if not p.is_file():
            raise InputError(f"{where}: not a regular file")
        size = p.stat().st_size
        f = open(p, newline="", encoding="utf-8-sig")
    except OSError as e:
        raise InputError(f"{where}: cannot read it ({e.strerror or type(e).__name__})") from None
    if size > max_bytes:
        f.close()
        raise InputError(f"{where}: larger than {max_bytes / 1e6:,.0f} MB ({size / 1e6:,.0f} MB)")
    line = 1

    def guarded(step: Callable[[], Any]) -> Any:
        try:
            return step()
        except UnicodeDecodeError as e:
            raise InputError(f"{where}: not UTF-8 text ({e.reason} at byte {e.start})") from None
        except csv.Error as e:
            why = f"a field is longer than {MAX_FIELD_CHARS:,} characters" if "field larger" in str(e) else str(e)
            raise InputError(f"{where}: cannot read it as a table at line {line}: {why}") from None
        except OSError as e:
            raise InputError(f"{where}: cannot read it ({e.strerror or type(e).__name__})") from None

    with f:
        first = guarded(lambda: f.readline(MAX_FIELD_CHARS))
        sep = delimiter or ("\t" if first.count("\t") > first.count(",") else ",")
        f.seek(0)
        reader = csv.reader(f, delimiter=sep)
        header = guarded(lambda: next(reader, None))
        if header is None or not any(h.strip() for h in header):
            raise InputError(f"{where}: the file is empty (no header row)")

        def rows() -> Iterator[tuple[int, list[str]]]:
            nonlocal line
            line, n = reader.line_num + 1, 0
            while (row := guarded(lambda: next(reader, None))) is not None:
                if any(field.strip() for field in row):
                    n += 1
                    if max_rows is not None and n > max_rows:
                        raise InputError(f"{where}: more than {max_rows:,} data rows")
                    yield line, row
                line = reader.line_num + 1

        yield [h.strip() for h in header], rows()


def read_rows(
    path: str | os.PathLike[str],
    role: str = "CSV file",
    *,
    max_rows: int | None = None,
    max_bytes: int = MAX_TABLE_BYTES,
    delimiter: str | None = ",",
    allow_empty: bool = False,
) -> tuple[list[str], list[tuple[int, list[str]]]]:
    """:func:`open_table` read whole: the header and every row; :class:`InputError` also for no data rows
    (unless ``allow_empty``)."""
    with open_table(path, role, max_rows=max_rows, max_bytes=max_bytes, delimiter=delimiter) as (header, rows):
        cells = list(rows)
    if not cells and not allow_empty:
        raise InputError(f"{role} {Path(path)}: no data rows after the header")
    return header, cells


def parse_latlon(lat: object, lon: object, where: str) -> tuple[float, float]:
    """One (lat, lon) pair of table cells, checked: :class:`InputError` naming ``where`` unless both are finite
    degrees within range (the message never quotes a cell that is not a number)."""
    out = []
    for raw, what, limit in ((lat, "latitude", 90.0), (lon, "longitude", 180.0)):
        text = "" if raw is None else str(raw).strip()
        if not text:
            raise InputError(f"{where}: {what} is missing")
        try:
            value = float(text)
        except ValueError:
            raise InputError(f"{where}: {what} is not a number") from None
        if not math.isfinite(value):
            raise InputError(f"{where}: {what} {text!r} is not a finite number")
        if abs(value) > limit:
            raise InputError(f"{where}: {what} {value:g} is outside [-{limit:g}, {limit:g}]")
        out.append(value)
    return out[0], out[1]


__all__ = [
    "DATE_COLUMNS", "FILE_COLUMNS", "ID_COLUMNS", "LAT_COLUMNS", "LON_COLUMNS", "MAX_FIELD_CHARS", "MAX_TABLE_BYTES",
    "SPECIES_COLUMNS", "find_column", "open_table", "parse_latlon", "pick_column", "read_rows",
]
