"""The Unitree G1 29-DoF with Dex3-1 hands.

* :mod:`exoactor.robot.g1.constants` - joint order, limits, gains, default pose, hand poses (no mujoco import);
* :mod:`exoactor.robot.g1.model` - the MJCF built with ``mujoco.MjSpec`` and index helpers;
* :mod:`exoactor.robot.g1.joint_order` - the IsaacLab joint order used by SONIC and the learned policies.
"""
