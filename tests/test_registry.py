"""The one registry type: register (call and decorator), get, list, the "name:arg" grammar, one error,
lazy plugins; and every name -> object table of the package answering an unknown name the same way."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from geoforensics.errors import InputError
from geoforensics.registry import Registry


@pytest.fixture
def reg() -> Registry[Any]:
    r: Registry[Any] = Registry("gallery")
    r.register("land-1", 21_546, description="land centres")
    r.register("csv", len, description="points of a CSV file", arg="PATH")
    r.register("agclip", "head", description="AG-CLIP", arg="model")
    r.register("agclip:birdnet-sim-v1", "shipped head", description="a shipped head")
    return r


def test_register_as_call_and_as_decorator(reg: Registry[Any]) -> None:
    assert reg.register("uniform-1", 64_800, description="grid") == 64_800

    @reg.register("h3", description="H3 cells", arg="PATH:RES:K")
    def build(path: str) -> str:
        return f"cells of {path}"

    assert reg["h3"] is build and build("x.csv") == "cells of x.csv"
    assert reg.describe("h3") == "H3 cells" and reg.arg("h3") == "PATH:RES:K" and reg.arg("land-1") is None


def test_list_keeps_registration_order_and_descriptions(reg: Registry[Any]) -> None:
    assert reg.names() == ["land-1", "csv", "agclip", "agclip:birdnet-sim-v1"] == list(reg)
    assert reg.list() == {
        "land-1": "land centres",
        "csv": "points of a CSV file",
        "agclip": "AG-CLIP",
        "agclip:birdnet-sim-v1": "a shipped head",
    }
    assert list(reg.usage())[:3] == ["land-1", "csv:PATH", "agclip:model"]
    assert reg.values()[0] == 21_546 and reg.items()[1] == ("csv", len) and len(reg) == 4


def test_get_and_in_take_exact_names(reg: Registry[Any]) -> None:
    assert reg.get("land-1") == 21_546 and reg["agclip:birdnet-sim-v1"] == "shipped head"
    assert "csv" in reg and "csv:x.csv" not in reg and "nope" not in reg and 3 not in reg
    assert reg.get("nope", None) is None and reg.get("csv:x.csv", 0) == 0


def test_unknown_name_is_one_input_error_listing_the_known_ones(reg: Registry[Any]) -> None:
    message = "unknown gallery 'ocean-1'; known: agclip:birdnet-sim-v1, agclip:model, csv:PATH, land-1"
    for lookup in (reg.get, reg.__getitem__, reg.parse, reg.resolve, reg.describe, reg.arg):
        with pytest.raises(InputError) as e:
            lookup("ocean-1")
        assert str(e.value) == message
    assert str(reg.unknown("x")).startswith("unknown gallery 'x'; known: ")


def test_name_arg_grammar(reg: Registry[Any]) -> None:
    assert reg.parse("land-1") == ("land-1", None)
    assert reg.parse("csv:/data/points.csv") == ("csv", "/data/points.csv")
    assert reg.parse("csv:C:/data/a:b.csv") == ("csv", "C:/data/a:b.csv")  # everything after the first colon
    assert reg.parse("agclip:birdnet-sim-v1") == ("agclip:birdnet-sim-v1", None)  # an exact name wins
    assert reg.parse("agclip:runs/head.pt") == ("agclip", "runs/head.pt")
    assert reg.resolve("csv:a.csv") == (len, "a.csv")
    with pytest.raises(InputError, match="unknown gallery 'land-1:2'"):
        reg.parse("land-1:2")  # land-1 takes no argument
    with pytest.raises(InputError, match="unknown gallery 'ocean:2'"):
        reg.parse("ocean:2")
    with pytest.raises(InputError, match=r"gallery 'csv:': give its PATH after the colon \(csv:PATH\)"):
        reg.parse("csv:")


def test_replace_remove_and_monkeypatch(reg: Registry[Any], monkeypatch: pytest.MonkeyPatch) -> None:
    reg.register("land-1", 1, description="replaced")
    assert reg["land-1"] == 1 and reg.names()[0] == "land-1"
    reg["csv"] = str
    assert reg["csv"] is str and reg.describe("csv") == "points of a CSV file" and reg.arg("csv") == "PATH"
    with monkeypatch.context() as m:
        m.setitem(reg, "csv", repr)
        m.setitem(reg, "new", 5)
        assert reg["csv"] is repr and reg["new"] == 5
    assert reg["csv"] is str and "new" not in reg
    reg.unregister("land-1")
    reg.unregister("land-1")
    del reg["csv"]
    assert reg.names() == ["agclip", "agclip:birdnet-sim-v1"]


def test_bad_registrations_are_refused() -> None:
    r: Registry[int] = Registry("thing")
    with pytest.raises(ValueError, match="non-empty name"):
        r.register("", 1)
    with pytest.raises(ValueError, match="label of its argument"):
        r.register("x", 1, arg="")


def test_plugins_are_imported_on_first_need(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "gf_regtest_table.py").write_text(
        "from geoforensics.registry import Registry\n"
        "TABLE = Registry('thing', plugins=['gf_regtest_plugin'])\n"
        "TABLE.register('built-in', 1, description='always there')\n"
    )
    (tmp_path / "gf_regtest_plugin.py").write_text(
        "from gf_regtest_table import TABLE\nTABLE.register('late', 2, description='from a plugin', arg='X')\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    from gf_regtest_table import TABLE  # type: ignore[import-not-found]

    try:
        assert TABLE["built-in"] == 1 and "gf_regtest_plugin" not in sys.modules  # a hit needs no plugin
        assert TABLE.parse("late:7") == ("late", "7") and "gf_regtest_plugin" in sys.modules
        assert TABLE.list() == {"built-in": "always there", "late": "from a plugin"}
        with pytest.raises(InputError, match="unknown thing 'nope'; known: built-in, late:X"):
            TABLE.get("nope")
    finally:
        for name in ("gf_regtest_table", "gf_regtest_plugin"):
            sys.modules.pop(name, None)


def test_listing_loads_plugins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "gf_regtest_list.py").write_text(
        "from geoforensics.registry import Registry\nTABLE = Registry('thing', plugins=['gf_regtest_list_plugin'])\n"
    )
    (tmp_path / "gf_regtest_list_plugin.py").write_text("from gf_regtest_list import TABLE\nTABLE.register('p', 3)\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    from gf_regtest_list import TABLE  # type: ignore[import-not-found]

    try:
        assert len(TABLE) == 1 and TABLE.names() == ["p"]
    finally:
        for name in ("gf_regtest_list", "gf_regtest_list_plugin"):
            sys.modules.pop(name, None)


# ---------------------------------------------------------------- the package's tables


def _gallery(name: str) -> Any:
    from geoforensics.geo.galleries import get_gallery

    return get_gallery(name)


def _prior(name: str) -> Any:
    from geoforensics.geo.priors import get_prior

    return get_prior(name)


def _mel(name: str) -> Any:
    from geoforensics.audio.mel import get_mel_pipeline

    return get_mel_pipeline(name)


def _model(name: str) -> Any:
    from geoforensics.models.registry import create_model

    return create_model(name)


def _geolocator(name: str) -> Any:
    from geoforensics.geolocators import create_geolocator

    return create_geolocator(name)


def _weights(name: str) -> Any:
    from geoforensics.weights import weight_path

    return weight_path(name)


def _location_encoder(name: str) -> Any:
    from geoforensics.models.location_encoders import create_location_encoder

    return create_location_encoder(name)


def _audio_encoder(name: str) -> Any:
    from geoforensics.models.audio_encoders import create_audio_encoder

    return create_audio_encoder(name)


def _clip_config(name: str) -> Any:
    from geoforensics.models.clip import create_clip

    return create_clip(config=name)


def _format(name: str) -> Any:
    from geoforensics.data import open_dataset

    return open_dataset("labels.csv", format=name)


def _table1(name: str) -> Any:
    from geoforensics.evaluation.table1 import Sample, run_table1

    return run_table1([Sample("a", 0.0, 0.0)], systems=[name])


TABLES: list[tuple[Callable[[str], Any], str, str]] = [
    (_gallery, "gallery", "csv:PATH, geoclip-100k, h3:PATH:RES:K, land:STEP, uniform:STEP"),
    (_prior, "prior", "inat-test-density, photo-density"),
    (_mel, "mel pipeline", "agclip-mel-v1"),
    (_model, "model", "agclip, clip-tiny-test, "),
    (_geolocator, "model", "agclip:birdnet-sim-v1, agclip:model, classify-hier, "),  # plugins' names too
    (_weights, "weights", "agclip-birdnet-sim-v1, birdnet-v2.4-audio, "),
    (_location_encoder, "location encoder", "geoclip, learned-rff, range, satclip"),
    (_audio_encoder, "audio encoder", "birdnet, mobilenetv3_large, resnet50, vit_b_16"),
    (_clip_config, "CLIP config", "tiny-test"),
    (_format, "dataset format", "inatsounds, manifest, wabad, xcdc"),
    (_table1, "Table-1 system", "agclip, agclip-h3train, "),
]


@pytest.mark.parametrize(("lookup", "kind", "known"), TABLES, ids=[t[1] + "/" + t[0].__name__ for t in TABLES])
def test_every_table_answers_an_unknown_name_the_same_way(lookup: Callable[[str], Any], kind: str, known: str) -> None:
    with pytest.raises(InputError) as e:
        lookup("nope")
    assert str(e.value).startswith(f"unknown {kind} 'nope'; known: {known}")


def test_every_gallery_a_user_can_name_is_listed() -> None:
    from geoforensics.geo.galleries import get_gallery, list_galleries
    from geoforensics.geolocators.image import resolve_gallery

    assert list(list_galleries()) == ["uniform-1", "uniform-0.5", "land-1", "land-0.5", "csv:PATH", "h3:PATH:RES:K",
                                      "geoclip-100k"]
    assert get_gallery("uniform-30").latlon.shape == (72, 2) == get_gallery("uniform:30").latlon.shape
    g = get_gallery("geoclip-100k")
    assert g.latlon.shape == (100_000, 2) and not g.latlon.flags.writeable
    arr, name = resolve_gallery("geoclip-100k")
    assert name == "geoclip-100k" and arr.shape == (100_000, 2)
    with pytest.raises(InputError, match="unknown gallery 'csv'; known: csv:PATH"):
        get_gallery("csv")
