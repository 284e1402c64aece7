"""CryptDeriveKey: Windows known answers, the key material rule (computed here
with ``hashlib``), permissions, lengths and errors.

The rule (WINDOWS-FACTS, "CryptDeriveKey"): the key is the first *n* bytes of
the hash value; for 3DES and AES with a hash that is not SHA-2 the value is
first expanded to H(0x36*64 xor value) || H(0x5C*64 xor value).
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterator
from typing import Any

import pytest
from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
from cryptography.hazmat.primitives import padding as sympadding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from csp11 import pywintypes
from csp11 import win32cryptcon as con
from csp11.formats.blobs import PlaintextKeyBlob, parse_key_blob
from csp11.win32crypt import PyCRYPTHASH, PyCRYPTKEY, PyCRYPTPROV

from .conftest import REPO
from .helpers import code_name as _code
from .helpers import verify_context as _ctx

_VECTORS = REPO / "tests" / "data" / "windows-kat.json"
HASHES = {con.CALG_MD5: "md5", con.CALG_SHA1: "sha1", con.CALG_SHA_256: "sha256",
          con.CALG_SHA_384: "sha384", con.CALG_SHA_512: "sha512"}
SHA2 = (con.CALG_SHA_256, con.CALG_SHA_384, con.CALG_SHA_512)
AES = (con.CALG_AES_128, con.CALG_AES_192, con.CALG_AES_256)
SESSION = (con.CALG_DES, con.CALG_3DES_112, con.CALG_3DES, *AES)
SIZES = {con.CALG_DES: 8, con.CALG_3DES_112: 16, con.CALG_3DES: 24,
         con.CALG_AES_128: 16, con.CALG_AES_192: 24, con.CALG_AES_256: 32}
KEYLEN = {con.CALG_DES: 64, con.CALG_3DES_112: 128, con.CALG_3DES: 192,
          con.CALG_AES_128: 128, con.CALG_AES_192: 192, con.CALG_AES_256: 256}
NAMES = {con.CALG_MD5: "MD5", con.CALG_SHA1: "SHA1", con.CALG_SHA_256: "SHA256",
         con.CALG_SHA_384: "SHA384", con.CALG_SHA_512: "SHA512", con.CALG_DES: "DES",
         con.CALG_3DES_112: "3DES_112", con.CALG_3DES: "3DES", con.CALG_AES_128: "AES_128",
         con.CALG_AES_192: "AES_192", con.CALG_AES_256: "AES_256"}


# ---- helpers ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def ctx() -> Iterator[PyCRYPTPROV]:
    with _ctx() as context:
        yield context


def _kat() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(_VECTORS.read_text())
    return data


def _rows() -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = json.loads(_VECTORS.read_text())["derive_rows"]
    return rows


def _hash(ctx: PyCRYPTPROV, algid: int, data: bytes) -> PyCRYPTHASH:
    h = ctx.CryptCreateHash(algid, None)
    h.CryptHashData(data)
    return h


def _expected(alg: int, hash_algid: int, value: bytes) -> bytes:
    """The key bytes Windows derives from a hash ``value`` (computed with hashlib)."""
    name = HASHES[hash_algid]
    if alg in (con.CALG_3DES, *AES) and hash_algid not in SHA2:
        padded = value.ljust(64, b"\0")
        inner = bytes(0x36 ^ b for b in padded)
        outer = bytes(0x5C ^ b for b in padded)
        value = hashlib.new(name, inner).digest() + hashlib.new(name, outer).digest()
    return value[: SIZES[alg]]


def _material(key: PyCRYPTKEY) -> bytes:
    blob = parse_key_blob(key.CryptExportKey(None, con.PLAINTEXTKEYBLOB))
    assert isinstance(blob, PlaintextKeyBlob)
    return blob.key


def _ref_cbc(alg: int, material: bytes, data: bytes) -> bytes:
    """CBC, zero IV, PKCS #5 — CryptEncrypt's defaults — in cryptography."""
    if alg in AES:
        algorithm: Any = algorithms.AES(material)
        block = 16
    else:
        algorithm = TripleDES((material * 3)[:24] if len(material) == 8 else
                              (material + material[:8])[:24])
        block = 8
    padder = sympadding.PKCS7(block * 8).padder()
    enc = Cipher(algorithm, modes.CBC(bytes(block))).encryptor()
    return enc.update(padder.update(data) + padder.finalize()) + enc.finalize()


