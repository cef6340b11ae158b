"""verify fails closed: every check the request asks for is made, or the answer is no.

Bundles of every kind: the real message-signature and DSSE bundles in ../shared/data, a
DSSE bundle signed keylessly against the loopback Sigstore instance, a key-signed envelope
and an unsigned statement made by sbomgen itself.
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import json
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest
from conftest import (
    BUILDER,
    GITHUB,
    PYPI_PUBLISH,
    RFC8785,
    RFC8785_ID,
    SIGSTORE,
    SIGSTORE_ID,
    SIGSTORE_SDIST,
    one_line_failure,
    sbomgen,
    write_keys,
)
from hostile_json import dumps, json_values, mutations
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sigstore_instance import SigstoreInstance

from sbomgen.provenance.signing import sign_with_key
from sbomgen.provenance.verify import Request, verify

SLSA = "https://slsa.dev/provenance/v1"
SOURCE = "git+https://github.com/trailofbits/rfc8785.py@refs/tags/v0.1.2"
EMAIL = "release-manager@example.org"
OPTIONAL = ("predicate_type", "builder_id", "source_uri", "sbom")


@dataclass(frozen=True)
class Kind:
    """A bundle, the artifact it is about, how it is verified, and the values it really holds."""

    name: str
    artifact: Path
    bundle: Path
    signer: dict[str, Any]  # the request's signer options that verify it
    predicate_type: str | None  # None: a message signature, no statement
    builder_id: str | None = None
    source_uri: str | None = None
    sbom: Path | None = None
    signed: bool = True


@dataclass(frozen=True)
class Material:
    kinds: dict[str, Kind]
    key: Path  # the private key of the key-signed envelope
    other_key: Path  # a public key that signed nothing
    other_sbom: Path
    trust_config: Path


@pytest.fixture(scope="module")
def material(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Material]:
    folder = tmp_path_factory.mktemp("verify")
    sbom = folder / "rfc8785.spdx.json"
    assert sbomgen("wheel", RFC8785, "--offline", "-o", sbom).returncode == 0
    other_sbom = folder / "other.spdx.json"
    other_sbom.write_bytes(sbom.read_bytes().replace(b'"SPDX-2.3"', b'"SPDX-2.3" '))
    private, public = write_keys(folder, name="release")
    _, other_public = write_keys(folder, name="other")
    common = ("provenance", RFC8785, "--sbom", sbom, "--builder-id", BUILDER, "--source-uri", SOURCE)
    with SigstoreInstance() as instance:
        instance.seed_log(3)
        trust_config = folder / "trust-config.json"
        trust_config.write_text(instance.trust_config())
        made = {}
        for name, signing in (
            ("statement", ()),
            ("key", ("--sign", f"key:{private}")),
            (
                "loopback",
                (
                    "--sign",
                    "sigstore",
                    "--identity-token",
                    instance.issuer.token(EMAIL),
                    "--trust-config",
                    trust_config,
                ),
            ),
        ):
            out = folder / name
            run = sbomgen(*common, *signing, "-d", out)
            assert run.returncode == 0, run.stderr
            (made[name],) = out.iterdir()
        provenance = {"predicate_type": SLSA, "builder_id": BUILDER, "source_uri": SOURCE, "sbom": sbom}
        real = {"identity": None, "issuer": GITHUB, "offline": True}
        kinds = [
            Kind(
                "message",
                RFC8785,
                SIGSTORE / f"{RFC8785.name}.sigstore",
                {**real, "identity": RFC8785_ID},
                None,
            ),
            Kind(
                "real-dsse",
                SIGSTORE_SDIST,
                SIGSTORE / f"{SIGSTORE_SDIST.name}.publish.sigstore.json",
                {**real, "identity": SIGSTORE_ID},
                PYPI_PUBLISH,
            ),
            Kind(
                "loopback-dsse",
                RFC8785,
                made["loopback"],
                {"identity": EMAIL, "issuer": instance.issuer.url, "trust_config": trust_config},
                **provenance,
            ),
            Kind("key", RFC8785, made["key"], {"key": public}, **provenance),
            Kind("statement", RFC8785, made["statement"], {"key": public}, **provenance, signed=False),
        ]
        yield Material({k.name: k for k in kinds}, private, other_public, other_sbom, trust_config)


def _expected(kind: Kind, sigstore_signer: bool, asked: set[str]) -> bool:
    """Exit 0 if and only if every requested check applies to the kind and passes."""
    if not kind.signed or sigstore_signer != ("key" not in kind.signer):
        return False
    if kind.predicate_type is None:  # a message signature: nothing of a statement applies
        return not asked
    if kind.builder_id is None and asked & {"builder_id", "source_uri", "sbom"}:
        return False  # not SLSA provenance
    return "predicate_type" in asked or kind.predicate_type == SLSA


def _signer_for(kind: Kind, sigstore_signer: bool, material: Material) -> dict[str, Any]:
    if sigstore_signer == ("key" not in kind.signer):
        return kind.signer
    if sigstore_signer:  # the wrong kind of signer option for this bundle
        return {"identity": EMAIL, "issuer": GITHUB, "offline": True}
    return {"key": material.other_key}


def test_every_requested_check_times_every_bundle_kind(material: Material) -> None:
    """The exhaustive table: exit 0 if and only if every requested check applies and passes."""
    table = []
    for kind in material.kinds.values():
        for sigstore_signer in (True, False):
            for flags in itertools.product((False, True), repeat=len(OPTIONAL)):
                asked = {name for name, on in zip(OPTIONAL, flags, strict=True) if on}
                values = {
                    "predicate_type": kind.predicate_type or SLSA,
                    "builder_id": kind.builder_id or BUILDER,
                    "source_uri": kind.source_uri or SOURCE,
                    "sbom": kind.sbom or material.kinds["key"].sbom,
                }
                request = Request(
                    **_signer_for(kind, sigstore_signer, material), **{n: values[n] for n in asked}
                )
                result = verify(kind.artifact, kind.bundle, request)
                expected = _expected(kind, sigstore_signer, asked)
                table.append((kind.name, sigstore_signer, sorted(asked), result.ok, expected))
                assert result.ok == expected, (kind.name, sigstore_signer, asked, result.outcomes)
                made = {o.check for o in result.outcomes}
                for name, check in (
                    ("predicate_type", "predicate type"),
                    ("builder_id", "builder id"),
                    ("source_uri", "source"),
                    ("sbom", "sbom"),
                ):
                    if name in asked and result.outcomes[0].passed:
                        assert check in made, (kind.name, asked, result.outcomes)  # made, never skipped
    assert len(table) == 5 * 2 * 16
    assert sum(ok for *_, ok, _ in table) == 1 + 1 + 16 + 16  # message, real DSSE, loopback and key: all


def _cli(kind: Kind, *extra: str | Path) -> Any:
    options: list[str | Path] = []
    for name, value in kind.signer.items():
        if value is True:
            options.append(f"--{name.replace('_', '-')}")
        elif value is not None:
            options += [f"--{name.replace('_', '-')}", value]
    return sbomgen("verify", kind.artifact, "--bundle", kind.bundle, *options, *extra)


@pytest.mark.parametrize(
    ("option", "value", "check", "fragment"),
    [
        (
            "--builder-id",
            BUILDER,
            "builder id",
            "is a message signature and carries no provenance (builder id)",
        ),
        ("--source-uri", SOURCE, "source", "is a message signature and carries no provenance (source)"),
        (
            "--predicate-type",
            SLSA,
            "predicate type",
            "is a Sigstore message-signature bundle and carries no statement",
        ),
        ("--sbom", None, "sbom", "is a message signature and carries no provenance (SBOM)"),
    ],
)
def test_fail_open_message_signature_with_provenance_checks(
    material: Material, option: str, value: str | None, check: str, fragment: str
) -> None:
    kind = material.kinds["message"]
    run = _cli(kind, option, value if value is not None else material.kinds["key"].sbom)
    line = one_line_failure(run, check)
    assert fragment in line
    assert f"FAILED  {check}: " in run.stdout.decode()
    assert "ok  signature: " in run.stdout.decode()  # the other checks were made and listed


def test_fail_open_empty_issuer_is_refused_before_reading(material: Material) -> None:
    run = sbomgen(
        "verify",
        RFC8785,
        "--bundle",
        material.kinds["message"].bundle,
        "--identity",
        RFC8785_ID,
        "--issuer",
        "",
        "--offline",
    )
    assert run.returncode == 2
    assert (
        run.stderr
        == "sbomgen: error: --issuer is empty; pass the value to require, or leave the option out\n"
    )
    assert run.stdout == b""


def test_fail_open_key_with_identity_is_refused(material: Material) -> None:
    kind = material.kinds["key"]
    for extra in (("--identity", EMAIL), ("--issuer", GITHUB), ("--identity", EMAIL, "--issuer", GITHUB)):
        run = sbomgen("verify", kind.artifact, "--bundle", kind.bundle, "--key", kind.signer["key"], *extra)
        assert run.returncode == 2, run.stderr
        assert run.stderr.startswith("sbomgen: error: --key verifies a key-signed envelope; --i")
        assert len(run.stderr.splitlines()) == 1


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (("--identity", " ", "--issuer", GITHUB), "--identity is empty"),
        (("--identity", RFC8785_ID, "--issuer", "\t"), "--issuer is empty"),
        (("--identity", RFC8785_ID), "--identity needs --issuer URL"),
        (("--issuer", GITHUB), "say who must have signed"),
        ((), "say who must have signed"),
        (("--identity", RFC8785_ID, "--identity-regexp", "^x$", "--issuer", GITHUB), "not both"),
        (("--identity-regexp", "https://github.com/.*", "--issuer", GITHUB), "must be anchored"),
        (("--identity-regexp", "^https://github.com/.*", "--issuer", GITHUB), "must be anchored"),
        (("--identity-regexp", "^https://x\\$", "--issuer", GITHUB), "must be anchored"),
        (("--identity-regexp", "^(unclosed$", "--issuer", GITHUB), "does not compile"),
        (("--identity", RFC8785_ID, "--issuer", GITHUB, "--builder-id", ""), "--builder-id is empty"),
        (("--identity", RFC8785_ID, "--issuer", GITHUB, "--source-uri", " "), "--source-uri is empty"),
        (("--identity", RFC8785_ID, "--issuer", GITHUB, "--predicate-type", ""), "--predicate-type is empty"),
        (("--identity", RFC8785_ID + "\n", "--issuer", GITHUB), "control character"),
        (
            ("--identity", RFC8785_ID, "--issuer", GITHUB, "--staging", "--offline", "--trusted-root", "KEY"),
            "at most one of --staging, --trusted-root and --trust-config",
        ),
        (("--key", "KEY", "--trusted-root", "KEY"), "--key verifies a key-signed envelope; --trusted-root"),
        (("--key", "KEY", "--trust-config", "KEY"), "--key verifies a key-signed envelope; --trust-config"),
        (("--key", "KEY", "--staging"), "--key verifies a key-signed envelope; --staging"),
        (
            ("--key", "KEY", "--identity-regexp", "^x$"),
            "--key verifies a key-signed envelope; --identity-regexp",
        ),
    ],
    ids=lambda value: "-".join(map(str, value))[:60] if isinstance(value, tuple) else None,
)
def test_invalid_requests_are_exit_2_before_anything_is_read(
    material: Material, arguments: tuple[str, ...], message: str
) -> None:
    key = str(material.kinds["key"].signer["key"])
    arguments = tuple(key if a == "KEY" else a for a in arguments)
    run = sbomgen("verify", RFC8785, "--bundle", material.kinds["message"].bundle, *arguments)
    assert run.returncode == 2, run.stderr
    assert run.stdout == b""
    lines = run.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("sbomgen: error: ") and message in lines[0], run.stderr


def test_aliases_users_already_type(material: Material) -> None:
    kind = material.kinds["message"]
    for identity, issuer in (
        ("--cert-identity", "--cert-oidc-issuer"),
        ("--certificate-identity", "--certificate-oidc-issuer"),
    ):
        run = sbomgen(
            "verify",
            kind.artifact,
            "--bundle",
            kind.bundle,
            identity,
            RFC8785_ID,
            issuer,
            GITHUB,
            "--offline",
        )
        assert run.returncode == 0, run.stderr
    run = sbomgen(
        "verify",
        kind.artifact,
        "--bundle",
        kind.bundle,
        "--certificate-identity-regexp",
        r"^https://github\.com/trailofbits/rfc8785\.py/\.github/workflows/release\.yml@refs/tags/v.*$",
        "--issuer",
        GITHUB,
        "--offline",
    )
    assert run.returncode == 0, run.stderr
    assert "which matches ^https://github" in run.stdout.decode()
    # Matched whole: a pattern for a prefix of the identity does not match it.
    run = sbomgen(
        "verify",
        kind.artifact,
        "--bundle",
        kind.bundle,
        "--identity-regexp",
        "^https://github.com/trailofbits$",
        "--issuer",
        GITHUB,
        "--offline",
    )
    assert "expected a match of ^https://github.com/trailofbits$" in one_line_failure(run, "identity")


def test_sbom_check(material: Material) -> None:
    for name in ("key", "loopback-dsse"):
        kind = material.kinds[name]
        run = _cli(kind, "--sbom", kind.sbom)  # type: ignore[arg-type]
        assert run.returncode == 0, run.stderr
        assert "ok  sbom: the provenance records rfc8785.spdx.json" in run.stdout.decode()
        line = one_line_failure(_cli(kind, "--sbom", material.other_sbom), "sbom")
        assert "the provenance records another SBOM, not other.spdx.json" in line


@pytest.mark.parametrize(
    ("mutate", "fragment"),
    [
        (lambda d: "not json", "not JSON"),
        (lambda d: "[1, 2]", "is not a JSON object"),
        (
            lambda d: json.dumps({"hello": 1}),
            "neither a Sigstore bundle, a DSSE envelope nor an in-toto statement",
        ),
        (
            lambda d: json.dumps({**d, "mediaType": "application/x-other"}),
            "has the media type 'application/x-other'",
        ),
        (lambda d: json.dumps({**d, "mediaType": 5}), "has the media type not a string"),
        (lambda d: json.dumps({**d, "dsseEnvelope": {}}), "exactly one of messageSignature and dsseEnvelope"),
        (lambda d: "[" * 100_000, "nested more than 64 levels deep"),
        (lambda d: '{"a": 1' + "1" * 5000 + "}", "a number of 5001 characters"),
        (lambda d: json.dumps({**d, "verificationMaterial": 5}), "is not a valid Sigstore bundle"),
    ],
    ids=[
        "not-json",
        "array",
        "unknown",
        "media-type",
        "media-type-type",
        "both",
        "deep",
        "huge-number",
        "material",
    ],
)
def test_unreadable_bundles_are_one_line(
    material: Material, tmp_path: Path, mutate: Any, fragment: str
) -> None:
    kind = material.kinds["message"]
    bad = tmp_path / "bad.sigstore"
    bad.write_text(mutate(json.loads(kind.bundle.read_text())))
    run = sbomgen(
        "verify", kind.artifact, "--bundle", bad, "--identity", RFC8785_ID, "--issuer", GITHUB, "--offline"
    )
    line = one_line_failure(run, "bundle")
    assert fragment in line, line
    assert "\n" not in run.stderr.strip()


def test_a_bundle_of_the_wrong_kind_for_the_request_is_named(material: Material) -> None:
    key = material.kinds["key"]
    line = one_line_failure(
        sbomgen("verify", RFC8785, "--bundle", material.kinds["message"].bundle, "--key", key.signer["key"]),
        "bundle",
    )
    assert line.endswith(
        "is a Sigstore message-signature bundle; verify it with --identity and --issuer, not --key"
    )
    line = one_line_failure(
        sbomgen("verify", RFC8785, "--bundle", key.bundle, "--identity", EMAIL, "--issuer", GITHUB), "bundle"
    )
    assert line.endswith(
        "is a key-signed DSSE envelope; verify it with --key PUB.pem, not --identity and --issuer"
    )
    statement = material.kinds["statement"]
    line = one_line_failure(_cli(statement), "signature")
    assert line.endswith("is an unsigned in-toto statement: it carries no signature")


def test_an_envelope_with_several_signatures(material: Material, tmp_path: Path) -> None:
    kind = material.kinds["key"]
    envelope = json.loads(kind.bundle.read_text())
    other_private, _ = write_keys(tmp_path, name="third")
    payload = base64.b64decode(envelope["payload"])
    third = json.loads(sign_with_key(payload, other_private))["signatures"][0]
    for order in ([third, envelope["signatures"][0]], [envelope["signatures"][0], third]):
        several = tmp_path / "several.intoto.json"
        several.write_text(json.dumps({**envelope, "signatures": order}))
        run = sbomgen("verify", kind.artifact, "--bundle", several, "--key", kind.signer["key"])
        assert run.returncode == 0, run.stderr
        assert f"1 other signature(s) not verified (keyid {third['keyid']})" in run.stdout.decode()
    only_third = tmp_path / "third.intoto.json"
    only_third.write_text(json.dumps({**envelope, "signatures": [third, third]}))
    line = one_line_failure(
        sbomgen("verify", kind.artifact, "--bundle", only_third, "--key", kind.signer["key"]), "signature"
    )
    assert "no signature of the envelope is made by the key release.pub" in line


def test_the_keyids_of_other_signatures_are_named_cut_short(material: Material, tmp_path: Path) -> None:
    """Sixteen signatures with 60,000-character keyids made a 1 MB "ok" line of the input's text."""
    kind = material.kinds["key"]
    envelope = json.loads(kind.bundle.read_text())
    other = {**envelope["signatures"][0], "sig": base64.b64encode(b"x" * 64).decode(), "keyid": "k" * 60_000}
    several = tmp_path / "several.intoto.json"
    several.write_text(json.dumps({**envelope, "signatures": [envelope["signatures"][0], *[other] * 15]}))
    run = sbomgen("verify", kind.artifact, "--bundle", several, "--key", kind.signer["key"])
    assert run.returncode == 0, run.stderr
    (line,) = [line for line in run.stdout.decode().splitlines() if "signature:" in line]
    assert line.endswith(f"15 other signature(s) not verified (keyid {', '.join(['k' * 64 + '…'] * 15)})")


