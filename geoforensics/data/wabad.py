"""WABAD, the World Annotated Bird Acoustic Dataset (Pérez-Granados et al. 2025; Zenodo record 14191524).

Passive-acoustic-monitoring recordings from 72 sites in 29 locations, with every bird vocalization
annotated (species, start/end time, low/high frequency). One :class:`Recording` per audio file:
its site's coordinates, its species ordered by number of vocalizations (most first; ties by the
earliest onset), ``extra["site"]`` and ``extra["n_vocalizations"]``. :func:`read_vocalizations`
returns the individual annotations.

**Layout: partly assumed.** The exact release layout could not be confirmed from the dataset's
own documentation. What is confirmed (from a third-party reader of the Zenodo release) is the
annotation part: one folder per location, ``<LOC>/<LOC>/Recordings/*.wav`` beside
``<LOC>/<LOC>/Raven_Pro_annotations/*.txt``, where each ``.txt`` is a tab-separated Raven Pro
selection table (``Begin Time (s)``, ``End Time (s)``, ``Low Freq (Hz)``, ``High Freq (Hz)``,
``Species``) named after its recording (``X.txt`` or ``X.Table.1.selections.txt`` for ``X.wav``).
Where the site coordinates live is **assumed**: a sites table (CSV/TSV, in the dataset folder or
one level below, file name containing ``site``) with a site-id column (``site``, ``site_id``,
``recording_site``, ``site_code``, ``site_name``, ``location``, ``location_id``, ``code``) and
latitude/longitude columns (``lat``/``latitude``, ``lon``/``lng``/``longitude``); its other columns
(country, biome, ...) are copied to ``extra``. A recording is matched to the site whose id is the
longest prefix of its file name (followed by ``_``, ``-``, ``.``, a space or the end), else to the
nearest enclosing folder named like a site.

A flat layout is read too: one annotations table (CSV/TSV whose name contains ``annotation`` or
``selection``, or given directly) with a recording column (``file``, ``filename``, ``file_name``,
``recording``, ``audio_file``, ``begin_file``, ``path``), a species column (``species``,
``scientific_name``), start/end columns (``start``/``begin_time``/``begin_time_s``/``start_s``,
``end``/``end_time``/``end_time_s``/``end_s``), and either a site column or its own lat/lon columns.

Dates come from a ``date`` column when there is one, else from the recorder's time stamp in the file
name (``SITE_20210415_060000.wav``; :func:`geoforensics.dates.date_from_filename`), else None.
Species labels are stripped and underscores become spaces (``Turdus_merula`` -> ``Turdus merula``); no label is dropped.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

from ..dates import date_from_filename, metadata_date
from ..errors import InputError
from ..tables import LAT_COLUMNS, LON_COLUMNS, parse_latlon, pick_column
from .base import (
    AUDIO_EXTENSIONS,
    TABLE_SUFFIXES,
    Recording,
    RecordingDataset,
    check_unique_ids,
    parse_float,
    read_header,
    read_table,
    resolve_audio,
    where,
)

FORMAT = "wabad"
SITE_COLUMNS = ("site", "site_id", "recording_site", "site_code", "site_name", "location", "location_id", "code")
FILE_COLUMNS = ("file", "filename", "file_name", "recording", "audio_file", "begin_file", "begin_path", "path")
SPECIES_COLUMNS = ("species", "scientific_name")
START_COLUMNS = ("start", "begin_time", "begin_time_s", "start_s", "start_time")
END_COLUMNS = ("end", "end_time", "end_time_s", "end_s")
LOW_COLUMNS = ("low_freq_hz", "low_freq", "low_hz", "fmin")
HIGH_COLUMNS = ("high_freq_hz", "high_freq", "high_hz", "fmax")
DATE_COLUMNS = ("date", "recording_date")
_RAVEN_SUFFIX = re.compile(r"\.Table\.\d+\.selections$", re.IGNORECASE)


@dataclass(frozen=True)
class Vocalization:
    """One annotated vocalization in a recording."""

    recording_id: str
    species: str
    start_s: float
    end_s: float
    low_hz: float | None = None
    high_hz: float | None = None


@dataclass(frozen=True)
class _Site:
    id: str
    lat: float
    lon: float
    extra: dict[str, str]


def _is_sites_table(path: Path) -> bool:
    if not path.is_file() or path.suffix.lower() not in TABLE_SUFFIXES:
        return False
    header = read_header(path)
    return all(pick_column(header, c) for c in (SITE_COLUMNS, LAT_COLUMNS, LON_COLUMNS)) and not pick_column(
        header, SPECIES_COLUMNS
    )


def _is_annotation_table(path: Path) -> bool:
    if not path.is_file() or path.suffix.lower() not in TABLE_SUFFIXES:
        return False
    header = read_header(path)
    return all(pick_column(header, c) for c in (SPECIES_COLUMNS, START_COLUMNS, END_COLUMNS))


def _candidates(root: Path) -> Iterator[Path]:
    yield from sorted(p for p in root.iterdir() if p.is_file())
    for sub in sorted(p for p in root.iterdir() if p.is_dir()):
        yield from sorted(p for p in sub.iterdir() if p.is_file())


def _find_sites_table(root: Path) -> Path | None:
    for p in _candidates(root):
        if "site" in p.name.lower() and _is_sites_table(p):
            return p
    return None


def _is_annotation_name(path: Path) -> bool:
    name = path.name.lower()
    return "annotation" in name or "selection" in name


def _is_flat_annotation_table(path: Path) -> bool:
    return _is_annotation_table(path) and pick_column(read_header(path), FILE_COLUMNS) is not None


def _find_flat_annotations(root: Path) -> Path | None:
    for p in _candidates(root):
        if _is_annotation_name(p) and _is_flat_annotation_table(p):
            return p
    return None


def _raven_tables(root: Path) -> list[Path]:
    def wanted(p: Path) -> bool:
        folder = p.parent.relative_to(root).as_posix().lower()
        return ("annotation" in folder or p.name.lower().endswith(".selections.txt")) and _is_annotation_table(p)

    return sorted(p for p in root.rglob("*.txt") if wanted(p))


def _has_raven_folder(root: Path) -> bool:
    return any(p.is_dir() and "raven" in p.name.lower() for p in root.glob("*/*")) or any(
        p.is_dir() and "raven" in p.name.lower() for p in root.glob("*/*/*")
    )


def sniff(path: Path) -> bool:
    """True for a folder with a sites table and annotations (flat or Raven), or for a sites/annotations table."""
    if path.is_file():
        return _is_sites_table(path) or (_is_annotation_name(path) and _is_flat_annotation_table(path))
    if not path.is_dir():
        return False
    flat = _find_flat_annotations(path)
    if flat is not None and all(pick_column(read_header(flat), c) for c in (LAT_COLUMNS, LON_COLUMNS)):
        return True
    return _find_sites_table(path) is not None and (flat is not None or _has_raven_folder(path))


def _read_sites(path: Path) -> dict[str, _Site]:
    header, rows = read_table(path)
    sid, lat_c, lon_c = (pick_column(header, c) for c in (SITE_COLUMNS, LAT_COLUMNS, LON_COLUMNS))
    assert sid and lat_c and lon_c
    sites: dict[str, _Site] = {}
    for n, (line, row) in enumerate(rows, start=1):
        ctx = where(path, n, line)
        key = row[sid].strip()
        if not key:
            raise InputError(f"{ctx}: the site id ({sid}) is empty")
        if key in sites:
            raise InputError(f"{ctx}: duplicate site id {key!r}")
        lat, lon = parse_latlon(row[lat_c], row[lon_c], ctx)
        extra = {k: v.strip() for k, v in row.items() if k not in (sid, lat_c, lon_c) and v.strip()}
        sites[key] = _Site(key, lat, lon, extra)
    return sites


def _match_site(sites: dict[str, _Site], stem: str, folders: list[str]) -> _Site | None:
    best: _Site | None = None
    for key, site in sites.items():
        if stem.startswith(key) and (len(stem) == len(key) or stem[len(key)] in "_-. "):
            if best is None or len(key) > len(best.id):
                best = site
    if best is not None:
        return best
    for folder in folders:
        if folder in sites:
            return sites[folder]
    return None


def _species_label(text: str) -> str:
    return " ".join(text.replace("_", " ").split())


def _optional_float(row: dict[str, str], column: str | None, ctx: str, what: str) -> float | None:
    if column is None or not row[column].strip():
        return None
    return parse_float(row[column], context=ctx, what=what)


@dataclass
class _Pending:
    audio_path: Path | None
    site: _Site | None
    lat: float
    lon: float
    date: dt.date | None
    date_raw: str
    source: str
    vocalizations: list[Vocalization]


def _parse_events(
    path: Path, header: list[str], rows: list[tuple[int, dict[str, str]]]
) -> Iterator[tuple[str, dict[str, str], Vocalization]]:
    """(context, row, vocalization) for each annotation row; ``recording_id`` is filled in later."""
    sp_c, st_c, en_c = (pick_column(header, c) for c in (SPECIES_COLUMNS, START_COLUMNS, END_COLUMNS))
    lo_c, hi_c = pick_column(header, LOW_COLUMNS), pick_column(header, HIGH_COLUMNS)
    assert sp_c and st_c and en_c
    for n, (line, row) in enumerate(rows, start=1):
        ctx = where(path, n, line)
        species = _species_label(row[sp_c])
        if not species:
            raise InputError(f"{ctx}: the species ({sp_c}) is empty")
        start = parse_float(row[st_c], context=ctx, what="start time")
        end = parse_float(row[en_c], context=ctx, what="end time")
        if end < start:
            raise InputError(f"{ctx}: end time {end} is before start time {start}")
        low = _optional_float(row, lo_c, ctx, "low frequency")
        high = _optional_float(row, hi_c, ctx, "high frequency")
        yield ctx, row, Vocalization("", species, start, end, low, high)


def _flat_place(
    ctx: str, row: dict[str, str], sites: dict[str, _Site] | None, site_c: str | None, lat_c: str | None,
    lon_c: str | None,
) -> tuple[float, float, _Site | None]:
    """(lat, lon, site) of an annotation row: its own coordinates, else its site's."""
    if lat_c and lon_c and row[lat_c].strip():
        lat, lon = parse_latlon(row[lat_c], row[lon_c], ctx)
        site = sites.get(row[site_c].strip()) if (sites and site_c) else None
        return lat, lon, site
    if not site_c:
        raise InputError(f"{ctx}: no coordinates and no site column")
    site = (sites or {}).get(row[site_c].strip())
    if site is None:
        raise InputError(f"{ctx}: site {row[site_c].strip()!r} is not in the sites table")
    return site.lat, site.lon, site


