"""The CLIP ViT-L/14 download button: shown while image geolocation is off, one download at a time."""

from __future__ import annotations

from typing import Any

import gradio as gr

from ..errors import GeoforensicsError
from ..forensics.analysis import fetch_image_weights, image_geolocator_status, image_weights_size_gb
from .errors import one_line, user_errors
from .markdown import md_escape

CLIP_COMMAND = "geoforensics weights fetch clip-vit-l-14-openai"


def clip_button_label() -> str:
    """The CLIP download button's label, with the size of the download."""
    return f"Download CLIP ViT-L/14 ({image_weights_size_gb():.1f} GB) for image geolocation"


def clip_download_button(elem_id: str) -> gr.Button:
    """The button that downloads CLIP, shown only while image geolocation is unavailable."""
    return gr.Button(clip_button_label(), variant="secondary", size="sm", elem_id=elem_id,
                     visible=not image_geolocator_status()[0])


CLIP_DOWNLOAD: dict[str, Any] = {"concurrency_id": "geoforensics-clip-download", "concurrency_limit": 1}
"""Event options of the CLIP download buttons: one download at a time, outside the heavy group (a
1 GB download must not hold up the analyses)."""


@user_errors("The CLIP download")
def download_clip(progress: gr.Progress = gr.Progress()) -> tuple[str, Any]:
    """Download and verify CLIP ViT-L/14 (the weight manager's fetch, with its checksum), then say
    whether image geolocation is on; offline, a one-line error and the app stays audio-only."""
    def show(fraction: float, message: str) -> None:
        progress(fraction, desc=f"downloading {message}")

    progress(0.0, desc=f"connecting to download CLIP ViT-L/14 ({image_weights_size_gb():.1f} GB)")
    try:
        path = fetch_image_weights(show)
    except GeoforensicsError as e:
        raise GeoforensicsError(f"The CLIP download failed, so the app stays audio-only: {one_line(str(e))}") from None
    ok, status = image_geolocator_status()
    if ok:
        text = (f'<span class="gf-tag gf-ok">Image geolocation</span> CLIP ViT-L/14 downloaded and its checksum '
                f"verified ({md_escape(path.name)}): press **Analyze** to geolocate the frames.")
    else:
        text = (f'<span class="gf-tag gf-no">Image geolocation</span> CLIP ViT-L/14 downloaded and verified '
                f"({md_escape(path.name)}), but image geolocation is still unavailable: {status}")
    return text, gr.Button(visible=not ok)
