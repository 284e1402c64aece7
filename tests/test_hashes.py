"""PyCRYPTHASH on the token: digests, HMAC, CALG_MAC, CryptDuplicateHash,
CryptHashSessionKey and the HP_* parameters.

Known answers come from Windows (``windows-kat.json``), RFC 2202 / RFC 4231
and RFC 1320; everything else is cross-checked with ``hashlib``, ``hmac`` and
``cryptography`` — implementations independent of the token.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
from cryptography.hazmat.primitives import padding as sympadding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from hypothesis import given, settings
from hypothesis import strategies as st

from csp11 import pywintypes
from csp11 import win32cryptcon as con
from csp11.formats.blobs import PlaintextKeyBlob, parse_key_blob
from csp11.win32crypt import PyCRYPTHASH, PyCRYPTKEY, PyCRYPTPROV

from .conftest import REPO, run_python
from .helpers import code_name as _code
from .helpers import enumerated
from .helpers import token_objects as _objects
from .helpers import verify_context as _ctx

_VECTORS = REPO / "tests" / "data" / "windows-kat.json"
P2048 = bytes(i & 0xFF for i in range(2048))
DIGESTS = {con.CALG_MD5: "md5", con.CALG_SHA1: "sha1", con.CALG_SHA_256: "sha256",
           con.CALG_SHA_384: "sha384", con.CALG_SHA_512: "sha512"}
SHA2 = (con.CALG_SHA_256, con.CALG_SHA_384, con.CALG_SHA_512)
AES = (con.CALG_AES_128, con.CALG_AES_192, con.CALG_AES_256)
SIZES = {con.CALG_DES: 8, con.CALG_3DES_112: 16, con.CALG_3DES: 24,
         con.CALG_AES_128: 16, con.CALG_AES_192: 24, con.CALG_AES_256: 32}
NAMES = {**{alg: name.upper() for alg, name in DIGESTS.items()},
         con.CALG_DES: "DES", con.CALG_3DES_112: "3DES_112", con.CALG_3DES: "3DES",
         con.CALG_AES_128: "AES_128", con.CALG_AES_192: "AES_192", con.CALG_AES_256: "AES_256"}


# ---- helpers ------------------------------------------------------------------------------
def _kat() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(_VECTORS.read_text())
    return data


def _value(prov: PyCRYPTPROV, algid: int, *chunks: bytes, key: PyCRYPTKEY | None = None,
           hmac_info: object = None) -> bytes:
    with prov.CryptCreateHash(algid, key) as h:
        if hmac_info is not None:
            h.CryptSetHashParam(con.HP_HMAC_INFO, hmac_info)
        for chunk in chunks:
            h.CryptHashData(chunk)
        value = h.CryptGetHashParam(con.HP_HASHVAL)
        assert isinstance(value, bytes)
        return value


def _hmac_key(prov: PyCRYPTPROV, material: bytes, flag_bits: int = 0) -> PyCRYPTKEY:
    """An HMAC key as Windows imports one: a CALG_RC2 PLAINTEXTKEYBLOB, any length."""
    blob = PlaintextKeyBlob(con.CALG_RC2, material).to_bytes()
    return prov.CryptImportKey(blob, None, con.CRYPT_IPSEC_HMAC_KEY | flag_bits)


def _material(key: PyCRYPTKEY) -> bytes:
    blob = parse_key_blob(key.CryptExportKey(None, con.PLAINTEXTKEYBLOB))
    assert isinstance(blob, PlaintextKeyBlob)
    return blob.key


def _cbc_mac(alg: int, material: bytes, iv: bytes, data: bytes) -> bytes:
    """CBC-MAC as CryptoAPI's CALG_MAC: the last block of CBC over PKCS #5-padded data."""
    block = 16 if alg in AES else 8
    if alg in AES:
        algorithm: Any = algorithms.AES(material)
    else:
        algorithm = TripleDES((material * 3)[:24] if len(material) == 8 else
                              (material + material[:8])[:24])
    padder = sympadding.PKCS7(block * 8).padder()
    enc = Cipher(algorithm, modes.CBC(iv)).encryptor()
    out = enc.update(padder.update(data) + padder.finalize()) + enc.finalize()
    return out[-block:]


@pytest.fixture(scope="module")
def ctx() -> Iterator[PyCRYPTPROV]:
    with _ctx() as context:
        yield context


# ---- plain digests -------------------------------------------------------------------------
@pytest.mark.parametrize("algid", DIGESTS, ids=NAMES.get)
def test_windows_known_answers_p2048(prov: PyCRYPTPROV, algid: int) -> None:
    expected = bytes.fromhex(_kat()["hashes_P2048"][DIGESTS[algid]])
    assert _value(prov, algid, P2048) == expected
    # The same in uneven pieces.
    assert _value(prov, algid, P2048[:1], P2048[1:100], b"", P2048[100:1500], P2048[1500:]) \
        == expected
    assert expected == hashlib.new(DIGESTS[algid], P2048).digest()


@pytest.mark.parametrize("algid", DIGESTS, ids=NAMES.get)
def test_hash_parameters(prov: PyCRYPTPROV, algid: int) -> None:
    name = DIGESTS[algid]
    with prov.CryptCreateHash(algid, None) as h:
        assert h.CryptGetHashParam(con.HP_ALGID) == algid
        assert h.CryptGetHashParam(con.HP_HASHSIZE) == hashlib.new(name).digest_size
        h.CryptHashData(b"abc")
        value = h.CryptGetHashParam(con.HP_HASHVAL)
        assert value == hashlib.new(name, b"abc").digest()
        assert h.CryptGetHashParam(con.HP_HASHVAL) == value  # reading again: the same
        assert h.CryptGetHashParam(con.HP_HASHSIZE) == len(value)
        assert h.CryptGetHashParam(con.HP_ALGID) == algid


