"""Score prediction files as the official benchmark does (cvl-umass/nat-sound2loc-benchmark, ``evaluate_geo.py``).

That evaluator reads ``audio_id,latitude,longitude`` files, requires the prediction and gold id sets
to be equal, and takes Haversine distances on a sphere of R = 6371 km. It reports ``mean_error`` and
``median_error`` in km and, as fractions, ``street``, ``city``, ``region``, ``country`` and
``continent``: the share of distances ``<=`` 1, 25, 200, 750 and 2500 km. ``evaluate_files``
returns exactly those keys, in that order.

``PointsWriter`` and ``write_points_csv`` write that format (``%.6f`` degrees), for every prediction
file the package and the benchmarks produce. A text cell that a spreadsheet would run as a formula
(it starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return: a file named
``=HYPERLINK(...).mp3``) is written with a leading apostrophe, as is one that starts with an
apostrophe (:func:`csv_cell`); :func:`csv_text` undoes it, and every reader of these files here
(``read_points_csv``, the batch sinks) gives back the original text. Numbers are never prefixed.

Where the official script asserts or silently keeps the last of repeated ids, this module raises an
``InputError`` naming the file and rows: missing file or columns, empty file, repeated ids,
non-numeric, non-finite or out-of-range coordinates, and differing id sets. Ids are compared as
text with surrounding whitespace removed.
"""

from __future__ import annotations

import csv
import io
import os
from array import array
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, NamedTuple, TextIO

import numpy as np

from ..atomic import atomic_open
from ..errors import InputError
from ..geo.geodesy import CoordinateError, as_latlon
from ..geo.metrics import metrics_from_points
from ..tables import open_table, parse_latlon

ID_COLUMN = "audio_id"
LAT_COLUMN = "latitude"
LON_COLUMN = "longitude"
OFFICIAL_KEYS = ("mean_error", "median_error", "street", "city", "region", "country", "continent")

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
"""First characters that make a spreadsheet read a cell as a formula (OWASP's CSV-injection list)."""


def csv_cell(text: str) -> str:
    """``text`` as a CSV cell no spreadsheet runs: an apostrophe before a formula's first character (and
    before a leading apostrophe, so that :func:`csv_text` can tell the two apart)."""
    return "'" + text if text.startswith((*FORMULA_STARTS, "'")) else text


def csv_text(cell: str) -> str:
    """The text :func:`csv_cell` was given for ``cell``."""
    return cell[1:] if cell[:1] == "'" and cell[1:2] in (*FORMULA_STARTS, "'") else cell


class Points(NamedTuple):
    """Ids and their (N, 2) (lat, lon) degrees, in file order."""

    ids: list[str]
    latlon: np.ndarray


def _examples(items: list[str], n: int = 5) -> str:
    shown = ", ".join(items[:n])
    return shown + (f", ... ({len(items) - n} more)" if len(items) > n else "")


MAX_POINTS = 5_000_000
"""Most rows a prediction or truth file may hold: two such files take 1.5 GB to evaluate (100 times the paper's
test sets)."""


def read_points_csv(path: str | os.PathLike[str], role: str = "predictions") -> Points:
    """Read an ``audio_id,latitude,longitude`` file (extra columns ignored), checking every row as it is
    read (the file is streamed: only the ids and the coordinates are kept)."""
    where = f"{role} file {Path(path)}"
    ids: list[str] = []
    coords = array("d")
    with open_table(path, role=role, max_rows=MAX_POINTS) as (header, rows):
        missing = [c for c in (ID_COLUMN, LAT_COLUMN, LON_COLUMN) if c not in header]
        if missing:
            raise InputError(
                f"{where}: missing column(s) {', '.join(missing)} in its header row (line 1); "
                f"expected {ID_COLUMN},{LAT_COLUMN},{LON_COLUMN}"
            )
        i_id, i_lat, i_lon = header.index(ID_COLUMN), header.index(LAT_COLUMN), header.index(LON_COLUMN)
        need = max(i_id, i_lat, i_lon)
        for line, row in rows:
            if len(row) <= need:
                raise InputError(f"{where}: line {line} has {len(row)} fields, expected at least {need + 1}")
            audio_id = csv_text(row[i_id].strip())
            if not audio_id:
                raise InputError(f"{where}: line {line} has an empty {ID_COLUMN}")
            coords.extend(parse_latlon(row[i_lat], row[i_lon], f"{where}: line {line} ({ID_COLUMN} {audio_id})"))
            ids.append(audio_id)
    if not ids:
        raise InputError(f"{where}: no data rows after the header")
    latlon = np.frombuffer(coords, dtype=np.float64).reshape(-1, 2).copy()
    repeated = [i for i, c in Counter(ids).items() if c > 1]
    if repeated:
        raise InputError(f"{where}: {len(repeated)} {ID_COLUMN}(s) appear more than once: {_examples(repeated)}")
    return Points(ids, latlon)


