"""The named Gradio endpoints through gradio_client give what the Python API gives."""

from __future__ import annotations

import pytest

import geoforensics
from geoforensics.forensics.analysis import analyze_media

from .conftest import EAGLE

gradio_client = pytest.importorskip("gradio_client")


@pytest.fixture(scope="module")
def client(app_url):
    return gradio_client.Client(app_url + "/", verbose=False)


def test_named_endpoints(client):
    names = set(client.view_api(print_info=False, return_format="dict")["named_endpoints"])
    assert {"/analyze", "/locate_audio", "/species_range", "/query_text", "/query_image", "/query_audio"} <= names


def test_locate_audio_endpoint_matches_locate(client):
    out = client.predict(gradio_client.handle_file(str(EAGLE)), "", api_name="/locate_audio")
    raw = out[6]
    assert raw["point"] == pytest.approx(list(geoforensics.locate(EAGLE).point))
    assert raw["evidence"][0]["scientific_name"] == "Aquila adalberti"


def test_analyze_endpoint_matches_analyze_media(client, demo_video):
    out = client.predict(gradio_client.handle_file(str(demo_video)), "", "", 2.0, api_name="/analyze")
    raw = out[8]
    report = analyze_media(demo_video)
    assert raw["audio"]["point"] == pytest.approx(list(report.audio.point))
    assert raw["verdict"]["level"] == report.verdict.level


def test_endpoint_error_is_one_line(client):
    with pytest.raises(Exception) as e:
        client.predict(None, "http://127.0.0.1/x", "", 2.0, api_name="/analyze")
    assert "private/loopback" in str(e.value) and "Traceback" not in str(e.value)


def test_queue_serves_several_users_at_once(app_url):
    clients = [gradio_client.Client(app_url + "/", verbose=False) for _ in range(3)]
    jobs = [c.submit(gradio_client.handle_file(str(EAGLE)), "", api_name="/locate_audio") for c in clients]
    points = [job.result(timeout=120)[6]["point"] for job in jobs]
    assert points[0] == pytest.approx(points[1]) and points[1] == pytest.approx(points[2])


def test_analyze_endpoint_tests_a_claim(client, demo_video):
    out = client.predict(gradio_client.handle_file(str(demo_video)), "", "", 5.0, "Lihue, Kauai, Hawaii",
                         api_name="/analyze")
    raw = out[8]
    assert raw["verdict"]["level"] == "mismatch" and raw["claims"][0]["claim"]["source"] == "typed"
    assert raw["claims"][0]["evidence"][0]["common_name"] == "Eurasian Blue Tit"
