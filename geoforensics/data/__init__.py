"""Dataset readers yielding recordings with their true locations.

``open_dataset(path)`` reads a plain CSV manifest (xc-dev ``labels.csv``), an iNatSounds split JSON,
XCDC's ``xcdc_recordings.csv`` or a WABAD folder into a :class:`RecordingDataset` of
:class:`Recording` (id, absolute audio path, lat, lon, date, species with the focal one first).
"""

from __future__ import annotations

from .base import (
    AUDIO_EXTENSIONS,
    Recording,
    RecordingDataset,
    detect_format,
    list_formats,
    open_dataset,
    parse_date,
)
from .inatsounds import read as read_inatsounds
from .manifest import read as read_manifest
from .wabad import Vocalization, read_vocalizations
from .wabad import read as read_wabad
from .xcdc import parse_name_list
from .xcdc import read as read_xcdc

__all__ = [
    "AUDIO_EXTENSIONS",
    "Recording",
    "RecordingDataset",
    "Vocalization",
    "detect_format",
    "list_formats",
    "open_dataset",
    "parse_date",
    "parse_name_list",
    "read_inatsounds",
    "read_manifest",
    "read_vocalizations",
    "read_wabad",
    "read_xcdc",
]
