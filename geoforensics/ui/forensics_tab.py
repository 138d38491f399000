"""The forensics tab: does this soundtrack belong to the place shown, or to the place claimed?

A claim is typed ("lat, lon" or a place name: ambiguous names list their alternatives to pick from),
clicked on the map (Gradio's ``gr.Plot`` has no click event, so a small script in the page head,
``MAP_CLICK_JS``, inverts the map's projection at the click and writes the point into the hidden
``#gf-map-click`` box, whose change event runs the check) or taken from the file's own GPS tag. Once a clip is analysed
its sound is scored once, so every further claim is answered at once from the stored report.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any, NamedTuple

import gradio as gr
import numpy as np

from ..dates import parse_date, recording_date
from ..defaults import EVIDENCE_SECONDS
from ..errors import InputError
from ..ffmpeg import MediaFile, open_media
from ..forensics.analysis import CLAIM_PROMPT, ForensicReport, analyze_media
from ..forensics.claims import Claim, claim_candidates, point_label
from ..forensics.explain import reasons
from ..forensics.results import ClaimCheck
from ..geo.gazetteer import parse_coordinates
from ..media.fetch import fetch_url
from ..media.limits import check_extension
from ..viz.report import (
    CLAIM_SOURCE_NAMES,
    report_claims,
    report_map,
    report_notes,
    report_timeline,
    soundtrack_line,
)
from .clip_weights import CLIP_DOWNLOAD, clip_download_button, download_clip
from .errors import text_input, user_errors
from .exports import EXPORTS, export_prediction, safe_stem
from .inputs import MEDIA_FILE_TYPES, example_files, upload_file
from .lifecycle import request_dir
from .limits import APP_LIMITS, LIGHT, LIMITS, MAX_AUDIO_S, AppLimits, heavy, limits_text
from .markdown import md_escape, prediction_summary
from .species import species_range
from .tables import EVIDENCE_HEADERS, evidence_table, species_choices

METADATA_TITLE = "Container metadata — shown for your information, never used by the predictions"
VERDICT_PLACEHOLDER = "Upload a clip or paste a URL, then press **Analyze**."
CLAIM_HEADERS = ["species", "confidence", "windows heard", "lives there?", "nearest place it lives (km)"]
NO_CLAIM_TABLE = "Species heard, at the claimed place (type a claim, click the map or use the file's tag)"
EXAMPLES = {
    "kauai_with_european_birds.mp4": ("Lihue, Kauai, Hawaii", "Kauai video with Swedish birds, said to be Lihue"),
    "XC148645.mp3": ("Plasencia, Spain", "Spanish Imperial Eagle, said to be Plasencia, Spain"),
    "eagle_under_music.mp4": ("Madrid, Spain", "The eagle under loud music, said to be Madrid"),
}
MAP_CLICK_JS = """
(() => {
  let down = null;
  document.addEventListener('mousedown', e => { down = [e.clientX, e.clientY]; }, true);
  document.addEventListener('click', e => {
    const box = e.target.closest && e.target.closest('#gf-forensics-map');
    if (!box || !down || Math.hypot(e.clientX - down[0], e.clientY - down[1]) > 4) return;
    if (e.target.closest('.legend, .modebar, .colorbar, .infolayer')) return;
    const gd = box.querySelector('.js-plotly-plot');
    const geo = gd && gd._fullLayout && gd._fullLayout.geo && gd._fullLayout.geo._subplot;
    const svg = gd && gd.querySelector('svg.main-svg');
    if (!geo || !svg) return;
    const r = svg.getBoundingClientRect();
    const p = [e.clientX - r.left, e.clientY - r.top];
    const ll = geo.projection.invert(p);
    if (!ll || !isFinite(ll[0]) || !isFinite(ll[1]) || Math.abs(ll[1]) > 90) return;
    const back = geo.projection(ll);
    if (!back || Math.hypot(back[0] - p[0], back[1] - p[1]) > 2) return;  // off the globe
    const lon = ((ll[0] + 540) % 360) - 180;
    const input = document.querySelector('#gf-map-click textarea, #gf-map-click input');
    if (!input) return;
    input.value = `${ll[1].toFixed(4)}, ${lon.toFixed(4)} @${Date.now()}`;  \
// the time: a second click on one spot is a change too
    input.dispatchEvent(new Event('input', {bubbles: true}));
  }, true);
})();
"""


class AnalysisOutputs(NamedTuple):
    """What an analysis updates, in the order of the ``/analyze`` API's outputs (documented in the API page):
    the verdict panel, the map, the image panel, the timeline, the species evidence table, the species
    dropdown, the metadata panel, the downloads (cleared), the report as JSON, and, in session state, the
    report, the claim's species table, the alternatives of the claim's name and their candidates, the
    file-tag button and the kept download of a URL."""

    verdict: Any
    map: Any
    image: Any
    timeline: Any
    evidence: Any
    species: Any
    metadata: Any
    downloads: Any
    raw: Any
    report: Any
    claim_table: Any
    alternatives: Any
    candidates: Any
    tag_button: Any
    fetched: Any


class ClaimOutputs(NamedTuple):
    """What testing another claim updates: the claim box, the verdict panel, the map, the claim's species
    table, the alternatives and their candidates (``gr.skip()``: left as they are), the downloads
    (cleared), the report as JSON and the report."""

    claim: Any
    verdict: Any
    map: Any
    claim_table: Any
    alternatives: Any
    candidates: Any
    downloads: Any
    raw: Any
    report: Any


def badge(level: str, label: str | None = None, small: bool = False) -> str:
    size = " gf-badge-sm" if small else ""
    return f'<span class="gf-badge gf-{level}{size}">{label or level.upper()}</span>'


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:]


def _hum_line(report: ForensicReport, check: ClaimCheck | None) -> str | None:
    if check is not None and check.hum is not None:
        return f"**Mains hum:** {md_escape(check.hum.text)}"
    hum = report.hum
    if hum is None:
        return None
    if hum.grid_hz:
        return f"**Mains hum:** {hum.summary}; a claim is tested against its grid"
    return f"**Mains hum:** {md_escape(hum.reason or 'none stable')}"


def _soundtrack_markdown(report: ForensicReport) -> str | None:
    line = soundtrack_line(report)
    return f"**Soundtrack:** {md_escape(line)}" if line else None


def verdict_markdown(report: ForensicReport) -> str:
    """The verdict panel: the badge and headline (the claim tested, or the sound vs the picture), why,
    the mains hum and splice lines, the other claims tested, and each side's guess."""
    v = report.verdict
    check = report.headline_claim
    label, text = v.level.upper(), v.text.removeprefix(f"{v.level}: ")
    if check is not None:
        text = md_escape(text)
    elif not report.has_video and v.basis == "none" and report.audio is not None:
        label, text = "AUDIO ONLY", (f"no picture to compare with and no claim to test: {CLAIM_PROMPT}. "
                                     "The audio's own guess is below")
    parts = [f"{badge(v.level, label)} {_sentence(text)}"]
    if check is not None:
        parts.append(md_escape(" ".join(reasons(check))))
    facts = [line for line in (_soundtrack_markdown(report), _hum_line(report, check)) if line]
    if report.splice is not None:
        facts.append(f"**Splice:** {md_escape(report.splice.text)}")
    others = [c for c in report_claims(report) if c is not check]
    if others:
        items = [
            f"{badge(c.verdict, small=True)} {CLAIM_SOURCE_NAMES.get(c.claim.source, c.claim.source)}: "
            f"{md_escape(c.claim.label)} (mismatch score {c.mismatch_score:.2f})"
            for c in others
        ]
        facts.append("**Also tested:**  \n" + "  \n".join(items))
    if report.comparison is not None and report.comparison is not v:
        c = report.comparison
        facts.append(f"**Picture vs sound:** {badge(c.level, small=True)} {c.text.removeprefix(f'{c.level}: ')}")
    if check is not None and check.distance_km is not None:
        facts.append(f"**Distance:** {check.distance_km:,.0f} km between the audio's guess and the claimed place "
                     "(great-circle)")
    if v.discrepancy_km is not None and v.basis == "image":
        facts.append(f"**Discrepancy:** {v.discrepancy_km:,.0f} km between the audio and the image guesses "
                     "(great-circle)")
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
    return "\n\n".join(parts + facts)


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


