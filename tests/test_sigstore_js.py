"""sigstore-js and sbomgen, each verifying what the other signed against the loopback Sigstore.

sigstore-js (@sigstore/sign) sends the identity token in the body of its Fulcio request
(``credentials.oidcIdentityToken``), sigstore-python in the Authorization header: the
loopback Fulcio takes both, as the public one does.
"""

from __future__ import annotations

import base64
import hashlib
import json
import shutil
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import (
    BUILDER,
    CPYTHON_313,
    RFC8785,
    changed_copy,
    one_line_failure,
    sbomgen,
)
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from rekor_v2 import SigstoreInstanceV2
from sigstore_instance import SigstoreInstance
from sigstore_js import SigstoreJs, install

EMAIL = "release-manager@example.org"


@pytest.fixture(scope="session")
def sigstore_js() -> SigstoreJs:
    return SigstoreJs(install())


@pytest.fixture(scope="module")
def trust(instance: SigstoreInstance, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The trust config (for sbomgen) and the trusted root (for sigstore-js) of the instance."""
    folder = tmp_path_factory.mktemp("trust")
    (folder / "trust-config.json").write_text(instance.trust_config())
    (folder / "trusted_root.json").write_text(instance.trusted_root().to_json())
    return folder / "trust-config.json", folder / "trusted_root.json"


def tampered(bundle: Path, folder: Path, change: Callable[[dict[str, Any]], None]) -> Path:
    """A copy of ``bundle`` in ``folder`` after ``change``."""
    data = json.loads(bundle.read_text())
    change(data)
    folder.mkdir(exist_ok=True)
    copy = folder / bundle.name
    copy.write_text(json.dumps(data))
    return copy


def _flip(text: str, at: int | None = None) -> str:
    """The base64 ``text`` with one bit of a byte changed (the middle one unless ``at``)."""
    raw = bytearray(base64.b64decode(text))
    raw[len(raw) // 2 if at is None else at] ^= 1
    return base64.b64encode(bytes(raw)).decode()


def change_signature(bundle: dict[str, Any]) -> None:
    signed = bundle.get("messageSignature") or bundle["dsseEnvelope"]["signatures"][0]
    field = "signature" if "messageSignature" in bundle else "sig"
    signed[field] = _flip(signed[field], -1)


def change_statement(bundle: dict[str, Any]) -> None:
    """One hex digit of the statement's first SHA-256 digest: a statement for another artifact."""
    statement = bytearray(base64.b64decode(bundle["dsseEnvelope"]["payload"]))
    at = statement.index(b'"sha256":"') + 10
    statement[at] = ord("0") if statement[at] != ord("0") else ord("1")
    bundle["dsseEnvelope"]["payload"] = base64.b64encode(bytes(statement)).decode()


def change_log_entry(bundle: dict[str, Any]) -> None:
    entry = bundle["verificationMaterial"]["tlogEntries"][0]
    entry["canonicalizedBody"] = _flip(entry["canonicalizedBody"])


def sbomgen_verify(
    artifact: Path, bundle: Path, trust_config: Path, issuer: str, identity: str = EMAIL, *options: str
) -> Any:
    return sbomgen(
        "verify", artifact, "--bundle", bundle, "--identity", identity, "--issuer", issuer,
        "--trust-config", trust_config, *options,
    )  # fmt: skip


# --- the loopback Fulcio takes the token where the public one does ------------------


def post_signing_cert(
    instance: SigstoreInstance, request: dict[str, Any], bearer: str | None
) -> tuple[int, Any]:
    headers = {"Content-Type": "application/json"}
    if bearer is not None:
        headers["Authorization"] = f"Bearer {bearer}"
    sent = urllib.request.Request(
        f"{instance.fulcio.url}/api/v2/signingCert", json.dumps(request).encode(), headers, method="POST"
    )
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(sent, timeout=10) as answer:
            return answer.status, json.load(answer)
    except urllib.error.HTTPError as exc:
        return exc.code, json.load(exc)


def public_key_request(key: ec.EllipticCurvePrivateKey) -> dict[str, Any]:
    pem = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    proof = key.sign(EMAIL.encode(), ec.ECDSA(hashes.SHA256()))
    return {
        "publicKeyRequest": {
            "publicKey": {"algorithm": "ECDSA", "content": pem.decode()},
            "proofOfPossession": base64.b64encode(proof).decode(),
        }
    }


def csr_request(key: ec.EllipticCurvePrivateKey) -> dict[str, Any]:
    csr = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.EMAIL_ADDRESS, EMAIL)]))
        .sign(key, hashes.SHA256())
    )
    return {
        "certificateSigningRequest": base64.b64encode(csr.public_bytes(serialization.Encoding.PEM)).decode()
    }


