"""Model bundles: verification, atomic replacement of corrupt files, fallback between sources."""

import dataclasses

import pytest

from posture.errors import ModelError, UsageError
from posture.vision import modelstore
from posture.vision.modelstore import ModelSource


@pytest.fixture()
def empty_model_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("POSTURE_MODEL_DIR", str(tmp_path))
    return tmp_path


def local_variant(model_path, *urls):
    variant = modelstore.get_variant("full")
    return dataclasses.replace(variant, sources=tuple(ModelSource(u) for u in urls))


def test_manifest_lists_the_three_official_variants():
    variants = modelstore.load_manifest()
    assert set(variants) == {"lite", "full", "heavy"}
    assert variants["full"].bytes == 9_398_198
    assert variants["full"].sources[0].url.startswith("https://storage.googleapis.com/")
    assert variants["full"].sources[-1].member.endswith("pose_landmarker_full.task")


def test_unknown_variant_is_a_usage_error():
    with pytest.raises(UsageError, match="unknown model variant 'huge'"):
        modelstore.get_variant("huge")


def test_verify_detects_truncated_and_corrupt_files(model_path, tmp_path):
    variant = modelstore.get_variant("full")
    assert modelstore.verify(model_path, variant) is None
    data = model_path.read_bytes()
    short = tmp_path / "short.task"
    short.write_bytes(data[:-10])
    assert "size" in modelstore.verify(short, variant)
    flipped = tmp_path / "flipped.task"
    flipped.write_bytes(data[:100] + bytes([data[100] ^ 1]) + data[101:])
    assert modelstore.verify(flipped, variant) == "SHA-256 mismatch"
    assert modelstore.verify(tmp_path / "none.task", variant) == "missing"


def test_fetch_falls_through_bad_sources_and_writes_atomically(model_path, empty_model_dir,
                                                              tmp_path_factory):
    bad = tmp_path_factory.mktemp("bad") / "wrong.task"
    bad.write_bytes(b"not a model")
    variant = local_variant(model_path, "file:///nonexistent/model.task", bad.as_uri(),
                            model_path.as_uri())
    messages = []
    path = modelstore.fetch(variant, show_progress=False, log=messages.append)
    assert modelstore.verify(path, variant) is None
    assert len(messages) == 3
    assert "nonexistent" in messages[0] and "size" in messages[1] and "verified" in messages[2]
    assert list(empty_model_dir.glob("*.part")) == []


def test_corrupt_model_is_replaced_never_loaded(model_path, empty_model_dir, monkeypatch):
    variant = local_variant(model_path, model_path.as_uri())
    monkeypatch.setattr(modelstore, "get_variant", lambda name: variant)
    target = empty_model_dir / variant.file
    target.write_bytes(b"corrupt" * 1000)
    assert modelstore.ensure_model("full", show_progress=False) == target
    assert modelstore.verify(target, variant) is None


def test_missing_model_without_fetch_says_what_to_run(empty_model_dir):
    with pytest.raises(ModelError, match="posture models fetch --variant full"):
        modelstore.ensure_model("full", auto_fetch=False)


def test_all_sources_failing_is_a_model_error(model_path, empty_model_dir, monkeypatch):
    variant = local_variant(model_path, "file:///nonexistent/model.task")
    monkeypatch.setattr(modelstore, "get_variant", lambda name: variant)
    with pytest.raises(ModelError, match="posture models fetch --variant full"):
        modelstore.ensure_model("full", show_progress=False)