def claim_table(report: ForensicReport | None) -> Any:
    """The headline claim's species table (species, confidence, windows heard, lives there?, nearest
    place it lives), labelled with the place; empty with a prompt when nothing is claimed."""
    import pandas as pd

    check = report.headline_claim if report is not None else None
    if check is None:
        return gr.Dataframe(value=pd.DataFrame([], columns=CLAIM_HEADERS), label=NO_CLAIM_TABLE)
    rows = [
        [
            f"{e.common_name} ({e.scientific_name})",
            round(e.score, 3),
            e.windows,
            "yes" if e.lives_here else "no",
            round(e.nearest_km) if e.nearest_km is not None else None,
        ]
        for e in check.evidence
    ]
    who = CLAIM_SOURCE_NAMES.get(check.claim.source, check.claim.source)
    label = f"Species heard, at {check.claim.label} ({who}): {check.verdict.upper()}"
    return gr.Dataframe(value=pd.DataFrame(rows, columns=CLAIM_HEADERS), label=label)


def alternatives_radio(candidates: list[Claim]) -> Any:
    """The places an ambiguous name could mean, to pick from (hidden for one or none)."""
    if len(candidates) < 2:
        return gr.Radio(choices=[], value=None, visible=False)
    return gr.Radio(choices=[c.label for c in candidates], value=candidates[0].label, visible=True)


