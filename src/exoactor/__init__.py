"""exoactor: a humanoid robot imagines a task as a human video, then performs it."""

__version__ = "0.1.0"