def test_slsa_v02_provenance_fails_the_default_predicate_with_a_hint(
    material: Material, tmp_path: Path
) -> None:
    kind = material.kinds["key"]
    statement = json.loads(base64.b64decode(json.loads(kind.bundle.read_text())["payload"]))
    statement["predicateType"] = "https://slsa.dev/provenance/v0.2"
    resigned = tmp_path / "v02.intoto.json"
    resigned.write_bytes(sign_with_key(json.dumps(statement).encode(), material.key))
    line = one_line_failure(
        sbomgen("verify", kind.artifact, "--bundle", resigned, "--key", kind.signer["key"]), "predicate type"
    )
    assert line.endswith(
        "it is SLSA Provenance v0.2: pass --predicate-type https://slsa.dev/provenance/v0.2 to accept it"
    )


# --- the property: exit 0 if and only if intact, applicable and true ---------------------


def _flip(data: bytes, at: int) -> bytes:
    raw = bytearray(data)
    raw[at % len(raw)] ^= 1 << (at % 8)
    return bytes(raw)


def _b64_flip(text: str, at: int) -> str:
    return base64.b64encode(_flip(base64.b64decode(text), at)).decode()


def _tamper(document: dict[str, Any], part: str, at: int) -> None:
    """Change one part of a Sigstore bundle (in place) so that it no longer says what was signed."""
    material = document["verificationMaterial"]
    entry = material["tlogEntries"][0]
    if part == "signature":
        if "dsseEnvelope" in document:
            signature = document["dsseEnvelope"]["signatures"][0]
            signature["sig"] = _b64_flip(signature["sig"], at)
        else:
            document["messageSignature"]["signature"] = _b64_flip(
                document["messageSignature"]["signature"], at
            )
    elif part == "payload":
        if "dsseEnvelope" in document:
            document["dsseEnvelope"]["payload"] = _b64_flip(document["dsseEnvelope"]["payload"], at)
        else:
            digest = document["messageSignature"]["messageDigest"]
            digest["digest"] = _b64_flip(digest["digest"], at)
    elif part == "certificate":
        holder = material.get("certificate") or material["x509CertificateChain"]["certificates"][0]
        holder["rawBytes"] = _b64_flip(holder["rawBytes"], at)
    elif part == "log body":
        entry["canonicalizedBody"] = _b64_flip(entry["canonicalizedBody"], at)
    elif part == "inclusion proof":
        proof = entry["inclusionProof"]
        if proof.get("hashes"):
            proof["hashes"][at % len(proof["hashes"])] = _b64_flip(
                proof["hashes"][at % len(proof["hashes"])], at
            )
        else:
            proof["rootHash"] = _b64_flip(proof["rootHash"], at)
    elif part == "checkpoint":
        note, signature_line = entry["inclusionProof"]["checkpoint"]["envelope"].split("\n\n")
        dash, name, signature = signature_line.split(" ")
        entry["inclusionProof"]["checkpoint"]["envelope"] = (
            f"{note}\n\n{dash} {name} {_b64_flip(signature.strip(), at)}\n"
        )


