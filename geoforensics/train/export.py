"""Ship a trained head: a half-precision copy under ``weights/`` and its entry in ``weights/manifest.json``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ..models.agclip import MANIFEST, WEIGHTS_DIR, model_from_checkpoint, save_checkpoint_file


def upsert_manifest(entry: dict[str, Any], path: Path = MANIFEST) -> None:
    """Add or replace the entry with ``entry["name"]``."""
    data = json.loads(path.read_text()) if path.is_file() else {"weights": []}
    data["weights"] = [e for e in data["weights"] if e.get("name") != entry["name"]] + [entry]
    data["weights"].sort(key=lambda e: e["name"])
    path.write_text(json.dumps(data, indent=1) + "\n")


def export_head(checkpoint: str | Path, name: str, directory: Path = WEIGHTS_DIR, **meta: Any) -> dict[str, Any]:
    """Write ``directory/NAME.pt`` (fp16 weights, config, no optimizer) and its manifest entry."""
    from ..models.weights import load_checkpoint_blob, sha256_file

    blob = load_checkpoint_blob(checkpoint, "training checkpoint")
    model = model_from_checkpoint(blob)
    out = directory / f"{name}.pt"
    save_checkpoint_file(model, out, half=True, epoch=int(blob.get("epoch", -1)))
    entry = {"name": name, "file": out.name, "sha256": sha256_file(out), "size": out.stat().st_size, **meta}
    upsert_manifest(entry, directory / "manifest.json")
    return entry
