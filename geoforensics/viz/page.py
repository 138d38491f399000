"""The one-page report (PNG or PDF): the map, the verdict, the claims with their distances, the species
table, the container metadata in its own labelled panel (display only), and the command and versions
that produced it, so a finding can be reproduced."""

from __future__ import annotations

import shlex
import textwrap
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from matplotlib.figure import Figure
from matplotlib.patches import FancyBboxPatch

from ..atomic import atomic_path, check_writable
from ..errors import InputError
from ..forensics.analysis import ForensicReport
from ..text import drawable
from .report import SPECIES_HEADERS, report_sources, software_line, species_rows, summary_lines
from .static import VERDICT_COLORS, draw_report_map

PAGE_INCHES = (11.69, 8.27)
"""A4 landscape."""
PNG_DPI = 150
METADATA_TITLE = "Container metadata: display only, never used by the predictions"
FORMATS = (".png", ".pdf")

def reproduce_command(report: ForensicReport) -> str:
    """The ``geoforensics analyze`` command that tests the same claim on the same file."""
    cmd = ["geoforensics", "analyze", report.source]
    user = report.user_claim
    if user is not None:
        cmd += ["--claim", f"{user.claim.lat:.4f}, {user.claim.lon:.4f}"]
    return shlex.join(cmd)


def _metadata_rows(meta: dict[str, Any]) -> list[str]:
    rows = []
    for key, value in meta.items():
        shown = "; ".join(f"{k}={v}" for k, v in value.items()) if isinstance(value, dict) else value
        rows.append(drawable(f"{key}: {shown}", 110))
    return rows or ["(none)"]


def _wrapped(
    fig: Figure, x: float, y: float, lines: list[str], width: int, size: float, step: float, **style: Any
) -> float:
    """Draw ``lines`` as bullets wrapped at ``width`` characters from (x, y) down; returns the next y."""
    for line in lines:
        for i, part in enumerate(textwrap.wrap(drawable(line, 600), width) or [""]):
            fig.text(x + (0.012 if i else 0.0), y, ("• " if not i else "") + part, fontsize=size, va="top",
                     parse_math=False, **style)
            y -= step
    return y


def report_page(report: ForensicReport, command: str | None = None) -> Figure:
    """The one-page report as a matplotlib figure (A4 landscape)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    fig = Figure(figsize=PAGE_INCHES, facecolor="white")
    FigureCanvasAgg(fig)
    color = VERDICT_COLORS.get(report.verdict.level, VERDICT_COLORS["inconclusive"])
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    fig.text(0.03, 0.965, drawable(f"geoforensics report: {report.source}", 90), fontsize=16, fontweight="bold",
             va="top", parse_math=False)
    fig.text(0.97, 0.965, now, fontsize=9, va="top", ha="right", color="#616161")
    fig.text(0.03, 0.915, report.verdict.level.upper(), fontsize=13, fontweight="bold", color="white", va="top",
             bbox=dict(boxstyle="round,pad=0.3", fc=color, ec="none"))
    verdict = textwrap.wrap(drawable(report.verdict.text.split(": ", 1)[-1], 400), 120)[:2]
    fig.text(0.17, 0.917, "\n".join(verdict), fontsize=11, color=color, va="top", parse_math=False)

    ax = fig.add_axes((0.03, 0.37, 0.52, 0.47))
    draw_report_map(ax, report, fontsize=7.5)
    ax.set_title("Where the sound, the picture and the claims point", fontsize=10, loc="left")

    y = _wrapped(fig, 0.575, 0.835, summary_lines(report), 70, 8.5, 0.024, color="#212121")
    y -= 0.012
    fig.text(0.575, y, "Species heard (BirdNET), strongest first", fontsize=10, fontweight="bold", va="top")
    y -= 0.03
    rows = species_rows(report)[:8]
    columns = (0.575, 0.785, 0.83, 0.885, 0.93)
    claim = report.headline_claim is not None
    headers = SPECIES_HEADERS if claim else SPECIES_HEADERS[:3]
    for x, h in zip(columns, ("species", "score", "windows", "there?", "nearest") if claim else headers):
        fig.text(x, y, h, fontsize=7.5, fontweight="bold", va="top", color="#424242")
    y -= 0.022
    for row in rows or [("no species recognised", "", "", "", "")]:
        for x, cell in zip(columns, row):
            red = claim and cell == "no"
            fig.text(x, y, drawable(cell, 44), fontsize=7.5, va="top", parse_math=False,
                     color=VERDICT_COLORS["mismatch"] if red else "#212121")
        y -= 0.02
    y -= 0.015
    fig.text(0.575, y, "Data sources and licences", fontsize=10, fontweight="bold", va="top")
    _wrapped(fig, 0.575, y - 0.03, report_sources(report), 85, 7.5, 0.02, color="#424242")

    top = 0.335
    fig.text(0.04, top - 0.012, METADATA_TITLE, fontsize=9.5, fontweight="bold", va="top", color="#424242")
    bottom = _wrapped(fig, 0.04, top - 0.045, _metadata_rows(report.metadata)[:10], 100, 7.5, 0.021, color="#424242")
    fig.patches.append(FancyBboxPatch((0.03, bottom), 0.52, top - bottom, boxstyle="round,pad=0.005",
                                      transform=fig.transFigure, fc="#f5f5f5", ec="#9e9e9e", lw=0.8, figure=fig,
                                      zorder=-1))

    cmd = command or reproduce_command(report)
    line = textwrap.fill("Reproduce: " + drawable(cmd, 300), width=150, subsequent_indent="    ",
                         break_on_hyphens=False)

    fig.text(0.03, 0.105, line, fontsize=8.5, family="monospace", va="top", parse_math=False)
    fig.text(0.03, 0.05, f"Made with {software_line()}.", fontsize=7.5, color="#616161", va="top")
    return fig


def write_report_page(report: ForensicReport, out: str | Path, *, command: str | None = None) -> Path:
    """Write the one-page report to ``out`` (.png or .pdf, chosen by its suffix); ``command`` is the
    command line that produced ``report`` (default: the equivalent ``geoforensics analyze``). The
    verdict is also written into the file's metadata (PNG text chunk, PDF Subject)."""
    out = Path(out)
    kind = out.suffix.lower()
    if kind not in FORMATS:
        raise InputError(f"the report is a .png or .pdf file, not {out.name}")
    check_writable(out, "the report")
    fig = report_page(report, command)
    title = drawable(f"geoforensics report: {report.source}")
    meta = {"Title": title, "Description": drawable(report.verdict.text, 1000)} if kind == ".png" else {
        "Title": title, "Subject": drawable(report.verdict.text, 1000), "Creator": f"geoforensics ({software_line()})"}
    with atomic_path(out) as tmp:
        fig.savefig(tmp, format=kind[1:], dpi=PNG_DPI, metadata=meta)
    return out


__all__ = ["METADATA_TITLE", "reproduce_command", "report_page", "write_report_page"]
