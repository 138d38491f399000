import datetime as dt
import json
import math
from pathlib import Path

import numpy as np
import pytest

from geoforensics.data import (
    Recording,
    RecordingDataset,
    detect_format,
    list_formats,
    open_dataset,
    parse_date,
    parse_name_list,
    read_manifest,
    read_vocalizations,
    read_wabad,
)
from geoforensics.errors import InputError
from geoforensics.paths import shared_dir

# --- fixtures -----------------------------------------------------------------------------------

MANIFEST = """file,xc_id,lat,lon,date,species,common_name,country,continent,duration_s,also,recordist,license,xc_url
audio/XC1.mp3,XC1,-18.200888,21.735268,2016-11-21,Gyps africanus,White-backed Vulture,Namibia,Africa,21.55,,Peter,cc,https://xeno-canto.org/1
audio/XC2.mp3,XC2,51.5,-0.12,2019-05-00,Turdus merula,Eurasian Blackbird,UK,Europe,1:05,"Erithacus rubecula, Parus major",Ann,cc,https://xeno-canto.org/2
audio/XC3.mp3,XC3,35.0,139.0,,Cettia diphone,Japanese Bush Warbler,Japan,Asia,10,"Eurasian Wren, Great Tit",Ken,cc,https://xeno-canto.org/3
"""

# Two rows in the exact format of cvl-umass/nat-sound2loc-benchmark xcdc/xcdc_recordings.csv (MIT), one made up.
XCDC = """audio_id,url,latitude,longitude,length,date,time,recordist,main_scientific,main_common,\
all_scientific,all_common
894098,https://xeno-canto.org/894098,52.75,0.462,3:05,2024-03-31,07:00,Stuart Fisher,Aythya ferina,Common Pochard,\
"['Cyanistes caeruleus', 'Corvus corone', 'Aythya ferina']","['Blue Tit', 'Carrion Crow', 'Common Pochard']"
322459,https://xeno-canto.org/322459,31.84,-109.025,9:24,2015-04-25,06:43,Richard E. Webster,Callipepla gambelii,\
Gambel's Quail,"['Tyrannus verticalis', 'Icterus parisorum', 'Callipepla gambelii']",\
"['Western Kingbird', ""Scott's Oriole"", ""Gambel's Quail""]"
100,,10.5,20.25,1:02:03,2010-06-00,,X,Parus major,Great Tit,Parus major;Sitta europaea;Parus major,Great Tit;;Great Tit
"""

INAT = {
    "info": {"year": 2024},
    "licenses": [{"id": 1, "name": "CC BY-NC 4.0", "url": ""}],
    "audio": [
        {"id": 11, "duration": 12.5, "file_name": "test/00001_Animalia_Chordata_Aves_Turdus_merula/aaaa-1111.wav",
         "license": 1, "rights_holder": "someone", "date": "2021-05-04 06:10:00+00:00",
         "latitude": 48.1, "longitude": 11.5, "location_uncertainty": 10},
        {"id": 12, "duration": 3.0, "file_name": "test/00002_Animalia_Chordata_Amphibia_Hyla_arborea/bbbb-2222.wav",
         "license": 1, "rights_holder": "other", "date": "2020-07-01", "latitude": None, "longitude": None,
         "location_uncertainty": None},
        {"id": 13, "duration": 7.25, "file_name": "test/00001_Animalia_Chordata_Aves_Turdus_merula/cccc-3333.wav",
         "license": 1, "rights_holder": "third", "date": "", "latitude": -33.9, "longitude": 151.2,
         "location_uncertainty": 5},
    ],
    "categories": [
        {"id": 0, "name": "Turdus merula", "common_name": "Eurasian Blackbird", "supercategory": "Aves"},
        {"id": 1, "name": "Hyla arborea", "common_name": "European Tree Frog", "supercategory": "Amphibia"},
    ],
    "annotations": [
        {"id": 0, "audio_id": 11, "category_id": 0},
        {"id": 1, "audio_id": 12, "category_id": 1},
        {"id": 2, "audio_id": 13, "category_id": 0},
    ],
}

