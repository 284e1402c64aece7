"""CryptExportKey: a key on the token as a CryptoAPI key BLOB.

One exporter per BLOB type (:data:`_EXPORTERS`); an unknown type is
``NTE_BAD_TYPE``.  Key material leaves the token only through ``C_WrapKey``
(docs/mapping.md), so the token's ``CKA_EXTRACTABLE`` has the last word: csp11
refuses early what Windows refuses (``NTE_BAD_KEY_STATE`` already at the
size query when the key lacks ``CRYPT_EXPORT``), and the token refuses the
rest, for csp11 and every other PKCS#11 client alike.

=====================  =====================================================
BLOB                   how
=====================  =====================================================
PUBLICKEYBLOB          public attributes (``CKA_MODULUS``, ``CKA_PRIME``...)
PRIVATEKEYBLOB         ``C_WrapKey`` under an ephemeral AES key → PKCS #8
PLAINTEXTKEYBLOB       ``C_WrapKey`` under an ephemeral AES key → raw bytes
SIMPLEBLOB             ``C_WrapKey(CKM_RSA_PKCS | CKM_RSA_PKCS_OAEP)``, reversed
SYMMETRICWRAPKEYBLOB   ``C_WrapKey(CKM_AES_KEY_WRAP_PAD)`` with an AES session key
=====================  =====================================================
"""

from __future__ import annotations

from collections.abc import Callable

from csp11 import win32cryptcon as con
from csp11 import winerror
from csp11.core.key import Key
from csp11.errors import Fail
from csp11.formats.blobs import (
    NO_SEED,
    BlobHeader,
    DhPrivateBlob,
    DhPrivateBlobV3,
    DhPublicBlob,
    DhPublicBlobV3,
    DssPrivateBlob,
    DssPrivateBlobV3,
    DssPublicBlob,
    DssPublicBlobV3,
    KeyBlob,
    PlaintextKeyBlob,
    RsaPrivateBlob,
    RsaPublicBlob,
    SimpleBlob,
    SymmetricWrapKeyBlob,
)
from csp11.model.algorithms import Family
from csp11.model.mechanisms import SYMMETRIC_WRAP, oaep
from csp11.ops.cipher import encrypt
from csp11.token import Attribute

__all__ = [
    "AES_ALGIDS", "EXPORT_FLAGS", "encrypt_private_blob", "export_key", "pkcs8_length",
]

# CRYPT_DESTROYKEY concerns OPAQUEKEYBLOBs only and CRYPT_Y_ONLY DH public
# BLOBs, which carry only Y anyway: both are accepted and change nothing.
EXPORT_FLAGS = con.CRYPT_OAEP | con.CRYPT_BLOB_VER3 | con.CRYPT_DESTROYKEY | con.CRYPT_Y_ONLY
_ALLOWED_TO_EXPORT = con.CRYPT_EXPORT | con.CRYPT_ARCHIVE
# Key-encryption keys of a SYMMETRICWRAPKEYBLOB.
AES_ALGIDS = frozenset({con.CALG_AES_128, con.CALG_AES_192, con.CALG_AES_256})


def export_key(
    key: Key, exp_key: Key | None, blob_type: int, flag_bits: int
) -> bytes:
    """CryptExportKey (see the module docstring); arguments normalised."""
    key.live()
    if exp_key is not None:
        exp_key.live()
    exporter = _EXPORTERS.get(blob_type)
    if exporter is None:
        raise Fail(winerror.NTE_BAD_TYPE, f"BLOB type {blob_type} cannot be exported")
    if flag_bits & ~EXPORT_FLAGS:
        raise Fail(winerror.NTE_BAD_FLAGS, f"invalid flags 0x{flag_bits & ~EXPORT_FLAGS:X}")
    blob = exporter(key, exp_key, flag_bits).to_bytes()
    if blob_type == con.PRIVATEKEYBLOB and exp_key is not None:
        return encrypt_private_blob(blob, exp_key)
    return blob


