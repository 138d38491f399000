"""``geoforensics models``: the registered geolocators (names for ``--model``)."""

from __future__ import annotations

import argparse
import json

ORDER = 40


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("models", help="list the geolocators usable with --model", description=__doc__)
    p.add_argument("--json", action="store_true", help="print a JSON object name -> description")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..geolocators import list_geolocators

    names = list_geolocators()
    if args.json:
        print(json.dumps(names, indent=1))
    else:
        width = max(map(len, names))
        for name, desc in names.items():
            print(f"{name:<{width}}  {desc}")
    return 0
