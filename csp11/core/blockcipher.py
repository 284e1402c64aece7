"""The block-cipher engine: one unpadded ECB/CBC call, PKCS #5 padding, key checks.

Shared by CryptEncrypt/CryptDecrypt (:mod:`csp11.ops.cipher`) and the
CBC-MAC of ``CALG_MAC`` (:mod:`csp11.core.engines`).  The token runs its
unpadded mechanism (:data:`csp11.model.mechanisms.BLOCK_MECHANISMS`); csp11
pads, because CryptoAPI pads only on ``Final`` (WINDOWS-FACTS).
"""

from __future__ import annotations

from csp11 import winerror
from csp11.core.key import Key
from csp11.errors import Fail
from csp11.model.mechanisms import BLOCK_MECHANISMS, BlockMechanisms, rc2_param
from csp11.token import KeyType, TokenKey

__all__ = ["block_call", "block_mechanisms", "block_size", "cipher_key", "pad", "unpad"]


def block_call(key: Key, tkey: TokenKey, data: bytes, *, ecb: bool, iv: bytes,
               encrypting: bool) -> bytes:
    """One unpadded ECB or CBC call with ``key``'s cipher (``tkey`` its objects).

    RC2 goes through csp11's own calls, with its effective key length in the
    mechanism parameter (python-pkcs11 does not pack ``CK_RC2_CBC_PARAMS``).
    """
    mechanisms = BLOCK_MECHANISMS[key.alg.key_type]
    mechanism = mechanisms.ecb if ecb else mechanisms.cbc
    if key.alg.key_type == KeyType._RC2:
        param = rc2_param(key.effective_keylen or key.bits, None if ecb else iv)
        return tkey.crypt_once("encrypt" if encrypting else "decrypt", mechanism, param, data)
    if encrypting:
        return tkey.encrypt(data, mechanism, None if ecb else iv)
    return tkey.decrypt(data, mechanism, None if ecb else iv)


def pad(data: bytes, size: int) -> bytes:
    """PKCS #5 padding to a multiple of ``size``: 1..size bytes of the count."""
    count = size - len(data) % size
    return data + bytes([count]) * count


def unpad(data: bytes, size: int) -> bytes | None:
    """``data`` without its PKCS #5 padding, or None when the padding is wrong."""
    if not data or len(data) % size:
        return None
    count = data[-1]
    if not 1 <= count <= size or data[-count:] != bytes([count]) * count:
        return None
    return data[:-count]


def cipher_key(key: Key) -> None:
    """Refuse keys csp11 does not encrypt with."""
    if key.is_pair:
        raise Fail(winerror.NTE_BAD_KEY, f"{key.alg.name} keys do not encrypt data")
    if key.hmac_only:
        raise Fail(winerror.NTE_BAD_KEY, "a CRYPT_IPSEC_HMAC_KEY key only keys HMACs")
    if key.salt:
        # The cipher key would be key ‖ salt, made on the token only by
        # deriving (CKM_CONCATENATE_BASE_AND_DATA), which needs CKA_DERIVE on
        # the key: then any PKCS#11 client could derive an extractable key
        # from a non-exportable one.  docs/differences.md.
        raise Fail(
            winerror.NTE_BAD_KEY,
            f"csp11 does not encrypt with salted {key.alg.name} keys (make 40-bit keys with "
            "CRYPT_NO_SALT, or use 56 bits or more)",
        )


def block_mechanisms(key: Key) -> BlockMechanisms:
    """The token's unpadded ECB and CBC mechanisms for a block cipher key."""
    cipher_key(key)
    found = BLOCK_MECHANISMS.get(key.alg.key_type)
    if found is None or not key.alg.block_bits:
        raise Fail(
            winerror.NTE_BAD_KEY,
            f"{key.alg.name} keys do not encrypt data (block ciphers: DES, 3DES, AES, RC2; "
            "stream: RC4)",
        )
    return found


def block_size(key: Key) -> int:
    """The block size in bytes of a key csp11 encrypts blocks with (refusing others)."""
    block_mechanisms(key)
    return key.alg.block_bits // 8
