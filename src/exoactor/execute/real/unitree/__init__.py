"""A real G1 over DDS: LowCmd/LowState I/O (``io``), the safety-filtered low-level loop and the ``unitree`` provider."""
