"""One interface over bird-recording datasets: a list of :class:`Recording` with true locations.

Every reader (plain CSV manifest, iNatSounds JSON, XCDC CSV, WABAD tables) returns a
:class:`RecordingDataset`; :func:`open_dataset` picks the reader from the file name or columns.

Conventions shared by all readers:

- coordinates are (lat, lon) in degrees, checked with :func:`geoforensics.geo.geodesy.as_latlon`;
- ``audio_path`` is absolute, resolved against the dataset root (None where only a URL is known);
  the reader never opens the audio, let alone its container tags;
- ``species`` holds scientific names, the focal (main) species first, without duplicates;
- a bad row (missing, NaN or out-of-range coordinate, unparseable date) raises
  :class:`~geoforensics.errors.InputError` naming the file and the row; an empty date is allowed.

Dates (:func:`parse_date`): ISO ``YYYY-MM-DD`` (a time part after it, as in ``2021-05-04 06:10:00+00:00``
or ``2021-05-04T06:10``, is ignored), ``YYYY/MM/DD``, ``YYYYMMDD``, and the partial forms used by
Xeno-canto: ``YYYY-MM`` and ``YYYY-MM-00`` give the first day of that month; ``YYYY``,
``YYYY-00`` and ``YYYY-00-00`` give None (a bare year says nothing about the season). For a
partial date the raw text is kept in ``extra["date_raw"]``. Empty text, ``?``, ``unknown``,
``nan``, ``none``, ``null`` and ``n/a`` give None.
"""

from __future__ import annotations

import csv
import datetime as dt
import importlib
import math
import os
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import overload

import numpy as np

from ..dates import _EMPTY_TOKENS, metadata_date
from ..errors import InputError
from ..registry import Registry
from ..tables import read_rows

AUDIO_EXTENSIONS = (".mp3", ".wav", ".flac", ".ogg")
TABLE_SUFFIXES = (".csv", ".tsv", ".txt")



@dataclass(frozen=True)
class Recording:
    """One recording with its true location, date and species labels."""

    id: str
    audio_path: Path | None
    lat: float
    lon: float
    date: dt.date | None
    species: tuple[str, ...]
    common_names: tuple[str, ...] = ()
    url: str | None = None
    duration_s: float | None = None
    extra: Mapping[str, str] = field(default_factory=dict, hash=False)

    @property
    def latlon(self) -> tuple[float, float]:
        """(lat, lon) in degrees."""
        return (self.lat, self.lon)

    @property
    def focal_species(self) -> str | None:
        """The main species (first of ``species``), or None when unlabelled."""
        return self.species[0] if self.species else None


