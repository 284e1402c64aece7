"""CryptEncrypt / CryptDecrypt on the token, cross-checked with ``cryptography``.

Block ciphers (DES, 3DES_112, 3DES, AES-128/192/256) in CBC (the default),
ECB and 8-bit CFB with PKCS #5 padding, streamed over several calls the way
CryptoAPI streams (no block held back); RSA exchange keys with PKCS #1 v1.5
and OAEP, little-endian.  The reference for every ciphertext is
``cryptography`` fed the same key bytes (exported as a PLAINTEXTKEYBLOB, or
imported as one).
"""

from __future__ import annotations

import hashlib
import itertools
import os
from collections.abc import Iterator
from typing import Any

import pytest
from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
from cryptography.hazmat.decrepit.ciphers.modes import CFB8
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives import padding as sympadding
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from hypothesis import given, settings
from hypothesis import strategies as st

from csp11 import interop, pywintypes
from csp11 import win32cryptcon as con
from csp11.formats.blobs import PlaintextKeyBlob, parse_key_blob
from csp11.win32crypt import PyCRYPTKEY, PyCRYPTPROV

from .helpers import code_name as _code
from .helpers import verify_context as _ctx

AES = (con.CALG_AES_128, con.CALG_AES_192, con.CALG_AES_256)
SESSION = (con.CALG_DES, con.CALG_3DES_112, con.CALG_3DES, *AES)
SIZES = {con.CALG_DES: 8, con.CALG_3DES_112: 16, con.CALG_3DES: 24,
         con.CALG_AES_128: 16, con.CALG_AES_192: 24, con.CALG_AES_256: 32}
MODES = (con.CRYPT_MODE_CBC, con.CRYPT_MODE_ECB, con.CRYPT_MODE_CFB)
ALG_NAMES = {con.CALG_DES: "DES", con.CALG_3DES_112: "3DES_112", con.CALG_3DES: "3DES",
             con.CALG_AES_128: "AES_128", con.CALG_AES_192: "AES_192", con.CALG_AES_256: "AES_256"}
MODE_NAMES = {con.CRYPT_MODE_CBC: "CBC", con.CRYPT_MODE_ECB: "ECB", con.CRYPT_MODE_CFB: "CFB"}
OAEP = padding.OAEP(padding.MGF1(hashes.SHA1()), hashes.SHA1(), None)


# ---- helpers ------------------------------------------------------------------------


def _block(alg: int) -> int:
    return 16 if alg in AES else 8


def _material(key: PyCRYPTKEY) -> bytes:
    blob = parse_key_blob(key.CryptExportKey(None, con.PLAINTEXTKEYBLOB))
    assert isinstance(blob, PlaintextKeyBlob)
    return blob.key


def _imported(ctx: PyCRYPTPROV, alg: int, material: bytes | None = None,
              flag_bits: int = 0) -> tuple[bytes, PyCRYPTKEY]:
    material = material if material is not None else os.urandom(SIZES[alg])
    key = ctx.CryptImportKey(PlaintextKeyBlob(alg, material).to_bytes(), None, flag_bits)
    return material, key


def _cipher(alg: int, material: bytes, mode: int, iv: bytes) -> Cipher[Any]:
    """The reference: DES is TripleDES with K1 = K2 = K3, 3DES_112 is K1 K2 K1."""
    if alg in AES:
        algorithm: Any = algorithms.AES(material)
    else:
        algorithm = TripleDES((material * 3)[:24] if len(material) == 8 else
                              (material + material[:8])[:24])
    chosen: Any
    if mode == con.CRYPT_MODE_CBC:
        chosen = modes.CBC(iv)
    elif mode == con.CRYPT_MODE_ECB:
        chosen = modes.ECB()
    else:
        chosen = CFB8(iv)
    return Cipher(algorithm, chosen)


def _pad(data: bytes, alg: int) -> bytes:
    padder = sympadding.PKCS7(_block(alg) * 8).padder()
    return padder.update(data) + padder.finalize()


def _ref_encrypt(alg: int, material: bytes, mode: int, iv: bytes, data: bytes,
                 *, padded: bool = True) -> bytes:
    enc = _cipher(alg, material, mode, iv).encryptor()
    return enc.update(_pad(data, alg) if padded else data) + enc.finalize()


