"""Options several subcommands share, declared once as argparse parent parsers, and where their output goes.

``parser.add_parser(name, parents=shared("date", "json", ...))`` gives a subcommand the same option,
default (from ``geoforensics.defaults``) and help as every other command that takes it.

``--json [OUT]`` and ``--csv OUT`` write to the file OUT, or to standard output for ``-`` (and for a
bare ``--json``), in which case the command's text report is left out.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any, TextIO

from .. import arguments
from ..atomic import atomic_path, refuse_overwrite, unwritable
from ..dates import FORMS, RecordingDate, parse_date
from ..defaults import AUDIO_MODEL, GALLERY, MAX_DURATION_LIMIT_S, MAX_DURATION_S, MAX_TOP_K, TOP_K
from ..errors import InputError
from ..media.limits import MEDIA_EXTS
from ..prediction import finite_json
from ..text import safe

STDOUT = "-"

MAX_PRIOR_WEIGHT = 10.0
"""Largest ``--prior-weight`` (1 weighs the prior like the evidence of one species)."""



def number(
    kind: type = float, low: float | None = None, high: float | None = None, *, above: bool = False
) -> Callable[[str], Any]:
    """An argparse ``type``: :func:`geoforensics.arguments.number` of the text; anything else is a clear
    usage error ("argument --top-k: must be from 1 to 100, got 0")."""
    def parse(text: str) -> Any:
        try:
            return arguments.number(text, "it", kind, low, high, above=above)
        except InputError as e:
            raise argparse.ArgumentTypeError(safe(str(e).removeprefix("it "))) from None

    parse.__name__ = kind.__name__
    return parse


def date_arg(text: str) -> RecordingDate:
    """The type of ``--date``: :func:`geoforensics.dates.parse_date`, strict, checked before any work."""
    try:
        date = parse_date(text)
    except InputError as e:
        raise argparse.ArgumentTypeError(safe(str(e))) from None
    if date is None:
        raise argparse.ArgumentTypeError(f"is empty: give a date ({FORMS}) or leave the option out")
    return date


def output_file(option: str, suffixes: tuple[str, ...]) -> Callable[[str], str]:
    """The type of an OUT value: ``-``, a new file, or an existing file with one of ``suffixes``, whose
    folder exists (or can be created) and is writable, so a bad destination fails before any work.

    Refusing other existing files keeps ``--json clip.mp3 ...`` from overwriting an input.
    """
    def parse(text: str) -> str:
        if text == STDOUT:
            return text
        path = Path(text)
        if path.exists() and (path.is_dir() or path.suffix.lower() not in suffixes):
            raise argparse.ArgumentTypeError(
                f"refusing to overwrite {safe(text)} (not a {'/'.join(suffixes)} file): put {option} after the inputs, "
                f"or name another file"
            )
        problem = unwritable(path)
        if problem is not None:
            raise argparse.ArgumentTypeError(f"cannot write {safe(text)}: {safe(problem)}")
        return text

    return parse


csv_out = output_file("--csv", (".csv",))
"""The type of a CSV OUT value."""

OPTIONS: dict[str, tuple[str, dict[str, Any]]] = {
    "date": (
        "--date",
        dict(type=date_arg, metavar="DATE",
             help="recording date YYYY-MM-DD or YYYY-MM (optional; sharpens species ranges)"),
    ),
    "gallery": (
        "--gallery",
        dict(default=GALLERY, help=f"candidate locations: {GALLERY} (default), land-0.5, uniform-1, csv:PATH, ..."),
    ),
    "model": (
        "--model",
        dict(default=AUDIO_MODEL, help=f"geolocator name (default {AUDIO_MODEL}; see `geoforensics models`)"),
    ),
    "top_k": (
        "--top-k",
        dict(
            type=number(int, 1, MAX_TOP_K), default=TOP_K, metavar="K",
            help=f"candidate places to list, 1 to {MAX_TOP_K} (default {TOP_K})",
        ),
    ),
    "max_duration": (
        "--max-duration",
        dict(
            type=number(float, 0, MAX_DURATION_LIMIT_S, above=True),
            default=MAX_DURATION_S,
            metavar="S",
            help=f"seconds of audio analysed per file, at most {MAX_DURATION_LIMIT_S:g} (default {MAX_DURATION_S:g})",
        ),
    ),
    "prior": (
        "--prior",
        dict(
            choices=["photo-density", "inat-test-density", "none"],
            help="prior on where recordings are made (species-ranges only): photo-density (the default: only lowers "
            "places almost nobody visits), inat-test-density (pulls toward busy regions, hurts rarely recorded ones) "
            "or none",
        ),
    ),
    "prior_weight": (
        "--prior-weight",
        dict(
            type=number(float, 0, MAX_PRIOR_WEIGHT),
            default=None,
            metavar="W",
            help=f"strength of --prior, 0 to {MAX_PRIOR_WEIGHT:g} (default: the prior's own, 1 for photo-density, "
            "0.5 for inat-test-density)",
        ),
    ),
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
            type=number(int, 1, 4096),
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
            type=output_file("--json", (".json", ".jsonl", ".ndjson")),
            help="write the result as JSON to OUT ('-', or no OUT after the inputs: standard output instead of the "
            "text report); one object per line when there are several",
        ),
    ),
    "csv": (
        "--csv",
        dict(
            nargs="?",
            const=STDOUT,
            metavar="OUT.csv",
            type=csv_out,
            help="write audio_id,latitude,longitude (the benchmark's prediction format) to OUT.csv ('-', or no OUT "
            "after the inputs: standard output instead of the text report)",
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
    ``dest`` (its folder created), opened at once so that a bad path fails before any work.

    A new file fills as results come (each line or row is flushed whole), so an interrupted run keeps the
    results it finished; a run that fails before writing anything leaves no file. An existing file is never
    touched until the command succeeds: the new results go to a temporary file beside it, which replaces
    it at the end (:func:`geoforensics.atomic.atomic_path`), so a failed run leaves it as it was."""
    if dest is None:
        yield None
        return
    if dest == STDOUT:
        yield sys.stdout
        return
    path = Path(dest)
    opened = ExitStack()
    try:
        if path.exists():
            stream = opened.enter_context(
                open(opened.enter_context(atomic_path(path)), "w", newline="", encoding="utf-8")
            )
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            stream = opened.enter_context(open(path, "x", newline="", encoding="utf-8"))
            opened.callback(lambda: path.unlink() if stream.tell() == 0 and failed else None)
    except OSError as e:
        opened.close()
        raise InputError(f"cannot write {safe(dest)}: {e.strerror or type(e).__name__}") from None
    failed = True
    with opened:
        yield stream
        failed = False