# Fields of a statement that a key holder changes and signs again: the signature holds.
RESIGNED = {
    "subject digest": lambda s: s["subject"][0]["digest"].update(sha256="0" * 64),
    "predicate type": lambda s: s.update(predicateType="https://example.org/other-predicate/v1"),
    "builder id": lambda s: s["predicate"]["runDetails"]["builder"].update(
        id="https://other.example/builder"
    ),
    "source": lambda s: s["predicate"]["buildDefinition"]["resolvedDependencies"][0].update(
        uri="git+https://x/y@z"
    ),
    "sbom": lambda s: s["predicate"]["runDetails"]["byproducts"][0]["digest"].update(sha256="1" * 64),
}
TAMPERED = ("signature", "payload", "certificate", "log body", "inclusion proof", "checkpoint")


@st.composite
def cases(draw: st.DrawFn) -> tuple[str, str | None, int, dict[str, str]]:
    kind = draw(st.sampled_from(["message", "real-dsse", "loopback-dsse", "key", "statement"]))
    if kind in ("message", "real-dsse", "loopback-dsse"):
        change = draw(st.sampled_from([None, *TAMPERED]))
    elif kind == "key":
        change = draw(st.sampled_from([None, "signature", "payload", *RESIGNED]))
    else:
        change = draw(st.sampled_from([None, *RESIGNED]))
    at = draw(st.integers(0, 10_000))
    fields = ("signer", "issuer", "predicate_type", "builder_id", "source_uri", "sbom")
    choices = {"signer": ["true", "other"], "issuer": ["true", "other"]}
    request = {f: draw(st.sampled_from(choices.get(f, ["absent", "true", "other"]))) for f in fields}
    return kind, change, at, request


