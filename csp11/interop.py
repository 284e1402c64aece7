"""Key BLOBs to and from the ``cryptography`` package's keys, PEM and DER.

For moving keys between CryptoAPI code and the rest of the world::

    from csp11 import interop
    pem = interop.blob_to_pem(key.CryptExportKey(None, PUBLICKEYBLOB))
    blob = interop.blob_from_pem(pem, CALG_RSA_KEYX)
    key = prov.CryptImportKey(blob)

Public BLOBs become SubjectPublicKeyInfo, private BLOBs unencrypted PKCS #8.
RSA and DSS keys are supported (the formats ``cryptography`` reads and
writes); DH keys only through :mod:`csp11.formats.blobs` (``cryptography`` deprecates
finite-field DH).  Every failure is a :class:`csp11.pywintypes.error`
(``NTE_BAD_DATA`` for a key that is malformed or not RSA/DSS).
"""

from __future__ import annotations

from typing import TypeAlias

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import dsa, rsa

from csp11 import winerror
from csp11.args import bytes_arg, dword
from csp11.errors import Fail, api
from csp11.formats.blobs import (
    DssPrivateBlob,
    DssPublicBlob,
    RsaPrivateBlob,
    RsaPublicBlob,
    dsa_private_from_blob,
    dsa_private_to_blob,
    dsa_public_from_blob,
    dsa_public_to_blob,
    parse_key_blob,
    rsa_private_from_blob,
    rsa_private_to_blob,
    rsa_public_from_blob,
    rsa_public_to_blob,
)

__all__ = [
    "blob_from_der",
    "blob_from_key",
    "blob_from_pem",
    "blob_to_der",
    "blob_to_pem",
    "key_from_blob",
]

Key: TypeAlias = rsa.RSAPublicKey | rsa.RSAPrivateKey | dsa.DSAPublicKey | dsa.DSAPrivateKey


@api("key_from_blob")
def key_from_blob(data: bytes) -> Key:
    """The ``cryptography`` key an RSA or DSS PUBLICKEYBLOB/PRIVATEKEYBLOB holds."""
    blob = parse_key_blob(bytes_arg(data, "data"))
    if isinstance(blob, RsaPublicBlob):
        return rsa_public_from_blob(blob)
    if isinstance(blob, RsaPrivateBlob):
        return rsa_private_from_blob(blob)
    if isinstance(blob, DssPublicBlob):
        return dsa_public_from_blob(blob)
    if isinstance(blob, DssPrivateBlob):
        return dsa_private_from_blob(blob)
    raise Fail(winerror.NTE_BAD_TYPE, f"a {blob.NAME} is not an RSA or DSS key BLOB")


@api("blob_from_key")
def blob_from_key(key: Key, aiKeyAlg: int) -> bytes:
    """The PUBLICKEYBLOB or PRIVATEKEYBLOB of a ``cryptography`` RSA or DSA key."""
    aiKeyAlg = _algid(aiKeyAlg)
    if isinstance(key, rsa.RSAPrivateKey):
        return rsa_private_to_blob(key, aiKeyAlg).to_bytes()
    if isinstance(key, rsa.RSAPublicKey):
        return rsa_public_to_blob(key, aiKeyAlg).to_bytes()
    if isinstance(key, dsa.DSAPrivateKey):
        return dsa_private_to_blob(key, aiKeyAlg).to_bytes()
    if isinstance(key, dsa.DSAPublicKey):
        return dsa_public_to_blob(key, aiKeyAlg).to_bytes()
    raise TypeError(f"an RSA or DSA key from cryptography is needed, not {type(key).__name__}")


def _algid(value: object) -> int:
    """An ``aiKeyAlg`` argument: an ALG_ID, a DWORD (``NTE_BAD_ALGID`` if it is none)."""
    return dword(value, "aiKeyAlg", winerror.NTE_BAD_ALGID)


def _encode(data: bytes, encoding: serialization.Encoding) -> bytes:
    key = key_from_blob(data)
    if isinstance(key, (rsa.RSAPrivateKey, dsa.DSAPrivateKey)):
        return key.private_bytes(
            encoding, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    return key.public_bytes(encoding, serialization.PublicFormat.SubjectPublicKeyInfo)


def _decode(data: bytes, aiKeyAlg: int, pem: bool) -> bytes:
    data = bytes_arg(data, "data")
    aiKeyAlg = _algid(aiKeyAlg)
    load_private = (
        serialization.load_pem_private_key if pem else serialization.load_der_private_key
    )
    load_public = serialization.load_pem_public_key if pem else serialization.load_der_public_key
    key: object
    try:
        key = load_private(data, password=None)
    except (ValueError, TypeError):
        try:
            key = load_public(data)
        except (ValueError, TypeError):
            raise Fail(
                winerror.NTE_BAD_DATA,
                f"not an unencrypted {'PEM' if pem else 'DER'} PKCS #8 or SubjectPublicKeyInfo key",
            ) from None
    if not isinstance(key, (rsa.RSAPublicKey, rsa.RSAPrivateKey, dsa.DSAPublicKey,
                            dsa.DSAPrivateKey)):
        raise Fail(winerror.NTE_BAD_DATA, f"a {type(key).__name__} has no CryptoAPI key BLOB here")
    return blob_from_key(key, aiKeyAlg)


@api("blob_to_pem")
def blob_to_pem(data: bytes) -> bytes:
    """PEM of an RSA/DSS key BLOB: SubjectPublicKeyInfo or unencrypted PKCS #8."""
    return _encode(data, serialization.Encoding.PEM)


@api("blob_to_der")
def blob_to_der(data: bytes) -> bytes:
    """DER of an RSA/DSS key BLOB: SubjectPublicKeyInfo or unencrypted PKCS #8."""
    return _encode(data, serialization.Encoding.DER)


@api("blob_from_pem")
def blob_from_pem(data: bytes, aiKeyAlg: int) -> bytes:
    """The key BLOB (header ALG_ID ``aiKeyAlg``) of a PEM public or private key."""
    return _decode(data, aiKeyAlg, pem=True)


@api("blob_from_der")
def blob_from_der(data: bytes, aiKeyAlg: int) -> bytes:
    """The key BLOB (header ALG_ID ``aiKeyAlg``) of a DER public or private key."""
    return _decode(data, aiKeyAlg, pem=False)
