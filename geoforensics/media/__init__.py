"""Media intake: limits, frames and soundtrack of uploads, URL fetching, and tags (for display only)."""

from geoforensics.media.fetch import check_url, fetch_url
from geoforensics.media.frames import Frame, ProbeResult, extract_audio, extract_frames, is_video, probe
from geoforensics.media.limits import (
    AUDIO_EXTS,
    MEDIA_EXTS,
    VIDEO_EXTS,
    MediaLimits,
    check_duration,
    check_extension,
    check_file,
)
from geoforensics.media.metadata import display_metadata, gps_from_metadata, parse_coordinates, read_metadata

__all__ = [
    "AUDIO_EXTS",
    "MEDIA_EXTS",
    "VIDEO_EXTS",
    "Frame",
    "MediaLimits",
    "ProbeResult",
    "check_duration",
    "check_extension",
    "check_file",
    "check_url",
    "display_metadata",
    "extract_audio",
    "extract_frames",
    "fetch_url",
    "gps_from_metadata",
    "is_video",
    "parse_coordinates",
    "probe",
    "read_metadata",
]
