"""Real programs written for CryptoAPI, run unchanged on csp11.

Each test replays the call sequence of one public program (docs/compatibility.md
names them, with their repository and file) through csp11's ``win32crypt`` in
place of pywin32's: the same functions, in the same order, with the same
argument forms (pywin32's positional defaults such as ``CryptCreateHash(alg)``,
``CryptHashData(data)``, ``CryptGetHashParam(param)``, ``CryptReleaseContext()``)
and the same flag combinations.  Programs written in C or against ctypes are
replayed in pywin32's spelling of the same calls.

The expected answers never come from csp11: they are published test vectors
(RFC 1319 for MD2, RFC 1320 for MD4), ``hashlib`` and ``cryptography``.  The
key BLOBs are built here with ``struct``, as the programs build them.
RC2 and RC4 need a token that has them: those steps run on NSS softokn
(tests/test_nss.py) and are skipped, with the reason, where it is missing.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import json
import os
import struct
import subprocess
import sys
import urllib.parse
from pathlib import Path

import pytest
from cryptography.hazmat.decrepit.ciphers.algorithms import ARC4, RC2, TripleDES
from cryptography.hazmat.primitives import hashes, padding
from cryptography.hazmat.primitives.asymmetric import dsa, rsa
from cryptography.hazmat.primitives.asymmetric import padding as apad
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from csp11 import pywintypes, win32crypt, win32cryptcon, winerror

# ---------------------------------------------------------------------------------------
# Published vectors (the answers every Windows provider gives: MD2/MD4 are deterministic)
RFC1319_MD2 = [
    (b"", "8350e5a3e24c153df2275c9f80692773"),
    (b"a", "32ec01ec4a6dac72c0ab96fb34c0b5d1"),
    (b"abc", "da853b0d3f88d99b30283a69e6ded6bb"),
    (b"message digest", "ab4f496bfb2a530b219ff33031fe06b0"),
    (b"abcdefghijklmnopqrstuvwxyz", "4e8ddff3650292ab5a4108c3aa47940b"),
    (b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
     "da33def2a42df13975352846c30338cd"),
    (b"1234567890" * 8, "d5976f79d83d3a0dc9806c3c66f3efd8"),
]
RFC1320_MD4 = [
    (b"", "31d6cfe0d16ae931b73c59d7e0c089c0"),
    (b"a", "bde52cb31de33e46245e05fbdbd6fb24"),
    (b"abc", "a448017aaf21d8525fc10ae87aa6729d"),
    (b"message digest", "d9130a8164549fe818874806e1c7014b"),
    (b"abcdefghijklmnopqrstuvwxyz", "d79e1c308aa5bbcdeea8ed63df412da9"),
    (b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
     "043f8582f241db351ce627e153e7f0e4"),
    (b"1234567890" * 8, "e33b4ddc9c38f2199c3e7b164fcc0536"),
]


def _parts(data: bytes, sizes: tuple[int, ...]) -> list[bytes]:
    """``data`` cut into pieces of the given sizes (the rest last), empty pieces kept."""
    out: list[bytes] = []
    at = 0
    for size in sizes:
        out.append(data[at:at + size])
        at += size
    out.append(data[at:])
    return out


# ---------------------------------------------------------------------------------------
# Key BLOBs, built as the programs build them (wincrypt.h layouts, little-endian)
PLAINTEXTKEYBLOB, PUBLICKEYBLOB, PRIVATEKEYBLOB = 8, 6, 7


def _header(blob_type: int, algid: int) -> bytes:
    return struct.pack("<BBHI", blob_type, 2, 0, algid)


def _le(value: int, size: int) -> bytes:
    return value.to_bytes(size, "little")


def plaintext_blob(algid: int, key: bytes) -> bytes:
    return _header(PLAINTEXTKEYBLOB, algid) + struct.pack("<I", len(key)) + key


def rsa_private_blob(key: rsa.RSAPrivateKey, algid: int) -> bytes:
    n = key.private_numbers()
    bits = key.key_size
    body = struct.pack("<4sII", b"RSA2", bits, n.public_numbers.e)
    body += _le(n.public_numbers.n, bits // 8)
    for value in (n.p, n.q, n.dmp1, n.dmq1, n.iqmp):
        body += _le(value, bits // 16)
    body += _le(n.d, bits // 8)
    return _header(PRIVATEKEYBLOB, algid) + body


def rsa_public_blob(key: rsa.RSAPublicKey, algid: int) -> bytes:
    n = key.public_numbers()
    body = struct.pack("<4sII", b"RSA1", key.key_size, n.e) + _le(n.n, key.key_size // 8)
    return _header(PUBLICKEYBLOB, algid) + body


def dss_private_blob(key: dsa.DSAPrivateKey) -> bytes:
    n = key.private_numbers()
    p = n.public_numbers.parameter_numbers
    bits = key.key_size
    body = struct.pack("<4sI", b"DSS2", bits)
    body += _le(p.p, bits // 8) + _le(p.q, 20) + _le(p.g, bits // 8) + _le(n.x, 20)
    body += struct.pack("<I", 0xFFFFFFFF) + bytes(20)  # DSSSEED: "no counter or seed"
    return _header(PRIVATEKEYBLOB, win32cryptcon.CALG_DSS_SIGN) + body


# ---------------------------------------------------------------------------------------
# 1. Visual Pinball table exporter (pywin32): MD2 over the table's streams
@pytest.mark.parametrize(("message", "digest"), RFC1319_MD2)
def test_visual_pinball_exporter_md2(message: bytes, digest: str) -> None:
    # The exporter's calls, in its order and with its (default) arguments; the
    # hashed data arrive as several parts, some empty, as a table's streams do.
    crypt_context = win32crypt.CryptAcquireContext(
        None, None, win32cryptcon.PROV_RSA_FULL,
        win32cryptcon.CRYPT_VERIFYCONTEXT | win32cryptcon.CRYPT_NEWKEYSET)
    assert crypt_context is not None
    data_hash = crypt_context.CryptCreateHash(win32cryptcon.CALG_MD2)
    for part in _parts(message, (1, 0, 4, 16, 3)):
        data_hash.CryptHashData(part)
    hash_size = data_hash.CryptGetHashParam(win32cryptcon.HP_HASHSIZE)
    file_hash = data_hash.CryptGetHashParam(win32cryptcon.HP_HASHVAL)
    data_hash.CryptDestroyHash()
    crypt_context.CryptReleaseContext()
    assert hash_size == 16
    assert file_hash.hex() == digest


def test_visual_pinball_exporter_releases_everything() -> None:
    # After the exporter's CryptDestroyHash/CryptReleaseContext the handles are dead.
    crypt_context = win32crypt.CryptAcquireContext(
        None, None, win32cryptcon.PROV_RSA_FULL,
        win32cryptcon.CRYPT_VERIFYCONTEXT | win32cryptcon.CRYPT_NEWKEYSET)
    assert crypt_context is not None
    data_hash = crypt_context.CryptCreateHash(win32cryptcon.CALG_MD2)
    data_hash.CryptHashData(b"Visual Pinball")
    data_hash.CryptDestroyHash()
    crypt_context.CryptReleaseContext()
    with pytest.raises(pywintypes.error) as info:
        data_hash.CryptHashData(b"more")
    assert info.value.winerror == winerror.ERROR_INVALID_HANDLE
    with pytest.raises(pywintypes.error) as info:
        crypt_context.CryptCreateHash(win32cryptcon.CALG_MD2)
    assert info.value.winerror == winerror.NTE_BAD_UID  # CryptCreateHash's code for it


# ---------------------------------------------------------------------------------------
# 2. curl's CryptoAPI back ends (lib/md4.c, lib/md5.c, lib/curl_ntlm_core.c)
def _curl_digest(algid: int, prov_type: int, parts: list[bytes]) -> bytes:
    ctx = win32crypt.CryptAcquireContext(
        None, None, prov_type, win32cryptcon.CRYPT_VERIFYCONTEXT | win32cryptcon.CRYPT_SILENT)
    assert ctx is not None
    hash_ = ctx.CryptCreateHash(algid)
    for part in parts:
        hash_.CryptHashData(part)
    value: bytes = hash_.CryptGetHashParam(win32cryptcon.HP_HASHVAL)
    hash_.CryptDestroyHash()
    ctx.CryptReleaseContext()
    return value


@pytest.mark.parametrize(("message", "digest"), RFC1320_MD4)
def test_curl_md4(message: bytes, digest: str) -> None:
    assert _curl_digest(win32cryptcon.CALG_MD4, win32cryptcon.PROV_RSA_FULL,
                        _parts(message, (2, 7))).hex() == digest


def test_curl_ntlm_nt_hash() -> None:
    # curl's NTLM: MD4 of the UTF-16LE password (the "NT hash"); "password" has a
    # widely published NT hash.
    nt_hash = _curl_digest(win32cryptcon.CALG_MD4, win32cryptcon.PROV_RSA_FULL,
                           ["password".encode("utf-16-le")])
    assert nt_hash.hex() == "8846f7eaee8fb117ad06bdd830b7586c"


def test_curl_md5_and_sha256() -> None:
    data = bytes(range(256)) * 5
    assert _curl_digest(win32cryptcon.CALG_MD5, win32cryptcon.PROV_RSA_FULL,
                        _parts(data, (64, 1))) == hashlib.md5(data).digest()
    assert _curl_digest(win32cryptcon.CALG_SHA_256, win32cryptcon.PROV_RSA_AES,
                        _parts(data, (100,))) == hashlib.sha256(data).digest()


def _odd_parity(key: bytes) -> bytes:
    return bytes((b & 0xFE) | (1 - bin(b >> 1).count("1") % 2) for b in key)


def _extend_56_to_64(key7: bytes) -> bytes:
    bits = int.from_bytes(key7, "big")
    return bytes(((bits >> (49 - 7 * i)) & 0x7F) << 1 for i in range(8))


def _curl_encrypt_des(plain8: bytes, key7: bytes) -> bytes:
    hprov = win32crypt.CryptAcquireContext(
        None, None, win32cryptcon.PROV_RSA_FULL,
        win32cryptcon.CRYPT_VERIFYCONTEXT | win32cryptcon.CRYPT_SILENT)
    assert hprov is not None
    blob = plaintext_blob(win32cryptcon.CALG_DES, _odd_parity(_extend_56_to_64(key7)))
    hkey = hprov.CryptImportKey(blob)
    out: bytes = hkey.CryptEncrypt(False, plain8)  # Final=FALSE: one block, no padding
    hkey.CryptDestroyKey()
    hprov.CryptReleaseContext()
    return out


def test_curl_ntlm_lm_response() -> None:
    # Curl_ntlm_core_lm_resp: 21 key bytes = three DES keys over the 8-byte challenge.
    keys = bytes.fromhex("8846f7eaee8fb117ad06bdd830b7586c") + bytes(5)
    challenge = bytes.fromhex("0123456789abcdef")
    response = b"".join(_curl_encrypt_des(challenge, keys[i:i + 7]) for i in (0, 7, 14))
    expected = b""
    for i in (0, 7, 14):
        key = _odd_parity(_extend_56_to_64(keys[i:i + 7]))
        enc = Cipher(TripleDES(key * 3), modes.ECB()).encryptor()
        expected += enc.update(challenge) + enc.finalize()
    assert response == expected


# ---------------------------------------------------------------------------------------
# 3. hostap/wpa_supplicant's src/crypto/crypto_cryptoapi.c: des_encrypt, md4_vector
def test_hostap_des_encrypt_ecb() -> None:
    key = _odd_parity(os.urandom(8))
    clear = os.urandom(8)
    prov = win32crypt.CryptAcquireContext(None, win32cryptcon.MS_ENHANCED_PROV,
                                          win32cryptcon.PROV_RSA_FULL,
                                          win32cryptcon.CRYPT_VERIFYCONTEXT)
    assert prov is not None
    ckey = prov.CryptImportKey(plaintext_blob(win32cryptcon.CALG_DES, key), None, 0)
    ckey.CryptSetKeyParam(win32cryptcon.KP_MODE, win32cryptcon.CRYPT_MODE_ECB)
    cypher = ckey.CryptEncrypt(False, clear)
    ckey.CryptDestroyKey()
    prov.CryptReleaseContext(0)
    enc = Cipher(TripleDES(key * 3), modes.ECB()).encryptor()
    assert cypher == enc.update(clear) + enc.finalize()


def test_hostap_md4_vector() -> None:
    parts = [b"message", b" ", b"", b"digest"]
    prov = win32crypt.CryptAcquireContext(None, None, win32cryptcon.PROV_RSA_FULL,
                                          win32cryptcon.CRYPT_VERIFYCONTEXT)
    assert prov is not None
    hash_ = prov.CryptCreateHash(win32cryptcon.CALG_MD4, None, 0)
    for part in parts:
        hash_.CryptHashData(part, 0)
    mac = hash_.CryptGetHashParam(win32cryptcon.HP_HASHVAL, 0)
    hash_.CryptDestroyHash()
    prov.CryptReleaseContext(0)
    assert mac.hex() == "d9130a8164549fe818874806e1c7014b"


def _hostap_blob(algid: int, key: bytes) -> bytes:
    """hostap's key_blob: BLOBHEADER, len = the key's length, then a 32-byte key
    buffer, passed with sizeof(key_blob) whatever the key's length."""
    return plaintext_blob(algid, key) + bytes(32 - len(key))


