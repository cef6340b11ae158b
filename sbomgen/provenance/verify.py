"""Verify an artifact against a Sigstore bundle (DSSE or message signature) or a key-signed
DSSE envelope: signature and identity, then that the statement is about this artifact."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import UsageError, VerificationFailed
from .signing import PAYLOAD_TYPE, verify_with_key
from .statement import SLSA_PROVENANCE_V1, digests


@dataclass(frozen=True)
class Expectations:
    identity: str | None = None
    issuer: str | None = None
    key: Path | None = None
    predicate_type: str = SLSA_PROVENANCE_V1
    builder_id: str | None = None
    source_uri: str | None = None
    offline: bool = False
    staging: bool = False
    trusted_root: Path | None = None
    trust_config: Path | None = None


def verify(artifact: Path, bundle_path: Path, expect: Expectations) -> list[str]:
    """Every check that held, in order; raises VerificationFailed at the first that does not."""
    if (expect.key is None) == (expect.identity is None or expect.issuer is None):
        raise UsageError("give either --identity and --issuer (Sigstore) or --key (a local key)")
    if sum(map(bool, (expect.staging, expect.trusted_root, expect.trust_config))) > 1:
        raise UsageError("give at most one of --staging, --trusted-root and --trust-config")
    try:
        material = bundle_path.read_bytes()
        artifact_digests = digests(artifact)
    except OSError as exc:
        raise UsageError(f"cannot read {exc.filename}: {exc.strerror}") from None
    if expect.key is not None:
        statement = verify_with_key(material, expect.key)
        passed = [f"signature: made by the key {expect.key.name}"]
        return passed + check_statement(statement, artifact.name, artifact_digests, expect)
    return _verify_sigstore(artifact, material, artifact_digests, expect)


def _verify_sigstore(
    artifact: Path, material: bytes, artifact_digests: dict[str, str], expect: Expectations
) -> list[str]:
    from sigstore.errors import VerificationError
    from sigstore.hashes import Hashed
    from sigstore.models import Bundle, ClientTrustConfig, InvalidBundle, TrustedRoot
    from sigstore.verify import Verifier, policy
    from sigstore_models.common.v1 import HashAlgorithm

    try:
        bundle = Bundle.from_json(material)
        is_dsse = "dsseEnvelope" in json.loads(material)
    except (InvalidBundle, ValueError) as exc:
        raise VerificationFailed(f"bundle: not a valid Sigstore bundle ({exc})") from None
    try:
        if expect.trust_config is not None:
            root = ClientTrustConfig.from_json(expect.trust_config.read_text()).trusted_root
            verifier = Verifier(trusted_root=root)
        elif expect.trusted_root is not None:
            verifier = Verifier(trusted_root=TrustedRoot.from_file(str(expect.trusted_root)))
        elif expect.staging:
            verifier = Verifier.staging(offline=expect.offline)
        else:
            verifier = Verifier.production(offline=expect.offline)
    except Exception as exc:
        raise VerificationFailed(f"trust root: cannot be loaded ({exc})") from None
    identity = policy.Identity(identity=expect.identity or "", issuer=expect.issuer)
    passed = []
    try:
        if is_dsse:
            payload_type, payload = verifier.verify_dsse(bundle, identity)
        else:
            prehashed = Hashed(
                algorithm=HashAlgorithm.SHA2_256, digest=bytes.fromhex(artifact_digests["sha256"])
            )
            verifier.verify_artifact(prehashed, bundle, identity)
    except VerificationError as exc:
        text = str(exc)
        check = "identity" if "SAN" in text else "issuer" if "OIDCIssuer" in text else "signature"
        raise VerificationFailed(f"{check}: {text}") from None
    passed.append(
        f"signature, certificate and transparency log: valid for {expect.identity} ({expect.issuer})"
    )
    if not is_dsse:
        passed.append(f"artifact: {artifact.name} is the signed file")
        return passed
    if payload_type != PAYLOAD_TYPE:
        raise VerificationFailed(f"envelope: payload type is {payload_type!r}, not {PAYLOAD_TYPE!r}")
    return passed + check_statement(payload, artifact.name, artifact_digests, expect)


def check_statement(
    payload: bytes, name: str, artifact_digests: dict[str, str], expect: Expectations
) -> list[str]:
    try:
        statement: dict[str, Any] = json.loads(payload)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise VerificationFailed(f"statement: not JSON ({exc})") from None
    if not isinstance(statement, dict) or statement.get("_type") != "https://in-toto.io/Statement/v1":
        raise VerificationFailed("statement: not an in-toto Statement v1")
    subjects: list[Any] = statement["subject"] if isinstance(statement.get("subject"), list) else []
    if not any(
        isinstance(s, dict)
        and isinstance(s.get("digest"), dict)
        and s["digest"].get("sha256") == artifact_digests["sha256"]
        for s in subjects
    ):
        raise VerificationFailed(f"subject: no subject of the statement has the SHA256 of {name}")
    passed = [f"subject: the statement is about {name} (SHA256 {artifact_digests['sha256'][:16]}…)"]
    if statement.get("predicateType") != expect.predicate_type:
        raise VerificationFailed(
            f"predicate type: is {statement.get('predicateType')!r}, expected {expect.predicate_type!r}"
        )
    passed.append(f"predicate type: {expect.predicate_type}")
    predicate: dict[str, Any] = statement["predicate"] if isinstance(statement.get("predicate"), dict) else {}
    if expect.builder_id is not None:
        found = (predicate.get("runDetails") or {}).get("builder", {}).get("id")
        if found != expect.builder_id:
            raise VerificationFailed(f"builder id: is {found!r}, expected {expect.builder_id!r}")
        passed.append(f"builder id: {found}")
    if expect.source_uri is not None:
        dependencies = (predicate.get("buildDefinition") or {}).get("resolvedDependencies") or []
        uris = [d.get("uri") for d in dependencies if isinstance(d, dict)]
        if expect.source_uri not in uris:
            raise VerificationFailed(
                f"source: {expect.source_uri!r} is not among the resolved dependencies {uris}"
            )
        passed.append(f"source: {expect.source_uri}")
    return passed
