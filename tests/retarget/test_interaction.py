"""Interaction-aware retargeting: contact segments from plan + motion + object poses, and bad input."""

from __future__ import annotations

import mujoco
import numpy as np
import pytest

from exoactor.artifacts import ObjectPose, ObjectPoses, Plan, PlanStep, VideoPrompt
from exoactor.errors import InputError
from exoactor.retarget.contacts import find_segments
from exoactor.retarget.grasps import HandPose
from exoactor.robot.g1 import constants as C

PROMPT = VideoPrompt(shot="s", scene="s", motion="m", execution="e", end_state="d")


def _plan(instruction: str = "pick up the bottle and put it in the basket", target: str = "bottle") -> Plan:
    steps = [
        PlanStep(action="walk_to", target=target),
        PlanStep(action="reach", target=target, hand="right"),
        PlanStep(action="grasp", target=target, hand="right"),
        PlanStep(action="lift", target=target),
        PlanStep(action="place", target=target, destination="basket", hand="right"),
        PlanStep(action="release", target=target, hand="right"),
    ]
    return Plan(instruction=instruction, steps=steps, prompt=PROMPT, provider="test")


def _objects() -> ObjectPoses:
    def o(name: str, kind: str, pos, size) -> ObjectPose:
        return ObjectPose(
            name=name, kind=kind, pos=np.array(pos, float), quat=np.array([1.0, 0, 0, 0]), size=np.array(size, float)
        )

    return ObjectPoses(
        objects=[
            o("table", "surface", [0.58, 0.0, 0.34], [0.5, 1.0, 0.68]),
            o("bottle", "graspable", [0.45, -0.16, 0.79], [0.066, 0.066, 0.22]),
            o("basket", "container", [0.52, 0.16, 0.74], [0.3, 0.24, 0.12]),
        ],
        source="test",
    )


@pytest.fixture(scope="module")
def scripted():
    """The scripted G1-sized demonstration of pick_place_basket (seed 0: its scene's objects)."""
    from exoactor.bench.scripted_manipulation import PROGRAMS, keyframe_motion
    from exoactor.sim.scene import build_scene

    with build_scene("pick_place_basket", 0, with_robot=False) as s:
        objs = {o.name: o for o in s.objects()}
    motion = keyframe_motion(PROGRAMS["pick_place_basket"](objs))
    poses = ObjectPoses(
        objects=[ObjectPose(name=o.name, kind=o.kind, pos=o.pos, quat=o.quat, size=o.size) for o in objs.values()],
        source="scene",
    )
    return motion, poses


def test_segments_from_the_plan_the_hand_states_and_the_objects(scripted) -> None:
    motion, poses = scripted
    segs, notes = find_segments(motion.resample(50.0), poses, _plan())
    assert notes == [] and len(segs) == 1
    s = segs[0]
    assert (s.kind, s.side, s.object, s.destination, s.upright) == ("grasp", "right", "bottle", "basket", False)
    # the script closes the hand at 6.2 s and opens it at 10.6 s
    assert s.source == "hand state" and s.t_contact == pytest.approx(6.2, abs=0.05)
    assert s.t_release == pytest.approx(10.6, abs=0.05)
    # the last approach: from the wrist 0.6 s before closing (0.10 m behind, 0.03 m right of the bottle) to the bottle
    np.testing.assert_allclose(s.approach, [0.958, 0.287, 0.0], atol=0.02)
    segs, _ = find_segments(motion.resample(50.0), poses, _plan("put the bottle upright in the basket"))
    assert segs[0].upright


