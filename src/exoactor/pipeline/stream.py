"""Streaming imagination: the robot starts moving while the rest of the task is still imagined.

`exoactor run --stream`: the plan is cut into segments of 2-5 s (exoactor.pipeline.segments).
Two worker processes form a pipeline beside the robot: one imagines segment k+1 while the other
estimates and retargets segment k; the main process runs the robot (an `ExecutionSession`: the
simulation in real time, or a real robot) on one continuous reference, each segment appended
as it arrives and started from where the robot actually is. With `closed_loop`, after each
segment the world is checked against the state the segment should have reached; on a miss the
robot re-observes its scene and the remaining steps are imagined again from there (at most
`retries` times per segment). Every attempt is kept in the run directory.

Measured (``stream.json``, ``timings.json``, the report and the benchmark rows): the time to
first motion (the instruction handed to the warm pipeline -> the first control command from
imagined motion), stalls (the robot waiting for its next reference after it started), each
segment's compute, and the compute per second of video.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, Protocol

from exoactor.artifacts import Execution, HumanMotion, HumanView, Observation, Plan, RobotMotion
from exoactor.artifacts.io import write_json
from exoactor.errors import ConfigError
from exoactor.logs import native_stderr_filtered
from exoactor.pipeline.segments import Expectation, Segment, segment_plan, split_head


@dataclass(frozen=True, kw_only=True)
class StreamOptions:
    """How a streamed run is cut, parallelised and checked.

    Attributes:
        min_s, max_s: segment length bounds (s of plan time).
        closed_loop: check each segment's end state and re-imagine on a miss.
        retries: re-imaginations allowed per segment in closed loop.
        workers: "process" (two worker processes; the default), "inline" (everything in this
            process, one segment after the other: for debugging), or "ray" (Ray tasks).
        ray_address: a Ray cluster's address (implies workers="ray").
        realtime: pace the robot on the wall clock (a simulation otherwise runs as fast as it can).
        settle_s: how long the robot runs on after the last segment's reference.
        head_s: with an imaginer that can cut inside a step (the synthetic one), the first
            segment's first `head_s` seconds go to the robot on their own, so the time to first
            motion does not grow with the first step (plans of one segment are not cut: see
            `segments.split_head`); None: no head.
    """

    min_s: float = 2.0
    max_s: float = 5.0
    closed_loop: bool = False
    retries: int = 1
    workers: str = "process"
    ray_address: str | None = None
    realtime: bool = True
    settle_s: float = 1.0
    head_s: float | None = 1.0

    def __post_init__(self) -> None:
        if self.workers not in ("process", "inline", "ray"):
            raise ConfigError(f"stream: workers must be process, inline or ray, not {self.workers!r}")
        if self.retries < 0:
            raise ConfigError("stream: retries must be >= 0")
        if self.head_s is not None and self.head_s <= 0:
            raise ConfigError(f"stream: head_s must be > 0 (or None), got {self.head_s}")
        if not 0 < self.min_s <= self.max_s:
            raise ConfigError(f"stream: need 0 < min_s <= max_s, got {self.min_s}, {self.max_s}")


class ExecutionSession(Protocol):
    """What runs the robot in a streamed run: references are appended while it runs."""

    fps: float

    def append(self, robot: RobotMotion, human: HumanMotion | None) -> None:
        """Queue a segment's reference; it starts from wherever the robot is when it is reached."""

    def step(self) -> bool:
        """Advance one control step (1 / fps s). True when it followed the reference; False when
        there was none left and the robot held its stance (a stall, when more is coming)."""

    def finished_segments(self) -> int:
        """How many appended references the robot has completed."""

    def time_s(self) -> float:
        """The robot's time (s since the session started)."""

    def check(self, expect: Sequence[Expectation]) -> list[Any]:
        """Judge the world against a segment's expected end state (verdicts with `ok` and `reason()`)."""

    def observe(self) -> Observation:
        """The robot's view now (for re-imagination)."""

    # optional: ``stopped`` (bool) — the robot fell or the physics diverged; the stream ends there

    def finish(self) -> Execution:
        """Stop and package what the robot did."""


