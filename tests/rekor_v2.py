"""A Rekor v2-compatible log on 127.0.0.1, and a Sigstore instance that signs with it.

The log implements rekor-tiles' documented API: ``POST /api/v2/log/entries`` takes a
CreateEntryRequest (``hashedRekordRequestV002`` or ``dsseRequestV002``), verifies the
signature, stores the canonicalised entry (kind and apiVersion 0.0.2) and answers the
TransparencyLogEntry itself, with an inclusion proof and a checkpoint in C2SP signed-note
form (c2sp.org/tlog-checkpoint; an ECDSA P-256 key, whose note key ID is the SHA-256 of its
SubjectPublicKeyInfo). No integrated time and no signed entry timestamp: the time comes from
a timestamp authority. The tree is read as tiles (c2sp.org/tlog-tiles): ``/checkpoint``,
``/tile/<L>/<N>[.p/<W>]`` and ``/tile/entries/<N>[.p/<W>]``.

``SigstoreInstanceV2`` is the loopback instance with this log and an RFC 3161 timestamp
authority in place of the Rekor v1 log; its trust config selects them.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import re
import struct
import threading
from typing import Any

import rfc8785
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed
from sigstore_instance import (
    HttpError,
    Service,
    SigstoreInstance,
    b64,
    inclusion_path,
    leaf_hash,
    log_id,
    merkle_root,
)
from sigstore_models.common import v1 as common
from sigstore_models.trustroot import v1 as trustroot
from timestamp_authority import TimestampAuthority

KEY_DETAILS = "PKIX_ECDSA_P256_SHA_256"  # the one signing algorithm this log accepts
TILE_WIDTH = 256
_TILE = re.compile(r"/tile/(entries|\d+)/((?:x\d{3}/)*\d{3})(?:\.p/(\d+))?")


def _pae(payload_type: str, payload: bytes) -> bytes:
    return b"DSSEv1 %d %s %d %s" % (len(payload_type), payload_type.encode(), len(payload), payload)


def _verifier_key(verifier: dict[str, Any]) -> ec.EllipticCurvePublicKey:
    """The P-256 key of a Verifier message (an X.509 certificate or a public key, in DER)."""
    if verifier["keyDetails"] != KEY_DETAILS:
        raise ValueError(f"unsupported key details {verifier['keyDetails']!r}")
    if "x509Certificate" in verifier:
        key = x509.load_der_x509_certificate(
            base64.b64decode(verifier["x509Certificate"]["rawBytes"])
        ).public_key()
    else:
        key = serialization.load_der_public_key(base64.b64decode(verifier["publicKey"]["rawBytes"]))
    if not isinstance(key, ec.EllipticCurvePublicKey) or not isinstance(key.curve, ec.SECP256R1):
        raise ValueError("the verifier's key is not ECDSA P-256, as its key details say")
    return key


def _verifier(verifier: dict[str, Any]) -> dict[str, Any]:
    """The Verifier as the log stores it: the fields it was checked with, nothing else."""
    kept = {"keyDetails": verifier["keyDetails"]}
    for field in ("x509Certificate", "publicKey"):
        if field in verifier:
            kept[field] = {"rawBytes": b64(base64.b64decode(verifier[field]["rawBytes"], validate=True))}
    return kept


def tile_path(index: int) -> str:
    """The tlog-tiles encoding of a tile index: groups of three digits, all but the last 'x'-prefixed."""
    digits = f"{index:d}"
    digits = digits.zfill(-(-len(digits) // 3) * 3)
    groups = [digits[i : i + 3] for i in range(0, len(digits), 3)]
    return "/".join([f"x{g}" for g in groups[:-1]] + groups[-1:])


class RekorV2(Service):
    """rekor-tiles' write API and the tiles of its RFC 6962 tree."""

    def __init__(self) -> None:
        super().__init__()
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.log_id = log_id(self.key.public_key())  # == the C2SP key ID of an ECDSA key
        self.origin = self.address  # the schema-less URL of the log, as rekor-tiles names itself
        self._lock = threading.Lock()
        self._bodies: list[bytes] = []
        self._leaves: list[bytes] = []

    @property
    def size(self) -> int:
        return len(self._leaves)

    def handle(self, method: str, path: str, body: bytes, headers: dict[str, str]) -> tuple[int, Any]:
        if method == "POST" and path == "/api/v2/log/entries":
            try:
                proposed = json.loads(body)
            except json.JSONDecodeError:
                raise HttpError(400, "request body is not JSON") from None
            return 201, self.add(proposed)
        if method == "GET" and path == "/checkpoint":
            with self._lock:
                return 200, self.checkpoint(self.size).encode()
        tile = _TILE.fullmatch(path) if method == "GET" else None
        if tile:
            level, index, width = tile[1], int(tile[2].replace("x", "").replace("/", "")), tile[3]
            return 200, self.tile(level, index, int(width) if width else TILE_WIDTH)
        raise HttpError(404, f"no such endpoint: {method} {path}")

    def add(self, proposed: dict[str, Any]) -> dict[str, Any]:
        """Verify and canonicalise a CreateEntryRequest, append it, answer its log entry."""
        try:
            if set(proposed) == {"hashedRekordRequestV002"}:
                kind, spec = "hashedrekord", self._hashedrekord(proposed["hashedRekordRequestV002"])
            elif set(proposed) == {"dsseRequestV002"}:
                kind, spec = "dsse", self._dsse(proposed["dsseRequestV002"])
            else:
                raise HttpError(
                    400, f"expected one of hashedRekordRequestV002 and dsseRequestV002: {sorted(proposed)}"
                )
        except InvalidSignature:
            raise HttpError(400, "the entry's signature does not verify") from None
        except (KeyError, TypeError, ValueError) as exc:
            raise HttpError(400, f"malformed request: {exc!r}") from None
        body = rfc8785.dumps({"apiVersion": "0.0.2", "kind": kind, "spec": spec})
        leaf = leaf_hash(body)
        with self._lock:
            if leaf in self._leaves:  # an entry already logged is answered, not logged twice
                return self.entry(self._leaves.index(leaf), kind)
            self._bodies.append(body)
            self._leaves.append(leaf)
            return self.entry(self.size - 1, kind)

    @staticmethod
    def _hashedrekord(request: dict[str, Any]) -> dict[str, Any]:
        digest = base64.b64decode(request["digest"], validate=True)
        if len(digest) != 32:
            raise ValueError("the digest is not a SHA-256 digest, as the key details require")
        signature = request["signature"]
        content = base64.b64decode(signature["content"], validate=True)
        _verifier_key(signature["verifier"]).verify(content, digest, ec.ECDSA(Prehashed(hashes.SHA256())))
        return {
            "hashedRekordV002": {
                "data": {"algorithm": "SHA2_256", "digest": b64(digest)},
                "signature": {"content": b64(content), "verifier": _verifier(signature["verifier"])},
            }
        }

    @staticmethod
    def _dsse(request: dict[str, Any]) -> dict[str, Any]:
        envelope = request["envelope"]
        payload = base64.b64decode(envelope["payload"], validate=True)
        message = _pae(envelope["payloadType"], payload)
        verifiers = request["verifiers"]
        signatures = []
        for entry in envelope["signatures"]:
            content = base64.b64decode(entry["sig"], validate=True)
            for verifier in verifiers:
                with contextlib.suppress(InvalidSignature):
                    _verifier_key(verifier).verify(content, message, ec.ECDSA(hashes.SHA256()))
                    signatures.append({"content": b64(content), "verifier": _verifier(verifier)})
                    break
            else:
                raise InvalidSignature
        if not signatures:
            raise ValueError("the envelope has no signature")
        return {
            "dsseV002": {
                "payloadHash": {"algorithm": "SHA2_256", "digest": b64(hashlib.sha256(payload).digest())},
                "signatures": sorted(signatures, key=lambda s: s["content"]),
            }
        }

    def entry(self, index: int, kind: str) -> dict[str, Any]:
        """The TransparencyLogEntry of entry ``index``, proven against the current tree."""
        size = self.size
        return {
            "logIndex": str(index),
            "logId": {"keyId": b64(self.log_id)},
            "kindVersion": {"kind": kind, "version": "0.0.2"},
            "integratedTime": "0",
            "inclusionProof": {
                "logIndex": str(index),
                "rootHash": b64(merkle_root(self._leaves)),
                "treeSize": str(size),
                "hashes": [b64(h) for h in inclusion_path(index, self._leaves)],
                "checkpoint": {"envelope": self.checkpoint(size)},
            },
            "canonicalizedBody": b64(self._bodies[index]),
        }

    def checkpoint(self, size: int) -> str:
        """The C2SP checkpoint of the first ``size`` leaves, as a signed note by the log's key."""
        note = f"{self.origin}\n{size}\n{b64(merkle_root(self._leaves[:size]))}\n"
        signature = self.key.sign(note.encode(), ec.ECDSA(hashes.SHA256()))
        return f"{note}\n\u2014 {self.origin} {b64(self.log_id[:4] + signature)}\n"

    def tile(self, level: str, index: int, width: int) -> bytes:
        """A tile of hashes (level L: the nodes 8L levels up) or of entries, ``width`` wide."""
        first = index * TILE_WIDTH
        if level == "entries":
            available = self._bodies[first : first + width]
            if len(available) < width or width > TILE_WIDTH:
                raise HttpError(404, "no such entry bundle")
            return b"".join(struct.pack("!H", len(body)) + body for body in available)
        height = 8 * int(level)
        span = 1 << height
        nodes = [
            merkle_root(self._leaves[i * span : (i + 1) * span])
            for i in range(first, first + width)
            if (i + 1) * span <= self.size
        ]
        if len(nodes) < width or width > TILE_WIDTH:
            raise HttpError(404, "no such tile")
        return b"".join(nodes)


