"""A result FeatureCollection (:mod:`geoforensics.gis.features`) as a KML 2.2 document (OGC 07-147r2).

Google Earth, QGIS (GDAL's LIBKML and KML drivers) and most GIS tools open it. One folder per kind of
feature (regions, distances, candidates, guesses, claims, recordings), one Placemark per feature with
its properties as ``ExtendedData`` and a style by kind, modality and verdict. The geometries are the
GeoJSON ones (cut at the antimeridian), so a flat map and a globe show the same shapes; polygons and
lines follow the ground (``tessellate``).

Written with the standard library's ElementTree, in the element order the KML 2.2 schema requires
(the tests validate against it); a reader needs nothing from us.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from typing import Any

from ..text import safe

KML_NS = "http://www.opengis.net/kml/2.2"
FOLDERS = {
    "region": "Regions",
    "distance": "Distances",
    "candidate": "Top candidates",
    "guess": "Guesses",
    "claim": "Claims",
    "recording": "Recordings",
}
_MODALITY_RGB = {"audio": "1f77b4", "image": "ff7f0e"}
_VERDICT_RGB = {"consistent": "2ca02c", "mismatch": "d62728", "inconclusive": "7f7f7f"}
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_DATE = re.compile(r"\d{4}(?:-\d{2}(?:-\d{2})?)?", re.ASCII)


def kml_color(rgb: str, alpha: float = 1.0) -> str:
    """KML's ``aabbggrr`` of an ``rrggbb`` colour and an opacity 0-1."""
    return f"{round(alpha * 255):02x}{rgb[4:6]}{rgb[2:4]}{rgb[0:2]}"


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:.10g}"
    return _NOT_XML.sub("\ufffd", safe(value, multiline=True))


def _sub(parent: ET.Element, tag: str, text: Any = None) -> ET.Element:
    el = ET.SubElement(parent, tag)
    if text is not None:
        el.text = _text(text)
    return el


def _style_id(props: Mapping[str, Any]) -> str:
    kind = props.get("kind", "")
    if kind == "region":
        return f"region-{props.get('modality', 'audio')}-{round(100 * float(props.get('mass') or 0))}"
    if kind in ("claim", "distance") and props.get("verdict") in _VERDICT_RGB:
        return f"{kind}-{props['verdict']}"
    if kind in ("guess", "candidate"):
        return f"{kind}-{props.get('modality', 'audio')}"
    return kind or "feature"


def _style(document: ET.Element, style_id: str) -> None:
    style = ET.SubElement(document, "Style", id=style_id)
    parts = style_id.split("-")
    kind = parts[0]
    rgb = _VERDICT_RGB.get(parts[-1]) or _MODALITY_RGB.get(parts[1] if len(parts) > 1 else "", "444444")
    if kind == "region":
        mass = int(parts[2]) if len(parts) > 2 and parts[2].isdigit() else 90
        line = ET.SubElement(style, "LineStyle")
        _sub(line, "color", kml_color(rgb))
        _sub(line, "width", 2.5 if mass <= 50 else 1.5)
        poly = ET.SubElement(style, "PolyStyle")
        _sub(poly, "color", kml_color(rgb, 0.35 if mass <= 50 else 0.15))
    elif kind == "distance":
        line = ET.SubElement(style, "LineStyle")
        _sub(line, "color", kml_color(rgb if rgb != "444444" else "333333"))
        _sub(line, "width", 2)
    else:
        icon = ET.SubElement(style, "IconStyle")
        _sub(icon, "color", kml_color(rgb))
        _sub(icon, "scale", {"guess": 1.3, "claim": 1.2}.get(kind, 0.9))
        label = ET.SubElement(style, "LabelStyle")
        _sub(label, "scale", 0.9 if kind in ("guess", "claim") else 0.7)


def _coordinates(parent: ET.Element, points: list[list[float]]) -> None:
    _sub(parent, "coordinates", " ".join(f"{_text(float(x))},{_text(float(y))}" for x, y in points))


def _polygon(parent: ET.Element, rings: list[list[list[float]]]) -> None:
    poly = ET.SubElement(parent, "Polygon")
    _sub(poly, "tessellate", 1)
    for i, ring in enumerate(rings):
        boundary = ET.SubElement(poly, "outerBoundaryIs" if i == 0 else "innerBoundaryIs")
        _coordinates(ET.SubElement(boundary, "LinearRing"), ring)


def _line(parent: ET.Element, points: list[list[float]]) -> None:
    line = ET.SubElement(parent, "LineString")
    _sub(line, "tessellate", 1)
    _coordinates(line, points)


def _geometry(parent: ET.Element, geometry: Mapping[str, Any] | None) -> None:
    if geometry is None:
        return
    kind, coords = geometry["type"], geometry["coordinates"]
    if kind == "Point":
        _coordinates(ET.SubElement(parent, "Point"), [coords])
    elif kind == "LineString":
        _line(parent, coords)
    elif kind == "Polygon":
        _polygon(parent, coords)
    elif kind in ("MultiLineString", "MultiPolygon"):
        multi = ET.SubElement(parent, "MultiGeometry")
        for part in coords:
            (_line if kind == "MultiLineString" else _polygon)(multi, part)
    else:
        raise ValueError(f"no KML for a {kind} geometry")


def _description(props: Mapping[str, Any]) -> str:
    keys = ("text", "species", "species_at_claim", "notes", "error")
    return "\n".join(str(props[k]) for k in keys if props.get(k))


def _placemark(folder: ET.Element, feat: Mapping[str, Any]) -> None:
    props = feat.get("properties") or {}
    mark = ET.SubElement(folder, "Placemark")
    _sub(mark, "name", props.get("name") or props.get("kind", "feature"))
    if description := _description(props):
        _sub(mark, "description", description)
    date = str(props.get("date") or "")
    if _DATE.fullmatch(date):
        _sub(ET.SubElement(mark, "TimeStamp"), "when", date)
    _sub(mark, "styleUrl", f"#{_style_id(props)}")
    data = ET.SubElement(mark, "ExtendedData")
    for key, value in props.items():
        if key != "name" and value is not None and value != "":
            _sub(ET.SubElement(data, "Data", name=str(key)), "value", value)
    _geometry(mark, feat.get("geometry"))


def to_kml(collection: Mapping[str, Any], *, name: str | None = None, description: str = "") -> str:
    """The KML 2.2 text of a FeatureCollection (see the module docstring)."""
    root = ET.Element("kml", xmlns=KML_NS)
    document = ET.SubElement(root, "Document")
    _sub(document, "name", name or collection.get("name") or "geoforensics")
    _sub(document, "open", 1)
    if description:
        _sub(document, "description", description)
    features = list(collection.get("features", []))
    for style_id in dict.fromkeys(_style_id(f.get("properties") or {}) for f in features):
        _style(document, style_id)
    kinds = list(FOLDERS) + sorted({str((f.get("properties") or {}).get("kind", "")) for f in features} - set(FOLDERS))
    for kind in kinds:
        members = [f for f in features if (f.get("properties") or {}).get("kind", "") == kind]
        if not members:
            continue
        folder = ET.SubElement(document, "Folder")
        _sub(folder, "name", FOLDERS.get(kind, kind or "Features"))
        for feat in members:
            _placemark(folder, feat)
    ET.indent(root, space=" ")
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
