"""body stage providers: Video -> BodyMotion."""
