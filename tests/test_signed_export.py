"""Signed cache exports: made with a key or keylessly (the loopback Sigstore instance),
verified before a byte of what they sign is read; unsigned ones only on request, and then
marked in the cache and in every SBOM made from them."""

from __future__ import annotations

import base64
import hashlib
import json
import shutil
import tempfile
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from conftest import CPYTHON_313, online_sbom, refused, sbomgen, small_release, write_keys
from hypothesis import given, settings
from hypothesis import strategies as st
from index_server import IndexServer
from sigstore_instance import SigstoreInstance

from sbomgen.documents.cache import canonical, digest
from sbomgen.enrich.cache import Cache
from sbomgen.errors import CacheError
from sbomgen.provenance.signing import Signing, sign_with_key
from sbomgen.provenance.verify import Request
from sbomgen.workflows.cache_transfer import EXPORT_PREDICATE, export_cache, import_cache

EMAIL = "release-manager@example.org"
UNSIGNED_TEXT = (
    "sbomgen:index-metadata-unsigned this package's index metadata comes from a cache export "
    "imported without a signature (--allow-unsigned), SHA256 "
)


@pytest.fixture(scope="module")
def original(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The 3.13.5 SBOM made against the loopback index, its cache, and a key pair."""
    base = tmp_path_factory.mktemp("original")
    online = online_sbom(base)
    private, public = write_keys(base)
    signed = base / "signed.json"
    signed.write_bytes(export_cache(base / "cache", Signing(f"key:{private}")))
    return {
        "base": base,
        "out": online["out"],
        "url": online["url"],
        "private": private,
        "public": public,
        "signed": signed,
    }


def offline_sbom(original: dict[str, Any], cache: Path, out: Path) -> bytes:
    run = sbomgen(
        "tarball", CPYTHON_313, "-o", out, "--offline", "--index-url", original["url"], "--cache-dir", cache
    )
    assert run.returncode == 0, run.stderr
    return out.read_bytes()


def envelope_statement(path: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    envelope = json.loads(path.read_text())
    return envelope, json.loads(base64.b64decode(envelope["payload"]))


def test_key_signed_export_gives_the_same_sbom(original: dict[str, Any], tmp_path: Path) -> None:
    signed = tmp_path / "index-cache.json"
    run = sbomgen(
        "cache", "export", "-o", signed, "--cache-dir", original["base"] / "cache",
        "--sign", f"key:{original['private']}",
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    assert run.stderr == f"sbomgen: exported the cache to {signed} (signed)\n"
    envelope, statement = envelope_statement(signed)
    assert envelope["payloadType"] == "application/vnd.in-toto+json"
    assert statement["predicateType"] == EXPORT_PREDICATE == "urn:x-sbomgen:index-cache-export:v1"
    export = (canonical(statement["predicate"]) + "\n").encode()
    assert statement["subject"] == [
        {"name": "index-cache.json", "digest": {"sha256": hashlib.sha256(export).hexdigest()}}
    ]
    fresh = tmp_path / "fresh"
    run = sbomgen("cache", "import", signed, "--key", original["public"], "--cache-dir", fresh)
    assert run.returncode == 0, run.stderr
    assert run.stderr == f"sbomgen: imported 22 entries from {signed}\n"  # pip, what it vendors, macholib
    assert offline_sbom(original, fresh, tmp_path / "o.json") == original["out"].read_bytes()


def test_keyless_signed_export_gives_the_same_sbom(
    original: dict[str, Any], instance: SigstoreInstance, trust_config: Path, tmp_path: Path
) -> None:
    signed = tmp_path / "index-cache.sigstore.json"
    run = sbomgen(
        "cache", "export", "-o", signed, "--cache-dir", original["base"] / "cache", "--sign", "sigstore",
        "--identity-token", instance.issuer.token(EMAIL), "--trust-config", trust_config,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    assert json.loads(signed.read_text())["dsseEnvelope"]["payloadType"] == "application/vnd.in-toto+json"

    def import_as(identity: str, issuer: str, cache: Path) -> Any:
        return sbomgen(
            "cache", "import", signed, "--identity", identity, "--issuer", issuer,
            "--trust-config", trust_config, "--cache-dir", cache,
        )  # fmt: skip

    wrong = tmp_path / "wrong"
    run = import_as("someone-else@example.org", instance.issuer.url, wrong)
    assert (run.returncode, run.stderr) == (
        8,
        f"sbomgen: error: {signed}: not imported: identity: the certificate names {EMAIL}; "
        "expected someone-else@example.org\n",
    )
    run = import_as(EMAIL, "https://accounts.google.com", wrong)
    assert (run.returncode, run.stderr) == (
        8,
        f"sbomgen: error: {signed}: not imported: issuer: the certificate's issuer is "
        f"{instance.issuer.url}; expected https://accounts.google.com\n",
    )
    bundle = json.loads(signed.read_text())
    forged = tmp_path / "forged.sigstore.json"
    forge_envelope(bundle["dsseEnvelope"])
    forged.write_text(json.dumps(bundle))
    run = sbomgen(
        "cache", "import", forged, "--identity", EMAIL, "--issuer", instance.issuer.url,
        "--trust-config", trust_config, "--cache-dir", wrong,
    )  # fmt: skip
    assert (run.returncode, run.stderr) == (
        8,
        f"sbomgen: error: {forged}: not imported: signature: DSSE: invalid signature\n",
    )
    assert not wrong.exists()
    fresh = tmp_path / "fresh"
    run = import_as(EMAIL, instance.issuer.url, fresh)
    assert run.returncode == 0, run.stderr
    assert offline_sbom(original, fresh, tmp_path / "o.json") == original["out"].read_bytes()


def forge(signed: Path, target: Path) -> None:
    envelope = json.loads(signed.read_text())
    forge_envelope(envelope)
    target.write_text(json.dumps(envelope))


def forge_envelope(envelope: dict[str, Any]) -> None:
    """The attack: pip's location and license changed, every checksum recomputed, the
    signature kept."""
    statement = json.loads(base64.b64decode(envelope["payload"]))
    export = statement["predicate"]
    for entry in export["entries"]:
        if entry["name"] == "pip":
            entry["data"]["license"] = "GPL-3.0-only"
            for file in entry["data"]["files"]:
                file["url"] = "https://evil.invalid/pip.whl"
            entry["sha256"] = digest(canonical(entry["data"]))
    export["sha256"] = digest(canonical(export["entries"]))
    text = (canonical(export) + "\n").encode()
    statement["subject"][0]["digest"]["sha256"] = hashlib.sha256(text).hexdigest()
    envelope["payload"] = base64.b64encode(canonical(statement).encode()).decode()


def test_refusals_are_one_line_exit_8_and_change_nothing(original: dict[str, Any], tmp_path: Path) -> None:
    signed, public = original["signed"], original["public"]
    forged = tmp_path / "forged.json"
    forge(signed, forged)
    unsigned = tmp_path / "unsigned.json"
    unsigned.write_bytes(export_cache(original["base"] / "cache"))
    _, other = write_keys(tmp_path, name="other")
    provenance = tmp_path / "provenance.json"
    statement = {"_type": "https://in-toto.io/Statement/v1", "predicateType": "https://slsa.dev/provenance/v1",
                 "subject": [{"name": "x", "digest": {"sha256": "0" * 64}}], "predicate": {}}  # fmt: skip
    provenance.write_bytes(sign_with_key(json.dumps(statement).encode(), original["private"]))
    cache = tmp_path / "cache"
    cases = [
        (forged, ("--key", public), f"{forged}: not imported: signature: no signature of the envelope is "
                                    "made by the key ecdsa.pub"),
        (signed, ("--key", other), f"{signed}: not imported: signature: no signature of the envelope is "
                                   "made by the key other.pub"),
        (unsigned, (), f"{unsigned} is not signed: import it with --allow-unsigned only if you trust how "
                       "it came here (every SBOM made from it will say so), or export it with --sign"),
        *((unsigned, options, f"{unsigned} is not signed, so the signer asked for cannot be verified: "
                              "an unsigned export is imported only with --allow-unsigned and no --key, "
                              "--identity or --issuer")
          for options in (("--key", public), ("--key", public, "--allow-unsigned"),
                          ("--identity", EMAIL, "--issuer", "https://issuer.example", "--allow-unsigned"))),
        (signed, ("--allow-unsigned",), f"{signed} is signed: verify it with --key PUB.pem, or --identity ID "
                                        "and --issuer URL"),
        (signed, ("--identity", EMAIL, "--issuer", "https://issuer.example"),
         f"{signed}: not imported: bundle: signed.json is a key-signed DSSE envelope; verify it with "
         "--key PUB.pem, not --identity and --issuer"),
        (provenance, ("--key", public), f"{provenance}: not imported: predicate type: is "
                                        f"https://slsa.dev/provenance/v1, expected {EXPORT_PREDICATE}"),
    ]  # fmt: skip
    for export, options, message in cases:
        line = refused(tmp_path, 8, "cache", "import", export, *options, "--cache-dir", cache, fragments=())
        assert line == f"sbomgen: error: {message}"
        assert not cache.exists()  # refused before the cache was opened: not even an empty one
    # A request that cannot mean what it says is the command line's fault, as for verify.
    line = refused(tmp_path, 2, "cache", "import", signed, "--key", public, "--identity", EMAIL,
                   "--cache-dir", cache, fragments=())  # fmt: skip
    assert line == (
        "sbomgen: error: --key verifies a key-signed envelope; --identity belong to Sigstore bundles: "
        "pass either --key or --identity and --issuer"
    )
    assert not cache.exists()


def test_unsigned_entries_are_marked_in_every_sbom_until_a_signed_import(tmp_path: Path) -> None:
    tarball, documents = small_release(tmp_path, "https://files.example/pip-99.0-py3-none-any.whl")
    warm, fresh = tmp_path / "warm", tmp_path / "fresh"
    with IndexServer(documents) as server:
        run = sbomgen("tarball", tarball, "-o", tmp_path / "online.json", "--index-url", server.url,
                      "--cache-dir", warm)  # fmt: skip
        assert run.returncode == 0, run.stderr
    unsigned = tmp_path / "unsigned.json"
    unsigned.write_bytes(export_cache(warm))
    run = sbomgen("cache", "import", unsigned, "--allow-unsigned", "--cache-dir", fresh)
    assert run.stderr == f"sbomgen: imported 2 entries from {unsigned}, marked unsigned\n"
    mark = UNSIGNED_TEXT + hashlib.sha256(unsigned.read_bytes()).hexdigest()

    def offline(name: str, form: str = "spdx-json") -> bytes:
        out = tmp_path / name
        run = sbomgen(
            "tarball", tarball, "-o", out, "-f", form, "--offline", "--index-url", server.url,
            "--cache-dir", fresh,
        )  # fmt: skip
        assert run.returncode == 0, run.stderr
        return out.read_bytes()

    spdx = json.loads(offline("marked.spdx.json"))
    marked = {p["name"]: [a["comment"] for a in p.get("annotations", []) if "unsigned" in a["comment"]]
              for p in spdx["packages"]}  # fmt: skip
    assert {name: found for name, found in marked.items() if found} == {"pip": [mark], "requests": [mark]}
    cyclonedx = json.loads(offline("marked.cdx.json", "cyclonedx-json"))
    components = [
        *cyclonedx["components"],
        *(c for top in cyclonedx["components"] for c in top.get("components", [])),
    ]
    properties = {c["name"]: [p["value"] for p in c.get("properties", []) if p["name"].endswith("-unsigned")]
                  for c in components if c.get("type") == "library"}  # fmt: skip
    text = mark.removeprefix("sbomgen:index-metadata-unsigned ")
    assert {name: found for name, found in properties.items() if found} == {"pip": [text], "requests": [text]}

    # They are not signed on, unmarked, from here.
    private, public = write_keys(tmp_path)
    line = refused(tmp_path, 8, "cache", "export", "-o", "{out}", "--cache-dir", fresh, "--sign",
                   f"key:{private}", fragments=())  # fmt: skip
    assert line == (
        "sbomgen: error: the cache holds entries imported from an unsigned export (pip 99.0, "
        "requests 2.32.3): refresh them with `sbomgen cache warm`, or export without --sign"
    )
    # The same entries, signed, replace the marked ones: the SBOM is the one made online.
    signed = tmp_path / "signed.json"
    signed.write_bytes(export_cache(warm, Signing(f"key:{private}")))
    assert sbomgen("cache", "import", signed, "--key", public, "--cache-dir", fresh).returncode == 0
    assert offline("after.spdx.json") == (tmp_path / "online.json").read_bytes()


@pytest.fixture(scope="module")
def template(original: dict[str, Any]) -> Path:
    """A cache holding one entry of another index, which a refused import must leave as it is."""
    folder = original["base"] / "template"
    store = Cache(folder)
    first = next(Cache(original["base"] / "cache").entries())
    store.put([replace(first, index_url="https://mirror.example/simple")])
    store.close()
    return folder


def mutate(content: bytes, position: int, kind: str, byte: int) -> bytes:
    position %= len(content)
    if kind == "replace":
        return content[:position] + bytes([byte]) + content[position + 1 :]
    if kind == "insert":
        return content[:position] + bytes([byte]) + content[position:]
    return content[:position] + content[position + 1 :]


@settings(max_examples=150, deadline=None)
@given(
    position=st.integers(min_value=0, max_value=1 << 20),
    kind=st.sampled_from(["replace", "insert", "delete"]),
    byte=st.integers(min_value=0, max_value=255),
)
def test_a_mutated_signed_export_is_refused_or_imports_exactly_what_was_signed(
    original: dict[str, Any], template: Path, position: int, kind: str, byte: int
) -> None:
    content = original["signed"].read_bytes()
    mutated = mutate(content, position, kind, byte)
    with tempfile.TemporaryDirectory() as work:
        export, cache = Path(work) / "export.json", Path(work) / "cache"
        export.write_bytes(mutated)
        shutil.copytree(template, cache)
        before = {p.name: p.read_bytes() for p in cache.iterdir()}
        try:
            import_cache(export, cache, Request(key=original["public"]))
        except CacheError as exc:
            assert exc.exit_code == 8 and "\n" not in str(exc)
            assert {p.name: p.read_bytes() for p in cache.iterdir()} == before  # no partial import
            return
        # Accepted: the change was outside what is signed (JSON spacing, a key id).
        store = Cache(cache)
        imported = [e for e in store.entries() if e.index_url != "https://mirror.example/simple"]
        store.close()
        source = Cache(original["base"] / "cache")
        assert imported == list(source.entries())
        source.close()


def test_check_offline_says_when_its_answer_comes_from_an_unsigned_export(tmp_path: Path) -> None:
    """An unsigned export could hide files added to a release: check's answer says so."""
    tarball, documents = small_release(tmp_path, "https://files.example/pip-99.0-py3-none-any.whl")
    warm, fresh, sbom = tmp_path / "warm", tmp_path / "fresh", tmp_path / "online.json"
    with IndexServer(documents) as server:
        run = sbomgen("tarball", tarball, "-o", sbom, "--index-url", server.url, "--cache-dir", warm)
        assert run.returncode == 0, run.stderr
    unsigned = tmp_path / "unsigned.json"
    unsigned.write_bytes(export_cache(warm))
    assert sbomgen("cache", "import", unsigned, "--allow-unsigned", "--cache-dir", fresh).returncode == 0
    sha256 = hashlib.sha256(unsigned.read_bytes()).hexdigest()
    for cache, said in ((warm, []), (fresh, ["pip 99.0", "requests 2.32.3"])):
        run = sbomgen("check", sbom, "--offline", "--index-url", server.url, "--cache-dir", cache)
        assert run.returncode == 0, run.stderr
        assert run.stdout.splitlines()[-1] == b"2 releases: unchanged since the SBOM was made"
        assert run.stderr.splitlines() == [
            f"sbomgen: warning: {release}: the cached index metadata comes from an export imported "
            f"unsigned (--allow-unsigned), SHA256 {sha256}; the answer is only as good as that export"
            for release in said
        ]


def test_a_message_signature_of_the_export_is_refused_as_such(
    original: dict[str, Any], instance: SigstoreInstance, trust_config: Path, tmp_path: Path
) -> None:
    """A Sigstore bundle over the export's bytes (`sbomgen sign`) signs no statement: it is
    refused by its kind, before any signature is looked at."""
    export = tmp_path / "index-cache.json"
    export.write_bytes(export_cache(original["base"] / "cache"))
    run = sbomgen(
        "sign", export, "--identity-token", instance.issuer.token(EMAIL), "--trust-config", trust_config,
        "-d", tmp_path,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    bundle = tmp_path / "index-cache.json.sigstore"
    run = sbomgen(
        "cache", "import", bundle, "--identity", EMAIL, "--issuer", instance.issuer.url,
        "--trust-config", trust_config, "--cache-dir", tmp_path / "fresh",
    )  # fmt: skip
    assert (run.returncode, run.stderr) == (
        8,
        f"sbomgen: error: {bundle}: not imported: bundle: index-cache.json.sigstore is a message "
        "signature, which carries no export: sign the export with `cache export --sign`\n",
    )
    assert not (tmp_path / "fresh").exists()


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("index_url", "javascript:alert(1)"),  # an SBOM carries it as the index that answered
        ("index_url", "https://user:password@mirror.example/simple"),
        ("subject", "zz"),
        ("fetched_at", "yesterday"),
        ("name", "Requests"),
    ],
)
def test_an_entry_that_no_run_could_have_written_is_refused(
    original: dict[str, Any], tmp_path: Path, field: str, value: str
) -> None:
    """Checksums recomputed, imported with --allow-unsigned: still read by the typed model."""
    export = json.loads(export_cache(original["base"] / "cache"))
    export["entries"][0][field] = value
    export["sha256"] = digest(canonical(export["entries"]))
    path = tmp_path / "export.json"
    path.write_text(json.dumps(export))
    cache = tmp_path / "cache"
    line = refused(
        tmp_path, 8, "cache", "import", path, "--allow-unsigned", "--cache-dir", cache, fragments=(field,)
    )
    assert "password" not in line
    assert not cache.exists()