def _flat_date(ctx: str, row: dict[str, str], date_c: str | None, rel: str) -> tuple[dt.date | None, str]:
    """(date, raw text of a partial date or "") of an annotation row: its date column, else the file name's stamp."""
    date_raw = row[date_c].strip() if date_c else ""
    if date_raw:
        date, partial = metadata_date(date_raw, ctx)
    else:
        named, partial = date_from_filename(Path(rel).name), False
        date = named.calendar_date if named is not None else None
    return date, date_raw if partial else ""


def _collect_flat(root: Path, sites: dict[str, _Site] | None, flat: Path) -> dict[str, _Pending]:
    """The recordings of a flat layout: one annotations table."""
    pending: dict[str, _Pending] = {}
    header, rows = read_table(flat)
    file_c = pick_column(header, FILE_COLUMNS)
    site_c = pick_column(header, SITE_COLUMNS)
    lat_c, lon_c = pick_column(header, LAT_COLUMNS), pick_column(header, LON_COLUMNS)
    date_c = pick_column(header, DATE_COLUMNS)
    if file_c is None:
        raise InputError(f"{flat}: annotations need a recording column ({'/'.join(FILE_COLUMNS)}); found {header}")
    if not (lat_c and lon_c) and not (site_c and sites is not None):
        raise InputError(f"{flat}: annotations need lat/lon columns, or a site column and a sites table in {root}")
    index = _audio_index(root)
    for ctx, row, voc in _parse_events(flat, header, rows):
        rel = row[file_c].strip()
        if not rel:
            raise InputError(f"{ctx}: the recording ({file_c}) is empty")
        key = Path(rel).with_suffix("").as_posix() if Path(rel).suffix.lower() in AUDIO_EXTENSIONS else rel
        lat, lon, site = _flat_place(ctx, row, sites, site_c, lat_c, lon_c)
        date, date_raw = _flat_date(ctx, row, date_c, rel)
        p = pending.get(key)
        if p is None:
            audio = index.get(Path(rel).name) if len(Path(rel).parts) == 1 else None
            p = _Pending(audio or resolve_audio(root, rel), site, lat, lon, date, date_raw, ctx, [])
            pending[key] = p
        elif (p.lat, p.lon) != (lat, lon):
            raise InputError(
                f"{ctx}: recording {rel!r} has coordinates ({lat}, {lon}) but ({p.lat}, {p.lon}) at {p.source}"
            )
        p.vocalizations.append(voc)
    return pending


