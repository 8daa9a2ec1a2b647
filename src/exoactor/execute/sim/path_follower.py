"""Reference root path -> velocity and yaw-rate commands for a velocity-command locomotion policy."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from exoactor.geometry import quat_to_yaw, wrap_angle

F = NDArray[np.float64]
FPS = 50.0

# holosoma's ppo policy, measured stepping on a flat floor (steady state, 2 s): it creeps forward
# ~0.11 m/s at a zero translation command, walks ~0.11 + 0.9 vx for small vx, backwards at most
# ~0.24 m/s and sideways ~0.38 vy (at most ~0.2 m/s)
POLICY_DRIFT_X = 0.11
POLICY_GAIN_X = 0.9
POLICY_GAIN_Y = 0.38


def policy_inverse(v: F) -> F:
    """(2,) the (vx, vy) command that makes the stepping policy walk at ``v`` (heading frame, m/s)."""
    vx = (float(v[0]) - POLICY_DRIFT_X) / POLICY_GAIN_X
    vy = float(v[1]) / POLICY_GAIN_Y
    return np.array([np.clip(vx, -0.6, 1.0), np.clip(vy, -0.8, 0.8)])


@dataclass
class PathFollower:
    """Velocity/yaw-rate commands that make the robot follow a reference root path.

    command = ff_gain * reference velocity + k_pos * position error (in the robot's heading
    frame) and ff_gain * reference yaw rate + k_yaw * heading error. While the reference root is
    still and the errors are inside the dead band the command is zero (the robot stands); it
    starts walking again when the position error exceeds ``start_err`` m or the heading error
    ``start_yaw`` rad.

    Args:
        root_pos: (T, 3) reference pelvis positions; root_quat: (T, 4) wxyz.
    """

    root_pos: F
    root_quat: F
    fps: float = FPS
    ff_gain: float = 1.3  # the policy under-tracks the commanded velocity by 20-45 %
    k_pos: float = 1.2
    k_yaw: float = 1.5
    still_speed: float = 0.06  # m/s
    still_yaw_rate: float = 0.06  # rad/s
    start_err: float = 0.15
    end_start_err: float = 0.10  # after the reference has ended: close in on its last position more tightly
    start_yaw: float = 0.15
    stop_err: float = 0.06
    stop_yaw: float = 0.06
    max_speed: float = 1.0  # m/s, the policy's command range (it walks ~0.7 m/s at 1.0)
    walking: bool = field(default=False, init=False)

    def __post_init__(self) -> None:
        xy = np.asarray(self.root_pos, dtype=np.float64)[:, :2]
        yaw = np.unwrap(quat_to_yaw(np.asarray(self.root_quat, dtype=np.float64)))
        w = 5  # +-0.1 s central differences
        T = len(xy)
        i0 = np.clip(np.arange(T) - w, 0, T - 1)
        i1 = np.clip(np.arange(T) + w, 0, T - 1)
        dt = np.maximum(i1 - i0, 1) / self.fps
        self.xy, self.yaw = xy, yaw
        self.vel = (xy[i1] - xy[i0]) / dt[:, None]  # (T, 2) world
        self.yaw_rate = (yaw[i1] - yaw[i0]) / dt  # (T,)
        self.vel[-1] = 0.0
        self.yaw_rate[-1] = 0.0

    def command_to(
        self, pos: F, yaw: float, target_xy: F, target_yaw: float, *, tol: float = 0.1, tol_yaw: float = 0.15
    ) -> F:
        """(3,) a command that walks to a pose and stops there: zero once within ``tol`` and
        ``tol_yaw`` (the stance controller's steps place the feet precisely from there).

        Holonomic and slow (<= 0.25 m/s), turning first when far off the heading; the wanted
        velocity goes through the policy's inverse model (:func:`policy_inverse`)."""
        err = np.asarray(target_xy, dtype=np.float64)[:2] - np.asarray(pos)[:2]
        eyaw = float(wrap_angle(target_yaw - yaw))
        dist = float(np.linalg.norm(err))
        if dist < tol and abs(eyaw) < tol_yaw:
            return np.zeros(3)
        c, s = np.cos(yaw), np.sin(yaw)
        local = np.array([c * err[0] + s * err[1], -s * err[0] + c * err[1]])
        speed = float(np.clip(1.2 * dist, 0.1, 0.25)) if dist >= tol else 0.0
        if abs(eyaw) > 0.4:
            speed *= 0.3
        v = local / max(dist, 1e-9) * speed
        wz = float(np.clip(self.k_yaw * eyaw, -0.8, 0.8)) if abs(eyaw) >= tol_yaw else 0.0
        cmd = policy_inverse(v) if speed > 0 else np.zeros(2)
        return np.array([cmd[0], cmd[1], wz])

    def command(self, k: int, pos: F, yaw: float) -> F:
        """(3,) vx, vy (robot heading frame, m/s) and yaw rate (rad/s) at control step ``k``."""
        j = min(k, len(self.xy) - 1)
        err = self.xy[j] - np.asarray(pos)[:2]
        eyaw = float(wrap_angle(self.yaw[j] - yaw))
        ref_still = np.linalg.norm(self.vel[j]) < self.still_speed and abs(self.yaw_rate[j]) < self.still_yaw_rate
        dist = float(np.linalg.norm(err))
        if ref_still:
            start_err = self.end_start_err if k >= len(self.xy) else self.start_err
            if self.walking and dist < self.stop_err and abs(eyaw) < self.stop_yaw:
                self.walking = False
            elif not self.walking and (dist > start_err or abs(eyaw) > self.start_yaw):
                self.walking = True
            if not self.walking:
                return np.zeros(3)
        else:
            self.walking = True
        v = self.ff_gain * self.vel[j] + self.k_pos * err
        c, s = np.cos(yaw), np.sin(yaw)
        vx, vy = c * v[0] + s * v[1], -s * v[0] + c * v[1]
        sp = np.hypot(vx, vy)
        if sp > self.max_speed:
            vx, vy = vx * self.max_speed / sp, vy * self.max_speed / sp
        wz = self.ff_gain * self.yaw_rate[j] + self.k_yaw * eyaw
        return np.array([vx, vy, wz])
