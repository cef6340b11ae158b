"""What ``verify --bundle`` reads: a Sigstore bundle (a message signature or a DSSE envelope),
a DSSE envelope signed with a local key, or a bare in-toto statement. The kind is told by
the document's own keys, never by what the user expects, so a mismatch can be named."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any

from ..errors import VerificationFailed, first_line
from .dsse import Base64, Envelope
from .fields import NonEmptyLine, Strict
from .intoto import Statement
from .parse import describe, parse_json, validate

SIGSTORE_MEDIA_TYPES = (
    "application/vnd.dev.sigstore.bundle+json;version=0.1",
    "application/vnd.dev.sigstore.bundle+json;version=0.2",
    "application/vnd.dev.sigstore.bundle+json;version=0.3",
    "application/vnd.dev.sigstore.bundle.v0.3+json",
)
MAX_BUNDLE_BYTES = 64 << 20


class Kind(enum.Enum):
    MESSAGE_SIGNATURE = "a Sigstore message-signature bundle"
    SIGSTORE_DSSE = "a Sigstore DSSE bundle"
    KEY_ENVELOPE = "a key-signed DSSE envelope"
    STATEMENT = "an unsigned in-toto statement"


class _SigstoreDsse(Strict):
    dsseEnvelope: Envelope


class _MessageDigest(Strict):
    algorithm: NonEmptyLine
    digest: Base64


class _MessageSignature(Strict):
    messageDigest: _MessageDigest | None = None
    signature: Base64


class _SigstoreMessage(Strict):
    messageSignature: _MessageSignature


@dataclass(frozen=True)
class Bundle:
    kind: Kind
    raw: bytes
    envelope: Envelope | None = None  # the DSSE envelope of the two DSSE kinds
    message_digest: tuple[str, bytes] | None = None  # what a message signature says it signs


def _fail(message: str) -> VerificationFailed:
    return VerificationFailed(f"bundle: {message}")


def read_bundle(data: bytes, name: str) -> Bundle:
    """The kind and checked outer structure of a bundle file named ``name``."""
    document: Any = parse_json(data, name, VerificationFailed, MAX_BUNDLE_BYTES)
    if not isinstance(document, dict):
        raise _fail(f"{name} is not a JSON object")
    if "mediaType" in document:
        media_type = document["mediaType"]
        if media_type not in SIGSTORE_MEDIA_TYPES:
            shown = repr(media_type)[:100] if isinstance(media_type, str) else "not a string"
            raise _fail(
                f"{name} has the media type {shown}; expected a Sigstore bundle "
                f"({', '.join(SIGSTORE_MEDIA_TYPES)})"
            )
        has_message, has_dsse = "messageSignature" in document, "dsseEnvelope" in document
        if has_message == has_dsse:
            raise _fail(f"{name}: a Sigstore bundle holds exactly one of messageSignature and dsseEnvelope")
        if has_message:
            message = validate(_SigstoreMessage, document, name, VerificationFailed).messageSignature
            digest = message.messageDigest
            signed = None if digest is None else (digest.algorithm, digest.digest)
            return Bundle(Kind.MESSAGE_SIGNATURE, data, message_digest=signed)
        envelope = validate(_SigstoreDsse, document, name, VerificationFailed).dsseEnvelope
        if len(envelope.signatures) != 1:
            count = len(envelope.signatures)
            raise _fail(f"{name}: a Sigstore DSSE bundle carries one signature, not {count}")
        return Bundle(Kind.SIGSTORE_DSSE, data, envelope)
    if "payloadType" in document or "signatures" in document:
        return Bundle(Kind.KEY_ENVELOPE, data, validate(Envelope, document, name, VerificationFailed))
    if "_type" in document:
        validate(Statement, document, name, VerificationFailed)
        return Bundle(Kind.STATEMENT, data)
    raise _fail(f"{name} is neither a Sigstore bundle, a DSSE envelope nor an in-toto statement")


def reason(exc: BaseException) -> str:
    """Why a library refused a document, on one line: pydantic's first problem where the
    error chain holds a validation error, else the first line of the message."""
    from pydantic import ValidationError

    cause: BaseException | None = exc
    while cause is not None and not isinstance(cause, ValidationError):
        cause = cause.__cause__ or cause.__context__
    return describe(cause) if isinstance(cause, ValidationError) else first_line(exc)


def sigstore_bundle(bundle: Bundle, name: str) -> Any:
    """sigstore's own model of a Sigstore bundle; its multi-line errors become one line."""
    from sigstore.models import Bundle as SigstoreBundle

    try:
        return SigstoreBundle.from_json(bundle.raw)
    except Exception as exc:  # a third-party parser of hostile input: any failure is a "no"
        raise _fail(f"{name} is not a valid Sigstore bundle ({reason(exc)[:200]})") from None
