"""SONIC's ZMQ streaming protocol: one packed message = topic + 1280-byte JSON header + fields.

A message is ``topic bytes`` + a JSON header padded with NUL to 1280 bytes
(``{"v": 3, "endian": "le", "count": 1, "fields": [{"name", "dtype", "shape"}, ...]}``) + the
fields' little-endian C-order bytes concatenated in header order. SONIC reads a field of
shape ``[]`` as zero bytes, so scalars are always sent with shape ``[1]``.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np
from numpy.typing import NDArray

from exoactor.errors import ConfigError, InputError

HEADER_SIZE = 1280  # bytes, SONIC's fixed JSON header block
PROTOCOL_VERSION = 3
DEFAULT_TOPIC = "pose"

_DTYPES: dict[str, np.dtype] = {
    "f32": np.dtype("<f4"),
    "f64": np.dtype("<f8"),
    "i32": np.dtype("<i4"),
    "i64": np.dtype("<i8"),
    "u8": np.dtype("u1"),
    "bool": np.dtype("?"),
}


def encode_message(fields: dict[str, NDArray], *, version: int = PROTOCOL_VERSION, topic: str = DEFAULT_TOPIC) -> bytes:
    """Pack named arrays into one SONIC packed message (topic + JSON header + payload)."""
    names = {v.str: k for k, v in _DTYPES.items()}
    desc: list[dict[str, Any]] = []
    payload: list[bytes] = []
    for name, value in fields.items():
        a = np.asarray(value)
        if a.ndim == 0:
            a = a.reshape(1)  # SONIC reads a shape of [] as zero elements
        if a.dtype == np.float64:
            a = a.astype("<f8")
        elif a.dtype.kind == "f":
            a = a.astype("<f4")
        elif a.dtype.kind in "iu" and a.dtype != np.uint8:
            a = a.astype("<i8" if a.dtype.itemsize > 4 else "<i4")
        code = names.get(a.dtype.str) or ("bool" if a.dtype == np.bool_ else None)
        if code is None:
            raise ConfigError(f"SONIC message field '{name}': unsupported dtype {a.dtype}")
        desc.append({"name": name, "dtype": code, "shape": list(a.shape)})
        payload.append(np.ascontiguousarray(a).tobytes())
    header = json.dumps({"v": version, "endian": "le", "count": 1, "fields": desc}, separators=(",", ":")).encode()
    if len(header) > HEADER_SIZE:
        raise ConfigError(f"SONIC message header too large ({len(header)} > {HEADER_SIZE} bytes)")
    return topic.encode() + header.ljust(HEADER_SIZE, b"\x00") + b"".join(payload)


def decode_message(data: bytes, *, topic: str = DEFAULT_TOPIC) -> tuple[dict[str, Any], dict[str, NDArray]]:
    """Unpack a SONIC packed message into (header, {field: array}); checks sizes exactly."""
    prefix = topic.encode()
    if not data.startswith(prefix):
        raise InputError(f"SONIC message does not start with topic '{topic}'")
    body = data[len(prefix) :]
    if len(body) < HEADER_SIZE:
        raise InputError(f"SONIC message too short ({len(body)} < {HEADER_SIZE} header bytes)")
    header = json.loads(body[:HEADER_SIZE].split(b"\x00", 1)[0])
    if header.get("endian", "le") != "le":
        raise InputError("SONIC message: only little-endian payloads are supported")
    out: dict[str, NDArray] = {}
    offset = HEADER_SIZE
    for f in header["fields"]:
        dt = _DTYPES[f["dtype"]]
        n = int(np.prod(f["shape"], dtype=np.int64)) if f["shape"] else 0  # SONIC: [] holds nothing
        nbytes = n * dt.itemsize
        if offset + nbytes > len(body):
            raise InputError(f"SONIC message: field '{f['name']}' runs past the end of the payload")
        out[f["name"]] = np.frombuffer(body, dtype=dt, count=n, offset=offset).reshape(f["shape"] or (0,))
        offset += nbytes
    if offset != len(body):
        raise InputError(f"SONIC message: {len(body) - offset} trailing bytes after the declared fields")
    return header, out
