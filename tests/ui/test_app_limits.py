"""The app's bounds: one concurrency group for the heavy work, redraws outside the queue, a friendly
refusal when the queue is full, downloads only on request, a capped exports folder, and nothing left
on disk after SIGTERM. The app runs as ``app.py`` in a subprocess with its own Gradio cache and TMPDIR."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import pytest

from geoforensics.errors import InputError
from geoforensics.paths import PROJECT_ROOT, shared_dir
from geoforensics.ui import build_demo
from geoforensics.ui.clip_weights import CLIP_DOWNLOAD
from geoforensics.ui.exports import ExportStore, tree_bytes
from geoforensics.ui.limits import HEAVY_ID, AppLimits

sys.path.insert(0, str(PROJECT_ROOT))
from benchmarks.app_load import AppServer  # noqa: E402

gradio_client = pytest.importorskip("gradio_client")

HEAVY = {"analyze", "locate_audio", "query_text", "query_text_1", "query_image", "query_audio", "species_affinity",
         "match_audio"}
LIGHT = {"check_claim", "check_claim_1", "pick_alternative", "use_file_tag", "map_click", "species_range",
         "audio_species_range", "prepare_downloads", "prepare_audio_downloads"}
XC = (shared_dir() / "data" / "xc-dev" / "audio" / "XC103543.mp3"
      if shared_dir() else None)  # 14 s, Red Junglefowl, India


def test_heavy_events_share_one_group_and_redraws_skip_the_queue():
    demo = build_demo(AppLimits(workers=3, waiting=5))
    fns = {fn.api_name: fn for fn in demo.fns.values()}
    assert HEAVY | LIGHT <= set(fns)
    for name in HEAVY:
        fn = fns[name]
        assert (fn.concurrency_id, fn.concurrency_limit, fn.queue) == (HEAVY_ID, 3, True), name
        assert fn.validator is not None, name
    for name in LIGHT:
        assert fns[name].queue is False, name
    for name in ("download_clip", "download_clip_here"):
        assert (fns[name].concurrency_id, fns[name].concurrency_limit) == (CLIP_DOWNLOAD["concurrency_id"], 1)
    heavy_ids = {fn.concurrency_id for fn in demo.fns.values() if fn.concurrency_limit == 3}
    assert heavy_ids == {HEAVY_ID}
    assert demo.delete_cache is not None and demo.delete_cache[1] <= 3600


def test_limits_from_the_environment(monkeypatch):
    monkeypatch.delenv("GEOFORENSICS_WORKERS", raising=False)
    monkeypatch.delenv("GEOFORENSICS_QUEUE_SIZE", raising=False)
    default = AppLimits.from_env()
    assert default.workers == max(1, (os.cpu_count() or 1) // 2) and default.waiting >= 16
    monkeypatch.setenv("GEOFORENSICS_WORKERS", "3")
    assert AppLimits.from_env() == AppLimits(3, 24)
    assert AppLimits.from_env(workers=2, waiting=4) == AppLimits(2, 4)
    assert AppLimits(3, 24).queue_options()["max_size"] > 24
    monkeypatch.setenv("GEOFORENSICS_WORKERS", "many")
    with pytest.raises(InputError, match="GEOFORENSICS_WORKERS must be a whole number"):
        AppLimits.from_env()
    monkeypatch.setenv("GEOFORENSICS_WORKERS", "0")
    with pytest.raises(InputError, match="at least 1"):
        AppLimits.from_env()


def _export(store: ExportStore, size: int, mtime: float) -> Path:
    d = store.new_dir()
    (d / "map.html").write_bytes(b"x" * size)
    os.utime(d, (mtime, mtime))
    return d


def test_the_exports_cap_drops_the_oldest_first(tmp_path):
    store = ExportStore(ttl_s=3600, max_bytes=2500, parent=tmp_path)
    now = time.time()
    dirs = [_export(store, 1000, now - 100 + i) for i in range(3)]  # 3000 bytes: over the cap
    assert all(d.exists() for d in dirs)
    newest = store.new_dir()
    assert not dirs[0].exists() and dirs[1].exists() and dirs[2].exists() and newest.exists()
    assert (store.root is not None and store.root.parent == tmp_path
            and store.root.name.startswith("geoforensics-exports-"))
    assert tree_bytes(store.root) <= store.max_bytes


def test_the_exports_older_than_their_age_go(tmp_path):
    store = ExportStore(ttl_s=60, max_bytes=10**9, parent=tmp_path)
    old = _export(store, 10, time.time() - 120)
    young = _export(store, 10, time.time() - 10)
    store.new_dir()
    assert not old.exists() and young.exists()


def test_exports_live_in_gradios_cache_so_it_serves_them_without_a_copy(monkeypatch, tmp_path):
    monkeypatch.setenv("GRADIO_TEMP_DIR", str(tmp_path / "cache"))
    store = ExportStore()
    d = store.new_dir()
    assert d.parent.parent == tmp_path / "cache"


@pytest.mark.skipif(XC is None or not XC.is_file(), reason="../shared/data/xc-dev not available")
def test_an_analysis_keeps_at_most_3_mb_and_sigterm_leaves_nothing(tmp_path):
    with AppServer(tmp_path) as app:
        before = app.disk_bytes()
        client = gradio_client.Client(app.url, verbose=False)
        raw = client.predict(gradio_client.handle_file(str(XC)), "", "", 5.0, "", api_name="/analyze")[8]
        assert raw["audio"]["evidence"][0]["scientific_name"] == "Gallus gallus"
        kept = app.disk_bytes() - before
        assert 0 < kept <= 3_000_000  # the upload itself (0.35 MB); no map or report written unasked
        job = client.submit(gradio_client.handle_file(str(XC)), "", "", 5.0, "", api_name="/analyze")
        deadline = time.monotonic() + 300
        while not list(app.tmp.glob("geoforensics-req-*")) and not job.done() and time.monotonic() < deadline:
            time.sleep(0.05)
        status = app.stop()  # SIGTERM, while the second analysis runs (or just after it)
    assert status == 0, app.log_text()[-2000:]
    assert "Traceback" not in app.log_text()
    assert list(app.tmp.iterdir()) == []
    assert [p for p in app.cache.rglob("*") if p.is_file() or p.name.startswith("geoforensics-")] == []


def _wait_for(job, codes: set[str], other=None) -> str:
    """Poll ``job`` until its status is one of ``codes`` (or it, or ``other``, is done); the last status."""
    while True:
        code = job.status().code.name
        if code in codes or job.done() or (other is not None and other.done()):
            return code
        time.sleep(0.05)


def test_a_full_queue_says_so_with_its_length(tmp_path, demo_video):
    env = {"GEOFORENSICS_WORKERS": "1", "GEOFORENSICS_QUEUE_SIZE": "1"}
    with AppServer(tmp_path, env) as app:
        clients = [gradio_client.Client(app.url, verbose=False) for _ in range(3)]

        def submit(c):
            return c.submit(gradio_client.handle_file(str(demo_video)), "", "", 0.5, "", api_name="/analyze")

        running = submit(clients[0])
        assert _wait_for(running, {"PROCESSING", "PROGRESS"}) in {"PROCESSING", "PROGRESS"}
        waiting = submit(clients[1])
        if _wait_for(waiting, {"IN_QUEUE"}, other=running) != "IN_QUEUE":
            pytest.skip("the first analysis ended before the second was queued")
        with pytest.raises(Exception) as refused:
            submit(clients[2]).result(timeout=600)
        answers = [running.result(timeout=600)[8], waiting.result(timeout=600)[8]]
    text = str(refused.value)
    assert "The app is busy: 1 request already waiting for 1 worker" in text and "try again" in text
    assert "Queue is full" not in text and "Traceback" not in text
    assert (answers[0]["verdict"] == answers[1]["verdict"]
            and answers[0]["audio"]["point"] == answers[1]["audio"]["point"])
