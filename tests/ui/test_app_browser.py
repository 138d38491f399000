"""The launched app in Debian chromium with every request off its own origin refused."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.browser

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
BADGES = ("CONSISTENT", "MISMATCH", "UNCERTAIN", "INCONCLUSIVE")


@pytest.fixture
def app_page(chromium: Any, app_url: str) -> Iterator[tuple[Any, list[str]]]:
    context = chromium.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    blocked: list[str] = []

    def route(r: Any) -> None:
        if r.request.url.startswith(app_url + "/") or r.request.url == app_url:
            r.continue_()
        else:
            blocked.append(r.request.url)
            r.abort()

    page.route("**/*", route)
    page.goto(app_url + "/")
    page.wait_for_selector("#gf-verdict", timeout=60_000)
    yield page, blocked
    context.close()


def map_countries(page: Any, container: str) -> int:
    """Sub-paths of the country outlines drawn inside ``container`` (0 before the map renders)."""
    return page.evaluate(
        """sel => { const p = document.querySelector(sel + ' .geolayer .layer.countries path');
                    return p ? (p.getAttribute('d') || '').split('M').length - 1 : 0; }""",
        container,
    )


def record_announcements(page: Any) -> None:
    """Keep every text Gradio's status trackers announce to screen readers (a visually hidden live
    region that holds each message for a second) in ``window.__said``."""
    page.evaluate(
        """() => { window.__said = [];
             new MutationObserver(ms => { for (const m of ms) {
                 const el = m.target.nodeType === 3 ? m.target.parentElement : m.target;
                 const box = el && el.closest && el.closest('.sr-only');
                 if (box && box.textContent) window.__said.push(box.textContent); } })
             .observe(document.body, {subtree: true, childList: true, characterData: true}); }"""
    )


def announcements(page: Any) -> list[str]:
    return page.evaluate("() => window.__said || []")


def test_forensics_tab_end_to_end(app_page, demo_video):
    page, blocked = app_page
    ARTIFACTS.mkdir(exist_ok=True)
    page.locator("#gf-upload input[type=file]").set_input_files(str(demo_video))
    page.wait_for_selector("#gf-upload >> text=kauai_with_european_birds.mp4", timeout=30_000)
    page.get_by_role("button", name="Analyze", exact=True).click()
    page.wait_for_function(
        "badges => { const t = document.querySelector('#gf-verdict').innerText; "
        "return badges.some(b => t.includes(b)); }",
        arg=list(BADGES),
        timeout=120_000,
    )
    page.wait_for_selector("#gf-forensics-map .geolayer .layer.countries path", state="attached", timeout=30_000)
    page.wait_for_timeout(800)

    verdict = page.locator("#gf-verdict").inner_text()
    assert re.search(r"\d km", verdict)
    assert map_countries(page, "#gf-forensics-map") > 50
    assert page.locator("#gf-forensics-map .geolayer .scattergeo path.point").count() >= 6  # top-5 and the guess
    assert ("not available" in page.locator("#gf-image-status").inner_text()
            or "frames" in page.locator("#gf-image-status").inner_text())
    assert page.locator("#gf-timeline .barlayer .bars path").count() > 3
    assert "Cyanistes caeruleus" in page.locator("#gf-evidence").inner_text()
    assert "never used by the predictions" in page.content()
    assert blocked == []  # the page needed nothing from outside the app's own origin
    page.screenshot(path=str(ARTIFACTS / "ui_forensics.png"), full_page=True)

    page.get_by_label("Draw a species' range on the map (green)").first.click()
    page.get_by_role("option", name=re.compile("Eurasian Blue Tit")).click()
    page.wait_for_function(
        "() => [...document.querySelectorAll('#gf-forensics-map .legendtext')]"
        ".some(t => t.textContent.startsWith('Range: '))",
        timeout=30_000,
    )
    page.locator("#gf-forensics-map").screenshot(path=str(ARTIFACTS / "ui_forensics_range.png"))

    assert "_map" not in page.locator("#gf-downloads").inner_text()  # written only when asked for
    for empty in ("#gf-downloads", "#gf-evidence-files"):
        assert page.locator(empty).bounding_box()["height"] < 120, "an empty download box stays small"
    page.locator("#gf-prepare-downloads").click()
    page.wait_for_selector("#gf-downloads >> text=kauai_with_european_birds_map", timeout=60_000)
    listed = page.locator("#gf-downloads").inner_text().split()  # Gradio shows each name and its suffix apart
    assert "kauai_with_european_birds" in listed and ".json" in listed and ".html" in listed


def test_audio_and_multimodal_tabs(app_page):
    page, blocked = app_page
    page.get_by_role("tab", name="Audio geolocation").click()
    page.get_by_text("Spanish Imperial Eagle · Spain").first.click()
    page.wait_for_timeout(500)
    page.get_by_role("button", name="Locate", exact=True).click()
    page.wait_for_function("() => document.querySelector('#gf-audio-summary').innerText.includes('Best guess')",
                           timeout=120_000)
    page.wait_for_selector("#gf-audio-map .geolayer .layer.countries path", state="attached", timeout=30_000)
    page.wait_for_timeout(500)
    assert map_countries(page, "#gf-audio-map") > 50
    assert "Spanish" in page.locator("#gf-audio-summary").inner_text()
    page.screenshot(path=str(ARTIFACTS / "ui_audio.png"), full_page=True)

    page.get_by_role("tab", name="Multimodal query").click()
    assert page.get_by_role("tab", name="Audio", exact=True).get_attribute("aria-selected") == "true"  # works offline
    status = page.locator("#gf-mm-status").inner_text()
    assert "audio queries available" in status
    assert ("text queries available" in status) or ("geoforensics weights fetch clip-vit-l-14-openai" in status)
    if "text queries available" not in status:
        page.get_by_role("tab", name="Text", exact=True).click()
        page.get_by_label("Describe a place").fill("a misty pine forest by a lake")
        page.get_by_role("button", name="Locate text").click()
        toast = page.locator(".toast-body").first
        toast.wait_for(timeout=30_000)
        message = toast.inner_text()
        assert "not available" in message and "geoforensics weights fetch clip-vit-l-14-openai" in message
        assert "Traceback" not in message
        page.wait_for_timeout(500)
    page.screenshot(path=str(ARTIFACTS / "ui_multimodal.png"), full_page=True)
    assert blocked == []


def plot_traces(page: Any, container: str) -> list[dict]:
    """Name, mode and first point of each trace of the plotly figure inside ``container``."""
    return page.evaluate(
        """sel => (document.querySelector(sel + ' .js-plotly-plot').data || []).map(
               t => ({name: t.name || '', mode: t.mode || '', lat: (t.lat || [])[0], lon: (t.lon || [])[0]}))""",
        container,
    )


def click_map_at(page: Any, lat: float, lon: float) -> None:
    """A real mouse click where (lat, lon) is drawn on the forensics map."""
    x, y = page.evaluate(
        """([lat, lon]) => { const gd = document.querySelector('#gf-forensics-map .js-plotly-plot');
               const p = gd._fullLayout.geo._subplot.projection([lon, lat]);
               const r = gd.querySelector('svg.main-svg').getBoundingClientRect();
               return [r.left + p[0], r.top + p[1]]; }""",
        [lat, lon],
    )
    page.mouse.click(x, y)


def test_flagship_example_with_its_claim_then_a_map_click(app_page):
    """The flagship example row fills the file and the claim; the verdict is MISMATCH offline, the claimed
    place is drawn; a click on Sweden then tests that place instead: CONSISTENT."""
    page, blocked = app_page
    ARTIFACTS.mkdir(exist_ok=True)
    record_announcements(page)
    page.get_by_text("Kauai video with Swedish birds, said to be Lihue").click()
    page.wait_for_selector("#gf-upload >> text=kauai_with_european_birds", timeout=30_000)
    assert page.locator("#gf-claim input, #gf-claim textarea").first.input_value() == "Lihue, Kauai, Hawaii"
    page.get_by_role("button", name="Analyze", exact=True).click()
    page.wait_for_selector("#gf-verdict .gf-badge.gf-mismatch", timeout=120_000)
    page.wait_for_selector("#gf-forensics-map .geolayer .layer.countries path", state="attached", timeout=30_000)
    page.wait_for_timeout(800)

    verdict = page.locator("#gf-verdict").inner_text()
    assert verdict.startswith("MISMATCH") and "Lihue, Hawaii, United States" in verdict
    assert "Eurasian Blue Tit (heard at 0.99" in verdict and "does not live there" in verdict
    stars = [t for t in plot_traces(page, "#gf-forensics-map") if t["name"] == "Claimed place (your claim): MISMATCH"]
    assert len(stars) == 1 and stars[0]["mode"] == "markers" and abs(stars[0]["lat"] - 21.98) < 0.01
    legend = page.evaluate(
        "() => [...document.querySelectorAll('#gf-forensics-map .legendtext')].map(t => t.textContent)")
    assert "Claimed place (your claim): MISMATCH" in legend
    table = page.locator("#gf-claim-evidence").inner_text()
    assert "Eurasian Blue Tit (Cyanistes caeruleus)" in table and "lives there?" in table
    assert page.locator("#gf-use-tag").is_disabled()  # the flagship's tags were stripped
    assert blocked == []
    page.screenshot(path=str(ARTIFACTS / "ui_forensics_claim.png"), full_page=True)

    click_map_at(page, 59.33, 18.07)  # Stockholm
    page.wait_for_selector("#gf-verdict .gf-badge.gf-consistent", timeout=60_000)
    claim = page.locator("#gf-claim input, #gf-claim textarea").first.input_value()
    lat, lon = (float(v) for v in claim.split(","))
    assert abs(lat - 59.33) < 0.5 and abs(lon - 18.07) < 0.5  # the point under the click
    assert "(your map click): CONSISTENT" in page.locator("#gf-claim-evidence").inner_text()
    assert any(t["name"] == "Claimed place (your map click): CONSISTENT"
               for t in plot_traces(page, "#gf-forensics-map"))
    page.wait_for_timeout(800)
    page.locator("#gf-forensics-map").screenshot(path=str(ARTIFACTS / "ui_forensics_map_click.png"))
    page.wait_for_timeout(6000)  # announcements are spaced up to 5 s apart
    said = announcements(page)
    assert "Complete" in said and not any("common." in s for s in said)  # no untranslated Gradio key
    assert blocked == []


def test_clip_download_button_against_a_local_server(app_page, tmp_path, monkeypatch):
    """The button runs the weight manager's fetch (checksum and all) in the running app; a tiny file on
    a 127.0.0.1 server stands in for ViT-L/14, so afterwards image geolocation reports available."""
    from geoforensics.forensics.analysis import image_geolocator_status
    from geoforensics.geolocators.image import CLIP_WEIGHTS
    from tests.test_weights_download import Server, register

    page, blocked = app_page
    server = Server()
    try:
        monkeypatch.delenv("GEOFORENSICS_CLIP_CONFIG", raising=False)
        monkeypatch.setenv("GEOFORENSICS_WEIGHTS", str(tmp_path / "weights"))
        register(monkeypatch, server.url("/good.bin"), name=CLIP_WEIGHTS)
        button = page.locator("#gf-clip-download")
        assert button.inner_text() == "Download CLIP ViT-L/14 (0.9 GB) for image geolocation"
        button.click()
        page.wait_for_function(
            "() => document.querySelector('#gf-image-status').innerText.includes('checksum verified')", timeout=60_000
        )
        assert "press Analyze" in page.locator("#gf-image-status").inner_text()
        page.wait_for_selector("#gf-clip-download", state="hidden", timeout=10_000)
        assert server.requests == ["/good.bin"] and image_geolocator_status()[0]
        assert page.locator(".toast-body").count() == 0 and blocked == []
    finally:
        server.close()