@pytest.mark.parametrize("algid", DIGESTS, ids=NAMES.get)
def test_empty_hash_is_the_hash_of_nothing(prov: PyCRYPTPROV, algid: int) -> None:
    assert _value(prov, algid) == hashlib.new(DIGESTS[algid]).digest()


def test_data_after_the_value_is_bad_hash_state(prov: PyCRYPTPROV) -> None:
    with prov.CryptCreateHash(con.CALG_SHA1, None) as h, \
            prov.CryptGenKey(con.CALG_AES_128, con.CRYPT_EXPORTABLE) as key:
        h.CryptHashData(b"abc")
        value = h.CryptGetHashParam(con.HP_HASHVAL)
        calls: list[Callable[[], None]] = [
            lambda: h.CryptHashData(b"more"),
            lambda: h.CryptHashSessionKey(key),
            lambda: h.CryptHashSessionKey(key, con.CRYPT_LITTLE_ENDIAN),
        ]
        for call in calls:
            with pytest.raises(pywintypes.error) as exc:
                call()
            assert _code(exc) == "NTE_BAD_HASH_STATE"
        assert h.CryptGetHashParam(con.HP_HASHVAL) == value == hashlib.sha1(b"abc").digest()


def test_sha2_is_absent_from_prov_rsa_full() -> None:
    with _ctx(con.PROV_RSA_FULL) as full:
        for algid in SHA2:
            with pytest.raises(pywintypes.error) as exc:
                full.CryptCreateHash(algid, None)
            assert (_code(exc), exc.value.funcname) == ("NTE_BAD_ALGID", "CryptCreateHash")
        for algid in (con.CALG_MD5, con.CALG_SHA1):
            assert _value(full, algid, b"x") == hashlib.new(DIGESTS[algid], b"x").digest()


def test_create_hash_errors(prov: PyCRYPTPROV) -> None:
    for algid in (con.CALG_AES_128, con.CALG_RSA_SIGN, 0x8FFF, 0):
        with pytest.raises(pywintypes.error) as exc:
            prov.CryptCreateHash(algid, None)
        assert _code(exc) == "NTE_BAD_ALGID", hex(algid)
    with pytest.raises(pywintypes.error) as exc:
        prov.CryptCreateHash(con.CALG_SHA1, None, 1)
    assert _code(exc) == "NTE_BAD_FLAGS"
    with pytest.raises(TypeError):
        prov.CryptCreateHash(con.CALG_SHA1, "key")  # type: ignore[arg-type]


def test_parameter_and_flag_errors(prov: PyCRYPTPROV) -> None:
    with prov.CryptCreateHash(con.CALG_SHA_256, None) as h:
        for param in (0, 6, 0x99):
            with pytest.raises(pywintypes.error) as exc:
                h.CryptGetHashParam(param)
            assert (_code(exc), exc.value.funcname) == ("NTE_BAD_TYPE", "CryptGetHashParam")
        with pytest.raises(pywintypes.error) as exc:
            h.CryptGetHashParam(con.HP_ALGID, 1)
        assert _code(exc) == "NTE_BAD_FLAGS"
        with pytest.raises(pywintypes.error) as exc:
            h.CryptSetHashParam(con.HP_ALGID, con.CALG_MD5)
        assert _code(exc) == "NTE_BAD_TYPE"
        with pytest.raises(pywintypes.error) as exc:
            h.CryptHashData(b"x", 2)
        assert _code(exc) == "NTE_BAD_FLAGS"
        h.CryptHashData(b"x", con.CRYPT_USERDATA)  # the one flag CryptHashData takes
        with pytest.raises(TypeError):
            h.CryptHashData("text")  # type: ignore[arg-type]
        assert h.CryptGetHashParam(con.HP_HASHVAL) == hashlib.sha256(b"x").digest()


def test_destroyed_hash_is_an_invalid_handle(prov: PyCRYPTPROV) -> None:
    h = prov.CryptCreateHash(con.CALG_MD5, None)
    h.CryptHashData(b"abc")
    h.CryptDestroyHash()
    h.CryptDestroyHash()  # twice is harmless
    calls: list[tuple[str, Callable[[], object]]] = [
        ("CryptHashData", lambda: h.CryptHashData(b"x")),
        ("CryptGetHashParam", lambda: h.CryptGetHashParam(con.HP_HASHVAL)),
        ("CryptGetHashParam", lambda: h.CryptGetHashParam(con.HP_ALGID)),
        ("CryptSetHashParam", lambda: h.CryptSetHashParam(con.HP_HASHVAL, bytes(16))),
        ("CryptDuplicateHash", h.CryptDuplicateHash),
    ]
    for name, call in calls:
        with pytest.raises(pywintypes.error) as exc:
            call()
        assert (_code(exc), exc.value.funcname) == ("ERROR_INVALID_HANDLE", name)
    with prov.CryptCreateHash(con.CALG_MD5, None) as h2:
        h2.CryptHashData(b"abc")
    with pytest.raises(pywintypes.error) as exc:
        h2.CryptHashData(b"x")  # `with` destroyed it
    assert _code(exc) == "ERROR_INVALID_HANDLE"


def test_long_input(prov: PyCRYPTPROV) -> None:
    data = os.urandom(1 << 20)
    with prov.CryptCreateHash(con.CALG_SHA_512, None) as h:
        for start in range(0, len(data), 65536 + 7):
            h.CryptHashData(data[start:start + 65536 + 7])
        assert h.CryptGetHashParam(con.HP_HASHVAL) == hashlib.sha512(data).digest()


@settings(max_examples=40, deadline=None)
@given(algid=st.sampled_from(list(DIGESTS)),
       chunks=st.lists(st.binary(max_size=300), max_size=6))
def test_any_chunking_matches_hashlib(ctx: PyCRYPTPROV, algid: int, chunks: list[bytes]) -> None:
    assert _value(ctx, algid, *chunks) == hashlib.new(DIGESTS[algid], b"".join(chunks)).digest()