def test_hostap_aes_ecb_blocks() -> None:
    # aes_encrypt_init/aes_encrypt/aes_decrypt: a 16-byte-buffer blob, ECB, one
    # block per CryptEncrypt(Final=FALSE) on the same key.
    key, blocks = os.urandom(16), [os.urandom(16) for _ in range(3)]
    prov = win32crypt.CryptAcquireContext(None, win32cryptcon.MS_ENH_RSA_AES_PROV,
                                          win32cryptcon.PROV_RSA_AES,
                                          win32cryptcon.CRYPT_VERIFYCONTEXT)
    assert prov is not None
    ckey = prov.CryptImportKey(plaintext_blob(win32cryptcon.CALG_AES_128, key), None, 0)
    ckey.CryptSetKeyParam(win32cryptcon.KP_MODE, win32cryptcon.CRYPT_MODE_ECB)
    crypts = [ckey.CryptEncrypt(False, block) for block in blocks]
    plains = [ckey.CryptDecrypt(False, crypt) for crypt in crypts]
    ckey.CryptDestroyKey()
    prov.CryptReleaseContext(0)
    enc = Cipher(algorithms.AES(key), modes.ECB()).encryptor()
    assert crypts == [enc.update(block) for block in blocks]
    assert plains == blocks


def _hostap_cipher(algid: int, key: bytes, iv: bytes | None, chunks: list[bytes],
                   *, decrypt: bool = False) -> list[bytes]:
    """crypto_cipher_init, crypto_cipher_encrypt/decrypt per chunk, deinit."""
    prov = win32crypt.CryptAcquireContext(None, win32cryptcon.MS_ENH_RSA_AES_PROV,
                                          win32cryptcon.PROV_RSA_AES,
                                          win32cryptcon.CRYPT_VERIFYCONTEXT)
    assert prov is not None
    ckey = prov.CryptImportKey(_hostap_blob(algid, key), None, 0)
    ckey.CryptSetKeyParam(win32cryptcon.KP_MODE, win32cryptcon.CRYPT_MODE_CBC)
    if iv:
        ckey.CryptSetKeyParam(win32cryptcon.KP_IV, iv)
    run = ckey.CryptDecrypt if decrypt else ckey.CryptEncrypt
    out = [bytes(run(False, chunk)) for chunk in chunks]
    ckey.CryptDestroyKey()
    prov.CryptReleaseContext(0)
    return out