@pytest.mark.slow
@settings(max_examples=10_000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=cases())
def test_property_ok_if_and_only_if_intact_applicable_and_true(material: Material, case: Any) -> None:
    name, change, at, asked = case
    kind = material.kinds[name]
    text = kind.bundle.read_text()
    truth = {
        "predicate_type": kind.predicate_type,
        "builder_id": kind.builder_id,
        "source_uri": kind.source_uri,
        "sbom": kind.sbom,
    }
    intact = change is None
    if change in TAMPERED and "key" not in kind.signer:
        document = json.loads(text)
        _tamper(document, change, at)
        text = json.dumps(document)
    elif change in ("signature", "payload"):
        envelope = json.loads(text)
        if change == "signature":
            envelope["signatures"][0]["sig"] = _b64_flip(envelope["signatures"][0]["sig"], at)
        else:
            envelope["payload"] = _b64_flip(envelope["payload"], at)
        text = json.dumps(envelope)
    elif change in RESIGNED:
        statement = json.loads(base64.b64decode(json.loads(text)["payload"]) if kind.signed else text)
        RESIGNED[change](statement)
        payload = json.dumps(statement).encode()
        text = sign_with_key(payload, material.key).decode() if kind.signed else payload.decode()
        intact = kind.signed  # a key holder may sign what it likes: the signature holds
        truth = {
            **truth,
            **{  # what the bundle now says
                "predicate type": {"predicate_type": "https://example.org/other-predicate/v1"},
                "builder id": {"builder_id": "https://other.example/builder"},
                "source": {"source_uri": "git+https://x/y@z"},
                "sbom": {"sbom": None},
            }.get(change, {}),
        }
    other = {
        "predicate_type": "https://example.org/another/v1",
        "builder_id": "https://another.example/b",
        "source_uri": "git+https://another.example/r@v1",
        "sbom": material.other_sbom,
    }
    request = dict(kind.signer)
    if asked["signer"] == "other":
        if "key" in request:
            request["key"] = material.other_key
        else:
            request["identity"] = "someone-else@example.org"
    if asked["issuer"] == "other" and "issuer" in request:
        request["issuer"] = "https://other-issuer.example"
    expected = intact and kind.signed and asked["signer"] == "true"
    expected = expected and (asked["issuer"] == "true" or "key" in kind.signer)
    expected = expected and change != "subject digest"
    for field in OPTIONAL:
        wanted = asked[field]
        if wanted == "absent":
            if field == "predicate_type" and kind.predicate_type is not None:
                expected = expected and truth["predicate_type"] == SLSA
            continue
        # "true" for a value the bundle does not hold: the value the provenance kinds hold.
        fallback = {
            "predicate_type": SLSA,
            "builder_id": BUILDER,
            "source_uri": SOURCE,
            "sbom": material.kinds["key"].sbom,
        }[field]
        value = (truth[field] or fallback) if wanted == "true" else other[field]
        request[field] = value
        if kind.predicate_type is None or truth[field] is None or value != truth[field]:
            expected = False
        if field != "predicate_type" and truth["predicate_type"] != SLSA:
            expected = False
    with tempfile.TemporaryDirectory() as folder:
        bundle = Path(folder) / kind.bundle.name
        bundle.write_text(text)
        result = verify(kind.artifact, bundle, replace(Request(), **request))
    assert result.ok == expected, (name, change, asked, result.outcomes)