# ---- HP_HASHVAL set by the caller -------------------------------------------------------------
def test_set_hash_value(prov: PyCRYPTPROV) -> None:
    value = hashlib.sha256(b"computed elsewhere").digest()
    with prov.CryptCreateHash(con.CALG_SHA_256, None) as h:
        h.CryptHashData(b"ignored")
        h.CryptSetHashParam(con.HP_HASHVAL, value)
        assert h.CryptGetHashParam(con.HP_HASHVAL) == value
        with pytest.raises(pywintypes.error) as exc:
            h.CryptHashData(b"more")
        assert _code(exc) == "NTE_BAD_HASH_STATE"
        with h.CryptDuplicateHash() as twin:
            assert twin.CryptGetHashParam(con.HP_HASHVAL) == value
    with prov.CryptCreateHash(con.CALG_SHA1, None) as h:
        for wrong in (bytes(19), bytes(21), b""):
            with pytest.raises(pywintypes.error) as exc:
                h.CryptSetHashParam(con.HP_HASHVAL, wrong)
            assert _code(exc) == "NTE_BAD_LEN", len(wrong)
        with pytest.raises(TypeError):
            h.CryptSetHashParam(con.HP_HASHVAL, "text")
        h.CryptHashData(b"still open")  # the refused values left the hash as it was
        assert h.CryptGetHashParam(con.HP_HASHVAL) == hashlib.sha1(b"still open").digest()


def test_ssl3_shamd5_takes_its_value_from_hp_hashval(prov: PyCRYPTPROV) -> None:
    value = hashlib.md5(b"m").digest() + hashlib.sha1(b"m").digest()
    with prov.CryptCreateHash(con.CALG_SSL3_SHAMD5, None) as h:
        assert h.CryptGetHashParam(con.HP_HASHSIZE) == 36
        with pytest.raises(pywintypes.error) as exc:
            h.CryptHashData(b"m")
        assert _code(exc) == "NTE_BAD_ALGID"
        h.CryptSetHashParam(con.HP_HASHVAL, value)
        assert h.CryptGetHashParam(con.HP_HASHVAL) == value


# ---- CryptDuplicateHash ----------------------------------------------------------------------
@pytest.mark.parametrize("algid", [con.CALG_MD5, con.CALG_SHA1, con.CALG_SHA_512], ids=NAMES.get)
def test_duplicate_mid_stream_copies_are_independent(prov: PyCRYPTPROV, algid: int) -> None:
    name = DIGESTS[algid]
    h = prov.CryptCreateHash(algid, None)
    h.CryptHashData(b"common prefix ")
    twin = h.CryptDuplicateHash()
    assert twin.HCRYPTHASH != h.HCRYPTHASH
    h.CryptHashData(b"left")
    twin.CryptHashData(b"right")
    triplet = twin.CryptDuplicateHash()
    h_value = h.CryptGetHashParam(con.HP_HASHVAL)
    h.CryptDestroyHash()  # the copies live on
    triplet.CryptHashData(b" and more")
    assert h_value == hashlib.new(name, b"common prefix left").digest()
    assert twin.CryptGetHashParam(con.HP_HASHVAL) == \
        hashlib.new(name, b"common prefix right").digest()
    assert triplet.CryptGetHashParam(con.HP_HASHVAL) == \
        hashlib.new(name, b"common prefix right and more").digest()
    twin.CryptDestroyHash()
    triplet.CryptDestroyHash()


def test_duplicate_of_a_finished_hash_is_finished(prov: PyCRYPTPROV) -> None:
    with prov.CryptCreateHash(con.CALG_SHA_384, None) as h:
        h.CryptHashData(b"done")
        value = h.CryptGetHashParam(con.HP_HASHVAL)
        with h.CryptDuplicateHash() as twin:
            assert twin.CryptGetHashParam(con.HP_HASHVAL) == value
            assert twin.CryptGetHashParam(con.HP_ALGID) == con.CALG_SHA_384
            with pytest.raises(pywintypes.error) as exc:
                twin.CryptHashData(b"x")
            assert _code(exc) == "NTE_BAD_HASH_STATE"
    assert value == hashlib.sha384(b"done").digest()


def test_duplicate_with_flags_is_refused(prov: PyCRYPTPROV) -> None:
    with prov.CryptCreateHash(con.CALG_SHA1, None) as h:
        with pytest.raises(pywintypes.error) as exc:
            h.CryptDuplicateHash(1)
        assert _code(exc) in ("NTE_BAD_FLAGS", "ERROR_INVALID_PARAMETER")


# ---- software digests ---------------------------------------------------------------------------
def _offered(prov: PyCRYPTPROV, algid: int) -> bool:
    return any(row.aiAlgid == algid for row in enumerated(prov, con.PP_ENUMALGS))


def _hashlib_has(name: str) -> bool:
    try:
        hashlib.new(name)
    except ValueError:
        return False
    return True


def test_md4_is_listed_exactly_when_it_can_be_computed(prov: PyCRYPTPROV) -> None:
    if _offered(prov, con.CALG_MD4):
        assert _hashlib_has("md4")
        # RFC 1320, appendix A.5.
        assert _value(prov, con.CALG_MD4) == bytes.fromhex("31d6cfe0d16ae931b73c59d7e0c089c0")
        assert _value(prov, con.CALG_MD4, b"a", b"bc") == \
            bytes.fromhex("a448017aaf21d8525fc10ae87aa6729d")
        with prov.CryptCreateHash(con.CALG_MD4, None) as h:
            h.CryptHashData(P2048[:1000])
            with h.CryptDuplicateHash() as twin:
                h.CryptHashData(P2048[1000:])
                assert h.CryptGetHashParam(con.HP_HASHVAL) == hashlib.new("md4", P2048).digest()
                assert twin.CryptGetHashParam(con.HP_HASHVAL) == \
                    hashlib.new("md4", P2048[:1000]).digest()
    else:
        with pytest.raises(pywintypes.error) as exc:
            prov.CryptCreateHash(con.CALG_MD4, None)
        assert _code(exc) == "NTE_BAD_ALGID"


