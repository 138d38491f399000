"""What a user can give the app: uploads of the accepted types, and the shipped examples."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import gradio as gr

from ..errors import GeoforensicsError
from ..media.limits import AUDIO_EXTS, VIDEO_EXTS
from ..paths import shipped_file

MEDIA_FILE_TYPES = sorted(AUDIO_EXTS | VIDEO_EXTS)


def _examples_dir() -> Path | None:
    """The shipped examples folder (package data; the checkout's ``examples/``), found by its
    ATTRIBUTION.md, which always ships with the clips; None when this installation lacks it."""
    try:
        attribution = shipped_file("examples", "ATTRIBUTION.md")
    except GeoforensicsError:
        return None
    return attribution.resolve().parent if attribution.is_file() else None


EXAMPLES_DIR = _examples_dir()


def upload_file(**kwargs: Any) -> gr.File:
    """A ``gr.File`` (type "filepath") without the empty temporary file that Gradio's preprocessing
    leaves, untracked, in its cache on every call (a subclass would make Gradio write a ``.pyi``
    into the package, so the one instance is given the fixed method)."""
    from gradio.utils import NamedString
    from gradio_client import utils as client_utils

    component = gr.File(**kwargs)

    def process(f: Any) -> Any:
        if component.file_types and not client_utils.is_valid_file(f.path, component.file_types):
            raise gr.Error(
                f"Invalid file type. Please upload a file that is one of these formats: {component.file_types}"
            )
        return NamedString(f.path)  # type: ignore[no-untyped-call]  # gradio leaves it unannotated

    if component.type == "filepath":
        component._process_single_file = process  # type: ignore[method-assign]
    return component


def example_files(names: list[str]) -> list[str]:
    """Paths of the named files of the shipped examples that exist (none when the folder is absent)."""
    if EXAMPLES_DIR is None:
        return []
    return [str(EXAMPLES_DIR / n) for n in names if (EXAMPLES_DIR / n).is_file()]
