"""Motion formats in and data sets out: the field's files <-> exoactor's artifacts.

In: BVH (`bvh`), AMASS SMPL-H / SMPL-X and SMPL-X parameter `.npz` (`smpl_npz`) -> HumanMotion,
so motions people already have can be retargeted and executed (`exoactor import FILE`).
Out: executed episodes as a LeRobot v3 data set (`lerobot`).
"""

from __future__ import annotations

from exoactor.formats.importers import import_motion, motion_format

__all__ = ["import_motion", "motion_format"]