# ---- HMAC ----------------------------------------------------------------------
_JEFE = (b"Jefe", b"what do ya want for nothing?")
_BIG = b"Test Using Larger Than Block-Size Key - Hash Key First"
_BIG2 = b"Test Using Larger Than Block-Size Key and Larger Than One Block-Size Data"
# (hash, key, data, expected) from RFC 2202 (MD5, SHA-1) and RFC 4231 (SHA-256).
RFC_HMAC = [
    (con.CALG_MD5, b"\x0b" * 16, b"Hi There", "9294727a3638bb1c13f48ef8158bfc9d"),
    (con.CALG_MD5, *_JEFE, "750c783e6ab0b503eaa86e310a5db738"),
    (con.CALG_MD5, b"\xaa" * 16, b"\xdd" * 50, "56be34521d144c88dbb8c733f0e8b3f6"),
    (con.CALG_MD5, bytes(range(1, 26)), b"\xcd" * 50, "697eaf0aca3a3aea3a75164746ffaa79"),
    (con.CALG_MD5, b"\x0c" * 16, b"Test With Truncation", "56461ef2342edc00f9bab995690efd4c"),
    (con.CALG_MD5, b"\xaa" * 80, _BIG, "6b1ab7fe4bd7bf8f0b62e6ce61b9d0cd"),
    (con.CALG_MD5, b"\xaa" * 80, _BIG2, "6f630fad67cda0ee1fb1f562db3aa53e"),
    (con.CALG_SHA1, b"\x0b" * 20, b"Hi There", "b617318655057264e28bc0b6fb378c8ef146be00"),
    (con.CALG_SHA1, *_JEFE, "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79"),
    (con.CALG_SHA1, b"\xaa" * 20, b"\xdd" * 50, "125d7342b9ac11cd91a39af48aa17b4f63f175d3"),
    (con.CALG_SHA1, bytes(range(1, 26)), b"\xcd" * 50,
     "4c9007f4026250c6bc8414f9bf50c86c2d7235da"),
    (con.CALG_SHA1, b"\x0c" * 20, b"Test With Truncation",
     "4c1a03424b55e07fe7f27be1d58bb9324a9a5a04"),
    (con.CALG_SHA1, b"\xaa" * 80, _BIG, "aa4ae5e15272d00e95705637ce8a3b55ed402112"),
    (con.CALG_SHA1, b"\xaa" * 80, _BIG2, "e8e99d0f45237d786d6bbaa7965c7808bbff1a91"),
    (con.CALG_SHA_256, b"\x0b" * 20, b"Hi There",
     "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"),
    (con.CALG_SHA_256, *_JEFE,
     "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"),
    (con.CALG_SHA_256, b"\xaa" * 131, _BIG,
     "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"),
]


@pytest.mark.parametrize(("algid", "key", "data", "expected"), RFC_HMAC)
def test_hmac_rfc_vectors(
    prov: PyCRYPTPROV, algid: int, key: bytes, data: bytes, expected: str
) -> None:
    with _hmac_key(prov, key) as hkey:
        assert _value(prov, con.CALG_HMAC, data, key=hkey, hmac_info=algid) == \
            bytes.fromhex(expected)


@pytest.mark.parametrize("algid", DIGESTS, ids=NAMES.get)
def test_hmac_info_forms_and_python_hmac(prov: PyCRYPTPROV, algid: int) -> None:
    name = DIGESTS[algid]
    key_bytes = os.urandom(33)
    data = os.urandom(200)
    expected = hmac.new(key_bytes, data, name).digest()
    forms: list[object] = [
        algid,
        (algid, b"", b""),
        {"HashAlgid": algid},
        {"HashAlgid": algid, "pbInnerString": b"", "pbOuterString": b""},
        # The documented defaults spelled out are the defaults.
        (algid, b"\x36" * 64, b"\x5c" * 64),
    ]
    with _hmac_key(prov, key_bytes) as hkey:
        for form in forms:
            assert _value(prov, con.CALG_HMAC, data[:70], data[70:], key=hkey,
                          hmac_info=form) == expected, form
        with prov.CryptCreateHash(con.CALG_HMAC, hkey) as h:
            assert h.CryptGetHashParam(con.HP_ALGID) == con.CALG_HMAC
            h.CryptSetHashParam(con.HP_HMAC_INFO, algid)
            assert h.CryptGetHashParam(con.HP_HASHSIZE) == len(expected)
            assert h.CryptGetHashParam(con.HP_ALGID) == con.CALG_HMAC


def test_hmac_key_of_every_length(prov: PyCRYPTPROV) -> None:
    for size in (1, 5, 16, 63, 64, 65, 80, 128, 200):
        key_bytes = os.urandom(size)
        with _hmac_key(prov, key_bytes) as hkey:
            assert _value(prov, con.CALG_HMAC, b"msg", key=hkey, hmac_info=con.CALG_SHA1) == \
                hmac.new(key_bytes, b"msg", "sha1").digest(), size


def test_hmac_key_does_not_encrypt(prov: PyCRYPTPROV) -> None:
    with _hmac_key(prov, os.urandom(20)) as hkey:
        with pytest.raises(pywintypes.error) as exc:
            hkey.CryptEncrypt(True, b"x")
        assert _code(exc) == "NTE_BAD_KEY"
        with pytest.raises(pywintypes.error) as exc:
            prov.CryptCreateHash(con.CALG_MAC, hkey)
        assert _code(exc) == "NTE_BAD_KEY"


