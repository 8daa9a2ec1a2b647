"""The run: stages in order, content-hash caching, resumable, timed.

A run directory holds `config.toml`, every artifact, `stages/<stage>.json` (one
record per finished stage: its cache key, outputs and wall time), `run.json`
(status), `timings.json` and `report.html`.

Caching: a stage's key is the hash of (stage, provider, options, seed, the
content digests of its input files). Finished outputs are also stored under
`<runs_dir>/.cache/<stage>/<key>/`, so a new run with the same inputs reuses
them and changing one stage's provider recomputes only that stage and the ones
downstream whose inputs changed. Outputs are written atomically and a stage's
record is written last: a killed run never leaves a half-written artifact that
is trusted, and `--resume` continues from the last finished stage.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from exoactor import __version__
from exoactor.artifacts import BodyMotion, Execution, HandMotion, HumanMotion, Instruction
from exoactor.artifacts.io import file_digest, read_json, write_json
from exoactor.config import RunConfig
from exoactor.errors import ExoActorError
from exoactor.pipeline.files import link_or_copy
from exoactor.pipeline.steps import STEPS
from exoactor.stages import ORDER, STAGES, StageContext, registry

#: the stages run again when an estimated motion fails the physics check (``physcheck = "regenerate"``)
REGENERATED = ("imagine", "body", "hands", "motion")
#: a re-imagination's seed: the run's seed + this x the round (video retries use + 1000 x attempt)
PHYSCHECK_SEED_STRIDE = 100_000

#: Bump when a change in exoactor's own code invalidates cached results.
CACHE_VERSION = f"{__version__}-1"


_CODE_DIGEST: str | None = None


def code_digest() -> str:
    """sha256 over exoactor's own source files: cached results never outlive the code that made them."""
    global _CODE_DIGEST
    if _CODE_DIGEST is None:
        root = Path(__file__).parent
        h = hashlib.sha256()
        for f in sorted(root.rglob("*.py")):
            h.update(str(f.relative_to(root)).encode())
            h.update(f.read_bytes())
        _CODE_DIGEST = h.hexdigest()[:16]
    return _CODE_DIGEST


def slugify(text: str, n: int = 40) -> str:
    s = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return s[:n].rstrip("-") or "run"


@dataclass
class StageRecord:
    stage: str
    key: str
    provider: str | None
    outputs: list[str]
    wall_s: float
    cached: bool
    finished_at: str
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def compute_s(self) -> float:
        """Seconds of compute the outputs cost: the original run's for outputs reused from the cache."""
        return float(self.extra.get("compute_wall_s", self.wall_s)) if self.cached else self.wall_s


ProgressFactory = Callable[[str], Callable[[int, int, str], None]]


def _no_progress(stage: str) -> Callable[[int, int, str], None]:
    return lambda done, total, label: None