class RecordingDataset(Sequence[Recording]):
    """An immutable, list-backed sequence of recordings from one source.

    ``root`` is the folder relative paths were resolved against, ``name`` a short label for
    reports, ``format`` the reader that produced it, ``source`` the file read and ``skipped``
    how many records the reader left out (e.g. iNatSounds audio without coordinates).
    """

    def __init__(
        self,
        recordings: Iterable[Recording],
        *,
        root: Path,
        name: str,
        format: str = "",
        source: Path | None = None,
        skipped: int = 0,
    ) -> None:
        self._items: list[Recording] = list(recordings)
        self.root = Path(root)
        self.name = name
        self.format = format
        self.source = source
        self.skipped = skipped
        self._index: dict[str, int] | None = None

    @overload
    def __getitem__(self, index: int) -> Recording: ...
    @overload
    def __getitem__(self, index: slice) -> RecordingDataset: ...
    def __getitem__(self, index: int | slice) -> Recording | RecordingDataset:
        if isinstance(index, slice):
            return self._derive(self._items[index])
        return self._items[index]

    def __len__(self) -> int:
        return len(self._items)

    def __iter__(self) -> Iterator[Recording]:
        return iter(self._items)

    def __repr__(self) -> str:
        skipped = f", skipped={self.skipped}" if self.skipped else ""
        return (
            f"RecordingDataset(name={self.name!r}, format={self.format!r}, n={len(self)}{skipped}, "
            f"root={str(self.root)!r})"
        )

    def _derive(self, items: Iterable[Recording], suffix: str = "") -> RecordingDataset:
        return RecordingDataset(
            items, root=self.root, name=self.name + suffix, format=self.format, source=self.source, skipped=0
        )

    @property
    def ids(self) -> list[str]:
        """Recording ids in order."""
        return [r.id for r in self._items]

    def by_id(self, recording_id: str) -> Recording:
        """The recording with this id (KeyError if absent)."""
        if self._index is None:
            self._index = {r.id: i for i, r in enumerate(self._items)}
        return self._items[self._index[str(recording_id)]]

    def locations(self) -> np.ndarray:
        """(N, 2) float64 array of true (lat, lon) in degrees."""
        if not self._items:
            return np.zeros((0, 2), dtype=np.float64)
        return np.array([(r.lat, r.lon) for r in self._items], dtype=np.float64)

    def species_counts(self, *, focal_only: bool = False) -> Counter[str]:
        """How many recordings each species is labelled in (only the focal one with ``focal_only``)."""
        counts: Counter[str] = Counter()
        for r in self._items:
            counts.update(r.species[:1] if focal_only else r.species)
        return counts

    def filter(self, predicate: Callable[[Recording], bool]) -> RecordingDataset:
        """The recordings for which ``predicate`` is true, in order."""
        return self._derive(r for r in self._items if predicate(r))

    def missing_audio(self) -> list[Recording]:
        """Recordings whose audio file is unknown or not on disk."""
        return [r for r in self._items if r.audio_path is None or not r.audio_path.is_file()]

    def split(
        self,
        fractions: Sequence[float] = (0.8, 0.2),
        *,
        seed: int = 0,
        group: Callable[[Recording], object] | None = None,
    ) -> tuple[RecordingDataset, ...]:
        """Random disjoint parts with sizes in proportion to ``fractions`` (normalised to sum 1).

        Groups (single recordings, or with ``group`` e.g. ``lambda r: r.latlon`` or a site id, all
        recordings sharing a key, so near-duplicate locations cannot leak between train and test) are
        visited in random order and each goes to the part furthest below its target size.
        Deterministic for a given ``seed``.
        """
        fr = np.asarray(fractions, dtype=np.float64)
        if fr.ndim != 1 or len(fr) == 0 or (fr < 0).any() or fr.sum() <= 0:
            raise ValueError(f"fractions must be non-negative with a positive sum, got {list(fractions)}")
        fr = fr / fr.sum()
        keys = [group(r) if group else i for i, r in enumerate(self._items)]
        unique: dict[object, list[int]] = {}
        for i, k in enumerate(keys):
            unique.setdefault(k, []).append(i)
        groups = list(unique.values())
        order = np.random.default_rng(seed).permutation(len(groups))
        deficit = fr * len(self._items)
        parts: list[list[int]] = [[] for _ in fr]
        for g in order:
            part = int(np.argmax(deficit))
            parts[part].extend(groups[g])
            deficit[part] -= len(groups[g])
        return tuple(self._derive((self._items[i] for i in sorted(p)), f"[{k}]") for k, p in enumerate(parts))


# --- helpers shared by the readers -------------------------------------------------------------


def where(path: Path | str, row: int | None = None, line: int | None = None) -> str:
    """'file' or 'file, row N (line L)' for error messages; ``row`` counts data rows from 1."""
    text = str(path)
    if row is not None:
        text += f", row {row}"
        if line is not None:
            text += f" (line {line})"
    return text


def parse_date(text: object, *, context: str = "date") -> dt.date | None:
    """A dataset's recording date (:func:`geoforensics.dates.metadata_date`, see the module docstring)."""
    return metadata_date(text, context)[0]


def parse_float(text: object, *, context: str, what: str) -> float:
    """A finite float from ``text``; InputError naming ``context`` and ``what`` otherwise."""
    if text is None or (isinstance(text, str) and text.strip() == ""):
        raise InputError(f"{context}: {what} is missing")
    try:
        value = float(text)  # type: ignore[arg-type]  # any object: float() raises TypeError, caught below
    except (TypeError, ValueError):
        raise InputError(f"{context}: {what} {text!r} is not a number") from None
    if not math.isfinite(value):
        raise InputError(f"{context}: {what} is {text!r}, not a finite number")
    return value


def parse_duration(text: object, *, context: str) -> float | None:
    """Seconds from ``'21.5'``, ``'3:05'`` or ``'1:02:03'``; None when empty."""
    if text is None:
        return None
    s = str(text).strip()
    if s.lower() in _EMPTY_TOKENS:
        return None
    try:
        if ":" in s:
            total = 0.0
            for part in s.split(":"):
                total = total * 60 + float(part)
            value = total
        else:
            value = float(s)
    except ValueError:
        raise InputError(f"{context}: cannot read duration {s!r}") from None
    if not math.isfinite(value) or value < 0:
        raise InputError(f"{context}: invalid duration {s!r}")
    return value


