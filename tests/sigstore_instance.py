"""A Sigstore test instance on 127.0.0.1, so keyless signing runs end to end offline.

Three real HTTP services, each implementing the documented wire format of the public
service it stands in for, so that the unpatched sigstore client signs against them:

- an OpenID Connect issuer: discovery document and JWKS; it mints ES256 identity tokens;
- a Fulcio-compatible certificate authority (``POST /api/v2/signingCert``): it takes the
  token from the body's ``credentials.oidcIdentityToken`` or else the Authorization header,
  as Fulcio does; checks its signature against the issuer's published keys and its claims;
  checks proof of possession of the key; and issues a 10-minute code-signing certificate with Fulcio's SAN
  and issuer extensions and an embedded SCT from a test CT log (RFC 6962 precertificate);
- a Rekor v1-compatible transparency log (``/api/v1/log``): it verifies and canonicalises
  hashedrekord and dsse entries, keeps an RFC 6962 Merkle tree, and answers with the entry,
  its inclusion proof, a signed checkpoint and a signed entry timestamp.

``SigstoreInstance.trust_config()`` is the ClientTrustConfig (trusted root and signing
config) that points the client at them. ``tests/rekor_v2.py`` makes the instance with a
Rekor v2 log and an RFC 3161 timestamp authority instead, through the hooks ``tlogs``,
``timestamp_authorities``, ``tlog_services`` and ``tsa_services``.
"""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import hashlib
import http.server
import json
import secrets
import struct
import threading
import time
import urllib.request
from typing import Any

import jwt
import rfc8785
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID, ObjectIdentifier
from sigstore_models.common import v1 as common
from sigstore_models.trustroot import v1 as trustroot

OIDC_ISSUER_V1 = ObjectIdentifier("1.3.6.1.4.1.57264.1.1")  # raw bytes (deprecated form)
OIDC_ISSUER_V2 = ObjectIdentifier("1.3.6.1.4.1.57264.1.8")  # DER UTF8String
SCT_LIST = ObjectIdentifier("1.3.6.1.4.1.11129.2.4.2")
CERTIFICATE_LIFETIME = dt.timedelta(minutes=10)
AUDIENCE = "sigstore"
OPERATOR = "sbomgen-tests"

_DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class HttpError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class Service:
    """A ThreadingHTTPServer on 127.0.0.1 whose ``handle`` answers each request."""

    bytes_type = "text/plain"  # the Content-Type of answers given as bytes

    def __init__(self) -> None:
        service = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
                self._dispatch("GET")

            def do_POST(self) -> None:  # noqa: N802
                self._dispatch("POST")

            def _dispatch(self, method: str) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                service.requests.append(f"{method} {self.path}")
                try:
                    status, answer = service.handle(method, self.path, body, dict(self.headers))
                except HttpError as exc:
                    status, answer = exc.status, {"code": exc.status, "message": exc.message}
                except Exception as exc:  # a bug here must reach the client as an answer
                    status, answer = 500, {"code": 500, "message": repr(exc)}
                if isinstance(answer, bytes):
                    data, kind = answer, service.bytes_type
                else:
                    data, kind = json.dumps(answer).encode(), "application/json"
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    self.wfile.write(data)

            def log_message(self, *args: object) -> None:
                pass

        self.requests: list[str] = []
        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.address = f"127.0.0.1:{self._server.server_address[1]}"
        self.url = f"http://{self.address}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def handle(self, method: str, path: str, body: bytes, headers: dict[str, str]) -> tuple[int, Any]:
        raise NotImplementedError


# --- small encodings ----------------------------------------------------------------


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def spki_der(key: Any) -> bytes:
    return key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def log_id(key: Any) -> bytes:
    """RFC 6962 log id: SHA256 of the key's SubjectPublicKeyInfo."""
    return hashlib.sha256(spki_der(key)).digest()


