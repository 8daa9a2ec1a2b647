"""Motion formats in: BVH and AMASS / SMPL-X npz -> HumanMotion, with round trips and clear errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from motion_fixtures import fk, smooth_pose_aa

from exoactor.artifacts import HumanMotion
from exoactor.artifacts.motion import CLOSED, OPEN, J
from exoactor.errors import InputError
from exoactor.formats import import_motion
from exoactor.formats.bvh import BVH_TO_WORLD, write_bvh
from exoactor.formats.human import ground, human_motion_from_joints
from exoactor.formats.smpl_npz import GENERIC_REST_JOINTS, write_amass

pytest.importorskip("bvhio")


def _rigid_motion(T: int = 90, fps: float = 30.0, seed: int = 0) -> HumanMotion:
    aa = smooth_pose_aa(T, seed=seed)
    aa[:, 0] *= 0.2
    tr = np.stack([np.linspace(0, 1.2, T), 0.9 + 0.02 * np.sin(np.arange(T) / 10), np.linspace(0, 0.5, T)], -1)
    return human_motion_from_joints(ground(fk(aa, tr) @ BVH_TO_WORLD.T), fps, "test")


def test_bvh_round_trip_is_exact(tmp_path: Path) -> None:
    motion = _rigid_motion()
    write_bvh(motion, tmp_path / "m.bvh")
    back = import_motion(tmp_path / "m.bvh")
    assert back.n_frames == motion.n_frames
    assert back.fps == pytest.approx(30.0, abs=1e-6)
    assert np.abs(back.joints - motion.joints).max() < 1e-5  # metres; 6 decimals of cm in the text
    assert np.abs(back.root_quat - motion.root_quat).max() < 1e-5
    assert back.extra["up"] == "y" and back.extra["scale"] == 0.01  # written in cm, y-up
    assert back.extra["joint_map"]["left_wrist"] == "L_Wrist"
    # fingers are not in BVH: open hands continuing the forearm, confidence 0
    assert (back.left_confidence == 0).all() and (back.right_state == OPEN).all()


def _cmu_bvh(path: Path, frames: list[list[float]]) -> None:
    """A small CMU-style skeleton (Hips, LeftUpLeg, ..., LeftShoulder = collar, LeftHand = wrist), cm, y-up."""

    def limb(side: str, sx: float) -> str:
        return f"""  JOINT {side}UpLeg
  {{
    OFFSET {sx * 9} -8 0
    CHANNELS 3 Zrotation Xrotation Yrotation
    JOINT {side}Leg
    {{
      OFFSET 0 -42 0
      CHANNELS 3 Zrotation Xrotation Yrotation
      JOINT {side}Foot
      {{
        OFFSET 0 -42 0
        CHANNELS 3 Zrotation Xrotation Yrotation
        End Site
        {{
          OFFSET 0 -5 12
        }}
      }}
    }}
  }}
"""

    def arm(side: str, sx: float) -> str:
        return f"""      JOINT {side}Shoulder
      {{
        OFFSET {sx * 4} 10 0
        CHANNELS 3 Zrotation Xrotation Yrotation
        JOINT {side}Arm
        {{
          OFFSET {sx * 14} 0 0
          CHANNELS 3 Zrotation Xrotation Yrotation
          JOINT {side}ForeArm
          {{
            OFFSET {sx * 28} 0 0
            CHANNELS 3 Zrotation Xrotation Yrotation
            JOINT {side}Hand
            {{
              OFFSET {sx * 25} 0 0
              CHANNELS 3 Zrotation Xrotation Yrotation
              End Site
              {{
                OFFSET {sx * 8} 0 0
              }}
            }}
          }}
        }}
      }}
