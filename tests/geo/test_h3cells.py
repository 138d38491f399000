"""H3 helpers: the per-gallery cell index that every prediction's regions and maps read."""

from __future__ import annotations

import numpy as np

from geoforensics.geo.h3cells import gallery_cells, latlon_to_cells
from geoforensics.prediction import probability_region

PARIS, PARIS_2, ROME, KAUAI = (48.85, 2.35), (48.86, 2.36), (41.9, 12.5), (22.05, -159.5)


def test_gallery_cells_name_every_point_in_first_seen_order_once():
    gallery = np.array([ROME, PARIS, PARIS_2, KAUAI, ROME])
    names, index = gallery_cells(gallery, 2)
    assert [str(c) for c in names[index]] == latlon_to_cells(gallery, 2)
    assert len(names) == 3 and names[0] == latlon_to_cells([ROME], 2)[0] and names[1] == latlon_to_cells([PARIS], 2)[0]
    assert gallery_cells(gallery.copy(), 2)[0] is names  # computed once per gallery and resolution
    assert gallery_cells(gallery, 1)[0] is not names


def test_probability_region_ranks_cells_by_mass():
    gallery = np.array([PARIS, PARIS_2, ROME, KAUAI])
    probs = np.array([0.2, 0.19, 0.36, 0.25])  # Paris's cell holds 0.39, Rome's 0.36, Kauai's 0.25
    paris, rome, kauai = latlon_to_cells([PARIS, ROME, KAUAI], 2)
    assert probability_region(gallery, probs, ROME, 0.5).cells == [paris, rome]
    assert probability_region(gallery, probs, ROME, 0.3).cells == [paris]
    assert probability_region(gallery, probs, ROME, 0.9).cells == [paris, rome, kauai]
