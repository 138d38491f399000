"""Species range models (where each species occurs) and their caches over galleries."""

from ..dates import week_of
from ..models.birdnet import BirdNETRangeModel
from .base import RangeModel
from .cache import RangeTable, range_table

__all__ = ["week_of", "RangeModel", "BirdNETRangeModel", "RangeTable", "range_table"]
