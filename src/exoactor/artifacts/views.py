"""Observation, HumanView and Video: what the camera sees, real or imagined."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from exoactor.artifacts.camera import Camera
from exoactor.artifacts.io import read_json, write_json
from exoactor.artifacts.media import read_image, read_video, write_image, write_video
from exoactor.errors import ArtifactError

if TYPE_CHECKING:
    from exoactor.artifacts.motion import HumanMotion


def _sidecar(path: Path) -> Path:
    return Path(path).with_suffix(".json")


@dataclass(kw_only=True)
class SceneObject:
    """An object the simulator knows about (for imagination and success checks).

    Attributes:
        name: e.g. "bottle", "basket", "table".
        pos: (3,) world position of its centre, metres.
        quat: (4,) wxyz orientation.
        size: (3,) full extents (x, y, z), metres.
        kind: a free-form category ("container", "surface", "graspable", "seat", "obstacle", "goal").
    """

    name: str
    pos: NDArray[np.float64]
    quat: NDArray[np.float64]
    size: NDArray[np.float64]
    kind: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "pos": np.asarray(self.pos).tolist(),
            "quat_wxyz": np.asarray(self.quat).tolist(),
            "size": np.asarray(self.size).tolist(),
            "kind": self.kind,
        }

    @staticmethod
    def from_json(o: dict[str, Any]) -> "SceneObject":
        return SceneObject(
            name=o["name"],
            pos=np.asarray(o["pos"], dtype=np.float64),
            quat=np.asarray(o["quat_wxyz"], dtype=np.float64),
            size=np.asarray(o["size"], dtype=np.float64),
            kind=o.get("kind", ""),
        )


@dataclass(kw_only=True)
class Observation:
    """A camera view of the robot in its scene: where the pipeline starts.

    Attributes:
        image: (H, W, 3) uint8 RGB.
        camera: the camera (intrinsics always; pose when known, e.g. in simulation).
        scene: the simulated task name when the view comes from simulation.
        seed: the scene's jitter seed.
        robot_pos: (3,) robot pelvis position in the world, when known.
        robot_quat: (4,) wxyz robot pelvis orientation, when known.
        objects: the scene's objects, when known.
    """

    image: NDArray[np.uint8]
    camera: Camera
    scene: str | None = None
    seed: int = 0
    robot_pos: NDArray[np.float64] | None = None
    robot_quat: NDArray[np.float64] | None = None
    objects: list[SceneObject] = field(default_factory=list)
    source: str = ""

    def object(self, name: str) -> SceneObject | None:
        for o in self.objects:
            if o.name == name:
                return o
        return None

    def save(self, path: Path) -> None:
        """Save as `<path>` (an image, .png) plus the `<path>.json` sidecar."""
        write_image(path, self.image)
        write_json(
            _sidecar(path),
            {
                "image": Path(path).name,
                "camera": self.camera.to_json(),
                "scene": self.scene,
                "seed": self.seed,
                "robot_pos": None if self.robot_pos is None else np.asarray(self.robot_pos).tolist(),
                "robot_quat_wxyz": None if self.robot_quat is None else np.asarray(self.robot_quat).tolist(),
                "objects": [o.to_json() for o in self.objects],
                "source": self.source,
            },
            schema="observation",
        )

    @staticmethod
    def load(path: Path) -> "Observation":
        """Load an observation image; without a sidecar the camera is guessed (60 degree fov)."""
        path = Path(path)
        image = read_image(path)
        side = _sidecar(path)
        if not side.is_file():
            return Observation(image=image, camera=Camera.default_for(image.shape[1], image.shape[0]), source=str(path))
        meta = read_json(side, schema="observation")
        cam = Camera.from_json(meta.get("camera", {}), where=str(side))
        if (cam.width, cam.height) != (image.shape[1], image.shape[0]):
            raise ArtifactError(
                f"{side}: field 'camera': size {cam.width}x{cam.height} does not match the image {image.shape[1]}x{image.shape[0]}"
            )
        rp, rq = meta.get("robot_pos"), meta.get("robot_quat_wxyz")
        return Observation(
            image=image,
            camera=cam,
            scene=meta.get("scene"),
            seed=int(meta.get("seed", 0)),
            robot_pos=None if rp is None else np.asarray(rp, dtype=np.float64),
            robot_quat=None if rq is None else np.asarray(rq, dtype=np.float64),
            objects=[SceneObject.from_json(o) for o in meta.get("objects", [])],
            source=meta.get("source", ""),
        )


@dataclass(kw_only=True)
class HumanView:
    """The observation with a human standing where the robot stands (embodiment transfer).

    Attributes:
        image: (H, W, 3) uint8 RGB.
        observation: the observation it was made from (camera, scene, objects).
        provider: which embody provider made it; `model`, `prompt`: what it was asked.
    """

    image: NDArray[np.uint8]
    observation: Observation
    provider: str
    model: str | None = None
    prompt: str | None = None
    params: dict[str, Any] = field(default_factory=dict)

    def save(self, path: Path) -> None:
        path = Path(path)
        obs_path = path.with_name(path.stem + "_observation.png")
        self.observation.save(obs_path)
        write_image(path, self.image)
        write_json(
            _sidecar(path),
            {
                "image": path.name,
                "observation": obs_path.name,
                "provider": self.provider,
                "model": self.model,
                "prompt": self.prompt,
                "params": self.params,
            },
            schema="human_view",
        )

    @staticmethod
    def load(path: Path) -> "HumanView":
        path = Path(path)
        meta = read_json(_sidecar(path), schema="human_view")
        obs = Observation.load(path.with_name(meta.get("observation", path.stem + "_observation.png")))
        image = read_image(path)
        return HumanView(
            image=image,
            observation=obs,
            provider=meta.get("provider", "unknown"),
            model=meta.get("model"),
            prompt=meta.get("prompt"),
            params=dict(meta.get("params", {})),
        )


@dataclass(kw_only=True)
class Video:
    """A video of a human doing the task (imagined) with its provenance.

    Attributes:
        frames: (T, H, W, 3) uint8 RGB.
        fps: frames per second.
        camera: the camera that saw it (intrinsics; pose when known).
        provider, model, prompt, seed, params: provenance, recorded for every provider.
        ground_truth: the exact motion shown, when the provider knows it (synthetic videos).
        scene: the simulated task name when the video was made in a simulated scene.
    """

    frames: NDArray[np.uint8]
    fps: float
    camera: Camera
    provider: str
    model: str | None = None
    prompt: str | None = None
    seed: int | None = None
    params: dict[str, Any] = field(default_factory=dict)
    ground_truth: "HumanMotion | None" = None
    scene: str | None = None

    @property
    def n_frames(self) -> int:
        return int(self.frames.shape[0])

    @property
    def duration_s(self) -> float:
        return self.n_frames / float(self.fps)

    def save(self, path: Path) -> None:
        """Save `<path>.mp4`, the `<path>.json` sidecar and, if known, `<stem>_ground_truth.npz`."""
        path = Path(path)
        write_video(path, self.frames, self.fps)
        gt_name = None
        if self.ground_truth is not None:
            gt_name = path.stem + "_ground_truth.npz"
            self.ground_truth.save(path.with_name(gt_name))
        write_json(
            _sidecar(path),
            {
                "video": path.name,
                "fps": float(self.fps),
                "n_frames": self.n_frames,
                "resolution": [int(self.frames.shape[2]), int(self.frames.shape[1])],
                "camera": self.camera.to_json(),
                "provider": self.provider,
                "model": self.model,
                "prompt": self.prompt,
                "seed": self.seed,
                "params": self.params,
                "ground_truth": gt_name,
                "scene": self.scene,
            },
            schema="video",
        )

    @staticmethod
    def load(path: Path, camera: Camera | None = None) -> "Video":
        """Load a video; a bare .mp4 without sidecar gets a guessed camera (or `camera`)."""
        from exoactor.artifacts.motion import HumanMotion

        path = Path(path)
        frames, fps = read_video(path)
        side = _sidecar(path)
        if not side.is_file():
            cam = camera or Camera.default_for(frames.shape[2], frames.shape[1])
            return Video(frames=frames, fps=fps, camera=cam, provider="file", params={"source": str(path)})
        meta = read_json(side, schema="video")
        cam = camera or Camera.from_json(meta.get("camera", {}), where=str(side))
        gt = None
        if meta.get("ground_truth"):
            gt = HumanMotion.load(path.with_name(meta["ground_truth"]))
        # the H.264 encoder pads odd sizes by a pixel: crop back to the recorded resolution
        w, h = meta.get("resolution", [frames.shape[2], frames.shape[1]])
        frames = frames[:, :h, :w]
        return Video(
            frames=frames,
            fps=float(meta.get("fps", fps)),
            camera=cam,
            provider=meta.get("provider", "unknown"),
            model=meta.get("model"),
            prompt=meta.get("prompt"),
            seed=meta.get("seed"),
            params=dict(meta.get("params", {})),
            ground_truth=gt,
            scene=meta.get("scene"),
        )
