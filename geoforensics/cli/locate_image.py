"""``geoforensics locate-image IMAGE...`` and ``geoforensics locate-text TEXT...`` (GeoCLIP)."""

from __future__ import annotations

import argparse
import re
import sys
from typing import Any

from ..errors import InputError
from ..text import safe
from .options import STDOUT, open_output, shared, text_to_stdout, write_json

ORDER = 20


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--point-method", default="argmax", help="point estimate: argmax (default) or topk_mean:K"
    )
    parser.add_argument(
        "--surface",
        choices=("none", "sparse", "full"),
        default="none",
        help="with --json, include the probability surface: none (default), sparse (99.9%% of the mass) or full",
    )


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = subparsers.add_parser(
        "locate-image",
        help="where was this photo taken? (GeoCLIP; needs the CLIP ViT-L/14 weights)",
        description="Geolocate images with GeoCLIP over its 100K-point gallery. Needs CLIP ViT-L/14: "
        "run `geoforensics weights fetch clip-vit-l-14-openai` once.",
        parents=shared("top_k", "json"),
    )
    p.add_argument("images", nargs="+", metavar="IMAGE", help="image files (JPEG, PNG, ...)")
    p.add_argument(
        "--combine",
        action="store_true",
        help="treat the images as frames of one scene and give one combined prediction",
    )
    p.add_argument(
        "--aggregate",
        choices=("mean_probs", "mean_embedding"),
        default="mean_probs",
        help="how --combine merges frames (default mean_probs)",
    )
    _common(p)
    p.set_defaults(func=run_image)

    t = subparsers.add_parser(
        "locate-text",
        help='where does a description point? e.g. "a rainforest" (GeoCLIP; zero-shot, unmeasured)',
        description="Geolocate a text through CLIP's text encoder and GeoCLIP's image head (zero-shot "
        "transfer). Needs CLIP ViT-L/14: run `geoforensics weights fetch clip-vit-l-14-openai` once.",
        parents=shared("top_k", "json"),
    )
    t.add_argument("texts", nargs="+", metavar="TEXT", help="one or more descriptions, each located on its own")
    _common(t)
    t.set_defaults(func=run_text)


def make_image_geolocator(**options: Any) -> Any:
    """An ``ImageGeolocator`` with ``options`` (``aggregate``, ``point_method``; a seam for tests)."""
    from ..geolocators.image import ImageGeolocator  # lazy: loads PIL, torch

    return ImageGeolocator(**options)


def make_text_geolocator(**options: Any) -> Any:
    """A ``TextGeolocator`` with ``options`` (``point_method``; a seam for tests)."""
    from ..geolocators.text import TextGeolocator  # lazy: loads PIL, torch

    return TextGeolocator(**options)


def _print(label: str, pred: Any) -> None:
    where = safe(pred.top_k[0].place) if pred.top_k else ""
    print(f"{safe(label)}: {pred.lat:.4f}, {pred.lon:.4f}  {where}")
    for i, c in enumerate(pred.top_k, 1):
        print(f"  {i}. {c.lat:9.4f} {c.lon:10.4f}  p={c.prob:.4f}  {safe(c.place)}")
    for r in pred.regions:
        print(f"  {int(r.mass * 100)}% of the probability within {r.radius_km:,.0f} km")
    for note in pred.notes:
        print(f"  note: {safe(note)}")


def _check(args: argparse.Namespace) -> None:
    if not re.fullmatch(r"argmax|topk_mean(:[1-9][0-9]*)?", args.point_method):
        raise InputError(f"--point-method must be argmax or topk_mean:K, not {safe(args.point_method)!r}")


def _run(args: argparse.Namespace, inputs: list[tuple[str, Any]], locator: Any) -> int:
    """Locate each (label, input) and report it; JSON lines go where ``--json`` says."""
    show_text = text_to_stdout(args)
    with open_output(args.json) as json_out:
        for label, item in inputs:
            pred = locator.predict(item, k=args.top_k)
            if json_out is not None:
                write_json(json_out, {**pred.to_dict(surface=args.surface), "input": label})
            if show_text:
                _print(label, pred)
    if args.json not in (None, STDOUT):
        print(f"wrote {len(inputs)} JSON lines to {safe(args.json)}", file=sys.stderr)
    return 0


def run_image(args: argparse.Namespace) -> int:
    _check(args)
    locator = make_image_geolocator(aggregate=args.aggregate, point_method=args.point_method)
    if args.combine:
        return _run(args, [(" + ".join(args.images), args.images)], locator)
    return _run(args, [(path, path) for path in args.images], locator)


def run_text(args: argparse.Namespace) -> int:
    _check(args)
    return _run(args, [(text, text) for text in args.texts], make_text_geolocator(point_method=args.point_method))
