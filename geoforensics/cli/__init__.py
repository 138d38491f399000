"""The ``geoforensics`` command.

Each subcommand is a module of this package with ``register(subparsers)`` (and an ``ORDER`` int for
``--help``): adding a command is adding a module.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import pkgutil
import re
import signal
import sys
import threading
from types import ModuleType

from .. import __version__
from ..errors import GeoforensicsError
from ..text import SafeFormatter, safe
from .options import check_outputs


def command_modules() -> list[ModuleType]:
    """The subcommand modules, in ``--help`` order."""
    mods = [importlib.import_module(f"{__name__}.{m.name}") for m in pkgutil.iter_modules(__path__)]
    mods = [m for m in mods if hasattr(m, "register")]
    return sorted(mods, key=lambda m: (getattr(m, "ORDER", 100), m.__name__))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="geoforensics",
        description="Where was this recorded? Geolocate audio and images; evaluate and train geolocators.",
    )
    parser.add_argument("--version", action="version", version=f"geoforensics {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in command_modules():
        module.register(sub)
    return parser


VALUES_MAY_START_WITH_A_DASH = ("--claim",)
"""Options whose value may look like an option: a southern or western "lat, lon" ("-33.9,151.2")."""
_NEGATIVE = re.compile(r"-\s*\d")


def _join_dashed_values(argv: list[str]) -> list[str]:
    """``--claim -33.9,151.2`` as ``--claim=-33.9,151.2``: argparse reads a value starting with "-" as an
    option unless it is a plain negative number."""
    out: list[str] = []
    i = 0
    while i < len(argv):
        if argv[i] in VALUES_MAY_START_WITH_A_DASH and i + 1 < len(argv) and _NEGATIVE.match(argv[i + 1]):
            out.append(f"{argv[i]}={argv[i + 1]}")
            i += 2
        else:
            out.append(argv[i])
            i += 1
    return out


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised in the main thread so that a command stops as it does on Ctrl-C: temporary folders
    removed, partial outputs dropped, earlier outputs left as they were."""


def _terminate(signum: int, frame: object) -> None:
    raise Terminated


def main(argv: list[str] | None = None) -> int:
    """Run one command. Errors meant for the user (:class:`GeoforensicsError`, and an OS error such as a
    full disk) print as one line, exit status 2; every string from outside (file names, tags, URLs,
    CSV fields, the error messages that quote them) is printed through :func:`geoforensics.text.safe`.
    Ctrl-C ends with status 130, SIGTERM with 143, both after the same clean-up."""
    if logging.lastResort is not None:  # warnings of the package, when nothing else handles them
        logging.lastResort.setFormatter(SafeFormatter())
    parser = build_parser()
    given = list(sys.argv[1:] if argv is None else argv)
    args = parser.parse_args(_join_dashed_values(given))
    args.argv = given  # the command line, for reports that say how they were made
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    handling = (threading.current_thread() is threading.main_thread()
                and signal.getsignal(signal.SIGTERM) is signal.SIG_DFL)
    if handling:
        signal.signal(signal.SIGTERM, _terminate)
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
    except Terminated:
        return 143
    except KeyboardInterrupt:
        return 130
    finally:
        if handling:
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
