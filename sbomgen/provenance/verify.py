"""Verification as a policy built from the request.

``verify`` turns what the user asked into a list of checks (``policy``) and applies each to
the bundle. A check that was asked for but cannot apply to the bundle given fails; the
answer is yes only when every check was made and passed. The checks read what the earlier
ones established (the bundle's kind, the verified certificate, the signed statement) from
one ``Evidence``; none of them decides what is checked from what the bundle carries.
"""

from __future__ import annotations

import dataclasses
import json
import re
from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from ..documents.bundle import MAX_BUNDLE_BYTES, Bundle, Kind, read_bundle, reason, sigstore_bundle
from ..documents.intoto import SLSA_PROVENANCE_V1, SlsaProvenanceV1, Statement
from ..documents.parse import load_json, parse_json, validate
from ..documents.source import read_bounded
from ..documents.text import control_character, printable
from ..errors import ContentError, SbomgenError, UsageError, VerificationFailed
from .attest import SBOM_PREDICATES, check_describes, read_sbom
from .identities import required_signer
from .signing import PAYLOAD_TYPE, load_public_key, verify_signature
from .statement import CHECKED, MAX_SBOM_BYTES, digests, same_digest, subject_digests

# Predicates that are often handed to verify by mistake for provenance, and what they are.
MAX_TRUST_BYTES = 16 << 20
KNOWN_PREDICATES = {
    "https://docs.pypi.org/attestations/publish/v1": "a PyPI publish attestation",
    "https://slsa.dev/provenance/v0.2": "SLSA Provenance v0.2",
    "https://slsa.dev/provenance/v0.1": "SLSA Provenance v0.1",
    "https://spdx.dev/Document": "an SPDX SBOM attestation",
    "https://cyclonedx.org/bom": "a CycloneDX SBOM attestation",
}


@dataclass(frozen=True)
class Request:
    """What the user asked ``verify`` to establish. ``None`` means not asked."""

    identity: str | None = None
    identity_regexp: str | None = None
    issuer: str | None = None
    key: Path | None = None
    predicate_type: str | None = None  # None: SLSA Provenance v1, where the bundle holds a statement
    sbom_attestation: bool = False  # the predicate is an SBOM (SPDX 2.3, SPDX 3, CycloneDX) of the artifact
    builder_id: str | None = None
    source_uri: str | None = None
    sbom: Path | None = None
    offline: bool = False
    staging: bool = False
    trusted_root: Path | None = None
    trust_config: Path | None = None
    identities: Path | None = None  # replaces the packaged CPython release identities

    @property
    def sigstore(self) -> bool:
        return self.key is None


def check_request(request: Request) -> None:
    """Refuse a request that cannot mean what it says, before anything is read (exit 2)."""
    for option, value in (
        ("--identity", request.identity),
        ("--identity-regexp", request.identity_regexp),
        ("--issuer", request.issuer),
        ("--predicate-type", request.predicate_type),
        ("--builder-id", request.builder_id),
        ("--source-uri", request.source_uri),
    ):
        if value is not None and not value.strip():
            raise UsageError(f"{option} is empty; pass the value to require, or leave the option out")
        if value is not None and (value != value.strip() or control_character(value)):
            raise UsageError(f"{option} has leading or trailing space or a control character: {value!r}")
    if request.sbom_attestation and request.predicate_type is not None:
        raise UsageError("--sbom-attestation accepts each SBOM predicate type; give it or --predicate-type")
    trust = [
        option
        for option, given in (
            ("--identity", request.identity is not None),
            ("--identity-regexp", request.identity_regexp is not None),
            ("--issuer", request.issuer is not None),
            ("--trusted-root", request.trusted_root is not None),
            ("--trust-config", request.trust_config is not None),
            ("--staging", request.staging),
            ("--offline", request.offline),
        )
        if given
    ]
    if request.key is not None:
        if trust:
            raise UsageError(
                f"--key verifies a key-signed envelope; {', '.join(trust)} belong to Sigstore bundles: "
                "pass either --key or --identity and --issuer"
            )
        return
    if request.identity is not None and request.identity_regexp is not None:
        raise UsageError("pass --identity or --identity-regexp, not both")
    if request.identity is None and request.identity_regexp is None:
        raise UsageError(
            "say who must have signed: --identity ID (or --identity-regexp '^...$') with --issuer URL "
            "for a Sigstore bundle, or --key PUB.pem for a key-signed envelope"
        )
    if request.issuer is None:
        raise UsageError("--identity needs --issuer URL: an identity means nothing without its issuer")
    if request.identity_regexp is not None:
        identity_pattern(request.identity_regexp)
    if sum(map(bool, (request.staging, request.trusted_root, request.trust_config))) > 1:
        raise UsageError("give at most one of --staging, --trusted-root and --trust-config")


