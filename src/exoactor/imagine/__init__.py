"""imagine stage: HumanView + Plan -> Video of a human doing the task."""