OUTPUT_OPTIONS = ("json", "csv", "html", "video", "report", "out", "geojson", "kml", "labels")
"""The ``args`` attributes that name a file a command writes."""


def _named_paths(value: Any) -> Iterator[tuple[Path, str]]:
    """(path, "file" or "dir") for each existing file or folder a command-line value names: the value, and
    what follows a ``kind:`` prefix (``csv:PATH``)."""
    items = value if isinstance(value, (list, tuple)) else [value]
    for item in items:
        if isinstance(item, (str, os.PathLike)):
            text = os.fspath(item)
            for candidate in (text, text.split(":", 1)[1]) if ":" in text else (text,):
                try:
                    p = Path(candidate)
                    kind = "file" if p.is_file() else "dir" if p.is_dir() else None
                except (OSError, ValueError):
                    kind = None
                if kind is not None:
                    yield p, kind


def check_outputs(args: argparse.Namespace) -> None:
    """Before any work: :class:`InputError` when an output option names a file the command reads (the
    same file by any path or link; or a media file inside a folder it reads), or two outputs name one file."""
    named = {name: getattr(args, name, None) for name in OUTPUT_OPTIONS}
    if isinstance(named["labels"], list) and len(named["labels"]) == 2:  # --labels FORMAT OUT
        named["labels"] = named["labels"][1]
    outputs = {
        f"--{name}": Path(value) for name, value in named.items()
        if isinstance(value, str) and value != STDOUT and not Path(value).is_dir()
    }
    inputs = [pk for k, v in vars(args).items() if k not in (*OUTPUT_OPTIONS, "argv") for pk in _named_paths(v)]
    for option, out in outputs.items():
        refuse_overwrite(out, [p for p, kind in inputs if kind == "file"], option)
        if out.suffix.lower() in MEDIA_EXTS and out.exists():
            for folder in (p for p, kind in inputs if kind == "dir"):
                if out.resolve().is_relative_to(folder.resolve()):
                    raise InputError(f"refusing to write {option} to {safe(out.name)}: it is a media file in the "
                                     f"input folder {safe(folder.name)}; name a file outside it")
    seen: dict[Path, str] = {}
    for option, out in outputs.items():
        key = out.resolve()
        if key in seen:
            raise InputError(f"{seen[key]} and {option} name the same file, {safe(out.name)}: give each its own")
        seen[key] = option


def write_json(stream: TextIO, obj: Any, indent: int | None = None) -> None:
    """``obj`` as strict JSON on one line (or indented), flushed at once: NaN and infinities become null
    (:func:`geoforensics.prediction.finite_json`), so every line parses anywhere."""
    stream.write(json.dumps(finite_json(obj), indent=indent, default=str, allow_nan=False) + "\n")
    stream.flush()


def emit_json(dest: str | None, obj: Any, indent: int | None = None) -> None:
    """Write one JSON document where ``--json`` says (nothing when ``dest`` is None); name the file written."""
    with open_output(dest) as out:
        if out is not None:
            write_json(out, obj, indent)
    if dest not in (None, STDOUT):
        print(f"wrote {safe(dest)}", file=sys.stderr)
