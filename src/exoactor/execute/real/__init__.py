"""Real outputs: a SONIC deployment over ZMQ (``sonic/``) and a real G1 over DDS (``unitree/``).

Nothing here imports the simulator: the robot's constants come from :mod:`exoactor.robot.g1`.
"""
