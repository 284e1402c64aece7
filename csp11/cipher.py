"""CryptEncrypt and CryptDecrypt: session keys and RSA exchange keys on the token.

Block ciphers follow CryptoAPI, not PKCS#11's ``*_CBC_PAD`` streaming
(WINDOWS-FACTS): a call with ``Final=False`` takes whole blocks and returns
every one of them; padding (PKCS #5, a whole block when the data is aligned)
is added or checked only by the call with ``Final=True``.  So csp11 runs the
token's unpadded mechanism (``CKM_AES_CBC``, ``CKM_DES3_ECB``...) once per
call and does the padding itself; the chaining value (the last ciphertext
block) is kept on the handle between calls and reset to ``KP_IV`` after
``Final`` — and after a decryption that failed, so the key stays usable.

CFB is 8-bit CFB, as Windows has it.  PKCS#11 tokens rarely offer
``CKM_*_CFB8``; csp11 builds it from the token's ECB: decryption needs one
ECB call per ``CryptDecrypt`` (every shift register is known from the
ciphertext), encryption one per byte — slow, and documented as such.

RSA: only the key exchange pair encrypts (``CKM_RSA_PKCS``, or
``CKM_RSA_PKCS_OAEP`` with ``CRYPT_OAEP``), and ciphertexts are
little-endian: the byte reversal of PKCS #1's.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from csp11 import win32cryptcon as con
from csp11 import winerror
from csp11.algorithms import Family
from csp11.args import flags
from csp11.errors import Fail
from csp11.exportkey import oaep
from csp11.token import KeyType, Mechanism

if TYPE_CHECKING:
    from csp11.hashes import PyCRYPTHASH
    from csp11.keys import PyCRYPTKEY

__all__ = ["block_mechanisms", "decrypt", "encrypt", "pad", "unpad"]

_CRYPT_FLAGS = con.CRYPT_OAEP
_OAEP_OVERHEAD = 42  # 2 * SHA-1 size + 2
_PKCS1_OVERHEAD = 11
# From this size on, an aligned final call pads in a call of its own rather
# than copying the data (a copy costs more than a token call).
_NO_COPY = 64 * 1024


@dataclass(frozen=True)
class _Mechanisms:
    """The unpadded ECB and CBC mechanisms of a key type."""

    ecb: Any
    cbc: Any


_BLOCK_MECHANISMS: dict[Any, _Mechanisms] = {
    KeyType.AES: _Mechanisms(Mechanism.AES_ECB, Mechanism.AES_CBC),
    KeyType.DES3: _Mechanisms(Mechanism.DES3_ECB, Mechanism.DES3_CBC),
    KeyType.DES2: _Mechanisms(Mechanism.DES3_ECB, Mechanism.DES3_CBC),
    KeyType._DES: _Mechanisms(Mechanism._DES_ECB, Mechanism._DES_CBC),
}


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


def _check(key: PyCRYPTKEY, hash_: PyCRYPTHASH | None, flag_bits: int, permission: int,
           what: str) -> None:
    key.live()
    if flag_bits & ~_CRYPT_FLAGS:
        raise Fail(winerror.NTE_BAD_FLAGS, f"invalid flags 0x{flag_bits & ~_CRYPT_FLAGS:X}")
    if not key.permissions & permission:
        raise Fail(winerror.NTE_PERM, f"the key's KP_PERMISSIONS do not allow {what}")
    if hash_ is not None:
        hash_.check_updatable()


def encrypt(key: PyCRYPTKEY, final: bool, data: bytes, hash_: PyCRYPTHASH | None,
            flag_bits: int) -> bytes:
    """CryptEncrypt (see the module docstring)."""
    flag_bits = flags(flag_bits)
    _check(key, hash_, flag_bits, con.CRYPT_ENCRYPT, "encryption")
    if key.alg.family is Family.RSA:
        return _rsa_encrypt(key, data, hash_, flag_bits)
    block = _block_size(key)
    if not final and len(data) % block:
        raise Fail(
            winerror.NTE_BAD_DATA,
            f"without Final the data must be whole {block}-byte blocks, got {len(data)} bytes",
        )
    if hash_ is not None:
        hash_.update(data)
    with key.cipher_lock:
        try:
            if not final:
                return _run(key, data, encrypting=True) if data else b""
            if len(data) % block == 0 and len(data) >= _NO_COPY:
                # Aligned: the padding is a block of its own, encrypted in a
                # second call, so a large buffer is not copied to append it.
                return _run(key, data, encrypting=True) + _run(key, pad(b"", block),
                                                               encrypting=True)
            return _run(key, pad(data, block), encrypting=True)
        finally:
            if final:
                key.chain = None


def decrypt(key: PyCRYPTKEY, final: bool, data: bytes, hash_: PyCRYPTHASH | None,
            flag_bits: int) -> bytes:
    """CryptDecrypt (see the module docstring)."""
    flag_bits = flags(flag_bits)
    _check(key, hash_, flag_bits, con.CRYPT_DECRYPT, "decryption")
    if key.alg.family is Family.RSA:
        return _rsa_decrypt(key, data, hash_, flag_bits)
    block = _block_size(key)
    if len(data) % block or (final and not data):
        raise Fail(
            winerror.NTE_BAD_DATA,
            f"ciphertext must be whole {block}-byte blocks, got {len(data)} bytes",
        )
    with key.cipher_lock:
        try:
            plain = _run(key, data, encrypting=False) if data else b""
        except BaseException:
            key.chain = None
            raise
        if final:
            key.chain = None
            unpadded = unpad(plain, block)
            if unpadded is None:
                raise Fail(winerror.NTE_BAD_DATA, "bad padding: wrong key, IV or data")
            plain = unpadded
    if hash_ is not None:
        hash_.update(plain)
    return plain


def block_mechanisms(key: PyCRYPTKEY) -> _Mechanisms:
    """The token's unpadded ECB and CBC mechanisms for a block cipher key."""
    if key.is_pair:
        raise Fail(winerror.NTE_BAD_KEY, f"{key.alg.name} keys do not encrypt data")
    found = _BLOCK_MECHANISMS.get(key.alg.key_type)
    if found is None or not key.alg.block_bits or key.hmac_only:
        raise Fail(
            winerror.NTE_BAD_KEY,
            f"csp11 does not encrypt with {key.alg.name} keys (block ciphers only: DES, "
            "3DES and AES)" if not key.hmac_only else "a CRYPT_IPSEC_HMAC_KEY key only keys HMACs",
        )
    return found