@dataclass
class SegmentJob:
    """One segment to imagine, estimate and retarget (sent to the workers: plain data only)."""

    run_dir: str
    index: int
    attempt: int
    seed: int
    providers: dict[str, str]
    options: dict[str, dict[str, Any]]
    plan_path: str  # the segment's sub-plan
    view_path: str  # the view the imagination started from
    objects_path: str
    first: bool  # the first segment of an imagination (a fresh start from `view_path`)
    scene: str | None
    full_plan_path: str = ""  # the plan this imagination performs (the segment is steps[steps_from:steps_to])
    steps_from: int = 0
    steps_to: int = 0
    prev_video: str = ""  # the previous segment's video (its last frame starts this one)
    prev_key: str = ""  # the previous segment's job_key
    out_dir: str = ""
    cleanup: bool = True  # clean the estimated motion (RunConfig.cleanup)
    skip_s: float = 0.0  # see Segment.skip_s / limit_s
    limit_s: float | None = None

    def __post_init__(self) -> None:
        if not self.out_dir:
            self.out_dir = str(Path(self.run_dir) / "segments" / f"{self.index:02d}-{self.attempt}")


@dataclass
class SegmentResult:
    """What the workers made of a segment (paths in the run directory) and what it cost."""

    index: int
    attempt: int
    video: str = ""
    human_motion: str = ""
    robot_motion: str = ""
    video_s: float = 0.0
    imagine_s: float = 0.0
    estimate_s: float = 0.0
    retarget_s: float = 0.0
    error: str | None = None
    rest_s: float | None = None  # a head: the seconds it left for its rest (0: it took the segment whole)


# ---- the work done in the workers ----------------------------------------------------------------

#: a finished segment's record: a resumed run reuses the segment when its key is unchanged
DONE_NAME = "segment_done.json"
#: the input files whose content goes into a segment's key
_KEYED_FILES = ("plan_path", "full_plan_path", "view_path", "objects_path")
_PATH_FIELDS = ("run_dir", "out_dir", *_KEYED_FILES, "prev_video")


def job_key(job: SegmentJob) -> str:
    """The content of everything a segment is made from: its plans, the view, the objects, the
    providers, their options, the seed, exoactor's code, and the previous segment's key (what its
    video was made from: the video's bytes are not stable, H.264 encodings of the same frames
    differed now and then, and a changed input of an earlier segment still changes this key)."""
    import hashlib
    import json

    from exoactor.pipeline.run import code_digest

    h = hashlib.sha256(code_digest().encode())
    for name in _KEYED_FILES:
        p = getattr(job, name)
        h.update(name.encode())
        if p and Path(p).is_file():
            h.update(Path(p).read_bytes())
    rest = {k: v for k, v in asdict(job).items() if k not in _PATH_FIELDS}
    h.update(json.dumps(rest, sort_keys=True, default=str).encode())
    return h.hexdigest()


def can_cut(imagine_provider: str) -> bool:
    """Whether the imagine provider imagines segments as parts of one performance, cut anywhere
    (``imagine_segment``): a streamed run then starts the robot on a head of the first segment."""
    from exoactor.stages import registry

    try:
        factory = registry("imagine").info(imagine_provider).factory
    except ConfigError:
        return False
    return callable(getattr(factory, "imagine_segment", None))


def _finished(job: SegmentJob) -> SegmentResult | None:
    """The segment as a previous (killed) run of this run directory finished it, if nothing changed."""
    import json

    path = Path(job.out_dir) / DONE_NAME
    try:
        done = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    if done.get("key") != job_key(job):
        return None
    res = SegmentResult(**{k: v for k, v in done["result"].items() if k in SegmentResult.__dataclass_fields__})
    if not all(Path(p).is_file() for p in (res.video, res.human_motion, res.robot_motion)):
        return None
    res.imagine_s = res.estimate_s = res.retarget_s = 0.0  # nothing was computed this time
    return res


