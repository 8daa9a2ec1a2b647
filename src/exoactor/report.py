"""One self-contained HTML page per run: plan, views, videos side by side, timings, metrics."""

from __future__ import annotations

import base64
import html
import io
from pathlib import Path
from typing import Any

import numpy as np

from exoactor.artifacts.io import atomic_write_text, read_json
from exoactor.errors import ExoActorError
from exoactor.stages import PROVIDER_STAGES

#: The reference system's latency per second of video (ExoActor, BAAI), by our stage names.
REFERENCE_S_PER_VIDEO_S: dict[str, float] = {
    "embody": 10.7,
    "plan": 2.5,
    "imagine": 13.2,
    "body": 2.9,
    "hands": 16.4,
}
REFERENCE_TOTAL_S_PER_VIDEO_S = 45.7


def _b64(path: Path) -> str:
    return base64.b64encode(path.read_bytes()).decode("ascii")


def _img(path: Path, alt: str, width: int = 400) -> str:
    if not path.is_file():
        return f"<p class=missing>{html.escape(alt)}: not produced</p>"
    return f'<figure><img src="data:image/png;base64,{_b64(path)}" width="{width}" alt="{html.escape(alt)}"><figcaption>{html.escape(alt)}</figcaption></figure>'


def _video(path: Path, label: str, width: int = 400) -> str:
    if not path.is_file():
        return f"<figure><p class=missing>{html.escape(label)}: not produced</p></figure>"
    return (
        f'<figure><video src="data:video/mp4;base64,{_b64(path)}" width="{width}" controls loop muted autoplay playsinline></video>'
        f"<figcaption>{html.escape(label)}</figcaption></figure>"
    )


def _png_of(fig: Any) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90, bbox_inches="tight")
    import matplotlib.pyplot as plt

    plt.close(fig)
    return f'<img src="data:image/png;base64,{base64.b64encode(buf.getvalue()).decode()}">'


def stream_section(run_dir: Path) -> list[str]:
    """A streamed run: time to first motion, stalls, each segment's timeline, the closed loop's attempts."""
    p = run_dir / "stream.json"
    if not p.is_file():
        return []
    try:
        st = read_json(p)
    except ExoActorError:
        return []
    ttfm = st.get("time_to_first_motion_s")
    head = (
        f"<h2>Streaming</h2><p>time to first motion <b>{'-' if ttfm is None else f'{ttfm:.2f} s'}</b>"
        f" (from the instruction, pipeline warm; warm-up {st.get('warm_up_s', 0):.1f} s) · stalls "
        f"{len(st.get('stalls', []))} ({st.get('stall_s', 0):.2f} s; after the first segment: "
        f"{st.get('stalls_after_first_segment', 0)}) · compute per second of video "
        f"{st.get('compute_s_per_video_s') or '-'} · wall per second of video {st.get('wall_s_per_video_s') or '-'}</p>"
    )
    rows = [
        [s["segment"] + 1, s["attempt"], " ".join(s.get("actions", [])), f"{s['video_s']:.2f}", f"{s['imagine_s']:.2f}",
         f"{s['estimate_s']:.2f}", f"{s['retarget_s']:.2f}", f"{s['ready_t']:.2f}", s.get("error") or ""]
        for s in st.get("segments", [])
    ]  # fmt: skip
    out = [
        head,
        _table(
            rows,
            [
                "segment",
                "attempt",
                "actions",
                "video s",
                "imagine s",
                "estimate s",
                "retarget s",
                "ready at s",
                "error",
            ],
        ),
    ]
    if st.get("attempts"):
        arows = [
            [a["segment"] + 1, a["attempt"], "met" if a["ok"] else "MISSED", "; ".join(a["verdicts"])]
            for a in st["attempts"]
        ]
        out.append(
            "<h3>Closed loop: each segment's end state</h3>"
            + _table(arows, ["segment", "attempt", "end state", "checks"])
        )
    out.append(stream_plot(st))
    return out


def stream_plot(st: dict[str, Any]) -> str:
    """Segments ready over wall-clock time, first motion and stalls."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(9, 2.2))
    for s in st.get("segments", []):
        end = s["ready_t"]
        start = end - s["imagine_s"] - s["estimate_s"] - s["retarget_s"]
        ax.barh(s["segment"], end - start, left=start, color="#2a7ab0" if not s.get("error") else "#c33")
    if st.get("time_to_first_motion_s") is not None:
        ax.axvline(st["time_to_first_motion_s"], color="#2a2", label="first motion")
    for k, stall in enumerate(st.get("stalls", [])):
        ax.axvspan(stall["t"], stall["t"] + stall["s"], color="#e90", alpha=0.4, label="stall" if k == 0 else None)
    ax.set_xlabel("s since the instruction")
    ax.set_ylabel("segment")
    ax.legend(loc="lower right", fontsize=8)
    return _png_of(fig)


def latency_plot(stages: dict[str, Any]) -> str:
    """A bar chart of seconds of compute per second of video: this run vs the reference system."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = [s for s in PROVIDER_STAGES if s in stages]
    ours = [stages[s].get("s_per_video_s") or 0.0 for s in names]
    ref = [REFERENCE_S_PER_VIDEO_S.get(s, np.nan) for s in names]
    fig, ax = plt.subplots(figsize=(6.5, 3))
    x = np.arange(len(names))
    ax.bar(x - 0.2, ref, 0.4, label="reference system (GPU)", color="#bbb")
    ax.bar(x + 0.2, ours, 0.4, label="this run", color="#2a7ab0")
    ax.set_xticks(x, names)
    ax.set_ylabel("s of compute / s of video")
    ax.legend(frameon=False)
    ax.set_title("latency per stage")
    return _png_of(fig)


