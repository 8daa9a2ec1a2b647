"""retarget stage: HumanMotion + the perceived objects + the plan -> RobotMotion (the G1 reference, 50 Hz).

* :mod:`exoactor.retarget.targets` - the G1's keypoints and skeleton; the human motion scaled to them;
* :mod:`exoactor.retarget.solver` - differential IK (mink), smoothing, :func:`~exoactor.retarget.solver.retarget`;
* :mod:`exoactor.retarget.dex3` - human hands -> Dex3-1 joint targets;
* object-grounded contacts: :mod:`~exoactor.retarget.contacts` (segments from plan, motion and poses),
  :mod:`~exoactor.retarget.grasps` (grasp, place and surface frames from geometry),
  :mod:`~exoactor.retarget.reach` (IK reach checks, stances), :mod:`~exoactor.retarget.timeline`
  (holds, root on the stances), :mod:`~exoactor.retarget.interaction` (the schedule),
  :mod:`~exoactor.retarget.handpath` (per-frame hand targets, annotations),
  :mod:`~exoactor.retarget.arms` (the working arm on a comfortable IK branch);
* :mod:`exoactor.retarget.mink` - the ``mink`` provider (the default).
"""
