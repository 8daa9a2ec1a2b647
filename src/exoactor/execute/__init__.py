"""execute stage: HumanMotion -> Execution (simulated or real G1)."""
