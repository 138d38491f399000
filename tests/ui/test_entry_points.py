"""``app.py`` and ``geoforensics app`` launch the same demo with the same options."""

from __future__ import annotations

import runpy
from pathlib import Path

import gradio as gr

from geoforensics.cli import build_parser
from geoforensics.ui import APP_LIMITS, QUEUE_OPTIONS, AppLimits, launch_options
from geoforensics.ui.limits import LIMITS

ROOT = Path(__file__).resolve().parents[2]


def test_app_py_builds_the_demo_without_launching():
    ns = runpy.run_path(str(ROOT / "app.py"), run_name="not_main")
    assert isinstance(ns["demo"], gr.Blocks)
    apis = {d.get("api_name") for d in ns["demo"].config["dependencies"]}
    assert {"analyze", "species_range", "locate_audio", "query_text", "query_image", "query_audio"} <= apis


def test_launch_options_carry_offline_maps_and_limits():
    opts = launch_options()
    assert "PlotlyGeoAssets" in opts["head"] and "world_110m" in opts["head"]
    assert opts["max_file_size"] == LIMITS.max_bytes and opts["show_error"] is True
    assert QUEUE_OPTIONS == APP_LIMITS.queue_options() and QUEUE_OPTIONS["max_size"] > APP_LIMITS.waiting


def test_cli_app_subcommand(monkeypatch):
    calls = []
    monkeypatch.setattr("geoforensics.ui.serve", lambda **kw: calls.append(kw))
    args = build_parser().parse_args(["app", "--host", "0.0.0.0", "--port", "7999", "--workers", "3"])
    assert args.func(args) == 0
    assert calls == [{"server_name": "0.0.0.0", "server_port": 7999, "limits": AppLimits(3, 24)}]