@pytest.mark.parametrize(("algid", "key_len", "block"), [
    (win32cryptcon.CALG_AES_128, 16, 16), (win32cryptcon.CALG_AES_192, 24, 16),
    (win32cryptcon.CALG_AES_256, 32, 16), (win32cryptcon.CALG_3DES, 24, 8),
    (win32cryptcon.CALG_DES, 8, 8),
])
def test_hostap_cipher_cbc_stream(algid: int, key_len: int, block: int) -> None:
    # crypto_cipher_*: CBC with an IV, data in several whole-block calls with
    # Final=FALSE (no padding; the chain runs on across calls), the key in hostap's
    # 44-byte BLOB (16 bytes or more after the key for all but AES-256).
    key = _odd_parity(os.urandom(key_len)) if block == 8 else os.urandom(key_len)
    iv = os.urandom(block)
    chunks = [os.urandom(block * n) for n in (1, 3, 2)]
    crypts = _hostap_cipher(algid, key, iv, chunks)
    reference = algorithms.AES(key) if block == 16 else TripleDES(
        key if key_len == 24 else key * 3)
    enc = Cipher(reference, modes.CBC(iv)).encryptor()
    assert b"".join(crypts) == enc.update(b"".join(chunks)) + enc.finalize()
    assert _hostap_cipher(algid, key, iv, crypts, decrypt=True) == chunks


