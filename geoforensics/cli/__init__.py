"""The ``geoforensics`` command.

Each subcommand is a module of this package with ``register(subparsers)`` (and an ``ORDER`` int for
``--help``): adding a command is adding a module.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import pkgutil
import sys

from ..errors import GeoforensicsError
from ..text import SafeFormatter, safe
from .options import check_outputs


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
    """Run one command. Errors meant for the user (:class:`GeoforensicsError`, and an OS error such as a
    full disk) print as one line, exit status 2; every string from outside (file names, tags, URLs,
    CSV fields, the error messages that quote them) is printed through :func:`geoforensics.text.safe`."""
    if logging.lastResort is not None:  # warnings of the package, when nothing else handles them
        logging.lastResort.setFormatter(SafeFormatter())
    parser = build_parser()
    args = parser.parse_args(argv)
    args.argv = list(sys.argv[1:] if argv is None else argv)  # the command line, for reports that say how they were made
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        check_outputs(args)
        return int(args.func(args) or 0)
    except GeoforensicsError as e:
        print(f"geoforensics {args.command}: error: {safe(e)}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        return 141  # the reader of our output went away (e.g. `| head`)
    except OSError as e:
        where = f" ({e.filename})" if e.filename else ""
        print(f"geoforensics {args.command}: error: {safe(f'{e.strerror or e}{where}')}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
