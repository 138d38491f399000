"""GeoJSON and KML of results, read back as GIS tools read them: GDAL (what QGIS uses) through pyogrio,
shapely, the OGC KML 2.2 schema (through lxml) and fastkml."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
import shapely
from shapely.geometry import shape

from geoforensics.errors import InputError
from geoforensics.forensics.claims import Claim
from geoforensics.forensics.results import ClaimCheck, SpeciesAtClaim
from geoforensics.geo.galleries import grid_centres
from geoforensics.geo.geodesy import haversine_km
from geoforensics.gis import batch_collection, result_collection, to_kml, write_geojson, write_gis, write_kml
from geoforensics.prediction import GeoPrediction, SpeciesEvidence

pyogrio = pytest.importorskip("pyogrio")
etree = pytest.importorskip("lxml.etree")
fastkml = pytest.importorskip("fastkml")

FIJI = (-17.7, 179.9)
REYKJAVIK = (64.15, -21.94)
SUVA = (-18.14, 178.44)


def _prediction(centre: tuple[float, float], sigma_km: float, modality: str) -> GeoPrediction:
    """A surface over the 2 degree grid (ocean included) whose mass sits around ``centre``."""
    gallery = grid_centres(2.0)
    d = haversine_km(gallery, centre)
    pred = GeoPrediction.from_probs(gallery, np.exp(-0.5 * (d / sigma_km) ** 2), model=f"test-{modality}",
                                    version="v-test", modality=modality)
    pred.confidence = 0.6
    return pred


@pytest.fixture(scope="module")
def fiji() -> GeoPrediction:
    pred = _prediction(FIJI, 400.0, "audio")
    pred.evidence = [
        SpeciesEvidence("Foulehaio procerior", "Kikau", 0.91, [0, 1, 2]),
        SpeciesEvidence("Pycnonotus cafer", "Red-vented Bulbul", 0.55, [3]),
    ]
    return pred


@pytest.fixture(scope="module")
def claims() -> list[ClaimCheck]:
    kikau_far = SpeciesAtClaim("Foulehaio procerior", "Kikau", 0.91, 3, 0.0, 15880.0, 4.1)
    kikau_here = SpeciesAtClaim("Foulehaio procerior", "Kikau", 0.91, 3, 0.74, 0.0, -1.2)
    return [
        ClaimCheck("fiji.wav", Claim(*REYKJAVIK, "typed", "Reykjavik, IS"), "mismatch", 0.98, 4.2, "does not fit",
                   evidence=[kikau_far], distance_km=15000.0),
        ClaimCheck("fiji.wav", Claim(*SUVA, "file tag", "file GPS"), "consistent", 0.04, -2.5, "fits",
                   evidence=[kikau_here], distance_km=170.0),
    ]


@pytest.fixture(scope="module")
def collection(fiji, claims) -> dict:
    image = _prediction((-13.8, -171.8), 300.0, "image")  # the picture points to Samoa
    return result_collection(fiji, image=image, claims=claims, source="fiji.wav")


def by_kind(col: dict, kind: str, **match) -> list[dict]:
    return [f for f in col["features"] if f["properties"]["kind"] == kind
            and all(f["properties"].get(k) == v for k, v in match.items())]


def test_the_collection_holds_guesses_regions_candidates_claims_and_distances(fiji, collection):
    p = [f["properties"] for f in collection["features"]]
    kinds = [x["kind"] for x in p]
    assert kinds == sorted(kinds, key=["region", "distance", "candidate", "guess", "claim"].index)
    guess = by_kind(collection, "guess", modality="audio")[0]
    assert guess["geometry"]["coordinates"] == [round(fiji.lon, 6), round(fiji.lat, 6)]
    assert guess["properties"]["species"].startswith("Kikau (Foulehaio procerior) 0.91")
    assert guess["properties"]["model"] == "test-audio" and guess["properties"]["model_version"] == "v-test"
    assert guess["properties"]["geoforensics_version"]
    assert {f["properties"]["mass"] for f in by_kind(collection, "region", modality="audio")} == {0.5, 0.9}
    assert len(by_kind(collection, "candidate", modality="audio")) == len(fiji.top_k)
    mismatch = by_kind(collection, "claim", verdict="mismatch")[0]["properties"]
    assert mismatch["mismatch_score"] == 0.98 and mismatch["claim_source"] == "typed"
    assert "not here: Kikau (occurrence 0.00, nearest 15,880 km)" in mismatch["species_at_claim"]
    assert ("lives here: Kikau (occurrence 0.74)"
            in by_kind(collection, "claim", verdict="consistent")[0]["properties"]["species_at_claim"])
    lines = by_kind(collection, "distance")
    assert len(lines) == 3  # audio to picture, audio to each claim
    to_reykjavik = by_kind(collection, "distance", verdict="mismatch")[0]["properties"]["distance_km"]
    assert to_reykjavik == pytest.approx(float(haversine_km(fiji.point, REYKJAVIK)), abs=0.1)
    assert 14_000 < to_reykjavik < 16_500


def test_the_audio_regions_cross_the_antimeridian_and_hold_their_cells(fiji, collection):
    import h3

    for f in by_kind(collection, "region", modality="audio"):
        geom = shape(f["geometry"])
        assert geom.is_valid and f["geometry"]["type"] == "MultiPolygon"
        assert geom.bounds[0] == -180.0 and geom.bounds[2] == 180.0
        cells = fiji.region(f["properties"]["mass"]).cells
        assert f["properties"]["n_cells"] == len(set(cells))
        assert f["properties"]["area_km2"] == pytest.approx(sum(h3.cell_area(c, "km^2") for c in cells), rel=1e-6)
        # every cell's centre lies in the merged region, on its own side of the cut
        for c in cells:
            lat, lon = h3.cell_to_latlng(c)
            assert geom.buffer(1e-6).contains(shapely.Point(lon, lat))
    r50, r90 = (shape(by_kind(collection, "region", modality="audio", mass=m)[0]["geometry"]) for m in (0.5, 0.9))
    assert r90.buffer(1e-6).contains(r50)


def test_geojson_reads_back_with_gdal(collection, tmp_path: Path):
    out = write_geojson(tmp_path / "fiji.geojson", collection)
    assert json.loads(out.read_text())["type"] == "FeatureCollection"
    meta, _, geometry, fields = pyogrio.raw.read(out)
    assert pyogrio.read_info(out)["driver"] == "GeoJSON" and meta["crs"] == "EPSG:4326"
    assert len(geometry) == len(collection["features"])
    names = list(meta["fields"])
    kinds = list(fields[names.index("kind")])
    shapes = shapely.from_wkb(geometry)
    assert all(shapely.is_valid(shapes))
    verdicts = fields[names.index("verdict")]
    claim_rows = [i for i, k in enumerate(kinds) if k == "claim"]
    assert sorted(verdicts[i] for i in claim_rows) == ["consistent", "mismatch"]
    modality = list(fields[names.index("modality")])
    regions = [shapes[i] for i, k in enumerate(kinds) if k == "region" and modality[i] == "audio"]
    assert len(regions) == 2 and all(g.geom_type == "MultiPolygon" and g.bounds[0] == -180.0 for g in regions)


def kml_schema():
    from fastkml.validator import get_schema_parser

    return get_schema_parser()


def test_kml_is_valid_kml_22_and_reads_back(collection, tmp_path: Path):
    out = write_kml(tmp_path / "fiji.kml", collection)
    doc = etree.parse(str(out))
    schema = kml_schema()
    assert schema.validate(doc), schema.error_log
    ns = {"k": "http://www.opengis.net/kml/2.2"}
    marks = doc.findall(".//k:Placemark", ns)
    assert len(marks) == len(collection["features"])
    folders = [f.findtext("k:name", namespaces=ns) for f in doc.findall(".//k:Folder", ns)]
    assert folders == ["Regions", "Distances", "Top candidates", "Guesses", "Claims"]

    parsed = fastkml.kml.KML.parse(out)
    document = parsed.features[0]
    assert [f.name for f in document.features] == folders
    claims = next(f for f in document.features if f.name == "Claims")
    verdicts = {d.name: d.value for m in claims.features for d in m.extended_data.elements if d.name == "verdict"}
    assert verdicts  # the Data elements survive a read
    assert sorted(d.value for m in claims.features for d in m.extended_data.elements if d.name == "verdict") == [
        "consistent", "mismatch"]


def test_kml_reads_back_with_gdal_libkml(collection, tmp_path: Path):
    out = write_kml(tmp_path / "fiji.kml", collection)
    layers = [name for name, _ in pyogrio.list_layers(out)]
    assert layers == ["Regions", "Distances", "Top candidates", "Guesses", "Claims"]
    meta, _, geometry, fields = pyogrio.raw.read(out, layer="Regions")
    assert pyogrio.read_info(out, layer="Regions")["driver"] == "LIBKML"
    shapes = shapely.from_wkb(geometry)
    assert len(shapes) == 4 and all(shapely.is_valid(shapes))
    mass = [float(x) for x in fields[list(meta["fields"]).index("mass")]]
    audio = [g for g, m, mod in zip(shapes, mass, fields[list(meta["fields"]).index("modality")]) if mod == "audio"]
    assert sorted(mass)[:2] == [0.5, 0.5] and all(g.bounds[0] == -180.0 and g.bounds[2] == 180.0 for g in audio)
    meta, _, geometry, _ = pyogrio.raw.read(out, layer="Distances")
    lines = shapely.from_wkb(geometry)
    assert {g.geom_type for g in lines} <= {"LineString", "MultiLineString"} and len(lines) == 3


def test_hostile_text_is_shown_escaped_and_the_files_stay_readable(fiji, tmp_path: Path):
    name = "clip\x00\x07 <b>&amp; \u202egnp.exe\ufffe\udcff.wav"
    col = result_collection(fiji, source=name)
    kml = write_kml(tmp_path / "x.kml", col)
    assert kml_schema().validate(etree.parse(str(kml)))
    text = kml.read_text(encoding="utf-8")
    assert "\\u202egnp.exe" in text and "\\xff.wav" in text and "<b>" not in text and "\u202e" not in text
    geojson = write_geojson(tmp_path / "x.geojson", col)
    assert (json.loads(geojson.read_text(encoding="utf-8"))["name"]
            == "clip\\x00\\x07 <b>&amp; \\u202egnp.exe\ufffe\\xff.wav")
    assert len(pyogrio.raw.read(geojson)[2]) == len(col["features"])


def test_batch_rows_become_points_and_failed_rows_stay(tmp_path: Path):
    rows = [
        {"audio_id": "XC148645", "latitude": 39.55, "longitude": -4.37, "confidence": 0.41, "radius50_km": 420.0,
         "radius90_km": 1210.5, "top_species": "Aquila adalberti", "top_species_common": "Spanish Eagle",
         "top_species_score": 0.97, "place": "near Toledo, ES", "date": "2009-05-14", "elapsed_s": 2.1,
         "path": "examples/XC148645.mp3"},
        {"audio_id": "broken", "latitude": None, "longitude": None, "error": "not audio", "path": "x.mp3"},
        {"audio_id": "kamchatka", "latitude": 53.0, "longitude": 158.6, "top_species": "Pica pica", "date": ""},
    ]
    col = batch_collection(rows)
    assert [f["geometry"] is None for f in col["features"]] == [False, True, False]
    assert col["features"][0]["properties"]["radius90_km"] == 1210.5
    assert col["features"][1]["properties"]["error"] == "not audio"
    out = write_gis(tmp_path / "batch.geojson", col)
    meta, _, geometry, fields = pyogrio.raw.read(out)
    assert (len(geometry) == 3
            and list(fields[list(meta["fields"]).index("audio_id")]) == ["XC148645", "broken", "kamchatka"])
    kml = write_gis(tmp_path / "batch.kml", col)
    doc = etree.parse(str(kml))
    assert kml_schema().validate(doc)
    ns = {"k": "http://www.opengis.net/kml/2.2"}
    assert [w.text for w in doc.findall(".//k:TimeStamp/k:when", ns)] == ["2009-05-14"]
    assert len(doc.findall(".//k:Placemark/k:Point", ns)) == 2


def test_write_gis_names_the_formats(collection, tmp_path: Path):
    with pytest.raises(InputError, match=r"\.geojson or \.kml"):
        write_gis(tmp_path / "x.shp", collection)
    assert not (tmp_path / "x.shp").exists()


def test_an_audio_guess_alone_and_a_near_uniform_one():
    flat = _prediction((0.0, 0.0), 20_000.0, "audio")
    col = result_collection(flat, source="silence.wav")
    r90 = by_kind(col, "region", mass=0.9)[0]
    assert shape(r90["geometry"]).is_valid
    assert r90["properties"]["area_km2"] > 0.5 * 4 * math.pi * 6371.0**2 * 0.5
    assert kml_schema().validate(etree.fromstring(to_kml(col).encode()))


@pytest.mark.slow
def test_a_real_clip_and_its_claims_open_in_gis_tools(tmp_path: Path):
    # XC148645: Spanish Imperial Eagle, recorded in Spain at (39.84, -6.00); the real default engine and claim check.
    from geoforensics.evidence import score_audio
    from geoforensics.forensics.checker import ClaimChecker
    from geoforensics.paths import shipped_file

    checker = ClaimChecker(score_audio(shipped_file("examples", "XC148645.mp3")), source="XC148645.mp3")
    true, far = checker.check((39.84, -6.0)), checker.check("Sydney")
    assert (true.verdict, far.verdict) == ("consistent", "mismatch")
    col = result_collection(checker.prediction, claims=[true, far], source="XC148645.mp3")
    r90 = shape(by_kind(col, "region", mass=0.9)[0]["geometry"])
    assert r90.is_valid and r90.contains(shapely.Point(-6.0, 39.84))
    guess = by_kind(col, "guess")[0]["properties"]
    assert guess["species"].startswith("Spanish Eagle (Aquila adalberti)")
    meta, _, geometry, fields = pyogrio.raw.read(write_geojson(tmp_path / "eagle.geojson", col))
    names = list(meta["fields"])
    km = {v: d for k, v, d in zip(fields[names.index("kind")], fields[names.index("verdict")],
                                  fields[names.index("distance_km")]) if k == "distance"}
    assert km["mismatch"] == pytest.approx(float(haversine_km(checker.prediction.point, far.claim.latlon)), abs=0.1)
    assert all(shapely.is_valid(shapely.from_wkb(geometry)))
    assert kml_schema().validate(etree.parse(str(write_kml(tmp_path / "eagle.kml", col))))
