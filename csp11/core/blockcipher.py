"""The block-cipher engine: one unpadded ECB/CBC call, PKCS #5 padding, key checks.

Shared by CryptEncrypt/CryptDecrypt (:mod:`csp11.ops.cipher`) and the
CBC-MAC of ``CALG_MAC`` (:mod:`csp11.core.engines`).  The token runs its
unpadded mechanism (:data:`csp11.model.mechanisms.BLOCK_MECHANISMS`); csp11
pads, because CryptoAPI pads only on ``Final`` (WINDOWS-FACTS).

Where the token's CBC with an IV does not work and its ECB does (p11-kit
0.24's RPC carries no ``CKM_*_CBC`` parameter), csp11 runs CBC itself over
the token's ECB (:meth:`csp11.model.capabilities.TokenModel.cbc_on_ecb`): the
key stays on the token, only the chaining XORs are done here.  Encryption is
one ECB call per block (each block's input needs the previous ciphertext);
decryption one ECB call for the whole input, XORed with the IV and the
ciphertext shifted by a block.
"""

from __future__ import annotations

from csp11 import winerror
from csp11.core.key import Key
from csp11.errors import Fail
from csp11.interrupts import checkpoint
from csp11.model.capabilities import token_model
from csp11.model.mechanisms import BLOCK_MECHANISMS, BlockMechanisms, rc2_param
from csp11.token import KeyType, Mechanism, TokenKey

__all__ = ["block_call", "block_mechanisms", "block_size", "cipher_key", "pad", "unpad"]


def block_call(key: Key, tkey: TokenKey, data: bytes, *, ecb: bool, iv: bytes,
               encrypting: bool) -> bytes:
    """One unpadded ECB or CBC call with ``key``'s cipher (``tkey`` its objects).

    RC2 goes through csp11's own calls, with its effective key length in the
    mechanism parameter (python-pkcs11 does not pack ``CK_RC2_CBC_PARAMS``).
    """
    mechanisms = BLOCK_MECHANISMS[key.alg.key_type]
    if key.alg.key_type == KeyType._RC2:
        mechanism = mechanisms.ecb if ecb else mechanisms.cbc
        param = rc2_param(key.effective_keylen or key.bits, None if ecb else iv)
        return tkey.crypt_once("encrypt" if encrypting else "decrypt", mechanism, param, data)
    if ecb:
        return _ecb(tkey, mechanisms.ecb, data, encrypting)
    if token_model(key.ctx.token).cbc_on_ecb(key.alg):
        return _cbc_on_ecb(tkey, mechanisms.ecb, data, iv, encrypting)
    if encrypting:
        return tkey.encrypt(data, mechanisms.cbc, iv)
    return tkey.decrypt(data, mechanisms.cbc, iv)


def _ecb(tkey: TokenKey, mechanism: Mechanism, data: bytes, encrypting: bool) -> bytes:
    if encrypting:
        return tkey.encrypt(data, mechanism, None)
    return tkey.decrypt(data, mechanism, None)


def _xor(a: bytes, b: bytes) -> bytes:
    """``a`` XOR ``b`` (equal lengths), as one big-integer operation."""
    return (int.from_bytes(a, "big") ^ int.from_bytes(b, "big")).to_bytes(len(a), "big")


def _cbc_on_ecb(tkey: TokenKey, ecb: Mechanism, data: bytes, iv: bytes,
                encrypting: bool) -> bytes:
    """Unpadded CBC from the token's ECB (``data`` whole blocks of ``len(iv)``)."""
    if not data:
        return b""
    size = len(iv)
    if not encrypting:
        # Every block's chaining input is known: the IV, then the ciphertext.
        return _xor(_ecb(tkey, ecb, data, False), iv + data[:-size])
    out = bytearray()
    chain = iv
    for start in range(0, len(data), size):  # one call per block: each needs the last
        # A stop signal waits for a checkpoint; over RPC a 1 MiB call here is
        # 65 536 round trips (seconds): it stops between two of them.
        checkpoint()
        chain = _ecb(tkey, ecb, _xor(data[start : start + size], chain), True)
        out += chain
    return bytes(out)


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
