"""The tables the tabs show: species evidence, species choices, top-k candidates."""

from __future__ import annotations

from typing import Any

from ..prediction import GeoPrediction

EVIDENCE_HEADERS = ["species", "common name", "confidence", "windows heard", "km the guess moves without it"]


def evidence_rows(pred: GeoPrediction | None) -> list[list[Any]]:
    """The species evidence table: one row per species, strongest first."""
    if pred is None:
        return []
    return [
        [
            e.scientific_name,
            e.common_name,
            round(float(e.score), 3),
            len(e.windows),
            round(float(e.shift_km)) if e.shift_km is not None else None,
        ]
        for e in pred.evidence
    ]


def evidence_table(pred: GeoPrediction | None) -> Any:
    """``evidence_rows`` as a DataFrame with the table's headers (empty when there is none)."""
    import pandas as pd

    return pd.DataFrame(evidence_rows(pred), columns=EVIDENCE_HEADERS)


NO_RANGE = "(no range)"


def species_choices(pred: GeoPrediction | None) -> list[tuple[str, str]]:
    """Dropdown choices (label, scientific name) for the evidence species, after a "no range" entry."""
    choices = [(NO_RANGE, "")]
    if pred is not None:
        choices += [(f"{e.common_name} ({e.scientific_name})", e.scientific_name) for e in pred.evidence]
    return choices


TOP_K_HEADERS = ["rank", "place", "lat", "lon", "probability"]


def top_k_rows(pred: GeoPrediction | None) -> Any:
    """The top-k candidate table as a DataFrame."""
    import pandas as pd

    rows = [] if pred is None else [[i, c.place, round(c.lat, 3), round(c.lon, 3), round(c.prob, 4)]
                                    for i, c in enumerate(pred.top_k, 1)]
    return pd.DataFrame(rows, columns=TOP_K_HEADERS)
