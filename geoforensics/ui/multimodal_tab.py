"""The multimodal tab: a sound, a species, a text or an image in, places out; and which of some prompts
or images fits a recording. It opens on the sound query, which works offline.

Text and images go through CLIP ViT-L/14 and GeoCLIP (``text-geoclip``, ``image-geoclip``), which
need weights that may be absent; their status is checked lazily and said plainly, while the audio
and species queries keep working. ``GEOFORENSICS_CLIP_CONFIG=tiny-test`` (developer/demo switch)
swaps in a tiny random CLIP so the wiring runs end to end; the banner and every answer then say
"random test weights: answers are meaningless".
"""

from __future__ import annotations

import importlib
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import gradio as gr

import geoforensics

from .. import GeoPrediction
from ..dates import parse_date
from ..ffmpeg import check_file
from ..geolocators import get_geolocator, list_geolocators
from ..models.birdnet import load_labels
from ..viz import prediction_map
from .clip_weights import CLIP_COMMAND, CLIP_DOWNLOAD, clip_download_button, download_clip
from .errors import text_input, user_errors
from .inputs import upload_file
from .limits import APP_LIMITS, LIMITS, AppLimits, heavy
from .markdown import md_escape, prediction_summary
from .tables import TOP_K_HEADERS, top_k_rows

if TYPE_CHECKING:
    from ..geolocators.base import Geolocator

MAX_TEXT_CHARS = 500
MAX_PROMPTS = 12
MAX_MATCH_IMAGES = 12
MATCH_HEADERS = ["rank", "candidate", "kind", "overlap", "km between guesses"]
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

    if registry_name not in list_geolocators():
        return False, f"{kind} queries not available: no geolocator {registry_name!r} is registered in this version"
    if msg:  # e.g. the tiny random CLIP of GEOFORENSICS_CLIP_CONFIG: say so wherever it is used
        return True, f"{kind} queries available — {msg}"
    return True, f"{kind} queries available (CLIP ViT-L/14 + GeoCLIP)"


def one_reason(e: BaseException) -> str:
    return (str(e).splitlines() or [type(e).__name__])[0][:200]


def status_markdown() -> str:
    """The banner (refreshed on each page load): what can run here and what cannot."""
    lines = [
        '<span class="gf-tag gf-ok">audio</span> audio queries available (BirdNET species × ranges, offline)',
        '<span class="gf-tag gf-ok">species</span> species affinity available (where a species alone points, offline)',
    ]
    for kind in ("text", "image"):
        ok, msg = clip_status(kind)
        lines.append(f'<span class="gf-tag gf-{"ok" if ok else "no"}">{kind}</span> {msg}')
    return "  \n".join(lines)


def _clip_geolocator(kind: str) -> Geolocator:
    ok, msg = clip_status(kind)
    if not ok:
        raise gr.Error(msg, print_exception=False)
    from ..geolocators.image import clip_test_config  # lazy: loads PIL, torch

    config = clip_test_config()  # part of the cache key, so a test CLIP never outlives its switch
    return get_geolocator(_SOURCES[kind][2], **({"clip_config": config} if config else {}))


def _outputs(pred: GeoPrediction, label: str, title: str) -> tuple[Any, ...]:
    summary = f"### {md_escape(title)}\n\n" + prediction_summary(pred, label)
    return summary, prediction_map(pred), top_k_rows(pred), pred.to_dict(surface="none")


@user_errors("The text query")
@heavy
def query_text(text: str | None) -> tuple[Any, ...]:
    """Where does this description point? (CLIP text features through GeoCLIP, zero-shot.)"""
    text = text_input(text, "the text")
    if not text:
        raise gr.Error("No text: describe a place, e.g. “a rainforest with tall trees”.", print_exception=False)
    if len(text) > MAX_TEXT_CHARS:
        raise gr.Error(f"The text is longer than {MAX_TEXT_CHARS} characters.", print_exception=False)
    pred = _clip_geolocator("text").predict(text)
    return _outputs(pred, "Text points to", f"“{text[:80]}”")


@user_errors("The image query")
@heavy
def query_image(image: str | None) -> tuple[Any, ...]:
    """Where was this photo taken? (CLIP ViT-L/14 + GeoCLIP.)"""
    if not image:
        raise gr.Error("No image: upload or paste a photo.", print_exception=False)
    geo = _clip_geolocator("image")
    path = check_file(image, LIMITS.max_bytes)
    pred = geo.predict(str(path))
    return _outputs(pred, "Image points to", Path(path).name)


