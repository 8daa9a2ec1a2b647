"""`exoactor import FILE`: the one table of motion formats read into a HumanMotion."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from exoactor.artifacts import HumanMotion
from exoactor.errors import InputError


def _bvh(path: Path, **kw: Any) -> HumanMotion:
    from exoactor.formats.bvh import read_bvh

    return read_bvh(path, scale=kw.get("scale"), up=kw.get("up"))


def _smpl(path: Path, **kw: Any) -> HumanMotion:
    from exoactor.formats.smpl_npz import read_smpl_npz

    return read_smpl_npz(path, smpl_model=kw.get("smpl_model"), fps=kw.get("fps"), up=kw.get("up"))


#: format name -> (file suffix, reader, what it reads)
FORMATS: dict[str, tuple[str, Callable[..., HumanMotion], str]] = {
    "bvh": (".bvh", _bvh, "BVH motion capture (SMPL, CMU, Mixamo, LAFAN joint names)"),
    "smpl": (".npz", _smpl, "AMASS SMPL-H / SMPL-X, or SMPL-X parameters (global_orient, body_pose, ...)"),
}


def motion_format(path: str | Path) -> str:
    """The format name of a motion file, from its suffix."""
    suffix = Path(path).suffix.lower()
    for name, (ext, _, _) in FORMATS.items():
        if suffix == ext:
            return name
    known = ", ".join(f"{ext} ({what})" for ext, _, what in FORMATS.values())
    raise InputError(f"{path}: unknown motion file type '{suffix}'; exoactor imports {known}")


def import_motion(path: str | Path, **options: Any) -> HumanMotion:
    """Read a motion file into a HumanMotion.

    Args:
        options: scale, up ("y"/"z"), fps, smpl_model -- each reader uses the ones it knows.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: file not found")
    return FORMATS[motion_format(path)][1](path, **options)
