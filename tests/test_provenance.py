"""Provenance statements, key and keyless signing, and verification of real bundles."""

from __future__ import annotations

import base64
import hashlib
import json
import time
from pathlib import Path

import jwt
import pytest
from conftest import (
    BUILDER,
    CPYTHON_313,
    GITHUB,
    PYPI_PUBLISH,
    RFC8785,
    RFC8785_ID,
    SIGSTORE,
    SIGSTORE_ID,
    SIGSTORE_SDIST,
    changed_copy,
    one_line_failure,
    sbomgen,
    write_keys,
)
from cryptography.hazmat.primitives import serialization
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sbomgen.provenance.statement import check_against_schema, from_environment

SOURCE = "git+https://github.com/python/cpython@refs/tags/v3.13.5"
COMMIT = "6cb20a219a860eaf687b2d968b41c480c7461909"


# --- the real bundles in ../shared/data/sigstore ------------------------------------


def test_real_message_bundle_verifies_offline(real_data: Path, tmp_path: Path) -> None:
    bundle = SIGSTORE / "rfc8785-0.1.2-py3-none-any.whl.sigstore"
    run = sbomgen(
        "verify", RFC8785, "--bundle", bundle, "--identity", RFC8785_ID, "--issuer", GITHUB, "--offline"
    )
    assert run.returncode == 0, run.stderr
    assert b"ok  subject: the bundle signs rfc8785-0.1.2-py3-none-any.whl (SHA256 " in run.stdout
    changed = changed_copy(RFC8785, tmp_path)
    run = sbomgen(
        "verify", changed, "--bundle", bundle, "--identity", RFC8785_ID, "--issuer", GITHUB, "--offline"
    )
    assert "not rfc8785-0.1.2-py3-none-any.whl's" in one_line_failure(run, "subject")
    run = sbomgen(
        "verify", RFC8785, "--bundle", bundle, "--identity", SIGSTORE_ID, "--issuer", GITHUB, "--offline"
    )
    assert f"expected {SIGSTORE_ID}" in one_line_failure(run, "identity")
    run = sbomgen(
        "verify",
        RFC8785,
        "--bundle",
        bundle,
        "--identity",
        RFC8785_ID,
        "--issuer",
        "https://accounts.google.com",
        "--offline",
    )
    assert f"the certificate's issuer is {GITHUB}; expected https://accounts.google.com" in one_line_failure(
        run, "issuer"
    )


def test_real_dsse_bundle_verifies_offline(real_data: Path, tmp_path: Path) -> None:
    bundle = SIGSTORE / "sigstore-3.6.1.tar.gz.publish.sigstore.json"
    common = ["--bundle", bundle, "--issuer", GITHUB, "--offline", "--predicate-type", PYPI_PUBLISH]
    run = sbomgen("verify", SIGSTORE_SDIST, "--identity", SIGSTORE_ID, *common)
    assert run.returncode == 0, run.stderr
    assert b"ok  subject: the statement is about sigstore-3.6.1.tar.gz" in run.stdout
    one_line_failure(
        sbomgen("verify", changed_copy(SIGSTORE_SDIST, tmp_path), "--identity", SIGSTORE_ID, *common),
        "subject",
    )
    one_line_failure(sbomgen("verify", SIGSTORE_SDIST, "--identity", RFC8785_ID, *common), "identity")
    run = sbomgen(
        "verify",
        SIGSTORE_SDIST,
        "--bundle",
        bundle,
        "--identity",
        SIGSTORE_ID,
        "--issuer",
        GITHUB,
        "--offline",
    )
    line = one_line_failure(run, "predicate type")
    assert f"is {PYPI_PUBLISH}, expected https://slsa.dev/provenance/v1" in line
    assert f"it is a PyPI publish attestation: pass --predicate-type {PYPI_PUBLISH}" in line


# --- key-signed provenance of a real release --------------------------------------------


