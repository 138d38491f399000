import json
import re

import h3
import numpy as np
import plotly.graph_objects as go
import pytest

from geoforensics.geo.geodesy import haversine_km
from geoforensics.prediction import GeoPrediction, WindowPrediction
from geoforensics.viz import (
    discrepancy_km,
    geo_assets_script,
    head_html,
    prediction_map,
    surface_cells,
    window_distances_km,
    window_timeline,
    write_standalone_html,
)
from geoforensics.viz.maps import MAX_CELLS, clockwise_ring, region_outline, split_line

PARIS = (48.85, 2.35)
KAUAI = (22.05, -159.5)
FIJI = (-17.7, 178.0)
SAMOA = (-13.8, -172.1)


@pytest.fixture(scope="module")
def grid() -> np.ndarray:
    lat, lon = np.meshgrid(np.arange(-88.0, 89.0, 2.0), np.arange(-180.0, 180.0, 2.0), indexing="ij")
    return np.column_stack([lat.ravel(), lon.ravel()])


def gaussian(grid: np.ndarray, centre: tuple[float, float], sigma_km: float, **meta) -> GeoPrediction:
    return GeoPrediction.from_log_scores(grid, -((haversine_km(grid, centre) / sigma_km) ** 2), names=False, **meta)


def segments(trace: go.Scattergeo) -> list[np.ndarray]:
    """The None-separated pieces of a trace as (lat, lon) arrays."""
    out, cur = [], []
    for la, lo in zip(trace.lat, trace.lon):
        if la is None:
            out.append(np.array(cur, dtype=float))
            cur = []
        else:
            cur.append((la, lo))
    out.append(np.array(cur, dtype=float))
    return out


def by_name(fig: go.Figure, prefix: str) -> list[go.Scattergeo]:
    return [t for t in fig.data if (t.name or "").startswith(prefix)]


def fill_traces(fig: go.Figure) -> list[go.Scattergeo]:
    return [t for t in fig.data if t.fill == "toself"]


@pytest.fixture(scope="module")
def paris_kauai(grid):
    audio = gaussian(grid, PARIS, 700.0, modality="audio", model="birds")
    image = gaussian(grid, KAUAI, 400.0, modality="image")
    return audio, image, prediction_map(audio, image, title="Paris vs Kauai")


def test_discrepancy_is_the_haversine_distance(paris_kauai):
    audio, image, _ = paris_kauai
    d = discrepancy_km(audio, image)
    assert d == pytest.approx(float(haversine_km(audio.point, image.point)))
    assert d == pytest.approx(float(haversine_km(PARIS, KAUAI)), abs=250)  # gallery is a 2-degree grid
    assert 11_000 < d < 12_500
    assert discrepancy_km(PARIS, PARIS) == 0.0


def test_map_has_every_layer_as_scattergeo(paris_kauai):
    audio, image, fig = paris_kauai
    assert fig.data and all(isinstance(t, go.Scattergeo) for t in fig.data)
    names = [t.name for t in fig.data]
    for prefix in ("Audio probability", "Image probability", "Audio 50% region", "Audio 90% region",
                   "Image 50% region", "Image 90% region", "Audio top 5", "Image top 5", "Audio guess", "Image guess"):
        assert any(n.startswith(prefix) for n in names), prefix
    (ag,) = by_name(fig, "Audio guess")
    (ig,) = by_name(fig, "Image guess")
    assert (ag.lat[0], ag.lon[0]) == audio.point
    assert (ig.lat[0], ig.lon[0]) == image.point
    assert ag.marker.size > by_name(fig, "Audio top")[0].marker.size
    assert "model: birds" in ag.hovertext[0]