SITES = "site_id,latitude,longitude,country\nESP01,37.07,-6.62,Spain\nBRA,-3.1,-60.0,Brazil\n"
RAVEN_HEADER = "Selection\tView\tChannel\tBegin Time (s)\tEnd Time (s)\tLow Freq (Hz)\tHigh Freq (Hz)\tSpecies\n"


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def manifest_csv(tmp_path: Path) -> Path:
    return write(tmp_path / "xc" / "labels.csv", MANIFEST)


@pytest.fixture
def xcdc_csv(tmp_path: Path) -> Path:
    p = write(tmp_path / "xcdc" / "xcdc_recordings.csv", XCDC)
    write(p.parent / "audio" / "894098.mp3", "")
    return p


@pytest.fixture
def inat_json(tmp_path: Path) -> Path:
    return write(tmp_path / "inat" / "test.json", json.dumps(INAT))


@pytest.fixture
def wabad_dir(tmp_path: Path) -> Path:
    root = tmp_path / "WABAD"
    write(root / "sites.csv", SITES)
    loc = root / "ESP" / "ESP"
    write(loc / "Recordings" / "ESP01_20210415_060000.wav", "")
    write(
        loc / "Raven_Pro_annotations" / "ESP01_20210415_060000.Table.1.selections.txt",
        RAVEN_HEADER
        + "1\tSpectrogram 1\t1\t5.0\t6.0\t2000\t6000\tFringilla coelebs\n"
        + "2\tSpectrogram 1\t1\t1.0\t2.5\t1500\t4000\tTurdus_merula\n"
        + "3\tSpectrogram 1\t1\t7.0\t8.0\t2000\t6000\tFringilla coelebs\n",
    )
    bra = root / "BRA" / "BRA"
    write(bra / "Recordings" / "rec7.wav", "")
    write(bra / "Raven_Pro_annotations" / "rec7.txt",
          RAVEN_HEADER + "1\tSpectrogram 1\t1\t0.5\t1.0\t800\t1200\tCrypturellus soui\n")
    return root


# --- dates and small parsers ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, expected",
    [
        ("2016-11-21", dt.date(2016, 11, 21)),
        ("2021-05-04 06:10:00+00:00", dt.date(2021, 5, 4)),
        ("2021-05-04T06:10", dt.date(2021, 5, 4)),
        ("2021/5/4", dt.date(2021, 5, 4)),
        ("20210415", dt.date(2021, 4, 15)),
        ("2019-05", dt.date(2019, 5, 1)),
        ("2019-05-00", dt.date(2019, 5, 1)),
        ("2019-00-00", None),
        ("2019", None),
        ("", None),
        ("?", None),
        (None, None),
    ],
)
def test_parse_date(text, expected):
    assert parse_date(text) == expected


@pytest.mark.parametrize("text", ["yesterday", "2019-13-01", "2019-02-30", "21-05-2019"])
def test_parse_date_rejects(text):
    with pytest.raises(InputError, match="date"):
        parse_date(text, context="f.csv, row 3")


def test_parse_name_list_variants():
    assert parse_name_list("['A b', \"C's d\", '']") == ["A b", "C's d", ""]
    assert parse_name_list('["A b", "C d"]') == ["A b", "C d"]
    assert parse_name_list("A b; C d") == ["A b", "C d"]
    assert parse_name_list("A b|C d") == ["A b", "C d"]
    assert parse_name_list("A b, C d") == ["A b", "C d"]
    assert parse_name_list("") == []


# --- manifest -----------------------------------------------------------------------------------------


