"""Key BLOBs (csp11.formats.blobs): Windows' own bytes, round trips, and fuzzing — no token.

The Windows vectors are data kept with the tests
(``tests/data/windows-kat.json``, Windows-observed answers re-checked
with an independent implementation; origin in ``tests/data/README.md``).
Every other test builds its inputs here.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import secrets
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, get_args

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import dh, dsa, padding, rsa
from hypothesis import given, settings
from hypothesis import strategies as st

from csp11 import win32cryptcon as con
from csp11 import winerror
from csp11.errors import Fail
from csp11.formats import blobs
from csp11.formats.blobs import (
    DH_BITS,
    DSS_BITS,
    NO_SEED,
    RSA_BITS,
    BitRange,
    BlobHeader,
    DhPrivateBlob,
    DhPrivateBlobV3,
    DhPublicBlob,
    DhPublicBlobV3,
    DssPrivateBlob,
    DssPrivateBlobV3,
    DssPublicBlob,
    DssPublicBlobV3,
    DssSeed,
    KeyBlob,
    PlaintextKeyBlob,
    RsaPrivateBlob,
    RsaPublicBlob,
    SimpleBlob,
    SymmetricWrapKeyBlob,
    parse_key_blob,
)
from csp11.formats.byteorder import int_to_le, le_to_be
from csp11.formats.dhgroups import GROUPS
from csp11.formats.domain import is_probable_prime

KAT = Path(__file__).resolve().parent / "data" / "windows-kat.json"

# The only codes a malformed BLOB may produce (the module's contract).
BLOB_CODES = {
    winerror.NTE_BAD_DATA,
    winerror.NTE_BAD_TYPE,
    winerror.NTE_BAD_VER,
    winerror.NTE_BAD_LEN,
}

# FFDH is deprecated in cryptography 50; the conversions still have to work.
ignore_ffdh_deprecation = pytest.mark.filterwarnings(
    "ignore:Diffie-Hellman over finite fields:cryptography.utils.CryptographyDeprecationWarning"
)


def _code(call: Callable[..., object], *args: Any) -> int:
    """The Windows code of the :class:`Fail` that ``call(*args)`` must raise."""
    with pytest.raises(Fail) as info:
        call(*args)
    return info.value.code


def _parse_or_fail(data: bytes) -> KeyBlob | None:
    """Parse ``data``; a failure must be a Fail with a BLOB code, a success must re-encode."""
    try:
        blob = parse_key_blob(data)
    except Fail as exc:
        assert exc.code in BLOB_CODES, (hex(exc.code & 0xFFFFFFFF), exc.message)
        return None
    assert blob.to_bytes() == data
    return blob


# ---------------------------------------------------------------------------
# Windows' bytes


@pytest.fixture(scope="module")
def kat() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(KAT.read_text())
    return data


def _vector(kat: dict[str, Any], name: str) -> bytes:
    return bytes.fromhex(kat["blobs"][name])


def test_windows_private_key_blob(kat: dict[str, Any]) -> None:
    data = _vector(kat, "abPlainPrivateKey")
    blob = parse_key_blob(data)
    assert isinstance(blob, RsaPrivateBlob)
    assert blob.header == BlobHeader(con.PRIVATEKEYBLOB, 2, 0, con.CALG_RSA_KEYX)
    assert (blob.bitlen, blob.pubexp) == (1024, 65537)
    assert len(data) == 20 + 9 * blob.bitlen // 16  # WINDOWS-FACTS
    assert blob.to_bytes() == data
    assert RsaPrivateBlob.from_bytes(data) == blob


@pytest.mark.parametrize(
    ("name", "algid", "bits"),
    [("abPubKey", con.CALG_RSA_SIGN, 1024), ("abPlainPublicKey", con.CALG_RSA_KEYX, 512)],
)
def test_windows_public_key_blobs(kat: dict[str, Any], name: str, algid: int, bits: int) -> None:
    data = _vector(kat, name)
    blob = parse_key_blob(data)
    assert isinstance(blob, RsaPublicBlob)
    assert blob.header == BlobHeader(con.PUBLICKEYBLOB, 2, 0, algid)
    assert (blob.bitlen, blob.pubexp) == (bits, 65537)
    assert len(data) == 20 + bits // 8
    assert blob.to_bytes() == data


def test_windows_private_key_matches_cryptography(kat: dict[str, Any]) -> None:
    blob = RsaPrivateBlob.from_bytes(_vector(kat, "abPlainPrivateKey"))
    key = blobs.rsa_private_from_blob(blob)
    numbers = key.private_numbers()
    p, q, d, e, n = numbers.p, numbers.q, numbers.d, blob.pubexp, blob.n
    assert p * q == n
    assert d * e % math.lcm(p - 1, q - 1) == 1
    assert (numbers.dmp1, numbers.dmq1) == (d % (p - 1), d % (q - 1))
    assert numbers.iqmp * q % p == 1
    assert (blob.p, blob.q, blob.dp, blob.dq, blob.qinv, blob.d) == (
        p,
        q,
        numbers.dmp1,
        numbers.dmq1,
        numbers.iqmp,
        d,
    )
    # Its public half, as cryptography computes it, is the PUBLICKEYBLOB the
    # private BLOB implies (same header fields but bType).
    public = blobs.rsa_public_to_blob(key.public_key(), blob.aiKeyAlg)
    assert public == blob.public_blob()
    assert public.header == BlobHeader(con.PUBLICKEYBLOB, 2, 0, con.CALG_RSA_KEYX)
    assert public.to_bytes() == (
        BlobHeader(con.PUBLICKEYBLOB, 2, 0, blob.aiKeyAlg).to_bytes()
        + b"RSA1"
        + int_to_le(1024, 4)
        + int_to_le(65537, 4)
        + int_to_le(n, 128)
    )
    # And back: the BLOB cryptography's numbers make is Windows' byte for byte.
    assert blobs.rsa_private_to_blob(key, blob.aiKeyAlg).to_bytes() == blob.to_bytes()


def test_windows_signatures_verify_with_abpubkey(kat: dict[str, Any]) -> None:
    key = blobs.rsa_public_from_blob(RsaPublicBlob.from_bytes(_vector(kat, "abPubKey")))
    message = b"Wine rocks!\0"
    signatures = kat["signatures_over_Wine_rocks_nul"]
    # CryptoAPI signatures are little-endian: reversed, they are PKCS #1 v1.5.
    with_oid = le_to_be(bytes.fromhex(signatures["MD5"]))
    key.verify(with_oid, message, padding.PKCS1v15(), hashes.MD5())
    # CRYPT_NOHASHOID: the padded block holds the bare MD5, no DigestInfo.
    no_oid = le_to_be(bytes.fromhex(signatures["MD5NoOID"]))
    digest = hashlib.md5(message).digest()  # the vector is MD5
    assert key.recover_data_from_signature(no_oid, padding.PKCS1v15(), None) == digest
    block = pow(int.from_bytes(no_oid, "big"), 65537, key.public_numbers().n).to_bytes(128, "big")
    assert block == b"\x00\x01" + b"\xff" * (128 - 3 - 16) + b"\x00" + digest


# ---------------------------------------------------------------------------
# Round trips over every BLOB type

ALGIDS = st.integers(0, 0xFFFFFFFF)
DWORDS = st.integers(0, 0xFFFFFFFF)
SEEDS = st.builds(DssSeed, DWORDS, st.binary(min_size=20, max_size=20)) | st.just(NO_SEED)


def _number(size: int) -> st.SearchStrategy[int]:
    return st.integers(0, (1 << (8 * size)) - 1)


def _bits(limits: BitRange) -> st.SearchStrategy[int]:
    return st.integers(limits.low // 8, limits.high // 8).map(lambda n: n * 8)


def _sub_bits(top: int, least: int = 0) -> st.SearchStrategy[int]:
    return st.integers(least, top // 8).map(lambda n: n * 8)


def _rsa_public(bits: int) -> st.SearchStrategy[RsaPublicBlob]:
    return st.builds(RsaPublicBlob, ALGIDS, st.just(bits), DWORDS, _number(bits // 8))


def _rsa_private(bits: int) -> st.SearchStrategy[RsaPrivateBlob]:
    half = (bits // 8 + 1) // 2
    return st.builds(
        RsaPrivateBlob,
        ALGIDS,
        st.just(bits),
        DWORDS,
        _number(bits // 8),
        *[_number(half)] * 5,
        _number(bits // 8),
    )


def _dss_public(bits: int) -> st.SearchStrategy[DssPublicBlob]:
    size = bits // 8
    return st.builds(
        DssPublicBlob,
        ALGIDS,
        st.just(bits),
        _number(size),
        _number(20),
        _number(size),
        _number(size),
        SEEDS,
    )


def _dss_private(bits: int) -> st.SearchStrategy[DssPrivateBlob]:
    size = bits // 8
    return st.builds(
        DssPrivateBlob,
        ALGIDS,
        st.just(bits),
        _number(size),
        _number(20),
        _number(size),
        _number(20),
        SEEDS,
    )


def _dh_public(bits: int) -> st.SearchStrategy[DhPublicBlob]:
    return st.builds(DhPublicBlob, ALGIDS, st.just(bits), _number(bits // 8))


def _dh_private(bits: int) -> st.SearchStrategy[DhPrivateBlob]:
    size = bits // 8
    return st.builds(
        DhPrivateBlob, ALGIDS, st.just(bits), _number(size), _number(size), _number(size)
    )


@st.composite
def _ver3(draw: st.DrawFn, cls: type[blobs.KeyBlob], limits: BitRange) -> KeyBlob:
    bp = draw(_bits(limits))
    bq, bj = draw(_sub_bits(bp)), draw(_sub_bits(bp))
    members: dict[str, Any] = {
        "aiKeyAlg": draw(ALGIDS),
        "bitlenP": bp,
        "bitlenQ": bq,
        "bitlenJ": bj,
        "p": draw(_number(bp // 8)),
        "q": draw(_number(bq // 8)),
        "g": draw(_number(bp // 8)),
        "j": draw(_number(bj // 8)),
        "y": draw(_number(bp // 8)),
        "seed": draw(SEEDS),
    }
    if cls in (DssPrivateBlobV3, DhPrivateBlobV3):
        bx = draw(_sub_bits(bp, least=1))
        members |= {"bitlenX": bx, "x": draw(_number(bx // 8))}
    blob: KeyBlob = cls(**members)
    return blob


STRATEGIES: dict[type[KeyBlob], st.SearchStrategy[Any]] = {
    RsaPublicBlob: _bits(RSA_BITS).flatmap(_rsa_public),
    RsaPrivateBlob: _bits(RSA_BITS).flatmap(_rsa_private),
    DssPublicBlob: _bits(DSS_BITS).flatmap(_dss_public),
    DssPrivateBlob: _bits(DSS_BITS).flatmap(_dss_private),
    DssPublicBlobV3: _ver3(DssPublicBlobV3, DSS_BITS),
    DssPrivateBlobV3: _ver3(DssPrivateBlobV3, DSS_BITS),
    DhPublicBlob: _bits(DH_BITS).flatmap(_dh_public),
    DhPrivateBlob: _bits(DH_BITS).flatmap(_dh_private),
    DhPublicBlobV3: _ver3(DhPublicBlobV3, DH_BITS),
    DhPrivateBlobV3: _ver3(DhPrivateBlobV3, DH_BITS),
    SimpleBlob: st.builds(SimpleBlob, ALGIDS, DWORDS, st.binary(min_size=48, max_size=2048)),
    PlaintextKeyBlob: st.builds(PlaintextKeyBlob, ALGIDS, st.binary(min_size=1, max_size=64)),
    SymmetricWrapKeyBlob: st.builds(
        SymmetricWrapKeyBlob,
        ALGIDS,
        DWORDS,
        st.integers(2, 8).flatmap(lambda n: st.binary(min_size=8 * n, max_size=8 * n)),
    ),
}
ANY_BLOB = st.one_of(*STRATEGIES.values())


def test_every_blob_type_has_a_strategy() -> None:
    assert set(STRATEGIES) == set(get_args(KeyBlob))


@given(ANY_BLOB)
def test_every_blob_round_trips(blob: KeyBlob) -> None:
    data = blob.to_bytes()
    assert parse_key_blob(data) == blob
    assert type(blob).from_bytes(data) == blob
    assert blobs.encode_key_blob(blob) == data
    assert BlobHeader.from_bytes(data[:8]) == blob.header


@given(ANY_BLOB, st.data())
def test_blobs_compare_hash_and_print_by_their_members(blob: KeyBlob, data: st.DataObject) -> None:
    """BLOB classes are structures (csp11.structs.Struct), not dataclasses: they
    must behave as a frozen dataclass with the same members does."""
    members = blob.MEMBERS
    values = tuple(getattr(blob, name) for name in members)
    reference = dataclasses.make_dataclass(type(blob).__name__, members, frozen=True)(*values)
    # (Python prints no int of more than 4300 digits: 16384-bit RSA numbers.)
    if all(not isinstance(v, int) or v.bit_length() < 14000 for v in values):
        assert repr(blob) == repr(reference)
    assert hash(blob) == hash(reference) == hash(values)
    same = blob.replace()
    assert same == blob and hash(same) == hash(blob) and same is not blob
    assert type(blob)(*values) == blob == type(blob)(**dict(zip(members, values, strict=True)))
    # Any one member changed: no longer equal.
    name = data.draw(st.sampled_from(members))
    value = getattr(blob, name)
    other: Any = (value + 1 if isinstance(value, int)
             else value + b"x" if isinstance(value, bytes)
             else blobs.DssSeed(value.counter ^ 1, value.seed))
    changed = blob.replace(**{name: other})
    assert changed != blob and not changed == blob  # noqa: SIM201 - both operators
    assert getattr(changed, name) == other
    # Another class, or a tuple of the same values, is never equal.
    assert blob != values and blob != reference
    with pytest.raises(dataclasses.FrozenInstanceError):
        setattr(blob, name, other)
    with pytest.raises(dataclasses.FrozenInstanceError):
        delattr(blob, name)


@given(_bits(RSA_BITS))
def test_rsa_blob_sizes_are_windows_sizes(bits: int) -> None:
    half = (bits // 8 + 1) // 2
    zero = RsaPrivateBlob(con.CALG_RSA_KEYX, bits, 3, 0, 0, 0, 0, 0, 0, 0)
    assert len(zero.to_bytes()) == 20 + 2 * bits // 8 + 5 * half
    if bits % 16 == 0:
        assert len(zero.to_bytes()) == 20 + 9 * bits // 16
    assert len(zero.public_blob().to_bytes()) == 20 + bits // 8


# ---------------------------------------------------------------------------
# Real keys, through cryptography


def _prime(bits: int) -> int:
    while True:
        candidate = secrets.randbits(bits) | (3 << (bits - 2)) | 1  # top two bits: n has 2·bits
        if is_probable_prime(candidate):
            return candidate


def _rsa_512() -> rsa.RSAPrivateKey:
    # cryptography no longer generates keys below 1024 bits, but loads them;
    # the base provider's 512-bit keys are still the ones Windows' vectors use.
    e = 65537
    while True:
        p, q = _prime(256), _prime(256)
        if p != q and math.gcd(e, (p - 1) * (q - 1)) == 1:
            break
    d = pow(e, -1, math.lcm(p - 1, q - 1))
    numbers = rsa.RSAPrivateNumbers(
        p, q, d, d % (p - 1), d % (q - 1), pow(q, -1, p), rsa.RSAPublicNumbers(e, p * q)
    )
    return numbers.private_key()


@pytest.fixture(scope="module", params=[512, 1024, 1032])
def rsa_key(request: pytest.FixtureRequest) -> rsa.RSAPrivateKey:
    bits: int = request.param
    return _rsa_512() if bits == 512 else rsa.generate_private_key(65537, bits)


def test_rsa_private_round_trip(rsa_key: rsa.RSAPrivateKey) -> None:
    blob = blobs.rsa_private_to_blob(rsa_key, con.CALG_RSA_KEYX)
    data = blob.to_bytes()
    bits = rsa_key.key_size
    assert blob.bitlen == bits
    assert len(data) == 20 + 2 * bits // 8 + 5 * ((bits // 8 + 1) // 2)
    assert parse_key_blob(data) == blob
    back = blobs.rsa_private_from_blob(RsaPrivateBlob.from_bytes(data))
    assert back.private_numbers() == rsa_key.private_numbers()
    # The converted key signs; the original's public half verifies.
    signature = back.sign(b"data", padding.PKCS1v15(), hashes.SHA256())
    rsa_key.public_key().verify(signature, b"data", padding.PKCS1v15(), hashes.SHA256())


def test_rsa_public_round_trip(rsa_key: rsa.RSAPrivateKey) -> None:
    public = rsa_key.public_key()
    blob = blobs.rsa_public_to_blob(public, con.CALG_RSA_SIGN)
    assert blob == blobs.rsa_private_to_blob(rsa_key, con.CALG_RSA_SIGN).public_blob()
    back = blobs.rsa_public_from_blob(RsaPublicBlob.from_bytes(blob.to_bytes()))
    assert back.public_numbers() == public.public_numbers()


def test_simpleblob_carries_a_pkcs1_ciphertext_byte_reversed(rsa_key: rsa.RSAPrivateKey) -> None:
    session = secrets.token_bytes(24)
    ciphertext = rsa_key.public_key().encrypt(session, padding.PKCS1v15())
    blob = SimpleBlob.from_ciphertext(con.CALG_3DES, con.CALG_RSA_KEYX, ciphertext)
    data = blob.to_bytes()
    assert data[8:12] == int_to_le(con.CALG_RSA_KEYX, 4)
    assert data[12:] == ciphertext[::-1]
    parsed = parse_key_blob(data)
    assert isinstance(parsed, SimpleBlob)
    assert parsed.header == BlobHeader(con.SIMPLEBLOB, 2, 0, con.CALG_3DES)
    assert rsa_key.decrypt(parsed.ciphertext, padding.PKCS1v15()) == session


def test_rsa_conversions_refuse_inconsistent_numbers(rsa_key: rsa.RSAPrivateKey) -> None:
    blob = blobs.rsa_private_to_blob(rsa_key, con.CALG_RSA_KEYX)
    wrong_n = blob.replace(n=blob.n + 2)
    assert _code(blobs.rsa_private_from_blob, wrong_n) == winerror.NTE_BAD_DATA
    wrong_dp = blob.replace(dp=blob.dp ^ 2)
    assert _code(blobs.rsa_private_from_blob, wrong_dp) == winerror.NTE_BAD_DATA
    even_e = RsaPublicBlob(con.CALG_RSA_KEYX, blob.bitlen, 4, blob.n)
    assert _code(blobs.rsa_public_from_blob, even_e) == winerror.NTE_BAD_DATA


def test_rsa_exponent_wider_than_a_dword_is_refused(rsa_key: rsa.RSAPrivateKey) -> None:
    numbers = rsa_key.private_numbers()
    p, q = numbers.p, numbers.q
    e = next(e for e in range(2**32 + 1, 2**33, 2) if math.gcd(e, (p - 1) * (q - 1)) == 1)
    d = pow(e, -1, math.lcm(p - 1, q - 1))
    big_e = rsa.RSAPrivateNumbers(
        p, q, d, d % (p - 1), d % (q - 1), numbers.iqmp, rsa.RSAPublicNumbers(e, p * q)
    ).private_key()
    assert _code(blobs.rsa_private_to_blob, big_e, 0) == winerror.NTE_BAD_DATA
    assert _code(blobs.rsa_public_to_blob, big_e.public_key(), 0) == winerror.NTE_BAD_DATA


@pytest.fixture(scope="module")
def dsa_key() -> dsa.DSAPrivateKey:
    return dsa.generate_private_key(1024)


def test_dsa_round_trips(dsa_key: dsa.DSAPrivateKey) -> None:
    seed = DssSeed(1234, secrets.token_bytes(20))
    private = blobs.dsa_private_to_blob(dsa_key, con.CALG_DSS_SIGN, seed)
    data = private.to_bytes()
    assert len(data) == 16 + 128 + 20 + 128 + 20 + 24  # p, q, g, x, DSSSEED
    assert parse_key_blob(data) == private
    back = blobs.dsa_private_from_blob(DssPrivateBlob.from_bytes(data))
    assert back.private_numbers() == dsa_key.private_numbers()

    public = blobs.dsa_public_to_blob(dsa_key.public_key(), con.CALG_DSS_SIGN, seed)
    assert public == private.public_blob()
    assert len(public.to_bytes()) == 16 + 128 + 20 + 128 + 128 + 24  # p, q, g, y, DSSSEED
    key = blobs.dsa_public_from_blob(DssPublicBlob.from_bytes(public.to_bytes()))
    assert key.public_numbers() == dsa_key.public_key().public_numbers()
    key.verify(back.sign(b"data", hashes.SHA1()), b"data", hashes.SHA1())


def test_dsa_conversions_refuse_what_cryptography_cannot_hold(dsa_key: dsa.DSAPrivateKey) -> None:
    blob = blobs.dsa_private_to_blob(dsa_key, con.CALG_DSS_SIGN)
    # 512-bit DSS is a valid BLOB but not a cryptography key.
    small = DssPublicBlob(con.CALG_DSS_SIGN, 512, (1 << 511) | 1, blob.q, 2, 5)
    assert _code(blobs.dsa_public_from_blob, small) == winerror.NTE_BAD_DATA
    no_prime = DssPrivateBlob(con.CALG_DSS_SIGN, 512, 0, blob.q, 2, 5, NO_SEED)
    assert _code(blobs.dsa_private_from_blob, no_prime) == winerror.NTE_BAD_DATA
    assert _code(no_prime.public_blob) == winerror.NTE_BAD_DATA
    bad_g = blob.replace(g=1)
    assert _code(blobs.dsa_private_from_blob, bad_g) == winerror.NTE_BAD_DATA


@ignore_ffdh_deprecation
def test_dh_round_trips_and_agrees() -> None:
    group = GROUPS[1024]
    params = dh.DHParameterNumbers(group.prime, group.generator)
    mine = params.parameters().generate_private_key()
    theirs = params.parameters().generate_private_key()

    private = blobs.dh_private_to_blob(mine, con.CALG_DH_SF)
    data = private.to_bytes()
    assert len(data) == 16 + 3 * 128
    assert parse_key_blob(data) == private
    back = blobs.dh_private_from_blob(DhPrivateBlob.from_bytes(data))
    assert back.private_numbers() == mine.private_numbers()

    public = blobs.dh_public_to_blob(theirs.public_key(), con.CALG_DH_EPHEM)
    assert len(public.to_bytes()) == 16 + 128
    assert blobs.dh_private_to_blob(theirs, con.CALG_DH_EPHEM).public_blob() == public
    peer = blobs.dh_public_from_blob(DhPublicBlob.from_bytes(public.to_bytes()), params)
    assert back.exchange(peer) == theirs.exchange(mine.public_key())


@ignore_ffdh_deprecation
def test_dh_with_dsa_style_parameters_needs_q(dsa_key: dsa.DSAPrivateKey) -> None:
    # Windows makes DH parameters the DSA way (P = JQ + 1); OpenSSL wants Q then.
    pn = dsa_key.parameters().parameter_numbers()
    x = secrets.randbelow(pn.q - 2) + 1
    blob = DhPrivateBlob(con.CALG_DH_SF, 1024, pn.p, pn.g, x)
    assert _code(blobs.dh_private_from_blob, blob) == winerror.NTE_BAD_DATA
    key = blobs.dh_private_from_blob(blob, q=pn.q)
    assert key.private_numbers().public_numbers.y == pow(pn.g, x, pn.p)


@ignore_ffdh_deprecation
def test_dh_public_checks() -> None:
    group = GROUPS[1024]
    params = dh.DHParameterNumbers(group.prime, group.generator)
    for y in (0, 1, group.prime - 1):
        blob = DhPublicBlob(con.CALG_DH_SF, 1024, y)
        assert _code(blobs.dh_public_from_blob, blob, params) == winerror.NTE_BAD_DATA
    wrong_size = DhPublicBlob(con.CALG_DH_SF, 768, 5)
    assert _code(blobs.dh_public_from_blob, wrong_size, params) == winerror.NTE_BAD_DATA


# ---------------------------------------------------------------------------
# Malformed input: only Fail, only the four codes


def _header(btype: int, version: int = 2, reserved: int = 0, algid: int = 0) -> bytes:
    return BlobHeader(btype, version, reserved, algid).to_bytes()


def _samples() -> Iterator[KeyBlob]:
    """One valid BLOB of every type, small enough to mutate exhaustively."""
    yield RsaPublicBlob(con.CALG_RSA_KEYX, 384, 65537, 7)
    yield RsaPrivateBlob(con.CALG_RSA_SIGN, 392, 3, 1, 2, 3, 4, 5, 6, 7)
    yield DssPublicBlob(con.CALG_DSS_SIGN, 512, 1, 2, 3, 4)
    yield DssPrivateBlob(con.CALG_DSS_SIGN, 512, 1, 2, 3, 4, DssSeed(9, bytes(range(20))))
    yield DssPublicBlobV3(con.CALG_DSS_SIGN, 512, 160, 0, 1, 2, 3, 0, 5)
    yield DssPrivateBlobV3(con.CALG_DSS_SIGN, 512, 160, 352, 160, 1, 2, 3, 4, 5, 6)
    yield DhPublicBlob(con.CALG_DH_SF, 384, 5)
    yield DhPrivateBlob(con.CALG_DH_EPHEM, 384, 23, 5, 6)
    yield DhPublicBlobV3(con.CALG_DH_SF, 512, 0, 0, 1, 0, 2, 0, 3)
    yield DhPrivateBlobV3(con.CALG_DH_SF, 512, 160, 0, 160, 1, 2, 3, 0, 5, 6)
    yield SimpleBlob(con.CALG_RC4, con.CALG_RSA_KEYX, bytes(range(64)))
    yield PlaintextKeyBlob(con.CALG_AES_128, bytes(16))
    yield SymmetricWrapKeyBlob(con.CALG_3DES, con.CALG_3DES, bytes(40))


SAMPLES = list(_samples())
FIXED_LAYOUTS = [b for b in SAMPLES if not isinstance(b, SimpleBlob | SymmetricWrapKeyBlob)]


def test_samples_cover_every_type() -> None:
    assert {type(b) for b in SAMPLES} == set(get_args(KeyBlob))


@pytest.mark.parametrize("blob", FIXED_LAYOUTS, ids=lambda b: type(b).__name__)
def test_every_truncation_and_extension_is_bad_len(blob: KeyBlob) -> None:
    data = blob.to_bytes()
    for size in range(len(data)):
        assert _code(parse_key_blob, data[:size]) == winerror.NTE_BAD_LEN, size
        assert _code(type(blob).from_bytes, data[:size]) == winerror.NTE_BAD_LEN
    assert _code(parse_key_blob, data + b"\0") == winerror.NTE_BAD_LEN


@pytest.mark.parametrize("blob", SAMPLES, ids=lambda b: type(b).__name__)
def test_flipped_bytes_give_a_blob_or_a_blob_code(blob: KeyBlob) -> None:
    data = blob.to_bytes()
    # Header, magic and the bit lengths/sizes that follow: where parsing decides.
    for position in range(min(len(data), 32)):
        for mask in (0x01, 0x08, 0x80, 0xFF):
            mutated = bytearray(data)
            mutated[position] ^= mask
            _parse_or_fail(bytes(mutated))
    for size in range(len(data)):
        _parse_or_fail(data[:size])


@given(st.binary(max_size=400))
def test_arbitrary_bytes(data: bytes) -> None:
    _parse_or_fail(data)


MAGICS = [
    blobs.MAGIC_RSA1,
    blobs.MAGIC_RSA2,
    blobs.MAGIC_DSS1,
    blobs.MAGIC_DSS2,
    blobs.MAGIC_DSS3,
    blobs.MAGIC_DSS4,
    blobs.MAGIC_DH1,
    blobs.MAGIC_DH2,
    blobs.MAGIC_DH3,
    blobs.MAGIC_DH4,
]


@given(
    st.sampled_from([1, 6, 7, 8, 9, 10, 11, 12]) | st.integers(0, 255),
    st.sampled_from([2, 3]) | st.integers(0, 255),
    st.just(0) | st.integers(0, 0xFFFF),
    ALGIDS,
    st.sampled_from(MAGICS) | DWORDS,
    st.lists(st.sampled_from([0, 8, 160, 384, 512, 520, 1024, 4096, 16384]) | DWORDS, max_size=4),
    st.binary(max_size=400),
)
@settings(max_examples=300)
def test_plausible_headers_over_random_bodies(
    btype: int,
    version: int,
    reserved: int,
    algid: int,
    magic: int,
    dwords: list[int],
    tail: bytes,
) -> None:
    body = b"".join(int_to_le(v, 4) for v in [magic, *dwords]) + tail
    _parse_or_fail(_header(btype, version, reserved, algid) + body)


def test_header_errors() -> None:
    rsa_public = SAMPLES[0].to_bytes()
    assert _code(parse_key_blob, b"") == winerror.NTE_BAD_LEN
    assert _code(parse_key_blob, rsa_public[:7]) == winerror.NTE_BAD_LEN
    for btype in (0, 2, 5, con.OPAQUEKEYBLOB, con.PUBLICKEYBLOBEX, con.KEYSTATEBLOB, 255):
        data = _header(btype) + rsa_public[8:]
        assert _code(parse_key_blob, data) == winerror.NTE_BAD_TYPE
    for version in (0, 1, 4, 255):
        data = _header(con.PUBLICKEYBLOB, version) + rsa_public[8:]
        assert _code(parse_key_blob, data) == winerror.NTE_BAD_VER
    # RSA has no version 3 layout; DSS3 has no version 2 one.
    data = _header(con.PUBLICKEYBLOB, 3) + rsa_public[8:]
    assert _code(parse_key_blob, data) == winerror.NTE_BAD_VER
    dss3 = SAMPLES[4].to_bytes()
    assert _code(parse_key_blob, _header(con.PUBLICKEYBLOB, 2) + dss3[8:]) == (winerror.NTE_BAD_VER)
    plaintext = SAMPLES[11].to_bytes()
    assert _code(parse_key_blob, bytes([8, 3]) + plaintext[2:]) == winerror.NTE_BAD_VER
    data = _header(con.PUBLICKEYBLOB, 2, reserved=1) + rsa_public[8:]
    assert _code(parse_key_blob, data) == winerror.NTE_BAD_DATA
    # A class asked for the wrong type of BLOB.
    assert _code(RsaPrivateBlob.from_bytes, rsa_public) == winerror.NTE_BAD_TYPE
    assert _code(DhPublicBlob.from_bytes, rsa_public) == winerror.NTE_BAD_DATA


def test_magic_errors() -> None:
    rsa_public = SAMPLES[0].to_bytes()
    for magic in (0, blobs.MAGIC_RSA2, blobs.MAGIC_DSS2, 0xFFFFFFFF):
        data = rsa_public[:8] + int_to_le(magic, 4) + rsa_public[12:]
        assert _code(parse_key_blob, data) == winerror.NTE_BAD_DATA


@pytest.mark.parametrize(
    ("blob", "bits"),
    [
        (SAMPLES[0], [0, 8, 376, 385, 16392, 0xFFFFFFFF]),  # RSA public
        (SAMPLES[1], [0, 380, 16400, 0x80000000]),  # RSA private
        (SAMPLES[2], [0, 504, 1032, 0xFFFFFFF8]),  # DSS
        (SAMPLES[4], [0, 511, 1088]),  # DSS v3: bitlenP
        (SAMPLES[6], [0, 376, 4104, 0xFFFFFFF8]),  # DH
    ],
    ids=["RSA1", "RSA2", "DSS1", "DSS3", "DH1"],
)
def test_absurd_bit_lengths_are_bad_data_before_any_sizing(blob: KeyBlob, bits: list[int]) -> None:
    data = blob.to_bytes()
    for value in bits:
        # The body after the bit length is left as it was: far too short for
        # the huge values, yet the answer is BAD_DATA, decided first.
        mutated = data[:12] + int_to_le(value, 4) + data[16:]
        assert _code(parse_key_blob, mutated) == winerror.NTE_BAD_DATA, value


def test_ver3_secondary_bit_lengths() -> None:
    dss4 = SAMPLES[5]
    assert isinstance(dss4, DssPrivateBlobV3)
    data = dss4.to_bytes()
    for offset, value in ((16, 520), (16, 12), (20, 1024), (24, 0), (24, 600)):
        mutated = data[:offset] + int_to_le(value, 4) + data[offset + 4 :]
        assert _code(parse_key_blob, mutated) == winerror.NTE_BAD_DATA, (offset, value)


def test_session_key_blob_sizes() -> None:
    plaintext = _header(con.PLAINTEXTKEYBLOB, algid=con.CALG_RC4)
    assert _code(parse_key_blob, plaintext + int_to_le(0, 4)) == winerror.NTE_BAD_DATA
    huge = plaintext + int_to_le(0xFFFFFFFF, 4) + bytes(16)
    assert _code(parse_key_blob, huge) == winerror.NTE_BAD_LEN
    simple = _header(con.SIMPLEBLOB, algid=con.CALG_RC4) + int_to_le(con.CALG_RSA_KEYX, 4)
    for size in (0, 47, 2049):
        data = simple + bytes(size)
        assert _code(parse_key_blob, data) == winerror.NTE_BAD_LEN
    wrap = _header(con.SYMMETRICWRAPKEYBLOB, algid=con.CALG_RC2) + int_to_le(con.CALG_3DES, 4)
    for size in (0, 8, 12, 41):
        data = wrap + bytes(size)
        assert _code(parse_key_blob, data) == winerror.NTE_BAD_LEN


def test_encoders_refuse_what_does_not_fit() -> None:
    cases: list[Callable[[], object]] = [
        BlobHeader(256, 2, 0, 0).to_bytes,
        BlobHeader(6, 2, 0, 1 << 32).to_bytes,
        RsaPublicBlob(-1, 384, 3, 5).to_bytes,
        RsaPublicBlob(0, 384, 3, 1 << 384).to_bytes,
        RsaPublicBlob(0, 384, 1 << 32, 5).to_bytes,
        RsaPublicBlob(0, 390, 3, 5).to_bytes,
        RsaPrivateBlob(0, 384, 3, 1, 1 << 192, 1, 1, 1, 1, 1).to_bytes,
        DssPublicBlob(0, 512, 1, 1 << 160, 1, 1).to_bytes,
        DssPublicBlob(0, 512, 1, 1, 1, 1, DssSeed(0, bytes(19))).to_bytes,
        DssPublicBlob(0, 512, 1, 1, 1, 1, DssSeed(1 << 32, bytes(20))).to_bytes,
        DssPublicBlobV3(0, 512, 520, 0, 1, 1, 1, 0, 1).to_bytes,
        DhPrivateBlobV3(0, 512, 0, 0, 0, 1, 0, 1, 0, 1, 0).to_bytes,
        PlaintextKeyBlob(0, b"").to_bytes,
    ]
    for case in cases:
        assert _code(case) == winerror.NTE_BAD_DATA
    for short in (SimpleBlob(0, 0, bytes(47)), SymmetricWrapKeyBlob(0, 0, bytes(9))):
        assert _code(short.to_bytes) == winerror.NTE_BAD_LEN


def test_accepts_bytearray_and_memoryview() -> None:
    data = SAMPLES[3].to_bytes()
    assert parse_key_blob(bytearray(data)) == SAMPLES[3]  # type: ignore[arg-type]
    parsed = DssPrivateBlob.from_bytes(memoryview(data))  # type: ignore[arg-type]
    assert isinstance(parsed.seed.seed, bytes)