def test_great_circle_path_is_labelled_with_its_length(paris_kauai):
    audio, image, fig = paris_kauai
    label = f"{discrepancy_km(audio, image):,.0f} km"
    (path,) = by_name(fig, "Audio ↔ image")
    assert label in path.name and label in path.hovertext
    (text,) = by_name(fig, "distance label")
    assert label in text.text[0]
    (seg,) = segments(path)  # Paris-Kauai passes over the Arctic, not the antimeridian
    assert np.allclose(seg[0], audio.point, atol=1e-3) and np.allclose(seg[-1], image.point, atol=1e-3)
    steps = haversine_km(seg[:-1], seg[1:])
    assert steps.sum() == pytest.approx(discrepancy_km(audio, image), rel=1e-3)
    assert seg[:, 0].max() > 60  # a great circle, not a straight line in lon/lat


def test_layout_is_an_offline_natural_earth_world(paris_kauai):
    geo = paris_kauai[2].layout.geo
    assert geo.projection.type == "natural earth"
    assert geo.fitbounds is False
    assert geo.resolution == 110 and geo.scope == "world"  # the bundled world_110m outlines
    assert geo.showland and geo.showocean and geo.showcountries
    assert geo.landcolor != geo.oceancolor
    assert paris_kauai[2].layout.height >= 400


def test_hexagon_rings_are_valid_closed_and_clockwise(paris_kauai):
    fig = paris_kauai[2]
    rings = [r for t in fill_traces(fig) for r in segments(t)]
    assert 10 < len(rings) <= 2 * MAX_CELLS
    for ring in rings:
        assert len(ring) in (6, 7)  # 5 or 6 vertices, closed
        assert np.array_equal(ring[0], ring[-1])
        assert np.all(np.abs(ring[:, 0]) <= 90) and np.all(np.abs(ring[:, 1]) <= 180)
        assert np.array_equal(clockwise_ring(ring), ring)
    orange = [t for t in fill_traces(fig) if t.name == "Audio probability"]
    assert 2 <= len(orange) <= 8  # one trace per colour bin
    assert len({t.fillcolor for t in orange}) == len(orange)


def test_surface_cells_hold_99_percent(paris_kauai):
    audio = paris_kauai[0]
    s = surface_cells(audio)
    assert s.res == 2 and len(s.cells) <= MAX_CELLS
    assert 0.99 <= s.mass.sum() <= 1.0 + 1e-9
    assert np.all(np.diff(s.mass) <= 0)
    assert haversine_km(h3.cell_to_latlng(s.cells[0]), audio.point) < 500


def test_diffuse_surface_is_coarsened_under_the_cell_cap():
    rng = np.random.default_rng(1)
    gallery = np.column_stack([np.degrees(np.arcsin(rng.uniform(-1, 1, 40_000))), rng.uniform(-180, 180, 40_000)])
    flat = GeoPrediction.from_log_scores(gallery, np.zeros(len(gallery)), names=False, region_masses=())
    s = surface_cells(flat)
    assert s.res < 2 and len(s.cells) <= MAX_CELLS
    assert s.mass.sum() >= 0.99
    fig = prediction_map(flat, top_k=False)
    assert sum(len(segments(t)) for t in fill_traces(fig)) == len(s.cells)


def test_antimeridian_path_is_split_in_two(grid):
    audio, image = gaussian(grid, FIJI, 600.0), gaussian(grid, SAMOA, 500.0)
    fig = prediction_map(audio, image)
    (path,) = by_name(fig, "Audio ↔ image")
    segs = segments(path)
    assert len(segs) == 2
    assert np.all(segs[0][:, 1] > 0) and np.all(segs[1][:, 1] < 0)
    assert segs[0][-1, 1] == 180.0 and segs[1][0, 1] == -180.0
    assert segs[0][-1, 0] == pytest.approx(segs[1][0, 0])
    assert f"{discrepancy_km(audio, image):,.0f} km" in path.name
    assert fig.layout.geo.projection.rotation.lon == 180  # the Pacific is kept in the middle


def test_antimeridian_hexagons_keep_wrapped_longitudes(grid):
    fig = prediction_map(gaussian(grid, FIJI, 600.0))
    rings = [r for t in fill_traces(fig) for r in segments(t)]
    crossing = [r for r in rings if r[:, 1].max() > 170 and r[:, 1].min() < -170]
    assert crossing
    for ring in crossing:
        assert np.all(np.abs(ring[:, 1]) <= 180)
        assert haversine_km(ring[:-1], ring[1:]).max() < 500  # edges are short arcs across the seam
        assert np.array_equal(clockwise_ring(ring), ring)


