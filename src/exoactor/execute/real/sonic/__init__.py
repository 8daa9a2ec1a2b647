"""SONIC (GR00T whole-body control): the ZMQ streaming protocol, the SMPL conversion and the ``sonic`` provider."""