def imagine_segment(job: SegmentJob) -> SegmentResult:
    """Imagine one segment into `job.out_dir/video.mp4` (in the imagination worker).

    A provider with ``imagine_segment(view, plan, steps, first, ctx)`` continues its own
    performance of the whole plan (the synthetic imaginer); any other provider imagines the
    segment's sub-plan image-to-video, starting from the previous segment's last frame.
    """
    from exoactor.artifacts import Video
    from exoactor.pipeline import runners
    from exoactor.stages import StageContext

    out = Path(job.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    kept = _finished(job)
    if kept is not None:  # a resumed run: this segment was finished before the run was killed
        return kept
    t0 = time.perf_counter()
    res = SegmentResult(job.index, job.attempt)
    try:
        view = HumanView.load(Path(job.view_path))
        ctx = StageContext(work_dir=out / "work", seed=job.seed, scene=job.scene)
        ctx.work_dir.mkdir(parents=True, exist_ok=True)
        prov = _worker_provider("imagine", job)
        if hasattr(prov, "imagine_segment"):
            full = Plan.load(Path(job.full_plan_path))
            cut: dict[str, Any] = {"skip_s": job.skip_s, "limit_s": job.limit_s} if job.skip_s or job.limit_s else {}
            video = prov.imagine_segment(view, full, range(job.steps_from, job.steps_to), job.first, ctx, **cut)
            if job.limit_s is not None and video.params.get("rest_s") is not None:  # unreported: keep the rest
                res.rest_s = float(video.params["rest_s"])
        else:
            if not job.first and job.prev_video:
                last = Video.load(Path(job.prev_video)).frames[-1]
                view = HumanView(image=last, observation=view.observation, provider=view.provider, prompt=view.prompt)
            video = runners.imagine(prov, view, Plan.load(Path(job.plan_path)), ctx, checks=False)[0]
        video.save(out / "video.mp4")
        res.video, res.video_s = str(out / "video.mp4"), float(video.duration_s)
    except Exception as e:  # noqa: BLE001 - recorded per segment; the run decides what to do
        res.error = f"imagine: {type(e).__name__}: {e}"
    res.imagine_s = time.perf_counter() - t0
    return res


def estimate_segment(job: SegmentJob, imagined: SegmentResult) -> SegmentResult:
    """Estimate and retarget an imagined segment (in the estimation worker)."""
    from exoactor.artifacts import ObjectPoses, Video
    from exoactor.pipeline import runners
    from exoactor.stages import StageContext

    res = imagined
    if res.error or res.robot_motion:  # failed, or kept from before a resume
        return res
    out = Path(job.out_dir)
    try:
        t0 = time.perf_counter()
        video = Video.load(Path(res.video))
        ctx = StageContext(work_dir=out / "work", seed=job.seed, scene=job.scene)
        body = runners.body(_worker_provider("body", job), video, ctx)
        hands = runners.hands(_worker_provider("hands", job), video, body, ctx)
        objects = ObjectPoses.load(Path(job.objects_path))
        human = runners.motion(body, hands, objects.scene_objects(), physcheck=None, cleanup=job.cleanup).motion
        human.save(out / "human_motion.npz")
        res.human_motion = str(out / "human_motion.npz")
        t1 = time.perf_counter()
        res.estimate_s = t1 - t0
        robot = runners.retarget(_worker_provider("retarget", job), human, objects, Plan.load(Path(job.plan_path)), ctx)
        robot.save(out / "robot_motion.npz")
        res.robot_motion = str(out / "robot_motion.npz")
        res.retarget_s = time.perf_counter() - t1
        write_json(out / DONE_NAME, {"key": job_key(job), "result": asdict(res)}, schema="segment_done")
    except Exception as e:  # noqa: BLE001
        res.error = f"estimate/retarget: {type(e).__name__}: {e}"
    return res


_PROVIDERS: dict[tuple[str, str, str], Any] = {}


def _worker_provider(stage: str, job: SegmentJob) -> Any:
    """The stage's provider, made once per worker process (the synthetic imaginer keeps its performance)."""
    import json

    from exoactor.pipeline import runners

    name = job.providers.get(stage)
    opts = job.options.get(stage, {})
    key = (stage, str(name), json.dumps(opts, sort_keys=True, default=str))
    if key not in _PROVIDERS:
        _PROVIDERS[key] = runners.provider(stage, name, **opts)
    return _PROVIDERS[key]


def warm_up(
    providers: dict[str, str],
    options: dict[str, dict[str, Any]],
    stages: Sequence[str],
    seed: int = 0,
    scene: str | None = None,
) -> float:
    """Import and construct the providers of `stages` in this (worker) process, and let those with a
    ``warm_up(seed, scene)`` load their models; returns the seconds it took."""
    t0 = time.perf_counter()
    job = SegmentJob(run_dir="", index=0, attempt=0, seed=seed, providers=providers, options=options, plan_path="",
                     view_path="", objects_path="", first=True, scene=scene, out_dir="/")  # fmt: skip
    with native_stderr_filtered():  # MediaPipe logs while its models load
        for s in stages:
            prov = _worker_provider(s, job)
            if hasattr(prov, "warm_up"):
                prov.warm_up(seed=seed, scene=scene)
    return time.perf_counter() - t0


#: what a streamed run asks of a provider unless the user set it: the synthetic imaginer renders at
#: the rate and quality the estimators use (15 fps, no shadows), so imagination keeps ahead of the robot
STREAM_OPTIONS: dict[tuple[str, str], dict[str, Any]] = {("imagine", "synthetic"): {"fps": 15.0, "quality": "draft"}}


def stream_provider_options(stage: str, provider: str, options: dict[str, Any]) -> dict[str, Any]:
    """`options` with the streaming defaults of `provider` filled in (the user's values win)."""
    return {**STREAM_OPTIONS.get((stage, provider), {}), **options}


# ---- the orchestration ------------------------------------------------------------------------------


class _Inline:
    """A stand-in for a process pool that runs each job at once (workers="inline")."""

    def submit(self, fn: Callable[..., Any], *args: Any) -> Future[Any]:
        f: Future[Any] = Future()
        try:
            f.set_result(fn(*args))
        except Exception as e:  # noqa: BLE001
            f.set_exception(e)
        return f

    def shutdown(self, wait: bool = True, cancel_futures: bool = False) -> None:
        return None


def _pools(opts: StreamOptions) -> tuple[Any, Any]:
    if opts.workers == "inline":
        return _Inline(), _Inline()
    if opts.workers == "ray" or opts.ray_address:
        from exoactor.pipeline.ray_pool import RayPool

        return RayPool(opts.ray_address), RayPool(opts.ray_address)
    import multiprocessing as mp
    from concurrent.futures import ProcessPoolExecutor

    ctx = mp.get_context("spawn")
    imaginer = ProcessPoolExecutor(1, mp_context=ctx, initializer=_lower_priority, initargs=(IMAGINE_NICE,))
    return imaginer, ProcessPoolExecutor(1, mp_context=ctx)


#: the imagination worker's niceness: it works ahead of the robot, while the estimation worker
#: and the robot's control loop are on the critical path (the segment the robot waits for, the
#: next control step); on two cores the three share, this keeps the time to first motion and the
#: stalls short (measured: the first segment's estimation took 3x longer beside an unniced imaginer)
IMAGINE_NICE = 10


def _lower_priority(nice: int) -> None:
    import os

    try:
        os.nice(nice)
    except (AttributeError, OSError):  # not on this platform: the workers share the CPU evenly
        pass


@dataclass
class StreamRecord:
    """What happened in a streamed run, in wall-clock seconds since the instruction (t0)."""

    segments: list[dict[str, Any]] = field(default_factory=list)
    attempts: list[dict[str, Any]] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)
    warm_up_s: float = 0.0
    time_to_first_motion_s: float | None = None
    stall_s: float = 0.0
    stalls: list[dict[str, Any]] = field(default_factory=list)
    wall_s: float = 0.0
    video_s: float = 0.0
    compute_s: float = 0.0
    behind_s: float = 0.0  # how far the robot fell behind the wall clock (a slow controller)

    def to_json(self) -> dict[str, Any]:
        d = asdict(self)
        d["stalls_after_first_segment"] = sum(1 for s in self.stalls if s.get("segment", 0) > 0)
        d["compute_s_per_video_s"] = round(self.compute_s / self.video_s, 4) if self.video_s else None
        d["wall_s_per_video_s"] = round(self.wall_s / self.video_s, 4) if self.video_s else None
        return d