@pytest.mark.parametrize(("hash_algid", "digest"), [
    (win32cryptcon.CALG_SHA1, "sha1"), (win32cryptcon.CALG_MD5, "md5"),
])
def test_hostap_hmac(hash_algid: int, digest: str) -> None:
    # crypto_hash_init(HMAC_*): the user's default container (PROV_RSA_FULL, flags
    # 0), the HMAC key as an RC2 PLAINTEXTKEYBLOB with CRYPT_IPSEC_HMAC_KEY (keys
    # over 16 bytes), CryptCreateHash(CALG_HMAC, key), HP_HMAC_INFO with only
    # HashAlgid set, CryptHashData per update, HP_HASHVAL; the key destroyed.
    # hostap assumes the default container exists: the test makes it if missing.
    made = False
    try:
        win32crypt.CryptAcquireContext(None, None, win32cryptcon.PROV_RSA_FULL, 0)
    except pywintypes.error as error:
        assert error.winerror == winerror.NTE_BAD_KEYSET
        win32crypt.CryptAcquireContext(None, None, win32cryptcon.PROV_RSA_FULL,
                                       win32cryptcon.CRYPT_NEWKEYSET)
        made = True
    key, parts = os.urandom(20), [b"EAPOL", b"", os.urandom(99)]
    try:
        prov = win32crypt.CryptAcquireContext(None, None, win32cryptcon.PROV_RSA_FULL, 0)
        assert prov is not None
        hkey = prov.CryptImportKey(_hostap_blob(win32cryptcon.CALG_RC2, key), None,
                                   win32cryptcon.CRYPT_IPSEC_HMAC_KEY)
        hash_ = prov.CryptCreateHash(win32cryptcon.CALG_HMAC, hkey, 0)
        hash_.CryptSetHashParam(win32cryptcon.HP_HMAC_INFO, {"HashAlgid": hash_algid})
        for part in parts:
            hash_.CryptHashData(part, 0)
        mac = hash_.CryptGetHashParam(win32cryptcon.HP_HASHVAL, 0)
        hkey.CryptDestroyKey()
        prov.CryptReleaseContext(0)
    finally:
        if made:
            win32crypt.CryptAcquireContext(None, None, win32cryptcon.PROV_RSA_FULL,
                                           win32cryptcon.CRYPT_DELETEKEYSET)
    assert mac == hmac.new(key, b"".join(parts), digest).digest()


# ---------------------------------------------------------------------------------------
# 4. oscrypto's legacy CryptoAPI back end ("winlegacy"), oscrypto/_win/symmetric.py
_OSCRYPTO_AES = "Microsoft Enhanced RSA and AES Cryptographic Provider (Prototype)"
_OSCRYPTO_FULL = win32cryptcon.MS_ENHANCED_PROV


def _oscrypto_create_handles(cipher: str, key: bytes, iv: bytes | None
                             ) -> tuple[win32crypt.PyCRYPTPROV, win32crypt.PyCRYPTKEY]:
    if cipher == "aes":
        algid = {16: win32cryptcon.CALG_AES_128, 24: win32cryptcon.CALG_AES_192,
                 32: win32cryptcon.CALG_AES_256}[len(key)]
    else:
        algid = {"des": win32cryptcon.CALG_DES, "tripledes_2key": win32cryptcon.CALG_3DES_112,
                 "tripledes_3key": win32cryptcon.CALG_3DES, "rc2": win32cryptcon.CALG_RC2,
                 "rc4": win32cryptcon.CALG_RC4}[cipher]
    if cipher in ("rc2", "rc4") and len(key) < 16:
        provider, prov_type = _OSCRYPTO_FULL, win32cryptcon.PROV_RSA_FULL
    else:
        provider, prov_type = _OSCRYPTO_AES, win32cryptcon.PROV_RSA_AES
    context = win32crypt.CryptAcquireContext(None, provider, prov_type,
                                             win32cryptcon.CRYPT_VERIFYCONTEXT)
    assert context is not None
    flags = win32cryptcon.CRYPT_NO_SALT if cipher in ("rc2", "rc4") and len(key) == 5 else 0
    key_handle = context.CryptImportKey(plaintext_blob(algid, key), None, flags)
    if cipher != "rc4":
        key_handle.CryptSetKeyParam(win32cryptcon.KP_IV, iv)
        key_handle.CryptSetKeyParam(win32cryptcon.KP_MODE, win32cryptcon.CRYPT_MODE_CBC)
        key_handle.CryptSetKeyParam(win32cryptcon.KP_PADDING, win32cryptcon.PKCS5_PADDING)
    if cipher == "rc2":
        key_handle.CryptSetKeyParam(win32cryptcon.KP_EFFECTIVE_KEYLEN, len(key) * 8)
    return context, key_handle


def _oscrypto_encrypt(cipher: str, key: bytes, data: bytes, iv: bytes | None) -> bytes:
    context, key_handle = _oscrypto_create_handles(cipher, key, iv)
    try:
        return bytes(key_handle.CryptEncrypt(True, data))
    finally:
        key_handle.CryptDestroyKey()
        context.CryptReleaseContext(0)


def _oscrypto_decrypt(cipher: str, key: bytes, data: bytes, iv: bytes | None) -> bytes:
    context, key_handle = _oscrypto_create_handles(cipher, key, iv)
    try:
        return bytes(key_handle.CryptDecrypt(True, data))
    finally:
        key_handle.CryptDestroyKey()
        context.CryptReleaseContext(0)


def _cbc_pkcs7(algorithm: algorithms.AES | TripleDES | RC2, iv: bytes, data: bytes,
               block: int) -> bytes:
    padder = padding.PKCS7(block).padder()
    padded = padder.update(data) + padder.finalize()
    enc = Cipher(algorithm, modes.CBC(iv)).encryptor()
    return enc.update(padded) + enc.finalize()


@pytest.mark.parametrize(("cipher", "key_len"), [
    ("aes", 16), ("aes", 24), ("aes", 32), ("des", 8), ("tripledes_2key", 16),
    ("tripledes_3key", 24),
])
@pytest.mark.parametrize("data_len", [0, 15, 16, 100])
def test_oscrypto_symmetric_block_ciphers(cipher: str, key_len: int, data_len: int) -> None:
    key = os.urandom(key_len)
    if cipher != "aes":
        key = _odd_parity(key)
    block = 16 if cipher == "aes" else 8
    iv = os.urandom(block)
    data = os.urandom(data_len)
    if cipher == "aes":
        reference: algorithms.AES | TripleDES = algorithms.AES(key)
    else:
        reference = TripleDES({8: key * 3, 16: key + key[:8], 24: key}[key_len])
    expected = _cbc_pkcs7(reference, iv, data, block * 8)
    ciphertext = _oscrypto_encrypt(cipher, key, data, iv)
    assert ciphertext == expected
    assert _oscrypto_decrypt(cipher, key, ciphertext, iv) == data