@pytest.mark.parametrize("alg", [con.CALG_AES_128, con.CALG_AES_256, con.CALG_3DES],
                         ids=NAMES.get)
def test_hmac_with_an_exportable_session_key(prov: PyCRYPTPROV, alg: int) -> None:
    before = _objects(prov)
    with prov.CryptGenKey(alg, con.CRYPT_EXPORTABLE) as key:
        material = _material(key)
        plain = key.CryptExportKey(None, con.PLAINTEXTKEYBLOB)
        ciphertext = key.CryptEncrypt(True, b"still a cipher key")
        for algid in (con.CALG_SHA1, con.CALG_SHA_256):
            assert _value(prov, con.CALG_HMAC, b"data", key=key, hmac_info=algid) == \
                hmac.new(material, b"data", DIGESTS[algid]).digest()
        # The key itself is as it was.
        assert key.CryptExportKey(None, con.PLAINTEXTKEYBLOB) == plain
        assert key.CryptDecrypt(True, ciphertext) == b"still a cipher key"
        assert key.CryptGetKeyParam(con.KP_PERMISSIONS) == 0x3F
    assert _objects(prov) == before  # no generic-secret copy left behind


def test_hmac_with_a_non_exportable_session_key_is_refused(prov: PyCRYPTPROV) -> None:
    with prov.CryptGenKey(con.CALG_AES_128, 0) as key:
        # Refused when the HMAC would need the key's value (at CryptCreateHash or at
        # HP_HMAC_INFO: either is fine).
        with pytest.raises(pywintypes.error) as exc:
            _value(prov, con.CALG_HMAC, b"data", key=key, hmac_info=con.CALG_SHA1)
        assert _code(exc) == "NTE_BAD_KEY"
    # An HMAC key imported without CRYPT_EXPORTABLE is already an HMAC key: it works.
    with _hmac_key(prov, b"k" * 20) as hkey:
        assert hkey.CryptGetKeyParam(con.KP_PERMISSIONS) == 0x3B
        assert _value(prov, con.CALG_HMAC, b"d", key=hkey, hmac_info=con.CALG_MD5) == \
            hmac.new(b"k" * 20, b"d", "md5").digest()


def test_hmac_errors(prov: PyCRYPTPROV) -> None:
    with pytest.raises(pywintypes.error) as exc:
        prov.CryptCreateHash(con.CALG_HMAC, None)
    assert (_code(exc), exc.value.funcname) == ("NTE_BAD_KEY", "CryptCreateHash")
    with pytest.raises(pywintypes.error) as exc:
        prov.CryptCreateHash(con.CALG_MAC, None)
    assert _code(exc) == "NTE_BAD_KEY"
    with _hmac_key(prov, b"key") as hkey:
        with prov.CryptCreateHash(con.CALG_HMAC, hkey) as h:
            with pytest.raises(pywintypes.error) as exc:
                h.CryptHashData(b"too early")
            assert (_code(exc), exc.value.funcname) == ("NTE_BAD_HASH_STATE", "CryptHashData")
            with pytest.raises(pywintypes.error) as exc:
                h.CryptGetHashParam(con.HP_HASHVAL)
            assert _code(exc) == "NTE_BAD_HASH_STATE"
            for bad in (con.CALG_AES_128, con.CALG_HMAC, con.CALG_MAC, 0):
                with pytest.raises(pywintypes.error) as exc:
                    h.CryptSetHashParam(con.HP_HMAC_INFO, bad)
                assert _code(exc) == "NTE_BAD_ALGID", hex(bad)
            h.CryptSetHashParam(con.HP_HMAC_INFO, con.CALG_SHA1)
            with pytest.raises(pywintypes.error) as exc:
                h.CryptSetHashParam(con.HP_HMAC_INFO, con.CALG_MD5)  # once only
            assert _code(exc) == "NTE_BAD_HASH_STATE"
            h.CryptHashData(b"now")
            assert h.CryptGetHashParam(con.HP_HASHVAL) == hmac.new(b"key", b"now", "sha1").digest()
        with prov.CryptCreateHash(con.CALG_SHA1, None) as plain:
            with pytest.raises(pywintypes.error) as exc:
                plain.CryptSetHashParam(con.HP_HMAC_INFO, con.CALG_SHA1)
            assert _code(exc) == "NTE_BAD_TYPE"


def test_hmac_sha2_is_absent_from_prov_rsa_full() -> None:
    with _ctx(con.PROV_RSA_FULL) as full, _hmac_key(full, b"key") as hkey:
        assert _value(full, con.CALG_HMAC, b"d", key=hkey, hmac_info=con.CALG_SHA1) == \
            hmac.new(b"key", b"d", "sha1").digest()
        with full.CryptCreateHash(con.CALG_HMAC, hkey) as h:
            with pytest.raises(pywintypes.error) as exc:
                h.CryptSetHashParam(con.HP_HMAC_INFO, con.CALG_SHA_256)
            assert _code(exc) == "NTE_BAD_ALGID"


def test_hmac_duplicate_mid_stream(prov: PyCRYPTPROV) -> None:
    with _hmac_key(prov, b"secret key") as hkey, \
            prov.CryptCreateHash(con.CALG_HMAC, hkey) as h:
        h.CryptSetHashParam(con.HP_HMAC_INFO, con.CALG_SHA_256)
        h.CryptHashData(b"abc")
        with h.CryptDuplicateHash() as twin:
            h.CryptHashData(b"def")
            twin.CryptHashData(b"xyz")
            assert twin.CryptGetHashParam(con.HP_HASHVAL) == \
                hmac.new(b"secret key", b"abcxyz", "sha256").digest()
        assert h.CryptGetHashParam(con.HP_HASHVAL) == \
            hmac.new(b"secret key", b"abcdef", "sha256").digest()