def _ref_decrypt(alg: int, material: bytes, mode: int, iv: bytes, data: bytes) -> bytes:
    dec = _cipher(alg, material, mode, iv).decryptor()
    return dec.update(data) + dec.finalize()


def _setup(key: PyCRYPTKEY, mode: int, iv: bytes) -> None:
    key.CryptSetKeyParam(con.KP_MODE, mode)
    key.CryptSetKeyParam(con.KP_IV, iv)


@pytest.fixture(scope="module")
def ctx() -> Iterator[PyCRYPTPROV]:
    """A module-wide verify-only context (the hypothesis tests reuse it)."""
    with _ctx() as context:
        yield context


@pytest.fixture(scope="module")
def rsa_keyx(ctx: PyCRYPTPROV) -> tuple[PyCRYPTKEY, rsa.RSAPrivateKey]:
    """An exportable 1024-bit exchange key and its private half in ``cryptography``."""
    key = ctx.CryptGenKey(con.CALG_RSA_KEYX, con.CRYPT_EXPORTABLE | (1024 << 16))
    private = interop.key_from_blob(key.CryptExportKey(None, con.PRIVATEKEYBLOB))
    assert isinstance(private, rsa.RSAPrivateKey)
    return key, private


# ---- block ciphers: one call -----------------------------------------------------------
@pytest.mark.parametrize("alg", SESSION, ids=ALG_NAMES.get)
def test_default_is_cbc_with_zero_iv_and_pkcs5(prov: PyCRYPTPROV, alg: int) -> None:
    with prov.CryptGenKey(alg, con.CRYPT_EXPORTABLE) as key:
        assert key.CryptGetKeyParam(con.KP_MODE) == con.CRYPT_MODE_CBC
        assert key.CryptGetKeyParam(con.KP_IV) == bytes(_block(alg))
        material = _material(key)
        assert len(material) == SIZES[alg]
        data = b"Some plaintext of 29 bytes..."
        out = key.CryptEncrypt(True, data)
        assert out == _ref_encrypt(alg, material, con.CRYPT_MODE_CBC, bytes(_block(alg)), data)
        assert key.CryptDecrypt(True, out) == data


