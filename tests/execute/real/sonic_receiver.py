"""A replica of a SONIC deployment's ZMQ input rules, for testing what our streamer sends.

The rules (from SONIC's receiver): the input thread wakes every 10 ms and keeps only the newest
message that arrived since its last tick (older ones are dropped); frames are appended by
frame_index, and a message whose first new frame is not the next index is a gap, which makes
SONIC catch up (playback restarts from the newest frames, heading re-anchored); playback runs
at 50 Hz, PLAYBACK_LAG frames behind the newest frame received; the hand angles of the kept
message apply at once; `timestamp_monotonic` feeds the stream-absent alarm.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from exoactor.execute.real.sonic.protocol import decode_message

TICK_S = 0.010
FRAME_S = 0.020
PLAYBACK_LAG = 10


@dataclass
class ReceiverReport:
    catch_ups: int = 0
    dropped_messages: int = 0
    played: list[int] = field(default_factory=list)  # frame_index played, in order
    played_at: list[float] = field(default_factory=list)
    hands_at_play: list[np.ndarray] = field(default_factory=list)  # left hand angles applied when each frame played
    stamps: list[float] = field(default_factory=list)


def replay(arrivals: list[tuple[float, bytes]], *, enable_at: float = 0.0, phase_s: float = 0.0031) -> ReceiverReport:
    """Run the receiver rules over (arrival time, message) pairs; messages before `enable_at` are ignored."""
    rep = ReceiverReport()
    arrivals = [a for a in arrivals if a[0] >= enable_at]
    if not arrivals:
        return rep
    newest: int | None = None  # newest frame_index received
    cursor: int | None = None  # next frame_index to play
    hands = np.zeros(7)
    i = 0
    t = enable_at + phase_s
    end = arrivals[-1][0] + 1.0
    next_play = t
    while t < end:
        batch = []
        while i < len(arrivals) and arrivals[i][0] <= t:
            batch.append(arrivals[i][1])
            i += 1
        if batch:
            rep.dropped_messages += len(batch) - 1
            _, f = decode_message(batch[-1])  # only the newest message of the tick
            idx = f["frame_index"]
            rep.stamps.append(float(f["timestamp_monotonic"][0]))
            hands = f["left_hand_joints"].copy()
            if newest is None:
                newest = int(idx[-1])
                cursor = max(int(idx[0]), newest - PLAYBACK_LAG)
            else:
                new = idx[idx > newest]
                if new.size:
                    if new[0] > newest + 1:  # a gap in frame_index: SONIC catches up
                        rep.catch_ups += 1
                        cursor = int(new[-1]) - PLAYBACK_LAG
                    newest = int(new[-1])
        if newest is not None and cursor is not None and t >= next_play:
            next_play += FRAME_S
            if cursor <= newest - PLAYBACK_LAG:
                rep.played.append(cursor)
                rep.played_at.append(t)
                rep.hands_at_play.append(hands.copy())
                cursor += 1
        t += TICK_S
    return rep


class SimClock:
    """The sender's clock in a simulation: sleep advances it; stalls jump it at given message numbers."""

    def __init__(self, stalls: dict[int, float] | None = None) -> None:
        self.t = 0.0
        self.stalls = dict(stalls or {})
        self.sent = 0

    def clock(self) -> float:
        return self.t

    def sleep(self, dt: float) -> None:
        self.t += dt


def simulate(streamer, *, stalls: dict[int, float] | None = None, jitter_s: float = 0.0, seed: int = 0, start=None):  # type: ignore[no-untyped-def]
    """Run a SonicStreamer on a simulated clock; returns (arrivals, record). Messages arrive in order,
    each delayed by |N(0, jitter_s)| (scheduling and network); a stall before message k holds the sender."""
    rng = np.random.default_rng(seed)
    sim = SimClock(stalls)
    streamer.clock, streamer.sleep = sim.clock, sim.sleep
    arrivals: list[tuple[float, bytes]] = []

    from exoactor.execute.real.sonic.protocol import encode_message

    def send(fields) -> int:  # type: ignore[no-untyped-def]
        k = len(arrivals)
        if k in sim.stalls:
            sim.t += sim.stalls[k]
        data = encode_message(fields)
        t = sim.t + abs(rng.normal(0.0, jitter_s)) if jitter_s else sim.t
        arrivals.append((max(t, arrivals[-1][0] if arrivals else 0.0), data))
        return len(data)

    record = streamer.run(send, realtime=True, start=start)
    return arrivals, record