def _collect_raven(root: Path, sites: dict[str, _Site] | None) -> dict[str, _Pending]:
    """The recordings of a Raven layout: one selection table per recording, sites from the sites table."""
    pending: dict[str, _Pending] = {}
    if sites is None:
        raise InputError(f"{root}: no sites table (a CSV/TSV named *site* with site id and lat/lon columns)")
    for table in _raven_tables(root):
        header, rows = read_table(table)
        stem = _RAVEN_SUFFIX.sub("", table.stem)
        folders = [p.name for p in table.relative_to(root).parents if p.name]
        site = _match_site(sites, stem, folders)
        if site is None:
            raise InputError(f"{table}: no site in the sites table matches recording {stem!r} or its folders {folders}")
        audio = _find_audio(table, root, stem)
        if audio is not None and audio.is_relative_to(root):
            key = audio.relative_to(root).with_suffix("").as_posix()
        else:
            key = table.relative_to(root).parent.joinpath(stem).as_posix()
        events = [v for _, _, v in _parse_events(table, header, rows)]
        named = date_from_filename(stem)
        date = named.calendar_date if named is not None else None
        pending[key] = _Pending(audio, site, site.lat, site.lon, date, "", str(table), events)
    if not pending:
        raise InputError(f"{root}: no Raven selection tables (*.txt with Species and Begin/End Time columns) found")
    return pending


