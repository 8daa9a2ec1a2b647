"""execute stage: RobotMotion (+ the HumanMotion it came from) -> Execution.

* ``sim/`` - simulated controllers in MuJoCo (one file per provider, one shared rollout loop);
* ``real/`` - real outputs: a SONIC deployment (``real/sonic``), a real G1 over DDS (``real/unitree``);
* ``export`` - file exports of a reference (SONIC motion-reference CSV, npz).

To run a HumanMotion end to end (retarget, then execute) use
:func:`exoactor.pipeline.runners.execute_human_motion`.
"""