@pytest.fixture(scope="module")
def sbom(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("sbom") / "Python-3.13.5.tar.xz.spdx.json"
    assert sbomgen("tarball", CPYTHON_313, "-o", out).returncode == 0
    return out


def provenance(tmp_path: Path, sbom: Path, *extra: str | Path) -> Path:
    run = sbomgen(
        "provenance",
        CPYTHON_313,
        "--sbom",
        sbom,
        "--builder-id",
        BUILDER,
        "--source-uri",
        SOURCE,
        "--source-digest",
        f"gitCommit:{COMMIT}",
        "--invocation-id",
        "https://ci.example.org/runs/1",
        "-d",
        tmp_path,
        *extra,
        env={"SOURCE_DATE_EPOCH": "1749656217"},
    )
    assert run.returncode == 0, run.stderr
    return tmp_path / "Python-3.13.5.tar.xz.intoto.json"


@pytest.mark.parametrize("kind", ["ecdsa", "ed25519"])
def test_key_signed_provenance_round_trips(kind: str, sbom: Path, tmp_path: Path) -> None:
    private, public = write_keys(tmp_path, kind)
    envelope = provenance(tmp_path, sbom, "--sign", f"key:{private}")
    run = sbomgen(
        "verify",
        CPYTHON_313,
        "--bundle",
        envelope,
        "--key",
        public,
        "--builder-id",
        BUILDER,
        "--source-uri",
        SOURCE,
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.decode().splitlines() == [
        "ok  bundle: Python-3.13.5.tar.xz.intoto.json is a key-signed DSSE envelope",
        f"ok  signature: made by the key {kind}.pub",
        "ok  subject: the statement is about Python-3.13.5.tar.xz (SHA256 93e583f243454e6e...)",
        "ok  predicate type: https://slsa.dev/provenance/v1",
        f"ok  builder id: {BUILDER}",
        f"ok  source: {SOURCE}",
    ]
    (tmp_path / "other").mkdir()
    _, other = write_keys(tmp_path / "other", kind)
    one_line_failure(sbomgen("verify", CPYTHON_313, "--bundle", envelope, "--key", other), "signature")
    changed = changed_copy(CPYTHON_313, tmp_path)
    one_line_failure(sbomgen("verify", changed, "--bundle", envelope, "--key", public), "subject")
    one_line_failure(
        sbomgen(
            "verify", CPYTHON_313, "--bundle", envelope, "--key", public, "--builder-id", "https://other"
        ),
        "builder id",
    )

    # An independent DSSE implementation agrees, given only the public key: the envelope's
    # keyid is the one securesystemslib computes for it.
    from securesystemslib.dsse import Envelope
    from securesystemslib.exceptions import VerificationError
    from securesystemslib.signer import SSlibKey

    document = json.loads(envelope.read_text())
    key = SSlibKey.from_crypto(serialization.load_pem_public_key(public.read_bytes()))
    assert document["signatures"][0]["keyid"] == key.keyid
    assert list(Envelope.from_dict(json.loads(envelope.read_text())).verify([key], 1)) == [key.keyid]
    tampered = json.loads(envelope.read_text())  # from_dict changes the dict it reads
    tampered["payload"] = base64.b64encode(base64.b64decode(document["payload"]) + b" ").decode()
    with pytest.raises(VerificationError):
        Envelope.from_dict(tampered).verify([key], 1)

    # The keyid is a hint: sbomgen verifies with the key it is given, whatever the keyid says,
    # so envelopes from before this rule (keyid: SHA-256 of the DER public key) still verify.
    spki = serialization.load_pem_public_key(public.read_bytes()).public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    for keyid in (hashlib.sha256(spki).hexdigest(), ""):
        document["signatures"][0]["keyid"] = keyid
        older = tmp_path / f"keyid-{keyid[:8]}.intoto.json"
        older.write_text(json.dumps(document))
        run = sbomgen("verify", CPYTHON_313, "--bundle", older, "--key", public)
        assert run.returncode == 0, run.stderr


def test_statement_content_and_validators(sbom: Path, tmp_path: Path) -> None:
    path = provenance(tmp_path, sbom)
    statement = json.loads(path.read_text())
    check_against_schema(statement)
    assert (
        statement["subject"][0]["digest"]["sha256"]
        == "93e583f243454e6e9e4588ca2c2662206ad961659863277afcdb96801647d640"
    )
    predicate = statement["predicate"]
    assert predicate["buildDefinition"]["externalParameters"] == {
        "source": {"repository": "https://github.com/python/cpython", "ref": "refs/tags/v3.13.5"}
    }
    assert predicate["buildDefinition"]["resolvedDependencies"] == [
        {"uri": SOURCE, "digest": {"gitCommit": COMMIT}}
    ]
    import hashlib

    assert predicate["runDetails"]["byproducts"] == [
        {
            "name": sbom.name,
            "digest": {
                "sha256": hashlib.sha256(sbom.read_bytes()).hexdigest(),
                "sha512": hashlib.sha512(sbom.read_bytes()).hexdigest(),
            },
            "mediaType": "application/spdx+json",
        }
    ]
    assert predicate["runDetails"]["metadata"] == {
        "invocationId": "https://ci.example.org/runs/1",
        "finishedOn": "2025-06-11T15:36:57Z",
    }
    again = provenance(tmp_path / "again", sbom)
    assert again.read_bytes() == path.read_bytes()

    # in-toto's own library validates the statement and parses the predicate strictly.
    from google.protobuf import json_format
    from in_toto_attestation.predicates.provenance.v1 import provenance_pb2
    from in_toto_attestation.v1 import statement_pb2
    from in_toto_attestation.v1.statement import Statement

    Statement.copy_from_pb(json_format.Parse(path.read_text(), statement_pb2.Statement())).validate()
    json_format.ParseDict(predicate, provenance_pb2.Provenance(), ignore_unknown_fields=False)


def test_schema_rejects_a_broken_statement() -> None:
    from sbomgen.errors import OutputValidationError

    broken = {
        "_type": "https://in-toto.io/Statement/v1",
        "subject": [],
        "predicateType": "https://slsa.dev/provenance/v1",
        "predicate": {"buildDefinition": {"externalParameters": {}}, "runDetails": {"builder": {}}},
    }
    with pytest.raises(OutputValidationError) as error:
        check_against_schema(broken)
    assert "subject" in str(error.value)


def test_builder_and_source_from_ci(sbom: Path, tmp_path: Path) -> None:
    github = {
        "GITHUB_ACTIONS": "true",
        "GITHUB_SERVER_URL": "https://github.com",
        "GITHUB_REPOSITORY": "python/cpython",
        "GITHUB_REF": "refs/tags/v3.13.5",
        "GITHUB_SHA": COMMIT,
        "GITHUB_RUN_ID": "42",
        "GITHUB_RUN_ATTEMPT": "2",
        "GITHUB_WORKFLOW_REF": "python/cpython/.github/workflows/release.yml@refs/tags/v3.13.5",
    }
    assert from_environment(github) == {
        "builder_id": "https://github.com/python/cpython/.github/workflows/release.yml@refs/tags/v3.13.5",
        "invocation_id": "https://github.com/python/cpython/actions/runs/42/attempts/2",
        "source_uri": SOURCE,
        "source_digest": {"gitCommit": COMMIT},
    }
    gitlab = {
        "GITLAB_CI": "true",
        "CI_SERVER_URL": "https://gitlab.example.org",
        "CI_PROJECT_PATH": "py/cpython",
        "CI_RUNNER_ID": "7",
        "CI_JOB_URL": "https://gitlab.example.org/py/cpython/-/jobs/9",
        "CI_PROJECT_URL": "https://gitlab.example.org/py/cpython",
        "CI_COMMIT_TAG": "v3.13.5",
        "CI_COMMIT_SHA": COMMIT,
    }
    found = from_environment(gitlab)
    assert found["builder_id"] == "https://gitlab.example.org/py/cpython/-/runners/7"
    assert found["source_uri"] == "git+https://gitlab.example.org/py/cpython@refs/tags/v3.13.5"
    assert from_environment({}) == {}

    run = sbomgen("provenance", CPYTHON_313, "-d", tmp_path, env=github)
    assert run.returncode == 0, run.stderr
    predicate = json.loads((tmp_path / "Python-3.13.5.tar.xz.intoto.json").read_text())["predicate"]
    assert (
        predicate["runDetails"]["builder"]["id"]
        == github["GITHUB_SERVER_URL"] + "/" + github["GITHUB_WORKFLOW_REF"]
    )


def test_nothing_is_invented(tmp_path: Path) -> None:
    run = sbomgen("provenance", CPYTHON_313, "-d", tmp_path, env={"GITHUB_ACTIONS": "", "GITLAB_CI": ""})
    assert run.returncode == 2
    assert "no builder id" in run.stderr
    assert list(tmp_path.iterdir()) == []


def test_single_statement_names_every_artifact(tmp_path: Path) -> None:
    run = sbomgen("provenance", CPYTHON_313, RFC8785, "--single", "--builder-id", BUILDER, "-d", tmp_path)
    assert run.returncode == 0, run.stderr
    statement = json.loads((tmp_path / "release.intoto.json").read_text())
    assert [s["name"] for s in statement["subject"]] == [
        "Python-3.13.5.tar.xz",
        "rfc8785-0.1.2-py3-none-any.whl",
    ]


# --- keyless signing without the network ------------------------------------------------


def identity_token() -> str:
    now = int(time.time())
    claims = {
        "iss": "https://issuer.example.org",
        "sub": "release-manager@example.org",
        "aud": "sigstore",
        "iat": now,
        "exp": now + 600,
        "email": "release-manager@example.org",
    }
    return jwt.encode(claims, "test-signing-secret-of-32-bytes!", algorithm="HS256")


def unreachable_trust_config(tmp_path: Path) -> Path:
    import sigstore

    store = Path(sigstore.__file__).parent / "_store" / "https%3A%2F%2Ftuf-repo-cdn.sigstore.dev"
    signing = json.loads((store / "signing_config.v0.2.json").read_text())
    for group in ("caUrls", "oidcUrls", "rekorTlogUrls", "tsaUrls"):
        for service in signing[group]:
            service["url"] = "http://127.0.0.1:9"  # the discard port: nothing listens
    config = {
        "mediaType": "application/vnd.dev.sigstore.clienttrustconfig.v0.1+json",
        "trustedRoot": json.loads((store / "trusted_root.json").read_text()),
        "signingConfig": signing,
    }
    path = tmp_path / "trust-config.json"
    path.write_text(json.dumps(config))
    return path


def test_keyless_without_network_fails_fast_and_writes_nothing(tmp_path: Path) -> None:
    out = tmp_path / "out"
    run = sbomgen(
        "provenance",
        RFC8785,
        "--builder-id",
        BUILDER,
        "--sign",
        "sigstore",
        "--identity-token",
        identity_token(),
        "--trust-config",
        unreachable_trust_config(tmp_path),
        "-d",
        out,
        timeout=60,  # no retrying against what is not there
    )
    assert run.returncode == 10, run.stderr
    assert "keyless signing failed" in run.stderr and "127.0.0.1" in run.stderr
    assert not out.exists()


def test_keyless_needs_an_identity(tmp_path: Path) -> None:
    run = sbomgen(
        "sign", RFC8785, "-d", tmp_path, env={"GITHUB_ACTIONS": "", "ACTIONS_ID_TOKEN_REQUEST_URL": ""}
    )
    assert run.returncode == 10
    assert "no identity token" in run.stderr
    assert list(tmp_path.iterdir()) == []


def test_envelope_payload_is_the_statement(sbom: Path, tmp_path: Path) -> None:
    private, _ = write_keys(tmp_path, "ecdsa")
    unsigned = provenance(tmp_path / "u", sbom)
    signed = provenance(tmp_path / "s", sbom, "--sign", f"key:{private}")
    assert base64.b64decode(json.loads(signed.read_text())["payload"]) == unsigned.read_bytes()


def test_one_trust_root_at_a_time(tmp_path: Path) -> None:
    bundle = SIGSTORE / "rfc8785-0.1.2-py3-none-any.whl.sigstore"
    common = ("verify", RFC8785, "--bundle", bundle, "--identity", RFC8785_ID, "--issuer", GITHUB)
    run = sbomgen(*common, "--trusted-root", bundle, "--trust-config", bundle)
    assert run.returncode == 2
    assert run.stderr == "sbomgen: error: give at most one of --staging, --trusted-root and --trust-config\n"


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        (
            "--builder-id",
            "notauri",
            "the builder id must be an absolute URI such as https://host/path, not 'notauri'",
        ),
        ("--builder-id", "https://x/\nb", "the builder id must be an absolute URI"),
        ("--source-uri", "github.com/python/cpython", "the source URI must be an absolute URI"),
        ("--invocation-id", "run\x1b[2J", "the invocation id must be one line of text"),
        ("--source-digest", "gitCommit:not-hex", "the source digest must be ALGORITHM:HEX"),
    ],
)
def test_finding_provenance_values_from_input_are_usage_errors_not_bugs(
    tmp_path: Path, option: str, value: str, message: str
) -> None:
    extra = () if option == "--builder-id" else ("--builder-id", BUILDER)
    run = sbomgen("provenance", CPYTHON_313, option, value, *extra, "-d", tmp_path / "out")
    assert run.returncode == 2, run.stderr
    assert run.stderr.startswith(f"sbomgen: error: {message}") and len(run.stderr.splitlines()) == 1
    assert not (tmp_path / "out").exists()