def _der(tag: int, content: bytes) -> bytes:
    n = len(content)
    length = (
        bytes([n])
        if n < 0x80
        else bytes([0x80 | ((n.bit_length() + 7) // 8)]) + n.to_bytes((n.bit_length() + 7) // 8, "big")
    )
    return bytes([tag]) + length + content


def der_utf8_string(text: str) -> bytes:
    return _der(0x0C, text.encode())


def der_octet_string(data: bytes) -> bytes:
    return _der(0x04, data)


def _u16_prefixed(data: bytes) -> bytes:
    return struct.pack("!H", len(data)) + data


def _u24_prefixed(data: bytes) -> bytes:
    return struct.pack("!I", len(data))[1:] + data


def key_usage(**allowed: bool) -> x509.KeyUsage:
    names = ("digital_signature", "content_commitment", "key_encipherment", "data_encipherment")
    names += ("key_agreement", "key_cert_sign", "crl_sign", "encipher_only", "decipher_only")
    return x509.KeyUsage(**{name: allowed.get(name, False) for name in names})


def pem(certificate: x509.Certificate) -> str:
    return certificate.public_bytes(serialization.Encoding.PEM).decode()


# --- OpenID Connect issuer ----------------------------------------------------------


class OidcIssuer(Service):
    """Publishes its keys by OIDC discovery and mints identity tokens signed with them."""

    def __init__(self) -> None:
        super().__init__()
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.key_id = secrets.token_hex(8)

    def handle(self, method: str, path: str, body: bytes, headers: dict[str, str]) -> tuple[int, Any]:
        if method == "GET" and path == "/.well-known/openid-configuration":
            return 200, {
                "issuer": self.url,
                "jwks_uri": f"{self.url}/keys",
                "authorization_endpoint": f"{self.url}/auth",
                "token_endpoint": f"{self.url}/token",
                "response_types_supported": ["id_token"],
                "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": ["ES256"],
            }
        if method == "GET" and path == "/keys":
            jwk = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(self.key.public_key()))
            jwk.update(kid=self.key_id, use="sig", alg="ES256")
            return 200, {"keys": [jwk]}
        raise HttpError(404, f"no such endpoint: {method} {path}")

    def token(
        self,
        email: str,
        *,
        lifetime: int = 300,
        issued_at: int | None = None,
        audience: str = AUDIENCE,
        signing_key: ec.EllipticCurvePrivateKey | None = None,
    ) -> str:
        now = int(time.time()) if issued_at is None else issued_at
        claims = {
            "iss": self.url,
            "sub": email,
            "email": email,
            "email_verified": True,
            "aud": audience,
            "iat": now,
            "nbf": now,
            "exp": now + lifetime,
        }
        return jwt.encode(claims, signing_key or self.key, algorithm="ES256", headers={"kid": self.key_id})


# --- certificate authority and CT log ------------------------------------------------


class CertificateAuthority:
    """A self-signed root that issues leaf certificates directly, as a Fulcio root does."""

    def __init__(self, name: str) -> None:
        self.key = ec.generate_private_key(ec.SECP256R1())
        now = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
        self.subject = x509.Name(
            [
                x509.NameAttribute(NameOID.ORGANIZATION_NAME, OPERATOR),
                x509.NameAttribute(NameOID.COMMON_NAME, name),
            ]
        )
        self.not_before = now - dt.timedelta(hours=1)
        public_key = self.key.public_key()
        self.certificate = (
            x509.CertificateBuilder()
            .subject_name(self.subject)
            .issuer_name(self.subject)
            .public_key(public_key)
            .serial_number(x509.random_serial_number())
            .not_valid_before(self.not_before)
            .not_valid_after(now + dt.timedelta(days=30))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(key_usage(key_cert_sign=True, crl_sign=True), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
            .sign(self.key, hashes.SHA256())
        )


class CtLog:
    """Signs RFC 6962 signed certificate timestamps for precertificates."""

    def __init__(self) -> None:
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.log_id = log_id(self.key.public_key())

    def sct(self, issuer: CertificateAuthority, tbs_precertificate: bytes) -> bytes:
        """One TLS-encoded SignedCertificateTimestamp (v1, precert entry, SHA256/ECDSA)."""
        # Whole seconds: the client rebuilds the milliseconds from a float timestamp.
        timestamp = int(time.time()) * 1000
        issuer_key_hash = hashlib.sha256(spki_der(issuer.key.public_key())).digest()
        signed = (
            struct.pack("!BBQH", 0, 0, timestamp, 1)  # v1, certificate_timestamp, time, precert_entry
            + issuer_key_hash
            + _u24_prefixed(tbs_precertificate)
            + _u16_prefixed(b"")  # no extensions
        )
        signature = self.key.sign(signed, ec.ECDSA(hashes.SHA256()))
        return (
            struct.pack("!B", 0)
            + self.log_id
            + struct.pack("!Q", timestamp)
            + _u16_prefixed(b"")
            + struct.pack("!BB", 4, 3)  # hash sha256, signature ecdsa
            + _u16_prefixed(signature)
        )


# --- Fulcio -------------------------------------------------------------------------


class Fulcio(Service):
    """``POST /api/v2/signingCert`` and ``GET /api/v2/trustBundle`` of Fulcio's REST API."""

    def __init__(self, ca: CertificateAuthority, ct_log: CtLog, trusted_issuers: set[str]) -> None:
        super().__init__()
        self.ca = ca
        self.ct_log = ct_log
        self.trusted_issuers = trusted_issuers

    def handle(self, method: str, path: str, body: bytes, headers: dict[str, str]) -> tuple[int, Any]:
        if method == "GET" and path == "/api/v2/trustBundle":
            return 200, {"chains": [{"certificates": [pem(self.ca.certificate)]}]}
        if method != "POST" or path != "/api/v2/signingCert":
            raise HttpError(404, f"no such endpoint: {method} {path}")
        try:
            request = json.loads(body)
        except json.JSONDecodeError:
            raise HttpError(400, "request body is not JSON") from None
        if not isinstance(request, dict):
            raise HttpError(400, "request body is not a JSON object")
        claims = self.verify_token(self.identity_token(request, headers))
        public_key = self.proven_key(request, claims)
        chain = self.issue(public_key, claims["email"], claims["iss"])
        return 201, {"signedCertificateEmbeddedSct": {"chain": {"certificates": [pem(c) for c in chain]}}}

    @staticmethod
    def identity_token(request: dict[str, Any], headers: dict[str, str]) -> str:
        """The token as Fulcio reads it: ``credentials.oidcIdentityToken`` in the body (as
        sigstore-js sends it), or else the Authorization header's bearer token (sigstore-python)."""
        credentials = request.get("credentials")
        token = credentials.get("oidcIdentityToken") if isinstance(credentials, dict) else None
        if isinstance(token, str) and token:
            return token
        authorization = headers.get("Authorization", "")
        if not authorization.startswith("Bearer "):
            raise HttpError(
                401, "no identity token: neither credentials.oidcIdentityToken nor a bearer token"
            )
        return authorization.removeprefix("Bearer ")

    def verify_token(self, token: str) -> dict[str, Any]:
        """The token's claims, once its issuer is trusted and its signature, audience and
        validity period check out against the keys the issuer publishes."""
        try:
            issuer = jwt.decode(token, options={"verify_signature": False}).get("iss")
        except jwt.PyJWTError as exc:
            raise HttpError(401, f"malformed identity token: {exc}") from None
        if issuer not in self.trusted_issuers:
            raise HttpError(401, f"identity token issuer {issuer!r} is not trusted")
        with _DIRECT.open(f"{issuer}/.well-known/openid-configuration", timeout=5) as answer:
            jwks_uri = json.load(answer)["jwks_uri"]
        with _DIRECT.open(jwks_uri, timeout=5) as answer:
            keys = jwt.PyJWKSet.from_dict(json.load(answer))
        try:
            key = next(k for k in keys.keys if k.key_id == jwt.get_unverified_header(token).get("kid"))
            claims: dict[str, Any] = jwt.decode(
                token,
                key.key,
                algorithms=["ES256"],
                audience=AUDIENCE,
                issuer=issuer,
                options={"require": ["iss", "sub", "aud", "iat", "exp", "email"]},
            )
        except StopIteration:
            raise HttpError(401, "identity token is signed by a key its issuer does not publish") from None
        except jwt.ExpiredSignatureError:
            raise HttpError(401, "identity token has expired") from None
        except jwt.PyJWTError as exc:
            raise HttpError(401, f"identity token rejected: {exc}") from None
        if claims.get("email_verified") is not True:
            raise HttpError(401, "identity token's email is not verified")
        return claims

    @staticmethod
    def proven_key(request: dict[str, Any], claims: dict[str, Any]) -> ec.EllipticCurvePublicKey:
        """The key to certify, once the request proves possession of its private half: a
        CSR signed with it, or (publicKeyRequest) a signature over the identity."""
        try:
            if "certificateSigningRequest" in request:
                csr = x509.load_pem_x509_csr(base64.b64decode(request["certificateSigningRequest"]))
                if not csr.is_signature_valid:
                    raise HttpError(400, "the CSR's signature does not verify: no proof of possession")
                key = csr.public_key()
            else:
                proposed = request["publicKeyRequest"]
                key = serialization.load_pem_public_key(proposed["publicKey"]["content"].encode())
                if not isinstance(key, ec.EllipticCurvePublicKey):
                    raise HttpError(400, "unsupported public key type")
                key.verify(
                    base64.b64decode(proposed["proofOfPossession"]),
                    claims["email"].encode(),
                    ec.ECDSA(hashes.SHA256()),
                )
        except HttpError:
            raise
        except InvalidSignature:
            raise HttpError(400, "the proof of possession does not verify") from None
        except (KeyError, TypeError, ValueError) as exc:
            raise HttpError(400, f"malformed certificate request: {exc}") from None
        if not isinstance(key, ec.EllipticCurvePublicKey) or key.curve.name not in ("secp256r1", "secp384r1"):
            raise HttpError(400, "unsupported public key type")
        return key

    def issue(self, public_key: ec.EllipticCurvePublicKey, email: str, issuer: str) -> list[x509.Certificate]:
        """A leaf certificate and the chain above it, the leaf carrying an SCT for its precertificate."""
        now = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
        builder = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([]))
            .issuer_name(self.ca.subject)
            .public_key(public_key)
            .serial_number(x509.random_serial_number())
            .not_valid_before(now)
            .not_valid_after(now + CERTIFICATE_LIFETIME)
            .add_extension(key_usage(digital_signature=True), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CODE_SIGNING]), critical=False)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(self.ca.key.public_key()), critical=False
            )
            # The subject is empty, so the SAN is critical (RFC 5280 4.2.1.6).
            .add_extension(x509.SubjectAlternativeName([x509.RFC822Name(email)]), critical=True)
            .add_extension(x509.UnrecognizedExtension(OIDC_ISSUER_V1, issuer.encode()), critical=False)
            .add_extension(
                x509.UnrecognizedExtension(OIDC_ISSUER_V2, der_utf8_string(issuer)), critical=False
            )
        )
        # What the SCT covers: the TBSCertificate without the SCT list (and without the
        # poison extension a precertificate carries), RFC 6962 3.2.
        precertificate_tbs = builder.sign(self.ca.key, hashes.SHA256()).tbs_certificate_bytes
        sct = self.ct_log.sct(self.ca, precertificate_tbs)
        sct_list = der_octet_string(_u16_prefixed(_u16_prefixed(sct)))
        certificate = builder.add_extension(
            x509.UnrecognizedExtension(SCT_LIST, sct_list), critical=False
        ).sign(self.ca.key, hashes.SHA256())
        assert certificate.tbs_precertificate_bytes == precertificate_tbs
        return [certificate, self.ca.certificate]


