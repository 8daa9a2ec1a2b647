"""Suite-wide settings: headless rendering, no network, deterministic threads."""

from __future__ import annotations

import os

os.environ.setdefault("MUJOCO_GL", "egl")
os.environ.setdefault("PYOPENGL_PLATFORM", "egl")
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TQDM_DISABLE", "1")

import pytest  # noqa: E402

FAKE_PROVIDERS_DIR = os.path.join(os.path.dirname(__file__), "pipeline")


@pytest.fixture()
def fake_plugins(tmp_path, monkeypatch: pytest.MonkeyPatch):
    """Register the fast stand-in providers of tests/pipeline/fake_providers.py (via EXOACTOR_PLUGINS,
    so subprocesses and Ray workers load them too); they count their calls in tmp_path/calls.txt."""
    monkeypatch.setenv("EXOACTOR_PLUGINS", "fake_providers")
    monkeypatch.setenv("EXO_TEST_COUNTS", str(tmp_path))
    monkeypatch.setenv(
        "PYTHONPATH", os.pathsep.join(p for p in (FAKE_PROVIDERS_DIR, os.environ.get("PYTHONPATH")) if p)
    )
    monkeypatch.syspath_prepend(FAKE_PROVIDERS_DIR)
    from exoactor.stages import all_registries

    for reg in all_registries().values():
        reg._loaded = False
    return tmp_path
