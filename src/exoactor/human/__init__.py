"""The synthetic human: the anny body model, IK posing, procedural motion and MuJoCo rendering.

- `body_model`: anny (MakeHuman mesh, 104-bone rig) with a managed cache (`~/.cache/exoactor/anny`).
- `skeleton`: anny bones -> SMPL-24 joints and MediaPipe-21 hand keypoints; the wrist frame.
- `posing`: world targets (pelvis, heading, trunk bend, feet, hands, grip) -> a posed mesh + ground truth.
- `motion`: a Plan's atomic actions in a scene -> pose targets, grasp states, moved objects.
- `render`: the body as MuJoCo meshes inside a task scene, rendered from the robot's camera.
- `avatar`: who the person is for a seed (shape, outfit, pace), shared by `embody sim` and
  `imagine synthetic`; `ground_truth()` packs the motion shown as a HumanMotion.
- `clip`: the one avatar -> motion -> pose -> render chain (`perform`, `perform_in_view`,
  `HumanClip.render`, `HumanClip.ground_truth`), used by embody, imagine and the benchmarks.

Heavy dependencies (torch, anny, mujoco) are imported by the submodules, not here.
"""
