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
"""

from __future__ import annotations

import csv
import io
import math
import os
import time
from pathlib import Path
from typing import Any

from ..atomic import atomic_path
from ..errors import InputError
from ..evaluation.evaluate import ID_COLUMN, LAT_COLUMN, LON_COLUMN, PointsWriter

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
)
"""Columns after ``audio_id,latitude,longitude``: the confidence (1 - entropy ratio), the radii of
the 50 % and 90 % regions, the species that counts most with its score, the place name of the best
candidate, the date used, seconds spent on the recording, the error of a failed one, its path."""

COLUMNS = (ID_COLUMN, LAT_COLUMN, LON_COLUMN, *RESULT_COLUMNS)
FLOAT_COLUMNS = (LAT_COLUMN, LON_COLUMN, "confidence", "radius50_km", "radius90_km", "top_species_score", "elapsed_s")
_DECIMALS = {"confidence": 4, "radius50_km": 1, "radius90_km": 1, "top_species_score": 4, "elapsed_s": 3}
SUFFIXES = (".csv", ".parquet")
PART_ROWS = 256
PART_SECONDS = 30.0


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


class Sink:
    """Base of the result files: ``done()`` ids already written, ``write(row)``, ``close()``."""

    path: Path

    def done(self) -> dict[str, bool]:
        """Ids in OUT, each with True when it is a failed row."""
        raise NotImplementedError

    def write(self, row: dict[str, Any]) -> None:
        raise NotImplementedError

    def close(self, failed: bool = False) -> None:
        """Finish OUT; after a ``failed`` run, a file this sink created and wrote nothing to is removed."""
        raise NotImplementedError

    def __enter__(self) -> Sink:
        return self

    def __exit__(self, kind: Any, *exc: Any) -> None:
        self.close(failed=kind is not None)


class CsvSink(Sink):
    """Result rows appended to a CSV file (see the module docstring)."""

    def __init__(self, path: str | os.PathLike, *, retry_failed: bool = False) -> None:
        self.path = Path(path)
        self._done: dict[str, bool] = {}
        self._written = 0
        header = True
        self._created = not (self.path.exists() and self.path.stat().st_size > 0)
        if not self._created:
            rows = self._read_existing()
            if retry_failed and any(r["error"] for r in rows):
                rows = [r for r in rows if not r["error"]]
                with atomic_path(self.path) as tmp:
                    self._rewrite(tmp, rows)
            self._done = {r[ID_COLUMN]: bool(r["error"]) for r in rows}
            header = False
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._stream = open(self.path, "a", newline="", encoding="utf-8")
        except OSError as e:
            raise InputError(f"cannot write {self.path}: {e.strerror or e}") from None
        self._writer = PointsWriter(self._stream, columns=RESULT_COLUMNS, header=header)

    def _read_existing(self) -> list[dict[str, str]]:
        data = self.path.read_bytes()
        header = next(csv.reader(io.StringIO(data.split(b"\n", 1)[0].decode("utf-8", "replace"))), [])
        if tuple(h.strip() for h in header) != COLUMNS:
            raise InputError(
                f"{self.path} exists but is not a batch result file (columns {','.join(header[:4])}...); "
                "name another --out, or delete it"
            )
        if not data.endswith(b"\n"):
            cut = data.rfind(b"\n") + 1
            with open(self.path, "r+b") as f:
                f.truncate(cut)
            data = data[:cut]
        reader = csv.reader(io.StringIO(data.decode("utf-8"), newline=""))
        next(reader)
        return [dict(zip(COLUMNS, cells)) for cells in reader if cells]

    def _rewrite(self, tmp: Path, rows: list[dict[str, str]]) -> None:
        with open(tmp, "w", newline="", encoding="utf-8") as f:
            w = csv.writer(f, lineterminator="\n")
            w.writerow(COLUMNS)
            w.writerows([r[c] for c in COLUMNS] for r in rows)

    def done(self) -> dict[str, bool]:
        return dict(self._done)

    def write(self, row: dict[str, Any]) -> None:
        r = normalise(row)
        values = [r[c] if c not in _DECIMALS or r[c] is None else f"{r[c]:.{_DECIMALS[c]}f}" for c in RESULT_COLUMNS]
        self._writer.write(r[ID_COLUMN], r[LAT_COLUMN], r[LON_COLUMN], *values)
        self._done[r[ID_COLUMN]] = r["error"] is not None
        self._written += 1

    def close(self, failed: bool = False) -> None:
        if not self._stream.closed:
            self._stream.close()
        if failed and self._created and not self._written:
            self.path.unlink(missing_ok=True)


def _schema():
    import pyarrow as pa

    return pa.schema([(c, pa.float64() if c in FLOAT_COLUMNS else pa.string()) for c in COLUMNS])


def parts_dir(path: Path) -> Path:
    """The folder of a Parquet OUT's part files (``OUT.parts``)."""
    return path.with_name(path.name + ".parts")


