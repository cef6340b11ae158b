"""JSON documents a user names on the command line: read whole, failures as ContentError."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .errors import ContentError


def read_json(path: Path, what: str) -> Any:
    """The JSON document at ``path``; ``what`` names the kind expected, for the error."""
    try:
        return json.loads(path.read_bytes())
    except OSError as exc:
        raise ContentError(f"cannot read {path}: {exc.strerror}") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ContentError(f"{path}: not {what} ({exc})") from None
