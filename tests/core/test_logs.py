"""Native log noise is dropped; everything else on stderr still reaches the terminal."""

from __future__ import annotations

import os

import pytest

from exoactor.logs import native_stderr_filtered, quiet_native_logs


def test_native_noise_is_dropped_and_the_rest_kept(capfd: pytest.CaptureFixture[str]) -> None:
    with native_stderr_filtered() as dropped:
        os.write(2, b"W0000 00:00:1764082312.512 1234 inference_feedback_manager.cc:114] Feedback manager ...\n")
        os.write(2, b"WARNING: All log messages before absl::InitializeLog() is called are written to STDERR\n")
        os.write(2, b"INFO: Created TensorFlow Lite XNNPACK delegate for CPU.\n")
        os.write(2, b"exoactor: a real warning\n")
    err = capfd.readouterr().err
    assert err == "exoactor: a real warning\n"
    assert len(dropped) == 3 and dropped[0].startswith("W0000")


def test_thresholds_are_set(monkeypatch: pytest.MonkeyPatch) -> None:
    for k in ("GLOG_minloglevel", "TF_CPP_MIN_LOG_LEVEL"):
        monkeypatch.delenv(k, raising=False)
    quiet_native_logs()
    assert os.environ["GLOG_minloglevel"] == "2" and os.environ["TF_CPP_MIN_LOG_LEVEL"] == "3"