# ---- Windows known answers -------------------------------------------------------------------
@pytest.mark.parametrize("read_value_first", [False, True], ids=["open", "finished"])
@pytest.mark.parametrize("row", _rows(), ids=lambda row: f"row{row['row']}")
def test_windows_derive_rows(prov: PyCRYPTPROV, row: dict[str, Any],
                             read_value_first: bool) -> None:
    alg, hash_algid = getattr(con, row["alg"]), getattr(con, row["hash"])
    data = bytes((j + row["row"]) & 0xFF for j in range(512))
    with _hash(prov, hash_algid, data) as h:
        if read_value_first:  # any hash state is accepted, finished included
            assert h.CryptGetHashParam(con.HP_HASHVAL) == bytes.fromhex(row["hash_value"])
        with prov.CryptDeriveKey(alg, h, 0) as key:
            assert h.CryptGetHashParam(con.HP_HASHVAL) == bytes.fromhex(row["hash_value"])
            assert row["plaintext_first4_final"] is True
            out = key.CryptEncrypt(True, data[:4])
            assert out == bytes.fromhex(row["ciphertext"])
            assert key.CryptDecrypt(True, out) == data[:4]
            expected = _expected(alg, hash_algid, bytes.fromhex(row["hash_value"]))
            assert out == _ref_cbc(alg, expected, data[:4])


def test_the_vector_file_has_derive_rows() -> None:
    rows = _kat()["derive_rows"]
    assert len(rows) == len(_rows()) >= 6
    assert {row["alg"] for row in rows} >= {"CALG_DES", "CALG_3DES_112", "CALG_3DES",
                                            "CALG_AES_128"}


# ---- the key material rule ---------------------------------------------------------------------
@pytest.mark.parametrize("hash_algid", HASHES, ids=NAMES.get)
@pytest.mark.parametrize("alg", SESSION, ids=NAMES.get)
def test_exportable_key_material_follows_the_rule(
    ctx: PyCRYPTPROV, alg: int, hash_algid: int
) -> None:
    data = os.urandom(37)
    value = hashlib.new(HASHES[hash_algid], data).digest()
    with _hash(ctx, hash_algid, data) as h, \
            ctx.CryptDeriveKey(alg, h, con.CRYPT_EXPORTABLE) as key:
        assert key.CryptGetKeyParam(con.KP_ALGID) == alg
        assert key.CryptGetKeyParam(con.KP_KEYLEN) == KEYLEN[alg]
        assert key.CryptGetKeyParam(con.KP_PERMISSIONS) == 0x3F
        assert key.CryptGetKeyParam(con.KP_MODE) == con.CRYPT_MODE_CBC
        assert key.CryptGetKeyParam(con.KP_IV) == bytes(16 if alg in AES else 8)
        plain = key.CryptExportKey(None, con.PLAINTEXTKEYBLOB)
        expected = _expected(alg, hash_algid, value)
        assert plain == PlaintextKeyBlob(alg, expected).to_bytes()
        assert key.CryptEncrypt(True, data) == _ref_cbc(alg, expected, data)


@pytest.mark.parametrize("alg", SESSION, ids=NAMES.get)
def test_non_exportable_key_stays_and_still_follows_the_rule(ctx: PyCRYPTPROV, alg: int) -> None:
    data = b"password"
    with _hash(ctx, con.CALG_SHA1, data) as h, ctx.CryptDeriveKey(alg, h, 0) as key:
        assert key.CryptGetKeyParam(con.KP_PERMISSIONS) == 0x3B
        with pytest.raises(pywintypes.error) as exc:
            key.CryptExportKey(None, con.PLAINTEXTKEYBLOB)
        assert _code(exc) == "NTE_BAD_KEY_STATE"
        key._state.permissions |= con.CRYPT_EXPORT  # csp11 steps aside: the token says no
        with pytest.raises(pywintypes.error) as exc:
            key.CryptExportKey(None, con.PLAINTEXTKEYBLOB)
        assert exc.value.ckr == "CKR_KEY_UNEXTRACTABLE"
        # The material is right all the same: cryptography with the expected bytes agrees.
        expected = _expected(alg, con.CALG_SHA1, hashlib.sha1(data).digest())
        assert key.CryptEncrypt(True, b"0123456789") == _ref_cbc(alg, expected, b"0123456789")


