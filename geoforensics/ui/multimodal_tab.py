"""The multimodal tab: a text, an image or a sound in, places out.

Text and images go through CLIP ViT-L/14 and GeoCLIP (``text-geoclip``, ``image-geoclip``), which
need weights that may be absent; their status is checked lazily and said plainly, while the audio
query keeps working.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

import gradio as gr

import geoforensics

from ..media.limits import check_file
from .. import GeoPrediction
from ..viz import prediction_map
from .common import (
    CLIP_COMMAND,
    LIMITS,
    TOP_K_HEADERS,
    md_escape,
    parse_date,
    prediction_summary,
    top_k_rows,
    user_errors,
)

MAX_TEXT_CHARS = 500
_SOURCES = {
    "text": ("geoforensics.geolocators.text", "TextGeolocator", "text-geoclip"),
    "image": ("geoforensics.geolocators.image", "ImageGeolocator", "image-geoclip"),
}


def clip_status(kind: str) -> tuple[bool, str]:
    """Whether ``kind`` ("text" or "image") queries can run here; else a "not available: ..." line
    with the reason and the command that enables them."""
    module, cls_name, registry_name = _SOURCES[kind]
    try:
        cls = getattr(importlib.import_module(module), cls_name)
    except (ImportError, AttributeError) as e:
        return False, f"{kind} queries not available: the {kind} geolocator cannot be imported ({one_reason(e)})"
    try:
        ok, msg = cls.available()
    except Exception as e:  # a broken check must not break the tab
        ok, msg = False, one_reason(e)
    if not ok:
        hint = "" if CLIP_COMMAND in msg else f"; to enable them run `{CLIP_COMMAND}`"
        return False, f"{kind} queries not available: {msg}{hint}"
    from ..geolocators import list_geolocators

    if registry_name not in list_geolocators():
        return False, f"{kind} queries not available: no geolocator {registry_name!r} is registered in this version"
    return True, f"{kind} queries available (CLIP ViT-L/14 + GeoCLIP)"


def one_reason(e: BaseException) -> str:
    return (str(e).splitlines() or [type(e).__name__])[0][:200]


def status_markdown() -> str:
    """The banner (refreshed on each page load): what can run here and what cannot."""
    lines = ['<span class="gf-tag gf-ok">audio</span> audio queries available (BirdNET species × ranges, offline)']
    for kind in ("text", "image"):
        ok, msg = clip_status(kind)
        lines.append(f'<span class="gf-tag gf-{"ok" if ok else "no"}">{kind}</span> {msg}')
    return "  \n".join(lines)


def _clip_geolocator(kind: str) -> Any:
    ok, msg = clip_status(kind)
    if not ok:
        raise gr.Error(msg, print_exception=False)
    from ..geolocators import get_geolocator

    return get_geolocator(_SOURCES[kind][2])


def _outputs(pred: GeoPrediction, label: str, title: str) -> tuple[Any, ...]:
    summary = f"### {md_escape(title)}\n\n" + prediction_summary(pred, label)
    return summary, prediction_map(pred), top_k_rows(pred), pred.to_dict(surface="none")


@user_errors("The text query")
def query_text(text: str | None) -> tuple[Any, ...]:
    """Where does this description point? (CLIP text features through GeoCLIP, zero-shot.)"""
    text = (text or "").strip()
    if not text:
        raise gr.Error("No text: describe a place, e.g. “a rainforest with tall trees”.", print_exception=False)
    if len(text) > MAX_TEXT_CHARS:
        raise gr.Error(f"The text is longer than {MAX_TEXT_CHARS} characters.", print_exception=False)
    pred = _clip_geolocator("text").predict(text)
    return _outputs(pred, "Text points to", f"“{text[:80]}”")


@user_errors("The image query")
def query_image(image: str | None) -> tuple[Any, ...]:
    """Where was this photo taken? (CLIP ViT-L/14 + GeoCLIP.)"""
    if not image:
        raise gr.Error("No image: upload or paste a photo.", print_exception=False)
    geo = _clip_geolocator("image")
    path = check_file(image, LIMITS)
    pred = geo.predict(str(path))
    return _outputs(pred, "Image points to", Path(path).name)


@user_errors("The audio query")
def query_audio(audio: str | None, date: str | None) -> tuple[Any, ...]:
    """Where was this recorded? (The same as the audio tab, as one more query type.)"""
    date = parse_date(date)
    if not audio:
        raise gr.Error("No audio: upload a file or record with the microphone.", print_exception=False)
    path = check_file(audio, LIMITS)
    pred = geoforensics.locate(path, date=date, top_k=5)
    return _outputs(pred, "Audio points to", Path(path).name)


def build_multimodal_tab() -> None:
    """The tab's components and events (call inside ``gr.Blocks``)."""
    gr.Markdown(status_markdown, elem_id="gf-mm-status", elem_classes=["gf-panel"])
    with gr.Row(equal_height=False):
        with gr.Column(scale=1, min_width=300):
            with gr.Tab("Text"):
                text = gr.Textbox(label="Describe a place", placeholder="a misty pine forest by a lake", lines=2, max_length=MAX_TEXT_CHARS)
                text_btn = gr.Button("Locate text", variant="primary")
            with gr.Tab("Image"):
                image = gr.Image(type="filepath", sources=["upload", "clipboard"], label="A photo", height=220)
                image_btn = gr.Button("Locate image", variant="primary")
            with gr.Tab("Audio"):
                audio = gr.Audio(sources=["upload", "microphone"], type="filepath", label="Bird sounds")
                date = gr.Textbox(label="Recording date (optional)", placeholder="YYYY-MM-DD", max_lines=1)
                audio_btn = gr.Button("Locate audio", variant="primary")
        with gr.Column(scale=2, min_width=420):
            summary = gr.Markdown("Ask with a text, an image or a sound.", elem_classes=["gf-panel"])
            mmap = gr.Plot(label="Where the query points", elem_id="gf-mm-map")
            top = gr.Dataframe(headers=TOP_K_HEADERS, label="Top candidates", interactive=False)
            with gr.Accordion("Raw result (JSON)", open=False):
                raw = gr.JSON(show_label=False)
    outputs = [summary, mmap, top, raw]
    text_btn.click(query_text, inputs=[text], outputs=outputs, api_name="query_text", show_progress_on=[mmap])
    text.submit(query_text, inputs=[text], outputs=outputs, api_visibility="private", show_progress_on=[mmap])
    image_btn.click(query_image, inputs=[image], outputs=outputs, api_name="query_image", show_progress_on=[mmap])
    audio_btn.click(query_audio, inputs=[audio, date], outputs=outputs, api_name="query_audio", show_progress_on=[mmap])