def encrypt_private_blob(blob: bytes, exp_key: Key) -> bytes:
    """A PRIVATEKEYBLOB encrypted under a session key: everything after the
    8-byte BLOBHEADER, as ``CryptEncrypt(Final=True)`` with the key's mode, IV
    and PKCS #5 padding would (Microsoft, "Base Provider Key BLOBs"; the
    mode and padding are not documented — see docs/differences.md)."""
    return blob[:BlobHeader.SIZE] + encrypt(exp_key, True, blob[BlobHeader.SIZE:], None, 0)


def _may_export(key: Key, what: str) -> None:
    if not key.permissions & _ALLOWED_TO_EXPORT:
        raise Fail(
            winerror.NTE_BAD_KEY_STATE,
            f"{what}: the key is not exportable (made without CRYPT_EXPORTABLE)",
        )


def _need_pair(key: Key, what: str) -> None:
    if not key.is_pair:
        raise Fail(winerror.NTE_BAD_KEY, f"{what} needs a key pair, not a session key")


def _need_session(key: Key, what: str) -> None:
    if key.is_pair:
        raise Fail(winerror.NTE_BAD_KEY, f"{what} takes a session key, not a key pair")


def _no_exp_key(exp_key: Key | None, what: str) -> None:
    if exp_key is not None:
        raise Fail(winerror.NTE_BAD_KEY, f"a {what} is not encrypted: pass ExpKey=None")


def _int(value: bytes) -> int:
    return int.from_bytes(value, "big")


# ---- PUBLICKEYBLOB -------------------------------------------------------------------
def _public(key: Key, exp_key: Key | None, flag_bits: int) -> KeyBlob:
    _need_pair(key, "a PUBLICKEYBLOB")
    _no_exp_key(exp_key, "PUBLICKEYBLOB")
    tkey = key.usable()
    if tkey.public is None:
        raise Fail(winerror.NTE_BAD_KEY, "the key pair has no public key object")
    family = key.alg.family
    if family is Family.RSA:
        attrs = tkey.attributes([Attribute.MODULUS, Attribute.PUBLIC_EXPONENT], tkey.public)
        return RsaPublicBlob(
            key.algid, key.bits, _int(attrs[Attribute.PUBLIC_EXPONENT]),
            _int(attrs[Attribute.MODULUS]),
        )
    wanted = [Attribute.PRIME, Attribute.BASE, Attribute.VALUE]
    if family is Family.DSA:
        wanted.append(Attribute.SUBPRIME)
    values = {k: _int(v) for k, v in tkey.attributes(wanted, tkey.public).items()}
    p, g, y = values[Attribute.PRIME], values[Attribute.BASE], values[Attribute.VALUE]
    q = values.get(Attribute.SUBPRIME, 0)
    seed = key.seed or NO_SEED
    ver3 = bool(flag_bits & con.CRYPT_BLOB_VER3)
    if ver3:
        cls = DssPublicBlobV3 if family is Family.DSA else DhPublicBlobV3
        return cls(key.algid, key.bits, _bit_size(q), 0, p, q, g, 0, y, seed)
    if family is Family.DSA:
        return DssPublicBlob(key.algid, key.bits, p, q, g, y, seed)
    return DhPublicBlob(key.algid, key.bits, y)


def _bit_size(value: int) -> int:
    return (value.bit_length() + 7) // 8 * 8


# ---- PRIVATEKEYBLOB --------------------------------------------------------------------
def _tlv(der: bytes, at: int) -> tuple[int, int, int]:
    """(tag, start of contents, end of contents) of the DER element at ``at``."""
    if at + 2 > len(der):
        raise _not_pkcs8()
    tag, first = der[at], der[at + 1]
    at += 2
    if first < 0x80:
        length = first
    else:
        count = first & 0x7F
        if not 1 <= count <= 4 or at + count > len(der):
            raise _not_pkcs8()
        length = int.from_bytes(der[at : at + count], "big")
        at += count
    if at + length > len(der):
        raise _not_pkcs8()
    return tag, at, at + length


