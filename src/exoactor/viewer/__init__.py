"""`exoactor view`: a run as one rerun recording (``run.rrd``): scene, robot, human, camera, video.

rerun-sdk is optional (the ``viewer`` extra) and imported only when a recording is written.
"""

from exoactor.viewer.recording import RRD_NAME, RecordingResult, is_run_dir, record_run

__all__ = ["RRD_NAME", "RecordingResult", "is_run_dir", "record_run"]
