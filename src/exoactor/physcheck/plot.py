"""A PNG of a physics-check report: one panel per check with its series, threshold and failing frames."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from exoactor.artifacts.motion import HumanMotion
from exoactor.physcheck.report import PhysReport


def plot_report(motion: HumanMotion, report: PhysReport, path: Path) -> Path:
    """Write a PNG with one panel per check that has a time series, its threshold and failing frames."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    checks = [c for c in report.checks if c.series is not None and c.series.size]
    n = max(len(checks), 1)
    cols = 3
    rows = (n + cols - 1) // cols
    fig, axes = plt.subplots(rows, cols, figsize=(4 * cols, 2.2 * rows), squeeze=False)
    t = np.arange(motion.n_frames) / motion.fps
    for ax, c in zip(axes.ravel(), checks, strict=False):
        assert c.series is not None
        s = np.where(np.isfinite(c.series), c.series, np.nan)
        ax.plot(t[: s.size], s, lw=1, color="tab:blue")
        ax.axhline(c.threshold, color="tab:red", ls="--", lw=1)
        if c.frames:
            fr = np.asarray(c.frames)
            fr = fr[fr < s.size]
            ax.scatter(t[fr], s[fr], s=6, color="tab:red", zorder=3)
        ax.set_title(f"{c.name} {'ok' if c.passed else 'FAIL'}", fontsize=9, color="black" if c.passed else "red")
        ax.set_ylabel(c.unit, fontsize=8)
        ax.tick_params(labelsize=7)
    for ax in axes.ravel()[len(checks) :]:
        ax.axis("off")
    fig.suptitle(f"physics check: {'ok' if report.ok else 'FAILED (' + ', '.join(report.failed) + ')'}", fontsize=10)
    fig.tight_layout()
    path = Path(path)
    fig.savefig(path, dpi=80)
    plt.close(fig)
    return path