@user_errors("The audio query")
@heavy
def query_audio(audio: str | None, date: str | None) -> tuple[Any, ...]:
    """Where was this recorded? (The same as the audio tab, as one more query type.)"""
    when = parse_date(date)
    if not audio:
        raise gr.Error("No audio: upload a file or record with the microphone.", print_exception=False)
    path = check_file(audio, LIMITS.max_bytes)
    pred = geoforensics.locate(path, date=when, top_k=5)
    return _outputs(pred, "Audio points to", Path(path).name)


@user_errors("The species affinity query")
@heavy
def query_species_affinity(species: str | None) -> tuple[Any, ...]:
    """Where does a clip in which only this species is heard belong? (species-ranges surface.)"""
    from ..geolocators.cross_modal import species_affinity  # lazy: loads PIL, torch

    name = text_input(species, "the species")
    if not name:
        raise gr.Error("No species: pick one from the list or type a scientific name.", print_exception=False)
    pred = species_affinity(name)
    label = pred.notes[0].split(":", 1)[0].removeprefix("soundscape affinity of ") if pred.notes else name
    return _outputs(pred, "Sounds like it belongs near", f"Soundscape affinity: {label}")


def _prompts(text: str | None) -> list[str]:
    lines = list(dict.fromkeys(line.strip() for line in text_input(text, "the prompts").splitlines() if line.strip()))
    if len(lines) > MAX_PROMPTS:
        raise gr.Error(f"At most {MAX_PROMPTS} prompts, one per line.", print_exception=False)
    if any(len(line) > MAX_TEXT_CHARS for line in lines):
        raise gr.Error(f"A prompt is longer than {MAX_TEXT_CHARS} characters.", print_exception=False)
    return lines


def _paths(files: Any) -> list[str]:
    items = files if isinstance(files, (list, tuple)) else ([files] if files else [])
    return [str(getattr(f, "name", f)) for f in items if f]


@user_errors("The audio match")
@heavy
def match_audio(audio: str | None, date: str | None, prompts: str | None, images: Any) -> tuple[Any, ...]:
    """Which of these prompts and images fits where this recording points? Each candidate is
    geolocated and ranked by the overlap of its surface with the audio's (``cross_modal``)."""
    import pandas as pd

    from ..geolocators.cross_modal import rank_by_location  # lazy: loads PIL, torch

    when = parse_date(date)
    if not audio:
        raise gr.Error("No audio: upload the recording to match.", print_exception=False)
    texts, image_paths = _prompts(prompts), _paths(images)
    if not texts and not image_paths:
        raise gr.Error("Nothing to match: type prompts (one per line) or add images.", print_exception=False)
    if len(image_paths) > MAX_MATCH_IMAGES:
        raise gr.Error(f"At most {MAX_MATCH_IMAGES} images.", print_exception=False)
    text_geo = _clip_geolocator("text") if texts else None
    image_geo = _clip_geolocator("image") if image_paths else None
    pred = geoforensics.locate(check_file(audio, LIMITS.max_bytes), date=when, top_k=5)
    candidates: dict[str, GeoPrediction] = {}
    kinds: dict[str, str] = {}
    for t in texts:
        assert text_geo is not None  # made above when there are texts
        candidates[f"“{t}”"] = text_geo.predict(t)
        kinds[f"“{t}”"] = "text"
    for path in image_paths:
        name = Path(check_file(path, LIMITS.max_bytes)).name
        while name in candidates:
            name += "′"
        assert image_geo is not None  # made above when there are images
        candidates[name] = image_geo.predict(path)
        kinds[name] = "image"
    ranked = rank_by_location(pred, candidates)
    rows = [[i, m.name, kinds[m.name], round(m.score, 3), round(m.km)] for i, m in enumerate(ranked, 1)]
    summary, fig, top, raw = _outputs(pred, "Audio points to", Path(audio).name)
    notes = sorted({n for c in candidates.values() for n in c.notes if "meaningless" in n})
    best = (f"**Best fit:** {md_escape(ranked[0].name)} "
            f"(overlap {ranked[0].score:.2f}, {ranked[0].km:,.0f} km between the guesses)")
    summary += "  \n" + best + "".join(f"  \nnote: {md_escape(n)}" for n in notes)
    return summary, fig, top, raw, pd.DataFrame(rows, columns=MATCH_HEADERS)


@lru_cache(maxsize=1)
def species_dropdown_choices() -> list[tuple[str, str]]:
    """(“Common name (Scientific name)”, scientific name) for every BirdNET species, by common name."""
    try:

        labels = load_labels()
    except Exception:  # the tab must build even without the BirdNET files; the handler will say why
        return []
    mask = labels.is_species
    rows = {(f"{c} ({s})", s) for s, c, ok in zip(labels.scientific, labels.common, mask) if ok}
    return sorted(rows, key=lambda r: r[0].lower())


