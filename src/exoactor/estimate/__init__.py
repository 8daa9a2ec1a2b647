"""Motion estimation: Video -> BodyMotion (body stage) and HandMotion (hands stage)."""
