"""What a batch reads: files, folders and datasets -> one :class:`BatchInput` per recording.

* a media file (``media.limits.MEDIA_EXTS``): its id is the file's stem, as in ``locate --csv``;
* a folder that a dataset reader recognises (a ``labels.csv`` manifest, WABAD, ...): that dataset;
* any other folder: the media files inside it (recursively, as ``locate``), each with the path
  relative to the folder, without its suffix, as id (the stem for files at its top);
* any other file (a manifest CSV, an iNatSounds JSON, XCDC's table): the dataset
  :func:`geoforensics.data.open_dataset` reads from it, with its ids and recording dates.

A recording without a date of its own gets ``date`` (the command's ``--date``). Paths are made
absolute but not resolved (two symlinks are two recordings); on a cluster they must name the same
file on every node. Ids must be unique: they are what a resumed batch skips.
"""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from ..data import detect_format, open_dataset
from ..errors import InputError
from ..media.limits import MEDIA_EXTS, expand_inputs


@dataclass(frozen=True)
class BatchInput:
    """One recording to locate: its id, absolute path and date (ISO text or None)."""

    audio_id: str
    path: str
    date: str | None = None


def _files_in(folder: Path, date: str | None) -> list[BatchInput]:
    return [
        BatchInput(f.relative_to(folder).with_suffix("").as_posix(), os.path.abspath(f), date)
        for f in expand_inputs([str(folder)])
    ]


def _dataset(path: Path, date: str | None) -> tuple[list[BatchInput], int]:
    ds = open_dataset(path)
    rows = [
        BatchInput(r.id, os.path.abspath(r.audio_path), r.date.isoformat() if r.date else date)
        for r in ds
        if r.audio_path is not None
    ]
    return rows, len(ds) - len(rows)


def _is_dataset_folder(folder: Path) -> bool:
    try:
        detect_format(folder)
    except InputError:
        return False
    return True


def collect_inputs(items: list[str], date: str | None = None) -> tuple[list[BatchInput], int]:
    """The recordings named by ``items`` (see the module docstring), and how many dataset rows were
    left out for having no audio file. InputError for a missing path, an empty folder, an unreadable
    dataset or repeated ids."""
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
                out.append(BatchInput(p.stem, os.path.abspath(p), date))
            else:
                rows, skipped = _dataset(p, date)
                out += rows
                no_audio += skipped
        else:
            raise InputError(f"no such file or folder: {p}")
    repeated = [i for i, n in Counter(r.audio_id for r in out).items() if n > 1]
    if repeated:
        shown = ", ".join(repeated[:5]) + (f", ... ({len(repeated) - 5} more)" if len(repeated) > 5 else "")
        raise InputError(
            f"{len(repeated)} recording id(s) appear more than once among the inputs: {shown}; ids name the rows "
            "of OUT, so give each file once (or pass their folder: files in subfolders get distinct ids)"
        )
    return out, no_audio
