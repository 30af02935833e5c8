"""The pose model bundles: manifest, cache directory, verified download with fallbacks.

A bundle is only ever used after its size and SHA-256 match the manifest; downloads go to a
temporary file in the cache directory and are renamed into place, so a crash never leaves a
half-written model under the real name.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import tarfile
import tempfile
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, BinaryIO

from posture.errors import ModelError, UsageError
from posture.files import secure_user_data
from posture.paths import user_data_dir
from posture.progress import Progress

CHUNK_BYTES = 1 << 16
# The official host is unreachable on some networks; fail over to the registry copy quickly.
OFFICIAL_TIMEOUT_S = 8.0
FALLBACK_TIMEOUT_S = 60.0


@dataclass(frozen=True)
class ModelSource:
    """Where a bundle can be downloaded from: a direct URL, or a member of a tar.gz."""

    url: str
    member: str | None = None
    timeout_s: float = FALLBACK_TIMEOUT_S

    def describe(self) -> str:
        return f"{self.url} ({self.member})" if self.member else self.url


@dataclass(frozen=True)
class ModelVariant:
    name: str
    file: str
    bytes: int
    sha256: str
    sources: tuple[ModelSource, ...] = field(default=())


def manifest_path() -> Path:
    package = Path(__file__).resolve().parent.parent
    for candidate in (package / "data" / "manifest.json",
                      package.parent / "models" / "manifest.json"):
        if candidate.is_file():
            return candidate
    raise ModelError("model manifest not found: the posture installation is incomplete")


def load_manifest() -> dict[str, ModelVariant]:
    data = json.loads(manifest_path().read_text())
    variants = {}
    for name, spec in data["variants"].items():
        official = ModelSource(data["url_pattern"].format(variant=name), None, OFFICIAL_TIMEOUT_S)
        fallbacks = tuple(ModelSource(f["tarball"], f["member"]) for f in spec.get("fallbacks", []))
        variants[name] = ModelVariant(
            name, spec["file"], int(spec["bytes"]), spec["sha256"], (official, *fallbacks)
        )
    return variants


DEFAULT_VARIANT = "full"


def get_variant(name: str) -> ModelVariant:
    variants = load_manifest()
    if name not in variants:
        raise UsageError(f"unknown model variant {name!r}; choose one of: {', '.join(variants)}")
    return variants[name]


def model_dir() -> Path:
    if env := os.environ.get("POSTURE_MODEL_DIR"):
        return Path(env).expanduser()
    return user_data_dir() / "models"


def model_path(variant: ModelVariant) -> Path:
    return model_dir() / variant.file


def verify(path: Path, variant: ModelVariant) -> str | None:
    """Return None when the file is the manifest's bundle, else why it is not."""
    if not path.is_file():
        return "missing"
    size = path.stat().st_size
    if size != variant.bytes:
        return f"size {size} bytes, expected {variant.bytes}"
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(CHUNK_BYTES * 16), b""):
            digest.update(chunk)
    if digest.hexdigest() != variant.sha256:
        return "SHA-256 mismatch"
    return None


def _chunks(stream: IO[bytes]) -> Iterator[bytes]:
    yield from iter(lambda: stream.read(CHUNK_BYTES), b"")


def _download_to(dest: BinaryIO, source: ModelSource, variant: ModelVariant, show: bool) -> None:
    with urllib.request.urlopen(source.url, timeout=source.timeout_s) as response:
        length = int(response.headers.get("Content-Length") or 0)
        if source.member is None:
            _copy_with_progress(response, dest, length, variant.name, show)
            return
        with tempfile.TemporaryFile() as archive:
            _copy_with_progress(response, archive, length, f"{variant.name} (package)", show)
            archive.seek(0)
            with tarfile.open(fileobj=archive, mode="r:gz") as tar:
                member = tar.extractfile(source.member)
                if member is None:
                    raise OSError(f"{source.member} not found in the package")
                for chunk in _chunks(member):
                    dest.write(chunk)


def _copy_with_progress(src: BinaryIO, dst: BinaryIO, length: int, label: str, show: bool) -> None:
    with Progress(f"downloading {label}", total=length // 1024 or None, unit="KiB",
                  enabled=show) as bar:
        for chunk in _chunks(src):
            dst.write(chunk)
            bar.update(len(chunk) // 1024)


def fetch(variant: ModelVariant, show_progress: bool = True,
          log: Callable[[str], None] | None = None) -> Path:
    """Download the bundle from the first source that yields the verified file."""
    say = log or (lambda msg: print(msg, file=sys.stderr))
    target = model_path(variant)
    try:
        if user_data_dir() in target.parents:
            secure_user_data()  # the history and token live there too: private
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ModelError(f"cannot create model directory {target.parent}: {exc.strerror}") from exc
    failures = []
    for source in variant.sources:
        fd, tmp_name = tempfile.mkstemp(prefix=variant.file + ".", suffix=".part",
                                        dir=target.parent)
        tmp = Path(tmp_name)
        try:
            with os.fdopen(fd, "wb") as fh:
                _download_to(fh, source, variant, show_progress)
                fh.flush()
                os.fsync(fh.fileno())
            problem = verify(tmp, variant)
            if problem is None:
                os.replace(tmp, target)
                say(f"model {variant.name}: verified and saved to {target}")
                return target
            failures.append(f"{source.describe()}: {problem}")
        except (OSError, tarfile.TarError, ValueError) as exc:
            failures.append(f"{source.describe()}: {exc}")
        finally:
            tmp.unlink(missing_ok=True)
        say(f"model {variant.name}: {failures[-1]}; trying the next source")
    raise ModelError(f"could not fetch the {variant.name} model: " + "; ".join(failures))


def ensure_model(variant_name: str = DEFAULT_VARIANT, auto_fetch: bool = True,
                 show_progress: bool = True) -> Path:
    """Return the path of a verified bundle, fetching or replacing it when needed."""
    variant = get_variant(variant_name)
    path = model_path(variant)
    problem = verify(path, variant)
    if problem is None:
        return path
    if problem != "missing":
        print(f"model {variant.name} at {path} is corrupt ({problem}); replacing it",
              file=sys.stderr)
        path.unlink(missing_ok=True)
    if not auto_fetch:
        raise ModelError(f"the {variant.name} pose model is {problem}; run: "
                         f"posture models fetch --variant {variant.name}")
    try:
        return fetch(variant, show_progress)
    except ModelError as exc:
        raise ModelError(f"{exc}; check the network, then run: "
                         f"posture models fetch --variant {variant.name}") from exc


def list_models() -> list[dict[str, object]]:
    """One row per manifest variant: where its file would be and whether it is verified."""
    rows = []
    for variant in load_manifest().values():
        path = model_path(variant)
        problem = verify(path, variant)
        rows.append({"variant": variant.name, "path": str(path), "bytes": variant.bytes,
                     "status": "verified" if problem is None else problem})
    return rows