# --- Rekor --------------------------------------------------------------------------


def leaf_hash(body: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + body).digest()


def _node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def _split(n: int) -> int:
    """The largest power of two smaller than n (RFC 6962 2.1)."""
    return 1 << ((n - 1).bit_length() - 1)


def merkle_root(leaves: list[bytes]) -> bytes:
    if not leaves:
        return hashlib.sha256(b"").digest()
    if len(leaves) == 1:
        return leaves[0]
    k = _split(len(leaves))
    return _node_hash(merkle_root(leaves[:k]), merkle_root(leaves[k:]))


def inclusion_path(index: int, leaves: list[bytes]) -> list[bytes]:
    """RFC 6962 PATH(m, D[n]): the audit path of leaf ``index``, bottom up."""
    if len(leaves) <= 1:
        return []
    k = _split(len(leaves))
    if index < k:
        return inclusion_path(index, leaves[:k]) + [merkle_root(leaves[k:])]
    return inclusion_path(index - k, leaves[k:]) + [merkle_root(leaves[:k])]


def _verifying_key(pem_bytes: bytes) -> Any:
    """The public key of a PEM certificate or PEM public key."""
    if b"BEGIN CERTIFICATE" in pem_bytes:
        return x509.load_pem_x509_certificate(pem_bytes).public_key()
    return serialization.load_pem_public_key(pem_bytes)


