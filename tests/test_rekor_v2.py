"""Keyless signing against a Rekor v1 instance and a Rekor v2 instance with a timestamp authority.

The same sbomgen commands sign against each: which log, and whether a timestamp authority
countersigns, is the trust config's choice (its signing config), made by the sigstore
library. Verification is offline: the v2 bundles' time comes from the signed timestamp.
"""

from __future__ import annotations

import base64
import copy
import datetime as dt
import hashlib
import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from conftest import BUILDER, DATA, changed_copy, one_line_failure, sbomgen, small_tarball
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from hypothesis import given, settings
from hypothesis import strategies as st
from rekor_v2 import KEY_DETAILS, RekorV2, SigstoreInstanceV2, tile_path
from rfc3161_client import TimestampRequestBuilder, VerifierBuilder, decode_timestamp_response
from rfc3161_client.base import HashAlgorithm
from sigstore.models import Bundle, ClientTrustConfig
from sigstore.verify import Verifier, policy
from sigstore_instance import SigstoreInstance, b64, leaf_hash, merkle_root
from timestamp_authority import TimestampAuthority

from sbomgen.provenance.verify import Request
from sbomgen.provenance.verify import verify as api_verify

EMAIL = "release-manager@example.org"
ARTIFACT = DATA / "sigstore" / "rfc8785-0.1.2-py3-none-any.whl"  # small: signing is what is tested
PROVENANCE = f"{ARTIFACT.name}.intoto.sigstore.json"
SIGNATURE = f"{ARTIFACT.name}.sigstore"


@dataclass(frozen=True)
class Signed:
    """A running instance, its trust config, and a folder with the keyless provenance and
    message signature of ARTIFACT that sbomgen made against it."""

    instance: SigstoreInstance
    trust: Path
    out: Path


def _signed_against(instance: SigstoreInstance, folder: Path) -> Signed:
    instance.seed_log(5)  # other signers' entries, so inclusion proofs have hashes
    trust = folder / "trust-config.json"
    trust.write_text(instance.trust_config())
    options = ("--identity-token", instance.issuer.token(EMAIL), "--trust-config", trust, "-d", folder)
    run = sbomgen("provenance", ARTIFACT, "--builder-id", BUILDER, "--sign", "sigstore", *options)
    assert run.returncode == 0, run.stderr
    run = sbomgen("sign", ARTIFACT, *options)
    assert run.returncode == 0, run.stderr
    return Signed(instance, trust, folder)


@pytest.fixture(scope="session")
def v1(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Signed]:
    with SigstoreInstance() as instance:
        yield _signed_against(instance, tmp_path_factory.mktemp("v1"))


@pytest.fixture(scope="session")
def v2(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Signed]:
    with SigstoreInstanceV2() as instance:
        yield _signed_against(instance, tmp_path_factory.mktemp("v2"))


@pytest.fixture(params=["v1", "v2"])
def each(request: pytest.FixtureRequest) -> Signed:
    return request.getfixturevalue(request.param)  # type: ignore[no-any-return]


def log_of(instance: SigstoreInstance) -> Any:
    return instance.rekor_v2 if isinstance(instance, SigstoreInstanceV2) else instance.rekor


def verify(signed: Signed, bundle: Path, artifact: Path = ARTIFACT, trust: Path | None = None) -> Any:
    return sbomgen(
        "verify", artifact, "--bundle", bundle, "--identity", EMAIL, "--issuer", signed.instance.issuer.url,
        "--trust-config", trust or signed.trust,
    )  # fmt: skip


def sigstore_verifier(trust: Path) -> Verifier:
    return Verifier(trusted_root=ClientTrustConfig.from_json(trust.read_text()).trusted_root)