def plan_offset(plan: Plan, run_dir: Path) -> int:
    """Where `plan`'s steps start in the run's plan (a re-imagination performs the plan's tail)."""
    whole = Plan.load(run_dir / "plan.json")
    n = len(plan.steps)
    return len(whole.steps) - n if whole.steps[len(whole.steps) - n :] == plan.steps else 0


class StreamedRun:
    """Run `run`'s task streamed: imagine, estimate and retarget segment by segment while the robot moves.

    Args:
        run: a created (or resumed) Run; its config names the providers.
        make_session: builds the ExecutionSession (called before the instruction clock starts:
            the robot is on and waiting).
        opts: see StreamOptions.
        log: progress messages.
    """

    STAGES = ("imagine", "body", "hands", "retarget")

    def __init__(
        self,
        run: Any,
        make_session: Callable[[], ExecutionSession],
        opts: StreamOptions | None = None,
        log: Callable[[str], None] = lambda msg: None,
    ) -> None:
        self.run = run
        self.make_session = make_session
        self.opts = opts or StreamOptions()
        self.log = log
        self.rec = StreamRecord()
        self.dir = Path(run.dir)
        self._t0 = 0.0

    def now(self) -> float:
        return time.perf_counter() - self._t0

    # -- jobs --------------------------------------------------------------------------------------
    def _job(
        self, seg: Segment, attempt: int, plan: Plan, view_path: Path, first: bool, prev: SegmentJob | None
    ) -> SegmentJob:
        c = self.run.config
        job = SegmentJob(
            run_dir=str(self.dir),
            index=seg.index,
            attempt=attempt,
            seed=c.seed + 1000 * attempt,
            providers={s: c.provider(s) for s in self.STAGES},
            options={s: stream_provider_options(s, c.provider(s), c.provider_options(s)) for s in self.STAGES},
            plan_path="",
            view_path=str(view_path),
            objects_path=str(self.dir / "object_poses.json"),
            first=first,
            scene=c.scene,
            cleanup=c.cleanup,
            steps_from=seg.first_step - plan_offset(plan, self.dir),
            prev_video=str(Path(prev.out_dir) / "video.mp4") if prev is not None else "",
            prev_key=job_key(prev) if prev is not None else "",
            skip_s=seg.skip_s,
            limit_s=seg.limit_s,
        )
        job.steps_to = job.steps_from + len(seg.steps)
        out = Path(job.out_dir)
        out.mkdir(parents=True, exist_ok=True)
        seg.plan(plan).save(out / "plan.json")
        job.plan_path = str(out / "plan.json")
        plan.save(out / "full_plan.json")
        job.full_plan_path = str(out / "full_plan.json")
        meta = {"first_step": seg.first_step, "nominal_s": seg.nominal_s, "expect": [asdict(e) for e in seg.expect]}
        write_json(out / "segment.json", meta, schema="segment")
        return job

    # -- the run -------------------------------------------------------------------------------------
    def execute(self) -> StreamRecord:
        run, opts, rec = self.run, self.opts, self.rec
        wall0 = time.perf_counter()
        imaginer, estimator = _pools(opts)
        try:
            c = run.config
            providers = {s: c.provider(s) for s in self.STAGES}
            options = {s: stream_provider_options(s, c.provider(s), c.provider_options(s)) for s in self.STAGES}
            warm = [
                imaginer.submit(warm_up, providers, options, ("imagine",), c.seed, c.scene),
                estimator.submit(warm_up, providers, options, ("body", "hands", "retarget"), c.seed, c.scene),
            ]
            # the robot already sees its scene; the human view depends on nothing else (not on the
            # instruction), so it is made while the robot waits for one
            for stage in ("observe", "perceive", "embody"):
                run.run_stage(stage)
            session = self.make_session()
            for f in warm:
                f.result()
            rec.warm_up_s = round(time.perf_counter() - wall0, 3)
            self.log(f"stream: ready in {rec.warm_up_s:.1f} s; the instruction is given")
            return _Loop(self, session, imaginer, estimator).go()
        finally:
            imaginer.shutdown(wait=False, cancel_futures=True)
            estimator.shutdown(wait=False, cancel_futures=True)