def identity_pattern(text: str) -> re.Pattern[str]:
    """An anchored regular expression; it is matched against the whole identity."""
    if not text.startswith("^") or not text.endswith("$") or re.search(r"(?<!\\)(\\\\)*\\\$$", text):
        raise UsageError(
            f"--identity-regexp must be anchored, '^...$', so that it cannot match a part of "
            f"another identity: {text!r}"
        )
    try:
        return re.compile(text)
    except re.error as exc:
        raise UsageError(f"--identity-regexp does not compile: {exc}") from None


class CheckFailed(Exception):
    """A check did not hold; the message says why."""


@dataclass
class Evidence:
    """What the checks established so far; each check reads what the earlier ones left."""

    artifact: str
    artifact_digests: dict[str, str]
    bundle_name: str
    material: bytes
    bundle: Bundle | None = None
    sigstore_bundle: Any = None  # sigstore's model of a Sigstore bundle
    signed: bool = False
    certificate: Any = None
    signed_digest: str | None = None  # a message signature: the SHA256 the signature covers
    statement: Statement | None = None
    statement_problem: str | None = None
    signer_rejected: bool = False  # identity or issuer failed: what it signed is not looked at
    artifact_path: Path | None = None  # read again for a digest a subject names beyond CHECKED

    def need_bundle(self) -> Bundle:
        if self.bundle is None:
            raise CheckFailed("not made: the bundle could not be read")
        return self.bundle

    def need_statement(self, what: str) -> Statement:
        bundle = self.need_bundle()
        if bundle.kind is Kind.MESSAGE_SIGNATURE:
            raise CheckFailed(f"{self.bundle_name} is a message signature and carries no {what}")
        if not self.signed:
            raise CheckFailed("not made: the signature did not verify")
        if self.signer_rejected:
            raise CheckFailed("not made: the signer is not the one asked for")
        if self.statement is None:
            raise CheckFailed(f"not made: {self.statement_problem}")
        return self.statement

    def need_provenance(self, what: str) -> SlsaProvenanceV1:
        statement = self.need_statement(f"provenance ({what})")
        if statement.predicateType != SLSA_PROVENANCE_V1:
            raise CheckFailed(
                f"the statement's predicate is {statement.predicateType}, which records no {what}"
            )
        try:
            return validate(SlsaProvenanceV1, statement.predicate, "the provenance predicate", _Failed)
        except _Failed as exc:
            raise CheckFailed(str(exc)) from None


class _Failed(SbomgenError):
    """A predicate that does not fit its model, reported as a failed check."""


class Check(ABC):
    name: ClassVar[str]
    # False for a check that is made only where it applies (the default predicate type).
    requested: bool = True

    def applies_to(self, kind: Kind) -> bool:
        return True

    @abstractmethod
    def apply(self, evidence: Evidence) -> str:
        """What held, in words; raises CheckFailed."""


