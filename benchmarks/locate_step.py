"""The locating step alone: BirdNET window scores in, the whole result object out (ranges, prior,
point, regions, evidence, per-window guesses), timed over xc-dev's clips.

    .venv/bin/python benchmarks/locate_step.py [--data ../shared/data/xc-dev] [--repeats 3]

Scores come from the package's scores cache (computed once on the first run), so decoding and BirdNET
are left out: this isolates what ``SpeciesRangeGeolocator.predict_from_scores`` costs per minute of
audio. Best of ``--repeats`` passes over all clips, after a warm-up.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.machine import machine, save_results  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", default=str(ROOT.parent / "shared" / "data" / "xc-dev"), help="folder with labels.csv")
    ap.add_argument("--repeats", type=int, default=3, help="passes over the clips; the fastest is reported")
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "locate_step"), help="output path stem")
    args = ap.parse_args(argv)

    from geoforensics.data import open_dataset
    from geoforensics.evidence import cached_scores
    from geoforensics.geolocators.species_ranges import SpeciesRangeGeolocator

    scores = [cached_scores(r.audio_path) for r in open_dataset(args.data)]
    geo = SpeciesRangeGeolocator()
    for ws in scores[:3]:
        geo.predict_from_scores(ws)
    passes = []
    for _ in range(max(1, args.repeats)):
        t0 = time.perf_counter()
        for ws in scores:
            geo.predict_from_scores(ws)
        passes.append(time.perf_counter() - t0)
    minutes = sum(ws.duration_s for ws in scores) / 60
    best = min(passes)
    text = "\n".join([
        "# The locating step: window scores in, result object out",
        "",
        f"Command: `{' '.join(['python', 'benchmarks/locate_step.py', *(sys.argv[1:] if argv is None else argv)])}`",
        f"Machine: {machine()}",
        "",
        f"- {len(scores)} clips, {minutes:.1f} min of audio; passes: {', '.join(f'{p:.2f} s' for p in passes)}",
        f"- best pass: {best:.2f} s, {best / minutes:.3f} s per audio-minute, "
        f"{1000 * best / len(scores):.0f} ms per clip",
    ])
    save_results(Path(args.out), text, {"clips": len(scores), "minutes": minutes, "passes_s": passes,
                                        "s_per_audio_minute": best / minutes})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