def test_expansion_is_not_truncation(ctx: PyCRYPTPROV) -> None:
    """AES-128 from SHA-1: 16 of 20 bytes would do, but Windows expands anyway."""
    with _hash(ctx, con.CALG_SHA1, b"x") as h, \
            ctx.CryptDeriveKey(con.CALG_AES_128, h, con.CRYPT_EXPORTABLE) as key:
        material = _material(key)
    value = hashlib.sha1(b"x").digest()
    assert material != value[:16]
    assert material == _expected(con.CALG_AES_128, con.CALG_SHA1, value)
    # ... and 3DES_112 from MD5 (16 of 16) is never expanded.
    with _hash(ctx, con.CALG_MD5, b"x") as h, \
            ctx.CryptDeriveKey(con.CALG_3DES_112, h, con.CRYPT_EXPORTABLE) as key:
        assert _material(key) == hashlib.md5(b"x").digest()


def test_any_hash_state_is_accepted(ctx: PyCRYPTPROV) -> None:
    value = bytes(range(20))
    with ctx.CryptCreateHash(con.CALG_SHA1, None) as h:
        h.CryptSetHashParam(con.HP_HASHVAL, value)  # a value set by the caller
        with ctx.CryptDeriveKey(con.CALG_DES, h, con.CRYPT_EXPORTABLE) as key:
            assert _material(key) == value[:8]
        # Deriving again from the same hash gives the same key.
        with ctx.CryptDeriveKey(con.CALG_3DES, h, con.CRYPT_EXPORTABLE) as a, \
                ctx.CryptDeriveKey(con.CALG_3DES, h, con.CRYPT_EXPORTABLE) as b:
            assert _material(a) == _material(b) == _expected(con.CALG_3DES, con.CALG_SHA1, value)
    # No data: the hash of the empty message.
    with ctx.CryptCreateHash(con.CALG_SHA_256, None) as h, \
            ctx.CryptDeriveKey(con.CALG_AES_256, h, con.CRYPT_EXPORTABLE) as key:
        assert _material(key) == hashlib.sha256().digest()


def test_hash_is_finished_afterwards(ctx: PyCRYPTPROV) -> None:
    with _hash(ctx, con.CALG_SHA_256, b"abc") as h:
        with ctx.CryptDeriveKey(con.CALG_AES_128, h, 0):
            pass
        with pytest.raises(pywintypes.error) as exc:
            h.CryptHashData(b"more")
        assert (_code(exc), exc.value.funcname) == ("NTE_BAD_HASH_STATE", "CryptHashData")
        with ctx.CryptGenKey(con.CALG_AES_128, con.CRYPT_EXPORTABLE) as other:
            with pytest.raises(pywintypes.error) as exc:
                h.CryptHashSessionKey(other)
            assert _code(exc) == "NTE_BAD_HASH_STATE"
        assert h.CryptGetHashParam(con.HP_HASHVAL) == hashlib.sha256(b"abc").digest()


# ---- lengths -------------------------------------------------------------------------------------
@pytest.mark.parametrize(("alg", "bits"), [
    (con.CALG_AES_128, 128), (con.CALG_AES_192, 192), (con.CALG_AES_256, 256),
    (con.CALG_DES, 56), (con.CALG_DES, 64), (con.CALG_3DES_112, 112), (con.CALG_3DES_112, 128),
    (con.CALG_3DES, 168), (con.CALG_3DES, 192),
])
def test_length_in_the_upper_bits(ctx: PyCRYPTPROV, alg: int, bits: int) -> None:
    value = hashlib.sha512(b"length").digest()
    with _hash(ctx, con.CALG_SHA_512, b"length") as h, \
            ctx.CryptDeriveKey(alg, h, (bits << 16) | con.CRYPT_EXPORTABLE) as key:
        assert key.CryptGetKeyParam(con.KP_KEYLEN) == KEYLEN[alg]
        assert _material(key) == value[: SIZES[alg]]


