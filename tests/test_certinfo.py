"""csp11.formats.certinfo: the CERT_INFO fields of a DER certificate (pure code)."""

from __future__ import annotations

import datetime

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

from csp11 import winerror
from csp11.errors import Fail
from csp11.formats.certinfo import decode_cert_info, rsa_public_numbers

_RSA_OID = bytes.fromhex("06092a864886f70d010101")  # rsaEncryption


def _certificate(public: rsa.RSAPublicKey | ec.EllipticCurvePublicKey) -> bytes:
    signer = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "subject")])
    issuer = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "issuer")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder().subject_name(subject).issuer_name(issuer)
        .public_key(public).serial_number(987654321)
        .not_valid_before(now).not_valid_after(now + datetime.timedelta(days=1))
        .sign(signer, hashes.SHA256())
    )
    return cert.public_bytes(serialization.Encoding.DER)


def test_cert_info_fields() -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=1024).public_key()
    der = _certificate(key)
    info = decode_cert_info(der, "KP_CERTIFICATE")
    assert info.public_key == key
    assert info.subject == x509.load_der_x509_certificate(der).subject.public_bytes()
    assert info.issuer == x509.load_der_x509_certificate(der).issuer.public_bytes()
    assert info.serial_number == 987654321
    numbers = key.public_numbers()
    assert rsa_public_numbers(der) == (numbers.n, numbers.e)


def test_what_is_no_certificate() -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=1024).public_key()
    der = _certificate(key)
    unknown_key_algorithm = der.replace(_RSA_OID, _RSA_OID[:-1] + b"\x7f", 1)
    for bad in (b"not DER", der[:-20], unknown_key_algorithm):
        with pytest.raises(Fail) as info:
            decode_cert_info(bad, "KP_CERTIFICATE")
        assert info.value.code == winerror.NTE_BAD_DATA
        assert "KP_CERTIFICATE is not a DER X.509 certificate" in str(info.value)
        # The container map passes over it (the key algorithm's error escaped before).
        assert rsa_public_numbers(bad) is None
    ec_key = ec.generate_private_key(ec.SECP256R1()).public_key()
    assert rsa_public_numbers(_certificate(ec_key)) is None
