"""Species range models (where each species occurs) and their caches over galleries."""

from ..dates import week_of
from .base import RangeModel
from .birdnet_meta import BirdNETRangeModel
from .cache import RangeTable, range_table

__all__ = ["week_of", "RangeModel", "BirdNETRangeModel", "RangeTable", "range_table"]
