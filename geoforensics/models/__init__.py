"""Model registry, pretrained table and weight manager, and model wrappers (BirdNET, GeoCLIP, CLIP).

Names are imported lazily, so ``geoforensics weights list`` does not pay for torch.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "WeightSpec": "weights",
    "WEIGHTS": "weights",
    "ChecksumError": "weights",
    "weights_dir": "weights",
    "weight_path": "weights",
    "fetch": "weights",
    "list_weights": "weights",
    "create_model": "registry",
    "list_models": "registry",
    "register_model": "registry",
    "GeoCLIPLocationEncoder": "geoclip",
    "GeoCLIPImageHead": "geoclip",
    "load_gps_gallery_100k": "geoclip",
    "ClipEncoder": "clip",
    "load_clip": "clip",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