def download_clip_here(progress: gr.Progress = gr.Progress()) -> tuple[Any, ...]:
    """The CLIP download from this tab: the same handler, then the banner redrawn."""
    _, button = download_clip(progress)
    return status_markdown(), button


def build_multimodal_tab(limits: AppLimits | None = None) -> None:
    """The tab's components and events (call inside ``gr.Blocks``). It opens on the audio query,
    which works offline; text and image queries need CLIP (a button downloads it). Every query runs
    in the heavy group of ``limits``."""
    limits = limits or APP_LIMITS
    status = gr.Markdown(status_markdown, elem_id="gf-mm-status", elem_classes=["gf-panel"])
    clip_btn = clip_download_button("gf-mm-clip-download")
    with gr.Row(equal_height=False):
        with gr.Column(scale=1, min_width=300):
            with gr.Tab("Audio"):
                audio = gr.Audio(sources=["upload", "microphone"], type="filepath", label="Bird sounds")
                date = gr.Textbox(label="Recording date (optional)", placeholder="YYYY-MM-DD", max_lines=1)
                audio_btn = gr.Button("Locate audio", variant="primary")
            with gr.Tab("Species affinity"):
                species = gr.Dropdown(
                    choices=species_dropdown_choices(),
                    value=None,
                    label="Species (type to search; a scientific name works too)",
                    allow_custom_value=True,
                    filterable=True,
                    elem_id="gf-mm-species",
                )
                species_btn = gr.Button("Show affinity", variant="primary")
            with gr.Tab("Text"):
                text = gr.Textbox(label="Describe a place", placeholder="a misty pine forest by a lake", lines=2,
                                  max_length=MAX_TEXT_CHARS)
                text_btn = gr.Button("Locate text", variant="primary")
            with gr.Tab("Image"):
                image = gr.Image(type="filepath", sources=["upload", "clipboard"], label="A photo", height=220)
                image_btn = gr.Button("Locate image", variant="primary")
            with gr.Tab("Match audio"):
                match_audio_in = gr.Audio(sources=["upload"], type="filepath", label="The recording")
                match_date = gr.Textbox(label="Recording date (optional)", placeholder="YYYY-MM-DD", max_lines=1)
                match_prompts = gr.Textbox(label=f"Prompts, one per line (at most {MAX_PROMPTS})", lines=3,
                                           placeholder="a beach in Hawaii\na pine forest in Spain")
                match_images = upload_file(label=f"Images (at most {MAX_MATCH_IMAGES})", file_count="multiple",
                                           file_types=["image"], height=120)
                match_btn = gr.Button("Which fits this recording?", variant="primary")
                matches = gr.Dataframe(headers=MATCH_HEADERS, label="Best fit first", interactive=False,
                                       elem_id="gf-mm-matches")
        with gr.Column(scale=2, min_width=420):
            summary = gr.Markdown("Ask with a text, an image, a sound or a species.", elem_classes=["gf-panel"],
                                  elem_id="gf-mm-summary")
            mmap = gr.Plot(label="Where the query points", elem_id="gf-mm-map")
            top = gr.Dataframe(headers=TOP_K_HEADERS, label="Top candidates", interactive=False)
            with gr.Accordion("Raw result (JSON)", open=False):
                raw = gr.JSON(show_label=False)
    outputs = [summary, mmap, top, raw]
    heavy = {"show_progress_on": [mmap], **limits.heavy()}
    clip_btn.click(download_clip_here, outputs=[status, clip_btn], api_visibility="private",
                   show_progress_on=[status], **CLIP_DOWNLOAD)
    text_btn.click(query_text, inputs=[text], outputs=outputs, api_name="query_text", **heavy)
    text.submit(query_text, inputs=[text], outputs=outputs, api_visibility="private", **heavy)
    image_btn.click(query_image, inputs=[image], outputs=outputs, api_name="query_image", **heavy)
    audio_btn.click(query_audio, inputs=[audio, date], outputs=outputs, api_name="query_audio", **heavy)
    species_btn.click(query_species_affinity, inputs=[species], outputs=outputs, api_name="species_affinity", **heavy)
    match_btn.click(
        match_audio,
        inputs=[match_audio_in, match_date, match_prompts, match_images],
        outputs=outputs + [matches],
        api_name="match_audio",
        **heavy,
    )