def _record_segment(rec: StreamRecord, seg: Segment, res: SegmentResult, t: float) -> None:
    rec.segments.append(
        {
            "segment": seg.index,
            "attempt": res.attempt,
            "ready_t": round(t, 3),
            "video_s": round(res.video_s, 3),
            "imagine_s": round(res.imagine_s, 3),
            "estimate_s": round(res.estimate_s, 3),
            "retarget_s": round(res.retarget_s, 3),
            "error": res.error,
            "actions": [s.action for s in seg.steps],
        }
    )
    rec.video_s = round(rec.video_s + res.video_s, 3)
    rec.compute_s = round(rec.compute_s + res.imagine_s + res.estimate_s + res.retarget_s, 3)


class _Loop:
    """The streaming loop's state: the imagination queue, the work in flight, the robot's progress."""

    def __init__(self, sr: StreamedRun, session: ExecutionSession, imaginer: Any, estimator: Any) -> None:
        self.sr, self.session, self.imaginer, self.estimator = sr, session, imaginer, estimator
        self.rec, self.opts = sr.rec, sr.opts
        self.queue: list[tuple[Segment, SegmentJob]] = []
        self.attempts: dict[int, int] = {}
        self.generation = 0
        self.reset_flow()
        self.started_at: float | None = None
        self.stall_since: float | None = None

    def reset_flow(self) -> None:
        self.imagining: tuple[int, int, Future[Any]] | None = None
        self.estimating: list[tuple[int, int, Future[Any]]] = []
        self.ready: dict[int, SegmentResult] = {}
        self.next_to_imagine = 0
        self.next_to_append = 0
        self.appended: list[Segment] = []
        self.done = 0  # segments of `appended` the robot has finished
        self.base_finished = 0  # the session's finished count when this imagination started

    def start_imagination(self, segs: list[Segment], view: Path, plan: Plan) -> None:
        self.generation += 1
        for s in segs:
            self.attempts.setdefault(s.index, 0)
        self.queue = []
        for i, s in enumerate(segs):
            prev = self.queue[-1][1] if self.queue else None
            self.queue.append((s, self.sr._job(s, self.attempts[s.index], plan, view, i == 0, prev)))
        self.reset_flow()
        self.base_finished = self.session.finished_segments()

    def go(self) -> StreamRecord:
        sr, rec = self.sr, self.rec
        sr._t0 = time.perf_counter()
        sr.run.run_stage("plan")
        plan = Plan.load(sr.dir / "plan.json")
        segs = segment_plan(plan, self.opts.min_s, self.opts.max_s)
        if self.opts.head_s and can_cut(sr.run.config.provider("imagine")):
            segs = split_head(segs, self.opts.head_s)
        rec.events.append({"t": round(sr.now(), 3), "type": "planned", "segments": len(segs)})
        self.start_imagination(segs, sr.dir / "human_view.png", plan)
        clock0 = sr.now() - self.session.time_s()  # the robot's clock runs with the wall clock from here
        settle_until: float | None = None
        while True:
            self.pump_workers()
            if self.judge_finished():
                continue  # the closed loop started a new imagination
            self.append_ready()
            if getattr(self.session, "stopped", False):  # the robot fell or cannot follow: stop streaming
                why = getattr(self.session, "stop_reason", None) or "the robot fell"
                rec.events.append({"t": round(sr.now(), 3), "type": "stopped", "reason": why})
                break
            if self.session.step():
                self.on_motion()
            elif self.next_to_append >= len(self.queue) and self.done >= len(self.appended):
                settle_until = settle_until if settle_until is not None else self.session.time_s() + self.opts.settle_s
                if self.session.time_s() >= settle_until:
                    break
            elif self.started_at is not None and self.stall_since is None:
                self.stall_since = sr.now()
            if self.opts.realtime:
                ahead = clock0 + self.session.time_s() - sr.now()
                if ahead > 0:
                    time.sleep(ahead)
                else:
                    rec.behind_s = round(max(rec.behind_s, -ahead), 3)
        rec.wall_s = round(sr.now(), 3)
        ex = self.session.finish()
        ex.save(sr.dir / "execution.npz")
        write_json(sr.dir / "stream.json", rec.to_json(), schema="stream")
        return rec

    def pump_workers(self) -> None:
        """Keep the imagination worker busy ahead of the robot; pass imagined segments on to estimation."""
        if self.imagining is None and self.next_to_imagine < len(self.queue):
            job = self.queue[self.next_to_imagine][1]
            self.imagining = (self.generation, self.next_to_imagine, self.imaginer.submit(imagine_segment, job))
            self.next_to_imagine += 1
        if self.imagining is not None and self.imagining[2].done():
            gen, pos, fut = self.imagining
            self.imagining = None
            if gen == self.generation:
                job = self.queue[pos][1]
                self.drop_empty_rest(pos, fut.result())
                self.estimating.append((gen, pos, self.estimator.submit(estimate_segment, job, fut.result())))
        for item in list(self.estimating):
            gen, pos, fut = item
            if fut.done():
                self.estimating.remove(item)
                if gen == self.generation:
                    self.ready[pos] = fut.result()

    def drop_empty_rest(self, pos: int, res: SegmentResult) -> None:
        """A head that took its segment whole (too short to cut: `cut_frames`) leaves no rest: the
        rest (not yet imagined) is dropped and the head expects what the rest would have."""
        nxt = pos + 1
        if res.rest_s != 0.0 or nxt >= len(self.queue) or not self.queue[nxt][0].skip_s:
            return
        head, job = self.queue[pos]
        rest = self.queue[nxt][0]
        self.queue[pos] = (replace(head, expect=rest.expect, limit_s=None), job)
        import shutil

        shutil.rmtree(self.queue[nxt][1].out_dir, ignore_errors=True)  # its plan files only: never imagined
        del self.queue[nxt]
        self.rec.events.append({"t": round(self.sr.now(), 3), "type": "head_whole", "segment": head.index})

    def append_ready(self) -> None:
        """Hand the next finished segments to the robot, in order (closed loop: one at a time, each
        once the previous one has been judged)."""
        while self.next_to_append in self.ready:
            if self.opts.closed_loop and self.done < len(self.appended):
                return
            res = self.ready.pop(self.next_to_append)
            seg = self.queue[self.next_to_append][0]
            _record_segment(self.rec, seg, res, self.sr.now())
            if res.error:
                from exoactor.errors import ProviderError

                raise ProviderError(
                    f"stream: segment {seg.index + 1} ({', '.join(s.action for s in seg.steps)}): {res.error}"
                )
            self.session.append(RobotMotion.load(Path(res.robot_motion)), HumanMotion.load(Path(res.human_motion)))
            self.appended.append(seg)
            self.next_to_append += 1

    def on_motion(self) -> None:
        sr, rec = self.sr, self.rec
        t = sr.now()
        if self.started_at is None:
            self.started_at = t
            rec.time_to_first_motion_s = round(t, 3)
            rec.events.append({"t": rec.time_to_first_motion_s, "type": "first_motion"})
        if self.stall_since is not None:
            rec.stalls.append(
                {"segment": self.done, "t": round(self.stall_since, 3), "s": round(t - self.stall_since, 3)}
            )
            rec.stall_s = round(rec.stall_s + t - self.stall_since, 3)
            self.stall_since = None

    def judge_finished(self) -> bool:
        """Closed loop: judge the segments the robot finished since the last call. True when re-imagining."""
        finished = self.session.finished_segments() - self.base_finished
        while self.done < min(finished, len(self.appended)):
            seg = self.appended[self.done]
            self.done += 1
            if not self.opts.closed_loop or not seg.expect:
                continue
            verdicts = self.session.check(seg.expect)
            missed = [v for v in verdicts if v.ok is False]
            k = self.attempts[seg.index]
            self.rec.attempts.append(
                {
                    "segment": seg.index,
                    "attempt": k,
                    "t": round(self.sr.now(), 3),
                    "ok": not missed,
                    "verdicts": [v.reason() for v in verdicts],
                }
            )
            if missed and k < self.opts.retries:
                self.attempts[seg.index] = k + 1
                self.sr.log(
                    f"stream: segment {seg.index + 1} missed ({'; '.join(v.reason() for v in missed)}); re-imagining"
                )
                self.rec.events.append(
                    {"t": round(self.sr.now(), 3), "type": "reimagine", "segment": seg.index, "attempt": k + 1}
                )
                segs, view, rest = self.reimagine(seg)
                self.start_imagination(segs, view, rest)
                return True
        return False

    def reimagine(self, seg: Segment) -> tuple[list[Segment], Path, Plan]:
        """Re-observe the scene and imagine the plan again from `seg`'s first step."""
        from exoactor.pipeline import runners

        sr = self.sr
        k = self.attempts[seg.index]
        redo = sr.dir / "segments" / f"reobserve-{seg.index:02d}-{k}"
        redo.mkdir(parents=True, exist_ok=True)
        obs = self.session.observe()
        obs.save(redo / "observation.png")
        view = runners.embody(sr.run.provider("embody"), obs, sr.run.ctx("embody"))
        view.save(redo / "human_view.png")
        plan = Plan.load(sr.dir / "plan.json")
        rest = plan.model_copy(update={"steps": plan.steps[seg.first_step :]})
        segs = [
            Segment(
                index=seg.index + s.index,
                steps=s.steps,
                first_step=seg.first_step + s.first_step,
                nominal_s=s.nominal_s,
                expect=s.expect,
            )
            for s in segment_plan(rest, self.opts.min_s, self.opts.max_s)
        ]
        return segs, redo / "human_view.png", rest


