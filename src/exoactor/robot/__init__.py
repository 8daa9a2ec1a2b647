"""Robots as units of their own: constants beside the model, shared by sim, execute and the real-robot outputs."""