def tag_button(report: ForensicReport | None) -> Any:
    """"Use the file's GPS tag": enabled only when the file carries one."""
    tag = report.file_claim if report is not None else None
    if tag is None:
        return gr.Button("Use the file's GPS tag (none in this file)", interactive=False)
    return gr.Button(f"Use the file's GPS tag ({tag.claim.lat:.4f}, {tag.claim.lon:.4f})", interactive=True)


def parse_claim(text: str | None) -> list[Claim]:
    """The candidates of a typed claim (none for an empty box); :class:`InputError` for text that names nothing."""
    text = text_input(text, "the claimed place")
    return claim_candidates(text) if text else []


def resolve_source(upload: str | None, url: str | None, work: Path, progress: Any) -> MediaFile:
    """The file to analyse, checked and probed once: the upload, or the URL fetched into ``work``."""
    url = text_input(url, "the URL")
    if upload and url:
        raise gr.Error("Give either a file or a URL, not both: clear one of them.", print_exception=False)
    if not upload and not url:
        raise gr.Error("No input: upload a video or audio file, or paste an http(s) URL.", print_exception=False)
    if upload:
        check_extension(Path(upload))
        return open_media(upload, LIMITS.max_bytes)
    progress(0.02, desc="fetching the URL")
    return fetch_url(url, work, limits=LIMITS)


KEEP_FETCHED_BYTES = 50_000_000
"""A URL's download up to this size is kept with the exports (an hour at most) so the evidence video can
be made from it; a larger one is dropped after the analysis."""


def keep_fetched(path: Path) -> str | None:
    """Move a URL's download out of the request folder into the exports store, when it is small enough
    (:data:`KEEP_FETCHED_BYTES`); its new path, or None."""
    if path.stat().st_size > KEEP_FETCHED_BYTES:
        return None
    kept = EXPORTS.new_dir() / path.name
    shutil.move(str(path), kept)
    return str(kept)


def _species(name: str | None) -> tuple[str, np.ndarray, np.ndarray] | None:
    return species_range(name) if name else None


