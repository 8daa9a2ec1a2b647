"""Reference HumanMotions for the execution benchmark.

Procedural clips come from the synthetic imaginer's motion synthesiser
(:class:`exoactor.human.motion.MotionSynthesizer` + :class:`exoactor.human.posing.Poser`: a posed
body model, realistic footsteps and hands, exact SMPL-24 joints), driven by a small Plan in a
known set of objects, without rendering:

* ``walk_straight``: 3 m forward; ``turn_in_place``: 90 degrees to the left;
* ``walk_reach``: walk to the table and reach for the bottle (``walk_to_table`` scene objects);
* ``bend_lift``: walk to the box, squat, grasp it with both hands and lift it (``lift_box``);
* ``sit_down``: walk to the chair and sit on its 0.45 m seat (``sit_on_chair``).

Real human mocap shipped in the ``holosoma-retargeting`` wheel (files only, read with numpy/torch):

* ``omomo_largebox_003`` / ``omomo_largebox_049``: OMOMO (InterMimic .pt), SMPL-H 52 joints, 30 fps;
* ``climb_seq_0`` ... ``climb_seq_4``: climbing mocap, 53 joints (holosoma's ``MOCAP_DEMO_JOINTS``),
  120 fps, read at 30 fps.

Mocap clips are z-up metres; they are moved so the first frame's pelvis is above the origin
facing +x (where the robot starts), trimmed to ``max_seconds`` (10 s), and get hands whose
keypoints come from the finger joints (tips extrapolated), state open.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from exoactor.artifacts import HumanMotion, Plan, PlanStep, RobotMotion, SceneObject, VideoPrompt
from exoactor.artifacts.motion import SMPL24_JOINTS
from exoactor.errors import ModelUnavailable
from exoactor.geometry import mat_to_quat
from exoactor.robot.g1 import constants as C

F = NDArray[np.float64]

MAX_SECONDS = 10.0
MOCAP_FPS = 30.0

# --- procedural (synthetic imaginer) -----------------------------------------------------------


def _obj(name: str, pos: tuple[float, float, float], size: tuple[float, float, float], kind: str) -> SceneObject:
    return SceneObject(
        name=name, pos=np.array(pos, float), quat=np.array([1.0, 0, 0, 0]), size=np.array(size, float), kind=kind
    )


def _scene_objects(task: str) -> list[SceneObject]:
    from exoactor.sim.scene import build_scene

    scene = build_scene(task, seed=0, with_robot=False)
    try:
        return scene.objects()
    finally:
        scene.close()


def synthesize(
    steps: list[PlanStep],
    objects: list[SceneObject],
    *,
    instruction: str = "",
    fps: float = 30.0,
    seed: int | None = None,
    source: str = "reference",
) -> HumanMotion:
    """A HumanMotion of the synthetic imaginer's person doing ``steps`` among ``objects``.

    Starts at the origin facing +x (the robot's start). ``seed`` None: the average body and
    style; otherwise that seed's avatar. No rendering (a few seconds for a 10 s clip).
    """
    from exoactor.human.avatar import Avatar, ground_truth, make_body
    from exoactor.human.body_model import anny_cache_ready
    from exoactor.human.motion import MotionSynthesizer

    if not anny_cache_ready():
        raise ModelUnavailable("the reference motions need the Anny body model's cache (see exoactor.human.body_model)")
    avatar = Avatar.for_seed(seed or 0, vary=seed is not None)
    _, poser = make_body(avatar)
    text = instruction or source.replace("_", " ")
    prompt = VideoPrompt(shot="reference", scene="reference", motion=text, execution=text, end_state="done")
    plan = Plan(instruction=text, steps=steps, prompt=prompt, provider="reference")
    ch = MotionSynthesizer(poser, objects, np.zeros(3), 0.0, style=avatar.style, fps=fps).run(plan)
    posed = poser.pose(ch.targets)
    return ground_truth(ch, posed, source=source)


def walk_straight(distance: float = 3.0, **kw: Any) -> HumanMotion:
    goal = _obj("goal", (distance, 0.0, 0.0), (0.3, 0.3, 0.0), "goal")
    return synthesize([PlanStep(action="walk_to", target="goal")], [goal], source="walk_straight", **kw)


def turn_in_place(degrees: float = 90.0, **kw: Any) -> HumanMotion:
    a = np.radians(degrees)
    mark = _obj("mark", (3.0 * np.cos(a), 3.0 * np.sin(a), 0.0), (0.1, 0.1, 0.0), "goal")
    return synthesize([PlanStep(action="turn", target="mark")], [mark], source="turn_in_place", **kw)


def walk_reach(**kw: Any) -> HumanMotion:
    steps = [
        PlanStep(action="walk_to", target="table"),
        PlanStep(action="reach", target="bottle", hand="right"),
    ]
    return synthesize(steps, _scene_objects("walk_to_table"), source="walk_reach", **kw)


def bend_lift(**kw: Any) -> HumanMotion:
    steps = [
        PlanStep(action="walk_to", target="box"),
        PlanStep(action="bend", target="box"),
        PlanStep(action="reach", target="box", hand="both"),
        PlanStep(action="grasp", target="box", hand="both"),
        PlanStep(action="lift", target="box", hand="both"),
    ]
    return synthesize(steps, _scene_objects("lift_box"), source="bend_lift", **kw)


def sit_down(**kw: Any) -> HumanMotion:
    steps = [PlanStep(action="walk_to", target="chair"), PlanStep(action="sit_down", target="chair")]
    return synthesize(steps, _scene_objects("sit_on_chair"), source="sit_down", **kw)


# --- mocap (holosoma-retargeting demo data) ----------------------------------------------------

# SMPL-24 joint -> source joint name (SMPL-H 52 of OMOMO, holosoma's 53-joint mocap)
_SMPLH_TO_SMPL24 = {
    "pelvis": "Pelvis", "left_hip": "L_Hip", "right_hip": "R_Hip", "spine1": "Torso", "left_knee": "L_Knee",
    "right_knee": "R_Knee", "spine2": "Spine", "left_ankle": "L_Ankle", "right_ankle": "R_Ankle", "spine3": "Chest",
    "left_foot": "L_Toe", "right_foot": "R_Toe", "neck": "Neck", "left_collar": "L_Thorax", "right_collar": "R_Thorax",
    "head": "Head", "left_shoulder": "L_Shoulder", "right_shoulder": "R_Shoulder", "left_elbow": "L_Elbow",
    "right_elbow": "R_Elbow", "left_wrist": "L_Wrist", "right_wrist": "R_Wrist", "left_hand": "L_Middle1",
    "right_hand": "R_Middle1",
}  # fmt: skip
_MOCAP_TO_SMPL24 = {
    "pelvis": "Hips", "left_hip": "LeftUpLeg", "right_hip": "RightUpLeg", "spine1": "Spine", "left_knee": "LeftLeg",
    "right_knee": "RightLeg", "spine2": "Spine", "left_ankle": "LeftFoot", "right_ankle": "RightFoot", "spine3": "Spine1",
    "left_foot": "LeftToeBase", "right_foot": "RightToeBase", "neck": "Neck", "left_collar": "LeftShoulder",
    "right_collar": "RightShoulder", "head": "Head", "left_shoulder": "LeftArm", "right_shoulder": "RightArm",
    "left_elbow": "LeftForeArm", "right_elbow": "RightForeArm", "left_wrist": "LeftHand", "right_wrist": "RightHand",
    "left_hand": "LeftHandMiddle1", "right_hand": "RightHandMiddle1",
}  # fmt: skip


def _smplh_names() -> list[str]:
    names = ["Pelvis", "L_Hip", "L_Knee", "L_Ankle", "L_Toe", "R_Hip", "R_Knee", "R_Ankle", "R_Toe"]
    names += ["Torso", "Spine", "Chest", "Neck", "Head"]
    for s in ("L", "R"):
        names += [f"{s}_Thorax", f"{s}_Shoulder", f"{s}_Elbow", f"{s}_Wrist"]
        names += [f"{s}_{f}{i}" for f in ("Index", "Middle", "Pinky", "Ring", "Thumb") for i in (1, 2, 3)]
    return names


def _mocap_names() -> list[str]:
    names = ["Hips", "Spine", "Spine1", "Neck", "Head"]
    for s in ("Left", "Right"):
        names += [f"{s}Shoulder", f"{s}Arm", f"{s}ForeArm", f"{s}Hand"]
        names += [f"{s}Hand{f}{i}" for f in ("Thumb", "Index", "Middle", "Ring", "Pinky") for i in (1, 2, 3)]
    names += ["LeftUpLeg", "LeftLeg", "LeftFoot", "LeftToeBase", "RightUpLeg", "RightLeg", "RightFoot", "RightToeBase"]
    return names + ["LeftFootMod", "RightFootMod"]


def holosoma_demo_dir() -> Path:
    """``demo_data`` of the installed holosoma-retargeting wheel."""
    spec = importlib.util.find_spec("holosoma_retargeting")
    if spec is None or not spec.submodule_search_locations:
        raise ModelUnavailable(
            "the mocap reference clips need the package 'holosoma-retargeting' (files only): "
            "pip install --no-deps holosoma-retargeting==0.1.0"
        )
    return Path(next(iter(spec.submodule_search_locations))) / "demo_data"


def _hand21(src: F, idx: dict[str, int], wrist: str, pattern: str) -> F:
    """(T, 21, 3) MediaPipe-order keypoints from a wrist and 3 joints per finger (tips extrapolated).

    ``src`` (T, N, 3) source joints, ``idx`` name -> index, ``pattern`` e.g. ``"L_{finger}{i}"``.
    """
    w = src[:, idx[wrist]]
    kp = np.zeros((len(w), 21, 3))
    kp[:, 0] = w
    for base, name in ((1, "Thumb"), (5, "Index"), (9, "Middle"), (13, "Ring"), (17, "Pinky")):
        a, b, c = (src[:, idx[pattern.format(finger=name, i=i)]] for i in (1, 2, 3))
        kp[:, base], kp[:, base + 1], kp[:, base + 2] = a, b, c
        kp[:, base + 3] = c + 0.8 * (c - b)
    return kp


def _root_quat(joints: F) -> F:
    """(T, 4) pelvis orientation: y from right to left hip, z towards spine1, x = y cross z (forward)."""
    J = {n: i for i, n in enumerate(SMPL24_JOINTS)}
    y = joints[:, J["left_hip"]] - joints[:, J["right_hip"]]
    y /= np.linalg.norm(y, axis=-1, keepdims=True)
    z = joints[:, J["spine1"]] - joints[:, J["pelvis"]]
    z = z - np.sum(z * y, -1, keepdims=True) * y
    z /= np.linalg.norm(z, axis=-1, keepdims=True)
    return mat_to_quat(np.stack([np.cross(y, z), y, z], axis=-1))


def _foot_contact(joints: F, fps: float) -> F:
    """(T, 2) a foot is in contact when its ankle is low (within 6 cm of its lowest) and slow (< 0.3 m/s)."""
    out = []
    for side in ("left", "right"):
        a = joints[:, SMPL24_JOINTS.index(f"{side}_ankle")]
        v = np.linalg.norm(np.gradient(a, axis=0), axis=-1) * fps
        out.append(((a[:, 2] < a[:, 2].min() + 0.06) & (v < 0.3)).astype(float))
    return np.stack(out, axis=1)


def mocap_motion(
    joints: F, hands: tuple[F, F], fps: float, source: str, max_seconds: float = MAX_SECONDS
) -> HumanMotion:
    """HumanMotion from SMPL-24 world joints (T, 24, 3) and 21-keypoint hands, recentred and trimmed."""
    from exoactor.human.skeleton import wrist_quat_from_keypoints

    n = min(len(joints), int(round(max_seconds * fps)))
    joints = np.asarray(joints[:n], dtype=np.float64)
    hands = (np.asarray(hands[0][:n], dtype=np.float64), np.asarray(hands[1][:n], dtype=np.float64))
    # recentre: first pelvis above the origin, facing +x (rotation about z)
    q0 = _root_quat(joints[:1])[0]
    fwd = np.array([1 - 2 * (q0[2] ** 2 + q0[3] ** 2), 2 * (q0[1] * q0[2] + q0[0] * q0[3])])
    yaw = np.arctan2(fwd[1], fwd[0])
    c, s = np.cos(-yaw), np.sin(-yaw)
    R = np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])
    off = np.array([joints[0, 0, 0], joints[0, 0, 1], 0.0])
    joints = (joints - off) @ R.T
    hands = ((hands[0] - off) @ R.T, (hands[1] - off) @ R.T)
    T = len(joints)
    kw: dict[str, Any] = {}
    for k, side in enumerate(("left", "right")):
        kw[f"{side}_keypoints"] = hands[k]
        kw[f"{side}_wrist_quat"] = wrist_quat_from_keypoints(hands[k], side)
        kw[f"{side}_state"] = np.zeros(T, dtype=np.int8)
        kw[f"{side}_confidence"] = np.ones(T)
    return HumanMotion(
        fps=fps,
        joints=joints,
        root_pos=joints[:, 0].copy(),
        root_quat=_root_quat(joints),
        confidence=np.ones((T, 24)),
        foot_contact=_foot_contact(joints, fps),
        valid=np.ones(T),
        source=source,
        **kw,
    )


def omomo_clip(name: str = "sub3_largebox_003", max_seconds: float = MAX_SECONDS) -> HumanMotion:
    """An OMOMO clip (``sub3_largebox_003`` or ``sub10_largebox_049``) as a HumanMotion at 30 fps."""
    path = holosoma_demo_dir() / "OMOMO_new" / f"{name}.pt"
    if not path.is_file():
        raise ModelUnavailable(f"OMOMO clip not found: {path}")
    import torch

    data = torch.load(path, map_location="cpu", weights_only=True).detach().numpy().astype(np.float64)
    j52 = data[:, 162 : 162 + 52 * 3].reshape(-1, 52, 3)  # holosoma's load_intermimic_data layout
    idx = {n: i for i, n in enumerate(_smplh_names())}
    joints = np.stack([j52[:, idx[_SMPLH_TO_SMPL24[n]]] for n in SMPL24_JOINTS], axis=1)
    hands = (_hand21(j52, idx, "L_Wrist", "L_{finger}{i}"), _hand21(j52, idx, "R_Wrist", "R_{finger}{i}"))
    return mocap_motion(joints, hands, MOCAP_FPS, f"omomo:{name}", max_seconds)


def climb_clip(seq: int = 0, max_seconds: float = MAX_SECONDS) -> HumanMotion:
    """A climbing mocap clip (``seq`` 0-4; 120 fps, read every 4th frame: 30 fps) as a HumanMotion."""
    files = sorted((holosoma_demo_dir() / "climb" / f"mocap_climb_seq_{seq}").glob("*_joint_positions_*.npy"))
    if not files:
        raise ModelUnavailable(f"climbing clip {seq} not found in {holosoma_demo_dir() / 'climb'}")
    raw = np.load(files[0])[::4].astype(np.float64)  # (T, 53, 3), z-up metres
    idx = {n: i for i, n in enumerate(_mocap_names())}
    joints = np.stack([raw[:, idx[_MOCAP_TO_SMPL24[n]]] for n in SMPL24_JOINTS], axis=1)
    sp = SMPL24_JOINTS.index("spine2")
    joints[:, sp] = 0.5 * (raw[:, idx["Spine"]] + raw[:, idx["Spine1"]])
    hands = (
        _hand21(raw, idx, "LeftHand", "LeftHand{finger}{i}"),
        _hand21(raw, idx, "RightHand", "RightHand{finger}{i}"),
    )
    return mocap_motion(joints, hands, MOCAP_FPS, f"climb:seq_{seq}", max_seconds)


def stature(motion: HumanMotion) -> float:
    """Approximate standing height (m): the 95th percentile of head-joint height above the lower
    foot joint, plus 0.1 m from the head joint to the crown."""
    J = {n: i for i, n in enumerate(SMPL24_JOINTS)}
    floor = np.minimum(motion.joints[:, J["left_foot"], 2], motion.joints[:, J["right_foot"], 2])
    return float(np.percentile(motion.joints[:, J["head"], 2] - floor, 95) + 0.1)


#: name -> generator of the benchmark's reference motions
GENERATORS: dict[str, Callable[[], HumanMotion]] = {
    "walk_straight": walk_straight,
    "turn_in_place": turn_in_place,
    "walk_reach": walk_reach,
    "bend_lift": bend_lift,
    "sit_down": sit_down,
    "omomo_largebox_003": lambda: omomo_clip("sub3_largebox_003"),
    "omomo_largebox_049": lambda: omomo_clip("sub10_largebox_049"),
    "climb_seq_0": lambda: climb_clip(0),
}


def reference_motions(names: list[str] | None = None) -> dict[str, HumanMotion]:
    """The benchmark's reference motions by name (all of ``GENERATORS`` unless ``names``)."""
    from exoactor.errors import InputError

    names = list(GENERATORS) if names is None else names
    unknown = [n for n in names if n not in GENERATORS]
    if unknown:
        raise InputError(f"unknown reference motion(s) {unknown}; known: {', '.join(GENERATORS)}")
    return {n: GENERATORS[n]() for n in names}


# --- G1 references built directly (no human, no retargeting) ------------------------------


def simple_reference(
    root_xy: F,
    yaw: F,
    joint_offsets: F | None = None,
    hand_joint_pos: F | None = None,
    fps: float = 50.0,
) -> RobotMotion:
    """A RobotMotion from a root path: the default pose carried along it.

    Args:
        root_xy: (T, 2) pelvis path; yaw: (T,) heading (rad).
        joint_offsets: (T, 29) added to ``C.DEFAULT_JOINT_POS`` (e.g. arm motions), or None.
        hand_joint_pos: (T, 2, 7) hand joints (open when None).
    """
    root_xy = np.asarray(root_xy, dtype=np.float64)
    T = len(root_xy)
    yaw = np.asarray(yaw, dtype=np.float64)
    jp = np.repeat(C.DEFAULT_JOINT_POS[None], T, axis=0)
    if joint_offsets is not None:
        jp = jp + joint_offsets
    return RobotMotion(
        fps=fps,
        root_pos=np.column_stack([root_xy, np.full(T, C.DEFAULT_PELVIS_HEIGHT)]),
        root_quat=np.column_stack([np.cos(yaw / 2), np.zeros(T), np.zeros(T), np.sin(yaw / 2)]),
        joint_pos=jp,
        hand_joint_pos=np.zeros((T, 2, 7)) if hand_joint_pos is None else np.asarray(hand_joint_pos, float),
        joint_names=list(C.JOINT_NAMES),
        hand_joint_names=list(C.HAND_JOINT_NAMES),
        source="simple_reference",
    )


def ramp(T: int, start: int, end: int) -> F:
    """(T,) smooth 0 -> 1 between frames ``start`` and ``end`` (cosine), 0 before, 1 after."""
    s = np.clip((np.arange(T) - start) / max(end - start, 1), 0.0, 1.0)
    return 0.5 - 0.5 * np.cos(np.pi * s)
