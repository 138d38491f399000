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


def test_forensics_tab_end_to_end(app_page, demo_video):
    page, blocked = app_page
    ARTIFACTS.mkdir(exist_ok=True)
    page.locator("#gf-upload input[type=file]").set_input_files(str(demo_video))
    page.wait_for_selector("#gf-upload >> text=kauai_with_european_birds.mp4", timeout=30_000)
    page.get_by_role("button", name="Analyze", exact=True).click()
    page.wait_for_function(
        "badges => { const t = document.querySelector('#gf-verdict').innerText; return badges.some(b => t.includes(b)); }",
        arg=list(BADGES),
        timeout=120_000,
    )
    page.wait_for_selector("#gf-forensics-map .geolayer .layer.countries path", state="attached", timeout=30_000)
    page.wait_for_timeout(800)

    verdict = page.locator("#gf-verdict").inner_text()
    assert re.search(r"\d km", verdict)
    assert map_countries(page, "#gf-forensics-map") > 50
    assert page.locator("#gf-forensics-map .geolayer .scattergeo path.point").count() >= 6  # top-5 and the guess
    assert "not available" in page.locator("#gf-image-status").inner_text() or "frames" in page.locator("#gf-image-status").inner_text()
    assert page.locator("#gf-timeline .barlayer .bars path").count() > 3
    assert "Cyanistes caeruleus" in page.locator("#gf-evidence").inner_text()
    assert "never used by the predictions" in page.content()
    assert blocked == []  # the page needed nothing from outside the app's own origin
    page.screenshot(path=str(ARTIFACTS / "ui_forensics.png"), full_page=True)

    page.get_by_label("Draw a species' range on the map (green)").first.click()
    page.get_by_role("option", name=re.compile("Eurasian Blue Tit")).click()
    page.wait_for_function(
        "() => [...document.querySelectorAll('#gf-forensics-map .legendtext')].some(t => t.textContent.startsWith('Range: '))",
        timeout=30_000,
    )
    page.locator("#gf-forensics-map").screenshot(path=str(ARTIFACTS / "ui_forensics_range.png"))


def test_audio_and_multimodal_tabs(app_page):
    page, blocked = app_page
    page.get_by_role("tab", name="Audio geolocation").click()
    page.get_by_text("Spanish Imperial Eagle · Spain").first.click()
    page.wait_for_timeout(500)
    page.get_by_role("button", name="Locate", exact=True).click()
    page.wait_for_function("() => document.querySelector('#gf-audio-summary').innerText.includes('Best guess')", timeout=120_000)
    page.wait_for_selector("#gf-audio-map .geolayer .layer.countries path", state="attached", timeout=30_000)
    page.wait_for_timeout(500)
    assert map_countries(page, "#gf-audio-map") > 50
    assert "Spanish" in page.locator("#gf-audio-summary").inner_text()
    page.screenshot(path=str(ARTIFACTS / "ui_audio.png"), full_page=True)

    page.get_by_role("tab", name="Multimodal query").click()
    status = page.locator("#gf-mm-status").inner_text()
    assert "audio queries available" in status
    assert ("text queries available" in status) or ("geoforensics weights fetch clip-vit-l-14-openai" in status)
    if "text queries available" not in status:
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