@user_errors("Preparing the downloads")
def prepare_downloads(species: str | None, report: ForensicReport | None) -> list[str]:
    """The report as JSON and the map as it is drawn (standalone HTML, ~5 MB), written only now."""
    if report is None:
        raise InputError("No analysis yet: analyse a clip first, then prepare its downloads.")
    return export_prediction(
        report.to_json(indent=1), report_map(report, _species(species)), safe_stem(report.source, "report"),
        f"geoforensics: {report.source}", report_notes(report), audio=report.audio, image=report.image,
        claims=report.claims, scores=report.checker.heard if report.checker is not None else None, source=report.source,
    )


@user_errors("The analysis")
@heavy
def analyze(
    upload: str | None,
    url: str | None,
    date: str | None,
    frame_every_s: float,
    claim: str | None = None,
    progress: gr.Progress = gr.Progress(),
) -> AnalysisOutputs:
    """Analyse a clip (upload or URL) and test ``claim`` with it (:class:`AnalysisOutputs`; the downloads are
    written by ``prepare_downloads`` on request; the kept download is None for an upload or a download over
    :data:`KEEP_FETCHED_BYTES`)."""
    when = parse_date(date)
    try:
        frame_every_s = float(frame_every_s or 2.0)
    except (TypeError, ValueError):
        raise InputError(f"the frame interval must be a number of seconds, not {frame_every_s!r}") from None
    if not 0.1 <= frame_every_s <= 600:
        raise InputError("the frame interval must be between 0.1 and 600 seconds")
    candidates = parse_claim(claim)
    with request_dir() as tmp:
        media = resolve_source(upload, url, tmp, progress)
        when, note = recording_date(when, media.path)  # a recorder's file name, when the box is empty
        report = analyze_media(
            media,
            claim=candidates[0] if candidates else None,
            date=when,
            frame_every_s=frame_every_s,
            max_frames=LIMITS.max_frames,
            max_duration_s=MAX_AUDIO_S,
            progress=lambda f, msg: progress(0.05 + 0.9 * float(f), desc=msg),
        )
        kept = None if upload else keep_fetched(media.path)
    if note and report.audio is not None:
        report.audio.notes.append(note)
    progress(0.97, desc="drawing")
    fig = report_map(report)
    choices = species_choices(report.audio)
    return AnalysisOutputs(
        verdict=verdict_markdown(report),
        map=fig,
        image=image_markdown(report),
        timeline=report_timeline(report),
        evidence=evidence_table(report.audio),
        species=gr.Dropdown(choices=choices, value="", interactive=len(choices) > 1),
        metadata=metadata_rows(report.metadata),
        downloads=None,
        raw=report.to_dict(surface="none"),
        report=report,
        claim_table=claim_table(report),
        alternatives=alternatives_radio(candidates),
        candidates=candidates,
        tag_button=tag_button(report),
        fetched=kept,
    )


def _with_claim(report: ForensicReport | None, claim: Claim | None, species: str | None, text: str,
                candidates: list[Claim] | None) -> ClaimOutputs:
    """Re-check ``report`` with ``claim`` (None: no claim of the user's) and redraw what depends on it
    (:class:`ClaimOutputs`; ``candidates`` None: the alternatives are left as they are)."""
    if report is None:
        raise InputError(
            "No analysis yet: upload a clip (or paste a URL) and press Analyze; the claim is tested with it."
        )
    report = report.with_claim(claim)
    fig = report_map(report, _species(species))
    return ClaimOutputs(
        claim=text,
        verdict=verdict_markdown(report),
        map=fig,
        claim_table=claim_table(report),
        alternatives=alternatives_radio(candidates) if candidates is not None else gr.skip(),
        candidates=candidates if candidates is not None else gr.skip(),
        downloads=None,
        raw=report.to_dict(surface="none"),
        report=report,
    )


@user_errors("Checking the claim")
def check_claim(text: str | None, species: str | None, report: ForensicReport | None) -> ClaimOutputs:
    """Test a typed claim ("lat, lon" or a place name; empty: none) against the analysed sound."""
    candidates = parse_claim(text)
    return _with_claim(report, candidates[0] if candidates else None, species, text or "", candidates)


