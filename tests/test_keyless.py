"""Keyless signing end to end against the Sigstore test instance on loopback.

The real, unpatched sigstore client gets its certificate from the loopback Fulcio and
logs its entry in the loopback Rekor; the bundles are verified by sigstore's own Verifier
and by ``sbomgen verify``.
"""

from __future__ import annotations

import base64
import copy
import datetime
import hashlib
import json
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from conftest import BUILDER, CPYTHON_313, DATA, changed_copy, one_line_failure, sbomgen
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed
from sigstore.errors import VerificationError
from sigstore.models import Bundle, ClientTrustConfig
from sigstore.verify import Verifier, policy
from sigstore_instance import (
    OIDC_ISSUER_V2,
    CertificateAuthority,
    SigstoreInstance,
    der_utf8_string,
    leaf_hash,
)

EMAIL = "release-manager@example.org"
RFC8785 = DATA / "sigstore" / "rfc8785-0.1.2-py3-none-any.whl"
BUNDLE_NAME = "Python-3.13.5.tar.xz.intoto.sigstore.json"


def keyless_provenance(out: Path, token: str, trust_config: Path) -> Any:
    return sbomgen(
        "provenance",
        CPYTHON_313,
        "--builder-id",
        BUILDER,
        "--sign",
        "sigstore",
        "--identity-token",
        token,
        "--trust-config",
        trust_config,
        "-d",
        out,
    )