def _part_files(path: Path) -> list[Path]:
    return sorted(parts_dir(path).glob("part-*.parquet"))


def _parquet_table(path: Path):
    """OUT and its part files as one table of :data:`COLUMNS`."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    tables = []
    for f in ([path] if path.exists() else []) + _part_files(path):
        try:
            tables.append(pq.read_table(f).select(list(COLUMNS)).cast(_schema()))
        except (OSError, KeyError, ValueError, pa.ArrowException) as e:
            raise InputError(f"{f} is not a readable batch result file ({e}); name another --out, or delete it") from None
    return pa.concat_tables(tables) if tables else _schema().empty_table()


class ParquetSink(Sink):
    """Result rows written as Parquet parts and merged into one file (see the module docstring)."""

    def __init__(self, path: str | os.PathLike, *, retry_failed: bool = False) -> None:
        self.path = Path(path)
        self.parts = parts_dir(self.path)
        self._buffer: list[dict[str, Any]] = []
        self._last = time.monotonic()
        try:
            self.parts.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise InputError(f"cannot write {self.path}: {e.strerror or e}") from None
        table = self._existing()
        if retry_failed and table.num_rows:
            import pyarrow.compute as pc

            failed = pc.fill_null(pc.is_valid(table["error"]), False)
            if pc.any(failed).as_py():
                self._merge(table.filter(pc.invert(failed)))
                table = self._existing()
        self._done = dict(zip(table[ID_COLUMN].to_pylist(), (e is not None for e in table["error"].to_pylist())))

    def _part_files(self) -> list[Path]:
        return _part_files(self.path)

    def _existing(self):
        return _parquet_table(self.path)

    def done(self) -> dict[str, bool]:
        return dict(self._done)

    def write(self, row: dict[str, Any]) -> None:
        r = normalise(row)
        self._buffer.append(r)
        self._done[r[ID_COLUMN]] = r["error"] is not None
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

        parts = self._part_files()
        with atomic_path(self.path) as tmp:
            pq.write_table(table, tmp)
        for f in parts:
            f.unlink(missing_ok=True)

    def close(self, failed: bool = False) -> None:
        """Write what is buffered, merge OUT and the parts into OUT, remove the parts folder."""
        self.flush()
        table = self._existing()
        if table.num_rows or not failed:
            self._merge(table)
        for f in self.parts.glob(".*.tmp"):
            f.unlink(missing_ok=True)
        try:
            self.parts.rmdir()
        except OSError:
            pass


def open_sink(path: str | os.PathLike, *, retry_failed: bool = False) -> Sink:
    """The sink for OUT by its suffix (``.csv`` or ``.parquet``)."""
    suffix = Path(path).suffix.lower()
    if suffix == ".csv":
        return CsvSink(path, retry_failed=retry_failed)
    if suffix == ".parquet":
        return ParquetSink(path, retry_failed=retry_failed)
    raise InputError(f"--out {path}: name a .csv or .parquet file")


def read_results(path: str | os.PathLike) -> list[dict[str, Any]]:
    """The rows of a batch result file (CSV, or Parquet with the parts an interrupted run left), normalised."""
    p = Path(path)
    if p.suffix.lower() == ".parquet":
        return [normalise(r) for r in _parquet_table(p).to_pylist()]
    if not p.exists():
        return []
    with open(p, newline="", encoding="utf-8") as f:
        return [normalise(r) for r in csv.DictReader(f)]
