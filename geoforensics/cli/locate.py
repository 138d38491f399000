"""``geoforensics locate FILE...``: where were these recordings made?"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from ..api import locate
from ..defaults import PRIOR
from ..errors import GeoforensicsError, InputError
from ..evaluation.evaluate import PointsWriter
from ..evidence import gather_evidence
from ..media.limits import expand_inputs
from ..prediction import GeoPrediction
from ..text import safe
from .exports import Exported, add_export_options, check_labels, recording_date, write_exports
from .options import STDOUT, open_output, shared, text_to_stdout, write_json

ORDER = 10


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "locate",
        help="geolocate audio or video files from the animal sounds in them",
        description="Geolocate recordings from the species heard in them. Container tags (ID3, GPS) are never read.",
        parents=shared("date", "top_k", "model", "gallery", "max_duration", "prior", "prior_weight", "json", "csv"),
    )
    p.add_argument("files", nargs="+", metavar="FILE", help="audio/video files or folders (searched recursively)")
    p.add_argument("--surface", choices=["none", "sparse", "full"], default="sparse",
                   help="probability surface in --json")
    add_export_options(p)
    p.set_defaults(func=run)


def geolocator_options(args: argparse.Namespace) -> dict[str, Any]:
    """The geolocator options of ``locate``'s command line (``--gallery``, ``--prior``)."""
    options: dict[str, Any] = {"gallery": args.gallery}
    if args.prior is not None or args.prior_weight is not None:
        options.update(prior=args.prior or PRIOR, prior_weight=args.prior_weight)
    return options


def format_prediction(path: Path, pred: GeoPrediction) -> str:
    """A short human-readable report of one prediction (every name in it passed through
    :func:`geoforensics.text.safe`)."""
    lines = [f"{safe(path.name)}: {pred.lat:.3f}, {pred.lon:.3f}"]
    if pred.top_k:
        lines[0] += f"  ({safe(pred.top_k[0].place)})"
    r50, r90 = pred.region(0.5), pred.region(0.9)
    conf = f"{pred.confidence:.2f}" if pred.confidence is not None else "n/a"
    lines.append(f"  confidence {pred.confidence_label} ({conf})"
                 + (f"; 50% within {r50.radius_km:,.0f} km, 90% within {r90.radius_km:,.0f} km" if r50 and r90 else ""))
    for note in pred.notes:
        lines.append(f"  note: {safe(note)}")
    if pred.top_k:
        lines.append("  candidates:")
        for i, c in enumerate(pred.top_k, 1):
            lines.append(f"    {i}. {c.lat:7.2f} {c.lon:8.2f}  p={c.prob:.3f}  {safe(c.place)}")
    if pred.evidence:
        lines.append("  species evidence (score, windows heard, km the guess moves without it):")
        for e in pred.evidence:
            shift = f"{e.shift_km:,.0f} km" if e.shift_km is not None else "-"
            lines.append(f"    {e.score:.2f}  {safe(e.common_name)} ({safe(e.scientific_name)})  "
                         f"{len(e.windows)} windows  {shift}")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    check_labels(args)
    files = expand_inputs(args.files)
    exported: list[Exported] = []
    show_text = text_to_stdout(args)
    options = geolocator_options(args)
    done = failures = 0
    many = len(files) > 1
    iterator = files
    if many:
        from tqdm import tqdm

        iterator = tqdm(files, desc="locating", unit="file", file=sys.stderr)
    with open_output(args.json) as json_out, open_output(args.csv) as csv_out:
        rows: PointsWriter | None = None
        for path in iterator:
            try:
                date, note = recording_date(args.date, path, args)
                evidence = gather_evidence(path, max_duration_s=args.max_duration)
                pred = locate(evidence, date=date, model=args.model, top_k=args.top_k, max_duration_s=args.max_duration,
                              **options)
                pred.notes += [note] if note else []
            except (GeoforensicsError, ValueError) as e:
                if not many:
                    raise InputError(str(e)) from None
                failures += 1
                print(f"{safe(path.name)}: error: {safe(e)}", file=sys.stderr)
                continue
            if json_out:
                write_json(json_out, {**pred.to_dict(surface=args.surface), "file": str(path)})
            if show_text:
                print(format_prediction(path, pred), flush=True)
            if csv_out:
                rows = rows or PointsWriter(csv_out)
                rows.write(path.stem, pred.lat, pred.lon)
            exported.append(Exported(path, pred, evidence.scores))
            done += 1
        if csv_out and rows is None:
            PointsWriter(csv_out)  # nothing located: the header alone
    if exported:
        write_exports(args, exported)
    for dest, what in ((args.json, "JSON lines"), (args.csv, "predictions")):
        if dest not in (None, STDOUT):
            print(f"wrote {done} {what} to {safe(dest)}", file=sys.stderr)
    return 1 if failures else 0