class BundleCheck(Check):
    """The bundle can be read, and is of the kind the request's signer option verifies."""

    name = "bundle"

    def __init__(self, request: Request, signer_why: str | None = None) -> None:
        self.request = request
        self.signer_why = signer_why  # set when the identity came from the CPython release map

    def apply(self, evidence: Evidence) -> str:
        try:
            bundle = read_bundle(evidence.material, evidence.bundle_name)
        except VerificationFailed as exc:
            raise CheckFailed(str(exc).removeprefix("bundle: ")) from None
        name = evidence.bundle_name
        if bundle.kind in (Kind.MESSAGE_SIGNATURE, Kind.SIGSTORE_DSSE) and not self.request.sigstore:
            raise CheckFailed(
                f"{name} is {bundle.kind.value}; verify it with --identity and --issuer, not --key"
            )
        if bundle.kind is Kind.KEY_ENVELOPE and self.request.sigstore and self.signer_why is not None:
            raise CheckFailed(
                f"{name} is {bundle.kind.value}: a key is needed to verify it, --key PUB.pem (with no signer "
                f"option given, the Sigstore identity of {self.signer_why} was required, and a key-signed "
                "envelope carries none)"
            )
        if bundle.kind is Kind.KEY_ENVELOPE and self.request.sigstore:
            raise CheckFailed(
                f"{name} is {bundle.kind.value}; verify it with --key PUB.pem, not --identity and --issuer"
            )
        if bundle.kind in (Kind.MESSAGE_SIGNATURE, Kind.SIGSTORE_DSSE):
            try:
                evidence.sigstore_bundle = sigstore_bundle(bundle, name)
            except VerificationFailed as exc:
                raise CheckFailed(str(exc).removeprefix("bundle: ")) from None
        evidence.bundle = bundle
        return f"{name} is {bundle.kind.value}"


class SignatureCheck(Check):
    """The signature verifies: against the Sigstore trust root (certificate chain, SCT,
    transparency log) or against the given key."""

    name = "signature"

    def __init__(self, request: Request, verifier: Any = None, trust_problem: str | None = None) -> None:
        self.request, self.verifier, self.trust_problem = request, verifier, trust_problem

    def apply(self, evidence: Evidence) -> str:
        bundle = evidence.need_bundle()
        if bundle.kind is Kind.STATEMENT:
            raise CheckFailed(f"{evidence.bundle_name} is {bundle.kind.value}: it carries no signature")
        if bundle.kind is Kind.KEY_ENVELOPE:
            assert bundle.envelope is not None and self.request.key is not None
            detail = _verify_with_key(bundle, self.request.key)
            payload_type, payload = bundle.envelope.payloadType, bundle.envelope.payload
        else:
            payload_type, payload, detail = self._verify_sigstore(bundle, evidence)
        evidence.signed = True
        if bundle.kind is not Kind.MESSAGE_SIGNATURE:
            _read_statement(evidence, payload_type, payload)
        return detail

    def _verify_sigstore(self, bundle: Bundle, evidence: Evidence) -> tuple[str, bytes, str]:
        from sigstore.errors import VerificationError
        from sigstore.hashes import Hashed
        from sigstore_models.common.v1 import HashAlgorithm

        parsed = evidence.sigstore_bundle
        if self.trust_problem is not None:
            raise CheckFailed(self.trust_problem)
        verifier = self.verifier
        recorder = _CertificateRecorder()
        try:
            if bundle.kind is Kind.SIGSTORE_DSSE:
                payload_type, payload = verifier.verify_dsse(parsed, recorder)
                what = "the DSSE envelope"
            else:
                # The signature is checked over the digest the bundle says it signs; whether that
                # is the artifact's digest is the subject check's question.
                signed = evidence.artifact_digests["sha256"]
                if bundle.message_digest is not None and bundle.message_digest[0] == "SHA2_256":
                    signed = bundle.message_digest[1].hex()
                prehashed = Hashed(algorithm=HashAlgorithm.SHA2_256, digest=bytes.fromhex(signed))
                verifier.verify_artifact(prehashed, parsed, recorder)
                payload_type, payload, what = "", b"", "the message digest"
                evidence.signed_digest = signed
        except VerificationError as exc:
            raise CheckFailed(" ".join(str(exc).split())[:300]) from None
        except Exception as exc:  # sigstore on hostile material: any failure is a "no"
            raise CheckFailed(f"the bundle cannot be verified ({type(exc).__name__}: {exc})"[:300]) from None
        evidence.certificate = recorder.certificate
        detail = f"{what} is signed by the certificate, which chains to the trust root and is in the log"
        return payload_type, payload, detail


class _CertificateRecorder:
    """A sigstore verification policy that keeps the certificate for the identity and issuer
    checks, which sbomgen makes (and reports) one by one after the signature has verified."""

    certificate: Any = None

    def verify(self, cert: Any) -> None:
        self.certificate = cert