def _not_pkcs8() -> Fail:
    return Fail(winerror.NTE_FAIL, "the token's wrapped private key is not PKCS #8 DER")


def pkcs8_length(der: bytes) -> int:
    """The length of the DER SEQUENCE at the start of ``der`` (trailing bytes ignored)."""
    tag, _, end = _tlv(der, 0)
    if tag != 0x30:
        raise _not_pkcs8()
    return end


# rsaEncryption (1.2.840.113549.1.1.1), as the OBJECT IDENTIFIER element of a
# PKCS #8 AlgorithmIdentifier (RFC 8017 A.1).
_RSA_ENCRYPTION_OID = bytes.fromhex("06092a864886f70d010101")


def _pkcs8_private_key(der: bytes) -> tuple[bytes, int, int]:
    """(algorithm OBJECT IDENTIFIER element, start and end of the privateKey
    OCTET STRING's contents) of a PKCS #8 PrivateKeyInfo.

    PrivateKeyInfo ::= SEQUENCE { version, AlgorithmIdentifier SEQUENCE
    { algorithm OID, parameters }, privateKey OCTET STRING } — RFC 5208.
    Read with the small DER walker above rather than ``cryptography``'s PKCS #8
    loader: its module (``serialization``) is 8 ms of every csp11 import, for a
    structure the token itself produced.
    """
    _, at, end = _tlv(der, 0)
    _, _, at = _tlv(der, at)  # version
    tag, algorithm, at = _tlv(der, at)
    if tag != 0x30:
        raise _not_pkcs8()
    _, _, oid_end = _tlv(der, algorithm)
    tag, start, stop = _tlv(der, at)
    if tag != 0x04 or stop > end:
        raise _not_pkcs8()
    return der[algorithm:oid_end], start, stop


def _der_integers(der: bytes, at: int, end: int) -> list[int]:
    """The INTEGERs (non-negative, as a key's are) from ``at`` up to ``end``."""
    values = []
    while at < end:
        tag, value, at = _tlv(der, at)
        if tag != 0x02 or at > end:
            raise _not_pkcs8()
        values.append(int.from_bytes(der[value:at], "big"))
    return values


def _pkcs8_private_integer(der: bytes) -> int:
    """The INTEGER in a PKCS #8 privateKey OCTET STRING (DH and DSA keys hold x so,
    PKCS #3)."""
    _, start, stop = _pkcs8_private_key(der)
    tag, value, value_end = _tlv(der, start)
    if tag != 0x02 or value_end > stop:
        raise _not_pkcs8()
    return int.from_bytes(der[value:value_end], "big")


def _pkcs8_rsa(der: bytes) -> list[int]:
    """version, n, e, d, p, q, dP, dQ, qInv of a PKCS #8 RSA private key: the
    privateKey OCTET STRING holds RSAPrivateKey, a SEQUENCE of these INTEGERs
    (RFC 8017 A.1.2, two-prime)."""
    algorithm, start, stop = _pkcs8_private_key(der)
    if algorithm != _RSA_ENCRYPTION_OID:
        raise _not_pkcs8()
    tag, at, end = _tlv(der, start)
    if tag != 0x30 or end > stop:
        raise _not_pkcs8()
    numbers = _der_integers(der, at, end)
    if len(numbers) != 9 or numbers[0] != 0:
        raise _not_pkcs8()
    return numbers


