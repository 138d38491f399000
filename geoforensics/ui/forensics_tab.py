"""The forensics tab: does this soundtrack belong to the place shown?"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import gradio as gr

from ..errors import InputError
from ..ffmpeg import check_file
from ..forensics.analysis import ForensicReport, analyze_media
from ..media.fetch import fetch_url
from ..media.limits import check_extension
from ..viz import prediction_map, window_timeline
from .common import (
    EVIDENCE_HEADERS,
    LIMITS,
    MAX_AUDIO_S,
    MEDIA_FILE_TYPES,
    evidence_table,
    example_files,
    export_prediction,
    limits_text,
    md_escape,
    parse_date,
    prediction_summary,
    safe_stem,
    species_choices,
    user_errors,
)
from .species import species_range

METADATA_TITLE = "Container metadata — shown for your information, never used by the predictions"
VERDICT_PLACEHOLDER = "Upload a clip or paste a URL, then press **Analyze**."


def verdict_markdown(report: ForensicReport) -> str:
    """The verdict panel: the plain verdict, the discrepancy, and how sure each side is."""
    v = report.verdict
    label, text = v.level.upper(), v.text.removeprefix(f"{v.level}: ")
    if not report.has_video and v.level == "inconclusive":
        label, text = "AUDIO ONLY", "no picture to compare with: the audio's own guess is below"
    badge = f'<span class="gf-badge gf-{v.level}">{label}</span>'
    parts = [f"{badge} {text[:1].upper() + text[1:]}"]
    facts = []
    if v.discrepancy_km is not None:
        facts.append(f"**Discrepancy:** {v.discrepancy_km:,.0f} km between the audio and the image guesses (great-circle)")
    if v.audio_mass_near_image is not None and v.image_mass_near_audio is not None:
        facts.append(
            f"**How sure:** the audio puts {v.audio_mass_near_image:.0%} of its probability near the picture's guess, "
            f"the picture {v.image_mass_near_audio:.0%} near the audio's"
        )
    if report.audio is not None:
        facts.append(prediction_summary(report.audio, "Audio guess"))
    if report.image is not None:
        facts.append(prediction_summary(report.image, "Image guess"))
    dur = f"{report.duration_s:.1f} s" if report.duration_s is not None else "unknown length"
    facts.append(f"<small>{md_escape(report.source)}: {dur}, {'video' if report.has_video else 'audio only'}</small>")
    return "\n\n".join([p for p in parts if p] + facts)


def image_markdown(report: ForensicReport) -> str:
    """The image panel: what the frames said, or why they could not be used."""
    state = "ok" if report.image is not None else "no"
    return f'<span class="gf-tag gf-{state}">Image geolocation</span> {report.image_status}'



def metadata_rows(meta: dict[str, Any]) -> list[list[str]]:
    """(tag, value) rows for the metadata panel; ``other`` tags are flattened."""
    rows: list[list[str]] = []
    for k, v in meta.items():
        if k == "other" and isinstance(v, dict):
            rows += [[str(kk), str(vv)] for kk, vv in v.items()]
        elif k == "gps" and isinstance(v, (tuple, list)) and len(v) == 2:
            rows.append(["gps (claimed)", f"{float(v[0]):.5f}, {float(v[1]):.5f}"])
        else:
            rows.append([str(k), str(v)])
    return rows or [["(none)", "the file carries no tags"]]


def report_map(report: ForensicReport | None, species: tuple | None = None) -> Any:
    """The forensics map: both guesses, their surfaces, top-k and the great-circle discrepancy."""
    if report is None:
        return prediction_map(None, None, species_range=species)
    return prediction_map(report.audio, report.image, species_range=species)


def resolve_source(upload: str | None, url: str | None, work: Path, progress: Any) -> Path:
    """The file to analyse: the upload, or the URL fetched into ``work`` (checked by ``fetch_url``)."""
    url = (url or "").strip()
    if upload and url:
        raise gr.Error("Give either a file or a URL, not both: clear one of them.", print_exception=False)
    if not upload and not url:
        raise gr.Error("No input: upload a video or audio file, or paste an http(s) URL.", print_exception=False)
    if upload:
        path = check_file(upload, LIMITS.max_bytes)
        check_extension(path)
        return path
    progress(0.02, desc="fetching the URL")
    return fetch_url(url, work, limits=LIMITS)


@user_errors("The analysis")
def analyze(
    upload: str | None,
    url: str | None,
    date: str | None,
    frame_every_s: float,
    progress: gr.Progress = gr.Progress(),
) -> tuple[Any, ...]:
    """Analyse a clip (upload or URL): verdict, map, image panel, timeline, evidence, species
    choices, metadata, downloads, the report as JSON, and the report itself (session state)."""
    date = parse_date(date)
    try:
        frame_every_s = float(frame_every_s or 2.0)
    except (TypeError, ValueError):
        raise InputError(f"the frame interval must be a number of seconds, not {frame_every_s!r}") from None
    if not 0.1 <= frame_every_s <= 600:
        raise InputError("the frame interval must be between 0.1 and 600 seconds")
    with tempfile.TemporaryDirectory(prefix="geoforensics-req-") as tmp:
        path = resolve_source(upload, url, Path(tmp), progress)
        report = analyze_media(
            path,
            date=date,
            frame_every_s=frame_every_s,
            max_frames=LIMITS.max_frames,
            max_duration_s=MAX_AUDIO_S,
            progress=lambda f, msg: progress(0.05 + 0.9 * float(f), desc=msg),
        )
    progress(0.97, desc="drawing")
    fig = report_map(report)
    timeline = window_timeline(report.audio, frames=report.image) if report.audio is not None else None
    files = export_prediction(
        report.to_json(indent=1), fig, safe_stem(report.source, "report"), f"geoforensics: {report.source}"
    )
    choices = species_choices(report.audio)
    return (
        verdict_markdown(report),
        fig,
        image_markdown(report),
        timeline,
        evidence_table(report.audio),
        gr.Dropdown(choices=choices, value="", interactive=len(choices) > 1),
        metadata_rows(report.metadata),
        files,
        report.to_dict(surface="none"),
        report,
    )


@user_errors("Drawing the species range")
def show_species_range(scientific_name: str | None, report: ForensicReport | None) -> Any:
    """The forensics map again, with ``scientific_name``'s year-round range (none when empty)."""
    species = species_range(scientific_name) if scientific_name else None
    return report_map(report, species)