# ---- CALG_MAC ------------------------------------------------------------------------------
def _mac(prov: PyCRYPTPROV, alg: int, material: bytes, iv: bytes, chunks: list[bytes]) -> bytes:
    """CALG_MAC of ``chunks`` with a fresh key.  The key is destroyed before the hash:
    see test_finished_mac_leaves_its_key_alone for why the order matters today."""
    key = prov.CryptImportKey(PlaintextKeyBlob(alg, material).to_bytes())
    key.CryptSetKeyParam(con.KP_IV, iv)
    h = prov.CryptCreateHash(con.CALG_MAC, key)
    try:
        assert h.CryptGetHashParam(con.HP_HASHSIZE) == (16 if alg in AES else 8)
        assert h.CryptGetHashParam(con.HP_ALGID) == con.CALG_MAC
        for chunk in chunks:
            h.CryptHashData(chunk)
        value = h.CryptGetHashParam(con.HP_HASHVAL)
        assert isinstance(value, bytes)
        return value
    finally:
        key.CryptDestroyKey()
        h.CryptDestroyHash()


@pytest.mark.parametrize("alg", [con.CALG_DES, con.CALG_3DES_112, con.CALG_3DES, *AES],
                         ids=NAMES.get)
def test_cbc_mac_matches_cryptography(prov: PyCRYPTPROV, alg: int) -> None:
    material = os.urandom(SIZES[alg])
    block = 16 if alg in AES else 8
    iv = os.urandom(block)
    for data in (b"", b"a", bytes(block), os.urandom(3 * block + 5)):
        # Pieces that do not respect block boundaries are buffered.
        chunks = [data[start:start + 5] for start in range(0, len(data), 5)]
        assert _mac(prov, alg, material, iv, chunks) == _cbc_mac(alg, material, iv, data)
    # The default IV is zero.
    assert _mac(prov, alg, material, bytes(block), [b"abc"]) == \
        _cbc_mac(alg, material, bytes(block), b"abc")


def test_cbc_mac_state_is_taken_at_creation(prov: PyCRYPTPROV) -> None:
    material = os.urandom(16)
    iv = os.urandom(16)
    key = prov.CryptImportKey(PlaintextKeyBlob(con.CALG_AES_128, material).to_bytes())
    key.CryptSetKeyParam(con.KP_IV, iv)
    h = prov.CryptCreateHash(con.CALG_MAC, key)
    h.CryptHashData(b"first part, ")
    # Using and changing the key afterwards does not move the MAC.
    key.CryptEncrypt(False, bytes(32))
    key.CryptSetKeyParam(con.KP_IV, bytes(16))
    twin = h.CryptDuplicateHash()
    h.CryptHashData(b"second part")
    twin.CryptHashData(b"other part")
    assert twin.CryptGetHashParam(con.HP_HASHVAL) == \
        _cbc_mac(con.CALG_AES_128, material, iv, b"first part, other part")
    assert h.CryptGetHashParam(con.HP_HASHVAL) == \
        _cbc_mac(con.CALG_AES_128, material, iv, b"first part, second part")
    key.CryptDestroyKey()
    twin.CryptDestroyHash()
    h.CryptDestroyHash()


def test_cbc_mac_needs_a_block_cipher(prov: PyCRYPTPROV) -> None:
    with prov.CryptGenKey(con.CALG_RSA_KEYX, 1024 << 16) as pair:
        with pytest.raises(pywintypes.error) as exc:
            prov.CryptCreateHash(con.CALG_MAC, pair)
        assert (_code(exc), exc.value.funcname) == ("NTE_BAD_KEY", "CryptCreateHash")


def test_finished_mac_leaves_its_key_alone(prov: PyCRYPTPROV) -> None:
    with prov.CryptGenKey(con.CALG_AES_128, 0) as key:
        h = prov.CryptCreateHash(con.CALG_MAC, key)
        h.CryptHashData(b"abc")
        h.CryptGetHashParam(con.HP_HASHVAL)
        h.CryptDestroyHash()
        out = key.CryptEncrypt(True, b"the key still works")
        assert key.CryptDecrypt(True, out) == b"the key still works"


def test_refused_mac_key_is_not_leaked(prov: PyCRYPTPROV) -> None:
    before = _objects(prov)
    ctx = _ctx()
    makers: list[Callable[[], PyCRYPTKEY]] = [
        lambda: ctx.CryptGenKey(con.CALG_RSA_KEYX, 1024 << 16),
        lambda: _hmac_key(ctx, b"k" * 20),
    ]
    for make in makers:
        key = make()
        with pytest.raises(pywintypes.error) as exc:
            ctx.CryptCreateHash(con.CALG_MAC, key)
        assert _code(exc) == "NTE_BAD_KEY"
        key.CryptDestroyKey()
    assert _objects(prov) == before + 2  # the AT_KEYEXCHANGE slot's pair, nothing else
    ctx.CryptReleaseContext()
    assert _objects(prov) == before


# ---- CryptHashSessionKey -------------------------------------------------------------------------
@pytest.mark.parametrize("alg", [con.CALG_DES, con.CALG_3DES_112, con.CALG_3DES, *AES],
                         ids=NAMES.get)
def test_hash_session_key_byte_order(prov: PyCRYPTPROV, alg: int) -> None:
    with prov.CryptGenKey(alg, con.CRYPT_EXPORTABLE) as key:
        material = _material(key)
        assert len(material) == SIZES[alg]
        for algid in (con.CALG_MD5, con.CALG_SHA1, con.CALG_SHA_256):
            name = DIGESTS[algid]
            with prov.CryptCreateHash(algid, None) as h:
                h.CryptHashSessionKey(key)  # flags 0: the bytes reversed
                assert h.CryptGetHashParam(con.HP_HASHVAL) == \
                    hashlib.new(name, material[::-1]).digest()
        # MD5 with CRYPT_LITTLE_ENDIAN: see test_md5_hash_session_key_little_endian.
        for algid in (con.CALG_SHA1, con.CALG_SHA_256, con.CALG_SHA_512):
            name = DIGESTS[algid]
            with prov.CryptCreateHash(algid, None) as h:
                h.CryptHashSessionKey(key, con.CRYPT_LITTLE_ENDIAN)  # as stored
                assert h.CryptGetHashParam(con.HP_HASHVAL) == hashlib.new(name, material).digest()


