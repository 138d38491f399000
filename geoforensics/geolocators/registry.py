"""Registry of geolocators: ``create_geolocator(name)``, ``list_geolocators()``, cached ``get_geolocator``.

Builders live in :data:`GEOLOCATORS` (a :class:`geoforensics.registry.Registry`). A builder is a small function
returning an object that answers :class:`~geoforensics.geolocators.base.Geolocator`. Builders import their heavy
parts lazily, so listing is cheap. A builder registered with ``arg`` also answers names "NAME:VALUE", with VALUE
passed as its option ``arg``: "agclip:birdnet-sim-v1" (a shipped head) and "agclip:PATH.pt" (a
checkpoint) are the "agclip" builder with ``model=`` that tag or path.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from functools import partial
from typing import Any

from ..defaults import AUDIO_MODEL, GALLERY
from ..errors import InputError
from ..registry import Registry
from ..weights import pretrained_specs
from .base import Geolocator
from .species_ranges import SpeciesRangeGeolocator

#: Builders by name. Plugins register more systems (Table 1 baselines); imported on first need, since they import torch.
GEOLOCATORS: Registry[Callable[..., Geolocator]] = Registry(
    "model", plugins=[f"{__package__}.{m}" for m in ("baselines", "oracles", "regression", "classification")]
)
_CACHE: dict[tuple[str, tuple[tuple[str, str], ...]], Geolocator] = {}
_LOCK = threading.Lock()


def register_geolocator(
    name: str, description: str, arg: str | None = None
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Decorator adding a builder function under ``name``: it returns a new :class:`Geolocator`. With
    ``arg``, "NAME:VALUE" names it too, with VALUE given as the option ``arg``."""
    return GEOLOCATORS.register(name, description=description, arg=arg)


def list_geolocators() -> dict[str, str]:
    """Registered names and one-line descriptions."""
    return dict(sorted(GEOLOCATORS.list().items()))


def create_geolocator(name: str, **options: Any) -> Geolocator:
    """A new geolocator instance by name (``options`` go to its builder)."""
    key, value = GEOLOCATORS.parse(name)
    option = GEOLOCATORS.arg(key)
    given = {option: value} if option is not None and value is not None else {}
    try:
        return GEOLOCATORS[key](**given, **options)
    except TypeError as e:
        if "unexpected keyword argument" not in str(e):
            raise
        raise InputError(f"model {name!r} does not take that option ({str(e).split('()', 1)[-1].strip()})") from None


def get_geolocator(name: str = AUDIO_MODEL, **options: Any) -> Geolocator:
    """The process-wide instance for ``name`` and ``options``: models load once, not per request."""
    key = (name, tuple(sorted((k, repr(v)) for k, v in options.items())))
    with _LOCK:
        if key not in _CACHE:
            _CACHE[key] = create_geolocator(name, **options)
        return _CACHE[key]


@register_geolocator("species-ranges", "BirdNET species heard x BirdNET meta-model ranges (default, offline)")
def _species_ranges(gallery: str = GALLERY, **kw: Any) -> Geolocator:
    return SpeciesRangeGeolocator(gallery=gallery, **kw)


@register_geolocator("image-geoclip", "CLIP ViT-L/14 image features -> GeoCLIP image head -> GeoCLIP 100K gallery")
def _image_geoclip(gallery: str = "geoclip-100k", **kw: Any) -> Geolocator:
    from .image import ImageGeolocator  # lazy: loads PIL, torch

    return ImageGeolocator(gallery=gallery, **kw)


@register_geolocator("text-geoclip", "CLIP ViT-L/14 text features -> GeoCLIP image head -> GeoCLIP 100K gallery")
def _text_geoclip(gallery: str = "geoclip-100k", **kw: Any) -> Geolocator:
    from .text import TextGeolocator  # lazy: loads PIL, torch

    return TextGeolocator(gallery=gallery, **kw)


@register_geolocator(
    "taxabind-style",
    "TaxaBind-style baseline: BirdNET species -> name prompts -> CLIP ViT-L/14 text -> GeoCLIP image head "
    "-> land-1 gallery",
)
def _taxabind_style(gallery: str = GALLERY, **kw: Any) -> Geolocator:
    from .taxabind import TaxaBindStyleGeolocator  # lazy: loads PIL, torch

    return TaxaBindStyleGeolocator(gallery=gallery, **kw)


@register_geolocator(
    "agclip",
    "AG-CLIP: agclip:TAG (a shipped head, see `geoforensics weights list`) "
    "or agclip:PATH.pt (a checkpoint of `geoforensics train`)",
    arg="model",
)
def _agclip(model: Any = "birdnet-sim-v1", gallery: str = GALLERY, **kw: Any) -> Geolocator:
    from .agclip import AGCLIPGeolocator  # lazy: loads torch

    return AGCLIPGeolocator(model=model, gallery=gallery, **kw)


def _register_shipped_agclip_heads() -> None:
    """List "agclip:TAG" for every shipped head (pretrained tags of the model registry's "agclip")."""
    for tag, spec in pretrained_specs("agclip").items():
        description = f"AG-CLIP head {tag!r}: {spec.description}"
        GEOLOCATORS.register(f"agclip:{tag}", partial(_agclip, tag), description=description)


_register_shipped_agclip_heads()