def test_retargeted_grasp_reaches_the_object_and_carries_it(scripted) -> None:
    from exoactor.retarget.solver import retarget
    from exoactor.retarget.targets import ik_model

    motion, poses = scripted
    rm = retarget(motion, object_poses=poses, plan=_plan(), objects=poses.scene_objects())
    it = rm.extra["interaction"]
    assert it["notes"] == [] and len(it["segments"]) == 1
    seg = it["segments"][0]
    assert seg["grasp_kind"] == "side" and seg["reachable"] == {"contact": True, "place": True}
    # the person reached forward (wrist -> bottle at 17 deg): the robot's fingers point along that
    # reach and its palm (+y of the right hand) faces across it, to the left, as a person's does
    from exoactor.geometry import quat_to_mat

    R_hand = quat_to_mat(np.asarray(seg["grasp_wrist"][3:]))
    fingers, palm = R_hand[:, 0], R_hand[:, 1]
    assert abs(np.degrees(np.arctan2(fingers[1], fingers[0])) - 17.0) <= 30.0
    assert palm[1] > 0.7 and abs(palm[2]) < 0.05
    fps = rm.fps
    f_c, f_r = (int(round(seg["times"][k] * fps)) for k in ("contact", "release"))
    cmd = np.asarray(it["hand_command"]["right"])
    assert np.all(cmd[f_c:f_r] == 2) and cmd[f_c - 1] == 1 and cmd[f_r] == 1
    np.testing.assert_allclose(rm.hand_joint_pos[f_c + 5, 1], C.HAND_CLOSED[1])
    # the retargeted wrist at closure is on the grasp pose computed from the bottle's geometry
    m = ik_model()
    d = mujoco.MjData(m)
    qa = [m.joint(n).qposadr[0] for n in C.JOINT_NAMES]

    def wrist_at(f: int) -> np.ndarray:
        d.qpos[:3], d.qpos[3:7], d.qpos[qa] = rm.root_pos[f], rm.root_quat[f], rm.joint_pos[f]
        mujoco.mj_kinematics(m, d)
        return d.body("right_wrist_yaw_link").xpos.copy()

    assert np.linalg.norm(wrist_at(f_c) - np.asarray(seg["grasp_wrist"][:3])) < 0.01
    assert it["grasp_wrist_error_mm"][0] < 10.0
    # while held the object moves rigidly with the hand: at release it is at its place pose
    place = np.asarray(seg["place_pose"])
    hand_at_place = HandPose.from_matrix(place @ np.asarray(seg["hand_in_object"]))
    assert np.linalg.norm(wrist_at(f_r - 1) - hand_at_place.pos) < 0.015
    held = it["held_object"]["right"]
    pose_r = np.asarray(held["pose"][f_r - 1 - held["start"]])
    np.testing.assert_allclose(pose_r[:3], place[:3, 3], atol=1e-4)
    basket = poses.get("basket")
    assert np.linalg.norm(place[:2, 3] - basket.pos[:2]) < 0.1 and place[2, 2] > 0.999  # in it, upright
    assert rm.n_frames > motion.resample(50.0).n_frames  # holds were inserted for the robot


def test_a_grasps_settle_holds_are_marked_on_the_robots_clock(scripted) -> None:
    from exoactor.retarget.solver import retarget

    motion, poses = scripted
    rm = retarget(motion, object_poses=poses, plan=_plan(), objects=poses.scene_objects())
    it = rm.extra["interaction"]
    times = it["segments"][0]["times"]
    settles = it["settle_holds"]
    assert len(settles) == 2 and all(d == 1.0 for _, d in settles)
    assert len(it["holds"]) >= 2  # on the human's clock
    # on the robot's: the first ends as the reach begins, the second as the place begins ...
    assert settles[0][0] + settles[0][1] == pytest.approx(times["reach"], abs=0.03)
    assert settles[1][0] + settles[1][1] == pytest.approx(times["place"], abs=0.03)
    # ... the robot holds still in the first; in the second only the carrying arm moves on
    moved = []
    for t, d in settles:
        a, b = int(np.ceil(t * rm.fps)) + 1, int(np.floor((t + d) * rm.fps)) - 1
        moved.append(np.abs(np.diff(rm.joint_pos[a:b], axis=0)).max(axis=0))
        assert np.linalg.norm(np.diff(rm.root_pos[a:b], axis=0), axis=1).max() < 1e-3
    assert moved[0].max() < 2e-3
    assert moved[1][:15].max() < 2e-3 and moved[1].max() < 0.03  # legs and waist still; the arm slow


