"""The unitree provider against a loopback DDS peer (a fake G1 on rt/lowstate and rt/lowcmd)."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("cyclonedds")

from cyclonedds.core import Policy, Qos  # noqa: E402
from cyclonedds.domain import DomainParticipant  # noqa: E402
from cyclonedds.pub import DataWriter  # noqa: E402
from cyclonedds.sub import DataReader  # noqa: E402
from cyclonedds.topic import Topic  # noqa: E402
from cyclonedds.util import duration  # noqa: E402
from test_sonic_stream import human_motion  # noqa: E402
from test_unitree_lowlevel import reference  # noqa: E402

from exoactor.errors import ProviderError  # noqa: E402
from exoactor.execute.real.unitree.dds import (  # noqa: E402
    handcmd_from_idl,
    handcmd_idl,
    hg_idl,
    lowcmd_from_idl,
    lowstate_to_idl,
)
from exoactor.execute.real.unitree.messages import LowCmd, LowState  # noqa: E402
from exoactor.robot.g1.constants import DEFAULT_JOINT_POS, JOINT_NAMES  # noqa: E402
from exoactor.stages import EXECUTE, StageContext  # noqa: E402

# a private DDS domain per test process, so parallel runs do not hear each other
DOMAIN = 150 + os.getpid() % 80


class DdsG1(threading.Thread):
    """Publishes LowState at ~500 Hz; joints move 30 % toward each received command's target."""

    def __init__(self, domain: int) -> None:
        super().__init__(daemon=True)
        _, lowcmd_t, _, lowstate_t = hg_idl()
        self.dp = DomainParticipant(domain)
        self.writer = DataWriter(self.dp, Topic(self.dp, "rt/lowstate", lowstate_t))
        # keep every command for counting (a real G1 only uses the latest)
        qos = Qos(
            Policy.History.KeepLast(4096), Policy.Reliability.Reliable(max_blocking_time=duration(milliseconds=100))
        )
        self.reader = DataReader(self.dp, Topic(self.dp, "rt/lowcmd", lowcmd_t), qos=qos)
        self.hand_reader = DataReader(self.dp, Topic(self.dp, "rt/dex3/left/cmd", handcmd_idl()), qos=qos)
        self.hand_cmds: list = []
        self.state = LowState(mode_machine=9)
        self.state.q[:29] = DEFAULT_JOINT_POS
        self.cmds: list[LowCmd] = []
        self.crc_ok: list[bool] = []
        self.halt = threading.Event()

    def run(self) -> None:
        while not self.halt.is_set():
            self.state.tick += 1
            self.writer.write(lowstate_to_idl(self.state))
            for s in self.reader.take(N=256):
                if not hasattr(s, "motor_cmd"):
                    continue
                cmd = lowcmd_from_idl(s)
                self.crc_ok.append(cmd.crc == LowCmd.unpack(cmd.pack()).crc == s.crc)
                self.cmds.append(cmd)
                on = cmd.kp > 0
                self.state.q[on] += 0.3 * (cmd.q[on] - self.state.q[on])
            self.hand_cmds += [handcmd_from_idl(h) for h in self.hand_reader.take(N=256) if hasattr(h, "motor_cmd")]
            time.sleep(0.002)


def test_provider_commands_a_loopback_g1_over_dds(tmp_path: Path) -> None:
    g1 = DdsG1(DOMAIN)
    g1.start()
    try:
        prov = EXECUTE.info("unitree").factory(
            domain_id=DOMAIN,
            control_hz=200.0,
            ramp_s=0.1,
            damp_s=0.02,
            state_timeout_s=0.5,  # 2 shared cores
        )
        hm, _ = human_motion(t=10)
        ex = prov.execute(reference(), hm, StageContext(work_dir=tmp_path))
        time.sleep(0.1)
    finally:
        g1.halt.set()
        g1.join(timeout=2)
    assert [e["type"] for e in ex.events] == ["start", "tracking", "done"], ex.events
    sent = ex.metrics["commands_sent"]
    assert sent == 20 + 101 or (ex.metrics["late_ticks"] > 0 and sent < 121)
    assert len(g1.cmds) >= sent - 2, "reliable delivery on loopback (allowing the last in flight)"
    assert all(g1.crc_ok)
    assert len(g1.hand_cmds) >= sent - 40 and all(h.mode.tolist() == [0x90 | i for i in range(7)] for h in g1.hand_cmds)
    assert all(c.mode_machine == 9 for c in g1.cmds)
    ls = JOINT_NAMES.index("left_shoulder_pitch_joint")
    peak = max(c.q[ls] for c in g1.cmds)
    assert peak == pytest.approx(DEFAULT_JOINT_POS[ls] + 0.3, abs=0.01)  # the reference's sine peak arrived
    assert ex.metrics["tracking_rmse_rad"] < 0.03 and ex.metrics["tracking_max_rad"] < 0.4
    assert np.isfinite(ex.joint_pos).all()


def test_no_g1_on_the_domain_fails_after_a_bounded_wait(tmp_path: Path) -> None:
    # also pins the DDS network interface (the loopback here; 'eth0' or similar on the robot's network)
    prov = EXECUTE.info("unitree").factory(domain_id=(DOMAIN + 1), interface="lo", first_state_timeout_s=0.5)
    hm, _ = human_motion(t=10)
    t0 = time.monotonic()
    with pytest.raises(ProviderError, match="no rt/lowstate message from a G1 within 0.5 s"):
        prov.execute(reference(), hm, StageContext(work_dir=tmp_path))
    assert 0.45 < time.monotonic() - t0 < 3.0