def _block_size(key: PyCRYPTKEY) -> int:
    block_mechanisms(key)
    return key.alg.block_bits // 8


def _run(key: PyCRYPTKEY, data: bytes, *, encrypting: bool) -> bytes:
    """One call's worth of blocks in the key's mode, moving its chaining value on."""
    tkey = key.usable()
    mechanisms = _BLOCK_MECHANISMS[key.alg.key_type]
    chain = key.chain if key.chain is not None else key.iv
    if key.mode == con.CRYPT_MODE_ECB:
        return (tkey.encrypt if encrypting else tkey.decrypt)(data, mechanisms.ecb)
    if key.mode == con.CRYPT_MODE_CBC:
        if encrypting:
            out = tkey.encrypt(data, mechanisms.cbc, chain)
            key.chain = out[-len(chain):]
        else:
            out = tkey.decrypt(data, mechanisms.cbc, chain)
            key.chain = data[-len(chain):]
        return out
    if key.mode == con.CRYPT_MODE_CFB:
        return _cfb8(key, data, chain, mechanisms.ecb, encrypting=encrypting)
    raise Fail(winerror.NTE_BAD_ALGID, f"cipher mode {key.mode} does not encrypt")


def _cfb8(key: PyCRYPTKEY, data: bytes, chain: bytes, ecb: Any, *, encrypting: bool) -> bytes:
    """8-bit CFB from ECB: each byte is XORed with the first byte of E(register),
    and the register shifts the ciphertext byte in."""
    tkey = key.usable()
    size = len(chain)
    if not encrypting:
        stream = chain + data  # every register is a window of it
        registers = b"".join(stream[i : i + size] for i in range(len(data)))
        pads = tkey.encrypt(registers, ecb)
        key.chain = stream[-size:]
        return bytes(c ^ pads[i * size] for i, c in enumerate(data))

    def run(encrypt_one: Callable[[bytes], bytes]) -> bytes:
        register = bytearray(chain)
        out = bytearray()
        for byte in data:
            c = byte ^ encrypt_one(bytes(register))[0]
            out.append(c)
            del register[0]
            register.append(c)
        key.chain = bytes(register)
        return bytes(out)

    return tkey.encrypt_each(run, ecb)


# ---- RSA ------------------------------------------------------------------------------
def _rsa_exchange(key: PyCRYPTKEY) -> None:
    if not key.alg.exchange:
        raise Fail(winerror.NTE_BAD_KEY, "only a key exchange key encrypts with RSA")


def _rsa_encrypt(key: PyCRYPTKEY, data: bytes, hash_: PyCRYPTHASH | None,
                 flag_bits: int) -> bytes:
    _rsa_exchange(key)
    use_oaep = bool(flag_bits & con.CRYPT_OAEP)
    room = key.bits // 8 - (_OAEP_OVERHEAD if use_oaep else _PKCS1_OVERHEAD)
    if len(data) > room:
        raise Fail(
            winerror.NTE_BAD_LEN,
            f"a {key.bits}-bit key encrypts at most {room} bytes "
            f"({'OAEP' if use_oaep else 'PKCS #1 v1.5'}), got {len(data)}",
        )
    if hash_ is not None:
        hash_.update(data)
    mechanism, param = oaep(use_oaep)
    return key.usable().encrypt(data, mechanism, param)[::-1]


def _rsa_decrypt(key: PyCRYPTKEY, data: bytes, hash_: PyCRYPTHASH | None,
                 flag_bits: int) -> bytes:
    _rsa_exchange(key)
    tkey = key.usable()
    if tkey.obj is None:
        raise Fail(winerror.NTE_BAD_KEY, "a public key cannot decrypt")
    if len(data) != key.bits // 8:
        raise Fail(winerror.NTE_BAD_DATA, f"RSA ciphertext must be {key.bits // 8} bytes")
    mechanism, param = oaep(bool(flag_bits & con.CRYPT_OAEP))
    pin = tkey.key_use_pin(key.prov.pins, key.prov.container_name)
    try:
        plain = tkey.decrypt(data[::-1], mechanism, param, pin)
    except Fail as exc:
        if exc.ckr in ("CKR_ENCRYPTED_DATA_INVALID", "CKR_GENERAL_ERROR", "CKR_DATA_INVALID",
                       "CKR_ENCRYPTED_DATA_LEN_RANGE"):
            raise Fail(winerror.NTE_BAD_DATA, "the ciphertext does not decrypt with this key",
                       ckr=exc.ckr) from None
        raise
    if hash_ is not None:
        hash_.update(plain)
    return plain
