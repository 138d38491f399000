"""``geoforensics analyze FILE|URL``: does this soundtrack belong to the place shown?"""

from __future__ import annotations

import argparse
import re
import shlex
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from ..defaults import EVIDENCE_SECONDS, EVIDENCE_SECONDS_LIMIT
from ..ffmpeg import open_media
from ..forensics.analysis import analyze_media
from ..forensics.claims import resolve_claim
from ..media.limits import MediaLimits
from ..text import safe
from .exports import Exported, add_export_options, check_labels, recording_date, write_exports
from .locate import format_prediction
from .options import STDOUT, number, open_output, output_file, shared, text_to_stdout, write_json

if TYPE_CHECKING:
    from ..forensics.analysis import ForensicReport

ORDER = 5

_URL_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]+:")
"""A source that starts like this and is no file is a URL (``data:...``, ``javascript:...``): the URL policy
refuses it."""


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "analyze",
        help="forensic check of a video or audio clip: where the sound points vs where the picture points",
        description=(
            "Geolocate a clip's soundtrack (species heard) and its video frames (CLIP/GeoCLIP, when the "
            "weights are present), compare them, and test where the clip is claimed to come from: --claim, "
            "the file's own GPS tag (tested as a claim, never used by a prediction) and the picture's guess. "
            "Other container metadata is shown, never used."
        ),
        parents=shared("date", "model", "max_duration", "json"),
    )
    p.add_argument("source", metavar="FILE|URL",
                   help="a local audio/video file or an http(s) URL (fetched with yt-dlp)")
    p.add_argument(
        "--claim", metavar="PLACE",
        help='the place the clip claims: "lat, lon" (e.g. "22.05,-159.5") or a name ("Lihue, Hawaii")',
    )
    p.add_argument(
        "--frame-every", type=number(float, 0.1, 3600), default=2.0, metavar="S",
        help="seconds between analysed frames, 0.1 to 3600 (default 2)",
    )
    p.add_argument(
        "--max-frames", type=number(int, 1, MediaLimits().max_frames), default=60, metavar="N",
        help=f"at most this many frames, 1 to {MediaLimits().max_frames} (default 60)",
    )
    p.add_argument(
        "--html", metavar="OUT.html", type=output_file("--html", (".html", ".htm")),
        help="write a standalone, offline HTML map",
    )
    p.add_argument(
        "--video", metavar="OUT.mp4", type=output_file("--video", (".mp4",)),
        help="write the evidence video: the clip with its verdict, a map following each window's guess, the timeline, "
        "and a closing card with the distances, data sources and licences",
    )
    p.add_argument(
        "--video-seconds", type=number(float, 0, EVIDENCE_SECONDS_LIMIT, above=True), default=EVIDENCE_SECONDS,
        metavar="S",
        help=f"seconds of the clip the evidence video shows, from the start (default {EVIDENCE_SECONDS:g}, "
        f"at most {EVIDENCE_SECONDS_LIMIT:g})",
    )
    p.add_argument(
        "--report", metavar="OUT.png|OUT.pdf", type=report_file,
        help="write a one-page report (map, verdict, species table, metadata panel, the command that made it)",
    )
    add_export_options(p)
    p.set_defaults(func=run)


def report_file(text: str) -> str:
    """The type of ``--report``: a new or existing .png or .pdf file."""
    if Path(text).suffix.lower() not in (".png", ".pdf"):
        raise argparse.ArgumentTypeError(f"must end in .png or .pdf, got {safe(text)}")
    return output_file("--report", (".png", ".pdf"))(text)


