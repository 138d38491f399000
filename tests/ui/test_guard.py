"""What the app refuses before Gradio sees it: private endpoints called by name, and uploads past a
client's share (issue: never lose or corrupt evidence, defect 12)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import pytest

from geoforensics.ui import guard


def post(url: str, body: bytes, content_type: str = "application/json") -> tuple[int, str]:
    req = urllib.request.Request(url, data=body, method="POST", headers={"Content-Type": content_type})
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def multipart(name: str, data: bytes) -> tuple[bytes, str]:
    boundary = "gfboundary"
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"files\"; filename=\"{name}\"\r\n"
            "Content-Type: application/octet-stream\r\n\r\n").encode() + data + f"\r\n--{boundary}--\r\n".encode()
    return body, f"multipart/form-data; boundary={boundary}"


def test_private_endpoints_cannot_be_called_by_name(app_url):
    for name in ("check_claim", "map_click", "use_file_tag", "prepare_downloads", "evidence_video", "report_files"):
        code, text = post(f"{app_url}/gradio_api/call/{name}", b'{"data": [null, null, null]}')
        assert code == 404 and f"no public endpoint named '{name}'" in json.loads(text)["error"], (name, code, text)
    code, text = post(f"{app_url}/gradio_api/call/species_range", b'{"data": ["", null]}')
    assert code == 200 and "event_id" in text  # a public one still runs


def test_uploads_past_a_client_s_share_are_refused(app_url, monkeypatch):
    monkeypatch.setattr(guard, "UPLOAD_FILES_PER_MINUTE", 5)
    body, ctype = multipart("a.wav", b"RIFF" + bytes(1000))
    codes = [post(f"{app_url}/gradio_api/upload", body, ctype)[0] for _ in range(7)]
    assert codes.count(200) <= 5 and codes[-1] == 429
    code, text = post(f"{app_url}/gradio_api/upload", body, ctype)
    assert code == 429 and "at most 5 a minute" in json.loads(text)["error"]


def test_uploads_wait_when_the_space_is_full(app_url, monkeypatch):
    monkeypatch.setattr(guard, "UPLOAD_SPACE_BYTES", 0)
    monkeypatch.setattr(guard, "UPLOAD_FILES_PER_MINUTE", 10_000)
    monkeypatch.setattr(guard, "SPACE_CHECK_S", 0.0)
    body, ctype = multipart("b.wav", b"RIFF" + bytes(1000))
    code, text = post(f"{app_url}/gradio_api/upload", body, ctype)
    assert code == 507 and "upload space is full" in json.loads(text)["error"]


@pytest.fixture(autouse=True)
def fresh_counts():
    """Each test, and the tests after these, start with an empty upload history."""
    guard.forget_uploads()
    yield
    guard.forget_uploads()


@pytest.mark.parametrize("endpoint, data, message", [
    ("species_affinity", [["Aquila adalberti", "x"]], "the species must be text, not list"),
    ("species_range", [["Aquila adalberti"], None], "is not in the list of choices"),
    ("analyze", [None, ["http://x"], "", 2.0, ""], "only http(s) URLs are allowed"),  # Gradio makes the list text
])
def test_a_list_where_text_belongs_is_a_clear_error(app_url, endpoint, data, message):
    gradio_client = pytest.importorskip("gradio_client")
    client = gradio_client.Client(app_url + "/", verbose=False)
    with pytest.raises(Exception) as e:
        client.predict(*data, api_name=f"/{endpoint}")
    assert message in str(e.value) and "internal error" not in str(e.value)