class Run:
    """One run directory and the machinery to fill it."""

    def __init__(
        self,
        run_dir: Path,
        config: RunConfig,
        *,
        cache_dir: Path | None = None,
        progress: ProgressFactory = _no_progress,
        log: Callable[[str], None] = lambda msg: None,
    ) -> None:
        self.dir = Path(run_dir)
        self.config = config
        self.cache_dir = cache_dir if cache_dir is not None else self.dir.parent / ".cache"
        self.progress = progress
        self.log = log
        self.records: dict[str, StageRecord] = {}
        self.physcheck_round, self.regenerated_s = self._read_physcheck_round()

    # ---- construction -------------------------------------------------------------------
    @staticmethod
    def create(config: RunConfig, runs_dir: Path, **kw: Any) -> "Run":
        stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
        base = Path(runs_dir) / f"{stamp}-{slugify(config.instruction)}"
        base.parent.mkdir(parents=True, exist_ok=True)
        run_dir, i = base, 1
        while True:  # mkdir claims the name: two processes may start the same task in one second
            try:
                run_dir.mkdir()
                break
            except FileExistsError:
                i += 1
                run_dir = base.with_name(f"{base.name}-{i}")
        config.save(run_dir / "config.toml")
        Instruction(text=config.instruction).save(run_dir / "instruction.json")
        return Run(run_dir, config, **kw)

    @staticmethod
    def resume(run_dir: Path, **kw: Any) -> "Run":
        run_dir = Path(run_dir)
        config = RunConfig.load(run_dir / "config.toml")
        return Run(run_dir, config, **kw)

    # ---- keys and records ---------------------------------------------------------------
    def _digests(self, stage: str) -> dict[str, str]:
        out: dict[str, str] = {}
        for up in STAGES[stage].inputs:
            rec = self.records.get(up)
            if rec is None:
                raise RuntimeError(f"stage '{stage}' needs '{up}' first")
            for name in rec.outputs:
                out[name] = file_digest(self.dir / name)
        return out

    def _provider_of(self, stage: str) -> str | None:
        return self.config.provider(stage) if STAGES[stage].has_providers else None

    def stage_key(self, stage: str) -> str:
        c = self.config
        spec = STAGES[stage]
        ident: dict[str, Any] = {
            "stage": stage,
            "version": CACHE_VERSION,
            "code": code_digest(),
            "provider": self._provider_of(stage),
            "options": c.provider_options(stage) if spec.has_providers else {},
            "seed": self._seed(stage),
            "inputs": self._digests(stage),
        }
        for k in spec.config_keys:
            value = getattr(c, k)
            if k == "image" and value and Path(value).is_file():
                value = file_digest(Path(value))  # the image's content, not its path
            ident[f"config.{k}"] = value
        blob = json.dumps(ident, sort_keys=True, default=str).encode()
        return hashlib.sha256(blob).hexdigest()[:24]

    def _record_path(self, stage: str) -> Path:
        return self.dir / "stages" / f"{stage}.json"

    def _load_record(self, stage: str, key: str) -> StageRecord | None:
        """A finished record for `stage` with this key whose outputs all exist, else None."""
        p = self._record_path(stage)
        if not p.is_file():
            return None
        try:
            obj = read_json(p)
        except ExoActorError:
            return None
        if obj.get("key") != key:
            return None
        if not all((self.dir / n).is_file() for n in obj.get("outputs", [])):
            return None
        return StageRecord(**{k: obj[k] for k in StageRecord.__dataclass_fields__ if k in obj})

    def _from_cache(self, stage: str, key: str) -> list[str] | None:
        d = self.cache_dir / stage / key
        done = d / "done.json"
        if not done.is_file():
            return None
        try:
            outputs = list(read_json(done)["outputs"])
        except (ExoActorError, KeyError):
            return None
        if not all((d / n).is_file() for n in outputs):
            return None
        for n in outputs:
            link_or_copy(d / n, self.dir / n)
        return outputs

    def _to_cache(self, stage: str, key: str, outputs: list[str]) -> None:
        d = self.cache_dir / stage / key
        d.mkdir(parents=True, exist_ok=True)
        for n in outputs:
            link_or_copy(self.dir / n, d / n)
        write_json(d / "done.json", {"outputs": outputs, "stage": stage})

    def write_status(self, status: str, **extra: Any) -> None:
        """run.json: the status (running, finished, failed, interrupted) and the finished stages."""
        write_json(
            self.dir / "run.json",
            {
                "status": status,
                "updated_at": datetime.now(UTC).isoformat(timespec="seconds"),
                "finished_stages": [s for s in ORDER if s in self.records],
                **extra,
            },
            schema="run",
        )

    # ---- running ------------------------------------------------------------------------
    def run_stages(self) -> dict[str, StageRecord]:
        """Run every stage up to `config.stop_after`, reusing finished and cached ones."""
        stop = self.config.stop_after
        self.write_status("running")
        current = None
        try:
            i = 0
            while i < len(ORDER):
                stage = current = ORDER[i]
                self.run_stage(stage)
                if stage == "motion" and self._regenerate():
                    i = ORDER.index(REGENERATED[0])
                    continue
                if stop is not None and stage == stop:
                    break
                i += 1
        except ExoActorError as e:
            self.write_status("failed", failed_stage=current, error=str(e), error_type=type(e).__name__)
            self.write_timings()
            raise
        except KeyboardInterrupt:
            self.write_status("interrupted", failed_stage=current)
            self.write_timings()
            raise
        self.write_status("finished")
        self.write_timings()
        self.write_metrics()
        return self.records

    def run_stage(self, stage: str) -> None:
        """Run one stage (its inputs must be done), reusing a finished record or the cache."""
        key = self.stage_key(stage)
        rec = self._load_record(stage, key)
        if rec is not None:
            self.records[stage] = rec
            self.log(f"{stage}: done already ({rec.wall_s:.1f} s), skipped")
            return
        t0 = time.perf_counter()
        cached = self._from_cache(stage, key)
        if cached is not None:
            outputs, extra, is_cached = cached, {}, True
            self.log(f"{stage}: reused from cache {key}")
        else:
            (self.dir / "stages").mkdir(exist_ok=True)
            started = self.dir / "stages" / f"{stage}.started"
            started.write_text(datetime.now(UTC).isoformat())
            self.log(f"{stage}: running ({self._provider_of(stage) or 'built-in'})")
            extra = stage_step(stage)(self) or {}
            missing = [n for n in STAGES[stage].outputs if not (self.dir / n).is_file()]
            if missing:
                raise RuntimeError(f"stage '{stage}' did not write {', '.join(missing)}")
            outputs = [n for n in STAGES[stage].all_outputs() if (self.dir / n).is_file()]
            self._to_cache(stage, key, outputs)
            started.unlink(missing_ok=True)
            is_cached = False
        wall = time.perf_counter() - t0
        rec = StageRecord(
            stage=stage,
            key=key,
            provider=self._provider_of(stage),
            outputs=outputs,
            wall_s=round(wall, 4),
            cached=is_cached,
            finished_at=datetime.now(UTC).isoformat(timespec="seconds"),
            extra=extra,
        )
        if is_cached:
            # keep the original compute time for the latency table; note the reuse
            old = self._cached_wall(stage, key)
            if old is not None:
                rec.extra["compute_wall_s"] = old
        write_json(self._record_path(stage), rec.__dict__, schema="stage_record")
        if not is_cached:
            write_json(self.cache_dir / stage / key / "record.json", rec.__dict__, schema="stage_record")
        self.records[stage] = rec

    def _cached_wall(self, stage: str, key: str) -> float | None:
        p = self.cache_dir / stage / key / "record.json"
        if p.is_file():
            try:
                return float(read_json(p)["wall_s"])
            except (ExoActorError, KeyError, ValueError):
                return None
        return None

    # ---- physics check: regenerate on fail ---------------------------------------------------
    def _physcheck_round_path(self) -> Path:
        return self.dir / "stages" / "physcheck_round.json"

    def _read_physcheck_round(self) -> tuple[int, float]:
        """(re-imaginations so far, their compute seconds) of a resumed run."""
        p = self._physcheck_round_path()
        if not p.is_file():
            return 0, 0.0
        try:
            d = read_json(p)
            return int(d["round"]), float(d.get("compute_s", 0.0))
        except (ExoActorError, KeyError, TypeError, ValueError):
            return 0, 0.0

    def _regenerate(self) -> bool:
        """After the motion stage with ``physcheck = "regenerate"``: when the estimated motion failed
        the physics check and re-imaginations are left, keep this attempt under
        ``attempts/physcheck-<k>/`` and imagine again with a new seed (True: run from imagine again)."""
        c = self.config
        pc = self.dir / "physcheck.json"
        if c.physcheck != "regenerate" or not c.checks or not pc.is_file():
            return False
        try:
            rep = read_json(pc)
        except ExoActorError:
            return False
        if rep.get("ok", True):
            return False
        failed = ", ".join(rep.get("failed", [])) or "failed"
        if self.physcheck_round >= c.physcheck_retries:
            self.log(
                f"motion: the physics check still fails ({failed}) after {self.physcheck_round} "
                "re-imagination(s); going on with this motion"
            )
            return False
        keep = self.dir / "attempts" / f"physcheck-{self.physcheck_round}"
        keep.mkdir(parents=True, exist_ok=True)
        for stage in REGENERATED:
            rec = self.records.pop(stage, None)
            if rec is not None:
                self.regenerated_s += rec.compute_s
            for name in STAGES[stage].all_outputs():
                if (self.dir / name).is_file():
                    (self.dir / name).replace(keep / name)
            if self._record_path(stage).is_file():
                self._record_path(stage).replace(keep / f"{stage}.json")
        self.physcheck_round += 1
        write_json(
            self._physcheck_round_path(),
            {
                "round": self.physcheck_round,
                "compute_s": round(self.regenerated_s, 4),
                "last_failed": rep.get("failed", []),
            },
        )
        self.log(
            f"motion: the physics check failed ({failed}); imagining again "
            f"({self.physcheck_round} of {c.physcheck_retries}; the attempt is kept in {keep.relative_to(self.dir)})"
        )
        return True

    def _seed(self, stage: str) -> int:
        """The stage's seed: the run's, and a new one for each re-imagination after a failed physics check."""
        if stage == "imagine":
            return self.config.seed + PHYSCHECK_SEED_STRIDE * self.physcheck_round
        return self.config.seed

    def ctx(self, stage: str) -> StageContext:
        work = self.dir / "work" / stage
        work.mkdir(parents=True, exist_ok=True)
        return StageContext(
            work_dir=work,
            seed=self._seed(stage),
            scene=self.config.scene,
            progress=self.progress(stage),
            options=self.config.provider_options(stage),
        )

    def provider(self, stage: str) -> Any:
        """The configured provider of `stage`, constructed with its options."""
        return registry(stage).create(self.config.provider(stage), **self.config.provider_options(stage))

    def write_metrics(self) -> dict[str, Any]:
        """metrics.json: success, falls, tracking errors, and estimation error vs ground truth."""
        m: dict[str, Any] = {}
        ex = load_execution(self.dir)
        if ex is not None:
            m.update({"success": ex.success, "fell": ex.fell, "controller": ex.controller, "kinematic": ex.kinematic})
            m.update({k: v for k, v in ex.metrics.items() if isinstance(v, (int, float, bool, str)) or v is None})
            from exoactor.evaluation import grasp_scores

            m.update(grasp_scores(ex.metrics))
        pc = self.dir / "physcheck.json"
        if pc.is_file():
            try:
                rep = read_json(pc)
                m["physcheck_ok"] = bool(rep.get("ok"))
                m["physcheck_failed"] = ",".join(rep.get("failed", []))
                m["physcheck_regenerations"] = self.physcheck_round
            except ExoActorError:
                pass
        gt_path = self.dir / "video_ground_truth.npz"
        if gt_path.is_file() and (self.dir / "body_motion.npz").is_file():
            from exoactor.evaluation import score_motion

            gt = HumanMotion.load(gt_path)
            hands = HandMotion.load(self.dir / "hand_motion.npz") if (self.dir / "hand_motion.npz").is_file() else None
            m.update(
                {
                    f"estimation_{k}": v
                    for k, v in score_motion(BodyMotion.load(self.dir / "body_motion.npz"), hands, gt).items()
                }
            )
        write_json(self.dir / "metrics.json", m, schema="metrics")
        return m

    # ---- timings ------------------------------------------------------------------------
    def video_duration_s(self) -> float | None:
        p = self.dir / "video.json"
        if not p.is_file():
            return None
        try:
            meta = read_json(p)
            return float(meta["n_frames"]) / float(meta["fps"])
        except (ExoActorError, KeyError, ValueError, ZeroDivisionError):
            return None

    def write_timings(self) -> dict[str, Any]:
        dur = self.video_duration_s()
        stages: dict[str, Any] = {}
        total = 0.0
        for s in ORDER:
            rec = self.records.get(s)
            if rec is None:
                continue
            compute = rec.compute_s
            total += compute
            stages[s] = {
                "provider": rec.provider,
                "wall_s": rec.wall_s,
                "compute_s": round(compute, 4),
                "cached": rec.cached,
                "s_per_video_s": round(compute / dur, 4) if dur else None,
            }
        if self.physcheck_round:  # the attempts that failed the physics check cost compute too
            total += self.regenerated_s
        out = {
            "video_duration_s": dur,
            "stages": stages,
            "physcheck_regenerations": self.physcheck_round,
            "regenerated_compute_s": round(self.regenerated_s, 4),
            "total_compute_s": round(total, 4),
            "total_s_per_video_s": round(total / dur, 4) if dur else None,
        }
        write_json(self.dir / "timings.json", out, schema="timings")
        return out


def load_execution(run_dir: Path) -> Execution | None:
    p = Path(run_dir) / "execution.npz"
    return Execution.load(p) if p.is_file() else None


def stage_step(stage: str) -> Callable[[Run], dict[str, Any] | None]:
    """The function that runs `stage` inside a run directory (exoactor.pipeline.steps)."""
    return STEPS[stage]
