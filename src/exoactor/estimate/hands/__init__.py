"""hands stage providers: Video (+ BodyMotion) -> HandMotion."""
