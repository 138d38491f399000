"""The ``geoforensics`` command.

Each subcommand is a module of this package with ``register(subparsers)`` (and an ``ORDER`` int for
``--help``): adding a command is adding a module.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys

from ..errors import GeoforensicsError


def command_modules() -> list:
    """The subcommand modules, in ``--help`` order."""
    mods = [importlib.import_module(f"{__name__}.{m.name}") for m in pkgutil.iter_modules(__path__)]
    mods = [m for m in mods if hasattr(m, "register")]
    return sorted(mods, key=lambda m: (getattr(m, "ORDER", 100), m.__name__))


def build_parser() -> argparse.ArgumentParser:
    from .. import __version__

    parser = argparse.ArgumentParser(
        prog="geoforensics",
        description="Where was this recorded? Geolocate audio and images; evaluate and train geolocators.",
    )
    parser.add_argument("--version", action="version", version=f"geoforensics {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in command_modules():
        module.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except GeoforensicsError as e:
        print(f"geoforensics {args.command}: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
