"""A claim's verdict in a few plain sentences, species by species."""

from __future__ import annotations

from .results import ClaimCheck

STRONG = 0.3
"""Confidence from which a species is named in the reasons."""


def explain(c: ClaimCheck) -> str:
    """The verdict and its reasons: "MISMATCH: the sound does not fit X (mismatch score 0.97). ..."."""
    where = c.claim.label
    if c.verdict == "mismatch":
        first = f"MISMATCH: the sound does not fit {where} (mismatch score {c.mismatch_score:.2f})."
    elif c.verdict == "consistent":
        first = f"CONSISTENT: the sound fits {where} (mismatch score {c.mismatch_score:.2f})."
    else:
        first = f"INCONCLUSIVE for {where} (mismatch score {c.mismatch_score:.2f})."
    return " ".join([first, *reasons(c)])


def reasons(c: ClaimCheck) -> list[str]:
    """The sentences behind a verdict: species that do not live at the claim, those that do, where
    the sound alone points, the mains hum and any splice (``explain`` without its first sentence)."""
    against = sorted((e for e in c.evidence if not e.lives_here and e.score >= STRONG), key=lambda e: -e.log_lr)
    support = [e for e in c.evidence if e.lives_here and e.score >= STRONG]
    parts: list[str] = []
    if c.masked:
        parts.append(f"The species cannot carry a verdict here: {c.masked}.")
    if not c.evidence:
        parts.append("No animal sound was recognised, so the species cannot say where this was recorded.")
    for e in against[:3]:
        far_txt = (f"the nearest place it lives is {e.nearest_km:,.0f} km away" if e.nearest_km is not None
                   else "the range model knows no place where it lives")
        parts.append(f"{e.common_name} (heard at {e.score:.2f} in {e.windows} windows) does not live there: {far_txt}.")
    if support:
        names = ", ".join(f"{e.common_name} ({e.score:.2f})" for e in support[:4])
        parts.append(f"Living there: {names}.")
    if c.audio_point is not None and c.audio_place and c.distance_km is not None:
        parts.append(f"The sound alone points to {c.audio_place}, {c.distance_km:,.0f} km from the claim.")
    if c.hum is not None and c.hum.detected_hz is not None:
        parts.append(c.hum.text[:1].upper() + c.hum.text[1:] + ".")
    if c.splice is not None and c.splice.detected:
        parts.append(c.splice.text[:1].upper() + c.splice.text[1:] + ".")
    return parts


__all__ = ["explain", "reasons"]
