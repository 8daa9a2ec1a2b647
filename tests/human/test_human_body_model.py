"""The anny body wrapper: its cache management and the rig it exposes."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("anny")

from exoactor.human.body_model import (  # noqa: E402
    BodyModel,
    Phenotype,
    anny_cache_dir,
    anny_cache_ready,
    prune_anny_cache,
)


@pytest.fixture(scope="module")
def body() -> BodyModel:
    return BodyModel()


def test_prune_keeps_only_the_compact_model_data(tmp_path):
    v = tmp_path / "v14"
    v.mkdir()
    big = v / "load_data_abc.safetensors"
    big.write_bytes(b"x" * 1000)
    # before the compact data exists nothing is deleted (a build may still need its inputs)
    assert not anny_cache_ready(tmp_path)
    assert prune_anny_cache(tmp_path) == 0 and big.exists()
    keep = v / "build_compact_model_data_123.safetensors"
    keep.write_bytes(b"y" * 10)
    (v / "build_model_data_456.safetensors").write_bytes(b"z" * 500)
    assert anny_cache_ready(tmp_path)
    assert prune_anny_cache(tmp_path) == 1500
    assert sorted(p.name for p in v.iterdir()) == [keep.name]


def test_cache_dir_follows_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("EXOACTOR_ANNY_CACHE", str(tmp_path / "c"))
    assert anny_cache_dir() == tmp_path / "c"


def test_rig_mesh_and_cache(body):
    assert body.n_bones == 104 and body.bone_names[0] == "root"
    assert body.rest_vertices.shape == (13718, 3)
    assert body.faces.shape[1] == 3 and body.faces.max() == 13717
    assert body.parents[0] == -1 and all(p < i for i, p in enumerate(body.parents) if i)
    # anny's frame: pelvis at the origin, the soles about 0.87 m below it, left is +x
    assert -0.95 < body.floor_z < -0.75
    assert body.rest_heads[body.bone_index["upperleg01.L"], 0] > 0 > body.rest_heads[body.bone_index["upperleg01.R"], 0]
    # COCO regression: rows are affine combinations of vertices
    assert body.coco_weights.shape == (23, 13718)
    np.testing.assert_allclose(body.coco_weights.sum(1), 1.0, atol=1e-3)
    # after the first build only the compact data is kept
    assert anny_cache_ready()
    files = list(anny_cache_dir().glob("v*/*.safetensors"))
    assert files and all(f.name.startswith("build_compact_model_data_") for f in files)


def test_height_phenotype_changes_stature():
    short = BodyModel(Phenotype(height=0.2))
    tall = BodyModel(Phenotype(height=0.8))
    stature = lambda b: float(b.rest_vertices[:, 2].max() - b.rest_vertices[:, 2].min())  # noqa: E731
    assert stature(tall) > stature(short) + 0.1


def test_pose_is_batched_and_identity_is_rest(body):
    out = body.pose({}, n_frames=3)
    assert out["vertices"].shape == (3, 13718, 3) and out["bones"].shape == (3, 104, 4, 4)
    np.testing.assert_allclose(out["vertices"][2], body.rest_vertices, atol=1e-5)
