"""Audio front end: decoding (never tags), windows, and the one mel pipeline."""

from geoforensics.audio.decode import (
    DEFAULT_MAX_DURATION_S,
    MediaInfo,
    decode_audio,
    is_silent,
    load_array,
    probe_media,
    rms_dbfs,
)
from geoforensics.audio.mel import (
    DEFAULT_MEL_PIPELINE,
    MEL_PIPELINES,
    MelConfig,
    MelPipeline,
    band_centers_hz,
    get_mel_pipeline,
    hz_to_mel,
    mel_filterbank,
)
from geoforensics.audio.windows import Windows, WindowSpec, split_windows

__all__ = [
    "DEFAULT_MAX_DURATION_S",
    "DEFAULT_MEL_PIPELINE",
    "MEL_PIPELINES",
    "MediaInfo",
    "MelConfig",
    "MelPipeline",
    "WindowSpec",
    "Windows",
    "band_centers_hz",
    "decode_audio",
    "get_mel_pipeline",
    "hz_to_mel",
    "is_silent",
    "load_array",
    "mel_filterbank",
    "probe_media",
    "rms_dbfs",
    "split_windows",
]