def test_missing_or_unsure_objects_fall_back_to_the_human_and_say_so(scripted) -> None:
    motion, poses = scripted
    m50 = motion.resample(50.0)
    segs, notes = find_segments(m50, poses, _plan(target="cup"))
    assert segs == [] and any("'cup' is not in the object poses" in n for n in notes)
    unsure = ObjectPoses(objects=[o if o.name != "bottle" else _with(o, confidence=0.1) for o in poses.objects])
    segs, notes = find_segments(m50, unsure, _plan())
    assert segs == [] and any("confidence 0.10" in n and "human trajectory" in n for n in notes)
    segs, notes = find_segments(m50, ObjectPoses(objects=[], source="none"), _plan())
    assert segs == [] and notes == ["no object poses (video only): the hands follow the human trajectory"]


def test_nan_or_out_of_workspace_poses_are_errors_naming_the_object(scripted) -> None:
    motion, poses = scripted
    m50 = motion.resample(50.0)
    bad = ObjectPoses(
        objects=[o if o.name != "basket" else _with(o, pos=np.array([np.nan, 0, 0])) for o in poses.objects]
    )
    with pytest.raises(InputError, match="object 'basket': its pose or size has NaN"):
        find_segments(m50, bad, _plan())
    far = ObjectPoses(
        objects=[o if o.name != "bottle" else _with(o, pos=np.array([40.0, 0, 0.8])) for o in poses.objects]
    )
    with pytest.raises(InputError, match=r"object 'bottle': pose \[40.0, 0.0, 0.8\] is outside the workspace"):
        find_segments(m50, far, _plan())


def _with(o: ObjectPose, **kw) -> ObjectPose:
    d = {k: getattr(o, k) for k in ("name", "kind", "pos", "quat", "size", "covariance", "confidence")}
    d.update(kw)
    return ObjectPose(**d)


def test_the_retarget_runner_keeps_the_plans_steps_for_the_controller(tmp_path) -> None:
    from exoactor.bench.reference_motions import simple_reference
    from exoactor.execute.sim.wbc import plan_actions
    from exoactor.pipeline.runners import retarget
    from exoactor.stages import StageContext

    class Fixed:  # a retarget provider that returns a fixed reference
        def retarget(self, human, objects, plan, ctx):  # noqa: ANN001, ANN201
            return simple_reference(np.zeros((20, 2)), np.zeros(20))

    rm = retarget(Fixed(), None, _objects(), _plan(), StageContext(tmp_path))
    assert plan_actions(rm) == ["walk_to", "reach", "grasp", "lift", "place", "release"]
    assert rm.extra["plan_steps"][4]["destination"] == "basket"
    assert plan_actions(retarget(Fixed(), None, _objects(), None, StageContext(tmp_path))) is None


def test_a_wipe_is_side_to_side_strokes_in_reach_of_where_the_controller_stands() -> None:
    """The scripted wipe: its strokes run along the table's near edge, last at least WIPE_MIN_S,
    and are reachable from the stance the controller takes at a table (toes a few cm from it)."""
    from exoactor.bench.scripted_manipulation import scripted_reference
    from exoactor.control.manipulation import SOLE_TOE_M, SURFACE_TOE_GAP_M
    from exoactor.pipeline.runners import known_object_poses
    from exoactor.retarget.grasps import WIPE_SPAN
    from exoactor.retarget.interaction import WIPE_MIN_S, plan_interaction

    hm, plan = scripted_reference("wipe_table", 0)
    objs = known_object_poses("wipe_table", 0)
    (sch,) = plan_interaction(hm, objs, plan).schedules
    assert sch.seg.kind == "wipe" and sch.reachable["contact"]
    assert sch.times["stroke_end"] - sch.times["contact"] >= WIPE_MIN_S - 1e-9
    table = objs.get("table")
    assert table is not None
    edge = float(table.pos[0] - 0.5 * table.size[0])
    assert sch.stance["contact"][0] == pytest.approx(edge - SURFACE_TOE_GAP_M - SOLE_TOE_M, abs=0.01)
    assert sch.strokes is not None and len(sch.strokes) >= 3
    assert np.ptp(sch.strokes[:, 0]) < 1e-9  # along the edge, at one depth
    np.testing.assert_allclose(np.abs(np.diff(sch.strokes[:, 1])), np.abs(sch.strokes[1, 1] - sch.strokes[0, 1]))
    assert np.abs(sch.strokes[1, 1] - sch.strokes[0, 1]) >= WIPE_SPAN[0] - 1e-9


