"""Evidence-video render time and size: the two shipped examples and a 60 s clip.

    .venv/bin/python benchmarks/evidence_video.py [--data ../shared/data/xc-dev] [--repeats 2]

Clips:
- the flagship example (Kauai picture, Swedish Blue Tit soundtrack) claimed to be "Lihue, Kauai, Hawaii";
- the matched example, XC148645.mp3 (audio only) claimed to be "Plasencia, Spain";
- a 60 s video: ffmpeg's ``testsrc2`` picture at 1280 x 720, 30 fps (H.264), with the first 60 s of the
  first xc-dev recording of 65 s or more as its AAC soundtrack, no claim.

Each clip is analysed once (``analyze_media``, timed apart), then ``render_evidence_video`` writes its
evidence video (defaults: 1280 x 720, 12 fps, the first 120 s, a 6 s closing card) ``--repeats`` times;
the table gives the fastest and slowest render, the output size and how the audio was written. The load
average (1 min) is read before and after each clip: the machine is shared, so a load above its core
count slows the figures down.
"""

from __future__ import annotations

import argparse
import os
import shlex
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.machine import machine, save_results  # noqa: E402


def sixty_second_clip(data: Path, folder: Path) -> tuple[Path, str]:
    """The generated 60 s video and the recording its sound comes from."""
    from geoforensics.ffmpeg import ffmpeg_exe, probe

    audio = next(p for p in sorted((data / "audio").glob("*.mp3")) if (probe(p).duration_s or 0) >= 65)
    out = folder / "sixty_seconds.mp4"
    subprocess.run(
        [ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-y",
         "-f", "lavfi", "-i", "testsrc2=size=1280x720:rate=30:duration=60",
         "-t", "60", "-i", str(audio), "-map", "0:v", "-map", "1:a", "-map_metadata", "-1",
         "-c:v", "libx264", "-preset", "veryfast",
         "-c:a", "aac", "-b:a", "128k", "-shortest", str(out)],
        check=True,
    )
    return out, audio.name


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", default=str(ROOT.parent / "shared" / "data" / "xc-dev"),
                    help="xc-dev folder (for the 60 s clip's sound)")
    ap.add_argument("--repeats", type=int, default=2, help="renders per clip (default 2)")
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "evidence_video"), help="output path stem")
    args = ap.parse_args()

    from geoforensics.forensics.analysis import analyze_media
    from geoforensics.viz.evidence import render_evidence_video

    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-evidence-") as tmp:
        folder = Path(tmp)
        sixty, sound = sixty_second_clip(Path(args.data), folder)
        clips = [
            ("flagship: kauai_with_european_birds.mp4, claim Lihue",
             ROOT / "examples" / "kauai_with_european_birds.mp4", "Lihue, Kauai, Hawaii"),
            ("matched: XC148645.mp3 (audio only), claim Plasencia", ROOT / "examples" / "XC148645.mp3",
             "Plasencia, Spain"),
            (f"60 s video (testsrc2 1280x720 30 fps + {sound})", sixty, None),
        ]
        for name, path, claim in clips:
            load_before = os.getloadavg()[0]
            t0 = time.perf_counter()
            report = analyze_media(path, claim=claim)
            analysis_s = time.perf_counter() - t0
            renders = []
            for i in range(args.repeats):
                video = render_evidence_video(report, path, folder / f"out{i}.mp4")
                renders.append(video)
            load_after = os.getloadavg()[0]
            times = [v.render_s for v in renders]
            v = renders[-1]
            rows.append({
                "clip": name, "verdict": report.verdict.level, "clip_s": v.clip_s, "video_s": v.duration_s,
                "frames": round(v.duration_s * v.fps),
                "analysis_s": analysis_s, "render_s_min": min(times), "render_s_max": max(times),
                "mb": v.size_bytes / 1e6, "audio": v.audio,
                "load_before": load_before, "load_after": load_after,
            })
            print(f"{name}: render {min(times):.1f}-{max(times):.1f} s, {v.size_bytes / 1e6:.2f} MB, "
                  f"load {load_before:.2f} -> {load_after:.2f}",
                  file=sys.stderr)

    head = ("| clip | verdict | clip shown (s) | video (s, with card) | frames | analysis (s) "
            "| render (s), fastest / slowest | output (MB) | audio | load avg before / after |")
    lines = [
        "# Evidence video: render time and size",
        "",
        f"Command: `{shlex.join(['python', 'benchmarks/evidence_video.py', *sys.argv[1:]])}`",
        f"Machine: {machine()}",
        f"Renders per clip: {args.repeats}; video 1280 x 720, 12 fps, libx264 veryfast; "
        "a 6 s closing card follows the clip.",
        "Analysis (BirdNET, claims; no CLIP weights here) is timed apart and is not part of the render time.",
        "",
        head,
        "|" + "---|" * head.count(" | ") + "---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['clip']} | {r['verdict']} | {r['clip_s']:.1f} | {r['video_s']:.1f} | {r['frames']} | "
            f"{r['analysis_s']:.1f} | {r['render_s_min']:.1f} / {r['render_s_max']:.1f} | {r['mb']:.2f} | "
            f"{r['audio']} | {r['load_before']:.2f} / {r['load_after']:.2f} |"
        )
    text = "\n".join(lines) + "\n"
    save_results(args.out, text, {"machine": machine(), "repeats": args.repeats, "clips": rows})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
