"""The simulated scene as the whole-body controller's contacts: floor, seats, held objects.

:class:`SceneContacts` reads the MuJoCo scene the controller runs in: which feet touch the floor,
whether the pelvis or thighs touch a seat (and the seat's surface height), and the mass of an
object the hands hold. Object poses come from the task's objects at their start (what perception
reports); only contacts and masses are read from the simulator, as a robot's force sensing and an
object database would give them.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from exoactor.artifacts import SceneObject
from exoactor.control.stance import StanceController, StanceTargets, payload_forces
from exoactor.robot.g1 import constants as C

F = NDArray[np.float64]

SITTING_BODIES = (
    "pelvis",
    "left_hip_pitch_link",
    "right_hip_pitch_link",
    "left_hip_roll_link",
    "right_hip_roll_link",
    "left_hip_yaw_link",
    "right_hip_yaw_link",
)
HOLD_RAMP_S = 0.5
PRESS_N = 8.0  # a hand wiping a table presses this hard
PRESS_INSET_M = 0.04  # a wiping palm's centre presses only this far inside the top's edges ...
EDGE_HOVER_M = 0.03  # ... nearer the edge it slides in this far above the top
EDGE_BELOW_M = 0.03  # a wiping palm lower than this above a table's top, outside it, goes up before in ...
EDGE_BACK_M = 0.03  # ... this far out from the edge
SLIDE_MIN_M_S = 0.02  # a wiping palm's target moving slower than this: it slides towards the target instead
LIFT_OFF_M = 0.01  # a hand that touches a table it is not meant to press is sent this far above its palm


class SceneContacts:
    """Contacts of the robot with the floor, seats and held objects in a compiled scene."""

    def __init__(self, model: Any, data: Any, objects: list[SceneObject]) -> None:
        import mujoco

        self.model, self.data = model, data
        self.objects = objects
        self.floor = mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_GEOM, "floor")
        root = model.body(C.ROOT_BODY).id
        robot = [g for g in range(model.ngeom) if model.body_rootid[model.geom_bodyid[g]] == root]
        feet = [model.body(b).id for b in ("left_ankle_roll_link", "right_ankle_roll_link")]
        self.foot_geoms = [frozenset(g for g in robot if model.geom_bodyid[g] == f) for f in feet]
        sit = {model.body(b).id for b in SITTING_BODIES}
        self.sitting_geoms = frozenset(g for g in robot if model.geom_bodyid[g] in sit)
        self.seat_geoms: frozenset[int] = frozenset()
        self.seat_top: float | None = None
        for o in objects:
            if o.kind != "seat":
                continue
            ids = [g for g in range(model.ngeom) if model.geom(g).name.startswith(f"{o.name}_seat")]
            if ids:
                self.seat_geoms = frozenset(ids)
                mujoco.mj_kinematics(model, data)
                self.seat_top = float(max(data.geom_xpos[g][2] + model.geom_size[g][2] for g in ids))
        self.object_bodies = {o.name: model.body(o.name).id for o in objects if _has_body(model, o.name)}
        self.surface_geoms = frozenset(
            g
            for o in objects
            if o.kind == "surface"
            for g in range(model.ngeom)
            if model.geom(g).name == f"{o.name}_top"
        )
        palms = [model.body(b).id for b in ("left_hand_palm_link", "right_hand_palm_link")]
        self.hand_geoms = [
            frozenset(g for g in robot if _descends(model, int(model.geom_bodyid[g]), palms[s])) for s in range(2)
        ]
        # sliding friction of a palm on a surface (MuJoCo takes the larger of the two geoms')
        self.surface_mu = float(
            max(
                (
                    max(model.geom_friction[g][0], model.geom_friction[h][0])
                    for g in self.surface_geoms
                    for h in self.hand_geoms[0] | self.hand_geoms[1]
                ),
                default=0.0,
            )
        )
        self.hold_since: float | None = None
        self.feet_idx = feet

    # --- queries ------------------------------------------------------------------------------

    def _touching(self, a: frozenset[int], b: frozenset[int] | int) -> bool:
        bset = frozenset([b]) if isinstance(b, int) else b
        for c in self.data.contact[: self.data.ncon]:
            g1, g2 = int(c.geom1), int(c.geom2)
            if (g1 in a and g2 in bset) or (g2 in a and g1 in bset):
                return True
        return False

    def feet_down(self) -> list[bool]:
        return [self._touching(f, self.floor) for f in self.foot_geoms]

    def both_feet_down(self) -> bool:
        return all(self.feet_down())

    def feet_midpoint(self) -> F:
        """(3,) midpoint of the two ankle bodies (the sole centres are 4 cm ahead of them)."""
        p = 0.5 * (self.data.xpos[self.feet_idx[0]] + self.data.xpos[self.feet_idx[1]])
        R = self.data.xmat[self.feet_idx[0]].reshape(3, 3)
        return np.asarray(p + R @ np.array([0.04, 0.0, 0.0]))

    def stance_width(self) -> float:
        """Distance (m) between the ankles across the feet's mean heading."""
        a, b = self.data.xpos[self.feet_idx[0]], self.data.xpos[self.feet_idx[1]]
        R = self.data.xmat[self.feet_idx[0]].reshape(3, 3) + self.data.xmat[self.feet_idx[1]].reshape(3, 3)
        lat = R[:2, 1] / max(float(np.linalg.norm(R[:2, 1])), 1e-9)
        return float(abs((a[:2] - b[:2]) @ lat))

    def touches_surface(self, s: int) -> bool:
        """Whether hand ``s`` (0 left, 1 right) touches a surface (a table's top)."""
        return bool(self.surface_geoms) and self._touching(self.hand_geoms[s], self.surface_geoms)

    def seated(self) -> bool:
        return bool(self.seat_geoms) and self._touching(self.sitting_geoms, self.seat_geoms)

    # --- contacts of the stance controller ----------------------------------------------------

    def update_seat(self, stance: StanceController, ref_seated: bool) -> list[dict[str, Any]]:
        """Rest on the seat once touched while the reference sits; get up when it stands."""
        if self.seat_top is None:
            return []
        low = float(stance.dyn.body_pos(stance.dyn.root_body)[2]) < self.seat_top + 0.3
        if stance.seat is None and ref_seated and low and self.seated():
            stance.set_seat(self.seat_top)
            return [{"type": "seat", "on": True, "height_m": round(self.seat_top, 3)}]
        if stance.seat is not None and not ref_seated:
            stance.set_seat(None)
            return [{"type": "seat", "on": False}]
        return []

    def over_edges(
        self, dyn: Any, targets: StanceTargets, objects: list[SceneObject], wiping: list[bool] | None = None
    ) -> None:
        """A palm headed for a surface but not yet over it goes over its edge, not into it: its
        target is lifted above the top until the palm is over the surface. A wiping hand below the
        top first goes straight up, ``EDGE_BACK_M`` out from the edge: sent up and in at once, the
        Dex3 fingers (hanging below the palm) caught on the table's side and stayed there."""
        from exoactor.control.manipulation import EDGE_ABOVE_M, footprint_gap, over_footprint, surface_top

        for s in range(2):
            h = targets.hands[s]
            if h is None:
                continue
            palm = dyn.body_pos(dyn.palm_bodies[s])
            for o in objects:
                if o.kind != "surface" or not over_footprint(h.pos, o, 0.0):
                    continue
                top = surface_top(o)
                if h.pos[2] < top + EDGE_ABOVE_M and not over_footprint(palm, o, 0.02) and palm[2] < top + EDGE_ABOVE_M:
                    xy = h.pos[:2]
                    if wiping is not None and wiping[s] and palm[2] < top + EDGE_BELOW_M:
                        gap, out = footprint_gap(palm, o)
                        xy = palm[:2] + max(EDGE_BACK_M - gap, 0.0) * out
                    h.pos = np.array([xy[0], xy[1], top + EDGE_ABOVE_M + 0.02])
                    h.vel = np.zeros(3)

    def around_boxes(self, dyn: Any, targets: StanceTargets, objects: list[SceneObject], grasping: list[bool]) -> None:
        """A palm on its way to a box's side face but still over the box is sent over its top
        first (out, then down the side), instead of being pressed onto the lid."""
        from exoactor.control.manipulation import PALM_CENTRE, box_distance, over_footprint

        for s in range(2):
            h = targets.hands[s]
            if h is None or not grasping[s]:
                continue
            palm = dyn.palm_point(s, PALM_CENTRE)
            for o in objects:
                if o.kind not in ("graspable", "container") or box_distance(h.pos, o) > 0.12:
                    continue
                top = float(o.pos[2] + 0.5 * o.size[2])
                if over_footprint(palm, o, -0.02) and palm[2] < top + 0.1:
                    h.pos = np.array([palm[0], palm[1], top + 0.12])  # up first, in place
                    h.vel = np.zeros(3)

    def press_surfaces(
        self, dyn: Any, targets: StanceTargets, pressing: list[bool], wiping: list[bool] | None = None
    ) -> None:
        """A hand meant to be on a surface that touches it presses with ``PRESS_N`` and no more:
        its target stays at its height (sliding along the top) and the surface's push is a known
        force of the QP, instead of a position target inside the table that lifts the robot off
        its feet (the QP does not see the table). A wiping hand (``wiping``) presses only with
        its palm's centre ``PRESS_INSET_M`` inside the top: on the edge or its side (the Dex3
        fingers hang below the palm) it is sent ``EDGE_HOVER_M`` above the top instead (pressed
        there, it stayed caught on the edge, or rubbed the side, for the whole wipe). A hand that
        touches a surface it is not meant to press (reaching past a table's edge for a bottle,
        sweeping) is sent ``LIFT_OFF_M`` above its palm instead: pushed into the top, it lifted
        the robot off its feet and the balance guard's recoveries followed each other all the way
        to the episode's end."""
        from exoactor.control.contacts import ExternalForce
        from exoactor.control.manipulation import over_footprint, surface_top

        surfaces = [o for o in self.objects if o.kind == "surface"]
        for s in range(2):
            h = targets.hands[s]
            if h is None or not self.touches_surface(s):
                continue
            palm = dyn.palm_point(s, h.point)
            wipe = wiping is not None and wiping[s]
            if pressing[s] and wipe and surfaces and not any(over_footprint(palm, o, PRESS_INSET_M) for o in surfaces):
                top = max(surface_top(o) for o in surfaces)  # on the edge or its side: slide in above the top
                h.pos = np.array([h.pos[0], h.pos[1], max(float(h.pos[2]), top + EDGE_HOVER_M)])
                h.vel = np.array([h.vel[0], h.vel[1], max(float(h.vel[2]), 0.0)])
                continue
            if pressing[s]:
                h.pos = np.array([h.pos[0], h.pos[1], float(palm[2]) - 0.002])
                h.vel = np.array([h.vel[0], h.vel[1], 0.0])
                # the top pushes back with PRESS_N and, wiping, with its friction against the
                # stroke: known forces in the QP's dynamics, so the arm's torques account for them
                slide = h.vel[:2] if np.linalg.norm(h.vel[:2]) > SLIDE_MIN_M_S else (h.pos - palm)[:2]
                n = float(np.linalg.norm(slide))
                friction = -self.surface_mu * PRESS_N * slide / n if wipe and n > 1e-3 else np.zeros(2)
                force = np.array([friction[0], friction[1], PRESS_N])
                targets.payload.append(ExternalForce(name=f"press_{s}", body=dyn.palm_bodies[s], force=force))
            elif h.pos[2] < palm[2] + LIFT_OFF_M:
                h.pos = np.array([h.pos[0], h.pos[1], float(palm[2]) + LIFT_OFF_M])
                h.vel = np.array([h.vel[0], h.vel[1], max(float(h.vel[2]), 0.0)])

    def apply_payload(self, stance: StanceController, targets: StanceTargets, hold: int, squeeze: float) -> None:
        """A held object's weight and the squeeze reaction at the palms (ramped in over 0.5 s)."""
        if hold < 0 or hold >= len(self.objects) or self.objects[hold].name not in self.object_bodies:
            self.hold_since = None
            return
        t = float(self.data.time)
        if self.hold_since is None:
            self.hold_since = t
        ramp = float(np.clip((t - self.hold_since) / HOLD_RAMP_S, 0.0, 1.0))
        body = self.object_bodies[self.objects[hold].name]
        mass = float(self.model.body_subtreemass[body])
        dyn = stance.dyn
        centre = 0.5 * (dyn.body_pos(dyn.palm_bodies[0]) + dyn.body_pos(dyn.palm_bodies[1]))
        targets.payload = targets.payload + payload_forces(dyn, ramp * mass, ramp * squeeze, centre)
        targets.payload_mass = ramp * mass
        targets.payload_com = centre


def _descends(model: Any, body: int, ancestor: int) -> bool:
    while body > 0:
        if body == ancestor:
            return True
        body = int(model.body_parentid[body])
    return False


def _has_body(model: Any, name: str) -> bool:
    import mujoco

    return mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_BODY, name) >= 0
