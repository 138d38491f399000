"""Benchmark GeoCLIP image geolocation, and zero-shot text geolocation, where CLIP ViT-L/14 is present.

    .venv/bin/python benchmarks/image_geolocation.py [--images PATH:LAT:LON ...] [--out FILE]

Geolocates the Kauai photo shipped in the geoclip wheel (true location about 22.05, -159.50) and
any ``--images``, then ~20 place-name queries ("a photo of Paris", ...) with known coordinates,
once with raw CLIP text features and once rescaled to the mean norm of the images' CLIP features.
Prints the tables and writes them to ``benchmarks/results/image_geolocation.md``. Without the CLIP
weights it says how to get them and exits 0.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

KAUAI = (22.05, -159.50)
PROMPT = "a photo of {}"
# Cities at their centres; regions (marked *) at an approximate centre, so their km errors are rough.
PLACES: list[tuple[str, float, float]] = [
    ("Paris", 48.8566, 2.3522),
    ("Tokyo", 35.6762, 139.6503),
    ("New York City", 40.7128, -74.0060),
    ("Sydney", -33.8688, 151.2093),
    ("Rio de Janeiro", -22.9068, -43.1729),
    ("Cairo", 30.0444, 31.2357),
    ("Moscow", 55.7558, 37.6173),
    ("Mumbai", 19.0760, 72.8777),
    ("Cape Town", -33.9249, 18.4241),
    ("Reykjavik", 64.1466, -21.9426),
    ("Venice", 45.4408, 12.3155),
    ("Beijing", 39.9042, 116.4074),
    ("Nairobi", -1.2921, 36.8219),
    ("Buenos Aires", -34.6037, -58.3816),
    ("Istanbul", 41.0082, 28.9784),
    ("Mexico City", 19.4326, -99.1332),
    ("Honolulu", 21.3069, -157.8583),
    ("the Sahara desert*", 23.4162, 25.6628),
    ("the Amazon rainforest*", -3.4653, -62.2159),
    ("the Grand Canyon*", 36.1069, -112.1129),
    ("Mount Everest*", 27.9881, 86.9250),
]
THRESHOLDS_KM = (25, 200, 750, 2500)


def parse_image(spec: str) -> tuple[Path, float, float]:
    """``PATH:LAT:LON`` (the path may itself contain colons)."""
    path, lat, lon = spec.rsplit(":", 2)
    return Path(path), float(lat), float(lon)


def machine() -> str:
    import torch

    cpu = platform.processor() or platform.machine()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        names = [line.split(":", 1)[1].strip() for line in cpuinfo.read_text().splitlines() if line.startswith("model name")]
        cpu = names[0] if names else cpu
    return (
        f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPUs ({cpu}), "
        f"torch {torch.__version__} with {torch.get_num_threads()} threads, CPU inference"
    )


def summary(errors: list[float]) -> str:
    parts = [f"median {statistics.median(errors):,.0f} km"]
    parts += [f"<{t} km: {100 * sum(e < t for e in errors) / len(errors):.0f}%" for t in THRESHOLDS_KM]
    return ", ".join(parts)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--images", nargs="*", default=[], metavar="PATH:LAT:LON", help="more images with true locations")
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "image_geolocation.md")
    args = ap.parse_args(argv)

    from geoforensics.geolocators.image import ImageGeolocator

    ok, message = ImageGeolocator.available()
    if not ok:
        print("CLIP ViT-L/14 weights not present: run `geoforensics weights fetch clip-vit-l-14-openai`")
        print(f"({message})")
        return 0

    from geoforensics.geolocators.image import load_images
    from geoforensics.geolocators.text import TextGeolocator
    from geoforensics.paths import package_dir

    images = [(package_dir("geoclip") / "images" / "Kauai.png", *KAUAI)] + [parse_image(s) for s in args.images]
    t = time.perf_counter()
    locator = ImageGeolocator()
    load_s = time.perf_counter() - t
    t = time.perf_counter()
    locator.gallery_embeddings()
    gallery_s = time.perf_counter() - t

    lines = [
        "# Image and text geolocation (GeoCLIP + CLIP ViT-L/14)",
        "",
        f"Machine: {machine()}. Gallery: GeoCLIP 100K. Model load {load_s:.1f} s; gallery embeddings "
        f"{gallery_s:.1f} s (computed once, then read from the disk cache).",
        "",
        "## Images",
        "",
        "| image | true (lat, lon) | predicted (lat, lon) | error km | top-1 prob | s / frame | place |",
        "| --- | --- | --- | ---: | ---: | ---: | --- |",
    ]
    img_errors, norms = [], []
    for path, lat, lon in images:
        pred = locator.predict(path)
        err = pred.distance_to(lat, lon)
        img_errors.append(err)
        norms.append(float(locator.clip.image_features(load_images(path)).norm(dim=1).mean()))
        place = pred.top_k[0].place if pred.top_k else ""
        lines.append(
            f"| {path.name} | {lat:.3f}, {lon:.3f} | {pred.lat:.3f}, {pred.lon:.3f} | {err:,.0f} | "
            f"{pred.top_k[0].prob:.4f} | {pred.timings['encode_per_item_s']:.2f} | {place} |"
        )
    lines += ["", f"Images: {summary(img_errors)}.", ""]

    image_norm = statistics.mean(norms)
    variants = [("raw text features", None), (f"rescaled to the images' mean CLIP norm ({image_norm:.2f})", image_norm)]
    lines += [
        "## Text queries (zero-shot: CLIP text features through GeoCLIP's image head)",
        "",
        f'Prompt: "{PROMPT.format("PLACE")}". * = region, scored against an approximate centre.',
        "",
        "| query | true (lat, lon) | " + " | ".join(f"error km, {name}" for name, _ in variants) + " |",
        "| --- | --- | " + " | ".join("---:" for _ in variants) + " |",
    ]
    errors: dict[str, list[float]] = {name: [] for name, _ in variants}
    rows: dict[str, list[str]] = {p[0]: [] for p in PLACES}
    for name, norm in variants:
        text = TextGeolocator(
            clip=locator.clip, location_encoder=locator.location_encoder, head=locator.head, feature_norm=norm
        )
        for place, lat, lon in PLACES:
            pred = text.predict(PROMPT.format(place.rstrip("*")))
            err = pred.distance_to(lat, lon)
            errors[name].append(err)
            rows[place].append(f"{err:,.0f} ({pred.lat:.1f}, {pred.lon:.1f})")
    for place, lat, lon in PLACES:
        lines.append(f"| {place} | {lat:.2f}, {lon:.2f} | " + " | ".join(rows[place]) + " |")
    lines.append("")
    for name, _ in variants:
        lines.append(f"Text, {name}: {summary(errors[name])}.")
    lines.append("")

    report = "\n".join(lines)
    print(report)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(report)
    print(f"written to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
