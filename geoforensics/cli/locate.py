"""``geoforensics locate FILE...``: where were these recordings made?"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from pathlib import Path

from ..errors import GeoforensicsError, InputError

ORDER = 10
MEDIA_EXTS = {".wav", ".mp3", ".flac", ".ogg", ".oga", ".opus", ".m4a", ".aac", ".mp4", ".mov", ".webm", ".mkv", ".avi", ".m4v"}


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "locate",
        help="geolocate audio or video files from the animal sounds in them",
        description="Geolocate recordings from the species heard in them. Container tags (ID3, GPS) are never read.",
    )
    p.add_argument("files", nargs="+", metavar="FILE", help="audio/video files or folders (searched recursively)")
    p.add_argument("--date", help="recording date YYYY-MM-DD or YYYY-MM (optional; sharpens species ranges)")
    p.add_argument("--top-k", type=int, default=5, help="candidate places to list (default 5)")
    p.add_argument("--model", default="species-ranges", help="geolocator name (see `geoforensics models`)")
    p.add_argument("--gallery", default=None, help="candidate locations, e.g. land-1, land-0.5, uniform-1, csv:PATH")
    p.add_argument(
        "--prior",
        choices=["inat-test-density"],
        help="opt-in prior on where recordings are made (helps busy regions, hurts rarely recorded ones)",
    )
    p.add_argument("--prior-weight", type=float, default=0.5, help="strength of --prior (default 0.5)")
    p.add_argument("--max-duration", type=float, default=600.0, help="seconds of audio analysed per file (default 600)")
    p.add_argument("--json", action="store_true", help="print one JSON object per file (JSON lines) with everything")
    p.add_argument("--surface", choices=["none", "sparse", "full"], default="sparse", help="probability surface in --json")
    p.add_argument("--csv", metavar="OUT.csv", help="write audio_id,latitude,longitude (the benchmark's prediction format)")
    p.set_defaults(func=run)


def expand_inputs(items: list[str]) -> list[Path]:
    """Files as given, and media files inside folders (sorted)."""
    out: list[Path] = []
    for item in items:
        p = Path(item)
        if p.is_dir():
            found = sorted(f for f in p.rglob("*") if f.is_file() and f.suffix.lower() in MEDIA_EXTS)
            if not found:
                raise InputError(f"no audio or video files in folder {p}")
            out.extend(found)
        elif p.exists():
            out.append(p)
        else:
            raise InputError(f"no such file: {p}")
    return out


def format_prediction(path: Path, pred) -> str:
    """A short human-readable report of one prediction."""
    lines = [f"{path.name}: {pred.lat:.3f}, {pred.lon:.3f}"]
    if pred.top_k:
        lines[0] += f"  ({pred.top_k[0].place})"
    r50, r90 = pred.region(0.5), pred.region(0.9)
    conf = f"{pred.confidence:.2f}" if pred.confidence is not None else "n/a"
    lines.append(f"  confidence {pred.confidence_label} ({conf})" + (f"; 50% within {r50.radius_km:,.0f} km, 90% within {r90.radius_km:,.0f} km" if r50 and r90 else ""))
    for note in pred.notes:
        lines.append(f"  note: {note}")
    if pred.top_k:
        lines.append("  candidates:")
        for i, c in enumerate(pred.top_k, 1):
            lines.append(f"    {i}. {c.lat:7.2f} {c.lon:8.2f}  p={c.prob:.3f}  {c.place}")
    if pred.evidence:
        lines.append("  species evidence (score, windows heard, km the guess moves without it):")
        for e in pred.evidence:
            shift = f"{e.shift_km:,.0f} km" if e.shift_km is not None else "-"
            lines.append(f"    {e.score:.2f}  {e.common_name} ({e.scientific_name})  {len(e.windows)} windows  {shift}")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    from ..api import locate

    files = expand_inputs(args.files)
    options: dict = {}
    if args.gallery:
        options["gallery"] = args.gallery
    if args.prior:
        options.update(prior=args.prior, prior_weight=args.prior_weight)
    rows, failures = [], 0
    many = len(files) > 1
    iterator = files
    if many:
        from tqdm import tqdm

        iterator = tqdm(files, desc="locating", unit="file", file=sys.stderr)
    for path in iterator:
        try:
            pred = locate(path, date=args.date, model=args.model, top_k=args.top_k, max_duration_s=args.max_duration, **options)
        except (GeoforensicsError, ValueError) as e:
            if not many:
                raise InputError(str(e)) from None
            failures += 1
            print(f"{path.name}: error: {e}", file=sys.stderr)
            continue
        if args.json:
            d = pred.to_dict(surface=args.surface)
            d["file"] = str(path)
            print(json.dumps(d), flush=True)
        else:
            print(format_prediction(path, pred), flush=True)
        rows.append((path.stem, pred.lat, pred.lon))
    if args.csv:
        with open(args.csv, "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(["audio_id", "latitude", "longitude"])
            for audio_id, lat, lon in rows:
                w.writerow([audio_id, f"{lat:.6f}", f"{lon:.6f}"])
        print(f"wrote {len(rows)} predictions to {args.csv}", file=sys.stderr)
    return 1 if failures else 0
