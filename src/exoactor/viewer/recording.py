"""`run.rrd`: one rerun recording of a run, on one timeline.

Entities (rerun paths; the timeline ``time`` is seconds from the start of the imagined video):

    world                      z-up world (static)
    world/scene/<body>         the task scene's geoms (tables, objects at their start poses)
    world/perceived            the perceived objects (object_poses.json), wireframe boxes
    world/robot/<body>         the executed G1: one mesh per body (static) and its world transform
                               per frame (25 Hz; the reference when there is no execution)
    world/robot_path           the executed pelvis path
    world/reference/*          the retargeted reference: pelvis path and a stick figure of its bodies
    world/human/*              the estimated human: SMPL-24 joints and bones, 21-keypoint hands
    world/human_ground_truth/* the motion the synthetic video shows (synthetic runs only)
    world/camera               the video camera: pose, pinhole (K) and the imagined video (the mp4
                               as an encoded asset, one frame reference per video frame)
    images/observation, images/human_view, summary (markdown), events (text log)

Missing or unreadable artifacts are skipped and listed in ``notes`` (and in ``summary``).
"""

from __future__ import annotations

import io
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from exoactor.artifacts import BodyMotion, Camera, Execution, HumanMotion, ObjectPoses, Observation, RobotMotion
from exoactor.artifacts.io import read_json
from exoactor.errors import ExoActorError, InputError, missing_package

TIMELINE = "time"
ROBOT_HZ = 25.0
RRD_NAME = "run.rrd"
#: files whose presence makes a folder a run directory
RUN_MARKERS = ("run.json", "observation.png", "video.mp4", "human_motion.npz", "robot_motion.npz", "execution.npz")

#: SMPL-24 drawn as 5 chains: legs, spine to head, arms
BODY_CHAINS = (
    (0, 1, 4, 7, 10),
    (0, 2, 5, 8, 11),
    (0, 3, 6, 9, 12, 15),
    (9, 13, 16, 18, 20, 22),
    (9, 14, 17, 19, 21, 23),
)
#: MediaPipe-21 hand drawn as 6 chains: five fingers and the knuckle line
HAND_CHAINS = ((0, 1, 2, 3, 4), (0, 5, 6, 7, 8), (9, 10, 11, 12), (13, 14, 15, 16), (0, 17, 18, 19, 20), (5, 9, 13, 17))
HUMAN_COLOR = (230, 120, 40, 255)
TRUTH_COLOR = (60, 170, 90, 255)
REFERENCE_COLOR = (70, 130, 230, 255)
PATH_COLOR = (90, 90, 90, 255)


@dataclass
class RecordingResult:
    """What `record_run` wrote: the file, its size, seconds taken, robot frames logged, notes."""

    path: Path
    size_bytes: int = 0
    seconds: float = 0.0
    robot_frames: int = 0
    notes: list[str] = field(default_factory=list)


def _rerun() -> Any:
    try:
        import rerun as rr
    except ImportError:
        raise missing_package("rerun-sdk", "viewer", "view") from None
    return rr


def is_run_dir(path: Path) -> bool:
    return path.is_dir() and any((path / m).is_file() for m in RUN_MARKERS)


def _xyzw(q: NDArray) -> NDArray[np.float32]:
    q = np.asarray(q, dtype=np.float64)
    return np.concatenate([q[..., 1:], q[..., :1]], axis=-1).astype(np.float32)


def _ground_path(p: NDArray, z: float) -> NDArray:
    """A (T, 3) path drawn just above the floor."""
    return np.c_[p[:, :2], np.full(len(p), z)]


def _load(path: Path, loader: Callable[[Path], Any], notes: list[str], what: str) -> Any:
    """The artifact, or None with a note (a missing file: not produced; a bad one: the error)."""
    if not path.is_file():
        notes.append(f"{path.name}: not produced; {what} left out")
        return None
    try:
        return loader(path)
    except ExoActorError as e:
        notes.append(f"{path.name}: unreadable ({e}); {what} left out")
        return None