def _private(key: Key, exp_key: Key | None, flag_bits: int) -> KeyBlob:
    _need_pair(key, "a PRIVATEKEYBLOB")
    _may_export(key, "PRIVATEKEYBLOB")
    tkey = key.usable()
    if tkey.obj is None:
        raise Fail(winerror.NTE_BAD_KEY, "a public key has no private half to export")
    if exp_key is not None and exp_key.is_pair:
        raise Fail(
            winerror.NTE_BAD_KEY,
            "a PRIVATEKEYBLOB is encrypted under a session key (ExpKey), not a key pair",
        )
    # Exporting a user-protected private key is a use of it: its PIN first.
    tkey.authorize_use(key.ctx.pins, key.ctx.container_name)
    wrapped = tkey.extract()
    der = wrapped[: pkcs8_length(wrapped)]
    family = key.alg.family
    if family is Family.RSA:
        _, n, e, d, p, q, dp, dq, qinv = _pkcs8_rsa(der)
        return RsaPrivateBlob(key.algid, key.bits, e, n, p, q, dp, dq, qinv, d)
    # DSS and DH: x from the PKCS #8, the group and y from the public key.
    x = _pkcs8_private_integer(der)
    public = _public(key, None, flag_bits)
    seed = key.seed or NO_SEED
    if isinstance(public, (DssPublicBlobV3, DhPublicBlobV3)):
        cls = DssPrivateBlobV3 if family is Family.DSA else DhPrivateBlobV3
        return cls(
            key.algid, public.bitlenP, public.bitlenQ, 0, _bit_size(x) if public.q == 0
            else public.bitlenQ, public.p, public.q, public.g, 0, public.y, x, seed,
        )
    if isinstance(public, DssPublicBlob):
        return DssPrivateBlob(key.algid, key.bits, public.p, public.q, public.g, x, seed)
    values = tkey.attributes([Attribute.PRIME, Attribute.BASE], tkey.public)
    return DhPrivateBlob(
        key.algid, key.bits, _int(values[Attribute.PRIME]), _int(values[Attribute.BASE]), x
    )


# ---- session keys ----------------------------------------------------------------------
def _plaintext(key: Key, exp_key: Key | None, flag_bits: int) -> KeyBlob:
    _need_session(key, "a PLAINTEXTKEYBLOB")
    _no_exp_key(exp_key, "PLAINTEXTKEYBLOB")
    _may_export(key, "PLAINTEXTKEYBLOB")
    material = key.usable().extract()
    return PlaintextKeyBlob(key.algid, material[: key.material_size])


def _simple(key: Key, exp_key: Key | None, flag_bits: int) -> KeyBlob:
    _need_session(key, "a SIMPLEBLOB")
    if exp_key is None:
        raise Fail(
            winerror.NTE_NO_KEY, "a SIMPLEBLOB is encrypted to a key exchange public key (ExpKey)"
        )
    if exp_key.alg.family is not Family.RSA or not exp_key.alg.exchange:
        raise Fail(
            winerror.NTE_BAD_KEY, "a SIMPLEBLOB is encrypted to an RSA key exchange key (ExpKey)"
        )
    _may_export(key, "SIMPLEBLOB")
    mechanism, param = oaep(bool(flag_bits & con.CRYPT_OAEP))
    ciphertext = exp_key.usable().wrap(key.usable(), mechanism, param)
    return SimpleBlob.from_ciphertext(key.algid, exp_key.algid, ciphertext)


def _symmetric_wrap(key: Key, exp_key: Key | None, flag_bits: int) -> KeyBlob:
    _need_session(key, "a SYMMETRICWRAPKEYBLOB")
    if exp_key is None or exp_key.algid not in AES_ALGIDS:
        raise Fail(
            winerror.NTE_BAD_KEY,
            "csp11 wraps SYMMETRICWRAPKEYBLOBs with AES session keys only (ExpKey)",
        )
    _may_export(key, "SYMMETRICWRAPKEYBLOB")
    wrapped = exp_key.usable().wrap(key.usable(), SYMMETRIC_WRAP)
    return SymmetricWrapKeyBlob(key.algid, exp_key.algid, wrapped)


_EXPORTERS: dict[int, Callable[[Key, Key | None, int], KeyBlob]] = {
    con.PUBLICKEYBLOB: _public,
    con.PRIVATEKEYBLOB: _private,
    con.PLAINTEXTKEYBLOB: _plaintext,
    con.SIMPLEBLOB: _simple,
    con.SYMMETRICWRAPKEYBLOB: _symmetric_wrap,
}
