"""Species range models (where each species occurs) and their caches over galleries."""

from .base import RangeModel, week_of
from .birdnet_meta import BirdNETRangeModel
from .cache import RangeTable, range_table

__all__ = ["week_of", "RangeModel", "BirdNETRangeModel", "RangeTable", "range_table"]