def test_split_line_meets_at_the_seam():
    pieces = split_line(np.array([[0.0, 170.0], [2.0, 178.0], [4.0, -178.0], [6.0, -170.0]]))
    assert len(pieces) == 2
    assert pieces[0][-1].tolist() == [3.0, 180.0] and pieces[1][0].tolist() == [3.0, -180.0]
    assert len(split_line(np.array([[0.0, 0.0], [1.0, 1.0]]))) == 1


def test_clockwise_ring_reverses_counter_clockwise_rings():
    ccw = np.array([[0, 0], [0, 1], [1, 1], [1, 0], [0, 0]], dtype=float)  # (lat, lon): east, north, west, south
    assert np.array_equal(clockwise_ring(ccw), ccw[::-1])
    assert np.array_equal(clockwise_ring(ccw[::-1].copy()), ccw[::-1])
    polar = np.array(h3.cell_to_boundary(h3.latlng_to_cell(89.99, 0.0, 1))
                     + h3.cell_to_boundary(h3.latlng_to_cell(89.99, 0.0, 1))[:1])
    assert not np.array_equal(clockwise_ring(polar), polar)  # h3 rings are anticlockwise, near the pole too


def test_region_outline_is_the_union_boundary():
    centre = h3.latlng_to_cell(*PARIS, 2)
    disk = list(h3.grid_disk(centre, 1))
    edges = region_outline(disk)
    assert len(edges) == 18  # 7 hexagons: 6 x 3 outer edges
    inner = np.array(h3.cell_to_boundary(centre))
    assert not any(np.allclose(e[0], v) for e in edges for v in inner)


def test_regions_are_drawn_with_their_radius(paris_kauai):
    audio, _, fig = paris_kauai
    (r50,) = by_name(fig, "Audio 50% region")
    (r90,) = by_name(fig, "Audio 90% region")
    assert f"{audio.region(0.5).radius_km:,.0f} km" in r50.name
    assert r50.line.dash == "solid" and r90.line.dash == "dash"
    pts = np.vstack(segments(r90))
    assert haversine_km(pts, audio.point).max() < 3 * audio.region(0.9).radius_km + 500


def test_top_k_hover_names_the_place_and_probability(grid):
    pred = gaussian(grid, PARIS, 700.0)
    pred.top_k[0].place = "Paris, FR"
    (top,) = by_name(prediction_map(pred), "Audio top")
    assert "Paris, FR" in top.hovertext[0]
    assert f"{pred.top_k[0].prob:.1%}" in top.hovertext[0]
    assert list(top.text) == [str(i) for i in range(1, len(pred.top_k) + 1)]


def test_point_hover_shows_confidence(grid):
    pred = gaussian(grid, PARIS, 700.0)
    pred.confidence = 0.6
    (guess,) = by_name(prediction_map(pred), "Audio guess")
    assert f"confidence: {pred.confidence_label} (0.60)" in guess.hovertext[0]


def test_single_and_empty_maps(grid):
    audio_only = prediction_map(gaussian(grid, PARIS, 700.0), show_surface=False, top_k=False)
    assert not by_name(audio_only, "Audio ↔ image") and not fill_traces(audio_only)
    assert by_name(audio_only, "Audio guess")
    image_only = prediction_map(None, gaussian(grid, KAUAI, 400.0))
    assert by_name(image_only, "Image probability") and not by_name(image_only, "Audio")
    empty = prediction_map(None)
    assert len(empty.data) == 0 and empty.layout.geo.projection.type == "natural earth"