def test_manifest_reads_rows(manifest_csv: Path):
    ds = open_dataset(manifest_csv)
    assert ds.format == "manifest" and ds.name == "xc" and len(ds) == 3
    assert ds.ids == ["XC1", "XC2", "XC3"]
    r = ds[0]
    assert r.audio_path == (manifest_csv.parent / "audio" / "XC1.mp3").resolve()
    assert r.audio_path.is_absolute()
    assert (r.lat, r.lon) == (-18.200888, 21.735268)
    assert r.date == dt.date(2016, 11, 21)
    assert r.species == ("Gyps africanus",) and r.common_names == ("White-backed Vulture",)
    assert r.url == "https://xeno-canto.org/1" and r.duration_s == 21.55
    assert r.extra["country"] == "Namibia" and r.extra["recordist"] == "Peter"
    # scientific names in `also` join species; common names there stay in extra only
    assert ds[1].species == ("Turdus merula", "Erithacus rubecula", "Parus major")
    assert ds[1].date == dt.date(2019, 5, 1) and ds[1].extra["date_raw"] == "2019-05-00"
    assert ds[1].duration_s == 65.0
    assert ds[2].species == ("Cettia diphone",) and ds[2].extra["also"] == "Eurasian Wren, Great Tit"
    assert ds[2].date is None
    assert len(ds.missing_audio()) == 3


def test_manifest_generic_columns_and_stem_ids(tmp_path: Path):
    p = write(tmp_path / "clips.csv",
              "path,latitude,lng,scientific_name\n/abs/a.wav,1.5,2.5,Parus major\nsub/b.flac,-1,-2,\n")
    ds = read_manifest(p)
    assert ds.name == "clips"
    assert ds.ids == ["a", "b"]
    assert ds[0].audio_path == Path("/abs/a.wav")
    assert ds[1].audio_path == (tmp_path / "sub" / "b.flac").resolve()
    assert ds[1].species == () and ds[1].date is None
    np.testing.assert_array_equal(ds.locations(), [[1.5, 2.5], [-1.0, -2.0]])


@pytest.mark.parametrize(
    "row, message",
    [
        ("audio/x.mp3,X9,nan,3.0,2019-01-01,A b", "row 2 \\(line 3\\).*latitude"),
        ("audio/x.mp3,X9,95,3.0,2019-01-01,A b", "row 2 \\(line 3\\).*latitude 95 is outside"),
        ("audio/x.mp3,X9,10,181,2019-01-01,A b", "row 2 \\(line 3\\).*longitude 181 is outside"),
        ("audio/x.mp3,X9,,3.0,2019-01-01,A b", "row 2 \\(line 3\\).*latitude is missing"),
        ("audio/x.mp3,X9,10,abc,2019-01-01,A b", "row 2 \\(line 3\\).*longitude is not a number"),
        ("audio/x.mp3,X9,10,3.0,2019-31-12,A b", "row 2 \\(line 3\\).*date"),
        (",X9,10,3.0,2019-01-01,A b", "row 2 \\(line 3\\).*audio path"),
        ("audio/x.mp3,X1,10,3.0,2019-01-01,A b", "row 2 \\(line 3\\).*duplicate recording id 'X1'"),
    ],
)
def test_manifest_bad_rows_name_file_and_row(tmp_path: Path, row: str, message: str):
    p = write(tmp_path / "labels.csv", "file,xc_id,lat,lon,date,species\naudio/a.mp3,X1,1,2,,A b\n" + row + "\n")
    with pytest.raises(InputError, match=message) as e:
        read_manifest(p)
    assert str(p) in str(e.value)


def test_manifest_missing_columns(tmp_path: Path):
    p = write(tmp_path / "labels.csv", "file,lat,species\na.mp3,1,A b\n")
    with pytest.raises(InputError, match="lon"):
        read_manifest(p)


# --- XCDC -------------------------------------------------------------------------------------------


