"""The Gradio app: one builder per tab, assembled by ``build_demo``.

Launch it with the options in ``launch_options`` (the map outlines go in the page head, so the maps
render offline) and the queue in ``QUEUE_OPTIONS``; ``app.py`` and ``geoforensics app`` do both.
Every heavy event shares one concurrency group sized by ``AppLimits`` (GEOFORENSICS_WORKERS,
GEOFORENSICS_QUEUE_SIZE); redraws skip the queue. Downloads are written only when asked for, Gradio's
cache is cleaned on a schedule (``DELETE_CACHE``), and SIGTERM shuts down like Ctrl-C, leaving nothing.
"""

from __future__ import annotations

import os
from typing import Any

import gradio as gr

from .about_tab import build_about_tab
from .guard import AppGuard
from .inputs import EXAMPLES_DIR
from .lifecycle import empty_cache_at_exit, exit_on_sigterm
from .limits import APP_LIMITS, DELETE_CACHE, LIMITS, AppLimits

TITLE = "geoforensics — where was this recorded?"
QUEUE_OPTIONS: dict[str, Any] = APP_LIMITS.queue_options()
CSS = """
.gf-panel { padding: 4px 2px; }
.gf-badge { display: inline-block; padding: 1px 10px; margin-right: 6px; border-radius: 4px; font-weight: 700;
            letter-spacing: 0.05em; color: #fff; background: #616161; }
.gf-consistent { background: #2e7d32; }
.gf-mismatch { background: #c62828; }
.gf-uncertain { background: #b45309; }
.gf-inconclusive { background: #616161; }
.gf-badge-sm { padding: 0 6px; font-size: 0.8em; font-weight: 600; }
.gf-tag { display: inline-block; padding: 0 8px; margin-right: 6px; border-radius: 10px; font-size: 0.85em;
          font-weight: 600; border: 1px solid #9e9e9e; color: #424242; }
.gf-tag.gf-ok { border-color: #2e7d32; color: #1b5e20; background: #e8f5e9; }
.gf-tag.gf-no { border-color: #9e9e9e; color: #616161; background: #f5f5f5; }
#gf-image-status { border-left: 3px solid #2171b5; padding-left: 8px; }
.gf-metadata { border: 1px dashed #8d6e63 !important; }
.gf-metadata-title { padding: 8px 12px 2px 12px; background: #fff8e1; }
.gf-metadata-title h4 { margin: 0; color: #5d4037; font-weight: 600; }
.gf-note { color: var(--body-text-color-subdued); }
.gf-results .empty.large { min-height: 0 !important; height: 3.5em !important; }
.gf-results .empty .icon { height: 1.5em !important; width: 1.5em !important; }
"""
I18N = gr.I18n(en={"common": {"complete": "Complete"}})  # type: ignore[dict-item]  # nested keys work; the stub says str
"""Words Gradio's own components ask for and its English table lacks: without ``common.complete`` the
status announcer under each result reads out the raw key "common.complete"."""
INTRO = (
    "## geoforensics\n"
    "Where was this recorded? Does this soundtrack belong to the place it claims? "
    "Predictions use the sound (bird species heard) and the picture, never the file's tags; "
    "a place the clip is said to come from (typed, clicked on the map, or the file's GPS tag) is tested against "
    "the sound."
)


def build_demo(limits: AppLimits | None = None) -> gr.Blocks:
    """The app: forensics, audio geolocation, multimodal queries and an about tab; heavy events run
    under ``limits`` (default ``APP_LIMITS``, from the environment). Also makes SIGTERM close the app
    cleanly (``exit_on_sigterm``) and its files leave Gradio's cache at exit (``empty_cache_at_exit``)."""
    limits = limits or APP_LIMITS
    exit_on_sigterm()
    from .audio_tab import build_audio_tab  # lazy: loads plotly
    from .forensics_tab import build_forensics_tab  # lazy: loads plotly
    from .multimodal_tab import build_multimodal_tab  # lazy: loads plotly

    with gr.Blocks(title=TITLE, analytics_enabled=False, delete_cache=DELETE_CACHE) as demo:
        gr.Markdown(INTRO)
        with gr.Tabs():
            with gr.Tab("Forensics: video or audio", id="forensics"):
                build_forensics_tab(limits)
            with gr.Tab("Audio geolocation", id="audio"):
                build_audio_tab(limits)
            with gr.Tab("Multimodal query", id="multimodal"):
                build_multimodal_tab(limits)
            with gr.Tab("About", id="about"):
                build_about_tab()
    empty_cache_at_exit(demo)
    built: gr.Blocks = demo
    return built


def launch_options() -> dict[str, Any]:
    """``launch`` keywords shared by ``app.py``, ``geoforensics app`` and the tests."""
    from gradio.utils import get_upload_folder
    from starlette.middleware import Middleware

    from ..viz import head_html  # lazy: loads plotly
    from .forensics_tab import MAP_CLICK_JS  # lazy: loads plotly

    allowed = [str(EXAMPLES_DIR)] if EXAMPLES_DIR is not None else []
    return {
        "app_kwargs": {"middleware": [Middleware(AppGuard, upload_dir=get_upload_folder)]},
        "head": head_html() + f"<script>{MAP_CLICK_JS}</script>",
        "i18n": I18N,
        "css": CSS,
        "max_file_size": LIMITS.max_bytes,
        "show_error": True,
        "allowed_paths": allowed,
    }


def serve(
    server_name: str | None = None, server_port: int | None = None, limits: AppLimits | None = None, **kwargs: Any
) -> Any:
    """Build, queue and launch the app (blocking unless ``prevent_thread_lock=True``)."""
    limits = limits or APP_LIMITS
    demo = build_demo(limits).queue(**limits.queue_options())
    return demo.launch(
        server_name=server_name or os.environ.get("GRADIO_SERVER_NAME", "127.0.0.1"),
        server_port=server_port or int(os.environ.get("GRADIO_SERVER_PORT", "7860")),
        **{**launch_options(), **kwargs},
    )


__all__ = ["APP_LIMITS", "CSS", "I18N", "QUEUE_OPTIONS", "AppLimits", "TITLE", "build_demo", "launch_options", "serve"]