def test_hash_session_key_mixes_with_data(prov: PyCRYPTPROV) -> None:
    material = os.urandom(24)
    blob = PlaintextKeyBlob(con.CALG_AES_192, material).to_bytes()
    with prov.CryptImportKey(blob, None, con.CRYPT_EXPORTABLE) as key:
        for flag_bits, seen in ((0, material[::-1]), (con.CRYPT_LITTLE_ENDIAN, material)):
            with prov.CryptCreateHash(con.CALG_SHA1, None) as h:
                h.CryptHashData(b"before")
                h.CryptHashSessionKey(key, flag_bits)
                h.CryptHashData(b"after")
                assert h.CryptGetHashParam(con.HP_HASHVAL) == \
                    hashlib.sha1(b"before" + seen + b"after").digest()


def test_hash_session_key_of_a_non_exportable_key(prov: PyCRYPTPROV) -> None:
    material = os.urandom(16)
    blob = PlaintextKeyBlob(con.CALG_AES_128, material).to_bytes()
    with prov.CryptImportKey(blob) as key:
        with prov.CryptCreateHash(con.CALG_SHA_256, None) as h:
            with pytest.raises(pywintypes.error) as exc:
                h.CryptHashSessionKey(key)
            assert (_code(exc), exc.value.funcname) == (
                "NTE_BAD_KEY_STATE", "CryptHashSessionKey")
            # The refusal left the hash untouched and open.
            h.CryptHashData(b"x")
            assert h.CryptGetHashParam(con.HP_HASHVAL) == hashlib.sha256(b"x").digest()
        with prov.CryptCreateHash(con.CALG_SHA_256, None) as h:
            h.CryptHashSessionKey(key, con.CRYPT_LITTLE_ENDIAN)
            assert h.CryptGetHashParam(con.HP_HASHVAL) == hashlib.sha256(material).digest()


def test_hmac_hashes_a_session_key_little_endian(prov: PyCRYPTPROV) -> None:
    # An HMAC runs C_Sign*, which has no C_DigestKey: CRYPT_LITTLE_ENDIAN used to
    # reach it anyway and came out as NTE_FAIL (an internal AssertionError).
    secret, material = os.urandom(16), os.urandom(32)
    hmac_blob = PlaintextKeyBlob(con.CALG_AES_128, secret).to_bytes()
    hashed_blob = PlaintextKeyBlob(con.CALG_AES_256, material).to_bytes()
    with prov.CryptImportKey(hmac_blob, None, con.CRYPT_EXPORTABLE) as hmac_key:
        with prov.CryptImportKey(hashed_blob, None, con.CRYPT_EXPORTABLE) as key, \
                prov.CryptCreateHash(con.CALG_HMAC, hmac_key) as h:
            h.CryptSetHashParam(con.HP_HMAC_INFO, con.CALG_SHA1)
            h.CryptHashSessionKey(key, con.CRYPT_LITTLE_ENDIAN)  # the bytes as stored
            assert h.CryptGetHashParam(con.HP_HASHVAL) == \
                hmac.new(secret, material, "sha1").digest()
        with prov.CryptImportKey(hashed_blob) as key, \
                prov.CryptCreateHash(con.CALG_HMAC, hmac_key) as h:
            h.CryptSetHashParam(con.HP_HMAC_INFO, con.CALG_SHA_256)
            with pytest.raises(pywintypes.error) as exc:
                h.CryptHashSessionKey(key, con.CRYPT_LITTLE_ENDIAN)
            assert _code(exc) == "NTE_BAD_KEY_STATE"
            h.CryptHashData(b"x")  # the refusal left the HMAC usable
            assert h.CryptGetHashParam(con.HP_HASHVAL) == \
                hmac.new(secret, b"x", "sha256").digest()


def test_hash_session_key_errors(prov: PyCRYPTPROV) -> None:
    with prov.CryptCreateHash(con.CALG_SHA1, None) as h:
        with prov.CryptGenKey(con.CALG_RSA_KEYX, con.CRYPT_EXPORTABLE | (1024 << 16)) as pair:
            for flag_bits in (0, con.CRYPT_LITTLE_ENDIAN):
                with pytest.raises(pywintypes.error) as exc:
                    h.CryptHashSessionKey(pair, flag_bits)
                assert _code(exc) == "NTE_BAD_KEY"
        with prov.CryptGenKey(con.CALG_AES_128, con.CRYPT_EXPORTABLE) as key:
            with pytest.raises(pywintypes.error) as exc:
                h.CryptHashSessionKey(key, 2)
            assert _code(exc) == "NTE_BAD_FLAGS"
        dead = prov.CryptGenKey(con.CALG_AES_128, con.CRYPT_EXPORTABLE)
        dead.CryptDestroyKey()
        with pytest.raises(pywintypes.error) as exc:
            h.CryptHashSessionKey(dead)
        assert _code(exc) == "ERROR_INVALID_HANDLE"
        with pytest.raises(TypeError):
            h.CryptHashSessionKey(b"key bytes")  # type: ignore[arg-type]
        assert h.CryptGetHashParam(con.HP_HASHVAL) == hashlib.sha1(b"").digest()


