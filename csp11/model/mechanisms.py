"""Which token mechanism (and parameter) a CryptoAPI cipher operation uses.

The single home of "this key type encrypts blocks with CKM_x", "CRYPT_OAEP
means CKM_RSA_PKCS_OAEP with SHA-1/MGF1" and RC2's ``CK_RC2_CBC_PARAMS``.
The key types and mechanisms themselves come from :mod:`csp11.token`.
"""

from __future__ import annotations

import ctypes
from typing import Any

from csp11.structs import Struct
from csp11.token import MGF, KeyType, Mechanism

__all__ = [
    "BLOCK_MECHANISMS", "DSS_SIGN", "RC4", "RSA_SIGN", "SYMMETRIC_WRAP", "BlockMechanisms",
    "oaep", "rc2_param",
]


class BlockMechanisms(Struct):
    """The unpadded ECB and CBC mechanisms of a key type."""

    ecb: Any
    cbc: Any


BLOCK_MECHANISMS: dict[Any, BlockMechanisms] = {
    KeyType.AES: BlockMechanisms(Mechanism.AES_ECB, Mechanism.AES_CBC),
    KeyType.DES3: BlockMechanisms(Mechanism.DES3_ECB, Mechanism.DES3_CBC),
    KeyType.DES2: BlockMechanisms(Mechanism.DES3_ECB, Mechanism.DES3_CBC),
    KeyType._DES: BlockMechanisms(Mechanism._DES_ECB, Mechanism._DES_CBC),
    KeyType._RC2: BlockMechanisms(Mechanism._RC2_ECB, Mechanism._RC2_CBC),
}
RC4 = Mechanism._RC4
# CryptSignHash: PKCS #1 v1.5 over the DigestInfo (csp11 adds it), and DSA
# over a SHA-1 value.
RSA_SIGN = Mechanism.RSA_PKCS
DSS_SIGN = Mechanism.DSA
# SYMMETRICWRAPKEYBLOB: RFC 5649 AES key wrap with padding.
SYMMETRIC_WRAP = Mechanism.AES_KEY_WRAP_PAD


def oaep(use: bool) -> tuple[object, object]:
    """The RSA mechanism and parameter of RSA encryption and SIMPLEBLOBs: PKCS #1
    v1.5, or OAEP (SHA-1, MGF1-SHA-1, empty label) with ``CRYPT_OAEP``."""
    if use:
        return Mechanism.RSA_PKCS_OAEP, (Mechanism.SHA_1, MGF.SHA1, None)
    return Mechanism.RSA_PKCS, None


class _RC2Params(ctypes.Structure):
    """CK_RC2_CBC_PARAMS (pkcs11t.h); CK_RC2_PARAMS is its first member alone."""

    _fields_ = (("ulEffectiveBits", ctypes.c_ulong), ("iv", ctypes.c_ubyte * 8))


def rc2_param(effective_bits: int, iv: bytes | None) -> bytes:
    """The mechanism parameter of CKM_RC2_ECB (no IV) or CKM_RC2_CBC.

    ECB's is CK_RC2_PARAMS, the effective length alone; NSS reads a whole
    CK_RC2_CBC_PARAMS for both, so ECB gets that with a zero IV (the first
    member is the same either way).
    """
    return bytes(_RC2Params(effective_bits, (ctypes.c_ubyte * 8)(*(iv or bytes(8)))))
