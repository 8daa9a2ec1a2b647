"""The simulated world: the Unitree G1 with Dex3-1 hands, benchmark scenes, cameras, success checks."""