SOFTOKN = next((p for p in ("/usr/lib/x86_64-linux-gnu/libsoftokn3.so",
                            "/usr/lib/aarch64-linux-gnu/libsoftokn3.so",
                            "/usr/lib64/libsoftokn3.so", "/usr/lib/libsoftokn3.so")
                if os.path.exists(p)), None)

# The RC2/RC4 cases: (cipher, key, iv, data).  RFC 2268's vector for an 8-byte RC2
# key (effective length 64 = the key's bits, as oscrypto sets it) is the first
# block of CBC with a zero IV.
_RC_KEY16 = bytes(range(16))
_RC_CASES = [
    ("rc2", bytes.fromhex("ffffffffffffffff"), bytes(8), bytes.fromhex("ffffffffffffffff")),
    ("rc2", _RC_KEY16, bytes(range(8)), bytes(range(37))),
    ("rc2", bytes.fromhex("0102030405"), bytes(8), bytes(range(20))),
    ("rc4", bytes.fromhex("0102030405"), None, bytes(300)),
    ("rc4", bytes.fromhex("0102030405060708"), None, bytes(range(200))),
    ("rc4", _RC_KEY16, None, bytes(range(256))),
]
_RC_RUNNER = """
import json
from tests import test_compat_programs as t

def case(run):
    try:
        ct, pt = run()
        return [ct.hex(), pt.hex()]
    except Exception as error:  # reported per case, so one failure spares the others
        return [None, repr(error)]

def oscrypto(cipher, key, iv, data):
    ct = t._oscrypto_encrypt(cipher, key, data, iv)
    return ct, t._oscrypto_decrypt(cipher, key, ct, iv)

def hostap_rc4():
    # hostap's crypto_cipher with RC4 (KP_MODE set on the stream key), in three calls
    ct = t._hostap_cipher(t.win32cryptcon.CALG_RC4, t._RC_KEY16, None, t._HOSTAP_RC4_CHUNKS)
    pt = t._hostap_cipher(t.win32cryptcon.CALG_RC4, t._RC_KEY16, None, ct, decrypt=True)
    return b"".join(ct), b"".join(pt)

out = [case(lambda c=c: oscrypto(*c)) for c in t._RC_CASES]
out.append(case(hostap_rc4))
print(json.dumps(out))
"""
_HOSTAP_RC4_CHUNKS = [bytes(range(10)), bytes(33), bytes(range(7))]


@pytest.fixture(scope="module")
def rc_results(tmp_path_factory: pytest.TempPathFactory) -> list[tuple[bytes, bytes]]:
    """oscrypto's RC2/RC4 calls (and hostap's RC4), run on NSS softokn in a process
    of their own: (ciphertext, decrypted) per case, or (b"", the error) for a case
    that raised.

    CSP11_TOKEN points csp11 at softokn, so the program's own calls (which name no
    token) reach a token with RC2 and RC4; a separate process because softokn can
    be loaded only once per process (tests/test_nss.py loads it with its own
    database)."""
    if SOFTOKN is None:
        pytest.skip("RC2/RC4 need NSS softokn (libnss3): SoftHSM2 has neither")
    db = tmp_path_factory.mktemp("nssdb-compat")
    init = f"configdir='sql:{db}' certPrefix='' keyPrefix='' secmod='secmod.db' flags=''"
    uri = ("pkcs11:token=NSS%20Generic%20Crypto%20Services"
           f"?module-path={SOFTOKN}&x-init-reserved={urllib.parse.quote(init, safe='')}")
    repo = str(Path(__file__).resolve().parent.parent)
    env = dict(os.environ, CSP11_TOKEN=uri,
               PYTHONPATH=repo + os.pathsep + os.environ.get("PYTHONPATH", ""))
    done = subprocess.run([sys.executable, "-c", _RC_RUNNER], env=env, capture_output=True,
                          text=True, timeout=300, check=False, stdin=subprocess.DEVNULL)
    assert done.returncode == 0, done.stderr
    results = json.loads(done.stdout)
    return [(bytes.fromhex(ct), bytes.fromhex(pt)) if ct is not None else (b"", pt.encode())
            for ct, pt in results]


def test_hostap_rc4_cipher(rc_results: list[tuple[bytes, bytes]]) -> None:
    # crypto_cipher_init(RC4): hostap sets KP_MODE (CBC) on the RC4 key too; the
    # keystream runs on across its three CryptEncrypt(Final=FALSE) calls.
    data = b"".join(_HOSTAP_RC4_CHUNKS)
    ciphertext, plain = rc_results[len(_RC_CASES)]
    enc = Cipher(ARC4(_RC_KEY16), mode=None).encryptor()
    assert ciphertext == enc.update(data) + enc.finalize()
    assert plain == data


@pytest.mark.parametrize("case", range(len(_RC_CASES)))
def test_oscrypto_symmetric_rc2_rc4(rc_results: list[tuple[bytes, bytes]], case: int) -> None:
    # 40-bit keys go to the Enhanced provider with CRYPT_NO_SALT; RC2's effective
    # key length is set to the key's length (KP_EFFECTIVE_KEYLEN).
    cipher, key, iv, data = _RC_CASES[case]
    ciphertext, plain = rc_results[case]
    assert plain == data
    if cipher == "rc4":
        enc = Cipher(ARC4(key), mode=None).encryptor()
        assert ciphertext == enc.update(data) + enc.finalize()
    elif len(key) == 16:
        assert ciphertext == _cbc_pkcs7(RC2(key), iv, data, 64)  # type: ignore[arg-type]
    elif len(key) == 8:
        assert ciphertext[:8].hex() == "278b27e42e2f0d49"  # RFC 2268, section 5
    else:
        # No published vector for a 40-bit RC2 key with a 40-bit effective length,
        # and `cryptography` takes only 128-bit RC2 keys: the round trip above and
        # the length (PKCS #5 padding to whole blocks) are what is checked here.
        assert len(ciphertext) == 24


