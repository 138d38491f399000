import csv
import subprocess
import sys

import numpy as np
import pytest

from geoforensics.cli import main
from geoforensics.evaluation.table1 import (
    Sample,
    TableSystem,
    folds_of,
    register_table1_system,
    run_table1,
    table1_systems,
)
from geoforensics.scoring import WindowScores

CITIES = [(48.85, 2.35), (40.7, -74.0), (-33.9, 151.2), (-1.3, 36.8), (35.7, 139.7), (-23.5, -46.6)]


def test_help_smoke():
    out = subprocess.run([sys.executable, "-m", "geoforensics", "table1", "--help"], capture_output=True, text=True,
                         timeout=60)
    assert out.returncode == 0 and "--systems" in out.stdout and "--gold" in out.stdout


def test_folds_cover_everything_once():
    parts = folds_of(11, 3)
    assert sorted(np.concatenate(parts).tolist()) == list(range(11))
    assert len(folds_of(4, 10)) == 4


def test_a_new_system_plugs_in():
    register_table1_system(TableSystem("test-naive", "Test", "Naive again", "naive", feed="none", trains=True))
    try:
        assert "test-naive" in table1_systems()
        samples = [Sample(str(i), *CITIES[i % 6], features=np.zeros(3, np.float32)) for i in range(12)]
        (r,) = run_table1(samples, ["test-naive"], folds=3)
        assert r.points.shape == (12, 2) and np.isfinite(r.errors_km).all()
        assert "3-fold" in r.note
    finally:
        from geoforensics.evaluation import table1

        table1.SYSTEMS.unregister("test-naive")