class PointsWriter:
    """Writes ``audio_id,latitude,longitude`` rows (6 decimals) to an open text stream, header first.

    ``columns`` adds columns after those three (e.g. a batch's confidence and error): a number is
    written with ``decimals[column]`` decimals (as Python prints it without), text through
    :func:`csv_cell`, None as an empty cell. Without ``header`` the stream is continued (a resumed
    file). With ``flush`` each row reaches the file whole as it is written, so an interrupted run
    keeps its rows.
    """

    def __init__(
        self, stream: TextIO, *, flush: bool = True, columns: Sequence[str] = (), header: bool = True,
        decimals: Mapping[str, int] | None = None,
    ) -> None:
        self._stream = stream
        self._line = io.StringIO()
        # a "\r\n" terminator makes the writer quote a cell holding a carriage return (with "\n" alone it
        # would not, and readers would split the row there); each line then ends in "\n" as the format wants
        self._csv = csv.writer(self._line, lineterminator="\r\n")
        self._flush = flush
        self.columns = (ID_COLUMN, LAT_COLUMN, LON_COLUMN, *columns)
        self._decimals = [(decimals or {}).get(c) for c in columns]
        self.rows = 0
        if header:
            self._writerow(self.columns)
            if flush:
                stream.flush()

    def write(self, audio_id: str, lat: float | None, lon: float | None, *values: Any) -> None:
        """One row; ``lat``/``lon`` None (a recording that could not be located) leave the cells empty,
        ``values`` fill the extra ``columns`` in order."""
        if len(values) != len(self.columns) - 3:
            raise ValueError(f"{len(values)} values for the {len(self.columns) - 3} extra columns")
        coords = ["" if v is None else f"{float(v):.6f}" for v in (lat, lon)]
        self._writerow([csv_cell(str(audio_id)), *coords, *map(self._cell, values, self._decimals)])
        self.rows += 1
        if self._flush:
            self._stream.flush()

    def _writerow(self, cells: Sequence[str]) -> None:
        self._line.seek(0)
        self._line.truncate()
        self._csv.writerow(cells)
        self._stream.write(self._line.getvalue()[:-2] + "\n")

    @staticmethod
    def _cell(value: Any, decimals: int | None) -> str:
        if value is None:
            return ""
        if isinstance(value, (int, float, np.number)) and not isinstance(value, bool):
            return str(value) if decimals is None else f"{float(value):.{decimals}f}"
        return csv_cell(str(value))

    def write_all(self, ids: Iterable[str], latlon: Any) -> None:
        """One row per id and its (lat, lon) in the (N, 2) ``latlon``."""
        ids = list(ids)
        points = np.asarray(latlon, dtype=np.float64).reshape(-1, 2)
        if len(ids) != len(points):
            raise ValueError(f"{len(ids)} ids for {len(points)} points")
        for audio_id, (lat, lon) in zip(ids, points):
            self.write(audio_id, lat, lon)


def write_points_csv(path: str | os.PathLike[str], ids: Iterable[str], latlon: Any) -> Path:
    """Write ``ids`` and their (N, 2) (lat, lon) degrees as an ``audio_id,latitude,longitude`` file."""
    out = Path(path)
    with atomic_open(out, "w", newline="") as f:
        PointsWriter(f, flush=False).write_all(ids, latlon)
    return out


def evaluate_arrays(pred_latlon: Any, gold_latlon: Any) -> dict[str, float]:
    """Official metrics for aligned (N, 2) predicted and true (lat, lon) arrays."""
    try:
        pred = as_latlon(pred_latlon, name="predictions").reshape(-1, 2)
        gold = as_latlon(gold_latlon, name="gold").reshape(-1, 2)
    except CoordinateError as e:
        raise InputError(str(e)) from None
    if pred.shape != gold.shape:
        raise InputError(f"{len(pred)} predictions for {len(gold)} gold locations")
    if len(gold) == 0:
        raise InputError("nothing to evaluate: no locations")
    m = metrics_from_points(pred, gold)
    return {k: m[k] for k in OFFICIAL_KEYS}


def align(pred: Points, gold: Points) -> np.ndarray:
    """The predicted (lat, lon) of each gold id, in gold order; ``InputError`` if the id sets differ."""
    index = {audio_id: i for i, audio_id in enumerate(pred.ids)}
    gold_set = set(gold.ids)
    missing = [i for i in gold.ids if i not in index]
    extra = [i for i in pred.ids if i not in gold_set]
    if missing or extra:
        parts = []
        if missing:
            parts.append(f"{len(missing)} gold id(s) have no prediction (e.g. {_examples(missing)})")
        if extra:
            parts.append(f"{len(extra)} predicted id(s) are not in the gold file (e.g. {_examples(extra)})")
        raise InputError(f"prediction and gold {ID_COLUMN} sets differ: " + "; ".join(parts))
    return pred.latlon[[index[i] for i in gold.ids]]


def evaluate_points(pred: Points, gold: Points) -> dict[str, float]:
    """Official metrics for predictions and gold matched by id."""
    return evaluate_arrays(align(pred, gold), gold.latlon)


def evaluate_files(pred_path: str | os.PathLike[str], gold_path: str | os.PathLike[str]) -> dict[str, float]:
    """Official metrics for a prediction file against a gold file (both ``audio_id,latitude,longitude``)."""
    return evaluate_points(read_points_csv(pred_path, "predictions"), read_points_csv(gold_path, "gold"))
