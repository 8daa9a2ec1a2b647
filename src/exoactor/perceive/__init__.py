"""perceive stage: Observation -> ObjectPoses (where the objects are, with their uncertainty).

Providers: ``sim`` (the simulator's poses with a noise model standing in for an RGB-D object
pose estimator; the default), ``file`` (the user's JSON), ``none`` (no poses: video only).
"""
