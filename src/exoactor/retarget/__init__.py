"""retarget stage: HumanMotion + the scene's objects -> RobotMotion (the G1 reference, 50 Hz).

* :mod:`exoactor.retarget.targets` - the G1's keypoints and skeleton; the human motion scaled to them;
* :mod:`exoactor.retarget.solver` - differential IK (mink), smoothing, :func:`~exoactor.retarget.solver.retarget`;
* :mod:`exoactor.retarget.dex3` - human hands -> Dex3-1 joint targets;
* :mod:`exoactor.retarget.mink` - the ``mink`` provider (the default).
"""