@user_errors("Checking the claim")
def pick_alternative(index: int | None, candidates: list[Claim] | None, species: str | None,
                     report: ForensicReport | None) -> ClaimOutputs:
    """Test another of the places an ambiguous name could mean."""
    if not candidates or index is None or not 0 <= int(index) < len(candidates):
        raise InputError("pick one of the places listed under the claim")
    claim = candidates[int(index)]
    return _with_claim(report, claim, species, claim.label, None)


@user_errors("Using the file's tag")
def use_file_tag(species: str | None, report: ForensicReport | None) -> ClaimOutputs:
    """Make the file's own GPS tag the claim tested ("the file says ...")."""
    tag = report.file_claim if report is not None else None
    if report is not None and tag is None:
        raise InputError("this file carries no GPS tag to test")
    text = f"{tag.claim.lat:.4f}, {tag.claim.lon:.4f}" if tag is not None else ""
    return _with_claim(report, None, species, text, [])


@user_errors("Checking the clicked place")
def map_click(latlon: str | None, species: str | None, report: ForensicReport | None) -> ClaimOutputs:
    """Test the place clicked on the map ("lat, lon @time", filled in by ``MAP_CLICK_JS``)."""
    point = parse_coordinates((latlon or "").split("@")[0])
    if point is None:
        raise InputError(f"not a point on the map: {latlon!r}")
    if report is None:
        raise InputError("No analysis yet: analyse a clip first, then click the map to test a place.")
    lat, lon = point
    claim = Claim(lat, lon, "map", point_label(lat, lon))
    return _with_claim(report, claim, species, f"{lat:.4f}, {lon:.4f}", [])


def _analysed_source(report: ForensicReport | None, upload: str | None, kept: str | None) -> Path:
    """The file ``report`` was made from: the upload, or the kept download of the URL; InputError without
    an analysis or that file."""
    if report is None:
        raise InputError("No analysis yet: analyse a clip first.")
    for path in (upload, kept):
        if path and Path(path).name == report.source and Path(path).is_file():
            return Path(path)
    raise InputError("The evidence video is made from the clip that was analysed, which is no longer here (a URL's "
                     f"download is kept for an hour when under {KEEP_FETCHED_BYTES // 1_000_000} MB): upload the clip "
                     "or paste the URL again, and press Analyze.")


@user_errors("Making the evidence video")
@heavy
def evidence_video(report: ForensicReport | None, upload: str | None, kept: str | None = None,
                   progress: gr.Progress = gr.Progress()) -> list[str]:
    """The evidence video (MP4) of the analysed clip (the upload, or the URL's kept download), made on
    request."""
    from ..viz.evidence import render_evidence_video  # lazy: loads PIL, matplotlib

    source = _analysed_source(report, upload, kept)
    assert report is not None
    out = EXPORTS.new_dir() / f"{safe_stem(report.source, 'clip')}_evidence.mp4"
    render_evidence_video(report, source, out, max_seconds=EVIDENCE_SECONDS,
                          progress=lambda f, msg: progress(f, desc=msg))
    return [str(out)]


@user_errors("Making the report")
@heavy
def report_files(report: ForensicReport | None) -> list[str]:
    """The one-page report of the analysis, as PNG and PDF, made on request."""
    from ..viz.page import reproduce_command, write_report_page  # lazy: loads matplotlib

    if report is None:
        raise InputError("No analysis yet: analyse a clip first.")
    d, stem = EXPORTS.new_dir(), safe_stem(report.source, "clip")
    command = f"geoforensics app, forensics tab; on the command line: {reproduce_command(report)}"
    return [str(write_report_page(report, d / f"{stem}_report{ext}", command=command)) for ext in (".png", ".pdf")]


