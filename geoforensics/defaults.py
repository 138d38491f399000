"""The defaults every entry point shares: the audio model, the gallery, the window spec, the duration cap.

Change a default here and the API, the CLI, the app, training and the benchmarks all follow.
"""

from __future__ import annotations

from .audio.windows import WindowSpec

AUDIO_MODEL = "species-ranges"
"""The default audio geolocator (registry name)."""

GALLERY = "land-1"
"""Candidate locations of the audio geolocators: 1 degree grid centres on land (21,546 points)."""

WINDOW = WindowSpec(window_s=3.0, stride_s=1.5)
"""3 s windows every 1.5 s (the paper, Supp. A.5 "Spectrogram Creation"; BirdNET's input length)."""

MAX_DURATION_S = 600.0
"""Seconds of audio analysed per file or array; the rest of a longer recording is ignored."""

TOP_K = 5
"""Candidate places listed in a result."""

MAX_TOP_K = 100
"""Most candidate places a result may list."""

MAX_DURATION_LIMIT_S = 1800.0
"""Largest duration cap a user may set: 30 minutes, the app's own limit, which keeps a run under 3 GB of memory."""

PRIOR: str | None = "photo-density"
"""The recording-effort prior of the audio geolocator (``geo/priors.py``; None: none)."""

PRIOR_BANDWIDTH_KM = 500.0
"""Smoothing of a prior's points over the gallery."""

EVIDENCE_SECONDS = 120.0
"""Seconds of a clip the evidence video shows, from the start (``analyze --video``, the app's download)."""

EVIDENCE_SECONDS_LIMIT = 600.0
"""Most seconds of a clip an evidence video may show (it stays under 20 MB)."""