_URI_TEXT = st.text(st.sampled_from('ab:/%<>@.-_~?#[] "{}|\\^`éZ09+'), max_size=24)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    server=st.one_of(st.sampled_from(["https://github.com", "javascript:x", "data:,<b>"]), _URI_TEXT),
    ref=_URI_TEXT,
    started=st.one_of(
        st.datetimes(timezones=st.timezones()).map(lambda moment: moment.isoformat()),
        st.datetimes().map(lambda moment: moment.isoformat() + "-23:59"),
        st.text(max_size=30),
    ),
)
def test_ci_environment_values_are_the_users_to_fix_never_a_bug(
    tmp_path: Path, server: str, ref: str, started: str
) -> None:
    """Whatever GitHub Actions or GitLab CI variables say, the statement is made and passes
    its schema, or the value is refused as the user's (UsageError, exit 2): never exit 5."""
    from sbomgen.errors import UsageError
    from sbomgen.provenance.statement import BuildContext, statement

    artifact = tmp_path / "artifact.bin"
    artifact.write_bytes(b"artifact")
    github = {
        "GITHUB_ACTIONS": "true",
        "GITHUB_SERVER_URL": server,
        "GITHUB_REPOSITORY": "python/cpython",
        "GITHUB_REF": ref,
        "GITHUB_RUN_ID": "42",
        "GITHUB_WORKFLOW_REF": f"python/cpython/.github/workflows/release.yml@{ref}",
    }
    gitlab = {
        "GITLAB_CI": "true",
        "CI_PROJECT_URL": server,
        "CI_COMMIT_TAG": ref,
        "CI_JOB_STARTED_AT": started,
    }
    for environment in (github, gitlab):
        try:
            found = from_environment(environment)
            context = BuildContext(**{"builder_id": "https://ci.example.org/b", **found})
        except UsageError:
            continue
        statement([artifact], context)  # OutputValidationError here is exit 5


