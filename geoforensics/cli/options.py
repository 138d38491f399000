"""Options several subcommands share, declared once as argparse parent parsers, and where their output goes.

``parser.add_parser(name, parents=shared("date", "json", ...))`` gives a subcommand the same option,
default (from ``geoforensics.defaults``) and help as every other command that takes it.

``--json [OUT]`` and ``--csv OUT`` write to the file OUT, or to standard output for ``-`` (and for a
bare ``--json``), in which case the command's text report is left out.
"""

from __future__ import annotations

import argparse
import json
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, Iterator, TextIO

from ..defaults import AUDIO_MODEL, GALLERY, MAX_DURATION_S, TOP_K
from ..errors import InputError

STDOUT = "-"


def _positive(kind: type) -> Callable[[str], Any]:
    def parse(text: str) -> Any:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
        if not value > 0:
            raise argparse.ArgumentTypeError(f"must be positive, got {text}")
        return value

    return parse


def _output(option: str, suffixes: tuple[str, ...]) -> Callable[[str], str]:
    """The type of an OUT value: ``-``, a new file, or an existing file with one of ``suffixes``.

    Refusing other existing files keeps ``--json clip.mp3 ...`` from overwriting an input.
    """

    def parse(text: str) -> str:
        path = Path(text)
        if text != STDOUT and path.exists() and (path.is_dir() or path.suffix.lower() not in suffixes):
            raise argparse.ArgumentTypeError(
                f"refusing to overwrite {text} (not a {'/'.join(suffixes)} file): put {option} after the inputs, "
                f"or name another file"
            )
        return text

    return parse


csv_out = _output("--csv", (".csv",))
"""The type of a CSV OUT value."""

OPTIONS: dict[str, tuple[str, dict[str, Any]]] = {
    "date": ("--date", dict(help="recording date YYYY-MM-DD or YYYY-MM (optional; sharpens species ranges)")),
    "gallery": (
        "--gallery",
        dict(default=GALLERY, help=f"candidate locations: {GALLERY} (default), land-0.5, uniform-1, csv:PATH, ..."),
    ),
    "model": ("--model", dict(default=AUDIO_MODEL, help=f"geolocator name (default {AUDIO_MODEL}; see `geoforensics models`)")),
    "top_k": (
        "--top-k",
        dict(type=_positive(int), default=TOP_K, metavar="K", help=f"candidate places to list (default {TOP_K})"),
    ),
    "max_duration": (
        "--max-duration",
        dict(
            type=_positive(float),
            default=MAX_DURATION_S,
            metavar="S",
            help=f"seconds of audio analysed per file (default {MAX_DURATION_S:g})",
        ),
    ),
    "prior": (
        "--prior",
        dict(
            choices=["inat-test-density"],
            help="opt-in prior on where recordings are made (helps busy regions, hurts rarely recorded ones)",
        ),
    ),
    "prior_weight": ("--prior-weight", dict(type=float, default=0.5, help="strength of --prior (default 0.5)")),
    "address": (
        "--address",
        dict(
            metavar="ADDR",
            help="run on this Ray cluster (host:port of its head, ray://host:10001, or auto); without it a local "
            "Ray is started for the run and stopped after it. Needs `pip install 'geoforensics[scale]'`",
        ),
    ),
    "workers": (
        "--workers",
        dict(
            type=_positive(int),
            metavar="N",
            help="Ray workers (one CPU and one copy of the models each; default: every CPU of this machine, or of "
            "the cluster with --address)",
        ),
    ),
    "json": (
        "--json",
        dict(
            nargs="?",
            const=STDOUT,
            metavar="OUT",
            type=_output("--json", (".json", ".jsonl", ".ndjson")),
            help="write the result as JSON to OUT ('-', or no OUT after the inputs: standard output instead of the "
            "text report); one object per line when there are several",
        ),
    ),
    "csv": (
        "--csv",
        dict(
            metavar="OUT.csv",
            type=csv_out,
            help="write audio_id,latitude,longitude (the benchmark's prediction format) to OUT.csv ('-': standard output)",
        ),
    ),
}
"""The shared options by name: flag and ``add_argument`` keywords."""


def shared(*names: str) -> list[argparse.ArgumentParser]:
    """Parent parsers for ``add_parser(..., parents=...)``, one per name in ``OPTIONS``."""
    parents = []
    for name in names:
        flag, kwargs = OPTIONS[name]
        p = argparse.ArgumentParser(add_help=False)
        p.add_argument(flag, **kwargs)
        parents.append(p)
    return parents


def text_to_stdout(args: argparse.Namespace) -> bool:
    """False when ``--json`` or ``--csv`` writes to standard output (then the text report stays out of it).

    InputError if both would.
    """
    on_stdout = [f"--{name}" for name in ("json", "csv") if getattr(args, name, None) == STDOUT]
    if len(on_stdout) > 1:
        raise InputError(f"{' and '.join(on_stdout)} cannot both write to standard output: give one of them a file")
    return not on_stdout


@contextmanager
def open_output(dest: str | None) -> Iterator[TextIO | None]:
    """The stream an OUT option writes to: None without the option, stdout for ``-``, else the file
    ``dest`` (its folder created), opened at once so that a bad path fails before any work. Should the
    command fail before writing anything, the empty file is removed; what was written stays."""
    if dest is None:
        yield None
        return
    if dest == STDOUT:
        yield sys.stdout
        return
    path = Path(dest)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        stream = open(path, "w", newline="", encoding="utf-8")
    except OSError as e:
        raise InputError(f"cannot write {dest}: {e.strerror or e}") from None
    with stream:
        try:
            yield stream
        except BaseException:
            if stream.tell() == 0:
                path.unlink(missing_ok=True)
            raise


def write_json(stream: TextIO, obj: Any, indent: int | None = None) -> None:
    """``obj`` as JSON on one line (or indented), flushed at once."""
    stream.write(json.dumps(obj, indent=indent, default=str) + "\n")
    stream.flush()


def emit_json(dest: str | None, obj: Any, indent: int | None = None) -> None:
    """Write one JSON document where ``--json`` says (nothing when ``dest`` is None); name the file written."""
    with open_output(dest) as out:
        if out is not None:
            write_json(out, obj, indent)
    if dest not in (None, STDOUT):
        print(f"wrote {dest}", file=sys.stderr)
