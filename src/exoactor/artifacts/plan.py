"""Instruction and Plan: the task in words, decomposed into atomic actions and a video prompt."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from exoactor.artifacts.io import SCHEMA_VERSION, read_json, write_json
from exoactor.errors import ArtifactError

Action = Literal[
    "walk_to",
    "turn",
    "step_over",
    "crawl_under",
    "bend",
    "reach",
    "grasp",
    "lift",
    "place",
    "release",
    "stand_up",
    "sit_down",
    "sweep",
    "wipe",
    "push",
]
Hand = Literal["left", "right", "both"]

#: The atomic action vocabulary shared by planners, imaginers and the benchmark.
ACTIONS: tuple[str, ...] = get_args(Action)


class Instruction(BaseModel):
    """The user's task instruction."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    text: str = Field(min_length=1)

    @field_validator("text")
    @classmethod
    def _strip(cls, v: str) -> str:
        v = " ".join(v.split())
        if not v:
            raise ValueError("the instruction is empty")
        return v

    def save(self, path: Path) -> None:
        write_json(path, {"text": self.text}, schema="instruction")

    @staticmethod
    def load(path: Path) -> "Instruction":
        obj = read_json(path, schema="instruction")
        try:
            return Instruction(text=obj.get("text", ""))
        except ValidationError as e:
            raise ArtifactError(f"{path}: field 'text': {e.errors()[0]['msg']}") from None


class PlanStep(BaseModel):
    """One atomic sub-action."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    action: Action
    target: str | None = Field(default=None, description="the scene object acted on, e.g. 'bottle'")
    destination: str | None = Field(default=None, description="where the target goes, e.g. 'basket'")
    hand: Hand | None = None
    duration_s: float | None = Field(default=None, gt=0, le=60)
    description: str = ""


class VideoPrompt(BaseModel):
    """The structured video prompt of the reference system (fixed camera)."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    shot: str = Field(min_length=1)
    scene: str = Field(min_length=1)
    motion: str = Field(min_length=1)
    execution: str = Field(min_length=1)
    end_state: str = Field(min_length=1)
    camera: str = "fixed third-person camera, no camera motion, no cuts"
    negative: str = "camera motion, zoom, cuts, extra people, robot, distorted hands, objects passing through bodies"

    def text(self) -> str:
        """The prompt as one string, in the order shot / scene / motion / execution / end state."""
        return (
            f"Shot: {self.shot} Camera: {self.camera}. Scene: {self.scene} Motion: {self.motion} "
            f"Execution: {self.execution} End state: {self.end_state}"
        )


class Plan(BaseModel):
    """An instruction decomposed into atomic actions plus the video prompt."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    instruction: str
    steps: list[PlanStep] = Field(min_length=1)
    prompt: VideoPrompt
    provider: str = "unknown"
    model: str | None = None
    unknown_words: list[str] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list)

    @property
    def actions(self) -> list[str]:
        return [s.action for s in self.steps]

    def objects(self) -> list[str]:
        """Every object the plan names (targets and destinations), in order of first use."""
        seen: list[str] = []
        for s in self.steps:
            for o in (s.target, s.destination):
                if o and o not in seen:
                    seen.append(o)
        return seen

    def duration_s(self) -> float | None:
        """The plan's total duration when its steps give one (the sum of the known step durations)."""
        total = sum(st.duration_s for st in self.steps if st.duration_s)
        return float(total) if total > 0 else None

    def pick_duration(self, choices: tuple[int, ...], default: int) -> int:
        """The shortest allowed video duration (s) that covers the plan (the longest if none does)."""
        need = self.duration_s()
        if need is None:
            return default
        fitting = [c for c in sorted(choices) if c >= need - 1e-6]
        return fitting[0] if fitting else max(choices)

    def save(self, path: Path) -> None:
        write_json(path, self.model_dump(mode="json"), schema="plan")

    @staticmethod
    def load(path: Path) -> "Plan":
        obj = read_json(path, schema="plan")
        return Plan.from_dict(obj, where=str(path))

    @staticmethod
    def from_dict(obj: dict[str, Any], where: str = "plan") -> "Plan":
        obj = {k: v for k, v in obj.items() if k not in ("schema_version", "schema")}
        try:
            return Plan.model_validate(obj)
        except ValidationError as e:
            err = e.errors()[0]
            loc = ".".join(str(x) for x in err["loc"])
            raise ArtifactError(f"{where}: field '{loc}': {err['msg']}") from None


def plan_json_schema() -> dict[str, Any]:
    """The JSON schema that LLM planners must produce (the Plan minus provenance fields)."""
    schema = Plan.model_json_schema()
    schema["properties"].pop("provider", None)
    schema["properties"].pop("model", None)
    schema["required"] = [r for r in schema.get("required", []) if r not in ("provider", "model")]
    schema["$comment"] = f"exoactor plan schema v{SCHEMA_VERSION}"
    return schema