def test_xcdc_reads_release_format(xcdc_csv: Path):
    ds = open_dataset(xcdc_csv)
    assert ds.format == "xcdc" and ds.ids == ["894098", "322459", "100"]
    r = ds.by_id("894098")
    assert r.audio_path == (xcdc_csv.parent / "audio" / "894098.mp3").resolve()
    assert (r.lat, r.lon) == (52.75, 0.462)
    assert r.date == dt.date(2024, 3, 31) and r.duration_s == 185.0
    assert r.species == ("Aythya ferina", "Cyanistes caeruleus", "Corvus corone")
    assert r.common_names == ("Common Pochard", "Blue Tit", "Carrion Crow")
    assert r.extra == {"time": "07:00", "recordist": "Stuart Fisher"}
    q = ds[1]
    assert q.audio_path is None and q.url == "https://xeno-canto.org/322459"
    assert q.species[0] == "Callipepla gambelii" and q.common_names[0] == "Gambel's Quail"
    assert q.common_names[2] == "Scott's Oriole"
    s = ds[2]
    assert s.species == ("Parus major", "Sitta europaea") and s.common_names == ("Great Tit", "")
    assert s.date == dt.date(2010, 6, 1) and s.duration_s == 3723.0
    assert s.url == "https://xeno-canto.org/100"
    assert ds.species_counts(focal_only=True)["Parus major"] == 1


def test_xcdc_folder_and_bad_row(tmp_path: Path, xcdc_csv: Path):
    assert detect_format(xcdc_csv.parent) == "xcdc"
    assert len(open_dataset(xcdc_csv.parent)) == 3
    bad = write(tmp_path / "bad" / "xcdc_recordings.csv", XCDC.replace("31.84,-109.025", "31.84,-209.025"))
    with pytest.raises(InputError, match=r"row 2 \(line 3\).*longitude -209.025 is outside \[-180, 180\]"):
        open_dataset(bad)


def test_xcdc_matches_benchmark_gold(xcdc_csv: Path):
    shared = shared_dir()
    gold = shared / "data" / "benchmark-gold" / "xcdc_gold.csv" if shared else None
    if gold is None or not gold.is_file():
        pytest.skip("no /work/shared benchmark gold")
    rows = {line.split(",")[0]: line.strip().split(",")[1:] for line in gold.read_text().splitlines()[1:]}
    for r in open_dataset(xcdc_csv)[:2]:
        assert (r.lat, r.lon) == tuple(float(v) for v in rows[r.id])


# --- iNatSounds -------------------------------------------------------------------------------------


def test_inatsounds_reads_json(inat_json: Path):
    ds = open_dataset(inat_json)
    assert ds.format == "inatsounds" and ds.name == "inatsounds-test"
    assert len(ds) == 2 and ds.skipped == 1
    assert ds.ids == ["aaaa-1111", "cccc-3333"]
    r = ds[0]
    assert r.audio_path == (inat_json.parent / INAT["audio"][0]["file_name"]).resolve()
    assert (r.lat, r.lon) == (48.1, 11.5) and r.date == dt.date(2021, 5, 4)
    assert r.species == ("Turdus merula",) and r.common_names == ("Eurasian Blackbird",)
    assert r.duration_s == 12.5
    assert r.extra["audio_id"] == "11" and r.extra["license"] == "CC BY-NC 4.0"
    assert r.extra["supercategory"] == "Aves" and r.extra["rights_holder"] == "someone"
    assert ds[1].date is None and ds[1].latlon == (-33.9, 151.2)
    assert ds.species_counts() == {"Turdus merula": 2}


def test_inatsounds_bad_record_and_not_inat(tmp_path: Path):
    data = json.loads(json.dumps(INAT))
    data["audio"][2]["latitude"] = 123.0
    p = write(tmp_path / "val.json", json.dumps(data))
    with pytest.raises(InputError, match=r"audio\[2\] \(id 13\).*latitude 123 is outside"):
        open_dataset(p)
    data["audio"][2]["latitude"] = 1.0
    data["annotations"][0]["category_id"] = 99
    write(p, json.dumps(data))
    with pytest.raises(InputError, match=r"annotations\[0\].*99"):
        open_dataset(p)
    other = write(tmp_path / "other.json", json.dumps({"audio": [], "images": []}))
    with pytest.raises(InputError, match="not an iNatSounds"):
        open_dataset(other, format="inatsounds")


# --- WABAD --------------------------------------------------------------------------------------------