def _video_camera(path: Path) -> Camera:
    return Camera.from_json(read_json(path, schema="video").get("camera", {}), where=str(path))


class _Recorder:
    def __init__(self, rr: Any, run_dir: Path, robot_hz: float) -> None:
        self.rr, self.run_dir, self.robot_hz = rr, run_dir, robot_hz
        self.notes: list[str] = []
        self.robot_frames = 0
        self.rec = rr.RecordingStream("exoactor", recording_id=run_dir.resolve().name)

    def log(self, path: str, *archetypes: Any, static: bool = True) -> None:
        self.rec.log(path, *archetypes, static=static)

    def columns(self, path: str, t: NDArray, columns: Any) -> None:
        idx = self.rr.TimeColumn(TIMELINE, duration=np.asarray(t, dtype=np.float64))
        self.rec.send_columns(path, indexes=[idx], columns=columns)

    def strips_over_time(self, path: str, t: NDArray, frames: list[list[NDArray]], color: Any, radius: float) -> None:
        """Per-frame line strips (the same number each frame) with a static colour and width."""
        rr = self.rr
        flat = [s for f in frames for s in f]
        self.log(path, rr.LineStrips3D.from_fields(colors=color, radii=radius))
        self.columns(path, t, rr.LineStrips3D.columns(strips=flat).partition([len(f) for f in frames]))

    def mesh(self, m: Any) -> Any:
        return self.rr.Mesh3D(
            vertex_positions=m.vertices, triangle_indices=m.faces, vertex_normals=m.normals, vertex_colors=m.colors
        )

    # --- the scene and the robot ---------------------------------------------------------------

    def scene_model(self, scene: str | None, seed: int, obs: Observation | None) -> Any:
        """The MuJoCo model with the robot (and the task's objects when the scene is known);
        logs the scene's geoms once, at their start poses."""
        from exoactor.robot.g1.model import g1_model
        from exoactor.viewer.geometry import body_meshes, scene_bodies

        rr = self.rr
        if scene:
            try:
                from exoactor.sim.scene import build_scene

                sc = build_scene(scene, seed)
                try:
                    for m in body_meshes(sc.model, scene_bodies(sc.model)):
                        b = m.body_id
                        path = f"world/scene/{m.name if b else 'static'}"
                        self.log(path, rr.Transform3D(translation=sc.data.xpos[b], quaternion=_xyzw(sc.data.xquat[b])))
                        self.log(path, self.mesh(m))
                    return sc.model
                finally:
                    sc.close()
            except ExoActorError as e:
                self.notes.append(f"scene '{scene}' could not be built ({e}); objects drawn as boxes")
        else:
            self.notes.append("no simulated scene in the run; objects drawn as boxes from the observation")
        if obs is not None and obs.objects:
            names = [x.name for x in obs.objects]
            self.boxes("world/scene/objects", obs.objects, names, fill_mode="solid", colors=(160, 140, 110, 255))
        return g1_model()

    def boxes(self, path: str, objects: list[Any], labels: list[str], **style: Any) -> None:
        """Objects (anything with pos, quat wxyz, size) as boxes, e.g. the perceived ones (wireframe)."""
        if objects:
            box = self.rr.Boxes3D(
                centers=[x.pos for x in objects],
                half_sizes=[x.size / 2 for x in objects],
                quaternions=_xyzw(np.array([x.quat for x in objects])),
                labels=labels,
                **style,
            )
            self.log(path, box)

    def robot(self, model: Any, ex: Execution | None, rm: RobotMotion | None) -> None:
        from exoactor.viewer.geometry import body_meshes, robot_bodies, robot_body_poses

        rr = self.rr
        bodies = robot_bodies(model)
        track: Execution | RobotMotion | None = ex if ex is not None else rm
        if track is None:
            self.notes.append("no execution and no robot motion: the robot is left out")
            return
        if ex is None:
            self.notes.append("the robot shows the retargeted reference (no execution)")
        n = len(track.root_pos)
        idx = np.arange(0, n, max(1, round(track.fps / self.robot_hz)))
        t = ex.time[idx] if ex is not None else idx / track.fps
        pos, quat = robot_body_poses(
            model, track.root_pos[idx], track.root_quat[idx], track.joint_pos[idx], track.hand_joint_pos[idx], bodies
        )
        meshes = {m.body_id: m for m in body_meshes(model, bodies)}
        for i, b in enumerate(bodies):
            path = f"world/robot/{model.body(b).name}"
            if b in meshes:
                self.log(path, self.mesh(meshes[b]))
            cols = rr.Transform3D.columns(translation=pos[:, i].astype(np.float32), quaternion=_xyzw(quat[:, i]))
            self.columns(path, t, cols)
        self.robot_frames = len(idx)
        self.log(
            "world/robot_path", rr.LineStrips3D([_ground_path(track.root_pos, 0.01)], colors=PATH_COLOR, radii=0.008)
        )
        if ex is not None and rm is not None:
            self.reference(model, rm, bodies)

    def reference(self, model: Any, rm: RobotMotion, bodies: list[int]) -> None:
        """The retargeted reference beside the execution: pelvis path and a stick figure of its bodies."""
        from exoactor.viewer.geometry import robot_body_poses

        step = max(1, round(rm.fps / self.robot_hz))
        idx = np.arange(0, rm.n_frames, step)
        pos, _ = robot_body_poses(
            model, rm.root_pos[idx], rm.root_quat[idx], rm.joint_pos[idx], rm.hand_joint_pos[idx], bodies
        )
        at = {b: i for i, b in enumerate(bodies)}
        pairs = [
            (at[int(model.body_parentid[b])], i) for i, b in enumerate(bodies) if int(model.body_parentid[b]) in at
        ]
        frames = [[p[[a, c]] for a, c in pairs] for p in pos]
        self.strips_over_time("world/reference/skeleton", idx / rm.fps, frames, REFERENCE_COLOR, 0.006)
        path = [_ground_path(rm.root_pos, 0.012)]
        self.log("world/reference/pelvis_path", self.rr.LineStrips3D(path, colors=REFERENCE_COLOR, radii=0.006))

    # --- the human, the camera and the video ---------------------------------------------------

    def human(self, hm: HumanMotion | BodyMotion, root: str, color: tuple[int, ...]) -> None:
        rr = self.rr
        t = np.arange(hm.n_frames) / hm.fps
        self.log(f"{root}/joints", rr.Points3D.from_fields(colors=color, radii=0.018))
        self.columns(
            f"{root}/joints",
            t,
            rr.Points3D.columns(positions=hm.joints.reshape(-1, 3).astype(np.float32)).partition([24] * hm.n_frames),
        )
        self.strips_over_time(f"{root}/bones", t, [[j[list(c)] for c in BODY_CHAINS] for j in hm.joints], color, 0.01)
        for side in ("left", "right") if isinstance(hm, HumanMotion) else ():
            kp = getattr(hm, f"{side}_keypoints")
            frames = [[k[list(c)] for c in HAND_CHAINS] for k in kp]
            self.strips_over_time(f"{root}/{side}_hand", t, frames, color, 0.003)

    def camera_video(self, cam: Camera, video: Path | None) -> None:
        """The camera (pose and pinhole) and the video inside its frustum; without a pose, the
        video alone (a 2D entity ``camera``)."""
        rr = self.rr
        root = "world/camera" if cam.has_pose else "camera"
        if cam.has_pose:
            self.log(root, rr.Transform3D(translation=cam.pos, quaternion=_xyzw(cam.quat)))  # type: ignore[arg-type]
        else:
            self.notes.append("the video camera's pose is unknown: the video is shown in 2D only")
        self.log(
            root,
            rr.Pinhole(
                image_from_camera=cam.K,
                resolution=[cam.width, cam.height],
                camera_xyz=rr.ViewCoordinates.RDF,
                image_plane_distance=1.0,
            ),
        )
        if video is None:
            return
        try:
            asset = rr.AssetVideo(path=video)
            ts = np.asarray(asset.read_frame_timestamps_nanos(), dtype=np.int64)
        except Exception as e:  # rerun cannot demux it: fall back to downscaled JPEG frames
            try:
                self.video_frames(f"{root}/video", video, cam)
                self.notes.append(f"{video.name}: not an encoded video rerun reads ({e}); logged as JPEG frames")
            except ExoActorError as err:
                self.notes.append(f"{video.name}: unreadable ({err}); the video is left out")
            return
        self.log(f"{root}/video", asset)
        self.columns(f"{root}/video", ts * 1e-9, rr.VideoFrameReference.columns_nanos(ts))

    def video_frames(self, path: str, video: Path, cam: Camera, width: int = 320) -> None:
        from exoactor.artifacts.media import read_video

        frames, fps = read_video(video)
        s = max(1, int(np.ceil(cam.width / width)))
        for i, f in enumerate(frames):
            self.rec.set_time(TIMELINE, duration=i / fps)
            self.log(path, self.rr.EncodedImage(contents=_jpeg(f[::s, ::s]), media_type="image/jpeg"), static=False)
        self.rec.reset_time()

    def image(self, path: str, png: Path) -> None:
        from exoactor.artifacts.media import read_image

        if png.is_file():
            try:
                jpg = _jpeg(read_image(png))
            except ExoActorError as e:
                self.notes.append(f"{png.name}: unreadable ({e})")
                return
            self.log(path, self.rr.EncodedImage(contents=jpg, media_type="image/jpeg"))

    # --- text ----------------------------------------------------------------------------------

    def events(self, ex: Execution) -> None:
        rr = self.rr
        for ev in ex.events:
            rest = ", ".join(f"{k}={v}" for k, v in ev.items() if k not in ("t", "type"))
            self.rec.set_time(TIMELINE, duration=float(ev.get("t", 0.0)))
            level = "WARN" if ev.get("type") == "fell" else "INFO"
            self.log("events", rr.TextLog(f"{ev.get('type')}: {rest}".rstrip(": "), level=level), static=False)
        self.rec.set_time(TIMELINE, duration=float(ex.time[-1]) if len(ex.time) else 0.0)
        verdict = {True: "succeeded", False: "failed", None: "no success check"}[ex.success]
        self.log("events", rr.TextLog(f"execution ended: {verdict}{', fell' if ex.fell else ''}"), static=False)
        self.rec.reset_time()

    def summary(self, ex: Execution | None) -> None:
        lines = [f"# {self._instruction() or self.run_dir.name}", ""]
        try:
            st = read_json(self.run_dir / "run.json")
            lines.append(
                f"status: **{st.get('status', 'unknown')}**; stages: {', '.join(st.get('finished_stages', []))}"
            )
        except ExoActorError:
            lines.append("status: unknown (no run.json)")
        if ex is not None:
            kin = " (KINEMATIC REPLAY, no physics)" if ex.kinematic else ""
            lines.append(f"\nexecution: controller {ex.controller}{kin}; success {ex.success}; fell {ex.fell}")
        if self.notes:
            lines += ["", "## Left out", *[f"- {n}" for n in self.notes]]
        self.log("summary", self.rr.TextDocument("\n".join(lines), media_type=self.rr.MediaType.MARKDOWN))

    def _instruction(self) -> str:
        try:
            return str(read_json(self.run_dir / "instruction.json").get("text", ""))
        except ExoActorError:
            return ""


