import json

import numpy as np
import pytest

from geoforensics.cli import locate_image as cli_locate_image
from geoforensics.cli import main
from geoforensics.paths import package_dir

KAUAI = str(package_dir("geoclip") / "images" / "Kauai.png")


pytestmark = pytest.mark.usefixtures("isolated_module_cache", "isolated_cache")


@pytest.mark.parametrize(
    "argv",
    [["weights", "--help"], ["weights", "list", "--help"], ["weights", "fetch", "--help"],
     ["locate-image", "--help"], ["locate-text", "--help"]],
)
def test_help(argv, capsys):
    with pytest.raises(SystemExit) as e:
        main(argv)
    assert e.value.code == 0
    assert "usage: geoforensics" in capsys.readouterr().out


def test_weights_list(capsys):
    assert main(["weights", "list"]) == 0
    out = capsys.readouterr().out
    assert "clip-vit-l-14-openai" in out and "absent" in out
    assert "geoforensics weights fetch clip-vit-l-14-openai" in out


def test_weights_list_json(capsys):
    assert main(["weights", "list", "--json"]) == 0
    rows = {r["name"]: r for r in json.loads(capsys.readouterr().out)}
    assert rows["clip-vit-l-14-openai"]["status"] == "absent"
    assert rows["geoclip-logit-scale"]["status"] == "package"


def test_weights_fetch_from_wrong_file_refuses(tmp_path, capsys):
    wrong = tmp_path / "ViT-L-14.pt"
    wrong.write_bytes(b"\0" * 4096)
    assert main(["weights", "fetch", "clip-vit-l-14-openai", "--from", str(wrong), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "refusing 'clip-vit-l-14-openai'" in err and "932,768,134 bytes" in err
    assert not (tmp_path / "weights" / "ViT-L-14.pt").exists()


def test_weights_fetch_from_right_file(tmp_path, capsys):
    src = package_dir("geoclip") / "model" / "weights" / "logit_scale_weights.pth"
    assert main(["weights", "fetch", "geoclip-logit-scale", "--from", str(src), "--quiet"]) == 0
    assert "verified" in capsys.readouterr().out
    assert (tmp_path / "weights" / "logit_scale_weights.pth").read_bytes() == src.read_bytes()


def test_weights_fetch_unknown_name(capsys):
    assert main(["weights", "fetch", "nope"]) == 2
    assert "unknown weights 'nope'" in capsys.readouterr().err


def test_locate_image_without_clip_says_how_to_fetch(capsys):
    assert main(["locate-image", KAUAI]) == 2
    assert "geoforensics weights fetch clip-vit-l-14-openai" in capsys.readouterr().err


@pytest.fixture
def tiny_locators(monkeypatch):
    from geoforensics.geo.galleries import load_gps_gallery_100k
    from geoforensics.geolocators.image import ImageGeolocator
    from geoforensics.geolocators.text import TextGeolocator
    from geoforensics.models.clip import create_clip

    gallery = np.array(load_gps_gallery_100k()[::200])
    clip = create_clip(config="tiny-test")
    monkeypatch.setattr(cli_locate_image, "make_image_geolocator",
                        lambda **kw: ImageGeolocator(clip=clip, gallery=gallery, **kw))
    monkeypatch.setattr(cli_locate_image, "make_text_geolocator",
                        lambda **kw: TextGeolocator(clip=clip, gallery=gallery, **kw))


def test_locate_image_json_lines(tiny_locators, capsys):
    assert main(["locate-image", KAUAI, KAUAI, "--json", "--top-k", "3"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 2
    d = json.loads(lines[0])
    assert d["input"] == KAUAI and d["modality"] == "image" and len(d["top_k"]) == 3
    assert d["surface"] == {"lat": [], "lon": [], "prob": []}


def test_locate_image_combined_text_output(tiny_locators, capsys):
    assert main(["locate-image", KAUAI, KAUAI, "--combine", "--aggregate", "mean_embedding"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"{KAUAI} + {KAUAI}: ") and "  5. " in out and "meaningless" in out


def test_locate_text(tiny_locators, capsys):
    assert main(["locate-text", "a rainforest", "--json", "--surface", "sparse"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["input"] == "a rainforest" and d["modality"] == "text"
    assert sum(d["surface"]["prob"]) == pytest.approx(1.0, abs=1e-3)


def test_bad_point_method(tiny_locators, capsys):
    assert main(["locate-text", "Paris", "--point-method", "median"]) == 2
    assert "--point-method" in capsys.readouterr().err