@pytest.mark.parametrize("form", [public_key_request, csr_request], ids=["publicKeyRequest", "CSR"])
@pytest.mark.parametrize("where", ["body", "header"])
def test_fulcio_takes_the_token_in_the_body_or_the_header(
    instance: SigstoreInstance, form: Callable[[ec.EllipticCurvePrivateKey], dict[str, Any]], where: str
) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    token = instance.issuer.token(EMAIL)
    request = form(key)
    if where == "body":
        request["credentials"] = {"oidcIdentityToken": token}
    status, answer = post_signing_cert(instance, request, token if where == "header" else None)
    assert status == 201, answer
    leaf = x509.load_pem_x509_certificate(
        answer["signedCertificateEmbeddedSct"]["chain"]["certificates"][0].encode()
    )
    assert leaf.public_key() == key.public_key()
    san = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.RFC822Name) == [EMAIL]


def test_fulcio_reads_the_body_token_first_and_refuses_a_request_without_one(
    instance: SigstoreInstance,
) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    good = instance.issuer.token(EMAIL)
    forged = instance.issuer.token(EMAIL, signing_key=ec.generate_private_key(ec.SECP256R1()))
    # As Fulcio: a token in the body is the one checked, whatever the header carries.
    status, answer = post_signing_cert(
        instance, {**public_key_request(key), "credentials": {"oidcIdentityToken": forged}}, good
    )
    assert (status, answer["message"]) == (401, "identity token rejected: Signature verification failed")
    status, answer = post_signing_cert(instance, public_key_request(key), None)
    assert status == 401
    assert answer["message"] == "no identity token: neither credentials.oidcIdentityToken nor a bearer token"


# --- sigstore-js signs, sbomgen verifies ---------------------------------------------


def test_sigstore_js_signs_against_the_instance_and_sbomgen_verifies(
    instance: SigstoreInstance, trust: tuple[Path, Path], sigstore_js: SigstoreJs, tmp_path: Path
) -> None:
    trust_config, trusted_root = trust
    token = tmp_path / "token"
    token.write_text(instance.issuer.token(EMAIL))
    bundle = tmp_path / f"{RFC8785.name}.sigstore.json"
    fulcio_before, rekor_before = len(instance.fulcio.requests), len(instance.rekor.requests)
    sigstore_js.sign(instance.fulcio.url, instance.rekor.url, token, RFC8785, bundle)
    assert instance.fulcio.requests[fulcio_before:] == ["POST /api/v2/signingCert"]
    assert instance.rekor.requests[rekor_before:] == ["POST /api/v1/log/entries"]
    assert sigstore_js.verify(trusted_root, RFC8785, bundle, EMAIL, instance.issuer.url) == {"ok": True}

    run = sbomgen_verify(RFC8785, bundle, trust_config, instance.issuer.url)
    assert run.returncode == 0, run.stderr
    sha256 = hashlib.sha256(RFC8785.read_bytes()).hexdigest()
    assert run.stdout.decode().splitlines() == [
        f"ok  bundle: {bundle.name} is a Sigstore message-signature bundle",
        "ok  signature: the message digest is signed by the certificate, which chains to the trust root "
        "and is in the log",
        f"ok  identity: the certificate names {EMAIL}",
        f"ok  issuer: the certificate's issuer is {instance.issuer.url}",
        f"ok  subject: the bundle signs {RFC8785.name} (SHA256 {sha256[:16]}...)",
    ]
    (tmp_path / "changed").mkdir()
    changed = changed_copy(RFC8785, tmp_path / "changed")
    one_line_failure(sbomgen_verify(changed, bundle, trust_config, instance.issuer.url), "subject")
    tampered_bundle = tampered(bundle, tmp_path / "tampered", change_signature)
    one_line_failure(sbomgen_verify(RFC8785, tampered_bundle, trust_config, instance.issuer.url), "signature")
    other = "someone-else@example.org"
    one_line_failure(sbomgen_verify(RFC8785, bundle, trust_config, instance.issuer.url, other), "identity")


# --- sbomgen signs, @sigstore/verify verifies ----------------------------------------