def unique(names: Iterable[str]) -> tuple[str, ...]:
    """Stripped, non-empty names in first-seen order without duplicates."""
    seen: dict[str, None] = {}
    for n in names:
        n = n.strip()
        if n and n not in seen:
            seen[n] = None
    return tuple(seen)


def read_table(path: Path) -> tuple[list[str], list[tuple[int, dict[str, str]]]]:
    """Header and ``(line, row)`` pairs of a CSV or tab-separated file (delimiter sniffed; read through
    :func:`geoforensics.tables.read_rows`). ``line`` is the physical line where the row starts (header = line 1)."""
    header, cells = read_rows(path, "table", delimiter=None, allow_empty=True)
    rows: list[tuple[int, dict[str, str]]] = []
    for line, row in cells:
        if len(row) > len(header):
            raise InputError(f"{where(path, len(rows) + 1, line)}: {len(row)} cells but {len(header)} columns")
        rows.append((line, {h: (row[i] if i < len(row) else "") for i, h in enumerate(header)}))
    return header, rows


def read_header(path: Path) -> list[str]:
    """Column names of a ``.csv``/``.tsv``/``.txt`` table (empty list for other or unreadable files)."""
    if not path.is_file() or path.suffix.lower() not in TABLE_SUFFIXES:
        return []
    try:
        with path.open(encoding="utf-8-sig", newline="") as f:
            first = f.readline(1 << 16)
    except (OSError, UnicodeDecodeError):
        return []
    delimiter = "\t" if first.count("\t") > first.count(",") else ","
    return [h.strip() for h in next(csv.reader([first], delimiter=delimiter), [])]


def resolve_audio(root: Path, relpath: str) -> Path:
    """``relpath`` made absolute against ``root`` and normalised (``..`` folded, no file-system access)."""
    p = os.path.expanduser(relpath.strip())
    return Path(os.path.normpath(p if os.path.isabs(p) else os.path.join(os.path.abspath(root), p)))


def check_unique_ids(recordings: Sequence[Recording], contexts: Sequence[str]) -> None:
    """InputError naming both places when two recordings share an id."""
    seen: dict[str, int] = {}
    for i, r in enumerate(recordings):
        j = seen.setdefault(r.id, i)
        if j != i:
            raise InputError(f"{contexts[i]}: duplicate recording id {r.id!r} (first at {contexts[j]})")


# --- format registry ---------------------------------------------------------------------------

FORMATS: Registry[str] = Registry("dataset format")
"""Format name -> the module defining ``sniff(path) -> bool`` and ``read(path) -> RecordingDataset``; detection
tries them in this order."""
FORMATS.register("xcdc", "geoforensics.data.xcdc", description="XCDC, Xeno-canto Dawn Chorus (xcdc_recordings.csv)")
FORMATS.register("inatsounds", "geoforensics.data.inatsounds", description="iNatSounds JSON annotations (COCO-like)")
FORMATS.register("wabad", "geoforensics.data.wabad", description="WABAD, World Annotated Bird Acoustic Dataset")
FORMATS.register("manifest", "geoforensics.data.manifest", description="CSV/TSV manifest: a path and lat/lon per row")


def list_formats() -> list[str]:
    """Names accepted by :func:`open_dataset`'s ``format`` argument (besides ``"auto"``)."""
    return FORMATS.names()


def detect_format(path: str | Path) -> str:
    """The format of ``path`` (file or dataset folder), tried in the order of :func:`list_formats`."""
    p = Path(path).expanduser()
    if not p.exists():
        raise InputError(f"{p}: no such file or folder")
    for name, module in FORMATS.items():
        if importlib.import_module(module).sniff(p):
            return name
    what = f"columns {read_header(p)}" if p.is_file() else "contents"
    raise InputError(
        f"{p}: not a recognised dataset ({what}); expected one of {list_formats()} "
        "(a CSV needs a file/path column and lat/lon columns)"
    )


def open_dataset(path: str | Path, format: str = "auto") -> RecordingDataset:
    """Read a dataset file or folder with the reader for ``format`` (detected when ``"auto"``)."""
    p = Path(path).expanduser()
    fmt = detect_format(p) if format == "auto" else format
    module = FORMATS[fmt]
    if not p.exists():
        raise InputError(f"{p}: no such file or folder")
    dataset: RecordingDataset = importlib.import_module(module).read(p)
    return dataset