def trust_root(request: Request) -> Any:
    """sigstore's Verifier for the request's trust root. A trust file that cannot be used is
    the command line's fault (exit 2); the public instances' roots, fetched and checked
    through TUF, raise CheckFailed, which fails the signature check."""
    from sigstore.models import ClientTrustConfig, TrustedRoot
    from sigstore.verify import Verifier
    from sigstore_models.trustroot import v1 as trustroot_v1

    def config_root(text: str) -> Any:
        return ClientTrustConfig.from_json(text).trusted_root

    def trusted_root(text: str) -> Any:
        return TrustedRoot(trustroot_v1.TrustedRoot.from_json(text))

    for option, path, load in (
        ("--trust-config", request.trust_config, config_root),
        ("--trusted-root", request.trusted_root, trusted_root),
    ):
        if path is not None:
            data = read_bounded(path, option, UsageError, MAX_TRUST_BYTES)
            parse_json(data, f"{option}: {path}", UsageError)
            try:
                return Verifier(trusted_root=load(data.decode("utf-8")))
            except Exception as exc:  # sigstore's models on a hostile file: refuse it
                raise UsageError(f"{option}: {path} is not a usable trusted root ({reason(exc)})") from None
    try:
        if request.staging:
            return Verifier.staging(offline=request.offline)
        return Verifier.production(offline=request.offline)
    except Exception as exc:
        hint = "" if request.offline else "; --offline uses the trust root shipped with sigstore"
        raise CheckFailed(f"the trust root cannot be loaded ({reason(exc)}){hint}") from None


def _verify_with_key(bundle: Bundle, key_path: Path) -> str:
    assert bundle.envelope is not None
    key = load_public_key(key_path)
    verified = [verify_signature(key, bundle.envelope, s.sig) for s in bundle.envelope.signatures]
    if not any(verified):
        raise CheckFailed(f"no signature of the envelope is made by the key {key_path.name}")
    signatures = bundle.envelope.signatures
    # A keyid is the envelope's own text, and a hint only: named, cut short.
    others = [
        (s.keyid[:64] + ("…" if len(s.keyid) > 64 else "")) or "(no keyid)"
        for s, ok in zip(signatures, verified, strict=True)
        if not ok
    ]
    detail = f"made by the key {key_path.name}"
    if others:
        detail += f"; {len(others)} other signature(s) not verified (keyid {', '.join(others)})"
    return detail


def _read_statement(evidence: Evidence, payload_type: str, payload: bytes) -> None:
    if payload_type != PAYLOAD_TYPE:
        evidence.statement_problem = f"the payload type is {payload_type!r}, not {PAYLOAD_TYPE!r}"
        return
    try:
        evidence.statement = load_json(Statement, payload, "the signed statement", _Failed)
    except _Failed as exc:
        evidence.statement_problem = str(exc)


class IdentityCheck(Check):
    """The certificate's subject alternative names include the identity (or one matches the
    anchored regular expression, as a whole)."""

    name = "identity"

    def __init__(self, identity: str | None, pattern: str | None, why: str | None = None) -> None:
        self.identity, self.pattern = identity, pattern
        self.why = f" ({why})" if why else ""

    def apply(self, evidence: Evidence) -> str:
        names = _certificate_names(evidence)
        if self.identity is not None:
            if self.identity in names:
                return f"the certificate names {self.identity}{self.why}"
            expected = self.identity + self.why
        else:
            assert self.pattern is not None
            matching = sorted(n for n in names if re.fullmatch(self.pattern, n))
            if matching:
                return f"the certificate names {matching[0]}, which matches {self.pattern}"
            expected = f"a match of {self.pattern}"
        evidence.signer_rejected = True
        named = ", ".join(sorted(names)) or "nobody"
        raise CheckFailed(f"the certificate names {named}; expected {expected}")


class IssuerCheck(Check):
    """Every issuer extension the certificate has (Fulcio's v1 and v2) names the issuer."""

    name = "issuer"

    def __init__(self, issuer: str, why: str | None = None) -> None:
        self.issuer = issuer
        self.why = f" ({why})" if why else ""

    def apply(self, evidence: Evidence) -> str:
        issuers = _certificate_issuers(evidence)
        if not issuers:
            evidence.signer_rejected = True
            raise CheckFailed("the certificate names no OIDC issuer")
        if issuers != {self.issuer}:
            evidence.signer_rejected = True
            named = ", ".join(sorted(issuers))
            raise CheckFailed(f"the certificate's issuer is {named}; expected {self.issuer}{self.why}")
        return f"the certificate's issuer is {self.issuer}{self.why}"


