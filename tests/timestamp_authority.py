"""An RFC 3161 timestamp authority on 127.0.0.1, as sigstore's timestamp-authority serves one.

``POST /api/v1/timestamp`` takes a DER TimeStampReq (``application/timestamp-query``) and
answers a DER TimeStampResp (``application/timestamp-reply``): a CMS SignedData over a
TSTInfo, signed by a timestamping certificate (critical EKU id-kp-timeStamping) that chains
to the authority's own root, with the ESS signing-certificate-v2 attribute RFC 5816 asks
for. ``GET /api/v1/timestamp/certchain`` gives the chain in PEM. ASN.1 through asn1crypto,
keys and certificates through cryptography.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
import threading
from typing import Any

from asn1crypto import algos, cms, core, tsp
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from sigstore_instance import OPERATOR, HttpError, Service, key_usage, pem

POLICY = "1.3.6.1.4.1.57264.2"  # Sigstore's TSA policy arc
DIGEST_SIZES = {"sha256": 32, "sha384": 48, "sha512": 64}
REJECTION = 2  # PKIStatus rejection


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, OPERATOR),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


class _Rejection(core.Sequence):
    """A TimeStampResp without a token (asn1crypto's model requires one)."""

    _fields = [("status", tsp.PKIStatusInfo)]


class TimestampAuthority(Service):
    """A root CA, a timestamping leaf certificate it issued, and the timestamp endpoint."""

    bytes_type = "application/timestamp-reply"

    def __init__(self) -> None:
        super().__init__()
        now = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
        self.not_before = now - dt.timedelta(hours=1)
        self.root_key = ec.generate_private_key(ec.SECP256R1())
        self.key = ec.generate_private_key(ec.SECP256R1())
        root_name, leaf_name = _name("sbomgen-tests-tsa-root"), _name("sbomgen-tests-tsa")
        self.root = (
            x509.CertificateBuilder()
            .subject_name(root_name)
            .issuer_name(root_name)
            .public_key(self.root_key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(self.not_before)
            .not_valid_after(now + dt.timedelta(days=30))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(key_usage(key_cert_sign=True, crl_sign=True), critical=True)
            .sign(self.root_key, hashes.SHA256())
        )
        self.certificate = (
            x509.CertificateBuilder()
            .subject_name(leaf_name)
            .issuer_name(root_name)
            .public_key(self.key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(self.not_before)
            .not_valid_after(now + dt.timedelta(days=30))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(key_usage(digital_signature=True), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), critical=True)
            .sign(self.root_key, hashes.SHA256())
        )
        self.chain = [self.certificate, self.root]
        self._serials = itertools.count(1)
        self._lock = threading.Lock()
        self.clock_offset = dt.timedelta(0)  # a test moves the authority's clock with this

    def handle(self, method: str, path: str, body: bytes, headers: dict[str, str]) -> tuple[int, Any]:
        if method == "GET" and path == "/api/v1/timestamp/certchain":
            return 200, "".join(pem(c) for c in self.chain).encode()
        if method == "POST" and path == "/api/v1/timestamp":
            return self.answer(body)
        raise HttpError(404, f"no such endpoint: {method} {path}")

    def answer(self, body: bytes) -> tuple[int, bytes]:
        """The TimeStampResp for a DER TimeStampReq: granted, or a rejection with HTTP 400."""
        try:
            request = tsp.TimeStampReq.load(body, strict=True)
            imprint = request["message_imprint"]
            algorithm = imprint["hash_algorithm"]["algorithm"].native
            digest = imprint["hashed_message"].native
            if request["version"].native != "v1":
                raise ValueError("only version 1 requests are served")
            if DIGEST_SIZES.get(algorithm) != len(digest):
                raise ValueError(
                    f"unsupported or mis-sized message imprint ({algorithm}, {len(digest)} bytes)"
                )
            if request["req_policy"].native not in (None, POLICY):
                raise ValueError("unaccepted policy")
            nonce, with_certificates = request["nonce"].native, request["cert_req"].native
        except (ValueError, TypeError, KeyError) as exc:
            status = {"status": REJECTION, "status_string": [f"bad request: {exc}"[:200]]}
            return 400, _Rejection({"status": status}).dump()
        token = self.token(algorithm, digest, nonce, with_certificates)
        return 200, tsp.TimeStampResp({"status": {"status": "granted"}, "time_stamp_token": token}).dump()

    def token(
        self, algorithm: str, digest: bytes, nonce: int | None, with_certificates: bool
    ) -> cms.ContentInfo:
        """A TimeStampToken: SignedData over the TSTInfo, signed attributes as RFC 5652 5.4 says."""
        with self._lock:
            serial = next(self._serials)
        now = dt.datetime.now(dt.timezone.utc) + self.clock_offset
        info = tsp.TSTInfo(
            {
                "version": "v1",
                "policy": POLICY,
                "message_imprint": {"hash_algorithm": {"algorithm": algorithm}, "hashed_message": digest},
                "serial_number": serial,
                "gen_time": now.replace(microsecond=0),
                "accuracy": {"seconds": 1},
                "nonce": nonce,
                "tsa": asn1_x509.GeneralName(
                    name="directory_name", value=asn1_x509.Name.load(self.certificate.subject.public_bytes())
                ),
            }
        ).dump()
        der = self.certificate.public_bytes(serialization.Encoding.DER)
        leaf = asn1_x509.Certificate.load(der)
        attributes = cms.CMSAttributes(
            [
                {"type": "content_type", "values": ["tst_info"]},
                {"type": "message_digest", "values": [hashlib.sha256(info).digest()]},
                {
                    "type": "signing_certificate_v2",
                    "values": [
                        {
                            "certs": [
                                {
                                    "cert_hash": hashlib.sha256(der).digest(),
                                    "issuer_serial": {
                                        "issuer": [
                                            asn1_x509.GeneralName(name="directory_name", value=leaf.issuer)
                                        ],
                                        "serial_number": leaf.serial_number,
                                    },
                                }
                            ]
                        }
                    ],
                },
            ]
        )
        # The signature covers the attributes' DER as a SET OF, not as the [0] they travel in.
        signature = self.key.sign(attributes.dump(), ec.ECDSA(hashes.SHA256()))
        signer = cms.SignerInfo(
            {
                "version": "v1",
                "sid": cms.SignerIdentifier(
                    name="issuer_and_serial_number",
                    value={"issuer": leaf.issuer, "serial_number": leaf.serial_number},
                ),
                "digest_algorithm": {"algorithm": "sha256"},
                "signed_attrs": attributes,
                "signature_algorithm": algos.SignedDigestAlgorithm({"algorithm": "sha256_ecdsa"}),
                "signature": signature,
            }
        )
        signed = {
            "version": "v3",
            "digest_algorithms": [{"algorithm": "sha256"}],
            "encap_content_info": {"content_type": "tst_info", "content": core.ParsableOctetString(info)},
            "signer_infos": [signer],
        }
        if with_certificates:
            signed["certificates"] = [leaf]
        return cms.ContentInfo({"content_type": "signed_data", "content": cms.SignedData(signed)})