# ---------------------------------------------------------------------------------------
# 5. oscrypto's winlegacy asymmetric back end, oscrypto/_win/asymmetric.py
_HASHES = {
    "md5": (win32cryptcon.CALG_MD5, hashes.MD5()),
    "sha1": (win32cryptcon.CALG_SHA1, hashes.SHA1()),
    "sha256": (win32cryptcon.CALG_SHA_256, hashes.SHA256()),
    "sha384": (win32cryptcon.CALG_SHA_384, hashes.SHA384()),
    "sha512": (win32cryptcon.CALG_SHA_512, hashes.SHA512()),
}


@pytest.fixture(scope="module")
def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(65537, 2048)


class _OscryptoKey:
    """oscrypto's PrivateKey/PublicKey of the winlegacy back end: a verify context
    holding the key imported twice, as CALG_RSA_SIGN (signing) and CALG_RSA_KEYX
    (``ex_key_handle``, encryption)."""

    def __init__(self, blob_of: bytes, ex_blob: bytes) -> None:
        context = win32crypt.CryptAcquireContext(None, _OSCRYPTO_AES,
                                                 win32cryptcon.PROV_RSA_AES,
                                                 win32cryptcon.CRYPT_VERIFYCONTEXT)
        assert context is not None
        self.context_handle = context
        self.key_handle = context.CryptImportKey(blob_of, None, 0)
        self.ex_key_handle = context.CryptImportKey(ex_blob, None, 0)

    def close(self) -> None:
        self.key_handle.CryptDestroyKey()
        self.ex_key_handle.CryptDestroyKey()
        self.context_handle.CryptReleaseContext(0)


def _load_private(key: rsa.RSAPrivateKey) -> _OscryptoKey:
    return _OscryptoKey(rsa_private_blob(key, win32cryptcon.CALG_RSA_SIGN),
                        rsa_private_blob(key, win32cryptcon.CALG_RSA_KEYX))


def _load_public(key: rsa.RSAPublicKey) -> _OscryptoKey:
    return _OscryptoKey(rsa_public_blob(key, win32cryptcon.CALG_RSA_SIGN),
                        rsa_public_blob(key, win32cryptcon.CALG_RSA_KEYX))


@pytest.mark.parametrize("hash_name", sorted(_HASHES))
def test_oscrypto_rsa_sign_and_verify(rsa_key: rsa.RSAPrivateKey, hash_name: str) -> None:
    algid, algorithm = _HASHES[hash_name]
    data = os.urandom(200)
    private = _load_private(rsa_key)
    try:
        hash_handle = private.context_handle.CryptCreateHash(algid, None, 0)
        hash_handle.CryptHashData(data, 0)
        signature = hash_handle.CryptSignHash(win32cryptcon.AT_SIGNATURE, 0)[::-1]
        hash_handle.CryptDestroyHash()
    finally:
        private.close()
    # PKCS#1 v1.5 is deterministic: byte for byte what any implementation signs.
    assert signature == rsa_key.sign(data, apad.PKCS1v15(), algorithm)

    # oscrypto's verify: a fresh hash, CryptVerifySignature of the reversed signature.
    tampered = bytes([signature[0] ^ 1]) + signature[1:]
    public = _load_public(rsa_key.public_key())
    try:
        for candidate, ok in ((signature, True), (tampered, False)):
            hash_handle = public.context_handle.CryptCreateHash(algid, None, 0)
            hash_handle.CryptHashData(data, 0)
            if ok:
                hash_handle.CryptVerifySignature(candidate[::-1], public.key_handle, 0)
            else:
                with pytest.raises(pywintypes.error) as info:
                    hash_handle.CryptVerifySignature(candidate[::-1], public.key_handle, 0)
                assert info.value.winerror == winerror.NTE_BAD_SIGNATURE
            hash_handle.CryptDestroyHash()
    finally:
        public.close()


@pytest.mark.parametrize("oaep", [True, False])
def test_oscrypto_rsa_decrypt(rsa_key: rsa.RSAPrivateKey, oaep: bool) -> None:
    message = os.urandom(48)
    scheme = (apad.OAEP(apad.MGF1(hashes.SHA1()), hashes.SHA1(), None) if oaep
              else apad.PKCS1v15())
    ciphertext = rsa_key.public_key().encrypt(message, scheme)
    private = _load_private(rsa_key)
    try:
        flags = win32cryptcon.CRYPT_OAEP if oaep else 0
        plain = private.ex_key_handle.CryptDecrypt(True, ciphertext[::-1], None, flags)
    finally:
        private.close()
    assert plain == message


@pytest.mark.parametrize("oaep", [True, False])
def test_oscrypto_rsa_encrypt(rsa_key: rsa.RSAPrivateKey, oaep: bool) -> None:
    message = os.urandom(48)
    public = _load_public(rsa_key.public_key())
    try:
        flags = win32cryptcon.CRYPT_OAEP if oaep else 0
        ciphertext = public.ex_key_handle.CryptEncrypt(True, message, None, flags)[::-1]
    finally:
        public.close()
    scheme = (apad.OAEP(apad.MGF1(hashes.SHA1()), hashes.SHA1(), None) if oaep
              else apad.PKCS1v15())
    assert rsa_key.decrypt(ciphertext, scheme) == message


