"""X.509 certificates as CryptoAPI reads them: the fields of ``CERT_INFO``.

Pure code, no token.  Two readers of DER certificates use it: a key pair's
``KP_CERTIFICATE`` (the public key it must certify, and the subject, issuer
and serial number its ``CKO_CERTIFICATE`` object carries) and the container
map, which pairs a token's certificates with its private keys by their RSA
public numbers.

``cryptography.x509`` parses them.  It is imported on the first certificate
read, not with this module: its import costs about 20 ms (``x509`` itself and
the ``email``, ``calendar`` and ``locale`` modules it pulls in; measured with
``python -X importtime``, docs/performance.md "Cold start"), a third of what
csp11 adds to a process's start, and a program that never reads a
certificate (most: CryptAcquireContext, CryptGenKey, encryption, hashes,
signatures) should not pay it.  Python imports a module once, so each later
call finds it in ``sys.modules``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

from csp11 import winerror
from csp11.errors import Fail

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.types import CertificatePublicKeyTypes

__all__ = ["CertInfo", "decode_cert_info", "rsa_public_numbers"]


class CertInfo(NamedTuple):
    """What csp11 reads of a certificate (Microsoft, "CERT_INFO structure":
    ``SubjectPublicKeyInfo``, ``Subject``, ``Issuer``, ``SerialNumber``)."""

    public_key: CertificatePublicKeyTypes
    subject: bytes  # the DER Name, as CKA_SUBJECT holds it
    issuer: bytes  # the DER Name, as CKA_ISSUER holds it
    serial_number: int


def decode_cert_info(der: bytes, what: str) -> CertInfo:
    """The ``CERT_INFO`` fields of a DER certificate; ``NTE_BAD_DATA`` (naming
    ``what``) if it is not one.

    ``cryptography`` parses a certificate's fields lazily, as they are read: a
    damaged one fails at any of them, and not only with ``ValueError`` (an
    unknown key algorithm is ``UnsupportedAlgorithm``, a bad version
    ``InvalidVersion``).  All of them are read here, and any failure is
    ``NTE_BAD_DATA``.
    """
    # Imported here, not at the top: cold start (the module notes).
    from cryptography import x509  # noqa: PLC0415
    from cryptography.exceptions import UnsupportedAlgorithm  # noqa: PLC0415

    try:
        cert = x509.load_der_x509_certificate(der)
        return CertInfo(cert.public_key(), cert.subject.public_bytes(),
                        cert.issuer.public_bytes(), cert.serial_number)
    except (ValueError, UnsupportedAlgorithm, x509.InvalidVersion):
        raise Fail(winerror.NTE_BAD_DATA, f"{what} is not a DER X.509 certificate") from None


def rsa_public_numbers(der: bytes) -> tuple[int, int] | None:
    """The RSA public numbers (n, e) of a DER certificate; None if it is not
    one or its key is not RSA."""
    # Imported here, not at the top: cold start (the module notes).
    from cryptography import x509  # noqa: PLC0415
    from cryptography.exceptions import UnsupportedAlgorithm  # noqa: PLC0415
    from cryptography.hazmat.primitives.asymmetric import rsa  # noqa: PLC0415

    try:
        public = x509.load_der_x509_certificate(der).public_key()
    except (ValueError, UnsupportedAlgorithm):
        return None
    if isinstance(public, rsa.RSAPublicKey):
        numbers = public.public_numbers()
        return numbers.n, numbers.e
    return None
