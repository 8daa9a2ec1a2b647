"""`exoactor import` and `exoactor dataset` on the command line."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from test_motion_import import _rigid_motion

from exoactor.artifacts import HumanMotion
from exoactor.cli import main
from exoactor.formats.bvh import write_bvh


def test_import_writes_a_human_motion(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("bvhio")
    motion = _rigid_motion(T=30)
    write_bvh(motion, tmp_path / "m.bvh")
    assert main(["import", str(tmp_path / "m.bvh"), "-o", str(tmp_path / "hm.npz")]) == 0
    back = HumanMotion.load(tmp_path / "hm.npz")
    assert np.abs(back.joints - motion.joints).max() < 1e-5
    assert "30 frames at 30 fps" in capsys.readouterr().err
    assert main(["import", str(tmp_path / "missing.bvh")]) == 2
    assert capsys.readouterr().err.strip() == f"exoactor: error: {tmp_path / 'missing.bvh'}: file not found"


def test_dataset_reports_skipped_runs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("pyarrow")
    from test_lerobot_export import _run

    ok = _run(tmp_path, "ok", "wipe the table", 0.5, True, 0)
    bad = _run(tmp_path, "bad", "wipe the table", 0.5, False, 1)
    assert main(["dataset", str(ok), str(bad), "-o", str(tmp_path / "ds")]) == 0
    err = capsys.readouterr().err
    assert "1 episode(s), 13 frames at 25 fps" in err and f"skipped {bad} (success=False)" in err
    assert (tmp_path / "ds" / "meta" / "info.json").is_file()
