"""Shared fixtures: Debian chromium through Playwright, with the network cut off."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path("/usr/bin/chromium")


@pytest.fixture(scope="module")
def isolated_module_cache(tmp_path_factory) -> Iterator[None]:
    """Module-scoped caches and weights folders, so module fixtures never touch ~/.cache."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("GEOFORENSICS_CACHE", str(tmp_path_factory.mktemp("cache")))
        mp.setenv("GEOFORENSICS_WEIGHTS", str(tmp_path_factory.mktemp("weights")))
        yield


@pytest.fixture
def isolated_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A fresh, empty cache and weights folder for one test."""
    monkeypatch.setenv("GEOFORENSICS_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("GEOFORENSICS_WEIGHTS", str(tmp_path / "weights"))


def _drop_test_clip_geolocators() -> None:
    from geoforensics.geolocators import registry as geo_registry

    for key in [k for k in geo_registry._CACHE if any(opt == "clip_config" for opt, _ in k[1])]:
        del geo_registry._CACHE[key]


@pytest.fixture(scope="module")
def tiny_clip_env() -> Iterator[None]:
    """GEOFORENSICS_CLIP_CONFIG=tiny-test (a tiny random CLIP stands in for ViT-L/14), and GeoCLIP's 100K
    gallery cut to every 20th point so a fresh cache computes its location embeddings in seconds."""
    import numpy as np

    from geoforensics.geo.galleries import GALLERIES, load_gps_gallery_100k

    small = np.ascontiguousarray(load_gps_gallery_100k()[::20])
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("GEOFORENSICS_CLIP_CONFIG", "tiny-test")
        mp.setitem(GALLERIES, "geoclip-100k", replace(GALLERIES["geoclip-100k"], build=lambda params: small))
        _drop_test_clip_geolocators()
        yield
        _drop_test_clip_geolocators()


@dataclass
class OfflinePage:
    """A Playwright page that may load only file:// URLs; every other request is aborted and listed."""

    page: Any
    blocked: list[str] = field(default_factory=list)


@pytest.fixture(scope="session")
def chromium() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} not installed")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as e:
        pytest.skip(f"playwright not importable: {e}")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        yield browser
        browser.close()


@pytest.fixture
def offline_page(chromium: Any) -> Iterator[OfflinePage]:
    context = chromium.new_context(viewport={"width": 1200, "height": 640})
    page = context.new_page()
    out = OfflinePage(page)

    def route(r: Any) -> None:
        if r.request.url.startswith("file:"):
            r.continue_()
        else:
            out.blocked.append(r.request.url)
            r.abort()

    page.route("**/*", route)
    yield out
    context.close()