def test_report_reads_provenance_through_the_gate(sbom: Path, tmp_path: Path) -> None:
    """The report summarises a statement, an envelope or a bundle, and says plainly when a
    file holds none: hostile ones (deep, huge numbers, wrong types) included."""
    private, _ = write_keys(tmp_path, "ecdsa")
    envelope = provenance(tmp_path / "signed", sbom, "--sign", f"key:{private}")
    statement = json.loads(base64.b64decode(json.loads(envelope.read_text())["payload"]))
    hostile = {
        "deep": "[" * 50_000,
        "huge-number": '{"_type": 1' + "0" * 5000 + "}",
        "subject-not-a-list": json.dumps({**statement, "subject": 5}),
        "builder-not-an-object": json.dumps(
            {**statement, "predicate": {**statement["predicate"], "runDetails": {"builder": "x"}}}
        ),
        "message-signature": (SIGSTORE / "rfc8785-0.1.2-py3-none-any.whl.sigstore").read_text(),
    }
    for name, text in hostile.items():
        path = tmp_path / f"{name}.json"
        path.write_text(text)
        report = tmp_path / f"{name}.html"
        run = sbomgen("report", sbom, "--provenance", path, "-o", report)
        assert run.returncode == 0, run.stderr
        html = report.read_text()
        if name == "builder-not-an-object":  # a statement, but not SLSA provenance as it should be
            assert "Builder</dt><dd><code>not stated" in html and "no byproduct has this SBOM" in html
        else:
            assert f"{name}.json: no in-toto statement could be read from it." in html, name
    report = tmp_path / "good.html"
    assert sbomgen("report", sbom, "--provenance", envelope, "-o", report).returncode == 0
    assert f"<code>{BUILDER}</code>" in report.read_text()


