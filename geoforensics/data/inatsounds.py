"""iNatSounds (Chasmai et al., NeurIPS 2024): the ``train.json`` / ``val.json`` / ``test.json`` annotations.

The COCO-like layout, as documented in the dataset's README (gvanhorn38/iNatSounds, mirrored as
visipedia/inat_sounds)::

    {"info": {...}, "licenses": [{"id", "name", "url"}],
     "audio": [{"id", "duration", "file_name", "license", "rights_holder", "date",
                "latitude", "longitude", "location_uncertainty"}],
     "categories": [{"id", "name", "common_name", "supercategory", "kingdom", ..., "genus",
                     "specific_epithet", "audio_dir_name", "evaluation"}],
     "annotations": [{"id", "audio_id", "category_id"}]}

``file_name`` is relative to the folder the archives were extracted into (e.g.
``test/<audio_dir_name>/<uuid>.wav``), taken by default as the JSON file's folder. A recording's
``id`` is the stem of its ``file_name``: that is the ``audio_id`` of the benchmark's
``inat_test_gold.csv``; the JSON's own ``id`` is kept in ``extra["audio_id"]``. ``species`` holds
the category ``name`` (the scientific name) of each annotation, in annotation order. Dates are
cut to the day (a time or zone after ``YYYY-MM-DD`` is ignored). Audio with a null latitude or
longitude (obscured observations) is skipped and counted in ``dataset.skipped``; a non-finite or
out-of-range coordinate raises :class:`~geoforensics.errors.InputError`. ``.json``, ``.json.gz``
and ``.tar.gz`` archives holding one JSON file are read directly.
"""

from __future__ import annotations

import gzip
import json
import os
import tarfile
from pathlib import Path
from typing import Any

from ..dates import metadata_date
from ..errors import InputError
from ..tables import parse_latlon
from .base import (
    Recording,
    RecordingDataset,
    check_unique_ids,
    parse_duration,
    resolve_audio,
)

FORMAT = "inatsounds"
REQUIRED_KEYS = ("audio", "annotations", "categories")
SPLIT_NAMES = ("train", "val", "test")


def _json_files(folder: Path) -> list[Path]:
    return [folder / f"{s}.json" for s in SPLIT_NAMES if (folder / f"{s}.json").is_file()]


def _is_json_name(path: Path) -> bool:
    name = path.name.lower()
    return name.endswith((".json", ".json.gz", ".json.tar.gz"))


def sniff(path: Path) -> bool:
    """True for a ``.json`` (or ``.json.gz`` / ``.json.tar.gz``) file whose start mentions ``"audio"``,
    or a folder holding exactly one of ``train.json``, ``val.json``, ``test.json``."""
    if path.is_dir():
        return len(_json_files(path)) == 1
    if not (path.is_file() and _is_json_name(path)):
        return False
    if path.name.lower().endswith(".json"):
        with path.open("rb") as f:
            head = f.read(1 << 16)
        return b'"audio"' in head or b'"annotations"' in head
    return True


def _load_json(path: Path) -> Any:
    try:
        name = path.name.lower()
        if name.endswith(".tar.gz") or name.endswith(".tgz"):
            with tarfile.open(path, "r:gz") as tar:
                members = [m for m in tar.getmembers() if m.isfile() and m.name.endswith(".json")]
                if len(members) != 1:
                    raise InputError(f"{path}: expected one .json file in the archive, found {len(members)}")
                member = tar.extractfile(members[0])
                assert member is not None
                return json.load(member)
        if name.endswith(".gz"):
            with gzip.open(path, "rt", encoding="utf-8") as gz:
                return json.load(gz)
        with path.open(encoding="utf-8") as f:
            return json.load(f)
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except (json.JSONDecodeError, UnicodeDecodeError, OSError, tarfile.TarError) as e:
        raise InputError(f"{path}: not a readable JSON file ({e})") from None


