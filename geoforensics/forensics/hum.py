"""The mains hum as evidence about a claim: a stable 50 or 60 Hz line family (``audio.hum``) against the
claimed place's grid frequency (``geo.grid``).

It adds ``confidence x log(P(hum | far) / P(hum | claim))`` to the claim's log Bayes factor, where
P(hum | far) is the share of the far alternatives (weighted by the audio's own surface) on that grid, and
:data:`HUM_ERROR` the chance that a hum's frequency does not match the grid where it was recorded.
"""

from __future__ import annotations

import math

import numpy as np

from ..audio.hum import HumResult
from ..geo.grid import gallery_frequencies, grid_frequency
from .claims import Claim
from .results import HumEvidence

HUM_ERROR = 0.05
"""Chance that a detected hum's frequency is not the grid's where the clip was recorded."""


def hum_evidence(
    hum: HumResult, claim: Claim, gallery: np.ndarray, far: np.ndarray, far_probs: np.ndarray
) -> HumEvidence:
    """``hum`` against ``claim``'s grid; ``far`` marks the gallery points of the alternative ("recorded far
    from the claim") and ``far_probs`` are the audio surface's probabilities there."""
    grid = grid_frequency(claim.lat, claim.lon)
    det = hum.grid_hz
    if det is None:
        why = hum.reason
        text = why if why.startswith("no stable hum") else f"no stable mains hum ({why})"
        return HumEvidence(hum, grid.hz, grid.note, 0.0, text)
    if grid.hz is None:
        return HumEvidence(hum, None, grid.note, 0.0,
                           f"mains hum at {det} Hz; the claimed place has no single grid frequency ({grid.note})")
    freqs = gallery_frequencies(gallery)[far]
    same = (freqs == det) + 0.5 * (freqs == 0)
    total = float(far_probs.sum())
    share = float((far_probs * same).sum() / total) if total > 0 else float(same.mean())
    p_far = (1 - HUM_ERROR) * share + HUM_ERROR * (1 - share)
    p_claim = (1 - HUM_ERROR) if grid.hz == det else HUM_ERROR
    conf = float(hum.confidence)
    log_lr = conf * math.log(max(p_far, 1e-6) / p_claim)
    side = "fits" if grid.hz == det else "does not fit"
    text = f"mains hum at {det} Hz (confidence {conf:.2f}) {side} the claimed place: {grid.note}"
    return HumEvidence(hum, grid.hz, grid.note, round(log_lr, 4), text)


__all__ = ["HUM_ERROR", "hum_evidence"]
