"""The apriltag provider recovers object poses from tags rendered into the simulated scene."""

from __future__ import annotations

import json
from pathlib import Path

import mujoco
import numpy as np
import pytest

from exoactor.artifacts import Observation
from exoactor.errors import ArtifactError, ConfigError, InputError
from exoactor.geometry import mat_to_quat, quat_angle
from exoactor.sim.scene import build_scene, look_at_quat
from exoactor.stages import StageContext

pytest.importorskip("pupil_apriltags")
from exoactor.perceive.apriltag import AprilTagPerception  # noqa: E402

# tag36h11 ids 0-2 with their black border (8 x 8 cells, 1 = white), row by row from the top
TAGS = {
    0: ["00000000", "00010000", "00110100", "00001010", "00001100", "01011100", "01010110", "00000000"],
    1: ["00000000", "01001000", "01011010", "00001100", "00011110", "01110100", "00110110", "00000000"],
    2: ["00000000", "00111000", "00010000", "01001000", "00000010", "00100100", "01110110", "00000000"],
}
TAG_SIZE = {"basket": 0.08, "bottle": 0.048}
TAG_ID = {"basket": 1, "bottle": 0}
# the tag frame (x left, y up as the tag is read, z into it) of a tag on an object's -x face, in the object frame
R_TAG = np.array([[0.0, 0.0, 1.0], [1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])  # columns: x_tag, y_tag, z_tag


def _tag_centre(name: str) -> np.ndarray:
    # on the basket's outer -x wall (2 cm below its rim), on a label 2 mm in front of the bottle's body
    return np.array([-0.151, 0.0, 0.01]) if name == "basket" else np.array([-0.0355, 0.0, -0.03])


def _add_tag(body: mujoco.MjsBody, name: str) -> None:
    """10 x 10 visual cells (the 8 x 8 tag in a white ring) on the object's -x face."""
    cell = TAG_SIZE[name] / 8
    bits = ["1" * 10] + ["1" + row + "1" for row in TAGS[TAG_ID[name]]] + ["1" * 10]
    for r in range(10):
        for c in range(10):
            local = np.array([(4.5 - c) * cell, (4.5 - r) * cell, 0.0])  # row 0 at the top, column 0 on the left
            g = body.add_geom(
                name=f"{name}_tag_{r}_{c}",
                type=mujoco.mjtGeom.mjGEOM_BOX,
                pos=(_tag_centre(name) + R_TAG @ local).tolist(),
                size=[0.0005, cell / 2, cell / 2],
                rgba=[1.0, 1.0, 1.0, 1.0] if bits[r][c] == "1" else [0.0, 0.0, 0.0, 1.0],
            )
            g.contype, g.conaffinity, g.density = 0, 0, 0.0


def _customize(spec: mujoco.MjSpec) -> None:
    for name in TAG_SIZE:
        _add_tag(spec.body(name), name)
    pos = np.array([-0.35, -0.05, 1.05])
    spec.worldbody.add_camera(
        name="tag_cam", pos=pos.tolist(), quat=look_at_quat(pos, [0.5, 0.0, 0.75]).tolist(), fovy=45.0
    )


def _tag_map(tmp_path: Path) -> Path:
    objs = []
    for name, kind, size in (("basket", "container", [0.3, 0.24, 0.12]), ("bottle", "graspable", [0.066, 0.066, 0.22])):
        T = np.eye(4)
        T[:3, :3], T[:3, 3] = R_TAG, _tag_centre(name)
        inv = np.linalg.inv(T)  # the object in the tag's frame
        objs.append(
            {
                "name": name,
                "kind": kind,
                "size": size,
                "tag_id": TAG_ID[name],
                "tag_size_m": TAG_SIZE[name],
                "object_in_tag": {"pos": inv[:3, 3].tolist(), "quat_wxyz": mat_to_quat(inv[:3, :3]).tolist()},
            }
        )
    objs.append({"name": "box", "kind": "graspable", "size": [0.2, 0.2, 0.2], "tag_id": 2})  # not in view
    path = tmp_path / "tags.json"
    path.write_text(json.dumps({"family": "tag36h11", "tag_size_m": 0.05, "objects": objs}))
    return path


@pytest.fixture(scope="module")
def view() -> tuple[Observation, dict[str, tuple[np.ndarray, np.ndarray]]]:
    scene = build_scene("pick_place_basket", seed=3, with_robot=False, customize=_customize)
    try:
        truth = {n: scene.body_pose(n) for n in TAG_SIZE}
        obs = Observation(image=scene.render("tag_cam", 640, 480), camera=scene.camera("tag_cam", 640, 480), scene=None)
    finally:
        scene.close()
    return obs, truth


@pytest.mark.requires_render
def test_recovers_the_tagged_objects_poses(tmp_path: Path, view) -> None:
    obs, truth = view
    poses = AprilTagPerception(tags=str(_tag_map(tmp_path))).perceive(obs, StageContext(work_dir=tmp_path))
    for name in TAG_SIZE:
        o = poses.get(name)
        assert o is not None, (name, poses.extra)
        pos, quat = truth[name]
        assert np.linalg.norm(o.pos - pos) < 0.01, (name, o.pos, pos)
        assert np.degrees(quat_angle(o.quat, quat)) < 3.0, (name, np.degrees(quat_angle(o.quat, quat)))
        assert 0.5 < o.confidence <= 1.0 and o.pos_std_m > 0
        assert "box" in poses.extra["missing"] and poses.get("box") is None
        assert poses.source == "apriltag:tags.json"


def test_bad_tag_maps_and_cameras_are_clear_errors(tmp_path: Path, view) -> None:
    obs, _ = view
    with pytest.raises(ConfigError, match="give the tag map"):
        AprilTagPerception()
    bad = tmp_path / "bad.json"
    bad.write_text(
        json.dumps({"tag_size_m": 0.05, "objects": [{"name": "a", "tag_id": 1}, {"name": "b", "tag_id": 1}]})
    )
    with pytest.raises(ArtifactError, match=r"objects\[0\]: field 'size'"):
        AprilTagPerception(tags=str(bad)).perceive(obs, StageContext(work_dir=tmp_path))
    bad.write_text(json.dumps({"tag_size_m": "big", "objects": [{"name": "a", "tag_id": 1}]}))
    with pytest.raises(ArtifactError, match="'tag_size_m' must be a number"):
        AprilTagPerception(tags=str(bad)).perceive(obs, StageContext(work_dir=tmp_path))
    path = _tag_map(tmp_path)
    blind = Observation(image=obs.image, camera=type(obs.camera)(width=640, height=480, K=obs.camera.K))
    with pytest.raises(InputError, match="no pose in the world"):
        AprilTagPerception(tags=str(path)).perceive(blind, StageContext(work_dir=tmp_path))
