"""``verify`` of a CPython release file with no signer option requires its release
manager's identity and issuer, from the map sbomgen ships or ``--identities FILE``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import Run, one_line_failure, refused, sbomgen, write_keys
from hypothesis import given
from hypothesis import strategies as st
from sigstore_instance import SigstoreInstance

from sbomgen.documents.identities import ReleaseIdentities
from sbomgen.documents.parse import load_json
from sbomgen.documents.text import control_character
from sbomgen.errors import UsageError
from sbomgen.provenance.identities import PACKAGED, cpython_series, load_identities
from sbomgen.provenance.signing import sign_with_key

MANAGER = "release-manager@example.org"
ARTIFACT = "Python-3.13.5.tgz"


@pytest.fixture(scope="module")
def signed(
    instance: SigstoreInstance, trust_config: Path, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Path]:
    """A small file named as a CPython 3.13 release, its bundles signed by the manager and by
    someone else, the trust config and an identities map naming the manager for 3.13."""
    folder = tmp_path_factory.mktemp("release")
    artifact = folder / ARTIFACT
    artifact.write_bytes(b"not really a tarball, but named as one\n" * 100)
    paths = {"artifact": artifact, "trust": trust_config}
    for who, email in (("manager", MANAGER), ("other", "someone-else@example.org")):
        (folder / who).mkdir()
        run = sbomgen(
            "sign", artifact, "--identity-token", instance.issuer.token(email), "--trust-config",
            trust_config, "-d", folder / who,
        )  # fmt: skip
        assert run.returncode == 0, run.stderr
        paths[who] = folder / who / f"{ARTIFACT}.sigstore"
    identities = folder / "identities.json"
    identities.write_text(
        json.dumps({"releases": {"3.13": {"identity": MANAGER, "issuer": instance.issuer.url}}})
    )
    paths["identities"] = identities
    return paths


def verify(paths: dict[str, Path], bundle: str, *extra: str | Path) -> Run:
    return sbomgen(
        "verify", paths["artifact"], "--bundle", paths[bundle], "--trust-config", paths["trust"], *extra
    )


def test_the_release_manager_of_the_map_is_required_and_named(
    instance: SigstoreInstance, signed: dict[str, Path]
) -> None:
    run = verify(signed, "manager", "--identities", signed["identities"])
    assert run.returncode == 0, run.stderr
    why = f"CPython 3.13's release manager, per {signed['identities']}"
    lines = run.stdout.decode().splitlines()
    assert lines[2:4] == [
        f"ok  identity: the certificate names {MANAGER} ({why})",
        f"ok  issuer: the certificate's issuer is {instance.issuer.url} ({why})",
    ]


def test_another_signer_fails_the_identity_check_naming_whom_the_map_requires(
    signed: dict[str, Path],
) -> None:
    run = verify(signed, "other", "--identities", signed["identities"])
    line = one_line_failure(run, "identity")
    assert line == (
        "sbomgen: error: identity: the certificate names someone-else@example.org; expected "
        f"{MANAGER} (CPython 3.13's release manager, per {signed['identities']})"
    )


def test_without_identities_the_packaged_map_is_used(signed: dict[str, Path]) -> None:
    line = one_line_failure(verify(signed, "manager"), "identity")
    assert line == (
        f"sbomgen: error: identity: the certificate names {MANAGER}; expected thomas@python.org "
        f"(CPython 3.13's release manager, per {PACKAGED})"
    )


def test_a_key_signed_envelope_with_no_signer_option_is_told_to_need_a_key(
    signed: dict[str, Path], tmp_path: Path
) -> None:
    private, _ = write_keys(tmp_path)
    subject = [{"name": ARTIFACT, "digest": {"sha256": "0" * 64}}]
    statement = {"_type": "https://in-toto.io/Statement/v1", "subject": subject,
                 "predicateType": "https://slsa.dev/provenance/v1", "predicate": {}}  # fmt: skip
    envelope = tmp_path / f"{ARTIFACT}.intoto.json"
    envelope.write_bytes(sign_with_key(json.dumps(statement).encode(), private))
    line = one_line_failure(sbomgen("verify", signed["artifact"], "--bundle", envelope), "bundle")
    assert line == (
        f"sbomgen: error: bundle: {envelope.name} is a key-signed DSSE envelope: a key is needed to verify "
        "it, --key PUB.pem (with no signer option given, the Sigstore identity of CPython 3.13's release "
        f"manager, per {PACKAGED} was required, and a key-signed envelope carries none)"
    )


def test_the_packaged_map_has_the_release_managers_of_cpython_releases() -> None:
    table, source = load_identities(None)
    assert source == PACKAGED
    signers = {series: (s.identity, s.issuer) for series, s in table.releases.items()}
    assert signers["3.13"] == ("thomas@python.org", "https://accounts.google.com")
    assert signers["3.11"] == ("pablogsal@python.org", "https://accounts.google.com")
    assert signers["3.14"] == ("hugo@python.org", "https://github.com/login/oauth")
    # What python/release-tools' own map says for the series still to come (a25ec43).
    assert signers["3.15"] == ("hugo@python.org", "https://github.com/login/oauth")
    assert signers["3.16"] == signers["3.17"] == ("savannah@python.org", "https://github.com/login/oauth")
    assert any("python/release-tools" in s for s in table.sources)
    assert any("python.org/downloads/metadata/sigstore" in s for s in table.sources)


@pytest.mark.parametrize(
    ("name", "series"),
    [
        ("Python-3.13.5.tar.xz", "3.13"),
        ("Python-3.11.2.tgz", "3.11"),
        ("Python-3.14.0rc2.tar.xz", "3.14"),
        ("python-3.13.5-amd64.exe", "3.13"),
        ("python-3.12.10-macos11.pkg", "3.12"),
        ("python-3.10.11-embed-win32.zip", "3.10"),
        ("Python-3.13.tgz", None),
        ("Python-3.13.5", None),
        ("notPython-3.13.5.tgz", None),
        ("rfc8785-0.1.2-py3-none-any.whl", None),
        ("Python-3.13.5.tgz\n", None),
    ],
)
def test_cpython_release_file_names(name: str, series: str | None) -> None:
    assert cpython_series(name) == series


@given(st.text(max_size=40))
def test_a_name_gives_a_minor_series_only_when_it_is_a_plain_release_file_name(name: str) -> None:
    series = cpython_series(name)
    if series is not None:
        assert name.lower().startswith(f"python-{series}.")
        assert name.isascii() and name.isprintable() and "/" not in name


def test_requests_that_cannot_say_whom_to_require_are_refused(
    signed: dict[str, Path], tmp_path: Path
) -> None:
    bundle, trust = signed["manager"], signed["trust"]
    other = tmp_path / "Python-3.99.0.tgz"
    other.write_bytes(b"x")
    plain = tmp_path / "notes.txt"
    plain.write_bytes(b"x")
    refused(tmp_path, 2, "verify", plain, "--bundle", bundle, fragments=("say who must have signed",))
    refused(
        tmp_path, 2, "verify", other, "--bundle", bundle,
        fragments=(f"Python-3.99.0.tgz is CPython 3.99, which {PACKAGED} does not list",),
    )  # fmt: skip
    refused(
        tmp_path, 2, "verify", signed["artifact"], "--bundle", bundle, "--identities", signed["identities"],
        "--identity", MANAGER, "--issuer", "https://issuer.example", "--trust-config", trust,
        fragments=("--identities says who signs a CPython release; --identity, --issuer already say",),
    )  # fmt: skip
    for text, fragment in (
        ("{", "--identities: "),
        ('{"releases": {"3.x": {"identity": "a", "issuer": "b"}}}', "releases"),
        ('{"releases": {"3.13": {"identity": "", "issuer": "b"}}}', "identity"),
        ('{"releases": {}}', "releases"),
    ):
        bad = tmp_path / "bad.json"
        bad.write_text(text)
        refused(
            tmp_path, 2, "verify", signed["artifact"], "--bundle", bundle, "--identities", bad,
            fragments=(fragment,),
        )  # fmt: skip


@pytest.mark.parametrize(
    ("releases", "fragment"),
    [
        # A key the model refuses is named in the error: escaped, not a second line.
        ({"3.13\n\u2028sbomgen: ok": {"identity": "a@b", "issuer": "https://x"}}, "releases.3.13\\u000a"),
        ({"3.13": {"identity": "a@b", "issuer": "https://x"}, "9" * 100_000: {}}, "releases.9999"),
        # The map's values are refused as the map's, not as options the user did not give.
        ({"3.13": {"identity": " a@b", "issuer": "https://x"}}, "releases.3.13.identity: "),
        ({"3.13": {"identity": "a@b", "issuer": "https://x "}}, "releases.3.13.issuer: "),
    ],
)
def test_a_hostile_identities_file_is_refused_in_one_short_line_naming_it(
    tmp_path: Path, releases: dict[str, object], fragment: str
) -> None:
    artifact, bundle, identities = tmp_path / ARTIFACT, tmp_path / "b.sigstore", tmp_path / "ids.json"
    artifact.write_bytes(b"x")
    bundle.write_text("{}")
    identities.write_text(json.dumps({"releases": releases}))
    line = refused(
        tmp_path, 2, "verify", artifact, "--bundle", bundle, "--identities", identities,
        fragments=(f"--identities: {identities}: {fragment}",),
    )  # fmt: skip
    assert len(line) < 500, line[:600]


@given(st.text(max_size=300))
def test_any_key_of_a_refused_map_is_named_on_one_short_printable_line(key: str) -> None:
    text = json.dumps({"releases": {key: {"identity": 5}}})
    try:
        load_json(ReleaseIdentities, text, "m", UsageError)
    except UsageError as exc:
        message = str(exc)
    assert control_character(message) is None and len(message) < 300, message
