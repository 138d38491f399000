"""Where a batch's result rows go: a CSV or a Parquet file that grows as recordings finish.

Both keep what is already there: :meth:`Sink.done` gives the ids in OUT (a resumed run skips them),
and a crash loses at most the rows not yet written.

* CSV (:class:`CsvSink`): the benchmark's ``audio_id,latitude,longitude`` first, then
  :data:`RESULT_COLUMNS`; one whole row is written and flushed at a time, so an interrupted run
  leaves complete rows (a partial last line, from a machine that lost power mid-write, is cut
  off on resume). The file reads with :func:`geoforensics.evaluation.evaluate.read_points_csv`
  once every row has a location.
* Parquet (:class:`ParquetSink`): rows are written as part files in ``OUT.parts/`` (each written
  to a temporary name, then renamed) every :data:`PART_ROWS` rows or :data:`PART_SECONDS` seconds, and
  merged into OUT at the end; a resumed run reads OUT and the parts an interrupted run left.

A failed recording is a row with empty coordinates and its ``error``; ``retry_failed`` drops such
rows from OUT first, so they are tried again.

One batch at a time: :func:`open_sink` locks OUT (``flock`` on a hidden ``.OUT.lock`` beside it,
removed at the end) before reading it, and a second batch on the same OUT is refused with the
first one's process id. Every id is in OUT once: a row for an id already there (a task Ray ran
twice) is dropped, and an OUT that holds an id more than once (written by two runs of a version
without the lock) is rewritten with one row per id, the located one where there is one. An OUT
that is not a regular file (a FIFO, a device), is not valid UTF-8, has a row of the wrong length,
a field over 128 KiB or a value that is not a number where one belongs is refused, untouched.
CSV cells are written and read through :func:`geoforensics.evaluation.evaluate.csv_cell` and
``csv_text``: a formula-like file name is stored with a leading apostrophe and read back as it was.
"""

from __future__ import annotations

import csv
import fcntl
import io
import logging
import math
import os
import socket
import stat
import time
from pathlib import Path
from typing import Any

from ..atomic import atomic_path
from ..errors import InputError
from ..evaluation.evaluate import ID_COLUMN, LAT_COLUMN, LON_COLUMN, PointsWriter, csv_text

RESULT_COLUMNS = (
    "confidence",
    "radius50_km",
    "radius90_km",
    "top_species",
    "top_species_common",
    "top_species_score",
    "place",
    "date",
    "elapsed_s",
    "error",
    "path",
    "date_source",
    "claim_latitude",
    "claim_longitude",
    "verdict",
    "mismatch_score",
    "range_flags",
)
"""Columns after ``audio_id,latitude,longitude``: the confidence (1 - entropy ratio), the radii of
the 50 % and 90 % regions, the species that counts most with its score, the place name of the best
candidate, the date used, seconds spent on the recording, the error of a failed one, its path; where
the date comes from (``claims CSV``, ``dataset``, ``--date``, ``file name``); and for a recording with a
claimed place (a claims CSV row): that place, the claim check's verdict and mismatch score, and its range
flags, each species heard that is unlikely there and then ("Aquila adalberti (score 0.99, occurrence 0.00, nearest
1,806 km)", ``; ``-separated)."""

COLUMNS = (ID_COLUMN, LAT_COLUMN, LON_COLUMN, *RESULT_COLUMNS)
COLUMNS_V1 = COLUMNS[: COLUMNS.index("path") + 1]
"""The columns of OUT files written before dates' sources and claims were recorded: read, then rewritten
with :data:`COLUMNS` (the new cells empty)."""
FLOAT_COLUMNS = (LAT_COLUMN, LON_COLUMN, "confidence", "radius50_km", "radius90_km", "top_species_score", "elapsed_s",
                 "claim_latitude", "claim_longitude", "mismatch_score")
_DECIMALS = {"confidence": 4, "radius50_km": 1, "radius90_km": 1, "top_species_score": 4, "elapsed_s": 3,
             "mismatch_score": 4}
SUFFIXES = (".csv", ".parquet")
PART_ROWS = 256
PART_SECONDS = 30.0


log = logging.getLogger(__name__)


def _number(value: Any) -> float | None:
    if value is None or value == "":
        return None
    x = float(value)
    return None if math.isnan(x) else x


def normalise(row: dict[str, Any]) -> dict[str, Any]:
    """A result row with every column: numbers as float or None, text as str or None."""
    out: dict[str, Any] = {}
    for c in COLUMNS:
        v = row.get(c)
        if c in FLOAT_COLUMNS:
            out[c] = _number(v)
        else:
            out[c] = None if v is None or v == "" else str(v)
    return out