@pytest.mark.parametrize("mode", MODES, ids=MODE_NAMES.get)
@pytest.mark.parametrize("alg", SESSION, ids=ALG_NAMES.get)
def test_one_shot_matches_cryptography(prov: PyCRYPTPROV, alg: int, mode: int) -> None:
    block = _block(alg)
    iv = os.urandom(block)
    material, key = _imported(prov, alg)
    with key:
        _setup(key, mode, iv)
        assert key.CryptGetKeyParam(con.KP_MODE) == mode
        assert key.CryptGetKeyParam(con.KP_IV) == iv
        for size in (0, 1, block - 1, block, block + 1, 3 * block, 3 * block + 5):
            data = os.urandom(size)
            out = key.CryptEncrypt(True, data)
            # PKCS #5: 1..block bytes of padding, a whole block when aligned.
            assert len(out) == (size // block + 1) * block, size
            assert out == _ref_encrypt(alg, material, mode, iv, data), size
            assert key.CryptDecrypt(True, out) == data, size
            # ... and what cryptography encrypts, csp11 decrypts.
            foreign = os.urandom(size)
            assert key.CryptDecrypt(True, _ref_encrypt(alg, material, mode, iv, foreign)) \
                == foreign


@pytest.mark.parametrize("alg", SESSION, ids=ALG_NAMES.get)
def test_known_key_bytes_known_answer(prov: PyCRYPTPROV, alg: int) -> None:
    """A fixed key and IV: the answer is fixed too (checked against cryptography)."""
    material = bytes(range(1, SIZES[alg] + 1))
    iv = bytes(range(0xA0, 0xA0 + _block(alg)))
    _, key = _imported(prov, alg, material)
    with key:
        key.CryptSetKeyParam(con.KP_IV, iv)
        out = key.CryptEncrypt(True, b"The quick brown fox")
        assert out == _ref_encrypt(alg, material, con.CRYPT_MODE_CBC, iv, b"The quick brown fox")
        # A different key gives a different answer: the key bytes are the ones used.
        _, other = _imported(prov, alg, bytes(reversed(material)))
        with other:
            other.CryptSetKeyParam(con.KP_IV, iv)
            assert other.CryptEncrypt(True, b"The quick brown fox") != out


def test_aligned_data_gains_a_whole_block_of_padding(prov: PyCRYPTPROV) -> None:
    material, key = _imported(prov, con.CALG_AES_128)
    with key:
        out = key.CryptEncrypt(True, bytes(32))
        assert len(out) == 48
        last = _ref_decrypt(con.CALG_AES_128, material, con.CRYPT_MODE_CBC, bytes(16), out)
        assert last[32:] == bytes([16]) * 16
        assert key.CryptEncrypt(True, b"") == _ref_encrypt(
            con.CALG_AES_128, material, con.CRYPT_MODE_CBC, bytes(16), b"")


def test_kp_iv_longer_than_a_block_is_cut_and_shorter_refused(prov: PyCRYPTPROV) -> None:
    material, key = _imported(prov, con.CALG_3DES)
    with key:
        key.CryptSetKeyParam(con.KP_IV, bytes(range(1, 13)))
        assert key.CryptGetKeyParam(con.KP_IV) == bytes(range(1, 9))
        assert key.CryptEncrypt(True, b"abc") == _ref_encrypt(
            con.CALG_3DES, material, con.CRYPT_MODE_CBC, bytes(range(1, 9)), b"abc")
        with pytest.raises(pywintypes.error) as exc:
            key.CryptSetKeyParam(con.KP_IV, bytes(7))
        assert _code(exc) == "NTE_BAD_DATA"


# ---- block ciphers: streaming ---------------------------------------------------------------
@pytest.mark.parametrize("mode", MODES, ids=MODE_NAMES.get)
@pytest.mark.parametrize("alg", [con.CALG_DES, con.CALG_3DES, con.CALG_AES_256], ids=ALG_NAMES.get)
def test_chunked_calls_equal_one_shot(prov: PyCRYPTPROV, alg: int, mode: int) -> None:
    block = _block(alg)
    iv = os.urandom(block)
    data = os.urandom(6 * block + 3)
    material, key = _imported(prov, alg)
    expected = _ref_encrypt(alg, material, mode, iv, data)
    with key:
        _setup(key, mode, iv)
        cuts = [0, block, 3 * block, 3 * block, 6 * block]  # an empty call in the middle
        parts = []
        for start, end in itertools.pairwise(cuts):
            part = key.CryptEncrypt(False, data[start:end])
            assert len(part) == end - start  # every block given comes back at once
            parts.append(part)
        parts.append(key.CryptEncrypt(True, data[6 * block:]))
        assert b"".join(parts) == expected
        # Decrypting in other pieces: nothing held back, padding removed at the end.
        plain = []
        for start, end in ((0, 2 * block), (2 * block, 5 * block)):
            piece = key.CryptDecrypt(False, expected[start:end])
            assert piece == data[start:end]
            plain.append(piece)
        plain.append(key.CryptDecrypt(True, expected[5 * block:]))
        assert b"".join(plain) == data


@pytest.mark.parametrize("alg", [con.CALG_DES, con.CALG_AES_128], ids=ALG_NAMES.get)
def test_without_final_the_data_must_be_whole_blocks(prov: PyCRYPTPROV, alg: int) -> None:
    block = _block(alg)
    material, key = _imported(prov, alg)
    with key:
        for size in (1, block - 1, block + 1):
            with pytest.raises(pywintypes.error) as exc:
                key.CryptEncrypt(False, bytes(size))
            assert (_code(exc), exc.value.funcname) == ("NTE_BAD_DATA", "CryptEncrypt")
            with pytest.raises(pywintypes.error) as exc:
                key.CryptDecrypt(False, bytes(size))
            assert (_code(exc), exc.value.funcname) == ("NTE_BAD_DATA", "CryptDecrypt")
        # The refusals left the chaining alone.
        assert key.CryptEncrypt(True, b"x") == _ref_encrypt(
            alg, material, con.CRYPT_MODE_CBC, bytes(block), b"x")


@pytest.mark.parametrize("mode", [con.CRYPT_MODE_CBC, con.CRYPT_MODE_CFB], ids=MODE_NAMES.get)
def test_chaining_continues_between_calls_and_resets_after_final(
    prov: PyCRYPTPROV, mode: int
) -> None:
    alg = con.CALG_AES_128
    iv = os.urandom(16)
    material, key = _imported(prov, alg)
    data = os.urandom(20)
    fresh = _ref_encrypt(alg, material, mode, iv, data)
    with key:
        _setup(key, mode, iv)
        assert key.CryptEncrypt(True, data) == fresh
        assert key.CryptEncrypt(True, data) == fresh  # reset to KP_IV after Final
        first = key.CryptEncrypt(False, bytes(16))
        continued = key.CryptEncrypt(True, data)
        assert first + continued == _ref_encrypt(alg, material, mode, iv, bytes(16) + data)
        assert continued != fresh
        assert key.CryptEncrypt(True, data) == fresh
        # Setting KP_IV mid-stream starts again from the new IV.
        key.CryptEncrypt(False, bytes(16))
        other_iv = os.urandom(16)
        key.CryptSetKeyParam(con.KP_IV, other_iv)
        assert key.CryptEncrypt(True, data) == _ref_encrypt(alg, material, mode, other_iv, data)


def test_duplicate_key_copies_the_chaining_state(prov: PyCRYPTPROV) -> None:
    alg = con.CALG_3DES_112
    material, key = _imported(prov, alg)
    iv = os.urandom(8)
    data = os.urandom(24)
    with key:
        key.CryptSetKeyParam(con.KP_IV, iv)
        head = key.CryptEncrypt(False, data[:16])
        with key.CryptDuplicateKey() as twin:
            tail_a = key.CryptEncrypt(True, data[16:])
            tail_b = twin.CryptEncrypt(True, data[16:])
            assert tail_a == tail_b
            assert head + tail_a == _ref_encrypt(alg, material, con.CRYPT_MODE_CBC, iv, data)
            assert twin.CryptGetKeyParam(con.KP_IV) == iv


# ---- decryption errors ----------------------------------------------------------------------
def _bad_paddings(block: int) -> list[bytes]:
    """Last plaintext blocks whose PKCS #5 padding is wrong."""
    return [
        bytes(block - 1) + b"\x00",                          # count 0
        bytes(block - 1) + bytes([block + 1]),               # count beyond the block
        b"A" * (block - 3) + b"\x01\x02\x03",               # count 3, bytes differ
        b"B" * (block - 2) + b"\x05\x02",                    # count 2, previous byte wrong
        bytes([0xFF]) * block,                               # count 255
    ]


@pytest.mark.parametrize("mode", MODES, ids=MODE_NAMES.get)
@pytest.mark.parametrize("alg", [con.CALG_DES, con.CALG_3DES, con.CALG_AES_192], ids=ALG_NAMES.get)
def test_bad_padding_is_bad_data_and_the_key_stays_usable(
    prov: PyCRYPTPROV, alg: int, mode: int
) -> None:
    block = _block(alg)
    iv = os.urandom(block)
    material, key = _imported(prov, alg)
    good_plain = os.urandom(2 * block + 1)
    good = _ref_encrypt(alg, material, mode, iv, good_plain)
    with key:
        _setup(key, mode, iv)
        for last in _bad_paddings(block):
            bad = _ref_encrypt(alg, material, mode, iv, os.urandom(2 * block) + last,
                               padded=False)
            with pytest.raises(pywintypes.error) as exc:
                key.CryptDecrypt(True, bad)
            assert (_code(exc), exc.value.funcname) == ("NTE_BAD_DATA", "CryptDecrypt"), last
            # The next message starts from KP_IV again.
            assert key.CryptDecrypt(True, good) == good_plain
        # Also when earlier blocks of the message came in a call of their own.
        bad = _ref_encrypt(alg, material, mode, iv, bytes(block) + _bad_paddings(block)[0],
                           padded=False)
        assert key.CryptDecrypt(False, bad[:block]) == bytes(block)
        with pytest.raises(pywintypes.error) as exc:
            key.CryptDecrypt(True, bad[block:])
        assert _code(exc) == "NTE_BAD_DATA"
        assert key.CryptDecrypt(True, good) == good_plain
        assert key.CryptEncrypt(True, good_plain) == good


def test_wrong_key_is_bad_data_exactly_when_the_padding_says_so(prov: PyCRYPTPROV) -> None:
    """Decrypting with the wrong key: NTE_BAD_DATA when what comes out is not
    PKCS #5-padded, else the garbage without its "padding" (cryptography decides)."""
    alg = con.CALG_AES_256
    right, wrong = bytes(range(32)), bytes(range(32, 64))
    _, key = _imported(prov, alg, right)
    _, other = _imported(prov, alg, wrong)
    refused = 0
    with key, other:
        for size in range(0, 40, 3):
            out = key.CryptEncrypt(True, bytes(range(size)))
            garbage = _ref_decrypt(alg, wrong, con.CRYPT_MODE_CBC, bytes(16), out)
            unpadder = sympadding.PKCS7(128).unpadder()
            try:
                expected: bytes | None = unpadder.update(garbage) + unpadder.finalize()
            except ValueError:
                expected = None
            if expected is None:
                refused += 1
                with pytest.raises(pywintypes.error) as exc:
                    other.CryptDecrypt(True, out)
                assert _code(exc) == "NTE_BAD_DATA", size
            else:
                assert other.CryptDecrypt(True, out) == expected, size
    assert refused >= 10  # the fixed inputs give mostly bad padding


@pytest.mark.parametrize("alg", [con.CALG_3DES_112, con.CALG_AES_128], ids=ALG_NAMES.get)
def test_ciphertext_not_whole_blocks_is_bad_data(prov: PyCRYPTPROV, alg: int) -> None:
    block = _block(alg)
    _, key = _imported(prov, alg)
    with key:
        good = key.CryptEncrypt(True, b"0123456789")
        for data in (good[:-1], good + b"\x00", good[:1]):
            for final in (True, False):
                with pytest.raises(pywintypes.error) as exc:
                    key.CryptDecrypt(final, data)
                assert _code(exc) == "NTE_BAD_DATA", (len(data), final)
        with pytest.raises(pywintypes.error) as exc:
            key.CryptDecrypt(True, b"")  # no block, so no padding to remove
        assert _code(exc) in ("NTE_BAD_DATA", "NTE_BAD_LEN")
        assert key.CryptDecrypt(False, b"") == b""
        assert key.CryptDecrypt(True, good) == b"0123456789"
        assert len(good) == 16 and len(good) % block == 0


# ---- the Hash argument -----------------------------------------------------------------------
@pytest.mark.parametrize(("halg", "name"), [(con.CALG_SHA_256, "sha256"), (con.CALG_MD5, "md5")])
def test_hash_argument_hashes_the_plaintext(prov: PyCRYPTPROV, halg: int, name: str) -> None:
    material, key = _imported(prov, con.CALG_AES_128)
    data = os.urandom(40)
    with key:
        with prov.CryptCreateHash(halg, None) as h:
            out = key.CryptEncrypt(False, data[:32], h) + key.CryptEncrypt(True, data[32:], h)
            assert h.CryptGetHashParam(con.HP_HASHVAL) == hashlib.new(name, data).digest()
        assert out == _ref_encrypt(con.CALG_AES_128, material, con.CRYPT_MODE_CBC, bytes(16),
                                   data)
        with prov.CryptCreateHash(halg, None) as h:
            # Decryption hashes what it returns: the plaintext without padding.
            plain = key.CryptDecrypt(False, out[:16], h) + key.CryptDecrypt(True, out[16:], h)
            assert plain == data
            assert h.CryptGetHashParam(con.HP_HASHVAL) == hashlib.new(name, data).digest()


def test_finished_or_destroyed_hash_is_refused_before_anything_happens(
    prov: PyCRYPTPROV,
) -> None:
    material, key = _imported(prov, con.CALG_DES)
    with key:
        h = prov.CryptCreateHash(con.CALG_SHA1, None)
        h.CryptGetHashParam(con.HP_HASHVAL)
        for call in (key.CryptEncrypt, key.CryptDecrypt):
            with pytest.raises(pywintypes.error) as exc:
                call(False, bytes(8), h)
            assert _code(exc) == "NTE_BAD_HASH_STATE"
        h.CryptDestroyHash()
        with pytest.raises(pywintypes.error) as exc:
            key.CryptEncrypt(False, bytes(8), h)
        assert _code(exc) == "ERROR_INVALID_HANDLE"
        # Nothing was encrypted: the chaining is still at KP_IV.
        assert key.CryptEncrypt(True, b"abc") == _ref_encrypt(
            con.CALG_DES, material, con.CRYPT_MODE_CBC, bytes(8), b"abc")


# ---- permissions, flags, handles -----------------------------------------------------------
def test_flags_other_than_oaep_are_refused(prov: PyCRYPTPROV) -> None:
    _, key = _imported(prov, con.CALG_AES_128)
    with key:
        for bits in (0x1, 0x2, 0x20, 0x80, 0x8000):
            with pytest.raises(pywintypes.error) as exc:
                key.CryptEncrypt(True, b"x", None, bits)
            assert _code(exc) == "NTE_BAD_FLAGS", hex(bits)
            with pytest.raises(pywintypes.error) as exc:
                key.CryptDecrypt(True, bytes(16), None, bits)
            assert _code(exc) == "NTE_BAD_FLAGS", hex(bits)


def test_permissions_without_encrypt_or_decrypt(prov: PyCRYPTPROV) -> None:
    _, key = _imported(prov, con.CALG_AES_128)
    with key:
        out = key.CryptEncrypt(True, b"data")
        key.CryptSetKeyParam(con.KP_PERMISSIONS, 0x3B & ~con.CRYPT_ENCRYPT)
        with pytest.raises(pywintypes.error) as exc:
            key.CryptEncrypt(True, b"data")
        assert _code(exc) == "NTE_PERM"
        assert key.CryptDecrypt(True, out) == b"data"
        key.CryptSetKeyParam(con.KP_PERMISSIONS, 0x3B & ~con.CRYPT_DECRYPT)
        with pytest.raises(pywintypes.error) as exc:
            key.CryptDecrypt(True, out)
        assert _code(exc) == "NTE_PERM"
        assert key.CryptEncrypt(True, b"data") == out


def test_destroyed_keys_are_invalid_handles(prov: PyCRYPTPROV) -> None:
    _, key = _imported(prov, con.CALG_3DES)
    out = key.CryptEncrypt(True, b"abc")
    rsa_key = prov.CryptGenKey(con.CALG_RSA_KEYX, 1024 << 16)
    for k, data in ((key, out), (rsa_key, bytes(128))):
        k.CryptDestroyKey()
        k.CryptDestroyKey()  # twice is harmless
        for call, name, payload in ((k.CryptEncrypt, "CryptEncrypt", b"abc"),
                                    (k.CryptDecrypt, "CryptDecrypt", data)):
            with pytest.raises(pywintypes.error) as exc:
                call(True, payload)
            assert (_code(exc), exc.value.funcname) == ("ERROR_INVALID_HANDLE", name)


def test_wrong_argument_types(prov: PyCRYPTPROV) -> None:
    _, key = _imported(prov, con.CALG_AES_128)
    with key:
        with pytest.raises(TypeError):
            key.CryptEncrypt(True, "text")  # type: ignore[arg-type]
        with pytest.raises(TypeError):
            key.CryptDecrypt(True, bytes(16), "not a hash")  # type: ignore[arg-type]
        via_bytearray = key.CryptEncrypt(True, bytearray(b"ok"))
        assert via_bytearray == key.CryptEncrypt(True, b"ok")


# ---- hypothesis: random data, random chunking ------------------------------------------------
@st.composite
def _messages(draw: st.DrawFn) -> tuple[int, int, bytes, list[int], list[int]]:
    alg = draw(st.sampled_from(SESSION))
    mode = draw(st.sampled_from(MODES))
    data = draw(st.binary(max_size=80))
    block = _block(alg)

    def chunking() -> list[int]:
        # Cut points at block boundaries strictly inside the whole-block prefix.
        whole = len(data) // block
        cuts = draw(st.lists(st.integers(0, whole), max_size=4))
        return sorted(c * block for c in cuts)

    return alg, mode, data, chunking(), chunking()


@pytest.fixture(scope="module")
def keys(ctx: PyCRYPTPROV) -> dict[int, tuple[bytes, PyCRYPTKEY]]:
    return {alg: _imported(ctx, alg) for alg in SESSION}


def _stream(call: Any, data: bytes, cuts: list[int]) -> bytes:
    points = [0, *cuts]
    out = [call(False, data[a:b]) for a, b in itertools.pairwise(points)]
    out.append(call(True, data[points[-1]:]))
    return b"".join(out)


@settings(max_examples=60, deadline=None)
@given(message=_messages(), iv_seed=st.binary(min_size=16, max_size=16))
def test_round_trip_and_cryptography_agree(
    keys: dict[int, tuple[bytes, PyCRYPTKEY]],
    message: tuple[int, int, bytes, list[int], list[int]],
    iv_seed: bytes,
) -> None:
    alg, mode, data, enc_cuts, _ = message
    material, key = keys[alg]
    iv = iv_seed[: _block(alg)]
    _setup(key, mode, iv)
    out = _stream(key.CryptEncrypt, data, enc_cuts)
    assert out == _ref_encrypt(alg, material, mode, iv, data)
    # Decrypted in other pieces (block boundaries before the last block).
    assert _stream(key.CryptDecrypt, out, message[4]) == data


# ---- RSA -------------------------------------------------------------------------------------
def test_rsa_pkcs1_encryption_is_little_endian(
    rsa_keyx: tuple[PyCRYPTKEY, rsa.RSAPrivateKey],
) -> None:
    key, private = rsa_keyx
    for size in (0, 1, 16, 117):
        data = os.urandom(size)
        out = key.CryptEncrypt(True, data)
        assert len(out) == 128
        assert private.decrypt(out[::-1], padding.PKCS1v15()) == data
        assert key.CryptDecrypt(True, out) == data
    # Randomised padding: the same plaintext twice gives two ciphertexts.
    assert key.CryptEncrypt(True, b"same") != key.CryptEncrypt(True, b"same")


def test_rsa_oaep_encryption(rsa_keyx: tuple[PyCRYPTKEY, rsa.RSAPrivateKey]) -> None:
    key, private = rsa_keyx
    for size in (0, 1, 32, 86):
        data = os.urandom(size)
        out = key.CryptEncrypt(True, data, None, con.CRYPT_OAEP)
        assert len(out) == 128
        assert private.decrypt(out[::-1], OAEP) == data
        assert key.CryptDecrypt(True, out, None, con.CRYPT_OAEP) == data


def test_rsa_decrypts_what_cryptography_encrypts(
    rsa_keyx: tuple[PyCRYPTKEY, rsa.RSAPrivateKey],
) -> None:
    key, private = rsa_keyx
    public = private.public_key()
    for flag_bits, pad in ((0, padding.PKCS1v15()), (con.CRYPT_OAEP, OAEP)):
        data = os.urandom(40)
        big_endian = public.encrypt(data, pad)
        assert key.CryptDecrypt(True, big_endian[::-1], None, flag_bits) == data
        # The Final flag does not matter for RSA: every call is one message.
        assert key.CryptDecrypt(False, public.encrypt(data, pad)[::-1], None, flag_bits) == data


def test_rsa_plaintext_limits(rsa_keyx: tuple[PyCRYPTKEY, rsa.RSAPrivateKey]) -> None:
    key, _ = rsa_keyx
    for flag_bits, limit in ((0, 128 - 11), (con.CRYPT_OAEP, 128 - 42)):
        key.CryptEncrypt(True, bytes(limit), None, flag_bits)
        for size in (limit + 1, 128, 300):
            with pytest.raises(pywintypes.error) as exc:
                key.CryptEncrypt(True, bytes(size), None, flag_bits)
            assert (_code(exc), exc.value.funcname) == ("NTE_BAD_LEN", "CryptEncrypt"), size


def test_rsa_bad_ciphertexts_are_bad_data(rsa_keyx: tuple[PyCRYPTKEY, rsa.RSAPrivateKey]) -> None:
    key, private = rsa_keyx
    public = private.public_key()
    pkcs1 = public.encrypt(b"abc", padding.PKCS1v15())[::-1]
    oaep = public.encrypt(b"abc", OAEP)[::-1]
    cases = [
        (pkcs1, con.CRYPT_OAEP),  # the wrong padding scheme
        (oaep, 0),
        (pkcs1[:-1], 0),  # one byte short
        (pkcs1 + b"\x00", 0),
        (b"", 0),
        (pkcs1[::-1], 0),  # big-endian given where little-endian is expected
    ]
    for data, flag_bits in cases:
        with pytest.raises(pywintypes.error) as exc:
            key.CryptDecrypt(True, data, None, flag_bits)
        assert (_code(exc), exc.value.funcname) == ("NTE_BAD_DATA", "CryptDecrypt"), \
            (len(data), flag_bits)
    assert key.CryptDecrypt(True, pkcs1) == b"abc"  # the key still works


def test_rsa_hash_argument(ctx: PyCRYPTPROV,
                           rsa_keyx: tuple[PyCRYPTKEY, rsa.RSAPrivateKey]) -> None:
    key, private = rsa_keyx  # made in ``ctx``
    with ctx.CryptCreateHash(con.CALG_SHA1, None) as h:
        out = key.CryptEncrypt(True, b"hash me", h)
        assert h.CryptGetHashParam(con.HP_HASHVAL) == hashlib.sha1(b"hash me").digest()
    with ctx.CryptCreateHash(con.CALG_SHA1, None) as h:
        assert key.CryptDecrypt(True, out, h) == b"hash me"
        assert h.CryptGetHashParam(con.HP_HASHVAL) == hashlib.sha1(b"hash me").digest()
    assert private.decrypt(out[::-1], padding.PKCS1v15()) == b"hash me"


def test_rsa_flags_other_than_oaep(rsa_keyx: tuple[PyCRYPTKEY, rsa.RSAPrivateKey]) -> None:
    key, _ = rsa_keyx
    for bits in (0x1, 0x20, 0x41, 0x100):
        with pytest.raises(pywintypes.error) as exc:
            key.CryptEncrypt(True, b"x", None, bits)
        assert _code(exc) == "NTE_BAD_FLAGS", hex(bits)
        with pytest.raises(pywintypes.error) as exc:
            key.CryptDecrypt(True, bytes(128), None, bits)
        assert _code(exc) == "NTE_BAD_FLAGS", hex(bits)


def test_rsa_signature_key_does_not_encrypt(prov: PyCRYPTPROV) -> None:
    with prov.CryptGenKey(con.CALG_RSA_SIGN, 1024 << 16) as key:
        with pytest.raises(pywintypes.error) as exc:
            key.CryptEncrypt(True, b"x")
        assert (_code(exc), exc.value.funcname) == ("NTE_BAD_KEY", "CryptEncrypt")
        with pytest.raises(pywintypes.error) as exc:
            key.CryptDecrypt(True, bytes(128))
        assert (_code(exc), exc.value.funcname) == ("NTE_BAD_KEY", "CryptDecrypt")


def test_rsa_public_key_alone_encrypts_but_cannot_decrypt(
    prov: PyCRYPTPROV, rsa_keyx: tuple[PyCRYPTKEY, rsa.RSAPrivateKey],
) -> None:
    key, private = rsa_keyx
    with prov.CryptImportKey(key.CryptExportKey(None, con.PUBLICKEYBLOB)) as public:
        out = public.CryptEncrypt(True, b"to the owner")
        assert private.decrypt(out[::-1], padding.PKCS1v15()) == b"to the owner"
        assert key.CryptDecrypt(True, out) == b"to the owner"
        with pytest.raises(pywintypes.error) as exc:
            public.CryptDecrypt(True, out)
        assert _code(exc) == "NTE_BAD_KEY"


def test_des_is_the_same_in_the_strong_provider(prov: PyCRYPTPROV) -> None:
    """The same DES key bytes encrypt alike in the Strong (RSA_FULL) and AES providers."""
    material = os.urandom(8)
    with _ctx(con.PROV_RSA_FULL) as full:
        _, a = _imported(full, con.CALG_DES, material)
        _, b = _imported(prov, con.CALG_DES, material)
        with a, b:
            assert a.CryptEncrypt(True, b"same everywhere") == b.CryptEncrypt(
                True, b"same everywhere")


@pytest.mark.parametrize("mode", [con.CRYPT_MODE_CBC, con.CRYPT_MODE_ECB])
@pytest.mark.parametrize("size", [128 * 1024, 128 * 1024 + 5])
def test_large_final_calls(prov: PyCRYPTPROV, mode: int, size: int) -> None:
    """A large aligned final call pads in a call of its own (no copy): same bytes."""
    material, key = _imported(prov, con.CALG_AES_256)
    iv = os.urandom(16)
    _setup(key, mode, iv)
    data = os.urandom(size)
    out = key.CryptEncrypt(True, data)
    assert out == _ref_encrypt(con.CALG_AES_256, material, mode, iv, data)
    assert key.CryptDecrypt(True, out) == data
    # The chain was reset by Final: the same call again gives the same bytes.
    assert key.CryptEncrypt(True, data) == out
    key.CryptDestroyKey()