class SigstoreInstanceV2(SigstoreInstance):
    """The loopback instance with Rekor v2 and a timestamp authority in place of Rekor v1."""

    def __init__(self) -> None:
        super().__init__()
        self.rekor._server.server_close()  # the Rekor v1 log is never started here
        self.rekor_v2 = RekorV2()
        self.tsa = TimestampAuthority()

    def seed_log(self, count: int) -> None:
        """Entries from other signers, so that proofs have hashes to check."""
        key = ec.generate_private_key(ec.SECP256R1())
        spki = key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        for n in range(count):
            digest = hashlib.sha256(b"another artifact %d" % n).digest()
            signature = key.sign(digest, ec.ECDSA(Prehashed(hashes.SHA256())))
            verifier = {"publicKey": {"rawBytes": b64(spki)}, "keyDetails": KEY_DETAILS}
            self.rekor_v2.add(
                {
                    "hashedRekordRequestV002": {
                        "digest": b64(digest),
                        "signature": {"content": b64(signature), "verifier": verifier},
                    }
                }
            )

    @property
    def services(self) -> tuple[Service, ...]:
        return (self.issuer, self.fulcio, self.rekor_v2, self.tsa)

    def tlogs(self) -> list[trustroot.TransparencyLogInstance]:
        instance = self._log_instance(self.rekor_v2.url, self.rekor_v2.key)
        instance.checkpoint_key_id = instance.log_id
        return [instance]

    def timestamp_authorities(self) -> list[trustroot.CertificateAuthority]:
        der = [c.public_bytes(serialization.Encoding.DER) for c in self.tsa.chain]
        return [
            trustroot.CertificateAuthority(
                subject=common.DistinguishedName(
                    organization="sbomgen-tests", common_name="sbomgen-tests-tsa"
                ),
                uri=self.tsa.url,
                cert_chain=common.X509CertificateChain(
                    certificates=[common.X509Certificate(raw_bytes=base64.b64encode(d)) for d in der]
                ),
                valid_for=common.TimeRange(start=self.tsa.not_before),
            )
        ]

    def tlog_services(self) -> list[trustroot.Service]:
        return [self.service(self.rekor_v2.url, 2)]

    def tsa_services(self) -> list[trustroot.Service]:
        return [self.service(f"{self.tsa.url}/api/v1/timestamp", 1)]
