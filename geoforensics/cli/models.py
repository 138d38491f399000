"""``geoforensics models``: the registered geolocators (names for ``--model``)."""

from __future__ import annotations

import argparse

from ..geolocators import list_geolocators
from .options import emit_json, shared, text_to_stdout

ORDER = 40


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "models", help="list the geolocators usable with --model", description=__doc__, parents=shared("json")
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    names = list_geolocators()
    emit_json(args.json, names, indent=1)
    if text_to_stdout(args):
        width = max(map(len, names))
        for name, desc in names.items():
            print(f"{name:<{width}}  {desc}")
    return 0
