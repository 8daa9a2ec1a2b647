"""The ZMQ side of a SONIC stream: the protocol-v3 publisher and the deployment's state monitor."""

from __future__ import annotations

import threading
import time
from typing import Any

import numpy as np
from numpy.typing import NDArray

from exoactor.errors import ModelUnavailable, ProviderError
from exoactor.execute.real.sonic.protocol import DEFAULT_TOPIC, PROTOCOL_VERSION, encode_message

DEFAULT_ADDRESS = "tcp://127.0.0.1:5556"


# --- publisher -----------------------------------------------------------------------


class SonicPublisher:
    """A ZMQ publisher of SONIC protocol messages with one fixed protocol version.

    An XPUB socket, so that we can see the deployment's subscription arrive and never
    stream into the void (plain PUB drops messages sent before a subscriber joined).
    """

    def __init__(self, address: str = DEFAULT_ADDRESS, topic: str = DEFAULT_TOPIC, version: int = PROTOCOL_VERSION):
        try:
            import zmq
        except ImportError:
            raise ModelUnavailable("provider 'sonic' needs the Python package 'pyzmq': pip install pyzmq") from None
        self._zmq = zmq
        self.topic = topic
        self.version = int(version)
        self._ctx = zmq.Context()
        self._sock = self._ctx.socket(zmq.XPUB)
        self._sock.setsockopt(zmq.LINGER, 1000)
        self._sock.setsockopt(zmq.SNDHWM, 10_000)
        try:
            self._sock.bind(address)
        except zmq.ZMQError as e:
            self.close()
            raise ProviderError(f"sonic: cannot bind {address} ({e})") from None
        self.endpoint: str = self._sock.getsockopt_string(zmq.LAST_ENDPOINT)
        self._subscribed = False

    def wait_for_subscriber(self, timeout_s: float) -> bool:
        """Block until a subscriber to our topic joins (True) or `timeout_s` passes (False)."""
        deadline = time.monotonic() + timeout_s
        prefix = self.topic.encode()
        while not self._subscribed:
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            if not self._sock.poll(int(min(left, 0.1) * 1000) + 1):
                continue
            msg = self._sock.recv()
            # XPUB subscription frames: b"\x01" + prefix to subscribe, b"\x00" + prefix to leave
            if msg[:1] == b"\x01" and prefix.startswith(msg[1:]):
                self._subscribed = True
        return True

    def send(self, fields: dict[str, NDArray]) -> int:
        """Publish one message; returns its size in bytes."""
        data = encode_message(fields, version=self.version, topic=self.topic)
        self._sock.send(data)
        return len(data)

    def close(self) -> None:
        self._sock.close()
        self._ctx.term()

    def __enter__(self) -> SonicPublisher:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class SonicStateMonitor:
    """Listens to a SONIC deployment's state output (``--zmq-out-port 5557 --zmq-out-topic g1_debug``).

    Its messages are ``topic`` + a msgpack map; we keep the latest ``body_q`` (29, MuJoCo =
    our MJCF order), ``base_quat`` (wxyz) and ``left_hand_q``/``right_hand_q`` (7,).
    """

    def __init__(self, address: str, topic: str = "g1_debug") -> None:
        try:
            import msgpack
            import zmq
        except ImportError as e:
            raise ModelUnavailable(
                f"provider 'sonic': reading the robot state needs '{e.name}': pip install {e.name}"
            ) from None
        self._unpack = msgpack.unpackb
        self._topic = topic.encode()
        self._ctx = zmq.Context()
        self._sock = self._ctx.socket(zmq.SUB)
        self._sock.setsockopt(zmq.LINGER, 0)
        self._sock.setsockopt(zmq.SUBSCRIBE, self._topic)
        self._sock.connect(address)
        self._lock = threading.Lock()
        self._latest: dict[str, Any] | None = None
        self.received = 0
        self._halt = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._halt.is_set():
            if not self._sock.poll(20):
                continue
            data = self._sock.recv()
            if not data.startswith(self._topic):
                continue
            try:
                msg = self._unpack(data[len(self._topic) :], raw=False)
                state = {
                    "body_q": np.asarray(msg["body_q"], dtype=np.float64).reshape(29),
                    "base_quat": np.asarray(msg["base_quat"], dtype=np.float64).reshape(4),
                    "hand_q": np.stack(
                        [
                            np.asarray(msg.get("left_hand_q", np.zeros(7)), dtype=np.float64).reshape(7),
                            np.asarray(msg.get("right_hand_q", np.zeros(7)), dtype=np.float64).reshape(7),
                        ]
                    ),
                }
            except (ValueError, KeyError, TypeError):
                continue  # not a state message we understand
            with self._lock:
                self._latest = state
                self.received += 1

    def latest(self) -> dict[str, Any] | None:
        with self._lock:
            return self._latest

    def close(self) -> None:
        self._halt.set()
        self._thread.join(timeout=1.0)
        self._sock.close()
        self._ctx.term()