def test_each_instance_signs_with_the_log_and_timestamps_its_config_names(
    each: Signed, tmp_path: Path
) -> None:
    instance, trust, signed = each.instance, each.trust, each.out
    identity = policy.Identity(identity=EMAIL, issuer=instance.issuer.url)
    provenance, signature = (
        json.loads((signed / PROVENANCE).read_text()),
        json.loads((signed / SIGNATURE).read_text()),
    )
    sigstore_verifier(trust).verify_dsse(Bundle.from_json(json.dumps(provenance)), identity)
    sigstore_verifier(trust).verify_artifact(
        ARTIFACT.read_bytes(), Bundle.from_json(json.dumps(signature)), identity
    )
    entries = [b["verificationMaterial"]["tlogEntries"][0] for b in (provenance, signature)]
    timestamps = [b["verificationMaterial"].get("timestampVerificationData") for b in (provenance, signature)]
    if isinstance(instance, SigstoreInstanceV2):
        # sigstore-python logs a DSSE envelope as a hashedrekord over its PAE (rekor-v2-spec 6.1.4).
        assert [e["kindVersion"] for e in entries] == [{"kind": "hashedrekord", "version": "0.0.2"}] * 2
        assert all("inclusionPromise" not in e and e.get("integratedTime", "0") == "0" for e in entries)
        assert all(len(t["rfc3161Timestamps"]) == 1 for t in timestamps)  # type: ignore[index]
        assert instance.tsa.requests.count("POST /api/v1/timestamp") >= 2
        assert "POST /api/v1/log/entries" not in instance.rekor.requests
    else:
        assert [e["kindVersion"]["kind"] for e in entries] == ["dsse", "hashedrekord"]
        assert all(e["kindVersion"]["version"] == "0.0.1" and "inclusionPromise" in e for e in entries)
        assert timestamps == [{"rfc3161Timestamps": []}] * 2
    assert all(e["logId"]["keyId"] == b64(log_of(instance).log_id) for e in entries)

    # sbomgen verifies offline: no service is asked anything while it does.
    asked = [list(s.requests) for s in instance.services]
    for bundle in (signed / PROVENANCE, signed / SIGNATURE):
        run = verify(each, bundle)
        assert run.returncode == 0, run.stderr
        assert "ok  signature: " in run.stdout.decode()
    assert [list(s.requests) for s in instance.services] == asked
    one_line_failure(verify(each, signed / SIGNATURE, changed_copy(ARTIFACT, tmp_path)), "subject")


