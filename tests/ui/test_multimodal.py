"""The multimodal tab: species affinity, audio matching and, with ``GEOFORENSICS_CLIP_CONFIG=tiny-test``,
the text and image wiring end to end (handlers, then the launched tab in chromium, offline)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import gradio as gr
import pandas as pd
import plotly.graph_objects as go
import pytest

from geoforensics.paths import package_dir
from geoforensics.ui.multimodal_tab import (
    CLIP_COMMAND,
    MATCH_HEADERS,
    build_multimodal_tab,
    clip_status,
    match_audio,
    query_image,
    query_species_affinity,
    query_text,
    species_dropdown_choices,
    status_markdown,
)

from .conftest import EAGLE, free_port

KAUAI = package_dir("geoclip") / "images" / "Kauai.png"


def error_text(excinfo: pytest.ExceptionInfo) -> str:
    msg = excinfo.value.message
    assert "\n" not in msg and "Traceback" not in msg
    return msg


def test_species_affinity_handler():
    summary, fig, top, raw = query_species_affinity("Aquila adalberti")
    assert "Soundscape affinity: Spanish Eagle" in summary and "Sounds like it belongs near" in summary
    assert isinstance(fig, go.Figure) and len(fig.data) > 2
    assert isinstance(top, pd.DataFrame) and top.iloc[0]["place"].endswith(", ES")
    lat, lon = raw["point"]
    assert 36 < lat < 44 and -10 < lon < 4
    with pytest.raises(gr.Error) as e:
        query_species_affinity("Aquila adalbertii")
    assert "did you mean Aquila adalberti (Spanish Eagle)" in error_text(e)
    with pytest.raises(gr.Error) as e:
        query_species_affinity("")
    assert "No species" in error_text(e)
    choices = species_dropdown_choices()
    assert ("Spanish Eagle (Aquila adalberti)", "Aquila adalberti") in choices and len(choices) > 6000


def test_match_audio_needs_candidates_and_says_why_without_clip(monkeypatch):
    monkeypatch.delenv("GEOFORENSICS_CLIP_CONFIG", raising=False)
    with pytest.raises(gr.Error) as e:
        match_audio(str(EAGLE), "", "  \n ", None)
    assert "Nothing to match" in error_text(e)
    with pytest.raises(gr.Error) as e:
        match_audio(None, "", "a forest", None)
    assert "No audio" in error_text(e)
    if clip_status("text")[0]:
        pytest.skip("CLIP weights present here: the 'not available' path cannot be shown")
    with pytest.raises(gr.Error) as e:
        match_audio(str(EAGLE), "", "a forest in Spain", None)
    assert "not available" in error_text(e) and CLIP_COMMAND in error_text(e)


def test_tiny_clip_switch_runs_text_image_and_match_handlers(tiny_clip_env):
    ok, msg = clip_status("text")
    assert ok and "random test weights: answers are meaningless" in msg
    assert "random test weights" in status_markdown()
    summary, fig, top, raw = query_text("a misty pine forest by a lake")
    assert "Text points to" in summary and "meaningless" in summary
    assert raw["modality"] == "text" and raw["gallery_size"] == 5000 and len(top) == 5
    assert isinstance(fig, go.Figure)
    summary, _, _, raw = query_image(str(KAUAI))
    assert "Image points to" in summary and raw["modality"] == "image"
    summary, fig, top, raw, matches = match_audio(str(EAGLE), "2013-04-03", "a beach\na desert\na beach", [str(KAUAI)])
    assert list(matches.columns) == MATCH_HEADERS and len(matches) == 3  # duplicates dropped
    assert sorted(matches["kind"]) == ["image", "text", "text"] and list(matches["rank"]) == [1, 2, 3]
    assert matches["overlap"].between(0, 1).all() and raw["evidence"][0]["scientific_name"] == "Aquila adalberti"
    assert "Best fit" in summary and "meaningless" in summary


def test_api_names_include_species_affinity():
    with gr.Blocks() as demo:
        build_multimodal_tab()
    apis = {d.get("api_name") for d in demo.config["dependencies"]}
    assert {"query_text", "query_image", "query_audio", "species_affinity", "match_audio"} <= apis


# -- in the browser -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def tiny_clip_app(tiny_clip_env) -> Iterator[str]:
    """The multimodal tab alone, launched like the app (offline map assets in the head)."""
    from geoforensics.ui import QUEUE_OPTIONS, launch_options

    with gr.Blocks() as demo:
        build_multimodal_tab()
    demo.queue(**QUEUE_OPTIONS)
    port = free_port()
    demo.launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True, **launch_options())
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        demo.close()


@pytest.mark.browser
def test_text_query_in_the_browser_with_random_test_clip(chromium: Any, tiny_clip_app: str):
    from .test_app_browser import ARTIFACTS, announcements, map_countries, record_announcements

    context = chromium.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    blocked: list[str] = []

    def route(r: Any) -> None:
        if r.request.url.startswith(tiny_clip_app + "/") or r.request.url == tiny_clip_app:
            r.continue_()
        else:
            blocked.append(r.request.url)
            r.abort()

    try:
        page.route("**/*", route)
        page.goto(tiny_clip_app + "/")
        page.wait_for_function(
            "() => (document.querySelector('#gf-mm-status') || {innerText: ''})"
            ".innerText.includes('random test weights')",
            timeout=60_000,
        )
        status = page.locator("#gf-mm-status").inner_text()
        assert "text queries available" in status and "answers are meaningless" in status
        # opens on a query that works offline
        assert page.get_by_role("tab", name="Audio", exact=True).get_attribute("aria-selected") == "true"
        page.get_by_role("tab", name="Text", exact=True).click()
        record_announcements(page)
        page.get_by_label("Describe a place").fill("a misty pine forest by a lake")
        page.get_by_role("button", name="Locate text").click()
        page.wait_for_function("() => document.querySelector('#gf-mm-summary').innerText.includes('Text points to')",
                               timeout=60_000)
        page.wait_for_selector("#gf-mm-map .geolayer .layer.countries path", state="attached", timeout=30_000)
        page.wait_for_timeout(500)
        assert map_countries(page, "#gf-mm-map") > 50
        assert "meaningless" in page.locator("#gf-mm-summary").inner_text()
        assert page.locator(".toast-body").count() == 0
        page.wait_for_timeout(6000)  # the status announcer speaks up to 5 s after a result
        said = announcements(page)
        assert "Complete" in said and "common.complete" not in said  # once Gradio's untranslated key, read out
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "ui_multimodal_tiny_clip.png"), full_page=True)
        assert blocked == []
    finally:
        context.close()