def format_report(report: ForensicReport) -> str:
    """Plain-text summary of a :class:`~geoforensics.forensics.analysis.ForensicReport`."""
    from ..viz.report import report_notes  # lazy: loads plotly

    lines = [safe(line) for line in report_notes(report)]
    user = report.user_claim
    if user is not None and user.claim.alternatives:
        lines.append(safe(f"other places with that name: {'; '.join(user.claim.alternatives)}"))
    if report.hum is not None:
        lines.append(f"mains hum: {report.hum.summary if report.hum.grid_hz else 'none'}")
    if report.audio:
        lines.append("audio: " + format_prediction(Path(report.source), report.audio).split(": ", 1)[1])
    status = safe(report.image_status)
    lines.append(f"image: {status}" if report.image is None
                 else f"image: {report.image.lat:.3f}, {report.image.lon:.3f} ({status})")
    if report.metadata:
        lines.append("container metadata (display only, never used by the predictions):")
        lines += [f"  {safe(k)}: {safe(_shown(v))}" for k, v in report.metadata.items()]
    return "\n".join(lines)


def _shown(value: object) -> str:
    """A metadata value as text: the tag dict of ``other`` one ``key=value`` after another."""
    if isinstance(value, dict):
        return "; ".join(f"{k}={v}" for k, v in value.items())
    return str(value)


def run(args: argparse.Namespace) -> int:
    claim = resolve_claim(args.claim) if args.claim is not None else None  # a bad claim fails before any download
    check_labels(args)
    show_text = text_to_stdout(args)
    with open_output(args.json) as json_out:  # opened first: a bad destination fails before any work
        with tempfile.TemporaryDirectory(prefix="geoforensics-") as tmp:
            source = args.source
            if "://" in source or (not Path(source).exists() and _URL_SCHEME.match(source)):
                from ..media.fetch import fetch_url  # yt-dlp, loaded for URLs only

                media = fetch_url(source, Path(tmp))
                path = media.path
            else:
                media = open_media(Path(source), MediaLimits().max_bytes)
                path = media.path
            date, note = recording_date(args.date, Path(source) if media.path == Path(source) else media.path, args)
            report = analyze_media(
                media,
                claim=claim,
                date=date,
                frame_every_s=args.frame_every,
                max_frames=args.max_frames,
                max_duration_s=args.max_duration,
                audio_model=args.model,
            )
            if note and report.audio is not None:
                report.audio.notes.append(note)
            if show_text:
                print(format_report(report))
            if json_out is not None:
                write_json(json_out, report.to_dict(), indent=1)
            if args.video:
                write_video(report, path, args.video, args.video_seconds)
    if args.json not in (None, STDOUT):
        print(f"wrote {safe(args.json)}", file=sys.stderr)
    if args.html:
        from ..viz import write_standalone_html  # lazy: loads plotly
        from ..viz.report import report_map, report_notes  # lazy: loads plotly

        fig = report_map(report)
        write_standalone_html(fig, args.html, title=f"geoforensics: {report.source}", notes=report_notes(report))
        print(f"wrote {safe(args.html)}", file=sys.stderr)
    if args.report:
        from ..viz.page import write_report_page  # lazy: loads matplotlib, plotly

        argv = getattr(args, "argv", None)
        write_report_page(report, args.report, command=shlex.join(["geoforensics", *argv]) if argv else None)
        print(f"wrote {safe(args.report)}", file=sys.stderr)
    if args.video:
        print(f"wrote {safe(args.video)}", file=sys.stderr)
    heard = report.checker.heard if report.checker is not None else None
    write_exports(args, [Exported(Path(report.source), report.audio, heard, report.image, report.claims)])
    return 0


def write_video(report: ForensicReport, path: Path, out: str, seconds: float) -> None:
    """Render the evidence video with a progress bar on a terminal's stderr."""
    from tqdm import tqdm

    from ..viz.evidence import render_evidence_video  # lazy: loads PIL, matplotlib, plotly

    with tqdm(total=100, desc="evidence video", unit="%", file=sys.stderr, disable=None, leave=False,
              bar_format="{desc}: {percentage:3.0f}%|{bar}| {postfix}") as bar:

        def progress(fraction: float, message: str) -> None:
            bar.n = round(100 * fraction)
            bar.set_postfix_str(message, refresh=False)
            bar.refresh()

        render_evidence_video(report, path, out, max_seconds=seconds, progress=progress)
