"""Plain CSV (or tab-separated) manifest: one row per recording with a path and its coordinates.

The layout of ``xc-dev/labels.csv``::

    file,xc_id,lat,lon,date,species,common_name,country,continent,duration_s,also,recordist,license,xc_url

Column names are matched case-insensitively, and these variants are accepted:

- audio path (required): ``file``, ``path``, ``audio_path``, ``filename``, ``file_name``;
  relative paths are resolved against the manifest's folder;
- latitude / longitude (required): ``lat``/``latitude`` and ``lon``/``lng``/``long``/``longitude``;
- id: ``xc_id``, ``id``, ``audio_id``, ``recording_id``, else the audio file's stem;
- focal species: ``species``, ``scientific_name``, ``scientific``; common name: ``common_name``, ``common``;
- other species: ``also`` (entries separated by ``,`` or ``;``). In xc-dev these are *common*
  names ("Eurasian Wren, Great Tit"), so only entries that look like scientific binomials
  ("Troglodytes troglodytes") are appended to ``species``; the raw text always stays in
  ``extra["also"]``;
- date (``date``, ``recording_date``), duration in seconds or ``m:ss`` (``duration_s``,
  ``duration``, ``length``), URL (``xc_url``, ``url``).

Every other non-empty column (country, recordist, license, ...) is kept as text in ``extra``.
"""

from __future__ import annotations

import re
from pathlib import Path

from ..dates import metadata_date
from ..errors import InputError
from ..tables import (
    DATE_COLUMNS,
    FILE_COLUMNS,
    ID_COLUMNS,
    LAT_COLUMNS,
    LON_COLUMNS,
    SPECIES_COLUMNS,
    parse_latlon,
    pick_column,
)
from .base import (
    TABLE_SUFFIXES,
    Recording,
    RecordingDataset,
    check_unique_ids,
    parse_duration,
    read_header,
    read_table,
    resolve_audio,
    unique,
    where,
)

FORMAT = "manifest"
PATH_COLUMNS = FILE_COLUMNS
COMMON_COLUMNS = ("common_name", "common")
ALSO_COLUMNS = ("also",)
DURATION_COLUMNS = ("duration_s", "duration", "length")
URL_COLUMNS = ("xc_url", "url")
MANIFEST_NAMES = ("labels.csv", "manifest.csv", "metadata.csv", "labels.tsv", "manifest.tsv")
_BINOMIAL = re.compile(r"^[A-Z][a-z]+(?: [a-z][a-z\-]+){1,2}$")


def _is_manifest_file(path: Path) -> bool:
    if not path.is_file() or path.suffix.lower() not in TABLE_SUFFIXES:
        return False
    header = read_header(path)
    return all(pick_column(header, c) for c in (PATH_COLUMNS, LAT_COLUMNS, LON_COLUMNS))


def _find_in_folder(folder: Path) -> Path | None:
    for name in MANIFEST_NAMES:
        if _is_manifest_file(folder / name):
            return folder / name
    return None


def sniff(path: Path) -> bool:
    """True for a CSV/TSV with path and lat/lon columns, or a folder holding ``labels.csv`` or ``manifest.csv``."""
    return _find_in_folder(path) is not None if path.is_dir() else _is_manifest_file(path)


def split_names(text: str) -> list[str]:
    """Entries of a ``,``- or ``;``-separated list."""
    sep = ";" if ";" in text else ","
    return [t.strip() for t in text.split(sep) if t.strip()]


def _cell(row: dict[str, str], column: str | None) -> str:
    return row[column].strip() if column else ""


def read(path: str | Path, *, root: str | Path | None = None, name: str | None = None) -> RecordingDataset:
    """Read a manifest file (or a folder holding ``labels.csv``/``manifest.csv``).

    ``root`` (default: the manifest's folder) is what relative audio paths are resolved against;
    ``name`` defaults to the file stem, or the folder name for a generic ``labels``/``manifest`` file.
    """
    path = Path(path).expanduser().resolve()
    if path.is_dir():
        found = _find_in_folder(path)
        if found is None:
            raise InputError(f"{path}: no manifest ({', '.join(MANIFEST_NAMES)}) with path and lat/lon columns")
        path = found
    header, rows = read_table(path)
    cols = {
        "path": pick_column(header, PATH_COLUMNS),
        "lat": pick_column(header, LAT_COLUMNS),
        "lon": pick_column(header, LON_COLUMNS),
    }
    missing = [k for k, v in cols.items() if v is None]
    if missing:
        raise InputError(
            f"{path}: manifest needs {' and '.join(missing)} columns "
            f"(path: {'/'.join(PATH_COLUMNS)}; lat: {'/'.join(LAT_COLUMNS)}; lon: {'/'.join(LON_COLUMNS)}); "
            f"found {header}"
        )
    required = {k: v for k, v in cols.items() if v is not None}  # all three (checked above)
    optional = {
        "id": pick_column(header, ID_COLUMNS),
        "species": pick_column(header, SPECIES_COLUMNS),
        "common": pick_column(header, COMMON_COLUMNS),
        "also": pick_column(header, ALSO_COLUMNS),
        "date": pick_column(header, DATE_COLUMNS),
        "duration": pick_column(header, DURATION_COLUMNS),
        "url": pick_column(header, URL_COLUMNS),
    }
    used = {c for c in (*cols.values(), *optional.values()) if c and c != optional["also"]}
    base = Path(root).expanduser().resolve() if root is not None else path.parent
    recordings: list[Recording] = []
    contexts: list[str] = []
    for n, (line, row) in enumerate(rows, start=1):
        ctx = where(path, n, line)
        rel = row[required["path"]].strip()
        if not rel:
            raise InputError(f"{ctx}: the audio path ({required['path']}) is empty")
        lat, lon = parse_latlon(row[required["lat"]], row[required["lon"]], ctx)
        audio = resolve_audio(base, rel)
        date, partial = metadata_date(_cell(row, optional["date"]), ctx)
        species = [_cell(row, optional["species"])]
        also = _cell(row, optional["also"])
        species += [s for s in split_names(also) if _BINOMIAL.match(s)]
        extra = {k: v.strip() for k, v in row.items() if k not in used and v.strip()}
        if partial:
            extra["date_raw"] = _cell(row, optional["date"])
        common = _cell(row, optional["common"])
        recordings.append(
            Recording(
                id=_cell(row, optional["id"]) or audio.stem,
                audio_path=audio,
                lat=lat,
                lon=lon,
                date=date,
                species=unique(species),
                common_names=(common,) if common else (),
                url=_cell(row, optional["url"]) or None,
                duration_s=parse_duration(_cell(row, optional["duration"]), context=ctx),
                extra=extra,
            )
        )
        contexts.append(ctx)
    check_unique_ids(recordings, contexts)
    if name is None:
        generic = path.name.lower() in MANIFEST_NAMES
        name = path.parent.name if generic else path.stem
    return RecordingDataset(recordings, root=base, name=name, format=FORMAT, source=path)