def sign_provenance(instance: SigstoreInstance, trust_config: Path, out: Path) -> tuple[Path, Path]:
    run = sbomgen(
        "provenance", CPYTHON_313, "--builder-id", BUILDER, "--sign", "sigstore",
        "--identity-token", instance.issuer.token(EMAIL), "--trust-config", trust_config, "-d", out,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    return CPYTHON_313, out / f"{CPYTHON_313.name}.intoto.sigstore.json"


def sign_message(instance: SigstoreInstance, trust_config: Path, out: Path) -> tuple[Path, Path]:
    run = sbomgen(
        "sign", RFC8785, "--identity-token", instance.issuer.token(EMAIL), "--trust-config", trust_config,
        "-d", out,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    return RFC8785, out / f"{RFC8785.name}.sigstore"


def signed_release(instance: SigstoreInstance, trust_config: Path, out: Path) -> Path:
    """A release folder of the real Python-3.13.5.tar.xz, after a keyless `sbomgen release`."""
    folder = out / "release"
    folder.mkdir()
    artifact = folder / CPYTHON_313.name
    shutil.copyfile(CPYTHON_313, artifact)
    run = sbomgen(
        "release", folder, "--builder-id", BUILDER, "--sign", "sigstore",
        "-f", "spdx-json,spdx3-json,cyclonedx-json",
        "--identity-token", instance.issuer.token(EMAIL), "--trust-config", trust_config,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    return artifact


def sign_sbom_attestation(instance: SigstoreInstance, trust_config: Path, out: Path) -> tuple[Path, Path]:
    artifact = signed_release(instance, trust_config, out)
    return artifact, artifact.parent / f"{artifact.name}.spdx.intoto.sigstore.json"


def sign_spdx3_attestation(instance: SigstoreInstance, trust_config: Path, out: Path) -> tuple[Path, Path]:
    artifact = signed_release(instance, trust_config, out)
    return artifact, artifact.parent / f"{artifact.name}.spdx3.intoto.sigstore.json"


def sign_cyclonedx_attestation(
    instance: SigstoreInstance, trust_config: Path, out: Path
) -> tuple[Path, Path]:
    artifact = signed_release(instance, trust_config, out)
    return artifact, artifact.parent / f"{artifact.name}.cdx.intoto.sigstore.json"


def sign_release_attestation(instance: SigstoreInstance, trust_config: Path, out: Path) -> tuple[Path, Path]:
    """The release attestation, verified for one of the files it lists."""
    artifact = signed_release(instance, trust_config, out)
    return artifact, artifact.parent / "release-attestation.intoto.sigstore.json"


# What `sbomgen verify` is told of each kind of bundle beyond the signer.
VERIFY_OPTIONS = {
    "provenance": (),
    "message signature": (),
    "SBOM attestation": ("--sbom-attestation",),
    "SPDX 3 attestation": ("--predicate-type", "https://spdx.dev/Document/v3"),
    "CycloneDX attestation": ("--predicate-type", "https://cyclonedx.org/bom"),
    "release attestation": ("--predicate-type", "https://in-toto.io/attestation/release/v0.2"),
}
# Each kind of keyless bundle sbomgen writes: (artifact, bundle) once signed into a folder.
SBOMGEN_BUNDLES = {
    "provenance": sign_provenance,
    "message signature": sign_message,
    "SBOM attestation": sign_sbom_attestation,
    "SPDX 3 attestation": sign_spdx3_attestation,
    "CycloneDX attestation": sign_cyclonedx_attestation,
    "release attestation": sign_release_attestation,
}


def assert_sbomgen_verifies(
    artifact: Path, bundle: Path, trust_config: Path, issuer: str, kind: str, folder: Path
) -> None:
    """`sbomgen verify` (the sigstore library's Verifier under it) accepts the bundle, and
    refuses it in one line for a copy of the artifact with one byte changed."""
    run = sbomgen_verify(artifact, bundle, trust_config, issuer, EMAIL, *VERIFY_OPTIONS[kind])
    assert run.returncode == 0, run.stderr
    (folder / "changed-for-sbomgen").mkdir()
    changed = changed_copy(artifact, folder / "changed-for-sbomgen")
    one_line_failure(
        sbomgen_verify(changed, bundle, trust_config, issuer, EMAIL, *VERIFY_OPTIONS[kind]), "subject"
    )


def assert_tampered_entry_and_statement_fail(
    sigstore_js: SigstoreJs,
    trusted_root: Path,
    artifact: Path,
    bundle: Path,
    issuer: str,
    folder: Path,
    errors: dict[str, str],
) -> None:
    """@sigstore/verify refuses the bundle after one byte of its log entry, or of the statement
    it signs, changed: with ``errors[what]``."""
    changes = {"log entry": change_log_entry}
    if "dsseEnvelope" in json.loads(bundle.read_text()):
        changes["statement"] = change_statement
    for what, change in changes.items():
        copy = tampered(bundle, folder / what.replace(" ", "-"), change)
        answer = sigstore_js.verify(trusted_root, artifact, copy, EMAIL, issuer)
        assert answer == {"ok": False, "error": errors[what]}, what


@pytest.mark.parametrize("kind", SBOMGEN_BUNDLES)
def test_sigstore_js_verifies_sbomgen_keyless_bundles(
    instance: SigstoreInstance, trust: tuple[Path, Path], sigstore_js: SigstoreJs, tmp_path: Path, kind: str
) -> None:
    trust_config, trusted_root = trust
    artifact, bundle = SBOMGEN_BUNDLES[kind](instance, trust_config, tmp_path)
    issuer = instance.issuer.url
    assert sigstore_js.verify(trusted_root, artifact, bundle, EMAIL, issuer) == {"ok": True}
    assert_sbomgen_verifies(artifact, bundle, trust_config, issuer, kind, tmp_path)
    assert_tampered_entry_and_statement_fail(
        sigstore_js, trusted_root, artifact, bundle, issuer, tmp_path,
        {
            "log entry": "VerificationError: inclusion promise could not be verified",
            "statement": "VerificationError: DSSE payload hash mismatch",
        },
    )  # fmt: skip

    (tmp_path / "changed").mkdir()
    changed = changed_copy(artifact, tmp_path / "changed")
    answer = sigstore_js.verify(trusted_root, changed, bundle, EMAIL, issuer)
    assert answer["ok"] is False
    answer = sigstore_js.verify(
        trusted_root, artifact, tampered(bundle, tmp_path / "signature", change_signature), EMAIL, issuer
    )
    assert answer == {"ok": False, "error": answer["error"]} and "signature" in str(answer["error"]).lower()
    answer = sigstore_js.verify(trusted_root, artifact, bundle, "someone-else@example.org", issuer)
    assert answer["ok"] is False and "someone-else@example.org" in str(answer["error"])


@pytest.fixture(scope="module")
def instance_v2() -> Iterator[SigstoreInstanceV2]:
    with SigstoreInstanceV2() as running:
        running.seed_log(3)
        yield running


# sigstore-python 4.x logs a DSSE envelope in Rekor v2 as a hashedrekord 0.0.2 entry whose
# digest is SHA-256 of the envelope's PAE bytes, as the Rekor v2 spec requires
# (sigstore/architecture-docs#63, sigstore-python#1776). @sigstore/verify before 4.1.0 compared
# it with SHA-256 of the payload ("digest mismatch"); sigstore-js#1677 fixed it, hence the
# pinned 4.1 and the Node it needs (tests/js/node).
@pytest.mark.parametrize("kind", SBOMGEN_BUNDLES)
def test_sigstore_js_verifies_sbomgen_bundles_from_rekor_v2_with_a_timestamp(
    instance_v2: SigstoreInstanceV2, sigstore_js: SigstoreJs, tmp_path: Path, kind: str
) -> None:
    """Signed against the instance whose signing config selects Rekor v2 and a timestamp
    authority: the bundle's time is the signed timestamp, its entry proven by a checkpoint."""
    trust_config, trusted_root = tmp_path / "trust-config.json", tmp_path / "trusted_root.json"
    trust_config.write_text(instance_v2.trust_config())
    trusted_root.write_text(instance_v2.trusted_root().to_json())
    artifact, bundle = SBOMGEN_BUNDLES[kind](instance_v2, trust_config, tmp_path)
    verification = json.loads(bundle.read_text())["verificationMaterial"]
    assert verification["tlogEntries"][0]["kindVersion"]["version"] == "0.0.2"
    assert verification["timestampVerificationData"]["rfc3161Timestamps"]
    issuer = instance_v2.issuer.url
    assert sigstore_js.verify(trusted_root, artifact, bundle, EMAIL, issuer) == {"ok": True}
    assert_sbomgen_verifies(artifact, bundle, trust_config, issuer, kind, tmp_path)
    assert_tampered_entry_and_statement_fail(
        sigstore_js, trusted_root, artifact, bundle, issuer, tmp_path,
        {
            "log entry": "VerificationError: calculated root hash does not match inclusion proof",
            # The entry's digest is of the envelope's PAE bytes, which the changed statement is in.
            "statement": "VerificationError: digest mismatch",
        },
    )  # fmt: skip
    (tmp_path / "changed").mkdir()
    answer = sigstore_js.verify(
        trusted_root, changed_copy(artifact, tmp_path / "changed"), bundle, EMAIL, issuer
    )
    assert answer["ok"] is False