def _certificate(evidence: Evidence) -> Any:
    evidence.need_bundle()
    if not evidence.signed or evidence.certificate is None:
        raise CheckFailed("not made: the signature did not verify")
    return evidence.certificate


def _certificate_names(evidence: Evidence) -> set[str]:
    from cryptography import x509

    try:
        san = _certificate(evidence).extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return set()
    names = set(san.get_values_for_type(x509.RFC822Name))
    names |= set(san.get_values_for_type(x509.UniformResourceIdentifier))
    for other in san.get_values_for_type(x509.OtherName):
        if other.type_id.dotted_string == "1.3.6.1.4.1.57264.1.7":  # Sigstore's own identity name
            names.add(_der_utf8(other.value))
    return names


def _certificate_issuers(evidence: Evidence) -> set[str]:
    from cryptography import x509

    issuers = set()
    for extension in _certificate(evidence).extensions:
        oid = extension.oid.dotted_string
        if oid == "1.3.6.1.4.1.57264.1.1":  # the issuer, raw bytes (deprecated form)
            issuers.add(extension.value.value.decode("utf-8", "replace"))
        elif oid == "1.3.6.1.4.1.57264.1.8" and isinstance(extension.value, x509.UnrecognizedExtension):
            issuers.add(_der_utf8(extension.value.value))
    return issuers


def _der_utf8(value: bytes) -> str:
    """A DER UTF8String; anything else is shown as its bytes and never equals a request."""
    from cryptography.hazmat import asn1

    try:
        return str(asn1.decode_der(str, value))
    except ValueError:
        return f"(not a DER UTF8String: {value[:64].hex()})"


class SubjectCheck(Check):
    """The bundle is about the artifact: a statement subject with the artifact's digests, or
    the digest a message signature signs."""

    name = "subject"

    def apply(self, evidence: Evidence) -> str:
        bundle = evidence.need_bundle()
        ours = evidence.artifact_digests
        if bundle.kind is Kind.MESSAGE_SIGNATURE:
            if not evidence.signed:
                raise CheckFailed("not made: the signature did not verify")
            if evidence.signer_rejected:
                raise CheckFailed("not made: the signer is not the one asked for")
            if evidence.signed_digest != ours["sha256"]:
                signed = evidence.signed_digest
                raise CheckFailed(f"the bundle signs SHA256 {signed}, not {evidence.artifact}'s")
            return f"the bundle signs {evidence.artifact} (SHA256 {ours['sha256'][:16]}...)"
        statement = evidence.need_statement("statement")
        if evidence.artifact_path is not None:
            named = [name for subject in statement.subject for name in subject.digest]
            ours = subject_digests(evidence.artifact_path, evidence.artifact, named, ours)
        partial = None
        for subject in statement.subject:
            match = digests_match(subject.digest, ours)
            if match:
                return f"the statement is about {evidence.artifact} (SHA256 {ours['sha256'][:16]}...)"
            if match is False and any(
                same_digest(_algorithm(name), ours.get(_algorithm(name), ""), value.lower())
                for name, value in subject.digest.items()
            ):
                partial = subject
        if partial is not None:
            raise CheckFailed(
                f"the subject {partial.name!r} has some of {evidence.artifact}'s digests but not all"
            )
        raise CheckFailed(f"no subject of the statement has the digests of {evidence.artifact}")


def digests_match(claimed: dict[str, str], ours: dict[str, str]) -> bool | None:
    """True when every digest ``claimed`` gives that sbomgen computes (statement.CHECKED) is
    ours; None when it gives none of them."""
    # in-toto names them sha256 and sha512; SHA512 or sha-512 names the same digest to a
    # reader less strict, so a wrong one under such a name is a mismatch, not another algorithm.
    known = [(alg, value.lower()) for name, value in claimed.items() if (alg := _algorithm(name)) in ours]
    if not known:
        return None
    return all(same_digest(alg, ours[alg], value) for alg, value in known)