def stream_run(
    run: Any, opts: StreamOptions | None = None, log: Callable[[str], None] = lambda msg: None
) -> StreamRecord:
    """Stream `run`'s task with its execute provider's streaming session, then write the run's
    stitched artifacts (video, human and robot motion of the segments the robot performed),
    ``timings.json`` (with the streaming numbers), ``metrics.json`` and ``run.json``."""
    from exoactor.errors import ExoActorError, ModelUnavailable
    from exoactor.stages import registry

    c = run.config
    prov = registry("execute").create(c.provider("execute"), **c.provider_options("execute"))
    if not hasattr(prov, "session"):
        raise ModelUnavailable(f"execute provider '{c.provider('execute')}' cannot stream (it has no session)")
    run.write_status("running")
    try:
        sr = StreamedRun(run, lambda: prov.session(run.ctx("execute")), opts, log)
        rec = sr.execute()
    except ExoActorError as e:
        run.write_status("failed", failed_stage="stream", error=str(e), error_type=type(e).__name__)
        raise
    stitch(run.dir, [s for s in rec.segments if not s.get("error")], rec)
    run.write_status("finished", streamed=True)
    write_stream_timings(run.dir, rec)
    run.write_metrics()
    return rec


def stitch(run_dir: Path, segments: list[dict[str, Any]], rec: StreamRecord) -> None:
    """The performed segments' videos, human and robot motions as the run's video.mp4,
    human_motion.npz and robot_motion.npz (what the report and `exoactor view` show)."""
    import numpy as np

    from exoactor.artifacts import Video

    dirs = [run_dir / "segments" / f"{s['segment']:02d}-{s['attempt']}" for s in segments]
    dirs = [d for d in dirs if (d / "robot_motion.npz").is_file()]
    if not dirs:
        return
    videos = [Video.load(d / "video.mp4") for d in dirs]
    v0 = videos[0]
    frames = np.concatenate([v.frames for v in videos])
    Video(frames=frames, fps=v0.fps, camera=v0.camera, provider=v0.provider, model=v0.model, prompt=v0.prompt,
          seed=v0.seed, params={"segments": len(videos), "streamed": True}, scene=v0.scene).save(run_dir / "video.mp4")  # fmt: skip
    humans = [HumanMotion.load(d / "human_motion.npz") for d in dirs]
    h0 = humans[0]
    fields = {k: np.concatenate([getattr(h, k) for h in humans]) for k in h0.SPEC if getattr(h0, k) is not None}
    HumanMotion(fps=h0.fps, source="stream", **fields).save(run_dir / "human_motion.npz")  # type: ignore[arg-type]
    robots = [RobotMotion.load(d / "robot_motion.npz") for d in dirs]
    r0 = robots[0]
    RobotMotion(
        fps=r0.fps,
        root_pos=np.concatenate([r.root_pos for r in robots]),
        root_quat=np.concatenate([r.root_quat for r in robots]),
        joint_pos=np.concatenate([r.joint_pos for r in robots]),
        hand_joint_pos=np.concatenate([r.hand_joint_pos for r in robots]),
        joint_names=r0.joint_names,
        hand_joint_names=r0.hand_joint_names,
        source="stream",
    ).save(run_dir / "robot_motion.npz")