def test_a_short_lift_of_the_wiping_hand_does_not_cut_the_wipe() -> None:
    from exoactor.retarget.contacts import _bridged

    m = np.array([0, 1, 1, 0, 0, 1, 1, 0, 0, 0, 1, 0], dtype=bool)
    np.testing.assert_array_equal(_bridged(m, 3), [0, 1, 1, 1, 1, 1, 1, 0, 0, 0, 1, 0])
    np.testing.assert_array_equal(_bridged(m, 2), m)  # a 2-frame gap is not shorter than 2


def _cropped(hm, n: int):
    """The first ``n`` frames of a human motion."""
    import dataclasses

    kw = {
        f.name: (v[:n] if isinstance(v := getattr(hm, f.name), np.ndarray) and len(v) == hm.n_frames else v)
        for f in dataclasses.fields(hm)
    }
    return type(hm)(**kw)


def test_a_wipe_faces_the_table_square_and_one_the_clip_cuts_short_goes_on() -> None:
    """A human turned 15 deg off the table: the wipe's stance faces the edge square (measured to
    the near corner, a turned stance stood further back and the strokes came to the edge). A clip
    that ends mid-wipe: the wipe goes on for WIPE_CUT_MIN_S, with the frames for it."""
    from exoactor.bench.scripted_manipulation import scripted_reference
    from exoactor.control.manipulation import SOLE_TOE_M, SURFACE_TOE_GAP_M
    from exoactor.pipeline.runners import known_object_poses
    from exoactor.retarget.interaction import WIPE_CUT_MIN_S, WIPE_MIN_S, Schedule, _wipe_stance, plan_interaction
    from exoactor.retarget.reach import ReachChecker
    from exoactor.retarget.timeline import Stance

    hm, plan = scripted_reference("wipe_table", 0)
    objs = known_object_poses("wipe_table", 0)
    table = objs.get("table")
    assert table is not None
    edge = float(table.pos[0] - 0.5 * table.size[0])
    (seg,), _ = find_segments(hm, objs, plan)
    turned = Stance(np.array([edge - 0.45, float(table.pos[1]) + 0.1]), np.radians(15.0))
    st, ok = _wipe_stance(ReachChecker(), Schedule(seg=seg, times={}), seg, table, turned, 4.0)
    assert ok and st.yaw == pytest.approx(0.0, abs=1e-9)
    assert st.xy[0] == pytest.approx(edge - SURFACE_TOE_GAP_M - SOLE_TOE_M, abs=1e-6)
    assert st.xy[1] == pytest.approx(turned.xy[1], abs=1e-6)  # across from the human

    whole = plan_interaction(hm, objs, plan)
    assert whole.schedules[0].times["stroke_end"] - whole.schedules[0].times["contact"] < WIPE_CUT_MIN_S
    cut = _cropped(hm, int((seg.t_contact + 1.0) * hm.fps))  # the clip ends 1 s into the wipe
    inter = plan_interaction(cut, objs, plan)
    (sch,) = inter.schedules
    lasts = sch.times["stroke_end"] - sch.times["contact"]
    assert WIPE_CUT_MIN_S - 0.05 <= lasts <= WIPE_CUT_MIN_S + 0.05 and lasts > WIPE_MIN_S
    assert (inter.motion.n_frames - 1) / inter.motion.fps >= sch.times["stroke_end"] - 0.05