def _algorithm(name: str) -> str:
    return name.lower().replace("-", "").replace("_", "")


class PredicateTypeCheck(Check):
    name = "predicate type"

    def __init__(self, expected: str | None, sbom: bool = False) -> None:
        self.accepted = SBOM_PREDICATES if sbom else (expected or SLSA_PROVENANCE_V1,)
        self.expected = " or ".join(self.accepted)
        self.requested = expected is not None or sbom

    def applies_to(self, kind: Kind) -> bool:
        return kind is not Kind.MESSAGE_SIGNATURE

    def apply(self, evidence: Evidence) -> str:
        found = evidence.need_statement("statement, so no predicate type").predicateType
        if found in self.accepted:
            return found
        known = KNOWN_PREDICATES.get(found.split("/v")[0] if found.startswith("https://spdx.dev") else found)
        option = "--sbom-attestation" if found in SBOM_PREDICATES else f"--predicate-type {found}"
        hint = f"; it is {known}: pass {option} to accept it" if known else ""
        raise CheckFailed(f"is {found}, expected {self.expected}{hint}")


class BuilderIdCheck(Check):
    name = "builder id"

    def __init__(self, builder_id: str) -> None:
        self.builder_id = builder_id

    def apply(self, evidence: Evidence) -> str:
        found = evidence.need_provenance("builder id").runDetails.builder.id
        if found != self.builder_id:
            raise CheckFailed(f"is {found}, expected {self.builder_id}")
        return found


class SourceCheck(Check):
    name = "source"

    def __init__(self, source_uri: str) -> None:
        self.source_uri = source_uri

    def apply(self, evidence: Evidence) -> str:
        dependencies = evidence.need_provenance("source").buildDefinition.resolvedDependencies
        uris = [d.uri for d in dependencies if d.uri is not None]
        if self.source_uri not in uris:
            listed = ", ".join(uris) or "none"
            raise CheckFailed(f"{self.source_uri} is not among the resolved dependencies ({listed})")
        return self.source_uri


class SbomDescribesCheck(Check):
    """The SBOM an attestation carries describes the artifact: a checksum it records for
    what it describes is the artifact's."""

    name = "sbom describes"

    def apply(self, evidence: Evidence) -> str:
        statement = evidence.need_statement("SBOM")
        content = json.dumps(statement.predicate).encode()
        try:
            _, _, claims = read_sbom(content, "the attested SBOM", _Failed)
            check_describes(claims, "the attested SBOM", evidence.artifact, evidence.artifact_digests)
        except (_Failed, ContentError) as exc:
            raise CheckFailed(str(exc)) from None
        return f"the attested SBOM describes {evidence.artifact}"


class SbomCheck(Check):
    """The provenance records this SBOM file (its SHA256) among the build's byproducts; or
    the SBOM attestation carries this SBOM (the same JSON)."""

    name = "sbom"

    def __init__(self, sbom: Path, sbom_digests: dict[str, str]) -> None:
        self.sbom, self.digests = sbom, sbom_digests

    def apply(self, evidence: Evidence) -> str:
        statement = evidence.need_statement("provenance (SBOM)")
        if statement.predicateType in SBOM_PREDICATES:
            content = read_bounded(self.sbom, "--sbom", UsageError, MAX_SBOM_BYTES)
            if parse_json(content, str(self.sbom), UsageError) == statement.predicate:
                return f"the attestation carries {self.sbom.name}"
            raise CheckFailed(f"the attestation carries another SBOM than {self.sbom.name}")
        byproducts = evidence.need_provenance("SBOM").runDetails.byproducts
        short = f"{self.sbom.name} (SHA256 {self.digests['sha256'][:16]}...)"
        if any(digests_match(byproduct.digest, self.digests) for byproduct in byproducts):
            return f"the provenance records {short}"
        raise CheckFailed(f"the provenance records another SBOM, not {short}")


