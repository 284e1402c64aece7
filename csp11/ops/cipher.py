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

RC2 (a block cipher with an effective key length) runs through csp11's own
``C_EncryptInit`` with ``CK_RC2_CBC_PARAMS``; RC4 keeps one keystream for
encryption and decryption between calls (a ``C_EncryptUpdate`` operation on
a session of its own) and starts it again after ``Final``.  Salted keys
(40-bit RC2/RC4 without ``CRYPT_NO_SALT``) do not encrypt: see
:func:`_cipher_key`.

RSA: only the key exchange pair encrypts (``CKM_RSA_PKCS``, or
``CKM_RSA_PKCS_OAEP`` with ``CRYPT_OAEP``), and ciphertexts are
little-endian: the byte reversal of PKCS #1's.
"""

from __future__ import annotations

from csp11 import win32cryptcon as con
from csp11 import winerror
from csp11.core.blockcipher import block_call, block_size, cipher_key, pad, unpad
from csp11.core.hash import Hash
from csp11.core.key import Key
from csp11.errors import Fail
from csp11.model.algorithms import Family
from csp11.model.mechanisms import RC4, oaep
from csp11.token import KeyType

__all__ = ["decrypt", "encrypt"]

_CRYPT_FLAGS = con.CRYPT_OAEP
_OAEP_OVERHEAD = 42  # 2 * SHA-1 size + 2
_PKCS1_OVERHEAD = 11
# From this size on, an aligned final call pads in a call of its own rather
# than copying the data (a copy costs more than a token call).
_NO_COPY = 64 * 1024


def _check(key: Key, hash_: Hash | None, flag_bits: int, permission: int,
           what: str) -> None:
    key.live()
    if flag_bits & ~_CRYPT_FLAGS:
        raise Fail(winerror.NTE_BAD_FLAGS, f"invalid flags 0x{flag_bits & ~_CRYPT_FLAGS:X}")
    if not key.permissions & permission:
        raise Fail(winerror.NTE_PERM, f"the key's KP_PERMISSIONS do not allow {what}")
    if hash_ is not None:
        hash_.check_updatable()


def encrypt(key: Key, final: bool, data: bytes, hash_: Hash | None,
            flag_bits: int) -> bytes:
    """CryptEncrypt (see the module docstring)."""
    _check(key, hash_, flag_bits, con.CRYPT_ENCRYPT, "encryption")
    if key.alg.family is Family.RSA:
        return _rsa_encrypt(key, data, hash_, flag_bits)
    if key.alg.key_type == KeyType._RC4:
        if hash_ is not None:
            hash_.update(data)
        return _stream(key, data, final)
    block = block_size(key)
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


def decrypt(key: Key, final: bool, data: bytes, hash_: Hash | None,
            flag_bits: int) -> bytes:
    """CryptDecrypt (see the module docstring)."""
    _check(key, hash_, flag_bits, con.CRYPT_DECRYPT, "decryption")
    if key.alg.family is Family.RSA:
        return _rsa_decrypt(key, data, hash_, flag_bits)
    if key.alg.key_type == KeyType._RC4:
        plain = _stream(key, data, final)
        if hash_ is not None:
            hash_.update(plain)
        return plain
    block = block_size(key)
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


def _stream(key: Key, data: bytes, final: bool) -> bytes:
    """RC4: one keystream for encryption and decryption alike, kept across calls
    (a ``C_EncryptUpdate`` operation on a session of its own) and started
    again after ``Final``, as rsaenh does."""
    cipher_key(key)
    tkey = key.usable()
    with key.cipher_lock:
        try:
            running = key.stream
            if running is None:
                running = key.stream = tkey.token.operation("encrypt", RC4, tkey.obj)
            out = running.crypt(data) if data else b""
            if final:
                key.stream = None
                running.finish()
            return out
        except BaseException:
            failed, key.stream = key.stream, None
            if failed is not None:
                failed.abort()
            raise


def _run(key: Key, data: bytes, *, encrypting: bool) -> bytes:
    """One call's worth of blocks in the key's mode, moving its chaining value on."""
    tkey = key.usable()
    chain = key.chain if key.chain is not None else key.iv
    if key.mode == con.CRYPT_MODE_ECB:
        return block_call(key, tkey, data, ecb=True, iv=b"", encrypting=encrypting)
    if key.mode == con.CRYPT_MODE_CBC:
        out = block_call(key, tkey, data, ecb=False, iv=chain, encrypting=encrypting)
        key.chain = (out if encrypting else data)[-len(chain):]
        return out
    if key.mode == con.CRYPT_MODE_CFB:
        return _cfb8(key, data, chain, encrypting=encrypting)
    raise Fail(winerror.NTE_BAD_ALGID, f"cipher mode {key.mode} does not encrypt")


def _cfb8(key: Key, data: bytes, chain: bytes, *, encrypting: bool) -> bytes:
    """8-bit CFB from ECB: each byte is XORed with the first byte of E(register),
    and the register shifts the ciphertext byte in."""
    tkey = key.usable()
    size = len(chain)
    if not encrypting:
        stream = chain + data  # every register is a window of it
        registers = b"".join(stream[i : i + size] for i in range(len(data)))
        pads = block_call(key, tkey, registers, ecb=True, iv=b"", encrypting=True)
        key.chain = stream[-size:]
        return bytes(c ^ pads[i * size] for i, c in enumerate(data))
    register = bytearray(chain)
    out = bytearray()
    for byte in data:  # one token call per byte: each register needs the last output
        pad_byte = block_call(key, tkey, bytes(register), ecb=True, iv=b"", encrypting=True)[0]
        out.append(byte ^ pad_byte)
        del register[0]
        register.append(out[-1])
    key.chain = bytes(register)
    return bytes(out)


# ---- RSA ------------------------------------------------------------------------------
def _rsa_exchange(key: Key) -> None:
    if not key.alg.exchange:
        raise Fail(winerror.NTE_BAD_KEY, "only a key exchange key encrypts with RSA")


def _rsa_encrypt(key: Key, data: bytes, hash_: Hash | None,
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


def _rsa_decrypt(key: Key, data: bytes, hash_: Hash | None,
                 flag_bits: int) -> bytes:
    _rsa_exchange(key)
    tkey = key.usable()
    if tkey.obj is None:
        raise Fail(winerror.NTE_BAD_KEY, "a public key cannot decrypt")
    if len(data) != key.bits // 8:
        raise Fail(winerror.NTE_BAD_DATA, f"RSA ciphertext must be {key.bits // 8} bytes")
    mechanism, param = oaep(bool(flag_bits & con.CRYPT_OAEP))
    pin = tkey.key_use_pin(key.ctx.pins, key.ctx.container_name)
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
