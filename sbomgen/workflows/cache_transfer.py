"""Carrying the index cache to another machine: a signed (or plainly unsigned) export, and
its import, whose signature and signer are verified before a byte of what it signs is read.

A signed export is a DSSE envelope (key-signed) or a Sigstore DSSE bundle (keyless), made
by the signers ``provenance`` uses. Its payload (``application/vnd.in-toto+json``) is an
in-toto Statement v1 whose predicate type is ``EXPORT_PREDICATE``, whose predicate is the
export document itself and whose subject gives that document's SHA256. It is checked by
``verify``'s own checks (bundle, signature, identity, issuer, predicate type, subject),
each failure a ``CacheError`` (exit 8): an export that cannot be trusted cannot be used.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from ..documents.bundle import Kind
from ..documents.cache import canonical
from ..documents.parse import MAX_DOCUMENT_BYTES, parse_json
from ..documents.source import read_bounded
from ..errors import CacheError, VerificationFailed
from ..provenance import verify as v
from ..provenance.signing import Signing, load_public_key
from ..provenance.statement import check_against_schema
from ..provenance.verify import Request

EXPORT_PREDICATE = "urn:x-sbomgen:index-cache-export:v1"
EXPORT_SUBJECT = "index-cache.json"
MAX_SIGNED_EXPORT_BYTES = 2 * MAX_DOCUMENT_BYTES  # base64 and the envelope around an export


def export_cache(cache_dir: Path, signing: Signing | None = None) -> bytes:
    """Every entry of the cache at ``cache_dir`` as an export, signed as ``signing`` says."""
    from ..enrich.cache import Cache

    signed = signing is not None and signing.method is not None
    store = Cache(cache_dir)
    try:
        unsigned = store.unsigned() if signed else []
        export = store.export()
    finally:
        store.close()
    if unsigned:
        # A signature would vouch for what nobody vouched for, and the mark would be lost.
        raise CacheError(
            f"the cache holds entries imported from an unsigned export ({', '.join(unsigned[:3])}"
            f"{', …' if len(unsigned) > 3 else ''}): refresh them with `sbomgen cache warm`, "
            "or export without --sign"
        )
    if signing is None or not signed:
        return export
    statement = {
        "_type": "https://in-toto.io/Statement/v1",
        "subject": [{"name": EXPORT_SUBJECT, "digest": {"sha256": hashlib.sha256(export).hexdigest()}}],
        "predicateType": EXPORT_PREDICATE,
        "predicate": parse_json(export, "the export", CacheError, MAX_DOCUMENT_BYTES),
    }
    check_against_schema(statement)
    ((_, envelope),) = signing.sign_statements(["index-cache"], [canonical(statement).encode()])
    return envelope


def import_cache(
    path: Path, cache_dir: Path, trust: Request | None = None, allow_unsigned: bool = False
) -> tuple[int, bool]:
    """Add the entries of the export at ``path`` to the cache at ``cache_dir``: a signed
    export whose signer ``trust`` names, or with ``allow_unsigned`` and no ``trust`` an
    unsigned one, whose entries are then marked unsigned. The cache is not opened unless
    all of it is accepted. Returns the number of entries and whether they were signed."""
    from ..enrich.cache import Cache, parse_export

    if trust is not None:
        v.check_request(trust)  # a request that cannot mean what it says: exit 2, nothing read
    where = str(path)
    content = read_bounded(path, where, CacheError, MAX_SIGNED_EXPORT_BYTES)
    document = _outer(content)
    if _is_signed(document) or (document is None and trust is not None):
        if trust is None:
            raise CacheError(
                f"{where} is signed: verify it with --key PUB.pem, or --identity ID and --issuer URL"
            )
        unsigned_from = None
        entries = parse_export(verified_export(content, where, trust), where)
    else:
        if document is not None and trust is not None:
            # A signer was asked for: an unsigned export cannot show it, --allow-unsigned or not.
            raise CacheError(
                f"{where} is not signed, so the signer asked for cannot be verified: an unsigned export "
                "is imported only with --allow-unsigned and no --key, --identity or --issuer"
            )
        if document is not None and not allow_unsigned:
            raise CacheError(
                f"{where} is not signed: import it with --allow-unsigned only if you trust how it came "
                "here (every SBOM made from it will say so), or export it with --sign"
            )
        entries = parse_export(content, where)  # what is not JSON at all is said here
        unsigned_from = hashlib.sha256(content).hexdigest()
    store = Cache(cache_dir)
    try:
        store.put(entries, unsigned_from=unsigned_from)
    finally:
        store.close()
    return len(entries), unsigned_from is None


def _outer(content: bytes) -> object:
    """The file's JSON (not yet any payload), or None when it is not JSON within the bounds."""
    try:
        return parse_json(content, "", CacheError, MAX_SIGNED_EXPORT_BYTES)
    except CacheError:
        return None


def _is_signed(document: object) -> bool:
    """A DSSE envelope or a Sigstore bundle; an unsigned export has neither key."""
    return isinstance(document, dict) and ("payload" in document or "mediaType" in document)


def verified_export(content: bytes, where: str, trust: Request) -> bytes:
    """The export a signed export signs, once its signature, signer, predicate type and
    subject have been verified; the payload is parsed only after the signature holds."""
    v.check_request(trust)
    verifier = trust_problem = None
    if trust.key is not None:
        load_public_key(trust.key)  # a bad key file is the command line's fault (exit 2)
    else:
        try:
            verifier = v.trust_root(trust)
        except v.CheckFailed as exc:
            trust_problem = str(exc)
    evidence = v.Evidence(where, {}, Path(where).name, content)
    checks: list[v.Check] = [v.BundleCheck(trust), v.SignatureCheck(trust, verifier, trust_problem)]
    if trust.sigstore:
        assert trust.issuer is not None
        checks += [v.IdentityCheck(trust.identity, trust.identity_regexp), v.IssuerCheck(trust.issuer)]
    checks.append(v.PredicateTypeCheck(EXPORT_PREDICATE))
    for check in checks:
        _apply(check, evidence, where)
        if evidence.bundle is not None and evidence.bundle.kind is Kind.MESSAGE_SIGNATURE:
            raise CacheError(
                f"{where}: not imported: bundle: {evidence.bundle_name} is a message signature, which "
                "carries no export: sign the export with `cache export --sign`"
            )
    assert evidence.statement is not None
    export = (canonical(evidence.statement.predicate or {}) + "\n").encode()
    evidence.artifact_digests = {"sha256": hashlib.sha256(export).hexdigest()}
    _apply(v.SubjectCheck(), evidence, where)
    return export


def _apply(check: v.Check, evidence: v.Evidence, where: str) -> None:
    try:
        check.apply(evidence)
    except (v.CheckFailed, VerificationFailed) as exc:
        detail = str(exc).removeprefix("bundle: ")
        raise CacheError(f"{where}: not imported: {check.name}: {detail}") from None
