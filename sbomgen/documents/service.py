"""Error answers of the Sigstore services (Fulcio, Rekor): ``{"code": …, "message": …}``."""

from __future__ import annotations

from .fields import Strict, Text


class ErrorAnswer(Strict):
    message: Text | None = None