def test_species_range_is_drawn_where_values_are_high(grid):
    values = np.exp(-((haversine_km(grid, (0.0, 20.0)) / 1500.0) ** 2))
    fig = prediction_map(gaussian(grid, PARIS, 700.0), species_range=("Fake bird", grid, values))
    (rng,) = by_name(fig, "Range: Fake bird")
    pts = np.vstack(segments(rng))
    assert haversine_km(pts, (0.0, 20.0)).max() < 2500
    assert fig.data[0] is rng  # drawn under everything else


# -- assets --------------------------------------------------------------------------------


def test_geo_assets_script_embeds_world_110m():
    script = geo_assets_script()
    assert script.startswith("<script>") and script.endswith("</script>")
    assert "PlotlyGeoAssets" in script and head_html() == script
    payload = re.search(r"\['world_110m'\]=(\{.*\});\}\)\(window\)", script, re.S).group(1)
    topo = json.loads(payload)
    assert topo["type"] == "Topology"
    assert len(topo["objects"]["countries"]["geometries"]) > 150
    assert {"land", "ocean", "coastlines", "lakes"} <= set(topo["objects"])
    assert script.count("</script>") == 1


def test_standalone_html_inlines_plotly_and_assets_before_drawing(tmp_path, paris_kauai):
    path = write_standalone_html(paris_kauai[2], tmp_path / "map.html")
    text = path.read_text(encoding="utf-8")
    assert "<script src=" not in text
    assert text.index("PlotlyGeoAssets") < text.index("Plotly.newPlot")
    assert "<title>Paris vs Kauai</title>" in text
    assert len(text) > 4_000_000  # plotly.js itself is inlined


# -- timeline ------------------------------------------------------------------------------


def clip_with_splice(grid) -> tuple[GeoPrediction, GeoPrediction]:
    audio = gaussian(grid, PARIS, 700.0)
    species = ["Turdus merula", "Erithacus rubecula", ""]
    audio.windows = [WindowPrediction(3.0 * i, 3.0 * i + 3, PARIS[0] + 0.2 * i, PARIS[1], 0.1, species[i % 3],
                                      0.5 + 0.03 * i) for i in range(8)]
    audio.windows[5] = WindowPrediction(15.0, 18.0, -33.9, 151.2, 0.4, "Manorina melanocephala", 0.95)
    frames = gaussian(grid, KAUAI, 400.0, modality="image")
    frames.windows = ([WindowPrediction(t, t, KAUAI[0], KAUAI[1], 0.3) for t in (0.0, 8.0, 16.0)]
                      + [WindowPrediction(20.0, 20.0)])
    return audio, frames


def test_window_timeline_rows_and_spliced_window(grid):
    audio, frames = clip_with_splice(grid)
    fig = window_timeline(audio, frames=frames)
    bars = [t for t in fig.data if isinstance(t, go.Bar)]
    assert {b.name for b in bars} == {"Turdus merula", "Erithacus rubecula", "Manorina melanocephala",
                                      "(nothing detected)"}
    assert sum(len(b.x) for b in bars) == 8
    (splice,) = [b for b in bars if b.name == "Manorina melanocephala"]
    assert splice.x == (16.5,) and splice.y == (0.95,) and splice.width == (3.0,)
    (dist,) = [t for t in fig.data if t.name == "Audio window vs clip guess"]
    assert dist.yaxis == "y2" and bars[0].yaxis == "y"
    d = np.asarray(dist.y)
    assert int(np.argmax(d)) == 5 and d[5] > 10_000 and np.all(np.delete(d, 5) < 400)
    assert dist.marker.color[5] != dist.marker.color[0]  # outside the 90% radius, flagged
    (fr,) = [t for t in fig.data if t.name == "Video frame vs audio guess"]
    assert len(fr.x) == 3 and np.allclose(fr.y, haversine_km(KAUAI, audio.point), atol=1)
    assert fig.layout.xaxis2.title.text == "time (s)"


def test_window_distances_skip_windows_without_location():
    d = window_distances_km([WindowPrediction(0, 1, 0.0, 0.0), WindowPrediction(1, 2)], (0.0, 1.0))
    assert d[0] == pytest.approx(111.19, abs=0.01) and np.isnan(d[1])


