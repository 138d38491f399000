"""Build ``kauai_with_european_birds.mp4``: a still of Kauai (Hawaii) over 20 s of a Swedish
Blue Tit recording, a soundtrack that does not belong to its picture.

The photo ships in the ``geoclip`` wheel (found by path; geoclip is not imported), the recording is
XC169301 from the xc-dev set (BY-NC-SA 3.0, see ATTRIBUTION.md). Uses imageio-ffmpeg's ffmpeg.

    python examples/build_demo_video.py [--audio PATH] [--out PATH]
"""

from __future__ import annotations

import argparse
import importlib.util
import subprocess
from pathlib import Path

HERE = Path(__file__).resolve().parent
DEFAULT_AUDIO = Path("/work/shared/data/xc-dev/audio/XC169301.mp3")
DEFAULT_OUT = HERE / "kauai_with_european_birds.mp4"
SECONDS = 20


def kauai_photo() -> Path:
    """The Kauai photo inside the installed geoclip package."""
    spec = importlib.util.find_spec("geoclip")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("geoclip is not installed: it ships the Kauai photo (pip install geoclip)")
    path = Path(spec.submodule_search_locations[0]) / "images" / "Kauai.png"
    if not path.is_file():
        raise SystemExit(f"{path} not found")
    return path


def build(audio: Path, out: Path, seconds: int = SECONDS) -> Path:
    """Encode the still and the first ``seconds`` of ``audio`` into ``out`` (no container tags)."""
    import imageio_ffmpeg

    cmd = [
        imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-y",
        "-loop", "1", "-framerate", "2", "-i", str(kauai_photo()),
        "-i", str(audio),
        "-t", str(seconds),
        "-c:v", "libx264", "-tune", "stillimage", "-preset", "veryslow", "-crf", "30", "-r", "2",
        "-pix_fmt", "yuv420p", "-vf", "scale=640:-2",
        "-c:a", "aac", "-b:a", "96k",
        "-shortest", "-map_metadata", "-1", "-movflags", "+faststart",
        str(out),
    ]  # fmt: skip
    subprocess.run(cmd, check=True)
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--audio", type=Path, default=DEFAULT_AUDIO, help="a European recording (default XC169301.mp3)")
    p.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = p.parse_args()
    out = build(args.audio, args.out)
    print(f"wrote {out} ({out.stat().st_size / 1e6:.2f} MB)")


if __name__ == "__main__":
    main()