@pytest.mark.parametrize("option", ["--trusted-root", "--trust-config"])
def test_finding_a_hostile_trust_file_is_refused_before_reading_the_bundle(
    material: Material, tmp_path: Path, option: str
) -> None:
    kind = material.kinds["message"]
    for name, text in (
        ("deep", "[" * 100_000),
        ("huge", '{"a": 1' + "1" * 5000 + "}"),
        ("typed", '{"mediaType": 5}'),
    ):
        trust = tmp_path / f"{name}.json"
        trust.write_text(text)
        run = sbomgen(
            "verify",
            kind.artifact,
            "--bundle",
            kind.bundle,
            "--identity",
            RFC8785_ID,
            "--issuer",
            GITHUB,
            option,
            trust,
        )
        assert run.returncode == 2 and run.stdout == b"", run.stderr
        assert run.stderr.startswith(f"sbomgen: error: {option}: ") and len(run.stderr.splitlines()) == 1


# --- what an attacker's review found ------------------------------------------------------


@pytest.mark.parametrize(
    "repeated",
    [
        ("--identity", "https://evil.example/x", "--cert-identity", RFC8785_ID),
        ("--identity", RFC8785_ID, "--identity", "https://evil.example/x"),
        ("--issuer", "https://evil.example", "--certificate-oidc-issuer", GITHUB),
        ("--builder-id", "https://evil.example/b", "--builder-id", BUILDER),
        ("--predicate-type", "https://evil.example/p", "--predicate-type", SLSA),
    ],
)
def test_finding_an_option_given_twice_with_different_values_is_refused(
    material: Material, repeated: tuple[str, ...]
) -> None:
    kind = material.kinds["message"]
    base = {"--identity": RFC8785_ID, "--issuer": GITHUB}
    for option in repeated[0::2]:
        for alias in ("--identity", "--issuer"):
            if (
                option.endswith(alias.removeprefix("--"))
                or option.endswith("oidc-issuer")
                and alias == "--issuer"
            ):
                base.pop(alias, None)
    arguments = [item for pair in base.items() for item in pair]
    run = sbomgen("verify", kind.artifact, "--bundle", kind.bundle, "--offline", *arguments, *repeated)
    assert run.returncode == 2, run.stderr
    assert run.stdout == b"" and len(run.stderr.splitlines()) == 1
    assert "given more than once with different values" in run.stderr
    # The same value twice says nothing new and is accepted.
    same = ("--identity", RFC8785_ID, "--cert-identity", RFC8785_ID, "--issuer", GITHUB)
    assert sbomgen("verify", kind.artifact, "--bundle", kind.bundle, "--offline", *same).returncode == 0