@pytest.fixture
def tiny_dataset(tmp_path):
    """Six 3 s noise clips at six cities, a manifest, and a small gallery CSV."""
    from scipy.io import wavfile

    rng = np.random.default_rng(0)
    (tmp_path / "audio").mkdir()
    rows = []
    for i, (lat, lon) in enumerate(CITIES * 2):
        wavfile.write(tmp_path / "audio" / f"c{i}.wav", 48000, (rng.normal(0, 0.01, 3 * 48000)).astype(np.float32))
        rows.append({"file": f"audio/c{i}.wav", "id": f"c{i}", "lat": lat + 0.01 * i, "lon": lon, "date": "2021-05-04",
                     "species": "Turdus merula"})
    with open(tmp_path / "labels.csv", "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    g = np.c_[np.repeat(np.arange(-60, 71, 10), 36), np.tile(np.arange(-175, 180, 10), 14)]
    np.savetxt(tmp_path / "gallery.csv", g, delimiter=",", header="lat,lon", comments="", fmt="%.1f")
    return tmp_path


def test_cli_end_to_end(tiny_dataset, isolated_cache, capsys):
    out = tiny_dataset / "report"
    systems = ["naive", "oracle-full", "oracle-keep10", "regress-xyz", "classify-res0", "species-annotated",
               "species-top1", "species-all"]
    rc = main(["table1", "--data", str(tiny_dataset), "--out", str(out), "--folds", "3",
               "--gallery", f"csv:{tiny_dataset / 'gallery.csv'}", "--systems", *systems, "--aggregate", "species-all"])
    assert rc == 0
    md = (out / "table1.md").read_text()
    for name in ("Naive: Rnd Train Loc", "Species Oracles: Full checklist", "Regress: Unit sphere xyz",
                 "Classify: Res-0", "Species Ranges: Predicted Sp (All)", "Resolution-6 + Week"):
        assert name in md
    for png in ("cdf.png", "error_map.png"):
        assert (out / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    import json

    rows = json.loads((out / "table1.json").read_text())["rows"]
    assert all(np.isfinite(v["median_error"]) for v in rows.values())
    assert rows["oracle-full"]["median_error"] < 1000
    assert rows["oracle-full"]["median_error"] <= rows["oracle-keep10"]["median_error"]
    from geoforensics.evaluation import evaluate_files

    m = evaluate_files(out / "predictions" / "naive.csv", out / "predictions" / "gold.csv")
    assert m["median_error"] == pytest.approx(rows["naive"]["median_error"])
    # BirdNET scores are cached: a second run does not recompute them
    from geoforensics.paths import cache_dir
    from geoforensics.scoring import SCORES_CACHE

    assert len(list(cache_dir(SCORES_CACHE).glob("*.npz"))) == 12


def test_cli_rejects_unknown_system(tiny_dataset, isolated_cache, capsys):
    rc = main(["table1", "--data", str(tiny_dataset), "--out", str(tiny_dataset / "r"), "--systems", "nope"])
    assert rc == 2 and "unknown Table-1 system" in capsys.readouterr().err


NEW_ROWS = ["agclip", "agclip-max", "agclip-kmeans", "agclip-uniform1", "agclip-h3train",
            "species-all-uniform1", "species-all-h3train"]


def _scored_samples(n: int = 12) -> list[Sample]:
    """Samples at the six cities with synthetic BirdNET window scores (4 windows, a few loud classes)."""
    rng = np.random.default_rng(0)
    out = []
    for i in range(n):
        s = rng.uniform(0, 0.02, (4, 6522)).astype(np.float32)
        s[:, rng.choice(6522, 3, replace=False)] = 0.9
        ws = WindowScores(np.arange(4) * 1.5, np.arange(4) * 1.5 + 3, s, duration_s=7.5)
        out.append(Sample(str(i), CITIES[i % 6][0] + 0.01 * i, CITIES[i % 6][1], scores=ws, features=s.max(0)))
    return out


def test_agclip_and_ablation_rows_are_registered():
    rows = table1_systems()
    assert set(NEW_ROWS) <= set(rows)
    assert dict(rows["agclip"].options) == {"gallery": "land-1", "pooling": "mean"}
    assert dict(rows["agclip-max"].options)["pooling"] == "max"
    assert dict(rows["agclip-kmeans"].options)["pooling"] == "kmeans"
    assert dict(rows["agclip-uniform1"].options)["gallery"] == "uniform-1"
    assert dict(rows["species-all-uniform1"].options)["gallery"] == "uniform-1"
    assert rows["agclip-h3train"].train_gallery == (2, 1) == rows["species-all-h3train"].train_gallery
    assert all(rows[k].feed == "scores" for k in NEW_ROWS)
    assert rows["agclip-kmeans"].row_name == "Retrieve: AG-CLIP (k-means pooling)"


def test_new_rows_give_finite_metrics():
    samples = _scored_samples()
    # the uniform-1 rows are run on a 10° uniform grid here so the test does not embed 64,800 points
    coarse = {k: {"gallery": "uniform-10"} for k in ("agclip-uniform1", "species-all-uniform1")}
    results = run_table1(samples, NEW_ROWS, folds=3, overrides=coarse)
    assert [r.system.key for r in results] == NEW_ROWS
    for r in results:
        assert r.points.shape == (12, 2) and np.isfinite(r.errors_km).all()
        assert all(np.isfinite(v) for v in r.metrics.values())
    by = {r.system.key: r for r in results}
    assert by["agclip"].predictions[0].version.endswith("pool mean")
    assert by["agclip-kmeans"].predictions[0].version.endswith("pool kmeans")
    assert "3-fold" in by["agclip-h3train"].note and "H3 res-2" in by["agclip-h3train"].note
    # AG-CLIP predicts the best gallery node (argmax): on the 10° grid, a grid node
    from geoforensics.geo.galleries import get_gallery

    grid = get_gallery("uniform-10").latlon
    pts = by["agclip-uniform1"].points
    assert all(np.abs(grid - p).sum(1).min() < 1e-9 for p in pts)


def test_train_neighbour_gallery_never_holds_a_clips_own_location():
    """Six cities thousands of km apart, leave-one-out: each clip's gallery is the H3 res-2 cells (and
    1-ring, a few hundred km) of the five other cities, so every error exceeds 1,000 km."""
    samples = _scored_samples(6)
    for key in ("agclip-h3train", "species-all-h3train"):
        (r,) = run_table1(samples, [key], folds=6)
        assert "6-fold" in r.note
        assert r.errors_km.min() > 1000
    # whereas the clip's own location seeds the gallery when all six are used: nearest node < 200 km
    from geoforensics.geo.galleries import h3_neighbours
    from geoforensics.geo.geodesy import haversine_km

    g = h3_neighbours(np.array(CITIES), 2, 1).latlon
    for lat, lon in CITIES:
        assert haversine_km(g, np.array([lat, lon])).min() < 200


def test_sample_galleries_train_and_test():
    samples = _scored_samples()
    true = np.array([[s.lat, s.lon] for s in samples])
    keys = ["species-all-train", "species-all-validation", "species-all-test", "agclip-test", "agclip-validation"]
    res = {r.system.key: r for r in run_table1(samples, keys, folds=3)}
    # the test-set gallery is exactly the recordings' own locations (12 distinct here)
    for key in ("species-all-test", "agclip-test"):
        for p in res[key].predictions:
            assert sorted(map(tuple, p.gallery.tolist())) == sorted(map(tuple, true.tolist())), key
    d = np.abs(res["agclip-test"].points[:, None, :] - true[None]).sum(-1).min(1)
    assert d.max() < 1e-9  # argmax retrieval picks one of them
    # the train gallery never holds a recording's own location (all 12 locations differ)
    for i, p in enumerate(res["species-all-train"].predictions):
        assert len(p.gallery) == 8 and not np.any(np.all(np.isclose(p.gallery, true[i]), axis=1))
    assert "other folds" in res["species-all-train"].note
    # the validation gallery: one other fold's 4 locations, never the recording's own
    for key in ("species-all-validation", "agclip-validation"):
        for i, p in enumerate(res[key].predictions):
            assert len(p.gallery) == 4 and not np.any(np.all(np.isclose(p.gallery, true[i]), axis=1)), key
    assert "next fold" in res["agclip-validation"].note
    assert "own included" in res["species-all-test"].note


def test_missing_weights_skip_the_row_and_report_says_so(tmp_path, monkeypatch):
    from geoforensics.errors import MissingWeightsError
    from geoforensics.evaluation import table1

    original = table1._create

    def create(system, overrides):
        if system.key == "test-absent":
            raise MissingWeightsError("CLIP ViT-L/14 weights are not installed\nmore")
        return original(system, overrides)

    monkeypatch.setattr(table1, "_create", create)
    register_table1_system(TableSystem("test-absent", "Test", "Needs weights", "taxabind-style", feed="scores"))
    try:
        samples = _scored_samples(6)
        absent, ok = run_table1(samples, ["test-absent", "species-all-test"], folds=3)
        assert absent.skipped == "CLIP ViT-L/14 weights are not installed" and absent.points.shape == (0, 2)
        assert not ok.skipped and ok.points.shape == (6, 2)
        paths = table1.write_report(tmp_path / "rep", samples, [absent, ok])
        md = paths["markdown"].read_text()
        assert "| Test: Needs weights | 0 | skipped |" in md and "skipped, CLIP ViT-L/14 weights" in md
        assert not (tmp_path / "rep" / "predictions" / "test-absent.csv").exists()
        with pytest.raises(Exception, match="no Table-1 system could run"):
            table1.write_report(tmp_path / "rep2", samples, [absent])
    finally:
        table1.SYSTEMS.unregister("test-absent")


def test_taxabind_row_is_registered_and_runs_or_skips(isolated_cache):
    samples = _scored_samples(6)
    (r,) = run_table1(samples, ["taxabind-style"], folds=3)
    if r.skipped:
        assert "clip-vit-l-14-openai" in r.skipped
    else:
        assert r.points.shape == (6, 2) and np.isfinite(r.errors_km).all()


def test_agclip_checkpoint_row(tmp_path, capsys, isolated_cache):
    from geoforensics.evaluation import table1
    from geoforensics.models.agclip import AGCLIPConfig, AGCLIPModel, save_checkpoint_file

    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    ckpt = tmp_path / "tiny.pt"
    save_checkpoint_file(AGCLIPModel(AGCLIPConfig(encoder="birdnet", hidden_dim=8)), ckpt)
    try:
        sys_ = table1.register_agclip_checkpoint("tiny test", ckpt)
        assert sys_.key == "agclip-tiny-test" and sys_.row_name == "Retrieve: AG-CLIP (tiny test)"
        (r,) = run_table1(_scored_samples(6), [sys_.key], folds=3)
        assert r.points.shape == (6, 2) and np.isfinite(r.errors_km).all()
        with pytest.raises(Exception, match="no such file"):
            table1.register_agclip_checkpoint("x", tmp_path / "missing.pt")
        assert main(["table1", "--agclip-head", "bad", "--data", "x", "--out", str(tmp_path)]) == 2
        assert "LABEL=PATH" in capsys.readouterr().err
    finally:
        table1.SYSTEMS.unregister("agclip-tiny-test")


def test_seeded_rows_repeat_over_seeds_and_report_mean_std():
    from geoforensics.evaluation.table1 import markdown_table

    samples = _scored_samples()
    naive, oracle = run_table1(samples, ["naive", "oracle-full"], folds=3, seeds=3)
    assert len(naive.seed_metrics) == 3 and naive.seed_metrics[0] == naive.metrics
    assert len({m["mean_error"] for m in naive.seed_metrics}) > 1  # different draws per seed
    mean, std = naive.metrics_summary()["mean_error"]
    assert mean == pytest.approx(np.mean([m["mean_error"] for m in naive.seed_metrics])) and std > 0
    assert oracle.seed_metrics == []  # deterministic rows run once
    md = markdown_table([naive, oracle], 12)
    assert "Naive: Rnd Train Loc (3 seeds) | 12 |" in md and " ± " in md
    # a different --seed changes the naive draws
    (other,) = run_table1(samples, ["naive"], folds=3, seed=5)
    assert not np.array_equal(other.points, naive.points)
