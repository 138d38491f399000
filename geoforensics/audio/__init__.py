"""Audio front end: decoding (never tags), windows, and the one mel pipeline. (Probing a file is
``geoforensics.ffmpeg.probe``.)

Names are imported lazily, so importing the window spec does not pay for torch.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "array_samples": "decode",
    "check_sample_rate": "decode",
    "decode_audio": "decode",
    "is_silent": "decode",
    "load_array": "decode",
    "rms_dbfs": "decode",
    "DEFAULT_MEL_PIPELINE": "mel",
    "MEL_PIPELINES": "mel",
    "MelConfig": "mel",
    "MelPipeline": "mel",
    "band_centers_hz": "mel",
    "get_mel_pipeline": "mel",
    "hz_to_mel": "mel",
    "mel_filterbank": "mel",
    "HumConfig": "hum",
    "HumFamily": "hum",
    "HumResult": "hum",
    "detect_hum": "hum",
    "Windows": "windows",
    "WindowSpec": "windows",
    "split_windows": "windows",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