def test_finding_inputs_that_are_not_regular_files_or_too_large(material: Material, tmp_path: Path) -> None:
    import os

    kind = material.kinds["key"]
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    key = kind.signer["key"]
    for arguments, message in (
        ((kind.artifact, "--bundle", fifo, "--key", key), "error: bundle: /"),
        ((kind.artifact, "--bundle", kind.bundle, "--key", fifo), "--key: "),
        ((kind.artifact, "--bundle", kind.bundle, "--key", key, "--sbom", fifo), "--sbom: "),
        ((fifo, "--bundle", kind.bundle, "--key", key), "the artifact: "),
    ):
        run = sbomgen("verify", *arguments)
        assert run.returncode in (2, 9), run.stderr
        assert "is not a regular file" in run.stderr and len(run.stderr.splitlines()) == 1, run.stderr
        assert message in run.stderr
    large = tmp_path / "large.intoto.json"
    with large.open("wb") as handle:
        handle.truncate((64 << 20) + 1)
    line = one_line_failure(sbomgen("verify", kind.artifact, "--bundle", large, "--key", key), "bundle")
    assert "is larger than the 67,108,864 bytes it may have" in line


def test_finding_text_that_would_forge_output_lines_is_refused_or_escaped(
    material: Material, tmp_path: Path
) -> None:
    kind = material.kinds["key"]
    envelope = json.loads(kind.bundle.read_text())
    for forged in ("k)\u2028ok  identity: forged", "k\u202eemaNeht"):
        extra = {"keyid": forged, "sig": "AAAA"}
        path = tmp_path / "forged.intoto.json"
        path.write_text(json.dumps({**envelope, "signatures": [*envelope["signatures"], extra]}))
        line = one_line_failure(
            sbomgen("verify", kind.artifact, "--bundle", path, "--key", kind.signer["key"]), "bundle"
        )
        assert "holds the control character U+" in line
    assert "\u2028" not in line and "\u202e" not in line


