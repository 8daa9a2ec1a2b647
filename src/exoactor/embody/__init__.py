"""embody stage: Observation -> HumanView (a human where the robot stands)."""
