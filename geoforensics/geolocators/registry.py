"""Registry of geolocators: ``create_geolocator(name)``, ``list_geolocators()``, cached ``get_geolocator``.

A builder is a small function returning an object that answers
:class:`~geoforensics.geolocators.base.Geolocator`. Builders import their heavy parts lazily, so
listing is cheap.
"""

from __future__ import annotations

import threading
from typing import Any, Callable

from ..defaults import AUDIO_MODEL, GALLERY
from ..errors import InputError
from .base import Geolocator

_BUILDERS: dict[str, tuple[Callable[..., Geolocator], str]] = {}
#: Modules that register more systems (Table 1 baselines); imported on first need, since they import torch.
_PLUGINS = ("baselines", "oracles", "regression", "classification")
_plugins_loaded = False
_CACHE: dict[tuple, Geolocator] = {}
_LOCK = threading.Lock()


def register_geolocator(name: str, description: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Decorator adding a builder function under ``name``: it returns a new :class:`Geolocator`."""

    def deco(fn: Callable[..., Any]) -> Callable[..., Any]:
        _BUILDERS[name] = (fn, description)
        return fn

    return deco


def _load_plugins() -> None:
    global _plugins_loaded
    if not _plugins_loaded:
        import importlib

        for mod in _PLUGINS:
            importlib.import_module(f"{__package__}.{mod}")
        _plugins_loaded = True


def list_geolocators() -> dict[str, str]:
    """Registered names and one-line descriptions."""
    _load_plugins()
    return {k: v[1] for k, v in sorted(_BUILDERS.items())}


def create_geolocator(name: str, **options: Any) -> Geolocator:
    """A new geolocator instance by name (``options`` go to its builder)."""
    if name not in _BUILDERS:
        _load_plugins()
    if name not in _BUILDERS:
        raise InputError(f"unknown model {name!r}; available: {', '.join(sorted(_BUILDERS))}")
    return _BUILDERS[name][0](**options)


def get_geolocator(name: str = AUDIO_MODEL, **options: Any) -> Geolocator:
    """The process-wide instance for ``name`` and ``options``: models load once, not per request."""
    key = (name, tuple(sorted((k, repr(v)) for k, v in options.items())))
    with _LOCK:
        if key not in _CACHE:
            _CACHE[key] = create_geolocator(name, **options)
        return _CACHE[key]


@register_geolocator("species-ranges", "BirdNET species heard x BirdNET meta-model ranges (default, offline)")
def _species_ranges(gallery: str = GALLERY, **kw: Any) -> Geolocator:
    from .species_ranges import SpeciesRangeGeolocator

    return SpeciesRangeGeolocator(gallery=gallery, **kw)


@register_geolocator("image-geoclip", "CLIP ViT-L/14 image features -> GeoCLIP image head -> GeoCLIP 100K gallery")
def _image_geoclip(gallery: str = "geoclip-100k", **kw: Any) -> Geolocator:
    from .image import ImageGeolocator

    return ImageGeolocator(gallery=gallery, **kw)


@register_geolocator("text-geoclip", "CLIP ViT-L/14 text features -> GeoCLIP image head -> GeoCLIP 100K gallery")
def _text_geoclip(gallery: str = "geoclip-100k", **kw: Any) -> Geolocator:
    from .text import TextGeolocator

    return TextGeolocator(gallery=gallery, **kw)


@register_geolocator(
    "taxabind-style",
    "TaxaBind-style baseline: BirdNET species -> name prompts -> CLIP ViT-L/14 text -> GeoCLIP image head -> land-1 gallery",
)
def _taxabind_style(gallery: str = GALLERY, **kw: Any) -> Geolocator:
    from .taxabind import TaxaBindStyleGeolocator

    return TaxaBindStyleGeolocator(gallery=gallery, **kw)


AGCLIP_HEADS = ("birdnet-sim-v1",)
"""Shipped AG-CLIP heads (``weights/agclip-NAME.pt``, SHA-256 in ``weights/manifest.json``)."""


def _agclip_builder(head: str) -> Callable[..., Any]:
    def build(gallery: str = GALLERY, **kw: Any):
        from .agclip import AGCLIPGeolocator

        return AGCLIPGeolocator(model=head, gallery=gallery, **kw)

    return build


@register_geolocator("agclip", "AG-CLIP from any checkpoint: agclip(model=PATH.pt or shipped head name)")
def _agclip_any(model: str = "birdnet-sim-v1", gallery: str = GALLERY, **kw: Any):
    from .agclip import AGCLIPGeolocator

    return AGCLIPGeolocator(model=str(model), gallery=gallery, **kw)


for _head in AGCLIP_HEADS:
    register_geolocator(
        f"agclip:{_head}", f"AG-CLIP head {_head!r} on frozen BirdNET scores -> GeoCLIP space -> land-1 gallery (experimental)"
    )(_agclip_builder(_head))
