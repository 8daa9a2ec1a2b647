"""The cleanup against the scene: hands out of objects, no grasp of nothing, balance over the feet."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from exoactor.artifacts import HumanMotion, SceneObject
from exoactor.artifacts.motion import CLOSED, SIDES, J
from exoactor.estimate import grounding as G
from exoactor.estimate.cleanup.contacts import runs
from exoactor.estimate.cleanup.settings import CleanupReport
from exoactor.estimate.cleanup.skeleton import ARMS, CARRIED_KINDS, LEGS, PALM, F, arm_ik, leg_ik
from exoactor.geometry import quat_to_mat


def push_hands_out(
    j: F, hands: dict[str, F], motion: HumanMotion, objects: list[SceneObject], rep: CleanupReport
) -> None:
    """Move each hand (and its wrist, elbow re-solved) out of the solid part of every object it enters."""
    for _ in range(3):  # a push along one face can leave another palm point inside: push again
        if not _push_once(j, hands, motion, objects, rep):
            break


def _push_once(j: F, hands: dict[str, F], motion: HumanMotion, objects: list[SceneObject], rep: CleanupReport) -> bool:
    """One round of `push_hands_out`; True if a hand was moved."""
    from exoactor.physcheck.geometry import box_depth, solid_part

    T = len(j)
    fps = float(motion.fps)
    pushed = False
    for k, s in enumerate(SIDES):
        state = getattr(motion, f"{s}_state")
        push = np.zeros((T, 3))
        for o in objects:
            solid = solid_part(o)
            palm = hands[s][:, list(PALM)]  # (T, 6, 3)
            depth = box_depth(palm, solid)  # (T, 6)
            # an object the hand closes on is carried from then on: not judged afterwards
            closed = np.flatnonzero((state == CLOSED) & (depth.max(axis=1) > -0.15))
            live = np.ones(T, dtype=bool)
            if len(closed) and o.kind in CARRIED_KINDS:
                live[closed[0] :] = False
            deep = (depth.max(axis=1) > 0) & live
            if not deep.any():
                continue
            # push along the face of least penetration of the deepest palm point: the outward normal
            r = quat_to_mat(np.asarray(solid.quat, dtype=np.float64))
            half = 0.5 * np.abs(np.asarray(solid.size, dtype=np.float64))
            local = (palm - np.asarray(solid.pos, dtype=np.float64)) @ r  # (T, 6, 3)
            pen = half - np.abs(local)  # (T, 6, 3) room to each face
            pi = np.argmax(depth, axis=1)
            lp = pen[np.arange(T), pi]  # (T, 3)
            axis = np.argmin(lp, axis=1)
            sign = np.sign(local[np.arange(T), pi, axis])
            sign[sign == 0] = 1.0
            amount = np.where(deep, depth.max(axis=1) + 0.005, 0.0)
            vec = np.zeros((T, 3))
            vec[np.arange(T), axis] = sign * amount
            push += vec @ r.T
            rep.hand_pushes[o.name] = {
                "frames": float(rep.hand_pushes.get(o.name, {}).get("frames", 0) + int(deep.sum())),
                "deepest_m": round(max(rep.hand_pushes.get(o.name, {}).get("deepest_m", 0.0), float(amount.max())), 4),
            }
        if not np.any(push):
            continue
        pushed = True
        # smooth the push in time so the hand glides over the surface, never less than needed
        sm = G.smooth(push, fps, 3.0)
        push = np.where(np.abs(sm) > np.abs(push), sm, push)
        arm = ARMS[k]
        moved = arm_ik(j, arm, j[:, arm[2]] + push)
        hands[s] += moved[:, None]
    return pushed


def balance(
    j: F,
    hands: dict[str, F],
    contact: NDArray[np.bool_],
    fps: float,
    objects: list[SceneObject],
    feet_target: list[tuple[F, F]],
    rep: CleanupReport,
    margin: float = 0.03,
) -> None:
    """Where the body stands still on planted feet (and is not seated), move the upper body so the
    centre of mass lies within `margin` of the feet's support polygon; the legs are re-solved."""
    from exoactor.physcheck import PhysThresholds, box_distance, centre_of_mass, support_distance

    th = PhysThresholds()
    T = len(j)
    com = centre_of_mass(j)
    feet = j[:, [J["left_ankle"], J["left_foot"], J["right_ankle"], J["right_foot"]], :2].reshape(T, 2, 2, 2)
    out = support_distance(com[:, :2], feet, contact) - th.foot_margin  # distance outside the inflated hull
    root_v = np.linalg.norm(np.gradient(j[:, 0, :2], axis=0), axis=-1) * fps if T > 1 else np.zeros(T)
    judged = contact.any(axis=1) & (root_v <= th.static_root_speed) & np.isfinite(out)
    for o in objects:
        if o.kind in th.seat_kinds:
            judged &= box_distance(j[:, J["pelvis"]], o) > th.seat_reach
    excess = np.where(judged, np.maximum(out - margin, 0.0), 0.0)
    if not excess.any():
        return
    # towards the middle of the planted feet, by the excess
    pts = feet.reshape(T, 4, 2)
    use = np.repeat(contact, 2, axis=1)
    centre = (pts * use[..., None]).sum(1) / np.maximum(use.sum(1, keepdims=True), 1)
    d = centre - com[:, :2]
    d /= np.maximum(np.linalg.norm(d, axis=-1, keepdims=True), 1e-9)
    shift = np.zeros((T, 3))
    shift[:, :2] = d * excess[:, None]
    sm = G.smooth(shift, fps, 2.0)
    shift = np.where(
        np.linalg.norm(sm, axis=-1, keepdims=True) > np.linalg.norm(shift, axis=-1, keepdims=True), sm, shift
    )
    legs = {i for leg in LEGS for i in leg[1:]}
    upper = [i for i in range(24) if i not in legs]
    j[:, upper] += shift[:, None]
    for s in SIDES:
        hands[s] += shift[:, None]
    for k, leg in enumerate(LEGS):
        leg_ik(j, leg, feet_target[k][0], feet_target[k][1])
    rep.balance_frames = int((excess > 0).sum())
    rep.balance_shift_max_m = float(np.linalg.norm(shift, axis=-1).max())


def drop_empty_grasps(
    hands: dict[str, F], states: dict[str, NDArray], objects: list[SceneObject], fps: float, rep: CleanupReport
) -> None:
    """A hand closing with no graspable object within reach holds nothing: it stays as it was before."""
    from exoactor.physcheck import PhysThresholds, box_distance

    th = PhysThresholds()
    objs = [o for o in objects if o.kind in th.graspable_kinds]
    n = max(1, int(round(th.grasp_duration * fps)))
    for s in SIDES:
        st = states[s]
        centre = hands[s].mean(axis=1)
        dist = np.min([box_distance(centre, o) for o in objs], axis=0) if objs else np.full(len(st), np.inf)
        for a, b in runs(st == CLOSED):
            if dist[a : min(b, a + n)].min() > th.grasp_reach:
                st[a:b] = st[a - 1] if a > 0 else 0
                rep.empty_grasps_opened += 1