@user_errors("Drawing the species range")
def show_species_range(scientific_name: str | None, report: ForensicReport | None) -> Any:
    """The forensics map again, with ``scientific_name``'s year-round range (none when empty)."""
    return report_map(report, _species(scientific_name))


def build_forensics_tab(limits: AppLimits | None = None) -> None:
    """The tab's components and events (call inside ``gr.Blocks``): the analysis runs in the heavy
    group of ``limits``, claim checks and redraws skip the queue."""
    limits = limits or APP_LIMITS
    report_state = gr.State(None, time_to_live=3600)
    candidates_state = gr.State([])
    fetched_state = gr.State(None, time_to_live=3600)
    with gr.Row(equal_height=False):
        with gr.Column(scale=1, min_width=300):
            upload = upload_file(label="Video or audio file", elem_id="gf-upload", file_types=MEDIA_FILE_TYPES,
                                 file_count="single", height=120)
            url = gr.Textbox(label="…or a URL (http/https, fetched with yt-dlp)", placeholder="https://…", max_lines=1)
            claim = gr.Textbox(
                label="Claimed place (optional): where is this clip said to come from?",
                placeholder="a place name (Lihue, Hawaii) or lat, lon (22.05, -159.5); or click the map",
                max_lines=1,
                elem_id="gf-claim",
            )
            alternatives = gr.Radio(choices=[], label="That name fits several places: pick one", visible=False,
                                    type="index", elem_id="gf-claim-alternatives")
            with gr.Row():
                check_btn = gr.Button("Check claim", size="sm", elem_id="gf-check-claim")
                tag_btn = gr.Button("Use the file's GPS tag", size="sm", interactive=False, elem_id="gf-use-tag")
            date = gr.Textbox(label="Recording date (optional)", placeholder="YYYY-MM-DD", max_lines=1)
            every = gr.Slider(0.5, 30, value=2, step=0.5, label="One video frame every N seconds")
            run = gr.Button("Analyze", variant="primary")
            gr.Markdown(
                f"<small>Accepted: {', '.join(e.lstrip('.') for e in MEDIA_FILE_TYPES)}. "
                f"{limits_text()}</small>",
                elem_classes=["gf-note"],
            )
            demo = example_files(list(EXAMPLES))
            if demo:
                gr.Examples(
                    [[p, EXAMPLES[Path(p).name][0]] for p in demo],
                    inputs=[upload, claim],
                    example_labels=[EXAMPLES[Path(p).name][1] for p in demo],
                    label="Examples: a soundtrack that does not fit its place, and one that does",
                )
            clicked = gr.Textbox(visible="hidden", elem_id="gf-map-click", max_lines=1)
        with gr.Column(scale=2, min_width=420):
            verdict = gr.Markdown(VERDICT_PLACEHOLDER, elem_id="gf-verdict", elem_classes=["gf-panel"])
            image_panel = gr.Markdown('<span class="gf-tag">Image geolocation</span> runs on the video frames',
                                      elem_id="gf-image-status", elem_classes=["gf-panel"])
            clip_btn = clip_download_button("gf-clip-download")
            fmap = gr.Plot(label="Where the sound, the picture and the claims point: click the map to test a place",
                           elem_id="gf-forensics-map")
            species = gr.Dropdown(
                choices=[("(run an analysis first)", "")],
                value="",
                label="Draw a species' range on the map (green)",
                interactive=False,
            )
    claim_evidence = gr.Dataframe(headers=CLAIM_HEADERS, label=NO_CLAIM_TABLE, interactive=False, wrap=True,
                                  elem_id="gf-claim-evidence")
    timeline = gr.Plot(label="Timeline: top species per 3 s window, and how far each window (and frame) points",
                       elem_id="gf-timeline")
    evidence = gr.Dataframe(headers=EVIDENCE_HEADERS, label="Species evidence", interactive=False, wrap=True,
                            elem_id="gf-evidence")
    with gr.Group(elem_classes=["gf-metadata"]):
        gr.Markdown(f"#### {METADATA_TITLE}", elem_classes=["gf-metadata-title"])
        metadata = gr.Dataframe(headers=["tag", "value"], show_label=False, interactive=False, wrap=True,
                                elem_id="gf-metadata")
    prepare = gr.Button("Prepare the downloads: the result (JSON), the map (HTML, about 5 MB), "
                        "map layers (GeoJSON, KML) and a Raven selection table",
                        size="sm", elem_id="gf-prepare-downloads")
    downloads = gr.File(label="Download: the whole result with its claims (JSON), "
                        "the map (standalone HTML, works offline), "
                        "its layers for QGIS or Google Earth (GeoJSON, KML) and the labelled windows for Raven",
                        file_count="multiple", interactive=False, elem_id="gf-downloads", elem_classes=["gf-results"])
    with gr.Row():
        video_btn = gr.Button("Evidence video (MP4): the clip with its verdict, map and timeline", size="sm",
                              elem_id="gf-evidence-video")
        report_btn = gr.Button("Report (PNG and PDF): one page to print or share", size="sm", elem_id="gf-report-page")
    evidence_files = gr.File(label="Evidence video and report", file_count="multiple", interactive=False,
                             elem_id="gf-evidence-files", elem_classes=["gf-results"])
    with gr.Accordion("Raw result (JSON)", open=False):
        raw = gr.JSON(show_label=False)

    shown = AnalysisOutputs(
        verdict=verdict, map=fmap, image=image_panel, timeline=timeline, evidence=evidence, species=species,
        metadata=metadata, downloads=downloads, raw=raw, report=report_state, claim_table=claim_evidence,
        alternatives=alternatives, candidates=candidates_state, tag_button=tag_btn, fetched=fetched_state,
    )
    run.click(
        analyze,
        inputs=[upload, url, date, every, claim],
        outputs=list(shown),
        api_name="analyze",
        show_progress_on=[fmap],
        api_description="Forensic check of a clip: where the sound points vs where the picture points, "
        "and whether it fits a claimed place.",
        **limits.heavy(),
    )
    claim_outputs = list(ClaimOutputs(
        claim=claim, verdict=verdict, map=fmap, claim_table=claim_evidence, alternatives=alternatives,
        candidates=candidates_state, downloads=downloads, raw=raw, report=report_state,
    ))
    private: dict[str, Any] = {"api_visibility": "private", "show_progress_on": [fmap], **LIGHT}
    check_btn.click(check_claim, inputs=[claim, species, report_state], outputs=claim_outputs, **private)
    claim.submit(check_claim, inputs=[claim, species, report_state], outputs=claim_outputs, **private)
    alternatives.input(pick_alternative, inputs=[alternatives, candidates_state, species, report_state],
                       outputs=claim_outputs, **private)
    tag_btn.click(use_file_tag, inputs=[species, report_state], outputs=claim_outputs, **private)
    clicked.change(map_click, inputs=[clicked, species, report_state], outputs=claim_outputs, **private)
    upload.change(lambda: (None, tag_button(None)), outputs=[report_state, tag_btn], api_visibility="private",
                  show_progress="hidden", **LIGHT)
    prepare.click(prepare_downloads, inputs=[species, report_state], outputs=[downloads], api_visibility="private",
                  show_progress_on=[downloads], **LIGHT)
    clip_btn.click(download_clip, outputs=[image_panel, clip_btn], api_name="download_clip",
                   show_progress_on=[image_panel], **CLIP_DOWNLOAD)
    video_btn.click(evidence_video, inputs=[report_state, upload, fetched_state], outputs=[evidence_files],
                    api_visibility="private", show_progress_on=[evidence_files], **limits.heavy())
    report_btn.click(report_files, inputs=[report_state], outputs=[evidence_files], api_visibility="private",
                     show_progress_on=[evidence_files], **limits.heavy())
    species.input(
        show_species_range,
        inputs=[species, report_state],
        outputs=[fmap],
        api_name="species_range",
        api_description="Redraw the forensics map with a species' year-round range.",
        **LIGHT,
    )
