"""Simulated controllers (MuJoCo): one file per provider named after it, sharing one rollout loop.

Providers: ``kinematic`` (replay, no physics), ``loco+arms`` (loco_arms.py), ``wbt`` (wbt.py).
Libraries: ``rollout`` (the execution loop, fall detection, the Execution), ``metrics``,
``path_follower`` (root path -> velocity commands), ``loco_policy`` (holosoma's ONNX locomotion policy).
"""