def _dsse_pae(payload_type: str, payload: bytes) -> bytes:
    return b"DSSEv1 %d %s %d %s" % (len(payload_type), payload_type.encode(), len(payload), payload)


class Rekor(Service):
    """The entry and log endpoints of Rekor's v1 REST API over one RFC 6962 Merkle tree."""

    def __init__(self) -> None:
        super().__init__()
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.log_id = log_id(self.key.public_key())
        self.tree_id = secrets.randbits(62)
        self.origin = f"{self.address} - {self.tree_id}"
        self._lock = threading.Lock()
        self._bodies: list[bytes] = []
        self._leaves: list[bytes] = []
        self._times: list[int] = []
        self._promises: list[str] = []

    @property
    def size(self) -> int:
        return len(self._leaves)

    def handle(self, method: str, path: str, body: bytes, headers: dict[str, str]) -> tuple[int, Any]:
        route = path.split("?")[0].rstrip("/")
        if method == "GET" and route == "/api/v1/log":
            with self._lock:
                root = merkle_root(self._leaves)
                return 200, {
                    "rootHash": root.hex(),
                    "treeSize": self.size,
                    "signedTreeHead": self.checkpoint(self.size, root),
                    "treeID": str(self.tree_id),
                }
        if method == "GET" and route == "/api/v1/log/publicKey":
            return 200, self.key.public_key().public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
        if method == "POST" and route == "/api/v1/log/entries":
            try:
                proposed = json.loads(body)
            except json.JSONDecodeError:
                raise HttpError(400, "request body is not JSON") from None
            return 201, self.add(proposed)
        if method == "GET" and route.startswith("/api/v1/log/entries/"):
            uuid = route.rsplit("/", 1)[1][-64:]
            with self._lock:
                for index, leaf in enumerate(self._leaves):
                    if leaf.hex() == uuid:
                        return 200, self._entry(index)
            raise HttpError(404, f"no entry with UUID {uuid}")
        raise HttpError(404, f"no such endpoint: {method} {path}")

    def add(self, proposed: dict[str, Any]) -> dict[str, Any]:
        """Verify and canonicalise a proposed entry, append it, and answer with it."""
        body = self.canonical_body(proposed)
        leaf = leaf_hash(body)
        with self._lock:
            if leaf in self._leaves:
                raise HttpError(409, f"an equivalent entry already exists with UUID {leaf.hex()}")
            index = self.size
            integrated = int(time.time())
            promise = rfc8785.dumps(
                {
                    "body": b64(body),
                    "integratedTime": integrated,
                    "logID": self.log_id.hex(),
                    "logIndex": index,
                }
            )
            self._bodies.append(body)
            self._leaves.append(leaf)
            self._times.append(integrated)
            self._promises.append(b64(self.key.sign(promise, ec.ECDSA(hashes.SHA256()))))
            return self._entry(index)

    def _entry(self, index: int) -> dict[str, Any]:
        size = self.size
        root = merkle_root(self._leaves)
        entry = {
            "body": b64(self._bodies[index]),
            "integratedTime": self._times[index],
            "logID": self.log_id.hex(),
            "logIndex": index,
            "verification": {
                "inclusionProof": {
                    "checkpoint": self.checkpoint(size, root),
                    "hashes": [h.hex() for h in inclusion_path(index, self._leaves)],
                    "logIndex": index,
                    "rootHash": root.hex(),
                    "treeSize": size,
                },
                "signedEntryTimestamp": self._promises[index],
            },
        }
        return {f"{self.tree_id:016x}{self._leaves[index].hex()}": entry}

    def checkpoint(self, size: int, root: bytes) -> str:
        """A signed note (transparency-dev checkpoint format) over the tree head."""
        note = f"{self.origin}\n{size}\n{b64(root)}\n"
        signature = self.key.sign(note.encode(), ec.ECDSA(hashes.SHA256()))
        return f"{note}\n\u2014 {self.address} {b64(self.log_id[:4] + signature)}\n"

    def canonical_body(self, proposed: dict[str, Any]) -> bytes:
        kind, version = proposed.get("kind"), proposed.get("apiVersion")
        try:
            if (kind, version) == ("hashedrekord", "0.0.1"):
                spec = self._hashedrekord(proposed["spec"])
            elif (kind, version) == ("dsse", "0.0.1"):
                spec = self._dsse(proposed["spec"])
            else:
                raise HttpError(400, f"unsupported entry type {kind}/{version}")
        except InvalidSignature:
            raise HttpError(400, "the entry's signature does not verify") from None
        except (KeyError, TypeError, ValueError) as exc:
            raise HttpError(400, f"malformed {kind} entry: {exc!r}") from None
        return rfc8785.dumps({"apiVersion": version, "kind": kind, "spec": spec})

    @staticmethod
    def _hashedrekord(spec: dict[str, Any]) -> dict[str, Any]:
        signature = base64.b64decode(spec["signature"]["content"], validate=True)
        verifier = base64.b64decode(spec["signature"]["publicKey"]["content"], validate=True)
        digest_hash = spec["data"]["hash"]
        if digest_hash["algorithm"] != "sha256":
            raise ValueError(f"unsupported digest algorithm {digest_hash['algorithm']!r}")
        digest = bytes.fromhex(digest_hash["value"])
        _verifying_key(verifier).verify(signature, digest, ec.ECDSA(Prehashed(hashes.SHA256())))
        return {
            "data": {"hash": {"algorithm": "sha256", "value": digest.hex()}},
            "signature": {"content": b64(signature), "publicKey": {"content": b64(verifier)}},
        }

    @staticmethod
    def _dsse(spec: dict[str, Any]) -> dict[str, Any]:
        proposed = spec["proposedContent"]
        envelope_text: str = proposed["envelope"]
        envelope = json.loads(envelope_text)
        payload = base64.b64decode(envelope["payload"], validate=True)
        message = _dsse_pae(envelope["payloadType"], payload)
        verifiers = [base64.b64decode(v, validate=True) for v in proposed["verifiers"]]
        signatures = []
        for entry in envelope["signatures"]:
            signature = base64.b64decode(entry["sig"], validate=True)
            for verifier in verifiers:
                with contextlib.suppress(InvalidSignature):
                    _verifying_key(verifier).verify(signature, message, ec.ECDSA(hashes.SHA256()))
                    signatures.append({"signature": b64(signature), "verifier": b64(verifier)})
                    break
            else:
                raise InvalidSignature
        return {
            "envelopeHash": {
                "algorithm": "sha256",
                "value": hashlib.sha256(envelope_text.encode()).hexdigest(),
            },
            "payloadHash": {"algorithm": "sha256", "value": hashlib.sha256(payload).hexdigest()},
            "signatures": sorted(signatures, key=lambda s: s["signature"]),
        }


