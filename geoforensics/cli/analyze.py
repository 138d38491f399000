"""``geoforensics analyze FILE|URL``: does this soundtrack belong to the place shown?"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
from pathlib import Path

from ..media.limits import MediaLimits
from .options import STDOUT, number, open_output, output_file, shared, text_to_stdout, write_json
from .text import safe

ORDER = 5

_URL_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]+:")
"""A source that starts like this and is no file is a URL (``data:...``, ``javascript:...``): the URL policy refuses it."""


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "analyze",
        help="forensic check of a video or audio clip: where the sound points vs where the picture points",
        description=(
            "Geolocate a clip's soundtrack (species heard) and its video frames (CLIP/GeoCLIP, when the "
            "weights are present), compare them, and report the discrepancy. Container metadata is shown, "
            "never used."
        ),
        parents=shared("date", "model", "max_duration", "json"),
    )
    p.add_argument("source", metavar="FILE|URL", help="a local audio/video file or an http(s) URL (fetched with yt-dlp)")
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
    p.set_defaults(func=run)


def format_report(report) -> str:
    """Plain-text summary of a :class:`~geoforensics.forensics.analysis.ForensicReport`."""
    from .locate import format_prediction

    lines = [f"{safe(report.source)}: {safe(report.verdict.text)}"]
    if report.audio:
        lines.append("audio: " + format_prediction(Path(report.source), report.audio).split(": ", 1)[1])
    status = safe(report.image_status)
    lines.append(f"image: {status}" if report.image is None else f"image: {report.image.lat:.3f}, {report.image.lon:.3f} ({status})")
    if report.metadata:
        lines.append("container metadata (display only, never used by the predictions):")
        lines += [f"  {safe(k)}: {safe(_shown(v))}" for k, v in report.metadata.items()]
    return "\n".join(lines)


def _shown(value) -> str:
    """A metadata value as text: the tag dict of ``other`` one ``key=value`` after another."""
    if isinstance(value, dict):
        return "; ".join(f"{k}={v}" for k, v in value.items())
    return str(value)


def run(args: argparse.Namespace) -> int:
    from ..forensics.analysis import analyze_media

    show_text = text_to_stdout(args)
    with open_output(args.json) as json_out:  # opened first: a bad destination fails before any work
        with tempfile.TemporaryDirectory(prefix="geoforensics-") as tmp:
            source = args.source
            if "://" in source or (not Path(source).exists() and _URL_SCHEME.match(source)):
                from ..media.fetch import fetch_url

                path = fetch_url(source, Path(tmp))
            else:
                path = Path(source)
            report = analyze_media(
                path,
                date=args.date,
                frame_every_s=args.frame_every,
                max_frames=args.max_frames,
                max_duration_s=args.max_duration,
                audio_model=args.model,
            )
        if show_text:
            print(format_report(report))
        if json_out is not None:
            write_json(json_out, report.to_dict(), indent=1)
    if args.json not in (None, STDOUT):
        print(f"wrote {safe(args.json)}", file=sys.stderr)
    if args.html:
        from ..viz import prediction_map, write_standalone_html

        fig = prediction_map(report.audio, report.image, title=f"{report.source}: {report.verdict.text}")
        write_standalone_html(fig, args.html, title=f"geoforensics: {report.source}")
        print(f"wrote {safe(args.html)}", file=sys.stderr)
    return 0