def test_window_timeline_without_windows(grid):
    fig = window_timeline(gaussian(grid, PARIS, 700.0))
    assert not [t for t in fig.data if isinstance(t, go.Bar)]
    assert any("no per-window" in a.text for a in fig.layout.annotations)


def test_region_without_cells_falls_back_to_its_radius_circle(grid):
    pred = gaussian(grid, PARIS, 700.0)
    for r in pred.regions:
        r.cells = []
    (r90,) = by_name(prediction_map(pred, show_surface=False), "Audio 90% region")
    pts = np.vstack(segments(r90))
    assert np.allclose(haversine_km(pts, pred.point), pred.region(0.9).radius_km, atol=0.05)


def test_claims_are_stars_in_their_tolerance_circles_coloured_by_verdict(grid):
    from geoforensics.viz import ClaimMarker
    from geoforensics.viz.maps import CLAIM_COLORS

    audio = gaussian(grid, PARIS, 800)
    claims = [ClaimMarker(*KAUAI, "Lihue <b>", "mismatch", 300.0, "your claim", 0.99),
              ClaimMarker(*PARIS, "Paris", "consistent", 300.0, "the file says")]
    fig = prediction_map(audio, claims=claims)
    stars = [t for t in by_name(fig, "Claimed place") if t.mode == "markers"]
    assert [t.name for t in stars] == ["Claimed place (your claim): MISMATCH",
                                       "Claimed place (the file says): CONSISTENT"]
    assert [t.marker.color for t in stars] == [CLAIM_COLORS["mismatch"], CLAIM_COLORS["consistent"]]
    assert stars[0].marker.symbol == "star" and (stars[0].lat[0], stars[0].lon[0]) == KAUAI
    assert "mismatch score 0.99" in stars[0].hovertext[0]
    circles = [t for t in by_name(fig, "Claimed place") if t.mode == "lines"]
    assert len(circles) == 2 and circles[0].line.dash == "dash"
    ring = np.concatenate([s for s in segments(circles[0])])
    assert np.allclose(haversine_km(ring, KAUAI), 300.0, rtol=0.01)
    (path,) = by_name(fig, "Audio guess ↔ claim")  # only the headline claim is joined to the audio guess
    d = discrepancy_km(audio, KAUAI)
    assert path.name == f"Audio guess ↔ claim: {d:,.0f} km"
    assert fig.data[-1].name.startswith("Claimed place")  # drawn last: on top of the surfaces


def test_timeline_shades_the_spans_of_a_splice(grid):
    from geoforensics.viz import TimeSpan

    windows = [WindowPrediction(i * 1.5, i * 1.5 + 3, *PARIS, 0.5, "Eurasian Blue Tit", 0.9) for i in range(10)]
    pred = gaussian(grid, PARIS, 500)
    pred.windows = windows
    spans = [TimeSpan(0.0, 7.5, "before 7.5 s: near Paris"), TimeSpan(7.5, 16.5, "after: near Sydney")]
    fig = window_timeline(pred, spans=spans)
    rects = [s for s in fig.layout.shapes if s.type == "rect"]
    assert len(rects) == 4 and {(r.x0, r.x1) for r in rects} == {(0.0, 7.5), (7.5, 16.5)}  # both panels
    assert len([s for s in fig.layout.shapes if s.type == "line" and s.x0 == 7.5]) == 2  # the change, on both panels
    assert ([a.text for a in fig.layout.annotations if a.text.startswith(("before", "after"))]
            == [s.label for s in spans])
    assert not [s for s in window_timeline(pred).layout.shapes if s.type == "rect"]


def test_standalone_html_notes_are_escaped(tmp_path, paris_kauai):
    out = write_standalone_html(prediction_map(paris_kauai[0]), tmp_path / "m.html",
                                notes=["MISMATCH: <script>x</script>", "two"])
    text = out.read_text()
    assert "MISMATCH: &lt;script&gt;x&lt;/script&gt;" in text and "<p style=\"margin:4px 0\">two</p>" in text