def test_finding_provenance_recorded_an_sbom_of_another_artifact(sbom: Path, tmp_path: Path) -> None:
    """provenance --sbom refuses an SBOM that does not describe the artifact (exit 4), writes nothing."""
    other = tmp_path / "rfc8785.spdx.json"
    assert sbomgen("wheel", RFC8785, "--offline", "-o", other).returncode == 0
    renamed = tmp_path / "renamed" / "Python-3.13.5-copy.tar.xz"
    renamed.parent.mkdir()
    renamed.symlink_to(CPYTHON_313)
    deep = tmp_path / "deep.spdx.json"
    deep.write_text("[" * 100_000)
    for artifact, document, message in (
        (CPYTHON_313, other, "describes another artifact than Python-3.13.5.tar.xz"),
        (renamed, sbom, "describes another artifact than Python-3.13.5-copy.tar.xz"),
        (CPYTHON_313, deep, "nested more than 64 levels deep"),
    ):
        out = tmp_path / "out"
        run = sbomgen("provenance", artifact, "--sbom", document, "--builder-id", BUILDER, "-d", out)
        assert run.returncode == 4, run.stderr
        assert message in run.stderr and len(run.stderr.splitlines()) == 1
        assert not out.exists() or list(out.iterdir()) == []
    # The SBOM of the artifact, in SPDX or CycloneDX, is recorded with its media type.
    cyclonedx = tmp_path / "Python-3.13.5.tar.xz.cdx.json"
    assert (
        sbomgen("tarball", CPYTHON_313, "--offline", "-f", "cyclonedx-json", "-o", cyclonedx).returncode == 0
    )
    for document, media_type in (
        (sbom, "application/spdx+json"),
        (cyclonedx, "application/vnd.cyclonedx+json"),
    ):
        out = tmp_path / media_type.replace("/", "-")
        assert (
            sbomgen(
                "provenance", CPYTHON_313, "--sbom", document, "--builder-id", BUILDER, "-d", out
            ).returncode
            == 0
        )
        statement = json.loads((out / "Python-3.13.5.tar.xz.intoto.json").read_text())
        assert statement["predicate"]["runDetails"]["byproducts"][0]["mediaType"] == media_type