@pytest.mark.parametrize(("alg", "bits"), [
    (con.CALG_3DES, 128), (con.CALG_3DES, 112), (con.CALG_3DES, 256),
    (con.CALG_AES_128, 192), (con.CALG_AES_256, 128), (con.CALG_DES, 128),
    (con.CALG_3DES_112, 168),
])
def test_wrong_length_is_invalid_parameter(ctx: PyCRYPTPROV, alg: int, bits: int) -> None:
    with _hash(ctx, con.CALG_SHA_512, b"length") as h:
        with pytest.raises(pywintypes.error) as exc:
            ctx.CryptDeriveKey(alg, h, bits << 16)
        assert (_code(exc), exc.value.funcname) == ("ERROR_INVALID_PARAMETER", "CryptDeriveKey")
        h.CryptHashData(b" still open")  # the refusal did not finish the hash
        assert h.CryptGetHashParam(con.HP_HASHVAL) == \
            hashlib.sha512(b"length still open").digest()


# ---- errors --------------------------------------------------------------------------------------
@pytest.mark.parametrize("alg", [con.CALG_RSA_KEYX, con.CALG_RSA_SIGN, con.CALG_AES,
                                 con.CALG_DSS_SIGN, con.CALG_SHA1, con.CALG_HMAC, 0x6699, 0])
def test_algorithms_that_cannot_be_derived(ctx: PyCRYPTPROV, alg: int) -> None:
    with _hash(ctx, con.CALG_SHA_256, b"x") as h:
        with pytest.raises(pywintypes.error) as exc:
            ctx.CryptDeriveKey(alg, h, 0)
        assert (_code(exc), exc.value.funcname) == ("NTE_BAD_ALGID", "CryptDeriveKey")


def test_base_provider_has_no_aes_to_derive() -> None:
    with _ctx(con.PROV_RSA_FULL) as full, _hash(full, con.CALG_SHA1, b"x") as h:
        with pytest.raises(pywintypes.error) as exc:
            full.CryptDeriveKey(con.CALG_AES_128, h, 0)
        assert _code(exc) == "NTE_BAD_ALGID"
        with full.CryptDeriveKey(con.CALG_3DES, h, con.CRYPT_EXPORTABLE) as key:
            assert _material(key) == _expected(con.CALG_3DES, con.CALG_SHA1,
                                               hashlib.sha1(b"x").digest())


def test_derive_argument_errors(ctx: PyCRYPTPROV) -> None:
    with _hash(ctx, con.CALG_SHA1, b"x") as h:
        for bits in (con.CRYPT_USER_PROTECTED, 0x8000, 0x2000):
            with pytest.raises(pywintypes.error) as exc:
                ctx.CryptDeriveKey(con.CALG_AES_128, h, bits)
            assert _code(exc) == "NTE_BAD_FLAGS", hex(bits)
        with pytest.raises(TypeError):
            ctx.CryptDeriveKey(con.CALG_AES_128, b"not a hash", 0)  # type: ignore[arg-type]
    h.CryptDestroyHash()
    with pytest.raises(pywintypes.error) as exc:
        ctx.CryptDeriveKey(con.CALG_AES_128, h, 0)
    assert (_code(exc), exc.value.funcname) == ("ERROR_INVALID_HANDLE", "CryptDeriveKey")
    other = _ctx()
    with _hash(other, con.CALG_SHA1, b"x") as h2:
        other.CryptReleaseContext()
        with pytest.raises(pywintypes.error) as exc:
            other.CryptDeriveKey(con.CALG_AES_128, h2, 0)
        assert _code(exc) == "NTE_BAD_UID"


def test_derived_keys_work_both_ways_with_a_peer(ctx: PyCRYPTPROV) -> None:
    """Two parties hashing the same password get the same key."""
    with _ctx() as peer, _hash(ctx, con.CALG_SHA_256, b"shared secret") as h1, \
            _hash(peer, con.CALG_SHA_256, b"shared secret") as h2, \
            ctx.CryptDeriveKey(con.CALG_AES_256, h1, 0) as mine, \
            peer.CryptDeriveKey(con.CALG_AES_256, h2, 0) as theirs:
        out = mine.CryptEncrypt(True, b"hello, peer")
        assert theirs.CryptDecrypt(True, out) == b"hello, peer"
