"""The maps in a real browser with the network cut off: outlines, hexagons, markers and the path."""

import shutil
from pathlib import Path

import numpy as np
import pytest

from geoforensics.geo.geodesy import haversine_km
from geoforensics.prediction import GeoPrediction, WindowPrediction
from geoforensics.viz import discrepancy_km, head_html, prediction_map, window_timeline, write_standalone_html

pytestmark = pytest.mark.browser

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
PARIS = (48.85, 2.35)
KAUAI = (22.05, -159.5)
LAND_RGB = (0xEF, 0xEB, 0xE1)
OCEAN_RGB = (0xD4, 0xE4, 0xF1)


@pytest.fixture(scope="module")
def grid() -> np.ndarray:
    lat, lon = np.meshgrid(np.arange(-88.0, 89.0, 1.0), np.arange(-180.0, 180.0, 1.0), indexing="ij")
    return np.column_stack([lat.ravel(), lon.ravel()])


def gaussian(grid: np.ndarray, centre: tuple[float, float], sigma_km: float, **meta) -> GeoPrediction:
    return GeoPrediction.from_log_scores(grid, -((haversine_km(grid, centre) / sigma_km) ** 2), names=False, **meta)


def dom_summary(page) -> dict:
    return page.evaluate(
        """() => {
        const subpaths = sel => {
            const p = document.querySelector(sel);
            return p ? (p.getAttribute('d') || '').split('M').length - 1 : 0;
        };
        const lines = [...document.querySelectorAll('.geolayer .scattergeo path.js-line')];
        const filled = lines.filter(p => {
            const f = getComputedStyle(p).fill;
            return f && f !== 'none' && !f.endsWith(', 0)');
        });
        return {
            countries: subpaths('.geolayer .layer.countries path'),
            land: subpaths('.geolayer .layer.land path'),
            points: document.querySelectorAll('.geolayer .scattergeo path.point').length,
            lines: lines.length,
            filled: filled.length,
            filledArea: filled.map(p => {
                const b = p.getBBox();
                return b.width * b.height;
            }).reduce((a, b) => a + b, 0),
            texts: [...document.querySelectorAll('.geolayer .scattergeo text')].map(t => t.textContent),
        };
    }"""
    )


def colour_fraction(img: np.ndarray, rgb: tuple[int, int, int], tol: int = 6) -> float:
    return float(np.all(np.abs(img[..., :3].astype(int) - np.array(rgb)) <= tol, axis=-1).mean())


def test_standalone_map_renders_offline(tmp_path, offline_page, grid):
    audio = gaussian(grid, PARIS, 700.0, modality="audio")
    image = gaussian(grid, KAUAI, 400.0, modality="image")
    fig = prediction_map(audio, image, title="Audio vs image, offline")
    html = write_standalone_html(fig, tmp_path / "map.html")
    page = offline_page.page
    page.goto(html.as_uri())
    page.wait_for_selector(".geolayer .layer.countries path", state="attached", timeout=30_000)
    page.wait_for_timeout(300)

    dom = dom_summary(page)
    assert offline_page.blocked == []  # nothing was even attempted off the machine
    assert dom["countries"] > 100 and dom["land"] > 50
    top_k = len(audio.top_k) + len(image.top_k)
    assert dom["points"] >= top_k + 2  # top-k candidates and the two guesses
    assert dom["filled"] >= len([t for t in fig.data if t.fill == "toself"])
    assert dom["filledArea"] > 1000
    assert f"{discrepancy_km(audio, image):,.0f} km" in dom["texts"]

    shot = tmp_path / "map.png"
    page.screenshot(path=str(shot), full_page=True)
    ARTIFACTS.mkdir(exist_ok=True)
    shutil.copy(shot, ARTIFACTS / "map.png")

    Image = pytest.importorskip("PIL.Image")
    img = np.asarray(Image.open(shot).convert("RGB"))
    assert colour_fraction(img, LAND_RGB) > 0.05
    assert colour_fraction(img, OCEAN_RGB) > 0.05
    r, g, b = (img[..., i].astype(int) for i in range(3))
    assert ((r > 180) & (g < 170) & (b < 130) & (r - b > 90)).sum() > 500  # orange audio hexagons
    assert ((b > 150) & (r < 120) & (b - r > 60)).sum() > 100  # blue image hexagons
    assert ((abs(r - 0x6A) < 25) & (abs(g - 0x3D) < 25) & (abs(b - 0x9A) < 25)).sum() > 100  # purple path


def test_plain_plotly_html_draws_no_outlines_offline(tmp_path, offline_page, grid):
    """The problem the bundled assets solve: without them plotly.js fetches world_110m from a CDN."""
    fig = prediction_map(gaussian(grid, PARIS, 700.0))
    path = tmp_path / "plain.html"
    fig.write_html(path, include_plotlyjs=True)
    page = offline_page.page
    page.goto(path.as_uri())
    page.wait_for_selector(".js-plotly-plot", state="attached", timeout=30_000)
    page.wait_for_timeout(1500)
    assert any("world_110m" in url for url in offline_page.blocked)
    assert dom_summary(page)["countries"] == 0


def test_head_html_works_when_it_follows_plotly_js(tmp_path, offline_page, grid):
    """As in an app whose plotly.js loads first and whose head carries ``head_html()``."""
    from plotly.offline import get_plotlyjs

    fig = prediction_map(gaussian(grid, PARIS, 700.0), gaussian(grid, KAUAI, 400.0))
    page_html = (
        f"<!DOCTYPE html><html><head><meta charset='utf-8'><script>{get_plotlyjs()}</script>{head_html()}</head>"
        f"<body><div id='g'></div><script>Plotly.newPlot('g', {fig.to_json()});</script></body></html>"
    )
    path = tmp_path / "head.html"
    path.write_text(page_html, encoding="utf-8")
    page = offline_page.page
    page.goto(path.as_uri())
    page.wait_for_selector(".geolayer .layer.countries path", state="attached", timeout=30_000)
    assert offline_page.blocked == []
    assert dom_summary(page)["countries"] > 100


def test_timeline_renders_offline(tmp_path, offline_page, grid):
    audio = gaussian(grid, PARIS, 700.0)
    audio.windows = [WindowPrediction(3.0 * i, 3.0 * i + 3, PARIS[0], PARIS[1], 0.1, "Turdus merula", 0.8)
                     for i in range(5)]
    html = write_standalone_html(window_timeline(audio), tmp_path / "timeline.html")
    page = offline_page.page
    page.goto(html.as_uri())
    page.wait_for_selector(".barlayer .bars path", state="attached", timeout=30_000)
    assert page.locator(".barlayer .bars path").count() == 5
    assert offline_page.blocked == []