def test_oscrypto_dsa_sign(tmp_path_factory: pytest.TempPathFactory) -> None:
    # DSA private keys go into a named container opened with CRYPT_NEWKEYSET on the
    # DSS/DH provider ("needs a container to allow importing private keys").
    key = dsa.generate_private_key(1024)
    data = os.urandom(64)
    name = "oscrypto-" + os.urandom(6).hex()
    context = win32crypt.CryptAcquireContext(name, win32cryptcon.MS_ENH_DSS_DH_PROV,
                                             win32cryptcon.PROV_DSS_DH,
                                             win32cryptcon.CRYPT_NEWKEYSET)
    assert context is not None
    try:
        key_handle = context.CryptImportKey(dss_private_blob(key), None, 0)
        hash_handle = context.CryptCreateHash(win32cryptcon.CALG_SHA1, None, 0)
        hash_handle.CryptHashData(data, 0)
        raw = hash_handle.CryptSignHash(win32cryptcon.AT_SIGNATURE, 0)[::-1]
        hash_handle.CryptDestroyHash()
        key_handle.CryptDestroyKey()
    finally:
        context.CryptReleaseContext(0)
        win32crypt.CryptAcquireContext(name, win32cryptcon.MS_ENH_DSS_DH_PROV,
                                       win32cryptcon.PROV_DSS_DH,
                                       win32cryptcon.CRYPT_DELETEKEYSET)
    # oscrypto: reversing the whole signature swapped r and s; swap back, DER-encode.
    s_le, r_le = raw[:20], raw[20:]
    der = encode_dss_signature(int.from_bytes(r_le, "big"), int.from_bytes(s_le, "big"))
    key.public_key().verify(der, data, hashes.SHA1())


# ---------------------------------------------------------------------------------------
# 6. Google Cloud SDK, googlecloudsdk/api_lib/compute/windows_encryption_utils.py
def test_gcloud_windows_password_reset_key() -> None:
    # GetKeyPair: a 2048-bit CALG_RSA_KEYX pair in a verify context of the Enhanced
    # provider; GetPublicKey: its PUBLICKEYBLOB; the server encrypts the new password
    # with RSA-OAEP to modulus/exponent; DecryptMessage: reverse, CRYPT_OAEP, destroy.
    crypt_provider = win32crypt.CryptAcquireContext(
        None, "Microsoft Enhanced Cryptographic Provider v1.0", win32cryptcon.PROV_RSA_FULL,
        win32cryptcon.CRYPT_VERIFYCONTEXT)
    assert crypt_provider is not None
    key = crypt_provider.CryptGenKey(win32cryptcon.CALG_RSA_KEYX, 2048 << 16)
    public_key = key.CryptExportKey(None, PUBLICKEYBLOB, 0)
    modulus = base64.b64encode(public_key[20:][::-1])
    exponent = base64.b64encode(public_key[16:20][::-1])

    # The server side (Compute Engine's agent), with `cryptography`.
    n = int.from_bytes(base64.b64decode(modulus), "big")
    e = int.from_bytes(base64.b64decode(exponent), "big")
    password = b"Tr0ub4dor&3-" + os.urandom(8).hex().encode()
    enc_message = base64.b64encode(rsa.RSAPublicNumbers(e, n).public_key().encrypt(
        password, apad.OAEP(apad.MGF1(hashes.SHA1()), hashes.SHA1(), None)))

    little_endian_message = base64.b64decode(enc_message)[::-1]
    message = key.CryptDecrypt(True, little_endian_message, None, win32cryptcon.CRYPT_OAEP)
    key.CryptDestroyKey()
    assert message == password
    assert e == 65537 and n.bit_length() == 2048
    # The program never releases its context; csp11 lets the key go with it.
    crypt_provider.CryptReleaseContext()