def _collect(root: Path, sites: dict[str, _Site] | None, flat: Path | None) -> dict[str, _Pending]:
    """The recordings at ``root``, by key: from the flat annotations table, else from Raven selection tables."""
    if flat is not None:
        return _collect_flat(root, sites, flat)
    return _collect_raven(root, sites)


def _audio_index(root: Path) -> dict[str, Path]:
    index: dict[str, Path] = {}
    for p in sorted(root.rglob("*")):
        if p.suffix.lower() in AUDIO_EXTENSIONS and p.is_file():
            index.setdefault(p.name, p.resolve())
    return index


def _find_audio(table: Path, root: Path, stem: str) -> Path | None:
    folder = table.parent
    while True:
        for ext in AUDIO_EXTENSIONS:
            for sub in ("Recordings", "recordings", "audio", "."):
                cand = folder / sub / f"{stem}{ext}"
                if cand.is_file():
                    return cand.resolve()
        if folder == root or folder.parent == folder:
            return None
        folder = folder.parent


def _recording_ids(keys: list[str]) -> dict[str, str]:
    """The file stem as id, or the root-relative path (no extension) where stems collide."""
    counts = Counter(Path(k).name for k in keys)
    return {k: (Path(k).name if counts[Path(k).name] == 1 else k) for k in keys}


def _load(path: Path) -> tuple[Path, Path, dict[str, _Pending]]:
    path = path.expanduser().resolve()
    if path.is_file():
        root = path.parent
        if _is_sites_table(path):
            sites_path: Path | None = path
            flat = _find_flat_annotations(root)
        else:
            sites_path, flat = _find_sites_table(root), path
    elif path.is_dir():
        root = path
        sites_path, flat = _find_sites_table(root), _find_flat_annotations(root)
    else:
        raise InputError(f"{path}: no such file or folder")
    sites = _read_sites(sites_path) if sites_path else None
    return root, (flat or sites_path or root), _collect(root, sites, flat)


def read_vocalizations(path: str | Path) -> list[Vocalization]:
    """Every annotated vocalization of a WABAD folder (or table), with ``recording_id`` as in :func:`read`."""
    _, _, pending = _load(Path(path))
    ids = _recording_ids(list(pending))
    return [replace(v, recording_id=ids[k]) for k, p in pending.items() for v in p.vocalizations]


def read(path: str | Path, *, name: str = "wabad") -> RecordingDataset:
    """Read a WABAD folder (or its sites/annotations table); see the module docstring for the layout."""
    root, source, pending = _load(Path(path))
    ids = _recording_ids(list(pending))
    recordings: list[Recording] = []
    contexts: list[str] = []
    for key, p in pending.items():
        counts: dict[str, list[float]] = {}
        for v in p.vocalizations:
            c = counts.setdefault(v.species, [0, v.start_s])
            c[0] += 1
            c[1] = min(c[1], v.start_s)
        species = tuple(sorted(counts, key=lambda s: (-counts[s][0], counts[s][1], s)))
        extra = {"n_vocalizations": str(len(p.vocalizations))}
        if p.site is not None:
            extra["site"] = p.site.id
            extra.update({k: v for k, v in p.site.extra.items() if k not in extra})
        if p.date_raw:
            extra["date_raw"] = p.date_raw
        recordings.append(
            Recording(
                id=ids[key],
                audio_path=p.audio_path,
                lat=p.lat,
                lon=p.lon,
                date=p.date,
                species=species,
                extra=extra,
            )
        )
        contexts.append(p.source)
    check_unique_ids(recordings, contexts)
    return RecordingDataset(recordings, root=root, name=name, format=FORMAT, source=source)
