"""Build ``eagle_under_music.mp4``: a Spanish Imperial Eagle heard clearly for a few seconds, then covered by music,
the masked case a user meets in films and phone videos.

The recording is XC148645 (Spain, BY-NC-SA 3.0, see ATTRIBUTION.md; the copy in this folder), the music is
written and rendered by ``benchmarks/distractors.py`` (fluidsynth with the GM font), packed as a phone video
(H.264 + AAC 128 kb/s stereo, no container tags).

    python examples/build_masked_example.py [--kind music|speech] [--level -12] [--seed 3] [--out PATH]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from benchmarks import distractors as D  # noqa: E402

CLEAR_S = 6.0
"""Seconds of bird alone before the distractor comes in (over one second)."""


def build(audio: Path, out: Path, kind: str, level_db: float, seed: int) -> Path:
    """The bird recording, clear for :data:`CLEAR_S` s, then under ``kind`` at ``level_db`` (RMS of the covered
    part), packed as H.264 + AAC 128 kb/s stereo."""
    bird = D.bird_audio(audio)
    n = len(bird)
    t = np.arange(n) / D.RATE
    ramp = np.clip(t - CLEAR_S, 0.0, 1.0)[:, None]
    noise = D.distractor(kind, n / D.RATE, seed) * ramp
    covered = t >= CLEAR_S + 1
    gain = D.rms(bird[covered]) / D.rms(noise[covered]) / 10 ** (level_db / 20)
    mix = np.stack([bird, bird], 1) + gain * noise
    return D.pack(mix * D.PEAK / np.abs(mix).max(), D.PROFILES["aac-128k-stereo"], out)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--audio", type=Path, default=HERE / "XC148645.mp3")
    ap.add_argument("--kind", choices=("music", "speech"), default="music")
    ap.add_argument("--level", type=float, default=-12.0, help="bird-to-distractor level of the covered part, dB")
    ap.add_argument("--seed", type=int, default=3)
    ap.add_argument("--out", type=Path, default=HERE / "eagle_under_music.mp4")
    args = ap.parse_args()
    print(build(args.audio, args.out, args.kind, args.level, args.seed))


if __name__ == "__main__":
    main()
