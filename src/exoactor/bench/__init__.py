"""Benchmarks: tiers B/A/S end to end, estimation and execution benchmarks."""
