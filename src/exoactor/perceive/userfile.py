"""Reading a user's JSON file (object poses, a tag map) with errors that name the file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from exoactor.errors import ArtifactError, InputError


def read_user_json(path: Path, what: str) -> Any:
    """The parsed JSON at ``path``; InputError when it is missing, ArtifactError when it is not JSON."""
    if not path.is_file():
        raise InputError(f"{path}: {what} not found")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise ArtifactError(f"{path}: not valid JSON ({e})") from None