def unique_rows(rows: list[dict[str, Any]], retry_failed: bool = False) -> list[dict[str, Any]]:
    """One row per id, in first-seen order: the first located row of an id, else its first row;
    with ``retry_failed``, ids without a located row are left out."""
    best: dict[Any, dict[str, Any]] = {}
    for r in rows:
        kept = best.get(r[ID_COLUMN])
        if kept is None or (kept["error"] and not r["error"]):
            best[r[ID_COLUMN]] = r
    return [r for r in best.values() if not (retry_failed and r["error"])]


class OutLock:
    """An exclusive lock on OUT for one batch: ``flock`` on the hidden file ``.OUT.lock`` beside it,
    which holds ``pid@host`` of the holder and is removed on :meth:`release`. A lock file that a killed
    batch left is taken over (the kernel dropped its lock). InputError when another batch holds it."""

    def __init__(self, path: Path) -> None:
        self.path = path.with_name(f".{path.name}.lock")
        self._fd: int | None = None
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            while self._fd is None:
                fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    holder = os.read(fd, 200).decode("utf-8", "replace").strip()
                    os.close(fd)
                    raise InputError(
                        f"{path} is being written by another batch ({'process ' + holder if holder else 'starting'}); "
                        "wait for it to finish, or name another --out"
                    ) from None
                try:
                    same = os.stat(self.path).st_ino == os.fstat(fd).st_ino
                except FileNotFoundError:
                    same = False
                if not same:  # its holder removed it as we locked it: lock the file now at that path
                    os.close(fd)
                    continue
                os.ftruncate(fd, 0)
                os.write(fd, f"{os.getpid()}@{socket.gethostname()}\n".encode())
                self._fd = fd
        except OSError as e:
            raise InputError(f"cannot write {path}: {e.strerror or e}") from None

    def release(self) -> None:
        """Remove the lock file, then unlock it (in that order, so that no one locks a removed file)."""
        if self._fd is None:
            return
        try:
            self.path.unlink(missing_ok=True)
        finally:
            os.close(self._fd)
            self._fd = None


class Sink:
    """Base of the result files: ``done()`` ids already written, ``write(row)``, ``close()``. The
    constructor reads OUT (with one row per id) into ``_done``; ``lock`` is released by ``close``."""

    path: Path
    lock: OutLock | None = None
    _done: dict[str, bool]

    def done(self) -> dict[str, bool]:
        """Ids in OUT, each with True when it is a failed row."""
        return dict(self._done)

    def write(self, row: dict[str, Any]) -> bool:
        """Add ``row`` to OUT, unless its id is there already (then False: a task Ray ran twice)."""
        r = normalise(row)
        if r[ID_COLUMN] in self._done:
            return False
        self._write(r)
        self._done[r[ID_COLUMN]] = r["error"] is not None
        return True

    def _write(self, row: dict[str, Any]) -> None:
        raise NotImplementedError

    def _finish(self, failed: bool) -> None:
        raise NotImplementedError

    def close(self, failed: bool = False) -> None:
        """Finish OUT and release the lock; after a ``failed`` run, a file this sink created and wrote
        nothing to is removed."""
        try:
            self._finish(failed)
        finally:
            if self.lock is not None:
                self.lock.release()

    def __enter__(self) -> Sink:
        return self

    def __exit__(self, kind: Any, *exc: Any) -> None:
        self.close(failed=kind is not None)


def _deduplicated(path: Path, rows: list[dict[str, Any]], retry_failed: bool) -> list[dict[str, Any]] | None:
    """The rows OUT should hold instead of ``rows`` (see :func:`unique_rows`), or None when they are fine."""
    kept = unique_rows(rows, retry_failed)
    repeated = len(rows) - len({r[ID_COLUMN] for r in rows})
    if repeated:
        log.warning("%s held %d repeated row(s) of the same recordings (two runs at once, before OUT was locked); "
                    "kept one row per recording", path, repeated)
    return kept if len(kept) != len(rows) else None


def read_csv_results(path: Path) -> tuple[list[dict[str, Any]], int]:
    """The normalised rows of a CSV result file (also one with the older :data:`COLUMNS_V1`), and the length
    in bytes of its complete lines (a partial last line, from a crash mid-write, is left out). InputError,
    naming the line, for anything that is not a batch result file: other columns, not UTF-8, a row of the
    wrong length, a field too large to read, a missing id or a bad number."""
    rows, end, _ = _read_csv(path)
    return rows, end