def _flip(text: str, at: int | None = None) -> str:
    raw = bytearray(base64.b64decode(text))
    raw[len(raw) // 2 if at is None else at] ^= 1
    return base64.b64encode(bytes(raw)).decode()


def _timestamp(material: dict[str, Any]) -> dict[str, Any]:
    return material["timestampVerificationData"]["rfc3161Timestamps"][0]  # type: ignore[no-any-return]


def _tamper_timestamp_signature(material: dict[str, Any]) -> None:
    _timestamp(material)["signedTimestamp"] = _flip(_timestamp(material)["signedTimestamp"], -10)


def _tamper_timestamp_time(material: dict[str, Any]) -> None:
    """One second added to the signed time (the TSTInfo's GeneralizedTime, 'YYYYMMDDHHMMSSZ')."""
    raw = base64.b64decode(_timestamp(material)["signedTimestamp"])
    when = decode_timestamp_response(raw).tst_info.gen_time
    later = when + dt.timedelta(seconds=1)
    signed, changed = (t.strftime("%Y%m%d%H%M%SZ").encode() for t in (when, later))
    assert raw.count(signed) == 1
    _timestamp(material)["signedTimestamp"] = base64.b64encode(raw.replace(signed, changed)).decode()


def _drop_timestamp(material: dict[str, Any]) -> None:
    del material["timestampVerificationData"]


def _tamper_proof_hash(material: dict[str, Any]) -> None:
    proof = material["tlogEntries"][0]["inclusionProof"]
    proof["hashes"][0] = _flip(proof["hashes"][0])


def _tamper_body(material: dict[str, Any]) -> None:
    entry = material["tlogEntries"][0]
    entry["canonicalizedBody"] = _flip(entry["canonicalizedBody"])


def _tamper_checkpoint_signature(material: dict[str, Any]) -> None:
    checkpoint = material["tlogEntries"][0]["inclusionProof"]["checkpoint"]
    note, signature_line = checkpoint["envelope"].split("\n\n")
    dash, name, signature = signature_line.split(" ")
    checkpoint["envelope"] = f"{note}\n\n{dash} {name} {_flip(signature.strip())}\n"


def _tamper_checkpoint_root(material: dict[str, Any]) -> None:
    """The root hash the note names: the log's signature no longer covers the note."""
    checkpoint = material["tlogEntries"][0]["inclusionProof"]["checkpoint"]
    origin, size, root, rest = checkpoint["envelope"].split("\n", 3)
    checkpoint["envelope"] = "\n".join((origin, size, _flip(root), rest))


@pytest.mark.parametrize(
    ("tamper", "message"),
    [
        (_tamper_timestamp_signature, "not enough sources of verified time"),
        (_tamper_timestamp_time, "not enough sources of verified time"),
        (_drop_timestamp, "bundle must contain an inclusion promise or signed timestamp(s)"),
        (_tamper_proof_hash, "invalid log entry: inclusion proof contains invalid root hash"),
        (_tamper_body, "invalid log entry: inclusion proof contains invalid root hash"),
        (_tamper_checkpoint_signature, "invalid log entry: checkpoint: invalid signature"),
        (_tamper_checkpoint_root, "invalid log entry: checkpoint: invalid signature"),
    ],
    ids=["timestamp-signature", "timestamp-time", "no-timestamp", "proof-hash", "entry-body",
         "checkpoint-signature", "checkpoint-root"],
)  # fmt: skip
def test_a_tampered_timestamp_log_entry_or_checkpoint_fails(
    v2: Signed, tmp_path: Path, tamper: Any, message: str
) -> None:
    """The provenance through the command line (one line), the message signature through the API."""
    check = "bundle" if tamper is _drop_timestamp else "signature"  # sigstore's bundle model refuses it
    for name in (PROVENANCE, SIGNATURE):
        bundle = json.loads((v2.out / name).read_text())
        tampered = copy.deepcopy(bundle)
        tamper(tampered["verificationMaterial"])
        assert tampered != bundle
        path = tmp_path / name
        path.write_text(json.dumps(tampered))
        if name == PROVENANCE:
            assert message in one_line_failure(verify(v2, path), check)
            continue
        request = Request(identity=EMAIL, issuer=v2.instance.issuer.url, trust_config=v2.trust)
        failure = api_verify(ARTIFACT, path, request).first_failure
        assert failure is not None and failure.check == check and message in failure.detail


def test_a_timestamp_outside_the_certificates_life_fails(v2: Signed, tmp_path: Path) -> None:
    """The signed timestamp is the time the certificate is checked at, not the clock of the verifier."""
    instance = v2.instance
    assert isinstance(instance, SigstoreInstanceV2)
    instance.tsa.clock_offset = -dt.timedelta(minutes=30)
    try:
        token = instance.issuer.token(EMAIL)
        run = sbomgen("sign", ARTIFACT, "--identity-token", token, "--trust-config", v2.trust, "-d", tmp_path)
    finally:
        instance.tsa.clock_offset = dt.timedelta(0)
    assert run.returncode == 0, run.stderr
    line = one_line_failure(verify(v2, tmp_path / SIGNATURE), "signature")
    assert "failed to build timestamp certificate chain" in line


def test_a_timestamp_authority_that_does_not_answer_fails_the_signing(v2: Signed, tmp_path: Path) -> None:
    """sigstore only logs a failed timestamp request; with Rekor v2 it leaves the bundle without
    signed time, and sbomgen's one line says why."""
    instance = v2.instance
    assert isinstance(instance, SigstoreInstanceV2)
    config = json.loads(v2.trust.read_text())
    nowhere = f"{instance.tsa.url}/nowhere"
    config["signingConfig"]["tsaUrls"][0]["url"] = nowhere
    trust = tmp_path / "trust-config.json"
    trust.write_text(json.dumps(config))
    out = tmp_path / "out"
    run = sbomgen(
        "sign", ARTIFACT, "--identity-token", instance.issuer.token(EMAIL), "--trust-config", trust, "-d", out
    )
    assert run.returncode == 10
    assert run.stderr.splitlines() == [
        "sbomgen: error: keyless signing failed: bundle must contain an inclusion promise or signed "
        f"timestamp(s); Unable to use {nowhere} to timestamp the bundle. Failed with error while sending "
        f"the request to the TSA: 404 Client Error: Not Found for url: {nowhere}"
    ]
    assert not out.exists()


def test_a_bundle_verifies_only_against_the_instance_that_made_it(each: Signed, tmp_path: Path) -> None:
    """The v1 root does not know the v2 log or its TSA, and the reverse."""
    instance = each.instance
    other = SigstoreInstance() if isinstance(instance, SigstoreInstanceV2) else SigstoreInstanceV2()
    other.ca, other.fulcio.ca = instance.ca, instance.ca  # same Fulcio root and CT log: only the log differs
    other.ct_log = instance.ct_log
    for service in other.services:
        service._server.server_close()
    other_trust = tmp_path / "other.json"
    other_trust.write_text(other.trust_config())
    for bundle in (PROVENANCE, SIGNATURE):
        line = one_line_failure(verify(each, each.out / bundle, trust=other_trust), "signature")
        if isinstance(instance, SigstoreInstanceV2):
            assert "no Timestamp Authorities have been provided to validate this bundle" in line
        else:
            assert "invalid log entry: checkpoint: invalid signature" in line


# --- the services themselves ----------------------------------------------------------


def _post(url: str, body: bytes, kind: str = "application/json") -> tuple[int, bytes]:
    request = urllib.request.Request(url, data=body, headers={"Content-Type": kind})
    try:
        with urllib.request.urlopen(request) as answer:
            return answer.status, answer.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def _get(url: str) -> bytes:
    with urllib.request.urlopen(url) as answer:
        return answer.read()  # type: ignore[no-any-return]


def test_the_log_takes_dsse_requests_and_serves_its_tree_as_tiles(v2: Signed) -> None:
    assert isinstance(v2.instance, SigstoreInstanceV2)
    log: RekorV2 = v2.instance.rekor_v2
    key = ec.generate_private_key(ec.SECP256R1())
    spki = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    payload, payload_type = b'{"_type": "https://in-toto.io/Statement/v1"}', "application/vnd.in-toto+json"
    pae = b"DSSEv1 %d %s %d %s" % (len(payload_type), payload_type.encode(), len(payload), payload)
    signature = key.sign(pae, ec.ECDSA(hashes.SHA256()))
    verifier = {"publicKey": {"rawBytes": b64(spki)}, "keyDetails": KEY_DETAILS}
    request = {
        "dsseRequestV002": {
            "envelope": {
                "payload": b64(payload),
                "payloadType": payload_type,
                "signatures": [{"sig": b64(signature), "keyid": ""}],
            },
            "verifiers": [verifier],
        }
    }  # fmt: skip
    status, answer = _post(f"{log.url}/api/v2/log/entries", json.dumps(request).encode())
    assert status == 201, answer
    entry = json.loads(answer)
    assert entry["kindVersion"] == {"kind": "dsse", "version": "0.0.2"}
    body = json.loads(base64.b64decode(entry["canonicalizedBody"]))
    assert body == {
        "apiVersion": "0.0.2",
        "kind": "dsse",
        "spec": {
            "dsseV002": {
                "payloadHash": {"algorithm": "SHA2_256", "digest": b64(hashlib.sha256(payload).digest())},
                "signatures": [{"content": b64(signature), "verifier": verifier}],
            }
        },
    }
    # A signature that does not verify, or an unknown request, is refused and not logged.
    size = log.size
    bad = copy.deepcopy(request)
    bad["dsseRequestV002"]["envelope"]["payload"] = b64(payload + b" ")
    assert _post(f"{log.url}/api/v2/log/entries", json.dumps(bad).encode())[0] == 400
    assert _post(f"{log.url}/api/v2/log/entries", b'{"rekordRequestV001": {}}')[0] == 400
    assert log.size == size

    # The tree read as tiles: the checkpoint is signed by the log's key (C2SP ECDSA key ID),
    # and the level-0 tile's hashes are the leaves of the entries' bodies, whose root it names.
    checkpoint = _get(f"{log.url}/checkpoint").decode()
    note, signature_line = checkpoint.split("\n\n")
    origin, size_line, root = note.split("\n")[:3]
    assert origin == log.origin and int(size_line) == log.size
    name, signed_bytes = signature_line.split(" ")[1:]
    raw = base64.b64decode(signed_bytes)
    assert name == log.origin and raw[:4] == hashlib.sha256(spki_of(log)).digest()[:4]
    log.key.public_key().verify(raw[4:], f"{note}\n".encode(), ec.ECDSA(hashes.SHA256()))
    width = int(size_line)
    tile = _get(f"{log.url}/tile/0/{tile_path(0)}.p/{width}")
    leaves = [tile[i : i + 32] for i in range(0, len(tile), 32)]
    assert len(leaves) == width and base64.b64encode(merkle_root(leaves)).decode() == root
    bundle = _get(f"{log.url}/tile/entries/{tile_path(0)}.p/{width}")
    bodies, at = [], 0
    while at < len(bundle):
        length = int.from_bytes(bundle[at : at + 2], "big")
        bodies.append(bundle[at + 2 : at + 2 + length])
        at += 2 + length
    assert [leaf_hash(b) for b in bodies] == leaves
    assert base64.b64decode(entry["canonicalizedBody"]) in bodies
    with pytest.raises(urllib.error.HTTPError):
        _get(f"{log.url}/tile/0/{tile_path(0)}")  # a full tile of 256 does not exist yet
    assert [tile_path(n) for n in (0, 7, 1234067)] == ["000", "007", "x001/x234/067"]


def spki_of(log: RekorV2) -> bytes:
    return log.key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def test_the_timestamp_authority_answers_rfc_3161(v2: Signed) -> None:
    assert isinstance(v2.instance, SigstoreInstanceV2)
    tsa: TimestampAuthority = v2.instance.tsa
    request = (
        TimestampRequestBuilder()
        .hash_algorithm(HashAlgorithm.SHA256)
        .data(b"signature")
        .nonce(nonce=True)
        .build()
    )
    status, body = _post(f"{tsa.url}/api/v1/timestamp", request.as_bytes(), "application/timestamp-query")
    assert status == 200
    response = decode_timestamp_response(body)
    verifier = (
        VerifierBuilder.from_request(request)
        .tsa_certificate(tsa.certificate)
        .add_root_certificate(tsa.root)
        .build()
    )
    assert verifier.verify_message(response, b"signature")
    assert (
        response.tst_info.nonce == request.nonce
        and response.tst_info.policy.dotted_string == "1.3.6.1.4.1.57264.2"
    )
    with pytest.raises(Exception, match="Mismatch between messages"):
        verifier.verify_message(response, b"another signature")
    status, body = _post(f"{tsa.url}/api/v1/timestamp", b"not DER", "application/timestamp-query")
    assert status == 400 and decode_timestamp_response(body).status == 2  # rejection
    chain = _get(f"{tsa.url}/api/v1/timestamp/certchain").decode()
    assert chain.count("BEGIN CERTIFICATE") == 2


@settings(max_examples=200, deadline=None)
@given(request=st.binary(max_size=300))
def test_the_timestamp_authority_rejects_what_is_not_a_request(v2: Signed, request: bytes) -> None:
    """Any bytes get a granted answer or an RFC 3161 rejection, never a server error."""
    assert isinstance(v2.instance, SigstoreInstanceV2)
    status, body = v2.instance.tsa.answer(request)
    assert (status, decode_timestamp_response(body).status) in ((200, 0), (400, 2))


def test_sbom_and_release_attestations_against_each_instance(each: Signed, tmp_path: Path) -> None:
    """`release` signs its SBOM attestation and its release attestation through the signing
    config: each verifies by sbomgen (the release attestation by `release --check`) and by
    sigstore's Verifier, against Rekor v1 or against Rekor v2 with a signed timestamp; a
    changed artifact fails."""
    artifact = small_tarball(tmp_path / "release")
    folder = artifact.parent
    issuer = each.instance.issuer.url
    run = sbomgen(
        "release", folder, "--builder-id", BUILDER, "--sign", "sigstore",
        "--identity-token", each.instance.issuer.token(EMAIL), "--trust-config", each.trust,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    sbom_bundle = folder / f"{artifact.name}.spdx.intoto.sigstore.json"
    release_bundle = folder / "release-attestation.intoto.sigstore.json"
    v2 = isinstance(each.instance, SigstoreInstanceV2)
    for bundle in (sbom_bundle, release_bundle):
        material = json.loads(bundle.read_text())["verificationMaterial"]
        assert material["tlogEntries"][0]["kindVersion"]["version"] == ("0.0.2" if v2 else "0.0.1")
        assert bool(material.get("timestampVerificationData", {}).get("rfc3161Timestamps")) is v2
        sigstore_verifier(each.trust).verify_dsse(
            Bundle.from_json(bundle.read_bytes()), policy.Identity(identity=EMAIL, issuer=issuer)
        )
    run = sbomgen(
        "verify", artifact, "--bundle", sbom_bundle, "--identity", EMAIL, "--issuer", issuer,
        "--trust-config", each.trust, "--sbom-attestation",
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    (tmp_path / "changed").mkdir()
    changed = changed_copy(artifact, tmp_path / "changed")
    run = sbomgen(
        "verify", changed, "--bundle", sbom_bundle, "--identity", EMAIL, "--issuer", issuer,
        "--trust-config", each.trust, "--sbom-attestation",
    )  # fmt: skip
    one_line_failure(run, "subject")
    check = ("--identity", EMAIL, "--issuer", issuer, "--trust-config", each.trust)
    run = sbomgen("release", folder, "--check", release_bundle, *check)
    assert run.returncode == 0, run.stderr
    artifact.write_bytes(changed.read_bytes())
    run = sbomgen("release", folder, "--check", release_bundle, *check)
    assert run.returncode == 1 and f"changed: {artifact.name}" in run.stdout.decode() + run.stderr