def write_stream_timings(run_dir: Path, rec: StreamRecord) -> None:
    """timings.json of a streamed run: per stage summed over segments, and the streaming numbers."""
    sums: dict[str, float] = {"imagine": 0.0, "body+hands": 0.0, "retarget": 0.0}
    for s in rec.segments:
        sums["imagine"] += s["imagine_s"]
        sums["body+hands"] += s["estimate_s"]
        sums["retarget"] += s["retarget_s"]
    dur = rec.video_s or None
    stages = {
        k: {"provider": None, "wall_s": round(v, 4), "compute_s": round(v, 4), "cached": False,
            "s_per_video_s": round(v / dur, 4) if dur else None}
        for k, v in sums.items()
    }  # fmt: skip
    total = sum(sums.values())
    j = rec.to_json()
    write_json(
        run_dir / "timings.json",
        {
            "video_duration_s": dur,
            "stages": stages,
            "total_compute_s": round(total, 4),
            "total_s_per_video_s": round(total / dur, 4) if dur else None,
            "streamed": True,
            **{k: j[k] for k in ("time_to_first_motion_s", "stall_s", "stalls_after_first_segment", "warm_up_s",
                                 "wall_s", "wall_s_per_video_s", "compute_s_per_video_s", "behind_s")},
        },
        schema="timings",
    )  # fmt: skip