def _extra(
    audio: dict[str, Any], cats: list[dict[str, Any]], licenses: dict[Any, str], partial: bool
) -> dict[str, str]:
    """A recording's ``extra`` fields: iNatSounds id, rights holder, uncertainty, license, supercategory, raw date."""
    extra = {"audio_id": str(audio.get("id"))}
    for key in ("rights_holder", "location_uncertainty"):
        if audio.get(key) not in (None, ""):
            extra[key] = str(audio[key])
    if audio.get("license") in licenses:
        extra["license"] = licenses[audio["license"]]
    if cats and cats[0].get("supercategory"):
        extra["supercategory"] = str(cats[0]["supercategory"])
    if partial:
        extra["date_raw"] = str(audio.get("date"))
    return extra


def read(path: str | Path, *, root: str | Path | None = None, name: str | None = None) -> RecordingDataset:
    """Read an iNatSounds split file; ``root`` (default: its folder) is where ``file_name`` paths start."""
    path = Path(path).expanduser().resolve()
    if path.is_dir():
        found = _json_files(path)
        if len(found) != 1:
            raise InputError(
                f"{path}: expected one of {[s + '.json' for s in SPLIT_NAMES]}, found {[f.name for f in found]}; "
                "pass the file"
            )
        path = found[0]
    data = _load_json(path)
    if not isinstance(data, dict) or any(not isinstance(data.get(k), list) for k in REQUIRED_KEYS):
        raise InputError(f"{path}: not an iNatSounds annotation file (needs lists {list(REQUIRED_KEYS)})")
    base = Path(root).expanduser().resolve() if root is not None else path.parent
    categories: dict[Any, dict[str, Any]] = {}
    for c in data["categories"]:
        categories[c.get("id")] = c
    licenses = {lic.get("id"): str(lic.get("name", "")) for lic in data.get("licenses") or [] if isinstance(lic, dict)}
    labels: dict[Any, list[Any]] = {}
    for i, a in enumerate(data["annotations"]):
        if a.get("category_id") not in categories:
            raise InputError(f"{path}: annotations[{i}] has unknown category_id {a.get('category_id')!r}")
        labels.setdefault(a.get("audio_id"), []).append(a["category_id"])

    recordings: list[Recording] = []
    contexts: list[str] = []
    skipped = 0
    for i, audio in enumerate(data["audio"]):
        ctx = f"{path}, audio[{i}] (id {audio.get('id')!r})"
        lat, lon = audio.get("latitude"), audio.get("longitude")
        if lat is None or lon is None:
            skipped += 1
            continue
        lat, lon = parse_latlon(lat, lon, ctx)
        file_name = str(audio.get("file_name") or "").strip()
        if not file_name:
            raise InputError(f"{ctx}: file_name is empty")
        audio_path = resolve_audio(base, file_name)
        date, partial = metadata_date(audio.get("date"), ctx)
        cats = [categories[c] for c in labels.get(audio.get("id"), [])]
        species = tuple(dict.fromkeys(str(c.get("name", "")).strip() for c in cats if c.get("name")))
        common_of = {str(c.get("name", "")).strip(): str(c.get("common_name") or "") for c in cats}
        commons = tuple(common_of.get(s, "") for s in species)
        extra = _extra(audio, cats, licenses, partial)
        duration = audio.get("duration")
        recordings.append(
            Recording(
                id=os.path.splitext(os.path.basename(file_name))[0],
                audio_path=audio_path,
                lat=lat,
                lon=lon,
                date=date,
                species=species,
                common_names=commons if any(commons) else (),
                url=None,
                duration_s=parse_duration(duration, context=ctx) if duration is not None else None,
                extra=extra,
            )
        )
        contexts.append(ctx)
    check_unique_ids(recordings, contexts)
    if name is None:
        name = "inatsounds-" + path.name.split(".")[0]
    return RecordingDataset(recordings, root=base, name=name, format=FORMAT, source=path, skipped=skipped)