"""

    text = (
        "HIERARCHY\nROOT Hips\n{\n  OFFSET 0 0 0\n  CHANNELS 6 Xposition Yposition Zposition Zrotation Xrotation Yrotation\n"
        + limb("Left", 1)
        + limb("Right", -1)
        + "  JOINT Spine\n  {\n    OFFSET 0 12 0\n    CHANNELS 3 Zrotation Xrotation Yrotation\n"
        + "    JOINT Spine1\n    {\n      OFFSET 0 30 0\n      CHANNELS 3 Zrotation Xrotation Yrotation\n"
        + arm("Left", 1)
        + arm("Right", -1)
        + "      JOINT Neck\n      {\n        OFFSET 0 12 0\n        CHANNELS 3 Zrotation Xrotation Yrotation\n"
        + "        JOINT Head\n        {\n          OFFSET 0 10 0\n          CHANNELS 3 Zrotation Xrotation Yrotation\n"
        + "          End Site\n          {\n            OFFSET 0 15 0\n          }\n        }\n      }\n    }\n  }\n}\n"
        + f"MOTION\nFrames: {len(frames)}\nFrame Time: 0.0083333333\n"
        + "\n".join(" ".join(f"{v:g}" for v in f) for f in frames)
        + "\n"
    )
    path.write_text(text)


N_CHANNELS = 6 + 3 * 22  # root + 22 rotating joints in _cmu_bvh


def test_a_cmu_style_skeleton_maps_onto_smpl(tmp_path: Path) -> None:
    rest = [0.0, 92.0, 0.0] + [0.0] * (N_CHANNELS - 3)
    # second frame: the hips 30 cm further along +z (the character's forward) and the left knee bent 90 deg
    bent = list(rest)
    bent[2] = 30.0
    bent[6 + 3 * 1 + 1] = 90.0  # LeftLeg Xrotation
    _cmu_bvh(tmp_path / "cmu.bvh", [rest, bent])
    m = import_motion(tmp_path / "cmu.bvh")
    assert m.fps == pytest.approx(120.0, rel=1e-6)
    assert m.extra["scale"] == 0.01 and m.extra["up"] == "y"
    jm = m.extra["joint_map"]
    assert (jm["left_ankle"], jm["left_collar"], jm["left_shoulder"], jm["left_wrist"]) == (
        "LeftFoot",
        "LeftShoulder",
        "LeftArm",
        "LeftHand",
    )
    assert (jm["spine1"], jm["spine3"]) == ("Spine", "Spine1")
    # rest frame: feet on the floor, the knee 42 cm above the ankle, left is +y, forward +x
    j0 = m.joints[0]
    # the file has no toes: they are placed 13 cm ahead of and 5 cm below the ankle, on the floor
    assert j0[J["left_foot"], 2] == pytest.approx(0.0, abs=1e-6)
    assert j0[J["left_ankle"], 2] == pytest.approx(0.05, abs=1e-6)
    assert j0[J["left_foot"], 0] - j0[J["left_ankle"], 0] == pytest.approx(0.13, abs=1e-6)
    assert j0[J["left_knee"], 2] - j0[J["left_ankle"], 2] == pytest.approx(0.42, abs=1e-6)
    assert j0[J["left_hip"], 1] == pytest.approx(0.09, abs=1e-6)
    assert j0[J["left_wrist"], 1] - j0[J["spine3"], 1] == pytest.approx(0.04 + 0.14 + 0.28 + 0.25, abs=1e-6)
    j1 = m.joints[1]
    assert j1[J["pelvis"], 0] - j0[J["pelvis"], 0] == pytest.approx(0.30, abs=1e-6)
    shin = j1[J["left_ankle"]] - j1[J["left_knee"]]
    assert abs(shin[2]) < 1e-6 and np.linalg.norm(shin) == pytest.approx(0.42, abs=1e-6)  # horizontal
    # derived joints lie between the mapped ones
    assert j0[J["left_hand"], 1] > j0[J["left_wrist"], 1]


def test_amass_smplh_matches_the_kinematics_and_round_trips(tmp_path: Path) -> None:
    T = 60
    aa = smooth_pose_aa(T, seed=1)
    aa[:, 0] = [np.pi / 2, 0.0, 0.0]  # a y-up body stood up in AMASS's z-up world
    tr = np.stack([np.linspace(0, 1, T), np.zeros(T), 0.9 * np.ones(T)], -1)
    hands = np.zeros((T, 90))
    poses = np.concatenate([aa[:, :22].reshape(T, 66), hands], 1)
    np.savez(tmp_path / "a.npz", poses=poses, trans=tr, betas=np.zeros(16), mocap_framerate=np.array(60.0))
    m = import_motion(tmp_path / "a.npz")
    assert m.extra["format"] == "amass-smplh" and m.extra["skeleton"] == "generic"
    assert m.fps == 60.0 and m.n_frames == T
    ref = fk(aa, tr + GENERIC_REST_JOINTS[0])
    assert np.abs((m.joints - m.joints[:, :1]) - (ref - ref[:, :1])).max() < 1e-9
    # the body stands: head above the pelvis, feet on the floor
    assert (m.joints[:, J["head"], 2] - m.joints[:, J["pelvis"], 2]).min() > 0.3
    assert m.joints[:, [J["left_ankle"], J["right_ankle"]], 2].min() > -0.2
    # fingers present in the file: hands seen (confidence 1), flat = open
    assert (m.left_confidence == 1).all() and (m.left_state == OPEN).all()
    write_amass(m, tmp_path / "b.npz")
    back = import_motion(tmp_path / "b.npz")
    assert np.abs(back.joints - m.joints).max() < 1e-9
    assert np.abs(back.root_quat - m.root_quat).max() < 1e-9
    assert np.abs(back.pose_aa - m.pose_aa).max() < 1e-9


def test_smplx_params_with_fists_are_closed_hands(tmp_path: Path) -> None:
    T = 20
    aa = smooth_pose_aa(T, seed=2, amplitude=0.3)
    fist = np.zeros((T, 15, 3))
    fist[:, :12, 2] = 1.3  # the four fingers curl about their z axis
    np.savez(
        tmp_path / "x.npz",
        global_orient=aa[:, 0],
        body_pose=aa[:, 1:22].reshape(T, 63),
        left_hand_pose=fist.reshape(T, 45),
        right_hand_pose=-fist.reshape(T, 45),
        transl=np.zeros((T, 3)),
        betas=np.zeros(10),
    )
    with pytest.raises(InputError, match=r"x.npz: no frame rate in the file"):
        import_motion(tmp_path / "x.npz")
    m = import_motion(tmp_path / "x.npz", fps=30.0)
    assert m.extra["format"] == "smplx-params" and m.extra["up"] == "y"
    assert (m.left_state == CLOSED).all() and (m.right_state == CLOSED).all()
    # y-up parameters are turned z-up: the head is above the pelvis
    assert (m.joints[:, J["head"], 2] > m.joints[:, J["pelvis"], 2]).all()


def test_bad_files_are_clear_input_errors(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"missing.bvh: file not found"):
        import_motion(tmp_path / "missing.bvh")
    (tmp_path / "m.fbx").write_text("x")
    with pytest.raises(InputError, match=r"unknown motion file type '.fbx'"):
        import_motion(tmp_path / "m.fbx")
    (tmp_path / "bad.bvh").write_text("HIERARCHY\nROOT Hips\n{\n OFFSET 0 0\n}\n")
    with pytest.raises(InputError, match=r"bad.bvh: not a readable BVH file"):
        import_motion(tmp_path / "bad.bvh")
    (tmp_path / "robot.bvh").write_text(
        "HIERARCHY\nROOT Base\n{\n  OFFSET 0 0 0\n  CHANNELS 6 Xposition Yposition Zposition Zrotation Xrotation Yrotation\n"
        "  JOINT Arm\n  {\n    OFFSET 0 10 0\n    CHANNELS 3 Zrotation Xrotation Yrotation\n"
        "    End Site\n    {\n      OFFSET 0 5 0\n    }\n  }\n}\nMOTION\nFrames: 2\nFrame Time: 0.033333\n"
        "0 0 0 0 0 0 0 0 0\n0 0 0 0 0 0 0 0 0\n"
    )
    with pytest.raises(InputError, match=r"robot.bvh: cannot map the BVH skeleton .* no joint for pelvis.*Base, Arm"):
        import_motion(tmp_path / "robot.bvh")
    np.savez(tmp_path / "other.npz", foo=np.zeros(3))
    with pytest.raises(InputError, match=r"other.npz: not an AMASS or SMPL-X parameter file.*found foo"):
        import_motion(tmp_path / "other.npz")
    np.savez(tmp_path / "short.npz", poses=np.zeros((5, 30)), trans=np.zeros((5, 3)), mocap_framerate=30.0)
    with pytest.raises(InputError, match=r"short.npz: field 'poses' has shape \(5, 30\); expected \(T, 66\)"):
        import_motion(tmp_path / "short.npz")
    (tmp_path / "corrupt.npz").write_bytes(b"not a zip")
    with pytest.raises(InputError, match=r"corrupt.npz: not a readable .npz"):
        import_motion(tmp_path / "corrupt.npz")
    motion = _rigid_motion(T=10)
    with pytest.raises(InputError, match=r"no SMPL pose"):
        write_amass(motion, tmp_path / "o.npz")