def build_forensics_tab() -> None:
    """The tab's components and events (call inside ``gr.Blocks``)."""
    report_state = gr.State(None)
    with gr.Row(equal_height=False):
        with gr.Column(scale=1, min_width=300):
            upload = gr.File(label="Video or audio file", elem_id="gf-upload", file_types=MEDIA_FILE_TYPES, file_count="single", height=120)
            url = gr.Textbox(label="…or a URL (http/https, fetched with yt-dlp)", placeholder="https://…", max_lines=1)
            date = gr.Textbox(label="Recording date (optional)", placeholder="YYYY-MM-DD", max_lines=1)
            every = gr.Slider(0.5, 30, value=2, step=0.5, label="One video frame every N seconds")
            run = gr.Button("Analyze", variant="primary")
            gr.Markdown(
                f"<small>Accepted: {', '.join(e.lstrip('.') for e in MEDIA_FILE_TYPES)}. "
                f"{limits_text()}</small>",
                elem_classes=["gf-note"],
            )
            demo = example_files(["kauai_with_european_birds.mp4"])
            if demo:
                gr.Examples([[p] for p in demo], inputs=[upload], label="Example: Kauai's coast with a Swedish soundtrack")
        with gr.Column(scale=2, min_width=420):
            verdict = gr.Markdown(VERDICT_PLACEHOLDER, elem_id="gf-verdict", elem_classes=["gf-panel"])
            image_panel = gr.Markdown('<span class="gf-tag">Image geolocation</span> runs on the video frames', elem_id="gf-image-status", elem_classes=["gf-panel"])
            fmap = gr.Plot(label="Where the sound and the picture point", elem_id="gf-forensics-map")
            species = gr.Dropdown(
                choices=[("(run an analysis first)", "")],
                value="",
                label="Draw a species' range on the map (green)",
                interactive=False,
            )
    timeline = gr.Plot(label="Timeline: top species per 3 s window, and how far each window (and frame) points", elem_id="gf-timeline")
    evidence = gr.Dataframe(headers=EVIDENCE_HEADERS, label="Species evidence", interactive=False, wrap=True, elem_id="gf-evidence")
    with gr.Group(elem_classes=["gf-metadata"]):
        gr.Markdown(f"#### {METADATA_TITLE}", elem_classes=["gf-metadata-title"])
        metadata = gr.Dataframe(headers=["tag", "value"], show_label=False, interactive=False, wrap=True, elem_id="gf-metadata")
    downloads = gr.File(label="Download: the whole result (JSON) and the map (standalone HTML, works offline)", file_count="multiple", interactive=False)
    with gr.Accordion("Raw result (JSON)", open=False):
        raw = gr.JSON(show_label=False)

    run.click(
        analyze,
        inputs=[upload, url, date, every],
        outputs=[verdict, fmap, image_panel, timeline, evidence, species, metadata, downloads, raw, report_state],
        api_name="analyze",
        show_progress_on=[fmap],
        api_description="Forensic check of a clip: where the sound points vs where the picture points.",
    )
    species.input(
        show_species_range,
        inputs=[species, report_state],
        outputs=[fmap],
        api_name="species_range",
        api_description="Redraw the forensics map with a species' year-round range.",
    )