def test_wabad_raven_layout(wabad_dir: Path):
    ds = open_dataset(wabad_dir)
    assert ds.format == "wabad" and len(ds) == 2
    r = ds.by_id("ESP01_20210415_060000")
    assert r.audio_path == (wabad_dir / "ESP" / "ESP" / "Recordings" / "ESP01_20210415_060000.wav").resolve()
    assert (r.lat, r.lon) == (37.07, -6.62)
    assert r.date == dt.date(2021, 4, 15)
    assert r.species == ("Fringilla coelebs", "Turdus merula")  # 2 calls before 1
    assert r.extra["site"] == "ESP01" and r.extra["country"] == "Spain" and r.extra["n_vocalizations"] == "3"
    b = ds.by_id("rec7")  # no site id in the file name: matched by its location folder
    assert ((b.lat, b.lon) == (-3.1, -60.0) and b.extra["site"] == "BRA" and b.date is None
            and b.species == ("Crypturellus soui",))
    vocs = read_vocalizations(wabad_dir)
    assert len(vocs) == 4
    first = next(v for v in vocs if v.species == "Turdus merula")
    assert (first.recording_id, first.start_s, first.end_s, first.low_hz, first.high_hz) == (
        "ESP01_20210415_060000", 1.0, 2.5, 1500.0, 4000.0,
    )


def test_wabad_flat_layout_and_errors(tmp_path: Path):
    root = tmp_path / "flat"
    write(root / "sites.csv", SITES)
    write(
        root / "annotations.csv",
        "file,site,species,start,end\n"
        "a/ESP01_20200101.wav,ESP01,Parus major,0,1\n"
        "a/ESP01_20200101.wav,ESP01,Sitta europaea,2,3\n"
        "b/x.wav,BRA,Crypturellus soui,0,1\n",
    )
    write(root / "a" / "ESP01_20200101.wav", "")
    assert detect_format(root) == "wabad"
    ds = read_wabad(root)
    assert ds.ids == ["ESP01_20200101", "x"]
    assert ds[0].audio_path == (root / "a" / "ESP01_20200101.wav").resolve()
    assert ds[0].species == ("Parus major", "Sitta europaea") and ds[0].date == dt.date(2020, 1, 1)
    assert ds[1].latlon == (-3.1, -60.0) and ds[1].audio_path == (root / "b" / "x.wav").resolve()
    assert detect_format(root / "annotations.csv") == "wabad" and len(open_dataset(root / "sites.csv")) == 2

    write(root / "annotations.csv",
          "file,site,species,start,end\na.wav,ESP01,Parus major,0,1\nb.wav,NOPE,Parus major,0,1\n")
    with pytest.raises(InputError, match=r"annotations.csv, row 2 \(line 3\).*'NOPE'"):
        read_wabad(root)
    write(root / "annotations.csv", "file,site,species,start,end\na.wav,ESP01,Parus major,5,1\n")
    with pytest.raises(InputError, match=r"row 1 \(line 2\).*before start"):
        read_wabad(root)
    write(root / "sites.csv", "site_id,latitude,longitude\nESP01,91,0\n")
    with pytest.raises(InputError, match=r"sites.csv, row 1 \(line 2\).*latitude 91 is outside"):
        read_wabad(root)


# --- auto-detection and the dataset API -----------------------------------------------------------------


def test_detection_picks_each_reader(manifest_csv, xcdc_csv, inat_json, wabad_dir):
    assert list_formats() == ["xcdc", "inatsounds", "wabad", "manifest"]
    assert detect_format(manifest_csv) == "manifest"
    assert detect_format(manifest_csv.parent) == "manifest"
    assert detect_format(xcdc_csv) == "xcdc"
    assert detect_format(inat_json) == "inatsounds"
    assert detect_format(inat_json.parent) == "inatsounds"
    assert detect_format(wabad_dir) == "wabad"
    assert detect_format(wabad_dir / "sites.csv") == "wabad"
    # an explicit format wins over detection
    assert open_dataset(xcdc_csv, format="xcdc").format == "xcdc"