# --- the instance -------------------------------------------------------------------


class SigstoreInstance:
    """An OIDC issuer, Fulcio, a CT log and Rekor on loopback, and the trust config for them."""

    def __init__(self) -> None:
        self.issuer = OidcIssuer()
        self.ca = CertificateAuthority("sbomgen-tests-fulcio")
        self.ct_log = CtLog()
        self.fulcio = Fulcio(self.ca, self.ct_log, {self.issuer.url})
        self.rekor = Rekor()
        self.started = dt.datetime.now(dt.timezone.utc) - dt.timedelta(hours=1)

    @property
    def services(self) -> tuple[Service, ...]:
        return (self.issuer, self.fulcio, self.rekor)

    def __enter__(self) -> SigstoreInstance:
        for service in self.services:
            service.start()
        return self

    def __exit__(self, *exc: object) -> None:
        for service in self.services:
            service.stop()

    def seed_log(self, count: int) -> None:
        """Entries from other signers, so that proofs have hashes to check."""
        key = ec.generate_private_key(ec.SECP256R1())
        verifier = b64(
            key.public_key().public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
        )
        for _ in range(count):
            digest = hashlib.sha256(secrets.token_bytes(32)).digest()
            signature = key.sign(digest, ec.ECDSA(Prehashed(hashes.SHA256())))
            self.rekor.add(
                {
                    "apiVersion": "0.0.1",
                    "kind": "hashedrekord",
                    "spec": {
                        "data": {"hash": {"algorithm": "sha256", "value": digest.hex()}},
                        "signature": {"content": b64(signature), "publicKey": {"content": verifier}},
                    },
                }
            )

    def _log_instance(self, url: str, key: ec.EllipticCurvePrivateKey) -> trustroot.TransparencyLogInstance:
        return trustroot.TransparencyLogInstance(
            base_url=url,
            hash_algorithm=common.HashAlgorithm.SHA2_256,
            public_key=common.PublicKey(
                raw_bytes=base64.b64encode(spki_der(key.public_key())),
                key_details=common.PublicKeyDetails.PKIX_ECDSA_P256_SHA_256,
                valid_for=common.TimeRange(start=self.started),
            ),
            log_id=common.LogId(key_id=base64.b64encode(log_id(key.public_key()))),
        )

    def trusted_root(self, *authorities: CertificateAuthority) -> trustroot.TrustedRoot:
        """The trusted root: this instance's CA (or ``authorities``), Rekor and CT log keys."""
        return trustroot.TrustedRoot(
            media_type="application/vnd.dev.sigstore.trustedroot+json;version=0.1",
            tlogs=self.tlogs(),
            certificate_authorities=[
                trustroot.CertificateAuthority(
                    subject=common.DistinguishedName(
                        organization=OPERATOR, common_name=ca.subject.rfc4514_string()
                    ),
                    uri=self.fulcio.url,
                    cert_chain=common.X509CertificateChain(
                        certificates=[
                            common.X509Certificate(
                                raw_bytes=base64.b64encode(
                                    ca.certificate.public_bytes(serialization.Encoding.DER)
                                )
                            )
                        ]
                    ),
                    valid_for=common.TimeRange(start=ca.not_before),
                )
                for ca in (authorities or (self.ca,))
            ],
            ctlogs=[self._log_instance(self.fulcio.url, self.ct_log.key)],
            timestamp_authorities=self.timestamp_authorities(),
        )

    # What a Rekor v2 instance with a timestamp authority replaces (tests/rekor_v2.py).
    def tlogs(self) -> list[trustroot.TransparencyLogInstance]:
        return [self._log_instance(self.rekor.url, self.rekor.key)]

    def timestamp_authorities(self) -> list[trustroot.CertificateAuthority]:
        return []

    def tlog_services(self) -> list[trustroot.Service]:
        return [self.service(self.rekor.url, 1)]

    def tsa_services(self) -> list[trustroot.Service]:
        return []

    def service(self, url: str, major_api_version: int) -> trustroot.Service:
        return trustroot.Service(
            url=url,
            major_api_version=major_api_version,
            valid_for=common.TimeRange(start=self.started),
            operator=OPERATOR,
        )

    def signing_config(self) -> trustroot.SigningConfig:
        return trustroot.SigningConfig(
            media_type="application/vnd.dev.sigstore.signingconfig.v0.2+json",
            ca_urls=[self.service(self.fulcio.url, 1)],
            oidc_urls=[self.service(self.issuer.url, 1)],
            rekor_tlog_urls=self.tlog_services(),
            rekor_tlog_config=trustroot.ServiceConfiguration(selector=trustroot.ServiceSelector.ANY),
            tsa_urls=self.tsa_services(),
            tsa_config=trustroot.ServiceConfiguration(selector=trustroot.ServiceSelector.ANY),
        )

    def trust_config(self) -> str:
        """The ClientTrustConfig JSON that ``--trust-config`` and sigstore's signer read."""
        return trustroot.ClientTrustConfig(
            media_type="application/vnd.dev.sigstore.clienttrustconfig.v0.1+json",
            trusted_root=self.trusted_root(),
            signing_config=self.signing_config(),
        ).to_json()
