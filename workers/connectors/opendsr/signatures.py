"""Signatures of the OpenDSR protocol: base64 over the raw body, by the partner's certificate key.

Pure functions: no I/O. The controller verifies callbacks (and the partner's answers) with
the public key of the certificate it registered for that partner; the sandbox partners sign
with their own private keys. RSA (PKCS#1 v1.5, SHA-256) and ECDSA (SHA-256) keys are accepted.
"""

from __future__ import annotations

import base64
import binascii
import functools
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.types import CertificatePublicKeyTypes, PrivateKeyTypes
from cryptography.x509.oid import NameOID

# OpenDSR names first; OpenGDPR's (the protocol's former name) are honoured too.
SIGNATURE_HEADERS = ("X-OpenDSR-Signature", "X-OpenGDPR-Signature")
DOMAIN_HEADERS = ("X-OpenDSR-Processor-Domain", "X-OpenGDPR-Processor-Domain")


@dataclass(frozen=True)
class SignedHeaders:
    signature: str | None
    domain: str | None
    legacy: bool  # sent under the OpenGDPR names


def read_headers(headers: Mapping[str, str]) -> SignedHeaders:
    """The signature and processor domain, whichever generation of header names carries them."""
    for index, (sig_name, domain_name) in enumerate(zip(SIGNATURE_HEADERS, DOMAIN_HEADERS, strict=True)):
        signature = headers.get(sig_name)
        if signature is not None or headers.get(domain_name) is not None:
            return SignedHeaders(signature, headers.get(domain_name), legacy=index > 0)
    return SignedHeaders(None, None, legacy=False)


@functools.lru_cache(maxsize=64)
def _private_key(private_key_pem: bytes) -> PrivateKeyTypes:
    """A PEM key parsed once: parsing (and checking) an RSA key costs far more than a signature,
    and the same few keys sign every message."""
    return serialization.load_pem_private_key(private_key_pem, password=None)


@functools.lru_cache(maxsize=256)
def _public_key(certificate_pem: bytes) -> CertificatePublicKeyTypes:
    """A registered certificate's public key, parsed once per certificate."""
    return x509.load_pem_x509_certificate(certificate_pem).public_key()


def sign(private_key_pem: bytes, body: bytes) -> str:
    """The base64 signature of ``body`` (what a partner puts in X-OpenDSR-Signature)."""
    key = _private_key(private_key_pem)
    if isinstance(key, rsa.RSAPrivateKey):
        raw = key.sign(body, padding.PKCS1v15(), hashes.SHA256())
    elif isinstance(key, ec.EllipticCurvePrivateKey):
        raw = key.sign(body, ec.ECDSA(hashes.SHA256()))
    else:
        raise ValueError(f"unsupported signing key type {type(key).__name__}")
    return base64.b64encode(raw).decode()


def verify(certificate_pem: bytes, body: bytes, signature_b64: str) -> bool:
    """Whether ``signature_b64`` is the certificate key's signature over exactly ``body``."""
    try:
        # Signatures are often wrapped over several lines, as in the specification's examples.
        signature = base64.b64decode("".join(signature_b64.split()), validate=True)
    except (binascii.Error, ValueError):
        return False
    key = _public_key(certificate_pem)
    try:
        if isinstance(key, rsa.RSAPublicKey):
            key.verify(signature, body, padding.PKCS1v15(), hashes.SHA256())
        elif isinstance(key, ec.EllipticCurvePublicKey):
            key.verify(signature, body, ec.ECDSA(hashes.SHA256()))
        else:
            return False
    except InvalidSignature:
        return False
    return True


def certificate_problem(certificate_pem: bytes, domain: str, now: datetime | None = None) -> str | None:
    """Why this certificate cannot vouch for ``domain`` now, or None when it can."""
    try:
        cert = x509.load_pem_x509_certificate(certificate_pem)
    except ValueError as err:
        return f"not a PEM X.509 certificate: {err}"
    now = now or datetime.now(UTC)
    if not cert.not_valid_before_utc <= now <= cert.not_valid_after_utc:
        return f"certificate not valid now (valid {cert.not_valid_before_utc} to {cert.not_valid_after_utc})"
    names = [a.value for a in cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)]
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName)
        names += san.value.get_values_for_type(x509.DNSName)
    except x509.ExtensionNotFound:
        pass
    if domain not in names:
        return f"certificate is issued to {sorted(set(map(str, names)))}, not {domain!r}"
    return None


def new_identity(domain: str, valid_for: timedelta = timedelta(days=365)) -> tuple[bytes, bytes]:
    """A fresh RSA key and a self-signed certificate for ``domain``: (private key PEM, cert PEM).

    For sandbox partners and tests; real partners present certificates issued by a CA.
    """
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, domain)])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + valid_for)
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(domain)]), critical=False)
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return key_pem, cert.public_bytes(serialization.Encoding.PEM)