def _read_csv(path: Path) -> tuple[list[dict[str, Any]], int, bool]:
    """:func:`read_csv_results`, and whether the file has the older columns."""
    data = path.read_bytes()
    header = next(csv.reader(io.StringIO(data.split(b"\n", 1)[0].decode("utf-8", "replace"))), [])
    refuse = f"name another --out, or move {path.name} away"
    columns = tuple(h.strip() for h in header)
    if columns not in (COLUMNS, COLUMNS_V1):
        raise InputError(
            f"{path} exists but is not a batch result file (columns {','.join(header[:4])[:200]}...); {refuse}"
        )
    end = len(data) if data.endswith(b"\n") else data.rfind(b"\n") + 1
    try:
        text = data[:end].decode("utf-8")
    except UnicodeDecodeError as e:
        line = data[: e.start].count(b"\n") + 1
        raise InputError(f"{path}: line {line} is not UTF-8 text, so it is not a batch result file; {refuse}") from None
    reader = csv.reader(io.StringIO(text, newline=""))
    rows = []
    try:
        next(reader)
        for cells in reader:
            if not cells:
                continue
            if len(cells) != len(columns):
                raise InputError(
                    f"{path}: line {reader.line_num} has {len(cells)} fields, a batch result row has {len(columns)}; "
                    f"{refuse}"
                )
            r = dict(zip(columns, map(csv_text, cells)))
            try:
                rows.append(normalise(r))
            except ValueError:
                raise InputError(f"{path}: line {reader.line_num} has a value that is not a number; {refuse}") from None
            if rows[-1][ID_COLUMN] is None:
                raise InputError(f"{path}: line {reader.line_num} has no {ID_COLUMN}; {refuse}")
    except csv.Error as e:
        raise InputError(f"{path}: line {reader.line_num} cannot be read as CSV ({e}); {refuse}") from None
    return rows, end, columns != COLUMNS


class CsvSink(Sink):
    """Result rows appended to a CSV file (see the module docstring)."""

    def __init__(
        self, path: str | os.PathLike[str], *, retry_failed: bool = False, lock: OutLock | None = None
    ) -> None:
        self.path = Path(path)
        self.lock = lock
        self._written = 0
        self._created = not (self.path.exists() and self.path.stat().st_size > 0)
        rows: list[dict[str, Any]] = []
        if not self._created:
            rows, end, older = _read_csv(self.path)
            kept = _deduplicated(self.path, rows, retry_failed)
            if kept is not None or older:
                rows = kept if kept is not None else rows
                with atomic_path(self.path) as tmp, open(tmp, "w", newline="", encoding="utf-8") as f:
                    writer = self._writer_on(f, header=True)
                    for r in rows:
                        self._write_row(writer, r)
            elif end < self.path.stat().st_size:
                os.truncate(self.path, end)
        self._done = {r[ID_COLUMN]: r["error"] is not None for r in rows}
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._stream = open(self.path, "a", newline="", encoding="utf-8")
        except OSError as e:
            raise InputError(f"cannot write {self.path}: {e.strerror or e}") from None
        self._writer = self._writer_on(self._stream, header=self._created)

    @staticmethod
    def _writer_on(stream: Any, header: bool) -> PointsWriter:
        return PointsWriter(stream, columns=RESULT_COLUMNS, header=header, decimals=_DECIMALS)

    @staticmethod
    def _write_row(writer: PointsWriter, r: dict[str, Any]) -> None:
        writer.write(r[ID_COLUMN], r[LAT_COLUMN], r[LON_COLUMN], *(r[c] for c in RESULT_COLUMNS))

    def _write(self, row: dict[str, Any]) -> None:
        self._write_row(self._writer, row)
        self._written += 1

    def _finish(self, failed: bool) -> None:
        if not self._stream.closed:
            self._stream.close()
        if failed and self._created and not self._written:
            self.path.unlink(missing_ok=True)


def _schema() -> Any:
    import pyarrow as pa

    return pa.schema([(c, pa.float64() if c in FLOAT_COLUMNS else pa.string()) for c in COLUMNS])


def parts_dir(path: Path) -> Path:
    """The folder of a Parquet OUT's part files (``OUT.parts``)."""
    return path.with_name(path.name + ".parts")


def _part_files(path: Path) -> list[Path]:
    return sorted(parts_dir(path).glob("part-*.parquet"))


