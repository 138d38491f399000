"""Ship a trained head: a half-precision copy in the checkout's ``weights/`` and its entry in
``weights/manifest.json``, the table the weight manager reads (``geoforensics.weights``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ..errors import GeoforensicsError
from ..models.agclip import model_from_checkpoint, save_checkpoint_file
from ..paths import shipped_file
from ..weights import SHIPPED_MANIFEST, load_checkpoint_blob, sha256_file


def upsert_manifest(entry: dict[str, Any], path: Path) -> None:
    """Add or replace the entry with ``entry["name"]``."""
    data = json.loads(path.read_text()) if path.is_file() else {"weights": []}
    data["weights"] = [e for e in data["weights"] if e.get("name") != entry["name"]] + [entry]
    data["weights"].sort(key=lambda e: e["name"])
    path.write_text(json.dumps(data, indent=1) + "\n")


def export_head(checkpoint: str | Path, name: str, directory: Path | None = None, **meta: Any) -> dict[str, Any]:
    """Write ``directory/NAME.pt`` (fp16 weights, config, no optimizer) and its manifest entry; NAME is
    "agclip-TAG", and ``create_model("agclip", pretrained=TAG)`` loads it. ``directory`` defaults to the shipped weights
    folder (the checkout's ``weights/``); ``meta`` takes the other ``WeightSpec`` fields (``licence``,
    ``description``, ``preprocessing``, ``metadata``)."""
    directory = directory or shipped_file("weights", SHIPPED_MANIFEST).parent
    blob = load_checkpoint_blob(checkpoint, "training checkpoint")
    model = model_from_checkpoint(blob)
    if not name.startswith("agclip-"):
        raise GeoforensicsError(f"shipped AG-CLIP heads are named agclip-TAG, not {name!r}")
    out = directory / f"{name}.pt"
    save_checkpoint_file(model, out, half=True, epoch=int(blob.get("epoch", -1)))
    entry = {
        "name": name, "path": out.name, "sha256": sha256_file(out), "size_bytes": out.stat().st_size,
        "model": "agclip", "tag": name.removeprefix("agclip-"), **meta,
    }
    upsert_manifest(entry, directory / SHIPPED_MANIFEST)
    return entry