def _physcheck_attempts(run_dir: Path) -> str:
    """The imagined motions that failed the physics check and were imagined again (attempts/physcheck-k)."""
    rows = []
    for d in sorted((run_dir / "attempts").glob("physcheck-*")):
        try:
            rep = read_json(d / "physcheck.json")
        except ExoActorError:
            continue
        rows.append([d.name, "; ".join(rep.get("reasons", [])) or "failed", str(d.relative_to(run_dir))])
    if not rows:
        return ""
    return f"<p>imagined again {len(rows)} time(s) after a failed check:</p>" + _table(
        rows, ["attempt", "failed", "kept in"]
    )


def tracking_plot(run_dir: Path) -> str:
    """Per-frame tracking error and pelvis height of the execution, when recorded."""
    p = run_dir / "execution.npz"
    if not p.is_file():
        return ""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from exoactor.artifacts import Execution

    try:
        ex = Execution.load(p)
    except ExoActorError:
        return ""
    series = ex.metrics.get("series", {}) if isinstance(ex.metrics.get("series"), dict) else {}
    fig, ax = plt.subplots(figsize=(6.5, 3))
    ax.plot(ex.time, ex.root_pos[:, 2], label="pelvis height (m)")
    for name, values in series.items():
        v = np.asarray(values, dtype=float)
        if v.ndim == 1 and len(v) == len(ex.time):
            ax.plot(ex.time, v, label=name)
    for ev in ex.events:
        if ev.get("type") == "fell":
            ax.axvline(float(ev.get("t", 0)), color="r", ls="--", label="fell")
    ax.set_xlabel("time (s)")
    ax.legend(frameon=False, fontsize=8)
    ax.set_title(f"execution ({ex.controller}{', kinematic replay' if ex.kinematic else ''})")
    return _png_of(fig)


def _table(rows: list[list[str]], header: list[str]) -> str:
    h = "".join(f"<th>{html.escape(c)}</th>" for c in header)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in r) + "</tr>" for r in rows)
    return f"<table><tr>{h}</tr>{body}</table>"


def _failure_detail(run_dir: Path) -> list[str]:
    """The task's verdict: which predicate failed and by how much (and a fall), from the Execution."""
    try:
        from exoactor.artifacts import Execution

        ex = Execution.load(run_dir / "execution.npz")
    except ExoActorError:
        return []
    if ex.success is None and not ex.fell:
        return []
    details = ex.metrics.get("success_details") or {}
    verdict = "succeeded" if ex.success and not ex.fell else "FAILED"
    out = [f"<h2>Task {verdict}</h2>"]
    reason = ex.metrics.get("failure_reason")
    if reason and verdict == "FAILED":
        out.append(f"<p>{html.escape(str(reason))}</p>")
    preds = details.get("predicates") or []
    if preds:
        rows = [
            [
                p.get("name", ""),
                str(p.get("value")),
                f"{p.get('op', '')} {p.get('limit')}",
                "yes" if p.get("ok") else "no",
                "" if p.get("margin") is None else f"{p['margin']:.3g} {p.get('unit', '')}",
            ]
            for p in preds
        ]
        out.append(_table(rows, ["predicate", "value", "needs", "met", "margin"]))
    return out


