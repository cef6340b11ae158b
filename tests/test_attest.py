"""SBOM attestations and the release attestation, key-signed and keyless (against the
loopback Sigstore instance), each verified by ``sbomgen verify`` and by an independent
implementation, and each failing after a one-byte change."""

from __future__ import annotations

import base64
import hashlib
import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from conftest import (
    CPYTHON_313,
    changed_copy,
    one_line_failure,
    refused,
    sbomgen,
    small_tarball,
    write_keys,
)
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from hypothesis import given, settings
from hypothesis import strategies as st
from sigstore.models import Bundle, ClientTrustConfig
from sigstore.verify import Verifier, policy
from sigstore_instance import SigstoreInstance

EMAIL = "release-manager@example.org"
OTHER = "someone-else@example.org"
BUILDER = "https://ci.example.org/release"
SPDX2 = "https://spdx.dev/Document/v2.3"
CYCLONEDX = "https://cyclonedx.org/bom"
RELEASE = "https://in-toto.io/attestation/release/v0.2"


def digests(path: Path) -> dict[str, str]:
    data = path.read_bytes()
    return {"sha256": hashlib.sha256(data).hexdigest(), "sha512": hashlib.sha512(data).hexdigest()}


@pytest.fixture(scope="module")
def sboms(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The SPDX 2.3 and CycloneDX JSON SBOMs of Python-3.13.5.tar.xz."""
    out = tmp_path_factory.mktemp("sboms")
    run = sbomgen("tarball", CPYTHON_313, "-f", "spdx-json,cyclonedx-json", "-o", f"{out}/")
    assert run.returncode == 0, run.stderr
    return {SPDX2: out / f"{CPYTHON_313.name}.spdx.json", CYCLONEDX: out / f"{CPYTHON_313.name}.cdx.json"}


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, Path]]:
    folder = tmp_path_factory.mktemp("keys")
    return {name: write_keys(folder, name=name) for name in ("release", "other")}


def payload(envelope: dict[str, Any]) -> dict[str, Any]:
    return json.loads(base64.b64decode(envelope["payload"]))


def assert_in_toto(statement: bytes, predicate_type: str, subject: Path) -> None:
    """in-toto's own library accepts the statement, about ``subject``."""
    from google.protobuf import json_format
    from in_toto_attestation.v1 import statement_pb2
    from in_toto_attestation.v1.statement import Statement

    parsed = json_format.Parse(statement, statement_pb2.Statement())
    Statement.copy_from_pb(parsed).validate()
    assert parsed.predicate_type == predicate_type
    assert {s.name: dict(s.digest) for s in parsed.subject}[subject.name] == digests(subject)


def tampered_statement(envelope_path: Path, folder: Path) -> Path:
    """The envelope (or the bundle's envelope) with one byte of its statement changed."""
    document = json.loads(envelope_path.read_text())
    envelope = document.get("dsseEnvelope", document)
    statement = bytearray(base64.b64decode(envelope["payload"]))
    at = statement.index(b'"sha256":"') + 10
    statement[at] = ord("0") if statement[at] != ord("0") else ord("1")
    envelope["payload"] = base64.b64encode(bytes(statement)).decode()
    folder.mkdir(exist_ok=True)
    path = folder / envelope_path.name
    path.write_text(json.dumps(document))
    return path


def changed_sbom(sbom: Path, folder: Path) -> Path:
    """The SBOM with one byte of its text changed (still valid JSON: a letter of a name)."""
    data = bytearray(sbom.read_bytes())
    at = data.index(b'"name"') + 1
    data[at] = ord("N")
    folder.mkdir(exist_ok=True)
    (folder / sbom.name).write_bytes(bytes(data))
    return folder / sbom.name


@pytest.mark.parametrize("predicate_type", [SPDX2, CYCLONEDX])
def test_key_signed_sbom_attestation(
    predicate_type: str, sboms: dict[str, Path], keys: dict[str, tuple[Path, Path]], tmp_path: Path
) -> None:
    sbom = sboms[predicate_type]
    private, public = keys["release"]
    run = sbomgen("attest", CPYTHON_313, "--sbom", sbom, "--sign", f"key:{private}", "-o", f"{tmp_path}/")
    assert run.returncode == 0, run.stderr
    stem = ".spdx" if predicate_type == SPDX2 else ".cdx"
    envelope_path = tmp_path / f"{CPYTHON_313.name}{stem}.intoto.json"
    assert sorted(p.name for p in tmp_path.iterdir()) == [envelope_path.name]

    # The statement: subject the artifact, predicate the SBOM itself, typed by its format.
    envelope = json.loads(envelope_path.read_text())
    statement = payload(envelope)
    assert statement["subject"] == [{"name": CPYTHON_313.name, "digest": digests(CPYTHON_313)}]
    assert statement["predicateType"] == predicate_type
    assert statement["predicate"] == json.loads(sbom.read_text())
    assert_in_toto(base64.b64decode(envelope["payload"]), predicate_type, CPYTHON_313)

    # The signature, checked with cryptography directly over DSSE's pre-authentication encoding.
    body = base64.b64decode(envelope["payload"])
    pae = b"DSSEv1 %d %s %d %s" % (
        len(envelope["payloadType"]),
        envelope["payloadType"].encode(),
        len(body),
        body,
    )
    key = serialization.load_pem_public_key(public.read_bytes())
    assert isinstance(key, ec.EllipticCurvePublicKey)
    key.verify(base64.b64decode(envelope["signatures"][0]["sig"]), pae, ec.ECDSA(hashes.SHA256()))

    written = tmp_path / "out" / "sbom.json"
    written.parent.mkdir()
    run = sbomgen(
        "verify",
        CPYTHON_313,
        "--bundle",
        envelope_path,
        "--key",
        public,
        "--sbom-attestation",
        "--sbom",
        sbom,
        "--write-sbom",
        written,
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.decode().splitlines()[-3:] == [
        f"ok  predicate type: {predicate_type}",
        f"ok  sbom describes: the attested SBOM describes {CPYTHON_313.name}",
        f"ok  sbom: the attestation carries {sbom.name}",
    ]
    assert json.loads(written.read_text()) == json.loads(sbom.read_text())
    run = sbomgen(
        "verify", CPYTHON_313, "--bundle", envelope_path, "--key", public, "--predicate-type", predicate_type
    )
    assert run.returncode == 0, run.stderr

    # One byte changed in the artifact, the SBOM or the statement: each fails, with one line.
    artifact = changed_copy(CPYTHON_313, written.parent)
    one_line_failure(
        sbomgen("verify", artifact, "--bundle", envelope_path, "--key", public, "--sbom-attestation"),
        "subject",
    )
    other_sbom = changed_sbom(sbom, tmp_path / "sbom")
    line = one_line_failure(
        sbomgen(
            "verify",
            CPYTHON_313,
            "--bundle",
            envelope_path,
            "--key",
            public,
            "--sbom-attestation",
            "--sbom",
            other_sbom,
        ),
        "sbom",
    )
    assert line.endswith(f"the attestation carries another SBOM than {sbom.name}")
    forged = tampered_statement(envelope_path, tmp_path / "forged")
    one_line_failure(
        sbomgen("verify", CPYTHON_313, "--bundle", forged, "--key", public, "--sbom-attestation"), "signature"
    )
    # By another key, it is not the release key's.
    one_line_failure(
        sbomgen(
            "verify", CPYTHON_313, "--bundle", envelope_path, "--key", keys["other"][1], "--sbom-attestation"
        ),
        "signature",
    )
    # Provenance is still the default predicate type: an SBOM attestation is named, not taken.
    line = one_line_failure(
        sbomgen("verify", CPYTHON_313, "--bundle", envelope_path, "--key", public), "predicate type"
    )
    assert line.endswith("pass --sbom-attestation to accept it")


def test_keyless_sbom_attestation(
    instance: SigstoreInstance, trust_config: Path, sboms: dict[str, Path], tmp_path: Path
) -> None:
    sbom = sboms[SPDX2]
    run = sbomgen(
        "attest",
        CPYTHON_313,
        "--sbom",
        sbom,
        "--sign",
        "sigstore",
        "--identity-token",
        instance.issuer.token(EMAIL),
        "--trust-config",
        trust_config,
        "-o",
        f"{tmp_path}/",
    )
    assert run.returncode == 0, run.stderr
    bundle = tmp_path / f"{CPYTHON_313.name}.spdx.intoto.sigstore.json"
    assert bundle.is_file()

    # sigstore's own Verifier: the certificate, the log entry, the signer.
    verifier = Verifier(trusted_root=ClientTrustConfig.from_json(trust_config.read_text()).trusted_root)
    payload_type, statement = verifier.verify_dsse(
        Bundle.from_json(bundle.read_bytes()), policy.Identity(identity=EMAIL, issuer=instance.issuer.url)
    )
    assert payload_type == "application/vnd.in-toto+json"
    assert_in_toto(statement, SPDX2, CPYTHON_313)
    assert json.loads(statement)["predicate"] == json.loads(sbom.read_text())

    def verify(artifact: Path, material: Path, *extra: str | Path, identity: str = EMAIL) -> Any:
        return sbomgen(
            "verify",
            artifact,
            "--bundle",
            material,
            "--identity",
            identity,
            "--issuer",
            instance.issuer.url,
            "--trust-config",
            trust_config,
            "--sbom-attestation",
            *extra,
        )

    written = tmp_path / "written.spdx.json"
    run = verify(CPYTHON_313, bundle, "--sbom", sbom, "--write-sbom", written)
    assert run.returncode == 0, run.stderr
    assert json.loads(written.read_text()) == json.loads(sbom.read_text())
    (tmp_path / "artifact").mkdir()
    one_line_failure(verify(changed_copy(CPYTHON_313, tmp_path / "artifact"), bundle), "subject")
    one_line_failure(verify(CPYTHON_313, bundle, "--sbom", changed_sbom(sbom, tmp_path / "sbom")), "sbom")
    one_line_failure(verify(CPYTHON_313, tampered_statement(bundle, tmp_path / "forged")), "signature")
    one_line_failure(verify(CPYTHON_313, bundle, identity=OTHER), "identity")


def test_sbom_refusals(sboms: dict[str, Path], tmp_path: Path) -> None:
    artifact = small_tarball(tmp_path / "rel")
    # The SBOM of another artifact: its recorded checksum is not this one's.
    line = refused(
        tmp_path,
        4,
        "attest",
        artifact,
        "--sbom",
        sboms[SPDX2],
        "-o",
        "{out}",
        fragments=("does not describe Python-3.99.0.tgz",),
    )
    assert line.count("\n") == 0
    # Not JSON: CycloneDX XML and SPDX tag-value are refused, one line each.
    folder = tmp_path / "formats"
    assert (
        sbomgen("tarball", artifact, "-f", "cyclonedx-xml,spdx-tv,spdx-json", "-o", f"{folder}/").returncode
        == 0
    )
    for name in ("Python-3.99.0.tgz.cdx.xml", "Python-3.99.0.tgz.spdx"):
        refused(
            tmp_path,
            4,
            "attest",
            artifact,
            "--sbom",
            folder / name,
            "-o",
            "{out}",
            fragments=("not a JSON SBOM",),
        )
    # JSON, but no SBOM.
    (tmp_path / "other.json").write_text('{"hello": "world"}')
    refused(
        tmp_path,
        4,
        "attest",
        artifact,
        "--sbom",
        tmp_path / "other.json",
        "-o",
        "{out}",
        fragments=("not an SBOM",),
    )
    # An SPDX SBOM whose described package records no checksum names no artifact.
    document = json.loads((folder / "Python-3.99.0.tgz.spdx.json").read_text())
    for package in document["packages"]:
        package.pop("checksums", None)
    (tmp_path / "bare.spdx.json").write_text(json.dumps(document))
    refused(
        tmp_path,
        4,
        "attest",
        artifact,
        "--sbom",
        tmp_path / "bare.spdx.json",
        "-o",
        "{out}",
        fragments=("does not describe",),
    )
    # --write-sbom is for SBOM attestations only.
    refused(
        tmp_path,
        2,
        "verify",
        artifact,
        "--bundle",
        tmp_path / "other.json",
        "--key",
        sboms[SPDX2],
        "--write-sbom",
        "{out}",
        fragments=("--write-sbom needs --sbom-attestation",),
    )


def spdx3_document(artifact: Path) -> dict[str, Any]:
    """A minimal SPDX 3 JSON-LD SBOM whose root element is ``artifact``, verified by its SHA-256."""
    return {
        "@context": "https://spdx.org/rdf/3.0.1/spdx-context.jsonld",
        "@graph": [
            {
                "type": "CreationInfo",
                "@id": "_:creationinfo",
                "specVersion": "3.0.1",
                "created": "2025-06-11T00:00:00Z",
                "createdBy": ["urn:spdx:sbomgen"],
            },
            {
                "type": "SpdxDocument",
                "spdxId": "urn:spdx:doc",
                "creationInfo": "_:creationinfo",
                "rootElement": ["urn:spdx:sbom"],
            },
            {
                "type": "software_Sbom",
                "spdxId": "urn:spdx:sbom",
                "creationInfo": "_:creationinfo",
                "rootElement": ["urn:spdx:cpython"],
            },
            {
                "type": "software_Package",
                "spdxId": "urn:spdx:cpython",
                "creationInfo": "_:creationinfo",
                "name": "CPython",
                "verifiedUsing": [
                    {"type": "Hash", "algorithm": "sha256", "hashValue": digests(artifact)["sha256"]}
                ],
            },
        ],
    }


def test_spdx3_sbom_attestation(keys: dict[str, tuple[Path, Path]], tmp_path: Path) -> None:
    artifact = small_tarball(tmp_path / "rel")
    sbom = tmp_path / "Python-3.99.0.tgz.spdx3.json"
    sbom.write_text(json.dumps(spdx3_document(artifact)))
    private, public = keys["release"]
    run = sbomgen("attest", artifact, "--sbom", sbom, "--sign", f"key:{private}", "-o", f"{tmp_path}/")
    assert run.returncode == 0, run.stderr
    envelope = tmp_path / "Python-3.99.0.tgz.spdx3.intoto.json"
    assert payload(json.loads(envelope.read_text()))["predicateType"] == "https://spdx.dev/Document/v3"
    run = sbomgen(
        "verify", artifact, "--bundle", envelope, "--key", public, "--sbom-attestation", "--sbom", sbom
    )
    assert run.returncode == 0, run.stderr
    other = tmp_path / "other.spdx3.json"
    other.write_text(json.dumps(spdx3_document(CPYTHON_313)))
    refused(tmp_path, 4, "attest", artifact, "--sbom", other, "-o", "{out}", fragments=("does not describe",))


def check(folder: Path, attestation: Path, *signer: str | Path) -> Any:
    return sbomgen("release", folder, "--check", attestation, *signer)


def one_line(run: Any, code: int, line: str) -> None:
    assert run.returncode == code, run.stderr
    assert run.stdout.decode().splitlines() == [line], run.stdout


def test_key_signed_release_attestation(keys: dict[str, tuple[Path, Path]], tmp_path: Path) -> None:
    artifact = small_tarball(tmp_path / "rel")
    folder = artifact.parent
    (folder / "Python-3.99.0.tgz.asc").write_bytes(b"a signature published beside it\n")
    private, public = keys["release"]
    run = sbomgen(
        "release",
        folder,
        "-f",
        "spdx-json,cyclonedx-json",
        "--builder-id",
        BUILDER,
        "--sign",
        f"key:{private}",
    )
    assert run.returncode == 0, run.stderr
    attestation = folder / "release-attestation.intoto.json"
    envelope = json.loads(attestation.read_text())
    statement = payload(envelope)
    assert_in_toto(base64.b64decode(envelope["payload"]), RELEASE, artifact)
    assert statement["predicate"] == {"purl": "pkg:generic/python@3.99.0"}
    made = [
        "Python-3.99.0.tgz",
        "Python-3.99.0.tgz.asc",
        "Python-3.99.0.tgz.cdx.intoto.json",
        "Python-3.99.0.tgz.cdx.json",
        "Python-3.99.0.tgz.intoto.json",
        "Python-3.99.0.tgz.spdx.intoto.json",
        "Python-3.99.0.tgz.spdx.json",
    ]
    assert statement["subject"] == [{"name": name, "digest": digests(folder / name)} for name in made]
    # Every attestation release made verifies, by sbomgen and with the key directly.
    for name, predicate_type in (("spdx", SPDX2), ("cdx", CYCLONEDX)):
        material = folder / f"Python-3.99.0.tgz.{name}.intoto.json"
        run = sbomgen(
            "verify", artifact, "--bundle", material, "--key", public, "--predicate-type", predicate_type
        )
        assert run.returncode == 0, run.stderr

    one_line(
        check(folder, attestation, "--key", public), 0, f"{folder}: as the release attestation records it"
    )
    # The release attestation's signature is verified first: another key's is refused, one line.
    resigned = tmp_path / "resigned.intoto.json"
    body = base64.b64decode(envelope["payload"])
    key = serialization.load_pem_private_key(keys["other"][0].read_bytes(), password=None)
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    pae = b"DSSEv1 28 application/vnd.in-toto+json %d %s" % (len(body), body)
    envelope["signatures"] = [
        {"keyid": "", "sig": base64.b64encode(key.sign(pae, ec.ECDSA(hashes.SHA256()))).decode()}
    ]
    resigned.write_text(json.dumps(envelope))
    run = check(folder, resigned, "--key", public)
    assert run.returncode == 9 and run.stdout == b""
    assert run.stderr.strip().splitlines() == [
        "sbomgen: error: signature: no signature of the envelope is made by the key release.pub"
    ]
    one_line(
        check(folder, resigned, "--key", keys["other"][1]),
        0,
        f"{folder}: as the release attestation records it",
    )
    # One byte of the signed statement changed: the signature fails, one line.
    run = check(folder, tampered_statement(attestation, tmp_path / "forged"), "--key", public)
    assert run.returncode == 9 and run.stderr.startswith("sbomgen: error: signature: "), run.stderr
    assert len(run.stderr.strip().splitlines()) == 1
    # A file added, a byte changed: each named on one line, exit 1.
    (folder / "python-3.99.0-amd64-extra.msi").write_bytes(b"quietly added after publication")
    one_line(check(folder, attestation, "--key", public), 1, "added: python-3.99.0-amd64-extra.msi")
    (folder / "python-3.99.0-amd64-extra.msi").unlink()
    changed = changed_copy(folder / "Python-3.99.0.tgz.spdx.json", tmp_path)
    shutil.copyfile(changed, folder / "Python-3.99.0.tgz.spdx.json")
    one_line(check(folder, attestation, "--key", public), 1, "changed: Python-3.99.0.tgz.spdx.json")
    # An unsigned statement, or no signer named, is no release attestation to trust.
    refused(tmp_path, 2, "release", folder, "--check", attestation, fragments=("say who signed it",))


def test_release_check_compares_every_digest_a_subject_gives(
    keys: dict[str, tuple[Path, Path]], tmp_path: Path
) -> None:
    """A subject's every digest sbomgen can compute is compared, as verify compares them: a
    wrong SHA3 or SHAKE beside the right SHA256 is a changed file, not one as recorded."""
    from sbomgen.provenance.signing import sign_with_key

    folder = tmp_path / "rel"
    folder.mkdir()
    content = b"a file of the release\n"
    (folder / "a.txt").write_bytes(content)
    private, public = keys["release"]
    right = {
        "sha256": hashlib.sha256(content).hexdigest(),
        "sha3_256": hashlib.sha3_256(content).hexdigest(),
        "shake128": hashlib.shake_128(content).hexdigest(32),
    }
    cases = [
        ({"sha256": right["sha256"]}, 0),
        ({"sha256": right["sha256"], "sha3_256": "0" * 64}, 1),
        ({"sha256": right["sha256"], "SHAKE-128": "0" * 64}, 1),
        ({"sha256": right["sha256"], "md5": "0" * 32}, 1),
        ({"sha3_256": right["sha3_256"], "shake128": right["shake128"]}, 0),
    ]
    for digest, code in cases:
        statement = {
            "_type": "https://in-toto.io/Statement/v1",
            "subject": [{"name": "a.txt", "digest": digest}],
            "predicateType": RELEASE,
            "predicate": {"purl": "pkg:generic/python@3.99.0"},
        }
        attestation = tmp_path / "release-attestation.intoto.json"
        attestation.write_bytes(sign_with_key(json.dumps(statement).encode(), private))
        expected = f"{folder}: as the release attestation records it" if code == 0 else "changed: a.txt"
        one_line(check(folder, attestation, "--key", public), code, expected)


def test_key_signed_release_of_the_real_cpython_tarball(
    keys: dict[str, tuple[Path, Path]], tmp_path: Path
) -> None:
    """One real run: Python-3.13.5.tar.xz released, every attestation verified, then one
    byte of the tarball changed."""
    folder = tmp_path / "release"
    folder.mkdir()
    artifact = folder / CPYTHON_313.name
    shutil.copyfile(CPYTHON_313, artifact)
    private, public = keys["release"]
    run = sbomgen(
        "release", folder, "-f", "spdx-json,cyclonedx-json", "--builder-id", BUILDER,
        "--sign", f"key:{private}",
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    name = CPYTHON_313.name
    attestation = folder / "release-attestation.intoto.json"
    statement = payload(json.loads(attestation.read_text()))
    assert statement["predicateType"] == RELEASE
    assert statement["predicate"] == {"purl": "pkg:generic/python@3.13.5"}
    made = [name, *(f"{name}.{end}" for end in ("cdx.intoto.json", "cdx.json", "intoto.json",
                                                "spdx.intoto.json", "spdx.json"))]  # fmt: skip
    assert statement["subject"] == [{"name": file, "digest": digests(folder / file)} for file in made]
    bundles = {
        f"{name}.spdx.intoto.json": ("--sbom-attestation",),
        f"{name}.cdx.intoto.json": ("--predicate-type", CYCLONEDX),
        f"{name}.intoto.json": ("--builder-id", BUILDER),
        "release-attestation.intoto.json": ("--predicate-type", RELEASE),
    }

    def verify(bundle: str, options: tuple[str, ...]) -> Any:
        return sbomgen("verify", artifact, "--bundle", folder / bundle, "--key", public, *options)

    for bundle, options in bundles.items():
        run = verify(bundle, options)
        assert run.returncode == 0, (bundle, run.stderr)
    ok = f"{folder}: as the release attestation records it"
    one_line(check(folder, attestation, "--key", public), 0, ok)
    # One byte of the tarball changed: release --check names it, and the SBOM attestation's
    # and the release attestation's subject no longer match it, each on one line (the other
    # kinds fail the same way on the small tarballs above).
    shutil.copyfile(changed_copy(artifact, tmp_path), artifact)
    one_line(check(folder, attestation, "--key", public), 1, f"changed: {name}")
    for bundle in (f"{name}.spdx.intoto.json", "release-attestation.intoto.json"):
        one_line_failure(verify(bundle, bundles[bundle]), "subject")


def test_keyless_release_attestation(instance: SigstoreInstance, trust_config: Path, tmp_path: Path) -> None:
    artifact = small_tarball(tmp_path / "rel")
    folder = artifact.parent
    run = sbomgen(
        "release",
        folder,
        "--builder-id",
        BUILDER,
        "--sign",
        "sigstore",
        "--identity-token",
        instance.issuer.token(EMAIL),
        "--trust-config",
        trust_config,
    )
    assert run.returncode == 0, run.stderr
    attestation = folder / "release-attestation.intoto.sigstore.json"
    verifier = Verifier(trusted_root=ClientTrustConfig.from_json(trust_config.read_text()).trusted_root)
    _, statement = verifier.verify_dsse(
        Bundle.from_json(attestation.read_bytes()),
        policy.Identity(identity=EMAIL, issuer=instance.issuer.url),
    )
    assert_in_toto(statement, RELEASE, artifact)
    sbom_bundle = folder / "Python-3.99.0.tgz.spdx.intoto.sigstore.json"
    _, sbom_statement = verifier.verify_dsse(
        Bundle.from_json(sbom_bundle.read_bytes()),
        policy.Identity(identity=EMAIL, issuer=instance.issuer.url),
    )
    assert json.loads(sbom_statement)["predicate"] == json.loads(
        (folder / "Python-3.99.0.tgz.spdx.json").read_text()
    )

    def signer(identity: str) -> list[str | Path]:
        return ["--identity", identity, "--issuer", instance.issuer.url, "--trust-config", trust_config]

    one_line(
        check(folder, attestation, *signer(EMAIL)), 0, f"{folder}: as the release attestation records it"
    )
    # The same statement re-signed by another identity: refused before anything is compared.
    from sigstore.dsse import Statement
    from sigstore.oidc import IdentityToken
    from sigstore.sign import SigningContext

    context = SigningContext.from_trust_config(ClientTrustConfig.from_json(trust_config.read_text()))
    with context.signer(IdentityToken(instance.issuer.token(OTHER))) as signing:
        resigned = signing.sign_dsse(Statement(statement))
    (tmp_path / "resigned.sigstore.json").write_text(resigned.to_json())
    run = check(folder, tmp_path / "resigned.sigstore.json", *signer(EMAIL))
    assert run.returncode == 9 and run.stdout == b"", run.stderr
    assert run.stderr.strip().splitlines() == [
        f"sbomgen: error: identity: the certificate names {OTHER}; expected {EMAIL}"
    ]
    one_line(
        check(folder, tmp_path / "resigned.sigstore.json", *signer(OTHER)),
        0,
        f"{folder}: as the release attestation records it",
    )
    (folder / "extra.txt").write_text("added")
    one_line(check(folder, attestation, *signer(EMAIL)), 1, "added: extra.txt")


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-5, 5) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=20,
)
_ELEMENT = st.fixed_dictionaries(
    {},
    optional={
        "type": st.sampled_from(["SpdxDocument", "software_Sbom", "software_Package"]) | _JSON,
        "spdxId": st.sampled_from(["urn:a", "urn:b"]) | _JSON,
        "rootElement": st.lists(st.sampled_from(["urn:a", "urn:b"]) | _JSON, max_size=3) | _JSON,
        "verifiedUsing": st.lists(
            st.fixed_dictionaries(
                {"type": st.just("Hash") | _JSON},
                optional={"algorithm": st.just("sha256") | _JSON, "hashValue": st.just("ab" * 32) | _JSON},
            ),
            max_size=2,
        )
        | _JSON,
    },
)


@settings(max_examples=300, deadline=None)
@given(graph=st.lists(_ELEMENT | _JSON, max_size=5) | _JSON)
def test_any_spdx3_shaped_document_is_attested_or_refused_in_one_line(graph: Any) -> None:
    from sbomgen.errors import ContentError
    from sbomgen.provenance.attest import sbom_statement

    content = json.dumps({"@context": "https://spdx.org/rdf/3.0.1/spdx-context.jsonld", "@graph": graph})
    ours = {"sha256": "ab" * 32, "sha512": "cd" * 64}
    try:
        predicate_type, statement = sbom_statement("a.tgz", ours, content.encode(), "sbom.json")
    except ContentError as exc:
        assert "\n" not in str(exc) and str(exc).startswith("sbom.json ")
        return
    # Attested only when a root element is verified by the artifact's SHA-256.
    assert predicate_type == "https://spdx.dev/Document/v3"
    assert json.loads(statement)["predicate"]["@graph"] == graph
    assert '"hashValue": "' + "ab" * 32 in content
