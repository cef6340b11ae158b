"""DSSE envelopes (https://github.com/secure-systems-lab/dsse): payload, its type, signatures."""

from __future__ import annotations

import base64
import binascii
import re
from typing import Annotated

from pydantic import BeforeValidator, Field

from .fields import Line, NonEmptyLine, Strict

MAX_SIGNATURES = 16


_STANDARD = re.compile(r"[A-Za-z0-9+/]*={0,2}")
_URL_SAFE = re.compile(r"[A-Za-z0-9_-]*={0,2}")


def _base64(value: object) -> bytes:
    """Standard or URL-safe base64, padded or not; anything else is refused."""
    if not isinstance(value, str):
        raise ValueError("expected a base64 string")
    padded = value + "=" * (-len(value) % 4)
    try:
        if _STANDARD.fullmatch(value):
            return base64.b64decode(padded)
        if _URL_SAFE.fullmatch(value):
            return base64.urlsafe_b64decode(padded)
    except binascii.Error:
        pass
    raise ValueError("not base64")


Base64 = Annotated[bytes, BeforeValidator(_base64)]


class Signature(Strict):
    sig: Base64
    keyid: Line = ""


class Envelope(Strict):
    payload: Base64
    payloadType: NonEmptyLine
    signatures: list[Signature] = Field(min_length=1, max_length=MAX_SIGNATURES)