@pytest.fixture(scope="module")
def signed(instance: SigstoreInstance, trust_config: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The keylessly signed provenance of Python-3.13.5.tar.xz."""
    out = tmp_path_factory.mktemp("keyless")
    fulcio_before, rekor_before = len(instance.fulcio.requests), len(instance.rekor.requests)
    run = keyless_provenance(out, instance.issuer.token(EMAIL), trust_config)
    assert run.returncode == 0, run.stderr
    assert instance.fulcio.requests[fulcio_before:] == ["POST /api/v2/signingCert"]
    assert instance.rekor.requests[rekor_before:] == ["POST /api/v1/log/entries"]
    assert sorted(p.name for p in out.iterdir()) == [BUNDLE_NAME]
    return out / BUNDLE_NAME


def verify(
    artifact: Path, bundle: Path, trust: Path, identity: str, issuer: str, option: str = "--trust-config"
) -> Any:
    """``sbomgen verify`` with ``trust`` given as ``option`` (--trust-config or --trusted-root)."""
    return sbomgen(
        "verify", artifact, "--bundle", bundle, "--identity", identity, "--issuer", issuer, option, trust
    )


def assert_verifies_with(instance: SigstoreInstance, bundle: Path, root: Any, path: Path) -> None:
    """``bundle`` of Python-3.13.5.tar.xz verifies against the trusted root ``root``, written to ``path``."""
    path.write_text(root.to_json())
    run = verify(CPYTHON_313, bundle, path, EMAIL, instance.issuer.url, option="--trusted-root")
    assert run.returncode == 0, run.stderr


def sigstore_verifier(trust_config: Path) -> Verifier:
    return Verifier(trusted_root=ClientTrustConfig.from_json(trust_config.read_text()).trusted_root)


def test_keyless_provenance_of_a_real_tarball_verifies(
    instance: SigstoreInstance, trust_config: Path, signed: Path
) -> None:
    identity = policy.Identity(identity=EMAIL, issuer=instance.issuer.url)
    payload_type, payload = sigstore_verifier(trust_config).verify_dsse(
        Bundle.from_json(signed.read_bytes()), identity
    )
    assert payload_type == "application/vnd.in-toto+json"
    statement = json.loads(payload)
    assert statement["subject"] == [
        {
            "name": "Python-3.13.5.tar.xz",
            "digest": {
                "sha256": hashlib.sha256(CPYTHON_313.read_bytes()).hexdigest(),
                "sha512": hashlib.sha512(CPYTHON_313.read_bytes()).hexdigest(),
            },
        }
    ]
    assert statement["predicate"]["runDetails"]["builder"]["id"] == BUILDER

    run = verify(CPYTHON_313, signed, trust_config, EMAIL, instance.issuer.url)
    assert run.returncode == 0, run.stderr
    assert run.stdout.decode().splitlines() == [
        f"ok  bundle: {BUNDLE_NAME} is a Sigstore DSSE bundle",
        "ok  signature: the DSSE envelope is signed by the certificate, which chains to the trust root "
        "and is in the log",
        f"ok  identity: the certificate names {EMAIL}",
        f"ok  issuer: the certificate's issuer is {instance.issuer.url}",
        "ok  subject: the statement is about Python-3.13.5.tar.xz "
        f"(SHA256 {statement['subject'][0]['digest']['sha256'][:16]}...)",
        "ok  predicate type: https://slsa.dev/provenance/v1",
    ]


def test_the_certificate_and_log_entry_are_what_the_services_made(
    instance: SigstoreInstance, trust_config: Path, signed: Path, tmp_path: Path
) -> None:
    material = json.loads(signed.read_text())["verificationMaterial"]
    certificate = x509.load_der_x509_certificate(base64.b64decode(material["certificate"]["rawBytes"]))
    certificate.verify_directly_issued_by(instance.ca.certificate)
    san = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.RFC822Name) == [EMAIL]
    issuer = certificate.extensions.get_extension_for_oid(OIDC_ISSUER_V2).value
    assert issuer.value == der_utf8_string(instance.issuer.url)  # type: ignore[attr-defined]
    assert certificate.not_valid_after_utc - certificate.not_valid_before_utc == datetime.timedelta(
        minutes=10
    )
    scts = certificate.extensions.get_extension_for_class(
        x509.PrecertificateSignedCertificateTimestamps
    ).value
    assert [sct.log_id for sct in scts] == [instance.ct_log.log_id]

    entry = material["tlogEntries"][0]
    body = base64.b64decode(entry["canonicalizedBody"])
    assert entry["kindVersion"] == {"kind": "dsse", "version": "0.0.1"}
    assert int(entry["inclusionProof"]["treeSize"]) > int(entry["logIndex"]) >= 5
    assert len(entry["inclusionProof"]["hashes"]) >= 2
    with urllib.request.urlopen(f"{instance.rekor.url}/api/v1/log/entries/{leaf_hash(body).hex()}") as answer:
        (logged,) = json.load(answer).values()
    assert base64.b64decode(logged["body"]) == body
    assert logged["logIndex"] == int(entry["logIndex"])

    # The same bundle verifies against a trusted root file as well as the trust config.
    assert_verifies_with(instance, signed, instance.trusted_root(), tmp_path / "trusted_root.json")


def test_keyless_message_signature_of_a_file(
    instance: SigstoreInstance, trust_config: Path, tmp_path: Path
) -> None:
    run = sbomgen(
        "sign", RFC8785, "--identity-token", instance.issuer.token(EMAIL), "--trust-config", trust_config,
        "-d", tmp_path,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    bundle = tmp_path / f"{RFC8785.name}.sigstore"
    identity = policy.Identity(identity=EMAIL, issuer=instance.issuer.url)
    sigstore_verifier(trust_config).verify_artifact(
        RFC8785.read_bytes(), Bundle.from_json(bundle.read_bytes()), identity
    )
    assert json.loads(bundle.read_text())["verificationMaterial"]["tlogEntries"][0]["kindVersion"] == {
        "kind": "hashedrekord",
        "version": "0.0.1",
    }
    run = verify(RFC8785, bundle, trust_config, EMAIL, instance.issuer.url)
    assert run.returncode == 0, run.stderr
    assert f"ok  subject: the bundle signs {RFC8785.name} (SHA256 " in run.stdout.decode()
    (tmp_path / "changed").mkdir()
    changed = changed_copy(RFC8785, tmp_path / "changed")
    one_line_failure(verify(changed, bundle, trust_config, EMAIL, instance.issuer.url), "subject")


def sigstore_cli(trust_config: Path, *args: str | Path) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "sigstore", "--trust-config", str(trust_config), *map(str, args)]
    return subprocess.run(command, capture_output=True, text=True, timeout=120)


def test_the_instance_serves_sigstores_own_command_line_too(
    instance: SigstoreInstance, trust_config: Path, tmp_path: Path
) -> None:
    """Not tailored to sbomgen: sigstore's CLI signs against the instance, sbomgen verifies,
    and the other way round."""
    by_cli = tmp_path / "by-cli.sigstore.json"
    run = sigstore_cli(
        trust_config, "sign", "--identity-token", instance.issuer.token(EMAIL), "--bundle", by_cli, RFC8785
    )
    assert run.returncode == 0, run.stderr
    assert verify(RFC8785, by_cli, trust_config, EMAIL, instance.issuer.url).returncode == 0

    run_sbomgen = sbomgen(
        "sign", RFC8785, "--identity-token", instance.issuer.token(EMAIL), "--trust-config", trust_config,
        "-d", tmp_path,
    )  # fmt: skip
    assert run_sbomgen.returncode == 0, run_sbomgen.stderr
    run = sigstore_cli(
        trust_config, "verify", "identity", "--bundle", tmp_path / f"{RFC8785.name}.sigstore",
        "--cert-identity", EMAIL, "--cert-oidc-issuer", instance.issuer.url, RFC8785,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    assert f"OK: {RFC8785}" in run.stderr + run.stdout


def _flip(text: str) -> str:
    raw = bytearray(base64.b64decode(text))
    raw[len(raw) // 2] ^= 1
    return base64.b64encode(bytes(raw)).decode()


def _tamper_proof_hash(entry: dict[str, Any]) -> None:
    entry["inclusionProof"]["hashes"][0] = _flip(entry["inclusionProof"]["hashes"][0])


def _tamper_proof_index(entry: dict[str, Any]) -> None:
    entry["inclusionProof"]["logIndex"] = str(int(entry["inclusionProof"]["logIndex"]) - 1)


def _tamper_checkpoint(entry: dict[str, Any]) -> None:
    note, signature_line = entry["inclusionProof"]["checkpoint"]["envelope"].split("\n\n")
    dash, name, signature = signature_line.split(" ")
    entry["inclusionProof"]["checkpoint"]["envelope"] = (
        f"{note}\n\n{dash} {name} {_flip(signature.strip())}\n"
    )


def _tamper_promise(entry: dict[str, Any]) -> None:
    entry["inclusionPromise"]["signedEntryTimestamp"] = _flip(
        entry["inclusionPromise"]["signedEntryTimestamp"]
    )


def _tamper_integrated_time(entry: dict[str, Any]) -> None:
    entry["integratedTime"] = str(int(entry["integratedTime"]) + 60)  # still in the certificate's life


@pytest.mark.parametrize(
    ("tamper", "message"),
    [
        (_tamper_proof_hash, "invalid log entry: inclusion proof contains invalid root hash"),
        (_tamper_proof_index, "invalid log entry: inclusion proof contains invalid root hash"),
        (_tamper_checkpoint, "invalid log entry: checkpoint: invalid signature"),
        (_tamper_promise, "invalid log entry: SET: invalid inclusion promise"),
        (_tamper_integrated_time, "invalid log entry: SET: invalid inclusion promise"),
    ],
    ids=["inclusion-proof-hash", "inclusion-proof-index", "checkpoint-signature", "entry-timestamp", "time"],
)
def test_a_tampered_log_entry_fails(
    instance: SigstoreInstance, trust_config: Path, signed: Path, tmp_path: Path, tamper: Any, message: str
) -> None:
    bundle = json.loads(signed.read_text())
    tampered = copy.deepcopy(bundle)
    tamper(tampered["verificationMaterial"]["tlogEntries"][0])
    assert tampered != bundle
    path = tmp_path / signed.name
    path.write_text(json.dumps(tampered))
    identity = policy.Identity(identity=EMAIL, issuer=instance.issuer.url)
    with pytest.raises(VerificationError, match=message.removeprefix("invalid log entry: ")):
        sigstore_verifier(trust_config).verify_dsse(Bundle.from_json(path.read_bytes()), identity)
    line = one_line_failure(verify(CPYTHON_313, path, trust_config, EMAIL, instance.issuer.url), "signature")
    assert message in line


def test_a_certificate_from_another_ca_fails(
    instance: SigstoreInstance, trust_config: Path, tmp_path: Path
) -> None:
    trusted_ca, rogue = instance.fulcio.ca, CertificateAuthority("another-ca")
    instance.fulcio.ca = rogue
    try:
        run = keyless_provenance(tmp_path / "out", instance.issuer.token(EMAIL), trust_config)
    finally:
        instance.fulcio.ca = trusted_ca
    assert run.returncode == 0, run.stderr  # the client's SCT check passes: same CT log
    bundle = tmp_path / "out" / BUNDLE_NAME
    line = one_line_failure(
        verify(CPYTHON_313, bundle, trust_config, EMAIL, instance.issuer.url), "signature"
    )
    assert "failed to build timestamp certificate chain" in line
    # It is the CA alone: a trusted root that also lists the other CA accepts the bundle.
    assert_verifies_with(instance, bundle, instance.trusted_root(trusted_ca, rogue), tmp_path / "both.json")


def test_a_wrong_identity_or_issuer_fails(
    instance: SigstoreInstance, trust_config: Path, signed: Path
) -> None:
    line = one_line_failure(
        verify(CPYTHON_313, signed, trust_config, "someone-else@example.org", instance.issuer.url), "identity"
    )
    assert EMAIL in line
    one_line_failure(
        verify(CPYTHON_313, signed, trust_config, EMAIL, "https://accounts.google.com"), "issuer"
    )


def test_an_expired_token_is_refused(instance: SigstoreInstance, trust_config: Path, tmp_path: Path) -> None:
    expired = instance.issuer.token(EMAIL, issued_at=int(time.time()) - 3600, lifetime=600)
    fulcio_before = len(instance.fulcio.requests)
    run = keyless_provenance(tmp_path / "out", expired, trust_config)
    assert run.returncode == 10
    assert run.stderr.startswith("sbomgen: error: the identity token is not usable: it expired at ")
    assert not (tmp_path / "out").exists()
    assert len(instance.fulcio.requests) == fulcio_before  # the client stops before asking
    # Fulcio refuses it too, should a token expire on its way there.
    status, message = request_certificate(instance, expired, csr(ec.generate_private_key(ec.SECP256R1())))
    assert (status, message) == (401, "identity token has expired")


def csr(key: ec.EllipticCurvePrivateKey, *, broken: bool = False) -> bytes:
    request = x509.CertificateSigningRequestBuilder().subject_name(x509.Name([])).sign(key, hashes.SHA256())
    der = bytearray(request.public_bytes(serialization.Encoding.DER))
    if broken:
        der[-3] ^= 1  # inside the signature
    return x509.load_der_x509_csr(bytes(der)).public_bytes(serialization.Encoding.PEM)


def request_certificate(instance: SigstoreInstance, token: str, pem_csr: bytes) -> tuple[int, str]:
    request = urllib.request.Request(
        f"{instance.fulcio.url}/api/v2/signingCert",
        data=json.dumps({"certificateSigningRequest": base64.b64encode(pem_csr).decode()}).encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request) as answer:
            return answer.status, ""
    except urllib.error.HTTPError as error:
        return error.code, json.load(error)["message"]


def test_fulcio_checks_the_token_and_proof_of_possession(instance: SigstoreInstance) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    good = instance.issuer.token(EMAIL)
    assert request_certificate(instance, good, csr(key)) == (201, "")
    assert request_certificate(instance, good, csr(key, broken=True)) == (
        400,
        "the CSR's signature does not verify: no proof of possession",
    )
    forged = instance.issuer.token(EMAIL, signing_key=ec.generate_private_key(ec.SECP256R1()))
    status, message = request_certificate(instance, forged, csr(key))
    assert status == 401 and message.startswith("identity token rejected: Signature verification failed")
    other_audience = instance.issuer.token(EMAIL, audience="not-sigstore")
    status, message = request_certificate(instance, other_audience, csr(key))
    assert status == 401 and "audience" in message.lower()


def test_keyless_signing_with_a_forged_token_fails_and_writes_nothing(
    instance: SigstoreInstance, trust_config: Path, tmp_path: Path
) -> None:
    forged = instance.issuer.token(EMAIL, signing_key=ec.generate_private_key(ec.SECP256R1()))
    run = keyless_provenance(tmp_path / "out", forged, trust_config)
    assert run.returncode == 10
    assert "keyless signing failed" in run.stderr and "401" in run.stderr
    assert "the service said: identity token rejected: Signature verification failed" in run.stderr
    assert not (tmp_path / "out").exists()


def test_rekor_refuses_bad_and_duplicate_entries(instance: SigstoreInstance) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    digest = hashlib.sha256(b"an artifact").digest()
    signature = key.sign(digest, ec.ECDSA(Prehashed(hashes.SHA256())))
    public = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )

    def entry(value: bytes) -> dict[str, Any]:
        return {
            "apiVersion": "0.0.1",
            "kind": "hashedrekord",
            "spec": {
                "data": {"hash": {"algorithm": "sha256", "value": value.hex()}},
                "signature": {
                    "content": base64.b64encode(signature).decode(),
                    "publicKey": {"content": base64.b64encode(public).decode()},
                },
            },
        }

    def post(body: dict[str, Any]) -> tuple[int, Any]:
        request = urllib.request.Request(
            f"{instance.rekor.url}/api/v1/log/entries",
            data=json.dumps(body).encode(),
            headers={"Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request) as answer:
                return answer.status, json.load(answer)
        except urllib.error.HTTPError as error:
            return error.code, json.load(error)

    size = instance.rekor.size
    status, answer = post(entry(digest))
    assert status == 201 and instance.rekor.size == size + 1
    assert post(entry(digest))[0] == 409
    assert post(entry(hashlib.sha256(b"another artifact").digest())) == (
        400,
        {"code": 400, "message": "the entry's signature does not verify"},
    )
    assert post({"apiVersion": "0.0.1", "kind": "rekord", "spec": {}})[0] == 400
    assert instance.rekor.size == size + 1