def policy(
    request: Request,
    verifier: Any = None,
    trust_problem: str | None = None,
    sbom: dict[str, str] | None = None,
    signer_why: str | None = None,
    subject: bool = True,
) -> list[Check]:
    """The checks the request asks for, in the order they are made; ``signer_why`` says why
    the identity and issuer are required when the request did not name them."""
    checks: list[Check] = [BundleCheck(request, signer_why), SignatureCheck(request, verifier, trust_problem)]
    if request.sigstore:
        checks.append(IdentityCheck(request.identity, request.identity_regexp, signer_why))
        assert request.issuer is not None
        checks.append(IssuerCheck(request.issuer, signer_why))
    if subject:
        checks.append(SubjectCheck())
    checks.append(PredicateTypeCheck(request.predicate_type, request.sbom_attestation))
    if request.sbom_attestation or request.predicate_type in SBOM_PREDICATES:
        checks.append(SbomDescribesCheck())
    if request.builder_id is not None:
        checks.append(BuilderIdCheck(request.builder_id))
    if request.source_uri is not None:
        checks.append(SourceCheck(request.source_uri))
    if request.sbom is not None:
        assert sbom is not None
        checks.append(SbomCheck(request.sbom, sbom))
    return checks


@dataclass(frozen=True)
class Outcome:
    check: str
    passed: bool
    detail: str

    def __str__(self) -> str:
        return f"{self.check}: {printable(self.detail)}"


@dataclass(frozen=True)
class Verification:
    """Every check that was made, in order; ``ok`` only when each was made and passed."""

    outcomes: tuple[Outcome, ...]
    statement: Statement | None = None  # the signed statement, when the signature verified

    @property
    def ok(self) -> bool:
        return bool(self.outcomes) and all(o.passed for o in self.outcomes)

    @property
    def first_failure(self) -> Outcome | None:
        return next((o for o in self.outcomes if not o.passed), None)


def verify(artifact: Path | None, bundle_path: Path, request: Request) -> Verification:
    """Apply every check the request asks for to the bundle; never raises for a failed check.
    Without a signer option, a CPython release file must be signed by its release manager.
    Without an artifact, what the statement is about is not checked (a release attestation
    names many files; the caller compares them)."""
    given = [
        option
        for option, value in (
            ("--identity", request.identity),
            ("--identity-regexp", request.identity_regexp),
            ("--issuer", request.issuer),
            ("--key", request.key),
        )
        if value is not None
    ]
    signer = required_signer(artifact, request.identities, given) if artifact is not None else None
    if signer is not None:
        request = dataclasses.replace(request, identity=signer.identity, issuer=signer.issuer)
    check_request(request)
    verifier = trust_problem = None
    if request.key is not None:
        load_public_key(request.key)  # a bad key file is the command line's fault (exit 2)
    else:
        try:
            verifier = trust_root(request)
        except CheckFailed as exc:
            trust_problem = str(exc)
    artifact_digests = digests(artifact, algorithms=CHECKED) if artifact is not None else {}
    sbom_digests = digests(request.sbom, "--sbom", CHECKED) if request.sbom is not None else None
    try:
        material = read_bounded(bundle_path, "bundle", VerificationFailed, MAX_BUNDLE_BYTES)
    except VerificationFailed as exc:
        problem = str(exc).removeprefix("bundle: ")
        return Verification((Outcome("bundle", False, problem),))
    evidence = Evidence(artifact.name if artifact else "", artifact_digests, bundle_path.name, material)
    evidence.artifact_path = artifact
    outcomes = []
    why = signer.why if signer else None
    for check in policy(request, verifier, trust_problem, sbom_digests, why, subject=artifact is not None):
        kind = evidence.bundle.kind if evidence.bundle is not None else None
        if kind is not None and not check.applies_to(kind):
            if not check.requested:
                continue
            why = f"{bundle_path.name} is {kind.value} and carries no statement"
            outcomes.append(Outcome(check.name, False, why))
            continue
        try:
            outcomes.append(Outcome(check.name, True, check.apply(evidence)))
        except CheckFailed as exc:
            outcomes.append(Outcome(check.name, False, str(exc)))
        except VerificationFailed as exc:
            outcomes.append(Outcome(check.name, False, str(exc).removeprefix("bundle: ")))
    return Verification(
        tuple(outcomes), evidence.statement if evidence.signed and not evidence.signer_rejected else None
    )