def write_report(run_dir: Path) -> Path:
    """Write `run_dir/report.html` from whatever the run has produced so far."""
    run_dir = Path(run_dir)
    parts: list[str] = []
    instr = ""
    try:
        instr = read_json(run_dir / "instruction.json").get("text", "")
    except ExoActorError:
        pass
    status: dict[str, Any] = {}
    try:
        status = read_json(run_dir / "run.json")
    except ExoActorError:
        pass
    parts.append(f"<h1>{html.escape(instr or run_dir.name)}</h1>")
    st = status.get("status", "unknown")
    line = f"status: <b>{html.escape(st)}</b>"
    if status.get("error"):
        line += f" at stage <b>{html.escape(str(status.get('failed_stage')))}</b>: {html.escape(status['error'])}"
    parts.append(f"<p>{line}</p><p class=dim>{html.escape(str(run_dir))}</p>")

    # plan
    try:
        from exoactor.artifacts import Plan

        plan = Plan.load(run_dir / "plan.json")
        rows = [
            [str(i + 1), s.action, s.target or "", s.destination or "", s.hand or "", s.description]
            for i, s in enumerate(plan.steps)
        ]
        parts.append(f"<h2>Plan ({html.escape(plan.provider)})</h2>")
        parts.append(_table(rows, ["#", "action", "target", "destination", "hand", "description"]))
        if plan.unknown_words:
            parts.append(f"<p>words not understood: {html.escape(', '.join(plan.unknown_words))}</p>")
        parts.append(f"<p class=prompt>{html.escape(plan.prompt.text())}</p>")
    except ExoActorError:
        pass

    parts.append("<h2>Views</h2><div class=row>")
    parts.append(_img(run_dir / "observation.png", "observation (robot view)"))
    parts.append(_img(run_dir / "human_view.png", "embodiment transfer (human view)"))
    parts.append("</div>")

    ex_label = "robot execution"
    try:
        from exoactor.artifacts import Execution

        ex = Execution.load(run_dir / "execution.npz")
        ex_label = f"robot execution ({ex.controller}{' — KINEMATIC REPLAY, no physics' if ex.kinematic else ''})"
    except ExoActorError:
        pass
    parts.extend(_failure_detail(run_dir))
    parts.append("<h2>Videos</h2><div class=row>")
    parts.append(_video(run_dir / "video.mp4", "imagined video"))
    parts.append(_video(run_dir / "overlay.mp4", "estimated body + hands"))
    parts.append(_video(run_dir / "execution.mp4", ex_label))
    parts.append("</div>")
    if (run_dir / "run.rrd").is_file():  # written by `exoactor view`
        parts.append(
            '<p>3D view (scene, robot, human, camera, one timeline): <a href="run.rrd">run.rrd</a>; '
            "open it with <code>rerun run.rrd</code></p>"
        )

    # timings
    try:
        tim = read_json(run_dir / "timings.json")
        rows = []
        for s, r in tim.get("stages", {}).items():
            spv = r.get("s_per_video_s")
            ref = REFERENCE_S_PER_VIDEO_S.get(s)
            rows.append(
                [
                    s,
                    r.get("provider") or "-",
                    f"{r['compute_s']:.2f}",
                    "-" if spv is None else f"{spv:.2f}",
                    "-" if ref is None else f"{ref:.1f}",
                    "yes" if r.get("cached") else "",
                ]
            )
        tot = tim.get("total_s_per_video_s")
        rows.append(
            [
                "total",
                "",
                f"{tim.get('total_compute_s', 0):.2f}",
                "-" if tot is None else f"{tot:.2f}",
                f"{REFERENCE_TOTAL_S_PER_VIDEO_S:.1f}",
                "",
            ]
        )
        parts.append("<h2>Latency</h2>")
        parts.append(
            _table(rows, ["stage", "provider", "compute s", "s per video s", "reference s per video s", "cached"])
        )
        if tim.get("video_duration_s"):
            parts.append(latency_plot(tim.get("stages", {})))
    except ExoActorError:
        pass

    parts.extend(stream_section(run_dir))

    # metrics
    metrics_path = run_dir / "metrics.json"
    if metrics_path.is_file():
        try:
            m = read_json(metrics_path)
            rows = [
                [k, f"{v:.4g}" if isinstance(v, float) else str(v)]
                for k, v in m.items()
                if k not in ("schema_version", "schema") and not isinstance(v, (dict, list))
            ]
            parts.append("<h2>Metrics</h2>" + _table(rows, ["metric", "value"]))
        except ExoActorError:
            pass
    pc = run_dir / "physcheck.json"
    if pc.is_file():
        try:
            rep = read_json(pc)
            verdict = "plausible" if rep.get("ok") else "IMPLAUSIBLE"
            reasons = "".join(f"<li>{html.escape(r)}</li>" for r in rep.get("reasons", []))
            parts.append(f"<h2>Physics check of the imagined motion: {verdict}</h2><ul>{reasons}</ul>")
            parts.append(_physcheck_attempts(run_dir))
            parts.append(_img(run_dir / "physcheck.png", "physics check (per-check series and limits)", width=900))
        except ExoActorError:
            pass
    plot = tracking_plot(run_dir)
    if plot:
        parts.append("<h2>Execution</h2>" + plot)

    css = (
        "body{font-family:system-ui,sans-serif;margin:24px;max-width:1400px}"
        ".row{display:flex;gap:12px;flex-wrap:wrap}figure{margin:0}figcaption{font-size:13px;color:#444}"
        "table{border-collapse:collapse;margin:8px 0}td,th{border:1px solid #ccc;padding:3px 8px;font-size:13px}"
        ".dim{color:#777;font-size:12px}.missing{color:#999;width:400px}.prompt{font-style:italic;max-width:900px}"
    )
    doc = f"<!doctype html><html><head><meta charset=utf-8><title>exoactor: {html.escape(instr)}</title><style>{css}</style></head><body>{''.join(parts)}</body></html>"
    out = run_dir / "report.html"
    atomic_write_text(out, doc)
    return out