def test_finding_a_rejected_signer_says_nothing_of_what_it_signed(material: Material) -> None:
    kind = material.kinds["loopback-dsse"]
    run = sbomgen(
        "verify",
        kind.artifact,
        "--bundle",
        kind.bundle,
        "--identity",
        "someone-else@example.org",
        "--issuer",
        kind.signer["issuer"],
        "--trust-config",
        kind.signer["trust_config"],
        "--builder-id",
        "https://other.example/b",
    )
    one_line_failure(run, "identity")
    lines = run.stdout.decode().splitlines()
    assert [line.split(":")[0] for line in lines] == [
        "ok  bundle",
        "ok  signature",
        "FAILED  identity",
        "ok  issuer",
        "FAILED  subject",
        "FAILED  predicate type",
        "FAILED  builder id",
    ]
    assert all("not made: the signer is not the one asked for" in line for line in lines[4:])
    assert "other.example" not in run.stdout.decode()


def _resign(material: Material, tmp_path: Path, change: Any) -> Path:
    kind = material.kinds["key"]
    statement = json.loads(base64.b64decode(json.loads(kind.bundle.read_text())["payload"]))
    change(statement)
    path = tmp_path / "resigned.intoto.json"
    path.write_bytes(sign_with_key(json.dumps(statement).encode(), material.key))
    return path


def test_finding_subjects_are_matched_on_every_digest_they_give(material: Material, tmp_path: Path) -> None:
    kind = material.kinds["key"]
    real = json.loads(base64.b64decode(json.loads(kind.bundle.read_text())["payload"]))["subject"][0]
    content = Path(kind.artifact).read_bytes()
    sha1, sha384 = hashlib.sha1(content).hexdigest(), hashlib.sha384(content).hexdigest()
    blake2b, sha3 = hashlib.blake2b(content).hexdigest(), hashlib.sha3_256(content).hexdigest()
    shake128 = hashlib.shake_128(content).hexdigest(16)
    cases = {
        "wrong first, right second": ([{"name": "a", "digest": {"sha512": "0" * 128}}, real], True),
        "sha512 only": ([{"name": "b", "digest": {"sha512": real["digest"]["sha512"]}}], True),
        "sha256 right, sha512 wrong": (
            [{"name": "c", "digest": {**real["digest"], "sha512": "0" * 128}}],
            "has some of",
        ),
        # SHA-1, SHA-224 and SHA-384 are compared too: a wrong one beside the right SHA256 passed.
        "sha256 right, sha1 wrong": (
            [{"name": "e", "digest": {**real["digest"], "sha1": "0" * 40}}],
            "has some of",
        ),
        "sha384 wrong alone": ([{"name": "f", "digest": {"sha384": "0" * 96}}], "no subject"),
        "sha1 and sha384 right alone": ([{"name": "g", "digest": {"sha1": sha1, "SHA-384": sha384}}], True),
        # Any other digest hashlib computes is computed when named: a wrong one is a mismatch.
        "sha256 right, sha3_256 wrong": (
            [{"name": "h", "digest": {**real["digest"], "sha3_256": "0" * 64}}],
            "has some of",
        ),
        "blake2b and sha3_256 right alone": (
            [{"name": "i", "digest": {"blake2b": blake2b, "sha3_256": sha3}}],
            True,
        ),
        "md5 wrong alone": ([{"name": "j", "digest": {"md5": "0" * 32}}], "no subject"),
        # SHAKE, of any length: a claim is the first bytes of its output.
        "sha256 right, shake128 wrong": (
            [{"name": "k", "digest": {**real["digest"], "shake128": "0" * 64}}],
            "has some of",
        ),
        "shake128 and shake_256 right alone": (
            [
                {
                    "name": "l",
                    "digest": {"shake128": shake128, "shake_256": hashlib.shake_256(content).hexdigest(64)},
                }
            ],
            True,
        ),
        "shake128 right but 64 bits": (
            [{"name": "m", "digest": {"shake128": hashlib.shake_128(content).hexdigest(8)}}],
            "no subject",
        ),
        "no digest sbomgen computes": ([{"name": "d", "digest": {"gitCommit": "ab" * 20}}], "no subject"),
    }
    for name, (subjects, expected) in cases.items():
        path = _resign(material, tmp_path, lambda s, subjects=subjects: s.update(subject=subjects))
        run = sbomgen("verify", kind.artifact, "--bundle", path, "--key", kind.signer["key"])
        if expected is True:
            assert run.returncode == 0, (name, run.stderr)
        else:
            assert expected in one_line_failure(run, "subject"), name


def test_finding_an_sbom_recorded_by_its_sha512_alone(material: Material, tmp_path: Path) -> None:
    kind = material.kinds["key"]

    def sha512_only(statement: dict[str, Any]) -> None:
        byproduct = statement["predicate"]["runDetails"]["byproducts"][0]
        byproduct["digest"] = {"sha512": byproduct["digest"]["sha512"]}

    path = _resign(material, tmp_path, sha512_only)
    run = sbomgen("verify", kind.artifact, "--bundle", path, "--key", kind.signer["key"], "--sbom", kind.sbom)
    assert run.returncode == 0, run.stderr


