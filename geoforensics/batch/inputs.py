"""What a batch reads: files, folders and datasets -> one :class:`BatchInput` per recording.

* a media file (``media.limits.MEDIA_EXTS``): its id is the file's stem, as in ``locate --csv``;
* a folder that a dataset reader recognises (a ``labels.csv`` manifest, WABAD, ...): that dataset;
* any other folder: the media files inside it (recursively, as ``locate``), each with the path
  relative to the folder, without its suffix, as id (the stem for files at its top);
* any other file (a manifest CSV, an iNatSounds JSON, XCDC's table): the dataset
  :func:`geoforensics.data.open_dataset` reads from it, with its ids and recording dates.

Dates, first found first: the claims CSV's date for the file, the dataset's own, the command's ``--date``,
then (unless turned off) the one a recorder wrote into the file name (AudioMoth ``YYYYMMDD_HHMMSS``, Song
Meter ``PREFIX_YYYYMMDD_HHMMSS``, ...: :func:`geoforensics.dates.date_from_filename`); each row says which
(``date_source``). Container tags are never read.

With a claims CSV (``file,latitude,longitude[,date]``: a deployment's place for each file, read by
:func:`geoforensics.forensics.claims.read_claims_csv`), its files join the inputs and each gets its claimed
place, which the batch checks (verdict, mismatch score and range flags: species unlikely there and then).

Paths are made absolute but not resolved (two symlinks are two recordings); on a cluster they must name the
same file on every node. Ids must be unique: they are what a resumed batch skips.
"""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass, replace
from pathlib import Path

from ..data import detect_format, open_dataset
from ..dates import date_from_filename
from ..errors import InputError
from ..forensics.claims import ClaimRow, read_claims_csv
from ..media.limits import MEDIA_EXTS, expand_inputs

DATE_SOURCES = ("claims CSV", "dataset", "--date", "file name")
"""Where a row's date comes from, in the order they are taken."""


@dataclass(frozen=True)
class BatchInput:
    """One recording to locate: its id, absolute path and date (ISO text or None) with where the date comes
    from (:data:`DATE_SOURCES`), and the place claimed for it (a claims CSV's row), if any."""

    audio_id: str
    path: str
    date: str | None = None
    date_source: str | None = None
    claim_latitude: float | None = None
    claim_longitude: float | None = None


def _given(date: str | None) -> tuple[str | None, str | None]:
    return date, ("--date" if date else None)


def _files_in(folder: Path, date: str | None) -> list[BatchInput]:
    return [
        BatchInput(f.relative_to(folder).with_suffix("").as_posix(), os.path.abspath(f), *_given(date))
        for f in expand_inputs([str(folder)])
    ]


def _dataset(path: Path, date: str | None) -> tuple[list[BatchInput], int]:
    ds = open_dataset(path)
    rows = [
        BatchInput(r.id, os.path.abspath(r.audio_path), *((r.date.isoformat(), "dataset") if r.date else _given(date)))
        for r in ds
        if r.audio_path is not None
    ]
    return rows, len(ds) - len(rows)


def _claimed(item: BatchInput, row: ClaimRow) -> BatchInput:
    date, source = (str(row.date), "claims CSV") if row.date is not None else (item.date, item.date_source)
    return replace(item, date=date, date_source=source, claim_latitude=row.lat, claim_longitude=row.lon)


def _file_name_date(item: BatchInput) -> BatchInput:
    if item.date:
        return item
    found = date_from_filename(item.path)
    return item if found is None else replace(item, date=str(found), date_source="file name")


def _with_claims(items: list[BatchInput], claims_csv: str) -> list[BatchInput]:
    """``items`` with the claims CSV's places and dates, plus the CSV's files not among them (their id: the
    path beside the CSV without suffix, else the stem). InputError for a file given two places, or missing."""
    rows = read_claims_csv(claims_csv)
    where = f"claims CSV {Path(claims_csv).name}"
    by_file: dict[str, ClaimRow] = {}
    for row in rows:
        key = os.path.realpath(row.file)
        first = by_file.setdefault(key, row)
        if (first.lat, first.lon, first.date) != (row.lat, row.lon, row.date):
            raise InputError(f"{where}: line {row.line} gives {row.file.name} another place or date than line "
                             f"{first.line}; a batch checks one deployment per file")
    out = []
    for item in items:
        key = os.path.realpath(item.path)
        out.append(_claimed(item, by_file.pop(key)) if key in by_file else item)
    base = Path(claims_csv).resolve().parent
    for row in by_file.values():
        if not row.file.is_file():
            raise InputError(f"{where}: line {row.line}: no such file: {row.file}")
        path = Path(os.path.abspath(row.file))
        inside = path.resolve().is_relative_to(base)
        audio_id = path.resolve().relative_to(base).with_suffix("").as_posix() if inside else path.stem
        out.append(_claimed(BatchInput(audio_id, str(path)), row))
    return out


def _is_dataset_folder(folder: Path) -> bool:
    try:
        detect_format(folder)
    except InputError:
        return False
    return True


def collect_inputs(
    items: list[str], date: str | None = None, *, claims: str | None = None, filename_dates: bool = True
) -> tuple[list[BatchInput], int]:
    """The recordings named by ``items`` and the ``claims`` CSV (see the module docstring), and how many
    dataset rows were left out for having no audio file. InputError for a missing path, an empty folder,
    an unreadable dataset or claims CSV, or repeated ids."""
    out: list[BatchInput] = []
    no_audio = 0
    for item in items:
        p = Path(item).expanduser()
        if p.is_dir():
            if _is_dataset_folder(p):
                rows, skipped = _dataset(p, date)
                out += rows
                no_audio += skipped
            else:
                out += _files_in(p, date)
        elif p.is_file():
            if p.suffix.lower() in MEDIA_EXTS:
                out.append(BatchInput(p.stem, os.path.abspath(p), *_given(date)))
            else:
                rows, skipped = _dataset(p, date)
                out += rows
                no_audio += skipped
        else:
            raise InputError(f"no such file or folder: {p}")
    if claims is not None:
        out = _with_claims(out, claims)
    if filename_dates:
        out = [_file_name_date(i) for i in out]
    repeated = [i for i, n in Counter(r.audio_id for r in out).items() if n > 1]
    if repeated:
        shown = ", ".join(repeated[:5]) + (f", ... ({len(repeated) - 5} more)" if len(repeated) > 5 else "")
        raise InputError(
            f"{len(repeated)} recording id(s) appear more than once among the inputs: {shown}; ids name the rows "
            "of OUT, so give each file once (or pass their folder: files in subfolders get distinct ids)"
        )
    return out, no_audio
