"""Model registry: named builder functions and the weights each reads, as in open_clip and timm.

- ``create_model(name, pretrained=None, **kwargs)``: a NEW instance. ``pretrained`` is a tag of the
  model's pretrained table (``list_pretrained(name)``: entries of ``weights.WEIGHTS`` with that
  ``model``, SHA-256 checked by ``weights.verify``) or the path of a checkpoint file (read with
  ``weights.load_checkpoint_blob``, no table lookup).
- ``get_model(...)``: the process-wide shared instance for the same arguments, built on first use
  (models load once, never per request). A checkpoint path is keyed by its size and mtime too, so
  a file rewritten by training is read again.
- ``available(name)``: whether its weights are on this machine, without loading or hashing them.

This module imports no model code: the built-in models register themselves from
:mod:`geoforensics.models.builtin` (imported with the package), other modules with ``register_model``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .. import weights as _weights
from ..errors import InputError
from ..registry import Registry


@dataclass(frozen=True)
class ModelEntry:
    """A named model: its builder, which ``weights.WEIGHTS`` entries it always reads, what it is.

    A builder taking ``pretrained`` gets the resolved checkpoint path (or None); pretrained tags are
    the ``weights.WEIGHTS`` entries whose ``model`` is this name."""

    name: str
    factory: Callable[..., Any]
    weights: tuple[str, ...]
    description: str


MODELS: Registry[ModelEntry] = Registry("model")
_instances: dict[tuple[Any, ...], Any] = {}
_lock = threading.RLock()


def register_model(
    name: str, factory: Callable[..., Any], weights: tuple[str, ...] = (), description: str = ""
) -> None:
    """Add (or replace) a model; replacing drops its cached instances."""
    with _lock:
        MODELS.register(name, ModelEntry(name, factory, tuple(weights), description), description=description)
        for key in [k for k in _instances if k[0] == name]:
            del _instances[key]


def list_pretrained(name: str) -> list[str]:
    """The pretrained tags of model ``name`` (``create_model(name, pretrained=TAG)``)."""
    return sorted(_weights.pretrained_specs(name))


def resolve_pretrained(name: str, pretrained: str | Path) -> Path:
    """The file behind ``pretrained`` for model ``name``: a tag (or the full weights name) of its
    pretrained table, verified; otherwise the path of a checkpoint, unchecked (its loader says what
    is wrong with it). A plain word that is neither raises :class:`InputError` listing the tags."""
    specs = _weights.pretrained_specs(name)
    by_name = {s.name: s for s in specs.values()}
    text = str(pretrained)
    spec = specs.get(text) or by_name.get(text)
    if spec is not None:
        return _weights.weight_path(spec.name)
    path = Path(pretrained).expanduser()
    if not path.exists() and len(path.parts) == 1 and not path.suffix:
        tags = ", ".join(sorted(specs)) or "none"
        raise InputError(f"{name}: {text!r} is neither a pretrained tag (known: {tags}) nor a checkpoint file")
    return path


def create_model(name: str, pretrained: str | Path | None = None, **kwargs: Any) -> Any:
    """A new instance of model ``name``; ``pretrained``: a tag of ``list_pretrained(name)`` or a checkpoint path."""
    entry = MODELS[name]
    if pretrained is None:
        return entry.factory(**kwargs)
    return entry.factory(pretrained=resolve_pretrained(name, pretrained), **kwargs)


def _instance_key(name: str, pretrained: str | Path | None, kwargs: dict[str, Any]) -> tuple[Any, ...]:
    source: Any = pretrained
    if pretrained is not None:
        path = resolve_pretrained(name, pretrained)
        st = path.stat() if path.is_file() else None
        source = (str(path.resolve()), st.st_size, st.st_mtime_ns) if st else str(path)
    return (name, source, tuple(sorted(kwargs.items())))


def get_model(name: str, pretrained: str | Path | None = None, **kwargs: Any) -> Any:
    """The shared instance of ``create_model(name, pretrained, **kwargs)`` (``kwargs`` values hashable)."""
    MODELS.get(name)
    key = _instance_key(name, pretrained, kwargs)
    with _lock:
        if key not in _instances:
            _instances[key] = create_model(name, pretrained, **kwargs)
        return _instances[key]


def available(name: str) -> tuple[bool, str]:
    """(True, "") when every weights file of ``name`` is present with the right size; else (False, what to do)."""
    problems = []
    for w in MODELS[name].weights:
        state = _weights.status(w)
        if state == "absent":
            spec = _weights.get_spec(w)
            how = (
                "run `./run.sh install`"
                if spec.source in ("package", "shipped")
                else f"run `{_weights.fetch_command(w)}`" + ("" if spec.source == "url" else " --from FILE")
            )
            problems.append(f"{w} weights not present: {how}")
        elif state == "corrupt":
            path = _weights.candidate_path(_weights.get_spec(w))
            problems.append(f"{w} weights have the wrong size: delete {path} and run `{_weights.fetch_command(w)}`")
    return (not problems, "; ".join(problems))


def list_models() -> list[dict[str, Any]]:
    """Every registered model with its weights, pretrained tags and whether the weights are present."""
    rows = []
    for entry in MODELS.values():
        ok, message = available(entry.name)
        rows.append(
            {
                "name": entry.name,
                "description": entry.description,
                "weights": list(entry.weights),
                "pretrained": list_pretrained(entry.name),
                "available": ok,
                "message": message,
            }
        )
    return rows


def clear_instances() -> None:
    """Forget every built instance (tests; after weights change)."""
    with _lock:
        _instances.clear()


__all__ = [
    "MODELS",
    "ModelEntry",
    "available",
    "clear_instances",
    "create_model",
    "get_model",
    "list_models",
    "list_pretrained",
    "register_model",
    "resolve_pretrained",
]
