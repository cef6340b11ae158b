"""Signing: Sigstore keyless (DSSE and message signatures), and DSSE with a local key.

Keyless signing goes through the sigstore library (``SigningContext``, ``Signer``); the
bundle it returns is written as it serialises itself. A local ECDSA P-256 or Ed25519 key
signs the DSSE pre-authentication encoding, and the envelope is built with the Sigstore
protobuf models, for builders that have no network at all.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from ..documents.parse import load_json, parse_json
from ..documents.service import ErrorAnswer
from ..documents.source import read_bounded
from ..errors import SigningError, UsageError, first_line

if TYPE_CHECKING:
    from ..documents.dsse import Envelope

PAYLOAD_TYPE = "application/vnd.in-toto+json"


def pae(payload_type: str, payload: bytes) -> bytes:
    """DSSE v1 pre-authentication encoding: what the signature covers."""
    return b"DSSEv1 %d %s %d %s" % (len(payload_type), payload_type.encode(), len(payload), payload)


def load_private_key(path: Path) -> ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey:
    try:
        data = read_bounded(path, "--sign key:", UsageError, 1 << 20)
        key = serialization.load_pem_private_key(data, password=None)
    except OSError as exc:
        raise UsageError(f"cannot read the key {path}: {exc.strerror}") from None
    except (ValueError, TypeError) as exc:
        raise UsageError(f"{path}: not an unencrypted PEM private key ({exc})") from None
    if isinstance(key, ec.EllipticCurvePrivateKey) and isinstance(key.curve, ec.SECP256R1):
        return key
    if isinstance(key, ed25519.Ed25519PrivateKey):
        return key
    raise UsageError(f"{path}: only ECDSA P-256 and Ed25519 keys are supported")


def load_public_key(path: Path) -> ec.EllipticCurvePublicKey | ed25519.Ed25519PublicKey:
    data = read_bounded(path, "--key", UsageError, 1 << 20)
    try:
        key = serialization.load_pem_public_key(data)
    except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
        raise UsageError(f"--key: {path} is not a PEM public key ({first_line(exc)})") from None
    if isinstance(key, ec.EllipticCurvePublicKey) and isinstance(key.curve, ec.SECP256R1):
        return key
    if isinstance(key, ed25519.Ed25519PublicKey):
        return key
    raise UsageError(f"--key: {path}: only ECDSA P-256 and Ed25519 keys are supported")


def key_id(public_key: ec.EllipticCurvePublicKey | ed25519.Ed25519PublicKey) -> str:
    """The keyid securesystemslib computes by default for the key (``SSlibKey.from_crypto``):
    the SHA-256 of the canonical JSON of its keytype, scheme and public value (PEM for ECDSA,
    raw hex for Ed25519), so that DSSE verifiers keyed by keyid find the key. The canonical
    form escapes only backslash and quote, which neither value contains."""
    if isinstance(public_key, ed25519.Ed25519PublicKey):
        keytype = scheme = "ed25519"
        public = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw).hex()
    else:
        keytype, scheme = "ecdsa", "ecdsa-sha2-nistp256"
        public = public_key.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        ).decode()
    canonical = f'{{"keytype":"{keytype}","keyval":{{"public":"{public}"}},"scheme":"{scheme}"}}'
    return hashlib.sha256(canonical.encode()).hexdigest()


def sign_with_key(statement: bytes, key_path: Path) -> bytes:
    """A DSSE envelope (JSON) over ``statement``, signed with the key at ``key_path``."""
    from sigstore_models.intoto import Envelope, Signature

    key = load_private_key(key_path)
    message = pae(PAYLOAD_TYPE, statement)
    if isinstance(key, ec.EllipticCurvePrivateKey):
        signature = key.sign(message, ec.ECDSA(hashes.SHA256()))
    else:
        signature = key.sign(message)
    envelope = Envelope(
        payload=base64.b64encode(statement),
        payload_type=PAYLOAD_TYPE,
        signatures=[Signature(sig=base64.b64encode(signature), keyid=key_id(key.public_key()))],
    )
    return envelope.to_json().encode() + b"\n"


def verify_signature(
    key: ec.EllipticCurvePublicKey | ed25519.Ed25519PublicKey, envelope: Envelope, signature: bytes
) -> bool:
    """Whether ``signature`` over the envelope's pre-authentication encoding is ``key``'s."""
    message = pae(envelope.payloadType, envelope.payload)
    try:
        if isinstance(key, ec.EllipticCurvePublicKey):
            key.verify(signature, message, ec.ECDSA(hashes.SHA256()))
        else:
            key.verify(signature, message)
    except InvalidSignature:
        return False
    return True


def trust_config(staging: bool, path: Path | None) -> Any:
    from sigstore.models import ClientTrustConfig

    try:
        if path is not None:
            data = read_bounded(path, "--trust-config", SigningError, 16 << 20)
            parse_json(data, str(path), SigningError)  # bounded before sigstore's models read it
            return ClientTrustConfig.from_json(data.decode("utf-8"))
        return ClientTrustConfig.staging() if staging else ClientTrustConfig.production()
    except OSError as exc:
        raise SigningError(f"cannot load the Sigstore trust configuration: {exc}") from None
    except SigningError:
        raise
    except Exception as exc:
        raise SigningError(f"cannot load the Sigstore trust configuration ({_reason(exc)})") from None


def identity_token(explicit: str | None) -> Any:
    from sigstore.oidc import IdentityError, IdentityToken, detect_credential

    raw = explicit
    if raw is None:
        try:
            raw = detect_credential()
        except IdentityError as exc:
            raise SigningError(f"cannot get an identity token from the CI environment: {exc}") from None
    if raw is None:
        raise SigningError(
            "no identity token: run in CI with OIDC enabled (GitHub Actions: permissions: id-token: write) "
            "or pass --identity-token"
        )
    try:
        return IdentityToken(raw)
    except IdentityError as exc:
        raise SigningError(f"the identity token is not usable: {_token_problem(raw, exc)}") from None


def _token_problem(raw: str, exc: BaseException) -> str:
    """Why a token was refused, in terms a CI log reader can act on."""
    import jwt

    try:
        claims = jwt.decode(raw, options={"verify_signature": False})
    except jwt.PyJWTError:
        return _reason(exc)
    expiry = claims.get("exp")
    if isinstance(expiry, (int, float)) and expiry <= time.time():
        when = datetime.fromtimestamp(expiry, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        return f"it expired at {when}; request a fresh token"
    return _reason(exc)


def sign_keyless(payloads: list[bytes], dsse: bool, token: Any, config: Any) -> list[bytes]:
    """Sigstore bundles (JSON): DSSE bundles of statements, or message signatures of files."""
    from sigstore.dsse import Statement
    from sigstore.sign import SigningContext

    with _signer_warnings() as warnings:
        try:
            context = SigningContext.from_trust_config(config)
            bundles = []
            with context.signer(token) as signer:
                for payload in payloads:
                    bundle = signer.sign_dsse(Statement(payload)) if dsse else signer.sign_artifact(payload)
                    bundles.append(bundle.to_json().encode() + b"\n")
            return bundles
        except Exception as exc:
            said = "".join(f"; {' '.join(w.split())[:300]}" for w in dict.fromkeys(warnings))
            raise SigningError(f"keyless signing failed: {_reason(exc)}{said}") from None


@contextmanager
def _signer_warnings() -> Iterator[list[str]]:
    """What sigstore's signer only logs, kept for the error should signing fail: a timestamp
    authority that did not answer is a warning to it, and with Rekor v2 the bundle then has
    no signed time, which is all the final error says."""
    logger, kept = logging.getLogger("sigstore.sign"), []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            kept.append(record.getMessage())

    handler, saved = Keep(logging.WARNING), (logger.level, logger.propagate)
    logger.addHandler(handler)
    logger.setLevel(logging.WARNING)
    logger.propagate = False
    try:
        yield kept
    finally:
        logger.removeHandler(handler)
        logger.setLevel(saved[0])
        logger.propagate = saved[1]


def _reason(exc: BaseException) -> str:
    """The useful messages of a chain of errors (network errors come wrapped), with what a
    service said in its error answer (sigstore's Fulcio client drops that)."""
    messages = []
    while exc is not None:
        text = str(exc).strip()
        if text and text not in messages:
            messages.append(text)
        said = _service_message(getattr(exc, "response", None))
        if said and said not in messages:
            messages.append(f"the service said: {said}")
        exc = exc.__cause__ or exc.__context__  # type: ignore[assignment]
    return "; ".join(messages[:4]) or "unknown error"


def _service_message(response: Any) -> str | None:
    """The ``message`` of a JSON error answer ({"code": …, "message": …}), if there is one."""
    try:
        message = load_json(ErrorAnswer, response.content, "the answer", SigningError, 1 << 20).message
    except (AttributeError, TypeError, SigningError):
        return None
    return " ".join(message.split())[:300] if message and message.strip() else None


def sign_statements(
    stems: list[str],
    statements: list[bytes],
    signing: str | None,
    token: str | None = None,
    staging: bool = False,
    trust_config_path: Path | None = None,
) -> list[tuple[str, bytes]]:
    """File names and contents for statements signed as ``signing`` says (None: unsigned)."""
    if signing is None:
        return [(f"{stem}.intoto.json", body) for stem, body in zip(stems, statements, strict=True)]
    if signing.startswith("key:"):
        key = Path(signing[4:])
        return [
            (f"{stem}.intoto.json", sign_with_key(body, key))
            for stem, body in zip(stems, statements, strict=True)
        ]
    if signing == "sigstore":
        bundles = sign_keyless(
            statements, True, identity_token(token), trust_config(staging, trust_config_path)
        )
        return [(f"{stem}.intoto.sigstore.json", body) for stem, body in zip(stems, bundles, strict=True)]
    raise UsageError(f"--sign: expected 'sigstore' or 'key:PATH', not {signing!r}")


@dataclass(frozen=True)
class Signing:
    """How statements are signed: ``method`` None (unsigned), "sigstore" (keyless, with
    ``identity_token`` or the CI's, against Sigstore, its staging instance or the instance
    ``trust_config`` describes) or "key:PATH" (a DSSE envelope, local PEM key)."""

    method: str | None = None
    identity_token: str | None = None
    staging: bool = False
    trust_config: Path | None = None

    @property
    def suffix(self) -> str:
        """The ending of the file names of signed statements."""
        return ".intoto.sigstore.json" if self.method == "sigstore" else ".intoto.json"

    @property
    def key(self) -> Path | None:
        return Path(self.method[4:]) if self.method and self.method.startswith("key:") else None

    def sign_statements(self, stems: list[str], statements: list[bytes]) -> list[tuple[str, bytes]]:
        return sign_statements(
            stems, statements, self.method, self.identity_token, self.staging, self.trust_config
        )