# These two run in a process of their own: the failure they provoke leaves the
# token's pooled digest session unusable for the rest of the process.
_MD5_LITTLE_ENDIAN = """
import hashlib, os
from csp11 import win32crypt, pywintypes, winerror
from csp11 import win32cryptcon as con
from csp11.formats.blobs import PlaintextKeyBlob
ctx = win32crypt.CryptAcquireContext(None, None, con.PROV_RSA_AES, con.CRYPT_VERIFYCONTEXT)
material = os.urandom(16)
key = ctx.CryptImportKey(PlaintextKeyBlob(con.CALG_AES_128, material).to_bytes(), None,
                         con.CRYPT_EXPORTABLE)
h = ctx.CryptCreateHash(con.CALG_MD5, None)
try:
    h.CryptHashSessionKey(key, con.CRYPT_LITTLE_ENDIAN)
    print("MD5", h.CryptGetHashParam(con.HP_HASHVAL) == hashlib.md5(material).digest())
except pywintypes.error as exc:
    print("MD5", winerror.name_of(exc.winerror))
h.CryptDestroyHash()
# A key the token must digest itself, and cannot with MD5: refused, and the
# hash goes on with the data it had.
locked = ctx.CryptImportKey(PlaintextKeyBlob(con.CALG_AES_128, material).to_bytes())
h = ctx.CryptCreateHash(con.CALG_MD5, None)
h.CryptHashData(b"before")
try:
    h.CryptHashSessionKey(locked, con.CRYPT_LITTLE_ENDIAN)
    print("LOCKED", "hashed")
except pywintypes.error as exc:
    print("LOCKED", winerror.name_of(exc.winerror))
h.CryptHashData(b"after")
print("SAME", h.CryptGetHashParam(con.HP_HASHVAL) == hashlib.md5(b"beforeafter").digest())
other = ctx.CryptCreateHash(con.CALG_SHA1, None)
try:
    other.CryptHashData(b"abc")
    print("NEXT", other.CryptGetHashParam(con.HP_HASHVAL) == hashlib.sha1(b"abc").digest())
except pywintypes.error as exc:
    print("NEXT", winerror.name_of(exc.winerror), exc.strerror)
"""


@pytest.fixture(scope="module")
def md5_little_endian_run(embedded_pin: str) -> dict[str, str]:
    del embedded_pin  # the token exists before the child uses it
    result = run_python(_MD5_LITTLE_ENDIAN)
    assert result.returncode == 0, result.stderr[-2000:]
    return dict(line.split(" ", 1) for line in result.stdout.splitlines())


def test_md5_hash_session_key_little_endian(md5_little_endian_run: dict[str, str]) -> None:
    assert md5_little_endian_run["MD5"] == "True"


def test_a_failed_hash_session_key_does_not_break_later_hashes(
    md5_little_endian_run: dict[str, str],
) -> None:
    # SoftHSM2's C_DigestKey refuses MD5 (CKR_KEY_INDIGESTIBLE): a non-exportable key
    # cannot be hashed so (NTE_BAD_KEY_STATE: the key's state, not the key, is the
    # obstacle), but the hash keeps its data and the next hashes work.
    assert md5_little_endian_run["LOCKED"] in ("NTE_BAD_KEY_STATE", "hashed")
    assert md5_little_endian_run["SAME"] == ("True" if md5_little_endian_run["LOCKED"] ==
                                             "NTE_BAD_KEY_STATE" else "False")
    assert md5_little_endian_run["NEXT"] == "True"


def _finish(h: PyCRYPTHASH) -> bytes:
    value = h.CryptGetHashParam(con.HP_HASHVAL)
    assert isinstance(value, bytes)
    return value


def test_context_manager_and_handle(prov: PyCRYPTPROV) -> None:
    with prov.CryptCreateHash(con.CALG_SHA1, None) as a, \
            prov.CryptCreateHash(con.CALG_SHA1, None) as b:
        assert isinstance(a.HCRYPTHASH, int)
        assert a.HCRYPTHASH != b.HCRYPTHASH
        a.CryptHashData(b"1")
        b.CryptHashData(b"2")
        assert _finish(a) != _finish(b)


@pytest.mark.parametrize("flag_bits", [0, con.CRYPT_LITTLE_ENDIAN])
def test_a_hashed_session_key_is_not_kept(prov: PyCRYPTPROV, flag_bits: int) -> None:
    """The key's bytes go into the hash and nowhere else: the hash keeps no copy to
    replay, so it cannot be duplicated afterwards (csp11 says so)."""
    with prov.CryptGenKey(con.CALG_AES_256, con.CRYPT_EXPORTABLE) as key:
        material = parse_key_blob(key.CryptExportKey(None, con.PLAINTEXTKEYBLOB)).key  # type: ignore[union-attr]
        h = prov.CryptCreateHash(con.CALG_SHA_256)
        h.CryptHashData(b"before")
        h.CryptHashSessionKey(key, flag_bits)
        with pytest.raises(pywintypes.error) as exc:
            h.CryptDuplicateHash()
        assert _code(exc) == "NTE_NOT_SUPPORTED"
        ordered = material if flag_bits else material[::-1]
        assert _finish(h) == hashlib.sha256(b"before" + ordered).digest()


def test_duplicate_replays_up_to_its_limit(prov: PyCRYPTPROV) -> None:
    from csp11.core.engines import REPLAY_LIMIT

    piece = os.urandom(REPLAY_LIMIT // 2)
    h = prov.CryptCreateHash(con.CALG_SHA_256)
    h.CryptHashData(piece)
    h.CryptHashData(piece)  # exactly at the limit: still replayable
    twin = h.CryptDuplicateHash()
    twin.CryptHashData(b"!")
    assert _finish(twin) == hashlib.sha256(piece + piece + b"!").digest()
    h.CryptHashData(b"more")  # past the limit: the token runs it, nothing is kept
    with pytest.raises(pywintypes.error) as exc:
        h.CryptDuplicateHash()
    assert _code(exc) == "NTE_NOT_SUPPORTED"
    assert _finish(h) == hashlib.sha256(piece + piece + b"more").digest()
