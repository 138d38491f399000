"""XCDC, the Xeno-canto Dawn Chorus benchmark (576 species-rich recordings) of the AG-CLIP paper.

Layout as released in ``cvl-umass/nat-sound2loc-benchmark`` (``xcdc/xcdc_recordings.csv``)::

    audio_id,url,latitude,longitude,length,date,time,recordist,main_scientific,main_common,all_scientific,all_common
    894098,https://xeno-canto.org/894098,52.75,0.462,3:05,2024-03-31,07:00,Stuart Fisher,Aythya ferina,Common Pochard,"['Cyanistes caeruleus', ...]","['Blue Tit', ...]"

- ``audio_id`` is the Xeno-canto number, and the id used by the benchmark's ``xcdc_gold.csv``;
- ``length`` is ``MM:SS`` or ``HH:MM:SS``;
- ``all_scientific`` / ``all_common`` are Python list literals in the release (the main species
  usually last, sometimes twice; common names may be ``''``); ``;``-, ``|``- or ``,``-separated
  text and JSON lists are accepted too.

``species`` is the main species followed by the rest of ``all_scientific`` in order, without
duplicates; ``common_names`` is aligned with it (``''`` where unknown). The audio is not part of
the release: ``audio_path`` is ``<root>/audio/<audio_id>.<ext>`` (or ``XC<audio_id>.<ext>``) for
ext in mp3/wav/flac/ogg when such a file exists, else None, with ``url`` pointing at Xeno-canto.
``time`` and ``recordist`` go to ``extra``.
"""  # noqa: E501  (the example CSV row above is one record: it cannot be wrapped)

from __future__ import annotations

import ast
import json
from pathlib import Path

from ..dates import metadata_date
from ..errors import InputError
from ..tables import parse_latlon
from .base import (
    AUDIO_EXTENSIONS,
    Recording,
    RecordingDataset,
    check_unique_ids,
    parse_duration,
    read_header,
    read_table,
    unique,
    where,
)

FORMAT = "xcdc"
FILE_NAME = "xcdc_recordings.csv"
REQUIRED_COLUMNS = ("audio_id", "latitude", "longitude", "main_scientific", "all_scientific")


def _is_xcdc_file(path: Path) -> bool:
    return path.is_file() and set(REQUIRED_COLUMNS) <= {h.lower() for h in read_header(path)}


def sniff(path: Path) -> bool:
    """True for a CSV with the XCDC columns, or a folder holding ``xcdc_recordings.csv``."""
    return _is_xcdc_file(path / FILE_NAME) if path.is_dir() else _is_xcdc_file(path)


def parse_name_list(text: str, *, context: str = "list") -> list[str]:
    """Names from a Python/JSON list literal or ``;``/``|``/``,``-separated text (empty entries kept)."""
    s = text.strip()
    if not s:
        return []
    if s.startswith("["):
        try:
            value = json.loads(s)
        except json.JSONDecodeError:
            try:
                value = ast.literal_eval(s)
            except (ValueError, SyntaxError):
                raise InputError(f"{context}: cannot read list {s[:80]!r}") from None
        if not isinstance(value, list):
            raise InputError(f"{context}: expected a list, got {s[:80]!r}")
        return [str(v).strip() if v is not None else "" for v in value]
    for sep in (";", "|", ","):
        if sep in s:
            return [t.strip() for t in s.split(sep)]
    return [s]


def _audio_index(root: Path) -> dict[str, Path]:
    folder = root / "audio"
    if not folder.is_dir():
        return {}
    index: dict[str, Path] = {}
    for f in sorted(folder.iterdir()):
        if f.suffix.lower() in AUDIO_EXTENSIONS and f.is_file():
            index.setdefault(f.stem, f.resolve())
    return index


def read(path: str | Path, *, root: str | Path | None = None, name: str = "xcdc") -> RecordingDataset:
    """Read ``xcdc_recordings.csv`` (or the folder holding it); ``root`` (default: its folder) holds ``audio/``."""
    path = Path(path).expanduser().resolve()
    if path.is_dir():
        path = path / FILE_NAME
    header, rows = read_table(path)
    lower = {h.lower(): h for h in header}
    missing = [c for c in REQUIRED_COLUMNS if c not in lower]
    if missing:
        raise InputError(f"{path}: not an XCDC table, missing columns {missing}; found {header}")
    base = Path(root).expanduser().resolve() if root is not None else path.parent
    audio = _audio_index(base)
    recordings: list[Recording] = []
    contexts: list[str] = []
    for n, (line, raw) in enumerate(rows, start=1):
        ctx = where(path, n, line)
        row = {k.lower(): (v or "").strip() for k, v in raw.items()}
        audio_id = row["audio_id"]
        if audio_id.upper().startswith("XC"):
            audio_id = audio_id[2:]
        if not audio_id:
            raise InputError(f"{ctx}: audio_id is empty")
        lat, lon = parse_latlon(row["latitude"], row["longitude"], ctx)
        date, partial = metadata_date(row.get("date"), ctx)
        main = row["main_scientific"]
        all_sci = parse_name_list(row["all_scientific"], context=f"{ctx}, all_scientific")
        all_com = parse_name_list(row.get("all_common", ""), context=f"{ctx}, all_common")
        common_of: dict[str, str] = {}
        if len(all_com) == len(all_sci):
            for s, c in zip(all_sci, all_com):
                if s and c:
                    common_of.setdefault(s, c)
        if main and row.get("main_common"):
            common_of[main] = row["main_common"]
        species = unique([main, *all_sci])
        commons = tuple(common_of.get(s, "") for s in species)
        extra = {k: row[k] for k in ("time", "recordist") if row.get(k)}
        if partial:
            extra["date_raw"] = row["date"]
        recordings.append(
            Recording(
                id=audio_id,
                audio_path=audio.get(audio_id) or audio.get(f"XC{audio_id}"),
                lat=lat,
                lon=lon,
                date=date,
                species=species,
                common_names=commons if any(commons) else (),
                url=row.get("url") or f"https://xeno-canto.org/{audio_id}",
                duration_s=parse_duration(row.get("length"), context=ctx),
                extra=extra,
            )
        )
        contexts.append(ctx)
    check_unique_ids(recordings, contexts)
    return RecordingDataset(recordings, root=base, name=name, format=FORMAT, source=path)