def _parquet_table(path: Path) -> Any:
    """OUT and its part files as one table of :data:`COLUMNS`."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    tables = []
    for f in ([path] if path.exists() else []) + _part_files(path):
        try:
            table = pq.read_table(f)
            for c in COLUMNS[len(COLUMNS_V1):]:
                if c not in table.column_names and all(v in table.column_names for v in COLUMNS_V1):
                    table = table.append_column(c, pa.nulls(table.num_rows))
            tables.append(table.select(list(COLUMNS)).cast(_schema()))
        except (OSError, KeyError, ValueError, pa.ArrowException) as e:
            raise InputError(
                f"{f} is not a readable batch result file ({e}); name another --out, or delete it"
            ) from None
    return pa.concat_tables(tables) if tables else _schema().empty_table()


class ParquetSink(Sink):
    """Result rows written as Parquet parts and merged into one file (see the module docstring)."""

    def __init__(
        self, path: str | os.PathLike[str], *, retry_failed: bool = False, lock: OutLock | None = None
    ) -> None:
        self.path = Path(path)
        self.lock = lock
        self.parts = parts_dir(self.path)
        self._buffer: list[dict[str, Any]] = []
        self._last = time.monotonic()
        rows = [normalise(r) for r in _parquet_table(self.path).to_pylist()]
        kept = _deduplicated(self.path, rows, retry_failed)
        if kept is not None:
            import pyarrow as pa

            rows = kept
            self._merge(pa.Table.from_pylist(rows, schema=_schema()))
        self._done = {r[ID_COLUMN]: r["error"] is not None for r in rows}

    def _write(self, row: dict[str, Any]) -> None:
        self._buffer.append(row)
        if len(self._buffer) >= PART_ROWS or time.monotonic() - self._last >= PART_SECONDS:
            self.flush()

    def flush(self) -> None:
        """Write the buffered rows as one more part file."""
        import pyarrow as pa
        import pyarrow.parquet as pq

        self._last = time.monotonic()
        if not self._buffer:
            return
        table = pa.Table.from_pylist(self._buffer, schema=_schema())
        name = f"part-{time.time_ns():020d}-{os.getpid()}.parquet"
        with atomic_path(self.parts / name) as tmp:
            pq.write_table(table, tmp)
        self._buffer = []

    def _merge(self, table: Any) -> None:
        import pyarrow.parquet as pq

        parts = _part_files(self.path)
        with atomic_path(self.path) as tmp:
            pq.write_table(table, tmp)
        for f in parts:
            f.unlink(missing_ok=True)

    def _finish(self, failed: bool) -> None:
        """Write what is buffered, merge OUT and the parts into OUT, remove the parts folder."""
        self.flush()
        table = _parquet_table(self.path)
        if table.num_rows or not failed:
            self._merge(table)
        if self.parts.is_dir():
            for f in self.parts.glob(".*"):  # temporary files of part writes cut short
                f.unlink(missing_ok=True)
            try:
                self.parts.rmdir()
            except OSError:
                pass


def check_out(path: Path) -> None:
    """InputError for an OUT that exists but is not a regular file (a FIFO would block the run for
    ever, a device or folder is no result file), or a Parquet OUT whose parts folder is not a folder."""
    for p, kind in ((path, "file"), *(((parts_dir(path), "folder"),) if path.suffix.lower() == ".parquet" else ())):
        try:
            mode = os.stat(p).st_mode
        except FileNotFoundError:
            continue
        except OSError as e:
            raise InputError(f"cannot use {p}: {e.strerror or e}") from None
        if not (stat.S_ISREG(mode) if kind == "file" else stat.S_ISDIR(mode)):
            raise InputError(f"cannot write {p}: it is not a regular {kind}")


def open_sink(path: str | os.PathLike[str], *, retry_failed: bool = False) -> Sink:
    """The sink for OUT by its suffix (``.csv`` or ``.parquet``), with OUT locked for this batch."""
    out = Path(path)
    kind = {".csv": CsvSink, ".parquet": ParquetSink}.get(out.suffix.lower())
    if kind is None:
        raise InputError(f"--out {path}: name a .csv or .parquet file")
    check_out(out)
    lock = OutLock(out)
    try:
        return kind(out, retry_failed=retry_failed, lock=lock)
    except BaseException:
        lock.release()
        raise


def read_results(path: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """The rows of a batch result file (CSV, or Parquet with the parts an interrupted run left), normalised."""
    p = Path(path)
    if p.suffix.lower() == ".parquet":
        return [normalise(r) for r in _parquet_table(p).to_pylist()]
    if not p.exists():
        return []
    return read_csv_results(p)[0]