@pytest.mark.parametrize("algorithm", ["rsa", "dsa"])
def test_oscrypto_generate_pair(algorithm: str) -> None:
    # _advapi32_generate_pair: RSA in a verify context of the AES provider, DSA in a
    # named container made with CRYPT_NEWKEYSET; CryptGenKey(ALG, bits << 16 |
    # CRYPT_EXPORTABLE), then the PRIVATEKEYBLOB (and for DSA the PUBLICKEYBLOB).
    # oscrypto releases the context before it destroys the key and ignores what
    # that CryptDestroyKey returns; the replay ignores it too.
    name = "oscrypto-" + os.urandom(6).hex()
    if algorithm == "rsa":
        context = win32crypt.CryptAcquireContext(None, _OSCRYPTO_AES,
                                                 win32cryptcon.PROV_RSA_AES,
                                                 win32cryptcon.CRYPT_VERIFYCONTEXT)
        algid, bits = win32cryptcon.CALG_RSA_SIGN, 2048
    else:
        context = win32crypt.CryptAcquireContext(name, win32cryptcon.MS_ENH_DSS_DH_PROV,
                                                 win32cryptcon.PROV_DSS_DH,
                                                 win32cryptcon.CRYPT_NEWKEYSET)
        algid, bits = win32cryptcon.CALG_DSS_SIGN, 1024
    assert context is not None
    key_handle = context.CryptGenKey(algid, (bits << 16) | win32cryptcon.CRYPT_EXPORTABLE)
    private_blob = key_handle.CryptExportKey(None, PRIVATEKEYBLOB, 0)
    public_blob = key_handle.CryptExportKey(None, PUBLICKEYBLOB, 0)
    context.CryptReleaseContext(0)
    with contextlib.suppress(pywintypes.error):  # oscrypto does not look at this result
        key_handle.CryptDestroyKey()
    if algorithm == "dsa":
        win32crypt.CryptAcquireContext(name, win32cryptcon.MS_ENH_DSS_DH_PROV,
                                       win32cryptcon.PROV_DSS_DH,
                                       win32cryptcon.CRYPT_DELETEKEYSET)

    # What oscrypto then reads out of the BLOBs, checked with plain arithmetic.
    header = struct.unpack("<BBHI", private_blob[:8])
    assert header == (PRIVATEKEYBLOB, 2, 0, algid)
    body = private_blob[8:]
    if algorithm == "rsa":
        magic, bitlen, e = struct.unpack("<4sII", private_blob[8:20])
        assert (magic, bitlen, e) == (b"RSA2", bits, 65537)
        fields = [bits // 8] + [bits // 16] * 5 + [bits // 8]
        values, at = [], 20
        for size in fields:
            values.append(int.from_bytes(private_blob[at:at + size], "little"))
            at += size
        n, p, q, dp, dq, qinv, d = values
        assert at == len(private_blob) and n == p * q and n.bit_length() == bits
        assert (e * d) % ((p - 1) * (q - 1) // _gcd(p - 1, q - 1)) == 1
        assert dp == d % (p - 1) and dq == d % (q - 1) and (qinv * q) % p == 1
        private = rsa.RSAPrivateNumbers(p, q, d, dp, dq, qinv,
                                        rsa.RSAPublicNumbers(e, n)).private_key()
        assert public_blob[20:] == private_blob[20:20 + bits // 8]
        signature = private.sign(b"oscrypto", apad.PKCS1v15(), hashes.SHA256())
        private.public_key().verify(signature, b"oscrypto", apad.PKCS1v15(), hashes.SHA256())
    else:
        magic, bitlen = struct.unpack("<4sI", body[:8])
        assert (magic, bitlen) == (b"DSS2", bits)
        p = int.from_bytes(body[8:136], "little")
        q = int.from_bytes(body[136:156], "little")
        g = int.from_bytes(body[156:284], "little")
        x = int.from_bytes(body[284:304], "little")
        y_at = 8 + 8 + 128 + 20 + 128  # BLOBHEADER, DSSPUBKEY, p, q, g
        y = int.from_bytes(public_blob[y_at:y_at + 128], "little")
        assert p.bit_length() == bits and (p - 1) % q == 0 and 0 < x < q
        assert pow(g, q, p) == 1 and pow(g, x, p) == y


def _gcd(a: int, b: int) -> int:
    while b:
        a, b = b, a % b
    return a


def test_pywin32_argument_forms() -> None:
    # pywin32's CryptGenKey requires Flags ("Ik|k"): a program that omits it gets a
    # TypeError on Windows, and the same here; the other defaults are pywin32's.
    prov = win32crypt.CryptAcquireContext(None, None, win32cryptcon.PROV_RSA_AES,
                                          win32cryptcon.CRYPT_VERIFYCONTEXT)
    assert prov is not None
    with pytest.raises(TypeError):
        prov.CryptGenKey(win32cryptcon.CALG_AES_128)  # type: ignore[call-arg]
    key = prov.CryptGenKey(win32cryptcon.CALG_AES_128, 0)
    ciphertext = key.CryptEncrypt(True, b"data")
    assert key.CryptDecrypt(True, ciphertext) == b"data"
    duplicate = key.CryptDuplicateKey()
    assert duplicate.CryptGetKeyParam(win32cryptcon.KP_ALGID) == win32cryptcon.CALG_AES_128
    hash_ = prov.CryptCreateHash(win32cryptcon.CALG_SHA1)
    hash_.CryptHashData(b"abc")
    assert hash_.CryptDuplicateHash().CryptGetHashParam(win32cryptcon.HP_HASHVAL) == (
        hashlib.sha1(b"abc").digest())
    prov.CryptReleaseContext()


# ---------------------------------------------------------------------------------------
# 7. .NET's RSACryptoServiceProvider (ephemeral key), CapiHelper.Windows.cs
_DOTNET_HASHES = {
    "SHA1": (win32cryptcon.CALG_SHA1, hashes.SHA1(), hashlib.sha1),
    "SHA256": (win32cryptcon.CALG_SHA_256, hashes.SHA256(), hashlib.sha256),
    "SHA512": (win32cryptcon.CALG_SHA_512, hashes.SHA512(), hashlib.sha512),
}


def _dotnet_hash_handle(prov: win32crypt.PyCRYPTPROV, calg_hash: int,
                        value: bytes) -> win32crypt.PyCRYPTHASH:
    """CreateHashHandle: a hash object holding a hash value computed elsewhere."""
    hash_ = prov.CryptCreateHash(calg_hash, None, 0)
    if hash_.CryptGetHashParam(win32cryptcon.HP_HASHSIZE, 0) != len(value):
        raise AssertionError("NTE_BAD_HASH")  # what .NET throws here
    hash_.CryptSetHashParam(win32cryptcon.HP_HASHVAL, value, 0)
    return hash_


@pytest.mark.parametrize("name", sorted(_DOTNET_HASHES))
def test_dotnet_rsacryptoserviceprovider(rsa_key: rsa.RSAPrivateKey, name: str) -> None:
    # new RSACryptoServiceProvider() + ImportParameters(private) + SignHash/VerifyHash
    # + ExportParameters(true): CreateCSP of a random (ephemeral) key container,
    # CRYPT_NEWKEYSET | CRYPT_VERIFYCONTEXT on the AES provider; the key as a
    # PRIVATEKEYBLOB of KeyNumber.Exchange (CALG_RSA_KEYX) imported with
    # CRYPT_EXPORTABLE; SignValue: a hash object given the hash with HP_HASHVAL
    # (its HP_HASHSIZE checked first), CryptSignHash(AT_KEYEXCHANGE), reversed.
    calg_hash, algorithm, digest = _DOTNET_HASHES[name]
    data = os.urandom(77)
    value = digest(data).digest()
    blob = rsa_private_blob(rsa_key, win32cryptcon.CALG_RSA_KEYX)
    prov = win32crypt.CryptAcquireContext(
        None, win32cryptcon.MS_ENH_RSA_AES_PROV, win32cryptcon.PROV_RSA_AES,
        win32cryptcon.CRYPT_NEWKEYSET | win32cryptcon.CRYPT_VERIFYCONTEXT)
    assert prov is not None
    hkey = prov.CryptImportKey(blob, None, win32cryptcon.CRYPT_EXPORTABLE)
    hash_ = _dotnet_hash_handle(prov, calg_hash, value)
    signature = hash_.CryptSignHash(win32cryptcon.AT_KEYEXCHANGE, 0)[::-1]
    hash_.CryptDestroyHash()
    verify = _dotnet_hash_handle(prov, calg_hash, value)
    verify.CryptVerifySignature(signature[::-1], hkey, 0)
    verify.CryptDestroyHash()
    exported = hkey.CryptExportKey(None, PRIVATEKEYBLOB, 0)
    hkey.CryptDestroyKey()
    prov.CryptReleaseContext(0)
    assert signature == rsa_key.sign(data, apad.PKCS1v15(), algorithm)
    assert exported == blob  # WINDOWS-FACTS: round trips are exact
