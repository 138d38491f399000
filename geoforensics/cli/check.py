"""``geoforensics check FILE --claim PLACE`` / ``check --claims CLAIMS.csv``: does the sound fit the place claimed?"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from ..dates import RecordingDate
from ..errors import GeoforensicsError, InputError
from ..evidence import gather_evidence
from ..forensics.checker import ClaimChecker, likelihood_model
from ..forensics.claims import Claim, ClaimRow, read_claims_csv, resolve_claim
from ..text import safe
from .exports import Exported, add_export_options, check_labels, recording_date, write_exports
from .options import STDOUT, open_output, shared, text_to_stdout, write_json

ORDER = 6


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "check",
        help="does a clip's soundtrack fit the place it claims? (species, mains hum, splices)",
        description=(
            "Test a claimed place against the animals heard in a clip (and its mains hum): consistent, mismatch "
            "or inconclusive, a calibrated mismatch score, and the evidence species by species. Container tags "
            "are never read. One file with --claim, or many with --claims CSV (columns file,latitude,longitude"
            "[,date]; each file is analysed once however many claims name it)."
        ),
        parents=shared("date", "max_duration", "json"),
    )
    p.add_argument("file", nargs="?", metavar="FILE", help="the audio or video file (with --claim)")
    p.add_argument("--claim", metavar="PLACE",
                   help='"lat, lon" (e.g. "22.05,-159.5") or a place name ("Lihue, Hawaii")')
    p.add_argument("--claims", metavar="CLAIMS.csv", help="many claims: columns file,latitude,longitude[,date]")
    add_export_options(p)
    p.set_defaults(func=run)


SHOWN_SPECIES = 12
"""Species listed in the text report of a claim (the JSON holds them all)."""


def format_check(c: Any) -> str:
    """The text report of one :class:`~geoforensics.forensics.claims.ClaimCheck` (untrusted text escaped)."""
    lines = [f"{safe(c.file)}: {c.verdict.upper()} for {safe(c.claim.label)} ({c.claim.source}), "
             f"mismatch score {c.mismatch_score:.3f}"]
    lines.append(f"  {safe(c.text)}")
    if c.claim.alternatives:
        lines.append(f"  other places with that name: {safe('; '.join(c.claim.alternatives))}")
    if c.evidence:
        lines.append("  species (confidence, windows, occurrence near the claim, nearest place it lives; "
                     "UNLIKELY: not expected there and then):")
        for e in c.evidence[:SHOWN_SPECIES]:
            near = f"{e.nearest_km:,.0f} km" if e.nearest_km is not None else "nowhere"
            flag = "" if e.lives_here else "  UNLIKELY"
            lines.append(f"    {e.score:.2f}  {safe(e.common_name)} ({safe(e.scientific_name)})  {e.windows} windows  "
                         f"occurrence {e.occurrence:.2f}  nearest {near}{flag}")
        if len(c.evidence) > SHOWN_SPECIES:
            rest = c.evidence[SHOWN_SPECIES:]
            lines.append(f"    ... and {len(rest)} more species heard "
                         f"({sum(not e.lives_here for e in rest)} unlikely there): see --json")
    if c.soundtrack is not None:
        lines.append(f"  soundtrack: {safe(c.soundtrack['summary'])}")
    if c.hum is not None:
        lines.append(f"  mains hum: {safe(c.hum.text)}")
    if c.splice is not None:
        lines.append(f"  splice: {safe(c.splice.text)} (score {c.splice.score:.2f})")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    _refuse_bad_arguments(args)
    check_labels(args)
    show_text = text_to_stdout(args)
    likelihood_model()
    if args.claim:
        return _check_one(args, show_text)
    return _check_csv(args, show_text)


def _refuse_bad_arguments(args: argparse.Namespace) -> None:
    """InputError unless there is either one FILE with --claim or a --claims CSV."""
    if bool(args.claims) == bool(args.claim):
        raise InputError("give one FILE with --claim PLACE, or --claims CLAIMS.csv")
    if args.claims and args.file:
        raise InputError("--claims names its files in the CSV: leave FILE out")
    if args.claim and not args.file:
        raise InputError("--claim needs the FILE to check")


def _check_one(args: argparse.Namespace, show_text: bool) -> int:
    """Check FILE against --claim: report, JSON and exports."""
    claim = resolve_claim(args.claim)
    path = Path(args.file)
    date, note = recording_date(args.date, path, args)
    evidence = gather_evidence(path, max_duration_s=args.max_duration, hum=True, content=True)
    checker = ClaimChecker.from_evidence(evidence, date=date)
    result = checker.check(claim)
    result.notes += [note] if note else []
    with open_output(args.json) as out:
        if out is not None:
            write_json(out, result.to_dict())
    if show_text:
        print(format_check(result))
    write_exports(args, [Exported(path, checker.prediction, evidence.scores, claims=[result])])
    return 0


def _check_csv(args: argparse.Namespace, show_text: bool) -> int:
    """Check every claim of the --claims CSV, each file analysed once; 1 when any file failed."""
    rows = read_claims_csv(args.claims)
    by_file: dict[Path, dict[RecordingDate | None, list[ClaimRow]]] = {}
    for r in rows:
        by_file.setdefault(r.file, {}).setdefault(r.date or recording_date(args.date, r.file, args)[0], []).append(r)
    from tqdm import tqdm  # the progress bar, for many files only

    failures = written = 0
    exported: list[Exported] = []
    with open_output(args.json) as out:
        for file, by_date in tqdm(by_file.items(), desc="checking", unit="file", file=sys.stderr):
            try:
                evidence = gather_evidence(file, max_duration_s=args.max_duration, hum=True, content=True)
                checkers = {date: ClaimChecker.from_evidence(evidence, date=date) for date in by_date}
            except (GeoforensicsError, ValueError) as e:
                failed = [r for claims in by_date.values() for r in claims]
                failures += len(failed)
                print(f"{safe(file.name)}: error: {safe(e)}", file=sys.stderr)
                for r in failed:
                    if out is not None:
                        write_json(out, {"file": str(r.file), "claim": {"lat": r.lat, "lon": r.lon, "source": "csv"},
                                         "verdict": None, "error": str(e), "line": r.line})
                continue
            results = []
            for date, claims in by_date.items():
                for r in claims:
                    result = checkers[date].check(Claim(r.lat, r.lon, "csv"))
                    result.file = str(r.file)
                    results.append(result)
                    if out is not None:
                        write_json(out, {**result.to_dict(), "line": r.line})
                        written += 1
                    if show_text:
                        tqdm.write(format_check(result), file=sys.stdout)
            exported.append(Exported(file, next(iter(checkers.values())).prediction, evidence.scores, claims=results))
    if args.json not in (None, STDOUT):
        print(f"wrote {written} checks to {args.json}", file=sys.stderr)
    if exported:
        write_exports(args, exported)
    return 1 if failures else 0
