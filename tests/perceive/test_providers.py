"""The sim and file perceive providers: seeded noise that is never zero by default, the user's JSON."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from exoactor.artifacts import Camera, Observation, SceneObject
from exoactor.errors import ArtifactError, InputError
from exoactor.geometry import quat_angle
from exoactor.perceive.file import FilePerception
from exoactor.perceive.sim import SimPerception
from exoactor.stages import StageContext


def _obs() -> Observation:
    objs = [
        SceneObject(
            name=f"o{i}",
            pos=np.array([0.5, 0.1 * i, 0.8]),
            quat=np.array([1.0, 0, 0, 0]),
            size=np.ones(3) * 0.1,
            kind="graspable",
        )
        for i in range(40)
    ]
    cam = Camera.from_fovy(64, 48, 45.0)
    return Observation(image=np.zeros((48, 64, 3), np.uint8), camera=cam, scene="pick_place_basket", objects=objs)


def test_sim_noise_matches_its_model_and_the_seed(tmp_path: Path) -> None:
    obs = _obs()
    a = SimPerception().perceive(obs, StageContext(work_dir=tmp_path, seed=3))
    b = SimPerception().perceive(obs, StageContext(work_dir=tmp_path, seed=3))
    c = SimPerception().perceive(obs, StageContext(work_dir=tmp_path, seed=4))
    err = np.array([o.pos - t.pos for o, t in zip(a.objects, obs.objects)])
    ang = np.degrees([quat_angle(o.quat, t.quat) for o, t in zip(a.objects, obs.objects)])
    assert 0.006 < err.std() < 0.014  # 1 cm per axis
    assert 1.0 < np.sqrt(np.mean(ang**2)) < 5.0  # 3 deg
    assert a.objects[0].pos_std_m == pytest.approx(0.01)
    np.testing.assert_array_equal([o.pos for o in a.objects], [o.pos for o in b.objects])
    assert not np.allclose([o.pos for o in a.objects], [o.pos for o in c.objects])
    exact = SimPerception(pos_std_m=0.0, rot_std_deg=0.0).perceive(obs, StageContext(work_dir=tmp_path, seed=3))
    np.testing.assert_allclose([o.pos for o in exact.objects], [o.pos for o in obs.objects])


def test_file_provider_reads_the_users_json_and_names_bad_fields(tmp_path: Path) -> None:
    path = tmp_path / "poses.json"
    o = {
        "name": "bottle",
        "kind": "graspable",
        "pos": [0.4, -0.2, 0.79],
        "quat_wxyz": [1, 0, 0, 0],
        "size": [0.066, 0.066, 0.22],
    }
    path.write_text(json.dumps({"objects": [o]}))
    poses = FilePerception(path=str(path)).perceive(_obs(), StageContext(work_dir=tmp_path))
    np.testing.assert_allclose(poses.get("bottle").pos, [0.4, -0.2, 0.79])
    path.write_text(json.dumps({"objects": [{**o, "pos": [0.4, "x", 0.79]}]}))
    with pytest.raises(ArtifactError, match=r"objects\[0\]: field 'pos' is not numeric"):
        FilePerception(path=str(path)).perceive(_obs(), StageContext(work_dir=tmp_path))
    path.write_text("{not json")
    with pytest.raises(ArtifactError, match="not valid JSON"):
        FilePerception(path=str(path)).perceive(_obs(), StageContext(work_dir=tmp_path))
    with pytest.raises(InputError, match="object pose file not found"):
        FilePerception(path=str(tmp_path / "none.json")).perceive(_obs(), StageContext(work_dir=tmp_path))