def test_finding_keys_other_than_p256_and_ed25519_and_offline_with_key(
    material: Material, tmp_path: Path
) -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec as curves

    key = curves.generate_private_key(curves.SECP384R1())
    public = tmp_path / "p384.pub"
    public.write_bytes(
        key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    kind = material.kinds["key"]
    run = sbomgen("verify", kind.artifact, "--bundle", kind.bundle, "--key", public)
    assert run.returncode == 2 and "only ECDSA P-256 and Ed25519 keys are supported" in run.stderr
    run = sbomgen("verify", kind.artifact, "--bundle", kind.bundle, "--key", kind.signer["key"], "--offline")
    assert run.returncode == 2 and "--offline belong to Sigstore bundles" in run.stderr


def test_finding_output_in_a_narrow_encoding_is_escaped_not_a_crash(material: Material) -> None:
    kind = material.kinds["key"]
    run = sbomgen(
        "verify",
        kind.artifact,
        "--bundle",
        kind.bundle,
        "--key",
        kind.signer["key"],
        env={"PYTHONIOENCODING": "ascii"},
    )
    assert run.returncode == 0, run.stderr


def test_finding_a_statement_file_that_is_no_statement_fails_the_bundle_check(
    material: Material, tmp_path: Path
) -> None:
    path = tmp_path / "statement.json"
    path.write_text(json.dumps({"_type": 1}))
    line = one_line_failure(
        sbomgen("verify", RFC8785, "--bundle", path, "--key", material.kinds["key"].signer["key"]), "bundle"
    )
    assert "_type: " in line


def test_validate_reads_statements_envelopes_and_bundles_as_verify_does(
    material: Material, tmp_path: Path
) -> None:
    kinds = material.kinds
    run = sbomgen(
        "validate", *(kinds[k].bundle for k in ("message", "real-dsse", "loopback-dsse", "key", "statement"))
    )
    assert run.returncode == 0, run.stdout
    lines = run.stdout.decode().splitlines()
    assert [line.split(": valid ")[1] for line in lines] == [
        "Sigstore message-signature bundle (verify checks its signature against the file it signs)",
        "Sigstore DSSE bundle",
        "Sigstore DSSE bundle",
        "key-signed DSSE envelope",
        "unsigned in-toto statement",
    ]
    statement = json.loads(kinds["statement"].bundle.read_text())
    broken = tmp_path / "broken.intoto.json"
    broken.write_text(
        json.dumps({**statement, "predicate": {**statement["predicate"], "buildDefinition": 5}})
    )
    run = sbomgen("validate", broken)
    assert run.returncode == 1
    assert "slsa-provenance-v1: buildDefinition: 5 is not of type 'object'" in run.stdout.decode()
    envelope = json.loads(kinds["key"].bundle.read_text())
    deep = tmp_path / "deep.intoto.json"
    deep.write_text(json.dumps({**envelope, "payload": base64.b64encode(b"[" * 100_000).decode()}))
    run = sbomgen("validate", deep)
    assert (
        run.returncode == 4
        and run.stderr == f"sbomgen: error: {deep}: payload: nested more than 64 levels deep\n"
    )


# --- the gate for what verify reads: anything at all, and type mutations of real bundles --


@pytest.mark.slow
@settings(max_examples=10_000, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_property_hostile_bundles_are_a_no_never_a_crash(material: Material, data: st.DataObject) -> None:
    """Arbitrary JSON, or a real bundle of any kind with one to three places changed (another
    value of the same type or of another type, deleted, doubled): verify reads it through the
    gate and answers with its checks; nothing but a usage error (never) or a "no" comes out."""
    name = data.draw(st.sampled_from(sorted(material.kinds)))
    kind = material.kinds[name]
    seed = json.loads(kind.bundle.read_text())
    document = data.draw(st.one_of(json_values, mutations(seed)))
    with tempfile.TemporaryDirectory() as folder:
        bundle = Path(folder) / kind.bundle.name
        bundle.write_bytes(dumps(document))
        result = verify(kind.artifact, bundle, replace(Request(), **kind.signer))
    assert result.outcomes and all("\n" not in str(o) for o in result.outcomes)
    if not isinstance(document, dict) or name == "statement":
        assert not result.ok, result.outcomes  # not a bundle, or nothing signed it


_OURS = {"sha256": "a" * 64, "sha512": "b" * 128}
_SPELLINGS = {
    "sha256": ["sha256", "SHA256", "sha-256", "SHA_256", "Sha256"],
    "sha512": ["sha512", "SHA512", "sha-512", "SHA_512"],
}


@settings(max_examples=200, deadline=None)
@given(
    st.dictionaries(
        st.sampled_from([*_SPELLINGS["sha256"], *_SPELLINGS["sha512"], "sha1", "gitCommit"]),
        st.sampled_from(["a" * 64, "A" * 64, "b" * 128, "B" * 128, "c" * 64, "0" * 40]),
        min_size=1,
    )
)
def test_a_subject_digest_under_any_spelling_of_sha256_or_sha512_is_compared(claimed: dict[str, str]) -> None:
    """A wrong SHA512 under the name "SHA512" (or "sha-512") beside the right sha256 was left
    out as another algorithm, so the subject matched: every digest a reader could take for
    SHA256 or SHA512 must be the artifact's."""
    from sbomgen.provenance.verify import digests_match

    compared = [
        (algorithm, value.lower())
        for name, value in claimed.items()
        for algorithm, spellings in _SPELLINGS.items()
        if name in spellings
    ]
    expected = all(_OURS[a] == v for a, v in compared) if compared else None
    assert digests_match(claimed, _OURS) is expected
