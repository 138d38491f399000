"""Untrusted text made safe for Markdown, and the Markdown summary of a prediction."""

from __future__ import annotations

import re
from typing import Any

from ..prediction import GeoPrediction


def md_escape(text: Any) -> str:
    """``text`` with Markdown and HTML special characters escaped (for untrusted strings)."""
    return re.sub(r"([\\`*_{}\[\]()<>#+|!~])", r"\\\1", str(text))


def fmt_latlon(point: tuple[float, float]) -> str:
    lat, lon = point
    return f"{abs(lat):.2f}° {'N' if lat >= 0 else 'S'}, {abs(lon):.2f}° {'E' if lon >= 0 else 'W'}"


def prediction_summary(pred: GeoPrediction, label: str) -> str:
    """Markdown lines: the guess, its place, how sure, and its uncertainty radii."""
    place = (f" — near {md_escape(pred.top_k[0].place.removeprefix('near '))}" if pred.top_k and pred.top_k[0].place
             else "")
    conf = f"{pred.confidence:.2f}" if pred.confidence is not None else "n/a"
    r50, r90 = pred.region(0.5), pred.region(0.9)
    radii = (f"; 50 % of the probability within {r50.radius_km:,.0f} km, 90 % within {r90.radius_km:,.0f} km"
             if r50 and r90 else "")
    lines = [f"**{label}:** {fmt_latlon(pred.point)}{place}", f"confidence **{pred.confidence_label}** ({conf}){radii}"]
    lines += [f"note: {md_escape(n)}" for n in pred.notes]
    return "  \n".join(lines)
