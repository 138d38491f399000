"""The model registry: create_model is a new instance, get_model the shared one; pretrained tags come from
the weight manager's table; the models package has no import cycle."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from geoforensics import weights as W
from geoforensics.errors import GeoforensicsError, InputError
from geoforensics.models import registry as R


@pytest.fixture
def counting_model():
    """A registered model whose builder counts its calls and returns a fresh object."""
    calls: list[dict] = []

    def build(**kw):
        calls.append(kw)
        return object()

    R.register_model("test-counter", build, (), "test")
    yield calls
    R.register_model("test-counter", build)  # drops its cached instances
    del R.MODELS["test-counter"]


def test_create_is_new_and_get_is_shared(counting_model):
    a, b = R.create_model("test-counter"), R.create_model("test-counter")
    assert a is not b and len(counting_model) == 2
    s = R.get_model("test-counter")
    assert s is R.get_model("test-counter") and s is not a and len(counting_model) == 3
    assert R.get_model("test-counter", size=2) is not s and counting_model[-1] == {"size": 2}


def test_unknown_model_lists_the_known_ones():
    with pytest.raises(InputError, match="unknown model 'nope'; known: .*agclip"):
        R.create_model("nope")
    with pytest.raises(InputError, match="unknown model"):
        R.get_model("nope")


def test_pretrained_tags_come_from_the_weights_table():
    assert R.list_pretrained("agclip") == sorted(W.pretrained_specs("agclip")) == ["birdnet-sim-v1"]
    assert R.list_pretrained("geoclip-image-head") == []
    path = R.resolve_pretrained("agclip", "birdnet-sim-v1")
    assert path == W.weight_path("agclip-birdnet-sim-v1") == R.resolve_pretrained("agclip", "agclip-birdnet-sim-v1")
    assert R.resolve_pretrained("agclip", "runs/x/last.pt") == Path("runs/x/last.pt")  # a path: no table lookup
    with pytest.raises(InputError, match="neither a pretrained tag"):
        R.resolve_pretrained("agclip", "no-such-tag")
    rows = {r["name"]: r for r in R.list_models()}
    assert rows["agclip"]["pretrained"] == ["birdnet-sim-v1"]
    assert rows["range-location-encoder"]["available"] and rows["learned-rff-location-encoder"]["weights"] == []


def test_an_untrained_agclip_from_config_fields():
    m = R.create_model("agclip", encoder="birdnet", hidden_dim=8)
    assert m.config.hidden_dim == 8 and m.input_kind == "birdnet"
    with pytest.raises(GeoforensicsError, match="unknown model config fields: hidden"):
        R.create_model("agclip", encoder="birdnet", hidden=8)
    with pytest.raises(GeoforensicsError, match="carries its own config"):
        R.create_model("agclip", pretrained="birdnet-sim-v1", hidden_dim=8)


def _imports(path: Path, package: str) -> set[str]:
    """Sibling modules of ``package`` that ``path`` imports anywhere (module level or inside functions)."""
    out = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            if node.level == 1:
                names = [node.module] if node.module else [a.name for a in node.names]
            elif node.level == 0 and (node.module or "").startswith(package + "."):
                names = [node.module.removeprefix(package + ".")]
            else:
                continue
            out |= {n.split(".")[0] for n in names if n}
    return out


def test_no_import_cycle_in_the_models_package():
    import geoforensics.models as pkg

    folder = Path(pkg.__file__).parent
    graph = {p.stem: _imports(p, "geoforensics.models") for p in folder.glob("*.py") if p.stem != "__init__"}
    assert "agclip" in graph["builtin"] and not graph["registry"] - {"weights"}
    seen: dict[str, int] = {}

    def visit(node: str, stack: list[str]) -> None:
        seen[node] = 1
        for nxt in sorted(graph.get(node, ())):
            assert seen.get(nxt) != 1, f"import cycle: {' -> '.join(stack + [node, nxt])}"
            if nxt not in seen:
                visit(nxt, stack + [node])
        seen[node] = 2

    for module in sorted(graph):
        if module not in seen:
            visit(module, [])
