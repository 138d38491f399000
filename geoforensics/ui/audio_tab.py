"""The audio tab: where was this recorded, from the birds heard in it?"""

from __future__ import annotations

from pathlib import Path
from typing import Any, NamedTuple

import gradio as gr

import geoforensics

from ..dates import parse_date, recording_date
from ..ffmpeg import open_media
from ..prediction import GeoPrediction
from ..viz import prediction_map, window_timeline
from .errors import user_errors
from .exports import export_prediction, safe_stem
from .inputs import example_files
from .limits import APP_LIMITS, LIGHT, LIMITS, MAX_AUDIO_S, AppLimits, heavy
from .markdown import md_escape, prediction_summary
from .species import species_range
from .tables import EVIDENCE_HEADERS, evidence_table, species_choices

EXAMPLES = {
    "XC148645.mp3": "Spanish Imperial Eagle · Spain",
    "XC132220.mp3": "Anna's Hummingbird · USA",
    "XC175831.mp3": "Olive-winged Bulbul · Singapore",
}
CREDITS = (
    "Xeno-canto recordings XC148645 (Patrik Åberg), XC132220 (Richard E. Webster) and XC175831 (Lars Buckx), "
    "CC BY-NC-SA: not for commercial use."
)


def audio_summary(pred: GeoPrediction, source: str) -> str:
    """Markdown: the guess, how sure, and the top species."""
    lines = ["### Where the birds say", prediction_summary(pred, "Best guess")]
    if pred.evidence:
        heard = ", ".join(f"{md_escape(e.common_name)} ({e.score:.2f})" for e in pred.evidence[:3])
        lines.append(f"**Heard:** {heard}")
    lines.append(f"<small>{md_escape(source)}</small>")
    return "\n\n".join(lines)


class AudioOutputs(NamedTuple):
    """What locating a clip updates, in the order of the ``/locate_audio`` API's outputs: the summary, the
    map, the timeline, the species evidence table, the species dropdown, the downloads (cleared:
    ``prepare_audio_downloads`` writes them on request), the prediction as JSON, and, in session state, the
    prediction and the file's name."""

    summary: Any
    map: Any
    timeline: Any
    evidence: Any
    species: Any
    downloads: Any
    raw: Any
    prediction: Any
    name: Any


@user_errors("Locating the audio")
@heavy
def locate_audio(audio: str | None, date: str | None) -> AudioOutputs:
    """Geolocate an uploaded or recorded clip (:class:`AudioOutputs`)."""
    when = parse_date(date)
    if not audio:
        raise gr.Error("No audio: upload a file, record with the microphone or pick an example.", print_exception=False)
    media = open_media(audio, LIMITS.max_bytes)
    when, note = recording_date(when, media.path)  # a recorder's file name, when the box is empty
    pred = geoforensics.locate(media, date=when, top_k=5)
    pred.notes += [note] if note else []
    choices = species_choices(pred)
    return AudioOutputs(
        summary=audio_summary(pred, media.name),
        map=prediction_map(pred),
        timeline=window_timeline(pred),
        evidence=evidence_table(pred),
        species=gr.Dropdown(choices=choices, value="", interactive=len(choices) > 1),
        downloads=None,
        raw=pred.to_dict(surface="none"),
        prediction=pred,
        name=media.name,
    )


@user_errors("Preparing the downloads")
def prepare_audio_downloads(scientific_name: str | None, pred: GeoPrediction | None, name: str | None) -> list[str]:
    """The prediction as JSON and the map as it is drawn (standalone HTML, ~5 MB), written only now."""
    if pred is None:
        raise gr.Error("No result yet: locate a clip first, then prepare its downloads.", print_exception=False)
    species = species_range(scientific_name) if scientific_name else None
    name = name or "audio"
    return export_prediction(pred.to_json(indent=1), prediction_map(pred, species_range=species),
                             safe_stem(name, "audio"), f"geoforensics: {name}", audio=pred, source=name)


@user_errors("Drawing the species range")
def audio_species_range(scientific_name: str | None, pred: GeoPrediction | None) -> Any:
    """The audio map again, with ``scientific_name``'s year-round range (none when empty)."""
    species = species_range(scientific_name) if scientific_name else None
    return prediction_map(pred, species_range=species)


def build_audio_tab(limits: AppLimits | None = None) -> None:
    """The tab's components and events (call inside ``gr.Blocks``): locating runs in the heavy group
    of ``limits`` (default ``APP_LIMITS``), redraws skip the queue."""
    limits = limits or APP_LIMITS
    pred_state = gr.State(None)
    name_state = gr.State("")
    with gr.Row(equal_height=False):
        with gr.Column(scale=1, min_width=300):
            audio = gr.Audio(sources=["upload", "microphone"], type="filepath", label="Bird sounds: upload or record")
            date = gr.Textbox(label="Recording date (optional)", placeholder="YYYY-MM-DD", max_lines=1)
            run = gr.Button("Locate", variant="primary")
            gr.Markdown(f"<small>The first {MAX_AUDIO_S / 60:g} min are analysed; "
                        f"files up to {LIMITS.max_bytes // 1_000_000} MB.</small>")
            files = example_files(list(EXAMPLES))
            if files:
                gr.Examples(
                    [[f] for f in files],
                    inputs=[audio],
                    example_labels=[EXAMPLES[Path(f).name] for f in files],
                    label="Examples",
                )
                gr.Markdown(f"<small>{CREDITS}</small>", elem_classes=["gf-note"])
        with gr.Column(scale=2, min_width=420):
            summary = gr.Markdown("Drop a recording, then press **Locate**.", elem_id="gf-audio-summary",
                                  elem_classes=["gf-panel"])
            amap = gr.Plot(label="Where the birds say", elem_id="gf-audio-map")
            species = gr.Dropdown(choices=[("(locate a clip first)", "")], value="",
                                  label="Draw a species' range on the map (green)", interactive=False)
    evidence = gr.Dataframe(headers=EVIDENCE_HEADERS, label="Species evidence", interactive=False, wrap=True)
    with gr.Accordion("Timeline", open=False):
        timeline = gr.Plot(show_label=False)
    prepare = gr.Button("Prepare the downloads: the prediction (JSON), the map (HTML, about 5 MB) "
                        "and map layers (GeoJSON, KML)",
                        size="sm", elem_id="gf-audio-prepare-downloads")
    downloads = gr.File(label="Download: the prediction (JSON), the map (standalone HTML) "
                        "and its layers (GeoJSON, KML)",
                        file_count="multiple", interactive=False, elem_classes=["gf-results"])
    with gr.Accordion("Raw result (JSON)", open=False):
        raw = gr.JSON(show_label=False)

    run.click(
        locate_audio,
        inputs=[audio, date],
        outputs=list(AudioOutputs(summary=summary, map=amap, timeline=timeline, evidence=evidence, species=species,
                                  downloads=downloads, raw=raw, prediction=pred_state, name=name_state)),
        api_name="locate_audio",
        show_progress_on=[amap],
        api_description="Where was this recorded? Geolocation from the bird species heard.",
        **limits.heavy(),
    )
    species.input(audio_species_range, inputs=[species, pred_state], outputs=[amap], api_name="audio_species_range",
                  **LIGHT)
    prepare.click(prepare_audio_downloads, inputs=[species, pred_state, name_state], outputs=[downloads],
                  api_visibility="private", show_progress_on=[downloads], **LIGHT)
