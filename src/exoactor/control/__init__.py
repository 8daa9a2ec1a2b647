"""Whole-body control of the G1: task-space inverse dynamics on MuJoCo's own dynamics.

Shared by the simulated execute providers (and usable on a real robot's state): the robot's
floating-base quantities (:mod:`.dynamics`), acceleration tasks (:mod:`.tasks`), contacts
(:mod:`.contacts`), the QP (:mod:`.tsid`), the stance controller (:mod:`.stance`), stepping
(:mod:`.stepping`), one actuator model for torque, PD + feed-forward and policies
(:mod:`.actuation`), and reading a reference motion: forward kinematics and anchoring
(:mod:`.reference`), phases (:mod:`.phases`), hands and objects (:mod:`.manipulation`),
per-frame targets (:mod:`.targets`).
"""