def _jpeg(rgb: NDArray[np.uint8], quality: int = 85) -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(rgb)).save(buf, format="JPEG", quality=quality)
    return buf.getvalue()


def _blueprint(rr: Any, camera_in_world: bool) -> Any:
    import rerun.blueprint as rrb

    side = rrb.Vertical(
        rrb.Spatial2DView(name="imagined video", origin="/world/camera" if camera_in_world else "/camera"),
        rrb.Tabs(
            rrb.Spatial2DView(name="observation", origin="/images/observation"),
            rrb.Spatial2DView(name="human view", origin="/images/human_view"),
            rrb.TextDocumentView(name="summary", origin="/summary"),
        ),
        rrb.TextLogView(name="events", origin="/events"),
        row_shares=[3, 3, 1],
    )
    return rrb.Blueprint(
        rrb.Horizontal(rrb.Spatial3DView(name="world", origin="/world"), side, column_shares=[3, 2]),
        collapse_panels=False,
    )


def record_run(run_dir: Path, out: Path | None = None, *, robot_hz: float = ROBOT_HZ) -> RecordingResult:
    """Write a rerun recording of ``run_dir`` to ``out`` (default ``run_dir/run.rrd``).

    Raises:
        InputError: ``run_dir`` is not a run directory.
        ModelUnavailable: rerun-sdk is not installed.
    """
    run_dir = Path(run_dir)
    if not run_dir.exists():
        raise InputError(f"{run_dir}: no such run directory")
    if not is_run_dir(run_dir):
        raise InputError(f"{run_dir} is not a run directory (none of {', '.join(RUN_MARKERS)} in it)")
    rr = _rerun()
    t0 = time.perf_counter()
    out = Path(out) if out is not None else run_dir / RRD_NAME
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp")
    r = _Recorder(rr, run_dir, robot_hz)
    notes = r.notes

    obs = _load(run_dir / "observation.png", Observation.load, notes, "the observation")
    ex = _load(run_dir / "execution.npz", Execution.load, notes, "the execution")
    rm = _load(run_dir / "robot_motion.npz", RobotMotion.load, notes, "the robot reference")
    hm: HumanMotion | BodyMotion | None = _load(run_dir / "human_motion.npz", HumanMotion.load, notes, "the human")
    if hm is None and (run_dir / "body_motion.npz").is_file():  # stopped before the hands: the body alone
        hm = _load(run_dir / "body_motion.npz", BodyMotion.load, notes, "the human")
        if hm is not None:
            notes.append("the human is drawn from body_motion.npz (no hands)")
    gt_path = run_dir / "video_ground_truth.npz"
    gt = _load(gt_path, HumanMotion.load, [], "") if gt_path.is_file() else None
    poses = _load(run_dir / "object_poses.json", ObjectPoses.load, notes, "the perceived objects")
    cam = _load(run_dir / "video.json", _video_camera, notes, "the camera and the video")
    video = run_dir / "video.mp4"
    if cam is not None and not video.is_file():
        notes.append("video.mp4: not produced; the video is left out")
    if cam is None and obs is not None:
        cam = obs.camera  # a run that stopped before imagining: the observation's camera

    r.rec.save(str(tmp), default_blueprint=_blueprint(rr, cam is None or cam.has_pose))
    try:
        r.log("world", rr.ViewCoordinates.RIGHT_HAND_Z_UP)
        scene = (ex.scene if ex is not None else None) or (obs.scene if obs is not None else None)
        model = r.scene_model(scene, obs.seed if obs is not None else 0, obs)
        if poses is not None:
            labels = [f"{x.name} ({x.confidence:.2f}, {100 * x.pos_std_m:.1f} cm)" for x in poses.objects]
            r.boxes("world/perceived", poses.objects, labels, colors=(230, 60, 200, 255), radii=0.004)
        r.robot(model, ex, rm)
        if hm is not None:
            r.human(hm, "world/human", HUMAN_COLOR)
        if gt is not None:
            r.human(gt, "world/human_ground_truth", TRUTH_COLOR)
        if cam is not None:
            r.camera_video(cam, video if video.is_file() else None)
        r.image("images/observation", run_dir / "observation.png")
        r.image("images/human_view", run_dir / "human_view.png")
        if ex is not None:
            r.events(ex)
        r.summary(ex)
        r.rec.flush(blocking=True)
        r.rec.disconnect()
        os.replace(tmp, out)
    finally:
        r.rec.disconnect()
        if tmp.exists():
            tmp.unlink()
    return RecordingResult(
        path=out,
        size_bytes=out.stat().st_size,
        seconds=time.perf_counter() - t0,
        robot_frames=r.robot_frames,
        notes=notes,
    )
