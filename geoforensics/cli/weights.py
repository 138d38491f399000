"""``geoforensics weights list`` and ``geoforensics weights fetch NAME [--from FILE]``."""

from __future__ import annotations

import argparse

from ..text import safe
from ..weights import fetch, list_weights, offer, weights_dir
from .options import emit_json, shared, text_to_stdout

ORDER = 90


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "weights",
        help="list model weights, download them, or import a file downloaded elsewhere",
        description="Every model file geoforensics reads (what it ships and what can be fetched), with its "
        "checksum. Nothing downloads unless you run `weights fetch`.",
    )
    actions = parser.add_subparsers(dest="weights_action", metavar="ACTION", required=True)
    p_list = actions.add_parser("list", help="every weights entry, its status and where it is", parents=shared("json"))
    p_list.set_defaults(func=run_list)
    p_fetch = actions.add_parser(
        "fetch",
        help="download NAME (or import it with --from), verify its SHA-256 and put it in the weights folder",
        description="Download weights into the weights folder ($GEOFORENSICS_WEIGHTS, default "
        "~/.cache/geoforensics/weights) and verify size and SHA-256 before keeping them.",
    )
    p_fetch.add_argument("name", help="a name from `geoforensics weights list`")
    p_fetch.add_argument("--from", dest="from_file", metavar="FILE",
                         help="import this file instead of downloading (verified)")
    p_fetch.add_argument("--quiet", action="store_true", help="no progress output")
    p_fetch.set_defaults(func=run_fetch)
    p_offer = actions.add_parser(
        "offer",
        help="if NAME is absent, offer once to download it (asks on a terminal, else prints the command)",
        description="For a first start (./run.sh app): when NAME is absent and stdin is a terminal, ask once "
        "whether to download it (default no; a no is remembered and not asked again); otherwise print the "
        "command that fetches it. Never downloads without a yes.",
    )
    p_offer.add_argument("name", help="a name from `geoforensics weights list`")
    p_offer.add_argument("--why", default="", help="what the weights enable, shown in the question")
    p_offer.set_defaults(func=run_offer)


def run_list(args: argparse.Namespace) -> int:
    rows = list_weights()
    emit_json(args.json, rows, indent=2)
    if not text_to_stdout(args):
        return 0
    width = max(len(r["name"]) for r in rows)
    print(f"weights folder: {safe(weights_dir())}")
    print(f"{'NAME':<{width}}  {'STATUS':<8}  {'SIZE':>9}  LICENCE / DESCRIPTION")
    for r in rows:
        print(f"{r['name']:<{width}}  {r['status']:<8}  {r['size_bytes'] / 1e6:7.1f} MB  {r['licence']}")
        print(f"{'':<{width}}  {'':<8}  {'':>9}  {r['description']}")
        if r["status"] in ("present", "package", "shipped", "corrupt"):
            print(f"{'':<{width}}  {'':<8}  {'':>9}  {safe(r['path'])}")
        if r["pretrained"]:
            print(f"{'':<{width}}  {'':<8}  {'':>9}  use it: --model {r['pretrained']}")
        elif r["source"] == "url":
            print(f"{'':<{width}}  {'':<8}  {'':>9}  get it: geoforensics weights fetch {r['name']}")
    return 0


def run_fetch(args: argparse.Namespace) -> int:
    path = fetch(args.name, progress=not args.quiet, from_file=args.from_file)
    print(f"{safe(args.name)}: verified, at {safe(path)}")
    return 0


def run_offer(args: argparse.Namespace) -> int:
    offer(args.name, why=f" ({args.why})" if args.why else "")
    return 0
