"""Forensics: does a clip's soundtrack fit the place it claims, and the picture it shows?

* :mod:`.claims`: what a claim is, and reading one (typed, clicked, tagged, the picture's guess);
* :mod:`.checker`: the claim check (:func:`check`, :func:`claim_checker`, :class:`ClaimChecker`);
* :mod:`.results`: what it answers (:class:`ClaimCheck` and its evidence), as JSON;
* :mod:`.hum`, :mod:`.splices`, :mod:`.noise`, :mod:`.explain`: the mains hum as evidence, changes of place
  within a soundtrack, BirdNET's scores on non-animal sound, the verdict in words;
* :mod:`.analysis`: one clip in, a forensic report out (:func:`analyze_media`, :class:`ForensicReport`).
"""

from __future__ import annotations

from .checker import ClaimChecker, check, claim_checker
from .claims import Claim, resolve_claim
from .results import ClaimCheck

__all__ = ["Claim", "ClaimCheck", "ClaimChecker", "check", "claim_checker", "resolve_claim"]
