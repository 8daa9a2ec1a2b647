"""Atomic file writes and validated array I/O shared by every artifact.

Artifacts are `.npz` (arrays) and `.json` (metadata) files carrying a
``schema_version``; never pickles. Every write goes to a temporary file in the
same folder and is renamed into place, so a killed process never leaves a
half-written artifact that a later run would trust.
"""

from __future__ import annotations

import io
import json
import os
import tempfile
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from exoactor.errors import ArtifactError

SCHEMA_VERSION = 1

# A shape spec is a tuple of ints (fixed size) or str (a symbolic size, e.g. "T",
# that must agree across all fields of one artifact).
ShapeSpec = tuple[int | str, ...]


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def finalize_mode(tmp: str | Path) -> None:
    """Give a temp file (mkstemp makes them 0600) the mode a normal file would get."""
    os.chmod(tmp, 0o666 & ~_umask())


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write `data` to `path` via a temp file + rename (atomic on POSIX)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        finalize_mode(tmp)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_text(path: Path, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def _json_default(o: Any) -> Any:
    if isinstance(o, np.ndarray):
        return o.tolist()
    if isinstance(o, np.generic):
        return o.item()
    if isinstance(o, Path):
        return str(o)
    raise TypeError(f"not JSON serialisable: {type(o).__name__}")


def write_json(path: Path, obj: Mapping[str, Any], *, schema: str | None = None) -> None:
    """Write a JSON artifact atomically, stamping ``schema_version`` (and ``schema``)."""
    payload = dict(obj)
    payload.setdefault("schema_version", SCHEMA_VERSION)
    if schema is not None:
        payload.setdefault("schema", schema)
    atomic_write_text(path, json.dumps(payload, indent=2, default=_json_default, allow_nan=False))


def read_json(path: Path, *, schema: str | None = None) -> dict[str, Any]:
    """Read a JSON artifact; errors name the file."""
    path = Path(path)
    if not path.is_file():
        raise ArtifactError(f"{path}: file not found")
    try:
        obj = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise ArtifactError(f"{path}: not valid JSON ({e})") from None
    if not isinstance(obj, dict):
        raise ArtifactError(f"{path}: expected a JSON object at the top level")
    check_schema_version(path, obj.get("schema_version"))
    if schema is not None and obj.get("schema", schema) != schema:
        raise ArtifactError(f"{path}: field 'schema': expected '{schema}', got '{obj.get('schema')}'")
    return obj


def check_schema_version(path: Path, version: Any) -> None:
    if version is None:
        raise ArtifactError(f"{path}: field 'schema_version': missing")
    if int(version) > SCHEMA_VERSION:
        raise ArtifactError(f"{path}: field 'schema_version': {version} is newer than this exoactor ({SCHEMA_VERSION})")


def write_npz(path: Path, arrays: Mapping[str, Any], meta: Mapping[str, Any] | None = None) -> None:
    """Write arrays (+ a JSON `meta` dict stored as a string array) atomically, no pickles."""
    buf = io.BytesIO()
    out: dict[str, NDArray] = {k: np.asarray(v) for k, v in arrays.items() if v is not None}
    meta = dict(meta or {})
    meta.setdefault("schema_version", SCHEMA_VERSION)
    out["__meta__"] = np.array(json.dumps(meta, default=_json_default, allow_nan=False))
    for k, v in out.items():
        if v.dtype == object:
            raise ArtifactError(f"{path}: field '{k}': object arrays are not allowed")
    np.savez_compressed(buf, **out)  # type: ignore[arg-type]
    atomic_write_bytes(path, buf.getvalue())


def read_npz(path: Path) -> tuple[dict[str, NDArray], dict[str, Any]]:
    """Read arrays and meta from an `.npz` artifact (never unpickles); errors name the file."""
    path = Path(path)
    if not path.is_file():
        raise ArtifactError(f"{path}: file not found")
    try:
        with np.load(path, allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
    except (zipfile.BadZipFile, ValueError, OSError, EOFError) as e:
        raise ArtifactError(f"{path}: not a readable .npz file ({e})") from None
    meta_raw = arrays.pop("__meta__", None)
    if meta_raw is None:
        raise ArtifactError(f"{path}: field 'schema_version': missing (no __meta__)")
    try:
        meta = json.loads(str(meta_raw))
    except json.JSONDecodeError as e:
        raise ArtifactError(f"{path}: field '__meta__': not valid JSON ({e})") from None
    check_schema_version(path, meta.get("schema_version"))
    return arrays, meta


def validate_arrays(
    path: Path | str,
    arrays: Mapping[str, NDArray | None],
    spec: Mapping[str, ShapeSpec],
    *,
    optional: frozenset[str] | set[str] = frozenset(),
    quats: frozenset[str] | set[str] = frozenset(),
    integer: frozenset[str] | set[str] = frozenset(),
    sizes: dict[str, int] | None = None,
) -> dict[str, int]:
    """Check every field's presence, shape, dtype, finiteness (and unit norm for quaternions).

    Args:
        path: the file (or artifact name) used in error messages.
        arrays: field name -> array (None = absent).
        spec: field name -> shape spec; strings are symbolic sizes shared by all fields.
        optional: fields that may be absent.
        quats: fields whose last axis is a wxyz quaternion that must be unit-norm.
        integer: fields that must have an integer (or bool) dtype; all others must be float.
        sizes: pre-bound symbolic sizes.

    Returns:
        The bound symbolic sizes, e.g. ``{"T": 120}``.

    Raises:
        ArtifactError: naming the file and the field.
    """
    bound: dict[str, int] = dict(sizes or {})
    for name, shape in spec.items():
        a = arrays.get(name)
        if a is None:
            if name in optional:
                continue
            raise ArtifactError(f"{path}: field '{name}': missing")
        a = np.asarray(a)
        if a.ndim != len(shape):
            raise ArtifactError(
                f"{path}: field '{name}': expected {len(shape)} dimensions {_fmt(shape)}, got shape {a.shape}"
            )
        for dim, want in zip(a.shape, shape):
            if isinstance(want, str):
                if bound.setdefault(want, dim) != dim:
                    raise ArtifactError(
                        f"{path}: field '{name}': expected shape {_fmt(shape)} with {want}={bound[want]}, got {a.shape}"
                    )
            elif dim != want:
                raise ArtifactError(f"{path}: field '{name}': expected shape {_fmt(shape)}, got {a.shape}")
        if name in integer:
            if not (np.issubdtype(a.dtype, np.integer) or a.dtype == np.bool_):
                raise ArtifactError(f"{path}: field '{name}': expected an integer dtype, got {a.dtype}")
        else:
            if not np.issubdtype(a.dtype, np.floating):
                raise ArtifactError(f"{path}: field '{name}': expected a float dtype, got {a.dtype}")
            if not np.all(np.isfinite(a)):
                bad = int(np.size(a) - np.count_nonzero(np.isfinite(a)))
                raise ArtifactError(f"{path}: field '{name}': {bad} non-finite values (NaN or inf)")
        if name in quats:
            n = np.linalg.norm(a, axis=-1)
            if a.size and np.max(np.abs(n - 1.0)) > 1e-3:
                raise ArtifactError(
                    f"{path}: field '{name}': quaternions must be unit-norm wxyz (worst norm {n.flat[np.argmax(np.abs(n - 1))]:.4f})"
                )
    return bound


def _fmt(shape: ShapeSpec) -> str:
    return "(" + ", ".join(str(s) for s in shape) + ")"


def file_digest(path: Path) -> str:
    """sha256 of a file's bytes (hex)."""
    import hashlib

    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()