def test_detection_rejects_unknown(tmp_path: Path):
    p = write(tmp_path / "x.csv", "a,b\n1,2\n")
    with pytest.raises(InputError, match="not a recognised dataset"):
        open_dataset(p)
    with pytest.raises(InputError, match="no such file"):
        open_dataset(tmp_path / "missing.csv")
    with pytest.raises(InputError, match="unknown dataset format"):
        open_dataset(p, format="nope")


def test_dataset_api(manifest_csv: Path):
    ds = open_dataset(manifest_csv)
    assert isinstance(ds, RecordingDataset) and isinstance(ds[0], Recording)
    assert ds.locations().shape == (3, 2) and ds.locations().dtype == np.float64
    assert ds.species_counts()["Parus major"] == 1
    asia = ds.filter(lambda r: r.extra.get("continent") == "Asia")
    assert asia.ids == ["XC3"] and asia.root == ds.root
    assert ds[1:].ids == ["XC2", "XC3"]
    assert ds[0].focal_species == "Gyps africanus"
    assert len({ds[0], ds[0]}) == 1  # hashable despite the extra mapping
    a, b = ds.split((2, 1), seed=3)
    assert sorted(a.ids + b.ids) == ds.ids and len(a) == 2 and len(b) == 1
    assert (a.ids, b.ids) == tuple(p.ids for p in ds.split((2, 1), seed=3))
    for seed in range(6):
        g1, g2 = ds.split((0.5, 0.5), seed=seed, group=lambda r: r.extra["continent"] in ("Africa", "Europe"))
        assert {frozenset(g1.ids), frozenset(g2.ids)} == {frozenset({"XC1", "XC2"}), frozenset({"XC3"})}
    assert open_dataset(manifest_csv).locations()[0].tolist() == [-18.200888, 21.735268]
    empty = ds.filter(lambda r: False)
    assert len(empty) == 0 and empty.locations().shape == (0, 2)


# --- real data ----------------------------------------------------------------------------------------------


def test_real_xc_dev_labels():
    shared = shared_dir()
    labels = shared / "data" / "xc-dev" / "labels.csv" if shared else None
    if labels is None or not labels.is_file():
        pytest.skip("no /work/shared xc-dev")
    ds = open_dataset(labels)
    assert ds.format == "manifest" and len(ds) == 86
    first = ds[0]
    assert first.id == "XC346817"
    assert (first.lat, first.lon) == (-18.200888, 21.735268)
    assert first.species == ("Gyps africanus",)
    assert first.date == dt.date(2016, 11, 21)
    assert all(r.audio_path is not None and r.audio_path.is_absolute() and r.audio_path.is_file() for r in ds)
    assert ds.missing_audio() == []
    assert all(math.isfinite(r.lat) and math.isfinite(r.lon) for r in ds)
    assert len(set(ds.ids)) == 86


def test_inatsounds_reads_released_tar_gz(tmp_path: Path, inat_json: Path):
    import tarfile

    archive = tmp_path / "test.json.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(inat_json, arcname="test.json")
    assert detect_format(archive) == "inatsounds"
    ds = open_dataset(archive)
    assert ds.ids == ["aaaa-1111", "cccc-3333"] and ds.skipped == 1
    assert ds[0].audio_path == (tmp_path / INAT["audio"][0]["file_name"]).resolve()


def test_wabad_colliding_file_names_get_path_ids(wabad_dir: Path):
    write(wabad_dir / "BRA" / "BRA" / "Recordings" / "ESP01_20210415_060000.wav", "")
    write(
        wabad_dir / "BRA" / "BRA" / "Raven_Pro_annotations" / "ESP01_20210415_060000.txt",
        RAVEN_HEADER + "1\tSpectrogram 1\t1\t0\t1\t800\t1200\tTinamus major\n",
    )
    ds = read_wabad(wabad_dir)
    assert sorted(ds.ids) == [
        "BRA/BRA/Recordings/ESP01_20210415_060000",
        "ESP/ESP/Recordings/ESP01_20210415_060000",
        "rec7",
    ]
    # the file-name prefix names the site even in another location's folder
    assert ds.by_id("BRA/BRA/Recordings/ESP01_20210415_060000").extra["site"] == "ESP01"
