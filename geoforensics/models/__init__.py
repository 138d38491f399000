"""Model registry, pretrained table and weight manager, and model wrappers (BirdNET, GeoCLIP, CLIP).

Names are imported lazily, so ``geoforensics weights list`` does not pay for torch; importing the
package registers the built-in models (:mod:`.builtin`, whose builders import their code when run).
"""

from __future__ import annotations

import importlib
from typing import Any

from . import builtin as _builtin  # noqa: F401  (registers the built-in models)

_EXPORTS = {
    "create_model": "registry",
    "get_model": "registry",
    "list_models": "registry",
    "list_pretrained": "registry",
    "register_model": "registry",
    "GeoCLIPLocationEncoder": "geoclip",
    "GeoCLIPImageHead": "geoclip",
    "ClipEncoder": "clip",
    "create_clip": "clip",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
