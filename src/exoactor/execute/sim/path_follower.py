"""Reference root path -> velocity and yaw-rate commands for a velocity-command locomotion policy."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from exoactor.geometry import moving_average, quat_to_yaw, wrap_angle

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

    While the reference moves (read ``preview_s`` ahead), or the robot lags behind it along the
    path, the robot pursues a point further along the path at the reference's speed plus a
    catch-up term (its shape is kept: the policy walks slower than people, and chasing the
    time-indexed point would cut every corner). While the reference root is still and the robot
    has caught up, a P law on the position and heading error closes in, with a dead band: the
    command is zero (the robot stands) until the position error exceeds ``start_err`` m or the
    heading error ``start_yaw`` rad.

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
    max_walk_speed: float = 0.8  # m/s wanted at most (through ff_gain, the command saturates at 1.0)
    preview_s: float = 1.2  # read the reference this far ahead (the policy is slower and starts late)
    lookahead_m: float = 0.2  # pure-pursuit distance along the path (+ 0.2 s x speed)
    k_lag: float = 1.5  # 1/s: extra speed per metre behind the reference along the path
    lag_path_m: float = 0.3  # further behind than this, keep following the path's shape
    heading_window_s: float = 1.0  # the reference heading is averaged over about one stride
    search_s: float = 1.5  # the closest path point is searched this far ahead of the last one
    walking: bool = field(default=False, init=False)
    progress: int = field(default=0, init=False)

    def __post_init__(self) -> None:
        xy = np.asarray(self.root_pos, dtype=np.float64)[:, :2]
        # a walking person's pelvis sways +-5-10 deg once a stride: read as the heading, it zig-zags the robot
        yaw = moving_average(
            np.unwrap(quat_to_yaw(np.asarray(self.root_quat, dtype=np.float64))),
            int(round(self.heading_window_s * self.fps)),
        )
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
        seg = np.linalg.norm(np.diff(xy, axis=0), axis=1) if T > 1 else np.zeros(0)
        self.s = np.concatenate([[0.0], np.cumsum(seg)])  # (T,) arc length along the path

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

    def command(self, k: int, pos: F, yaw: float, horizon: int | None = None) -> F:
        """(3,) vx, vy (robot heading frame, m/s) and yaw rate (rad/s) at control step ``k``;
        the preview never reads past frame ``horizon`` (e.g. where the walking ends).

        The reference is read ``preview_s`` ahead (the policy takes ~0.4 s to get going). While
        it moves, or while the robot lags more than ``lag_path_m`` behind it along the path, the
        robot follows the path's shape (:meth:`_along_path`: a corner is walked round, not cut);
        otherwise the time-indexed P law below closes in on the reference's position."""
        j = min(k + int(round(self.preview_s * self.fps)), len(self.xy) - 1)
        if horizon is not None:
            j = max(min(j, horizon), min(k, len(self.xy) - 1))
        self._update_progress(pos)
        lag = float(self.s[j] - self.s[self.progress])
        ref_still = np.linalg.norm(self.vel[j]) < self.still_speed and abs(self.yaw_rate[j]) < self.still_yaw_rate
        if not ref_still or lag > self.lag_path_m:
            self.walking = True
            return self._along_path(j, pos, yaw, lag)
        err = self.xy[j] - np.asarray(pos)[:2]
        eyaw = float(wrap_angle(self.yaw[j] - yaw))
        dist = float(np.linalg.norm(err))
        start_err = self.end_start_err if k >= len(self.xy) else self.start_err
        if self.walking and dist < self.stop_err and abs(eyaw) < self.stop_yaw:
            self.walking = False
        elif not self.walking and (dist > start_err or abs(eyaw) > self.start_yaw):
            self.walking = True
        if not self.walking:
            return np.zeros(3)
        v = self.k_pos * err
        c, s = np.cos(yaw), np.sin(yaw)
        vx, vy = c * v[0] + s * v[1], -s * v[0] + c * v[1]
        sp = np.hypot(vx, vy)
        if sp > self.max_speed:
            vx, vy = vx * self.max_speed / sp, vy * self.max_speed / sp
        return np.array([vx, vy, self.k_yaw * eyaw])

    def lag(self, k: int) -> float:
        """How far (m, along the path) the robot's last known place is behind frame ``k``'s."""
        return float(self.s[min(k, len(self.s) - 1)] - self.s[self.progress])

    def _update_progress(self, pos: F) -> None:
        """The closest path point within the next ``search_s`` of the path (monotone)."""
        a = self.progress
        b = min(len(self.xy), a + int(self.search_s * self.fps) + 1)
        d = np.linalg.norm(self.xy[a:b] - np.asarray(pos)[:2], axis=1)
        self.progress = a + int(np.argmin(d))

    def _along_path(self, j: int, pos: F, yaw: float, lag: float) -> F:
        """Pure pursuit of a point ``lookahead`` further along the path, at the reference's speed
        plus ``k_lag`` x the lag, facing the reference's heading there."""
        speed = float(np.linalg.norm(self.vel[j])) + self.k_lag * max(lag, 0.0)
        speed = min(speed, self.max_walk_speed)
        target_s = self.s[self.progress] + self.lookahead_m + 0.2 * speed
        i = int(min(np.searchsorted(self.s, target_s), len(self.s) - 1))
        d = self.xy[i] - np.asarray(pos)[:2]
        n = float(np.linalg.norm(d))
        v = d / n * speed if n > 1e-6 else np.zeros(2)
        c, s = np.cos(yaw), np.sin(yaw)
        local = self.ff_gain * np.array([c * v[0] + s * v[1], -s * v[0] + c * v[1]])
        sp = float(np.hypot(*local))
        if sp > self.max_speed:
            local *= self.max_speed / sp
        k = min(max(self.progress, j if lag <= 0 else self.progress), len(self.yaw) - 1)
        eyaw = float(wrap_angle(self.yaw[i if n > 0.2 else k] - yaw))
        wz = self.ff_gain * self.yaw_rate[k] + self.k_yaw * eyaw
        return np.array([local[0], local[1], wz])
