"""CryptoAPI key BLOBs: declared layouts, a strict parser, encoders, conversions.

Pure code, no token.  Every BLOB type is an immutable structure
(:class:`csp11.structs.Struct`) whose byte layout is *declared* (``LAYOUT``,
after the ``BLOBHEADER`` and the magic DWORD) and whose docstring names the
Microsoft page the layout comes from.  One generic reader and one generic
writer walk the declarations, so every type is checked the same way:

* integers are little-endian (:mod:`csp11.formats.byteorder`), sized by the bit length
  fields exactly as the pages say (RSA: modulus and private exponent
  ``bitlen/8`` bytes, primes and CRT values ``bitlen/16``);
* a bit length is checked the moment it is read, before anything is sized
  from it: whole bytes, inside the documented range (:data:`RSA_BITS`,
  :data:`DSS_BITS`, :data:`DH_BITS`);
* the BLOB must end exactly where its layout ends.

Every malformed input raises :class:`csp11.errors.Fail` and nothing else,
with one of four codes:

``NTE_BAD_LEN``
    the data ends before the layout does, or goes on after it (also an empty
    SIMPLEBLOB/SYMMETRICWRAPKEYBLOB payload or one of impossible size);
``NTE_BAD_TYPE``
    ``bType`` is not a BLOB type this module knows (or not the one asked for);
``NTE_BAD_VER``
    ``bVersion`` is not 2 (``CUR_BLOB_VERSION``), or not 3 for the
    ``CRYPT_BLOB_VER3`` layouts (DSS3/DSS4/DH3/DH4);
``NTE_BAD_DATA``
    anything else: ``reserved`` not zero (Wine's rsaenh rejects it the same
    way), an unknown magic, a bit length out of range, a number that does
    not fit its field, numbers ``cryptography`` refuses.

Parsing is a bijection on what it accepts: whatever :func:`parse_key_blob`
returns re-encodes to the same bytes.  That is what lets a PRIVATEKEYBLOB,
DSSSEED included, export again byte for byte.

The codec does not judge the *meaning* of the numbers (is ``p`` prime, does
``aiKeyAlg`` suit the key): that belongs to the provider, or to the
``cryptography`` conversions at the end of this module, which do check.

Not verified against Windows, and chosen as documented here:

* RSA bit lengths that are a multiple of 8 but not of 16 (the providers allow
  8-bit steps): the pages say ``bitlen/16`` for the half-size fields, which is
  not whole; this module rounds up, as Wine's rsaenh does
  (``(bitlen/8 + 1) / 2`` bytes).  For multiples of 16 both agree.
* "DSS Version 3 Private Key BLOBs" says ``bType`` must be PUBLICKEYBLOB,
  evidently copied from the public page; this module expects PRIVATEKEYBLOB,
  the type asked of CryptExportKey.
* A PRIVATEKEYBLOB exported with a session key (``hExpKey``) has all but its
  header encrypted; it parses only once the caller has decrypted the rest.
* SYMMETRICWRAPKEYBLOB: the layout (header, ``WrapAlgid``, wrapped bytes) is
  documented only by the Platform SDK page "Symmetric Wrapped Key BLOBs"
  (MSDN, 2000), which defers the wrapped bytes to the IETF S/MIME key wrap
  (RFC 3217 / RFC 3394).  Whether Windows byte-reverses them is not
  documented, so they are kept exactly as they appear in the BLOB.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, ClassVar, Literal, TypeAlias, TypeVar

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric import dh, dsa, rsa

from csp11 import win32cryptcon as con
from csp11 import winerror
from csp11.errors import Fail
from csp11.formats.byteorder import be_to_le, int_from_le, int_to_le, le_to_be
from csp11.structs import Struct

__all__ = [
    "DH_BITS",
    "DSS_BITS",
    "MAGIC_DH1",
    "MAGIC_DH2",
    "MAGIC_DH3",
    "MAGIC_DH4",
    "MAGIC_DSS1",
    "MAGIC_DSS2",
    "MAGIC_DSS3",
    "MAGIC_DSS4",
    "MAGIC_RSA1",
    "MAGIC_RSA2",
    "NO_SEED",
    "RSA_BITS",
    "BitRange",
    "BlobHeader",
    "DhPrivateBlob",
    "DhPrivateBlobV3",
    "DhPublicBlob",
    "DhPublicBlobV3",
    "DssPrivateBlob",
    "DssPrivateBlobV3",
    "DssPublicBlob",
    "DssPublicBlobV3",
    "DssSeed",
    "KeyBlob",
    "PlaintextKeyBlob",
    "RsaPrivateBlob",
    "RsaPublicBlob",
    "SimpleBlob",
    "SymmetricWrapKeyBlob",
    "dh_private_from_blob",
    "dh_private_to_blob",
    "dh_public_from_blob",
    "dh_public_to_blob",
    "dsa_private_from_blob",
    "dsa_private_to_blob",
    "dsa_public_from_blob",
    "dsa_public_to_blob",
    "encode_key_blob",
    "parse_key_blob",
    "rsa_private_from_blob",
    "rsa_private_to_blob",
    "rsa_public_from_blob",
    "rsa_public_to_blob",
]

# The magic DWORDs, read little-endian: the ASCII of "RSA1", "DSS1", "\0DH1"...
# (Microsoft: "RSAPUBKEY structure", "DSSPUBKEY structure", "DHPUBKEY
# structure", "DSSPUBKEY_VER3", "DSSPRIVKEY_VER3", "DHPUBKEY_VER3",
# "DHPRIVKEY_VER3").
MAGIC_RSA1 = 0x31415352
MAGIC_RSA2 = 0x32415352
MAGIC_DSS1 = 0x31535344
MAGIC_DSS2 = 0x32535344
MAGIC_DSS3 = 0x33535344
MAGIC_DSS4 = 0x34535344
MAGIC_DH1 = 0x31484400
MAGIC_DH2 = 0x32484400
MAGIC_DH3 = 0x33484400
MAGIC_DH4 = 0x34484400

_DWORD_MAX = 0xFFFFFFFF
_SEED_SIZE = 20  # DSSSEED.seed[20]
_DSS_Q_SIZE = 20  # q[20] and x[20] in the version 2 DSS layouts (FIPS 186-2)


class BitRange(Struct):
    """The bit lengths a BLOB may declare for one algorithm, and where they come from."""

    low: int
    high: int
    source: str


# The widest ranges Microsoft documents for CryptGenKey on any of its
# providers.  Anything outside is refused before a single byte is sized from
# it; a provider may still refuse a size inside (that is its policy, not the
# format's).
RSA_BITS = BitRange(
    384, 16384, "Microsoft Enhanced Cryptographic Provider: 384 to 16384 bits in 8-bit steps"
)
DSS_BITS = BitRange(
    512, 1024, '"DSS Provider Algorithms": CALG_DSS_SIGN 512 to 1024 bits in 64-bit steps'
)
DH_BITS = BitRange(
    384,
    4096,
    '"PROV_DSS_DH Provider Algorithms" (from 384 bits) and the Enhanced DSS and '
    "Diffie-Hellman provider (to 4096 bits)",
)

# SIMPLEBLOB: the encrypted key is as long as the exchange key's modulus.
_SIMPLE_SIZES = (RSA_BITS.low // 8, RSA_BITS.high // 8)


# ---------------------------------------------------------------------------
# The header


class BlobHeader(Struct):
    """``BLOBHEADER`` (alias ``PUBLICKEYSTRUC``), the 8 bytes that open every key BLOB.

    Layout (Microsoft, "BLOBHEADER structure" / "PUBLICKEYSTRUC structure"):
    ``BYTE bType; BYTE bVersion; WORD reserved; ALG_ID aiKeyAlg;`` —
    little-endian.
    """

    bType: int
    bVersion: int
    reserved: int
    aiKeyAlg: int

    SIZE: ClassVar[int] = 8

    @classmethod
    def from_prefix(cls, data: bytes) -> BlobHeader:
        """The header at the start of ``data`` (a whole BLOB); the rest is not looked at."""
        if len(data) < cls.SIZE:
            raise Fail(
                winerror.NTE_BAD_LEN,
                f"a key BLOB needs an 8-byte BLOBHEADER; got {len(data)} bytes",
            )
        return cls(data[0], data[1], int_from_le(data[2:4]), int_from_le(data[4:8]))

    @classmethod
    def from_bytes(cls, data: bytes) -> BlobHeader:
        """Exactly the 8 bytes of a BLOBHEADER."""
        if len(data) != cls.SIZE:
            raise Fail(winerror.NTE_BAD_LEN, f"a BLOBHEADER is 8 bytes; got {len(data)}")
        return cls.from_prefix(data)

    def to_bytes(self) -> bytes:
        """The 8 bytes; ``NTE_BAD_DATA`` if a member does not fit its field."""
        _check_fits("bType", self.bType, 1)
        _check_fits("bVersion", self.bVersion, 1)
        _check_fits("reserved", self.reserved, 2)
        _check_fits("aiKeyAlg", self.aiKeyAlg, 4)
        return (
            bytes((self.bType, self.bVersion))
            + int_to_le(self.reserved, 2)
            + int_to_le(self.aiKeyAlg, 4)
        )


class DssSeed(Struct):
    """``DSSSEED``: the counter and seed that let P and Q be re-verified.

    Layout (Microsoft, "DSSSEED structure"): ``DWORD counter; BYTE seed[20];``.
    ``counter == 0xFFFFFFFF`` means no seed is available.
    """

    counter: int
    seed: bytes

    SIZE: ClassVar[int] = 4 + _SEED_SIZE

    @property
    def available(self) -> bool:
        """False when the counter says the seed is absent (``0xFFFFFFFF``)."""
        return self.counter != _DWORD_MAX


# What Microsoft's own code and others (xmlsec, schannel) write when there is
# no seed: counter 0xFFFFFFFF and a zeroed seed.
NO_SEED = DssSeed(_DWORD_MAX, bytes(_SEED_SIZE))


# ---------------------------------------------------------------------------
# Declared layouts and the one reader/writer that walks them

_Values = Mapping[str, Any]
_Sizer = Callable[[_Values], int]
_Check = Callable[[str, int, _Values], None]
_Kind = Literal["dword", "int", "bytes", "seed", "rest"]


class _Field(Struct):
    """One member of a declared layout.

    ``dword``: a DWORD; ``int``: a little-endian unsigned number of ``size``
    bytes; ``bytes``: ``size`` raw bytes; ``seed``: a DSSSEED; ``rest``: all
    bytes to the end.  ``check`` runs on a DWORD's value (on a ``rest``
    field's length) as soon as it is read or before it is written.
    ``derive``, for a DWORD that only states a size, computes it on writing;
    it is not a member of the structure.
    """

    name: str
    kind: _Kind
    size: _Sizer | None = None
    check: _Check | None = None
    derive: Callable[[_Values], int] | None = None


def _dword(name: str, check: _Check | None = None) -> _Field:
    return _Field(name, "dword", check=check)


def _int(name: str, size: _Sizer) -> _Field:
    return _Field(name, "int", size=size)


def _raw(name: str, size: _Sizer) -> _Field:
    return _Field(name, "bytes", size=size)


def _bytes_of(bits: str) -> _Sizer:
    """``BYTE v[bits/8]``: a field as long as the bit length ``bits`` says."""
    return lambda values: values[bits] // 8


def _half_of(bits: str) -> _Sizer:
    """``BYTE v[bitlen/16]``, rounded up as Wine's rsaenh does (see the module notes)."""
    return lambda values: (values[bits] // 8 + 1) // 2


def _fixed(size: int) -> _Sizer:
    return lambda _values: size


def _bits_in(limits: BitRange) -> _Check:
    """A main bit length: whole bytes, inside the documented range."""

    def check(name: str, value: int, _values: _Values) -> None:
        if value % 8 or not limits.low <= value <= limits.high:
            raise Fail(
                winerror.NTE_BAD_DATA,
                f"{name} = {value}: must be a multiple of 8 from {limits.low} to "
                f"{limits.high} ({limits.source})",
            )

    return check


def _bits_upto(limit: str, *, required: bool) -> _Check:
    """A secondary bit length (Q, J, X): whole bytes, at most the bit length ``limit``."""

    def check(name: str, value: int, values: _Values) -> None:
        if value % 8 or value > values[limit] or (required and not value):
            least = 8 if required else 0
            raise Fail(
                winerror.NTE_BAD_DATA,
                f"{name} = {value}: must be a multiple of 8 from {least} to {limit}",
            )

    return check


def _nonzero(name: str, value: int, _values: _Values) -> None:
    if not value:
        raise Fail(winerror.NTE_BAD_DATA, f"{name} is zero")


def _length_in(low: int, high: int | None, multiple: int = 1) -> _Check:
    """A ``rest`` payload's length: inside [low, high], a multiple of ``multiple``."""

    def check(name: str, value: int, _values: _Values) -> None:
        if value < low or (high is not None and value > high) or value % multiple:
            upper = f" to {high}" if high is not None else " or more"
            step = f", a multiple of {multiple}" if multiple > 1 else ""
            raise Fail(
                winerror.NTE_BAD_LEN,
                f"{name} has {value} bytes; expected {low}{upper}{step}",
            )

    return check


def _check_fits(name: str, value: int, size: int) -> None:
    if not 0 <= value < 1 << (8 * size):
        raise Fail(winerror.NTE_BAD_DATA, f"{name} does not fit in {size} bytes")


def _size_of(field: _Field, values: _Values) -> int:
    if field.kind == "dword":
        return 4
    if field.kind == "seed":
        return DssSeed.SIZE
    assert field.size is not None, field.name  # every int/bytes field declares one
    return field.size(values)


def _read(layout: tuple[_Field, ...], body: bytes, what: str) -> dict[str, Any]:
    """Walk ``layout`` over ``body`` (the bytes after header and magic)."""
    values: dict[str, Any] = {}
    offset = 0
    for field in layout:
        size = len(body) - offset if field.kind == "rest" else _size_of(field, values)
        if offset + size > len(body):
            raise Fail(
                winerror.NTE_BAD_LEN,
                f"{what}: truncated in {field.name} (needs {size} bytes at offset "
                f"{offset}, {len(body) - offset} left)",
            )
        chunk = body[offset : offset + size]
        offset += size
        value: Any
        if field.kind in ("dword", "int"):
            value = int_from_le(chunk)
        elif field.kind == "seed":
            value = DssSeed(int_from_le(chunk[:4]), chunk[4:])
        else:
            value = chunk
        if field.check is not None:
            field.check(field.name, len(chunk) if field.kind == "rest" else value, values)
        values[field.name] = value
    if offset != len(body):
        raise Fail(winerror.NTE_BAD_LEN, f"{what}: {len(body) - offset} bytes after the last field")
    return {f.name: values[f.name] for f in layout if f.derive is None}


def _write(layout: tuple[_Field, ...], members: _Values, what: str) -> bytes:
    """The bytes of ``layout`` for a structure's ``members``; checks as strict as
    :func:`_read`."""
    values = dict(members)
    out: list[bytes] = []
    for field in layout:
        if field.derive is not None:
            values[field.name] = field.derive(values)
        value = values[field.name]
        if field.kind == "rest":
            if field.check is not None:
                field.check(field.name, len(value), values)
            out.append(bytes(value))
            continue
        if field.kind == "seed":
            if len(value.seed) != _SEED_SIZE:
                raise Fail(winerror.NTE_BAD_DATA, f"{what}: DSSSEED.seed must be 20 bytes")
            _check_fits(f"{what}: DSSSEED.counter", value.counter, 4)
            out.append(int_to_le(value.counter, 4) + bytes(value.seed))
            continue
        size = _size_of(field, values)
        if field.kind == "bytes":
            if len(value) != size:
                raise Fail(winerror.NTE_BAD_DATA, f"{what}: {field.name} must be {size} bytes")
            out.append(bytes(value))
            continue
        _check_fits(f"{what}: {field.name}", value, size)
        if field.check is not None:
            field.check(field.name, value, values)
        out.append(int_to_le(value, size))
    return b"".join(out)


_B = TypeVar("_B", bound="_KeyBlob")


class _KeyBlob(Struct):
    """What every key BLOB shares: a BLOBHEADER, maybe a magic, then its ``LAYOUT``.

    ``aiKeyAlg`` is the header's ALG_ID; ``bType``/``bVersion`` are fixed
    per class and ``reserved`` is always 0.
    """

    aiKeyAlg: int

    NAME: ClassVar[str] = "key BLOB"
    BTYPE: ClassVar[int] = 0
    VERSION: ClassVar[int] = con.CUR_BLOB_VERSION
    MAGIC: ClassVar[int | None] = None
    LAYOUT: ClassVar[tuple[_Field, ...]] = ()

    @property
    def header(self) -> BlobHeader:
        """The BLOBHEADER this BLOB starts with."""
        return BlobHeader(self.BTYPE, self.VERSION, 0, self.aiKeyAlg)

    @classmethod
    def check_header(cls, header: BlobHeader) -> None:
        """Refuse a header that does not open this kind of BLOB."""
        if header.bType != cls.BTYPE:
            raise Fail(
                winerror.NTE_BAD_TYPE,
                f"bType {header.bType} is not {cls.BTYPE}, as a {cls.NAME} needs",
            )
        if header.bVersion != cls.VERSION:
            raise Fail(
                winerror.NTE_BAD_VER,
                f"bVersion {header.bVersion}: a {cls.NAME} has version {cls.VERSION}",
            )
        if header.reserved:
            raise Fail(winerror.NTE_BAD_DATA, "BLOBHEADER.reserved is not zero")

    @classmethod
    def from_bytes(cls: type[_B], data: bytes) -> _B:
        """Parse a whole BLOB of this kind; :class:`Fail` for anything malformed."""
        data = bytes(data)  # a bytearray or memoryview would leak into the members
        header = BlobHeader.from_prefix(data)
        cls.check_header(header)
        offset = BlobHeader.SIZE
        if cls.MAGIC is not None:
            if len(data) < offset + 4:
                raise Fail(winerror.NTE_BAD_LEN, f"{cls.NAME}: no room for the magic")
            magic = int_from_le(data[offset : offset + 4])
            if magic != cls.MAGIC:
                raise Fail(
                    winerror.NTE_BAD_DATA,
                    f"{cls.NAME}: magic 0x{magic:08X}, expected 0x{cls.MAGIC:08X}",
                )
            offset += 4
        values = _read(cls.LAYOUT, data[offset:], cls.NAME)
        return cls(aiKeyAlg=header.aiKeyAlg, **values)

    def to_bytes(self) -> bytes:
        """The BLOB's bytes.

        :class:`Fail` when a member cannot be encoded: ``NTE_BAD_DATA`` (too
        large, negative, a bit length :meth:`from_bytes` would refuse) or
        ``NTE_BAD_LEN`` (a payload of impossible length).
        """
        members = {name: getattr(self, name) for name in self.MEMBERS}
        magic = b"" if self.MAGIC is None else int_to_le(self.MAGIC, 4)
        return self.header.to_bytes() + magic + _write(self.LAYOUT, members, self.NAME)


# ---------------------------------------------------------------------------
# RSA


class RsaPublicBlob(_KeyBlob):
    """RSA PUBLICKEYBLOB.

    Source: Microsoft, "Base Provider Key BLOBs" (Public Key BLOBs; the
    Enhanced provider uses the same) and "RSAPUBKEY structure"::

        PUBLICKEYSTRUC publickeystruc;
        RSAPUBKEY rsapubkey;          // magic "RSA1", bitlen, pubexp
        BYTE modulus[rsapubkey.bitlen/8];
    """

    bitlen: int
    pubexp: int
    modulus: int

    NAME: ClassVar[str] = "RSA PUBLICKEYBLOB"
    BTYPE: ClassVar[int] = con.PUBLICKEYBLOB
    MAGIC: ClassVar[int | None] = MAGIC_RSA1
    LAYOUT: ClassVar[tuple[_Field, ...]] = (
        _dword("bitlen", _bits_in(RSA_BITS)),
        _dword("pubexp"),
        _int("modulus", _bytes_of("bitlen")),
    )


class RsaPrivateBlob(_KeyBlob):
    """RSA PRIVATEKEYBLOB (``n`` is the modulus, ``qinv`` = q⁻¹ mod p).

    Source: Microsoft, "Base Provider Key BLOBs" (Private Key BLOBs)::

        PUBLICKEYSTRUC publickeystruc;
        RSAPUBKEY rsapubkey;                  // magic "RSA2", bitlen, pubexp
        BYTE modulus[rsapubkey.bitlen/8];
        BYTE prime1[rsapubkey.bitlen/16];
        BYTE prime2[rsapubkey.bitlen/16];
        BYTE exponent1[rsapubkey.bitlen/16];  // d mod (p-1)
        BYTE exponent2[rsapubkey.bitlen/16];  // d mod (q-1)
        BYTE coefficient[rsapubkey.bitlen/16];
        BYTE privateExponent[rsapubkey.bitlen/8];

    ``bitlen/16`` is rounded up when ``bitlen`` is not a multiple of 16 (see
    the module notes).
    """

    bitlen: int
    pubexp: int
    n: int
    p: int
    q: int
    dp: int
    dq: int
    qinv: int
    d: int

    NAME: ClassVar[str] = "RSA PRIVATEKEYBLOB"
    BTYPE: ClassVar[int] = con.PRIVATEKEYBLOB
    MAGIC: ClassVar[int | None] = MAGIC_RSA2
    LAYOUT: ClassVar[tuple[_Field, ...]] = (
        _dword("bitlen", _bits_in(RSA_BITS)),
        _dword("pubexp"),
        _int("n", _bytes_of("bitlen")),
        _int("p", _half_of("bitlen")),
        _int("q", _half_of("bitlen")),
        _int("dp", _half_of("bitlen")),
        _int("dq", _half_of("bitlen")),
        _int("qinv", _half_of("bitlen")),
        _int("d", _bytes_of("bitlen")),
    )

    def public_blob(self) -> RsaPublicBlob:
        """The PUBLICKEYBLOB of this key pair, with the same ``aiKeyAlg``."""
        return RsaPublicBlob(self.aiKeyAlg, self.bitlen, self.pubexp, self.n)


# ---------------------------------------------------------------------------
# DSS, version 2 and version 3


class DssPublicBlob(_KeyBlob):
    """DSS PUBLICKEYBLOB, version 2.

    Source: Microsoft, "DSS Provider Key BLOBs" (Public Key BLOBs),
    "DSSPUBKEY structure", "DSSSEED structure"::

        PUBLICKEYSTRUC publickeystruc;
        DSSPUBKEY dsspubkey;          // magic "DSS1", bitlen (of p)
        BYTE p[dsspubkey.bitlen/8];
        BYTE q[20];
        BYTE g[dsspubkey.bitlen/8];
        BYTE y[dsspubkey.bitlen/8];
        DSSSEED seedstruct;
    """

    bitlen: int
    p: int
    q: int
    g: int
    y: int
    seed: DssSeed = NO_SEED

    NAME: ClassVar[str] = "DSS PUBLICKEYBLOB"
    BTYPE: ClassVar[int] = con.PUBLICKEYBLOB
    MAGIC: ClassVar[int | None] = MAGIC_DSS1
    LAYOUT: ClassVar[tuple[_Field, ...]] = (
        _dword("bitlen", _bits_in(DSS_BITS)),
        _int("p", _bytes_of("bitlen")),
        _int("q", _fixed(_DSS_Q_SIZE)),
        _int("g", _bytes_of("bitlen")),
        _int("y", _bytes_of("bitlen")),
        _Field("seed", "seed"),
    )


class DssPrivateBlob(_KeyBlob):
    """DSS PRIVATEKEYBLOB, version 2.

    Source: Microsoft, "DSS Provider Key BLOBs" (Private Key BLOBs)::

        PUBLICKEYSTRUC publickeystruc;
        DSSPUBKEY dsspubkey;          // magic "DSS2", bitlen (of p)
        BYTE p[dsspubkey.bitlen/8];
        BYTE q[20];
        BYTE g[dsspubkey.bitlen/8];
        BYTE x[20];
        DSSSEED seedstruct;
    """

    bitlen: int
    p: int
    q: int
    g: int
    x: int
    seed: DssSeed = NO_SEED

    NAME: ClassVar[str] = "DSS PRIVATEKEYBLOB"
    BTYPE: ClassVar[int] = con.PRIVATEKEYBLOB
    MAGIC: ClassVar[int | None] = MAGIC_DSS2
    LAYOUT: ClassVar[tuple[_Field, ...]] = (
        _dword("bitlen", _bits_in(DSS_BITS)),
        _int("p", _bytes_of("bitlen")),
        _int("q", _fixed(_DSS_Q_SIZE)),
        _int("g", _bytes_of("bitlen")),
        _int("x", _fixed(_DSS_Q_SIZE)),
        _Field("seed", "seed"),
    )

    def public_blob(self) -> DssPublicBlob:
        """The PUBLICKEYBLOB of this key pair (y = g^x mod p), seed and ``aiKeyAlg`` kept."""
        return DssPublicBlob(
            self.aiKeyAlg,
            self.bitlen,
            self.p,
            self.q,
            self.g,
            _power(self.g, self.x, self.p),
            self.seed,
        )


def _ver3_layout(limits: BitRange, *, private: bool) -> tuple[_Field, ...]:
    """``*PUBKEY_VER3``/``*PRIVKEY_VER3`` and the numbers after them (DSS and DH alike)."""
    head = [
        _dword("bitlenP", _bits_in(limits)),
        _dword("bitlenQ", _bits_upto("bitlenP", required=False)),
        _dword("bitlenJ", _bits_upto("bitlenP", required=False)),
    ]
    if private:
        head.append(_dword("bitlenX", _bits_upto("bitlenP", required=True)))
    numbers = [
        _Field("seed", "seed"),
        _int("p", _bytes_of("bitlenP")),
        _int("q", _bytes_of("bitlenQ")),
        _int("g", _bytes_of("bitlenP")),
        _int("j", _bytes_of("bitlenJ")),
        _int("y", _bytes_of("bitlenP")),
    ]
    if private:
        numbers.append(_int("x", _bytes_of("bitlenX")))
    return (*head, *numbers)


class _PublicVer3(_KeyBlob):
    """The version 3 public layout, shared by DSS3 and DH3 (``q``/``j`` 0 when absent)."""

    bitlenP: int
    bitlenQ: int
    bitlenJ: int
    p: int
    q: int
    g: int
    j: int
    y: int
    seed: DssSeed = NO_SEED

    BTYPE: ClassVar[int] = con.PUBLICKEYBLOB
    VERSION: ClassVar[int] = 3


class _PrivateVer3(_KeyBlob):
    """The version 3 private layout, shared by DSS4 and DH4."""

    bitlenP: int
    bitlenQ: int
    bitlenJ: int
    bitlenX: int
    p: int
    q: int
    g: int
    j: int
    y: int
    x: int
    seed: DssSeed = NO_SEED

    BTYPE: ClassVar[int] = con.PRIVATEKEYBLOB
    VERSION: ClassVar[int] = 3


class DssPublicBlobV3(_PublicVer3):
    """DSS PUBLICKEYBLOB, version 3 (``CRYPT_BLOB_VER3``).

    Source: Microsoft, "DSS Version 3 Public Key BLOBs", "DSSPUBKEY_VER3
    structure"::

        BLOBHEADER blobheader;            // bVersion 3
        DSSPUBKEY_VER3 dsspubkeyver3;     // magic "DSS3", bitlenP, bitlenQ,
                                          // bitlenJ, DSSSEED
        BYTE p[bitlenP/8]; BYTE q[bitlenQ/8]; BYTE g[bitlenP/8];
        BYTE j[bitlenJ/8]; BYTE y[bitlenP/8];

    The Y-less form that ``KP_PUB_PARAMS`` takes is
    :func:`csp11.formats.domain.parse_pub_params`' business, not this class's.
    """

    NAME: ClassVar[str] = "DSS PUBLICKEYBLOB (version 3)"
    MAGIC: ClassVar[int | None] = MAGIC_DSS3
    LAYOUT: ClassVar[tuple[_Field, ...]] = _ver3_layout(DSS_BITS, private=False)


class DssPrivateBlobV3(_PrivateVer3):
    """DSS PRIVATEKEYBLOB, version 3 (``CRYPT_BLOB_VER3``).

    Source: Microsoft, "DSS Version 3 Private Key BLOBs", "DSSPRIVKEY_VER3
    structure"::

        BLOBHEADER blobheader;            // bVersion 3
        DSSPRIVKEY_VER3 dssprivkeyver3;   // magic "DSS4", bitlenP, bitlenQ,
                                          // bitlenJ, bitlenX, DSSSEED
        BYTE p[bitlenP/8]; BYTE q[bitlenQ/8]; BYTE g[bitlenP/8];
        BYTE j[bitlenJ/8]; BYTE y[bitlenP/8]; BYTE x[bitlenX/8];

    The page's table says ``bType`` PUBLICKEYBLOB; this class uses
    PRIVATEKEYBLOB (see the module notes).
    """

    NAME: ClassVar[str] = "DSS PRIVATEKEYBLOB (version 3)"
    MAGIC: ClassVar[int | None] = MAGIC_DSS4
    LAYOUT: ClassVar[tuple[_Field, ...]] = _ver3_layout(DSS_BITS, private=True)


# ---------------------------------------------------------------------------
# Diffie-Hellman, version 2 and version 3


class DhPublicBlob(_KeyBlob):
    """Diffie-Hellman PUBLICKEYBLOB, version 2.

    Source: Microsoft, "Diffie-Hellman Key BLOBs" (Public Key BLOBs),
    "DHPUBKEY structure"::

        PUBLICKEYSTRUC publickeystruc;
        DHPUBKEY dhpubkey;            // magic "\\0DH1", bitlen (of P)
        BYTE y[dhpubkey.bitlen/8];    // (G^X) mod P

    P and G are not in the BLOB: :func:`dh_public_from_blob` takes them.
    """

    bitlen: int
    y: int

    NAME: ClassVar[str] = "DH PUBLICKEYBLOB"
    BTYPE: ClassVar[int] = con.PUBLICKEYBLOB
    MAGIC: ClassVar[int | None] = MAGIC_DH1
    LAYOUT: ClassVar[tuple[_Field, ...]] = (
        _dword("bitlen", _bits_in(DH_BITS)),
        _int("y", _bytes_of("bitlen")),
    )


class DhPrivateBlob(_KeyBlob):
    """Diffie-Hellman PRIVATEKEYBLOB, version 2.

    Source: Microsoft, "Diffie-Hellman Key BLOBs" (Private Key BLOBs)::

        PUBLICKEYSTRUC publickeystruc;
        DHPUBKEY dhpubkey;                // magic "\\0DH2", bitlen (of P)
        BYTE prime[dhpubkey.bitlen/8];    // P
        BYTE generator[dhpubkey.bitlen/8];  // G
        BYTE secret[dhpubkey.bitlen/8];   // X
    """

    bitlen: int
    prime: int
    generator: int
    secret: int

    NAME: ClassVar[str] = "DH PRIVATEKEYBLOB"
    BTYPE: ClassVar[int] = con.PRIVATEKEYBLOB
    MAGIC: ClassVar[int | None] = MAGIC_DH2
    LAYOUT: ClassVar[tuple[_Field, ...]] = (
        _dword("bitlen", _bits_in(DH_BITS)),
        _int("prime", _bytes_of("bitlen")),
        _int("generator", _bytes_of("bitlen")),
        _int("secret", _bytes_of("bitlen")),
    )

    def public_blob(self) -> DhPublicBlob:
        """The PUBLICKEYBLOB of this key pair (y = G^X mod P), same ``aiKeyAlg``."""
        return DhPublicBlob(
            self.aiKeyAlg, self.bitlen, _power(self.generator, self.secret, self.prime)
        )


class DhPublicBlobV3(_PublicVer3):
    """Diffie-Hellman PUBLICKEYBLOB, version 3 (``CRYPT_BLOB_VER3``).

    Source: Microsoft, "Diffie-Hellman Version 3 Public Key BLOBs",
    "DHPUBKEY_VER3 structure": the layout of :class:`DssPublicBlobV3` with
    magic ``"\\0DH3"`` (0x33484400).
    """

    NAME: ClassVar[str] = "DH PUBLICKEYBLOB (version 3)"
    MAGIC: ClassVar[int | None] = MAGIC_DH3
    LAYOUT: ClassVar[tuple[_Field, ...]] = _ver3_layout(DH_BITS, private=False)


class DhPrivateBlobV3(_PrivateVer3):
    """Diffie-Hellman PRIVATEKEYBLOB, version 3 (``CRYPT_BLOB_VER3``).

    Source: Microsoft, "Diffie-Hellman Version 3 Private Key BLOBs",
    "DHPRIVKEY_VER3 structure": the layout of :class:`DssPrivateBlobV3` with
    magic ``"\\0DH4"`` (0x34484400).
    """

    NAME: ClassVar[str] = "DH PRIVATEKEYBLOB (version 3)"
    MAGIC: ClassVar[int | None] = MAGIC_DH4
    LAYOUT: ClassVar[tuple[_Field, ...]] = _ver3_layout(DH_BITS, private=True)


# ---------------------------------------------------------------------------
# Session-key BLOBs


class SimpleBlob(_KeyBlob):
    """SIMPLEBLOB: a session key encrypted to an RSA key exchange key.

    Source: Microsoft, "Base Provider Key BLOBs" / "Enhanced Provider Key
    BLOBs" (Simple Key BLOBs) and [MS-MQQB] 2.4.2 "SIMPLEBLOB"::

        BLOBHEADER blobheader;        // aiKeyAlg: the session key's ALG_ID
        ALG_ID algid;                 // the wrapping key's, e.g. CALG_RSA_KEYX
        BYTE encryptedkey[rsapubkey.bitlen/8];

    ``encrypted`` is kept as it appears in the BLOB: the PKCS #1 ciphertext
    byte-reversed ("encoded in little-endian format", [MS-MQQB]).
    :attr:`ciphertext` and :meth:`from_ciphertext` give and take the
    big-endian form RSA decryption uses.  Its length is the exchange key's
    modulus size, which the BLOB does not state; any RSA size is accepted.
    """

    algid: int
    encrypted: bytes

    NAME: ClassVar[str] = "SIMPLEBLOB"
    BTYPE: ClassVar[int] = con.SIMPLEBLOB
    LAYOUT: ClassVar[tuple[_Field, ...]] = (
        _dword("algid"),
        _Field("encrypted", "rest", check=_length_in(*_SIMPLE_SIZES)),
    )

    @property
    def ciphertext(self) -> bytes:
        """The PKCS #1 (big-endian) ciphertext, as RSA decryption takes it."""
        return le_to_be(self.encrypted)

    @classmethod
    def from_ciphertext(cls, aiKeyAlg: int, algid: int, ciphertext: bytes) -> SimpleBlob:
        """A SIMPLEBLOB for a big-endian PKCS #1 ``ciphertext`` (stored byte-reversed)."""
        return cls(aiKeyAlg, algid, be_to_le(ciphertext))


class PlaintextKeyBlob(_KeyBlob):
    """PLAINTEXTKEYBLOB: a session key in the clear.

    Source: Microsoft, "PLAINTEXTKEYBLOB structure"::

        BLOBHEADER hdr;               // aiKeyAlg: the key's ALG_ID
        DWORD dwKeySize;              // bytes of key material
        BYTE rgbKeyData[];

    ``dwKeySize`` is not stored: it is ``len(key)``.  An empty key is refused.
    """

    key: bytes

    NAME: ClassVar[str] = "PLAINTEXTKEYBLOB"
    BTYPE: ClassVar[int] = con.PLAINTEXTKEYBLOB
    LAYOUT: ClassVar[tuple[_Field, ...]] = (
        _Field("dwKeySize", "dword", check=_nonzero, derive=lambda v: len(v["key"])),
        _raw("key", lambda v: v["dwKeySize"]),
    )

    @property
    def dwKeySize(self) -> int:
        """The size field of the BLOB: the key's length in bytes."""
        return len(self.key)


class SymmetricWrapKeyBlob(_KeyBlob):
    """SYMMETRICWRAPKEYBLOB: a session key wrapped with another session key.

    Source: Microsoft Platform SDK (2000), "Symmetric Wrapped Key BLOBs";
    the CryptExportKey page points to RFC 3217 for the wrapping::

        BLOBHEADER blobheader;        // aiKeyAlg: the wrapped key's ALG_ID
        ALG_ID WrapAlgid;             // the wrapping key's ALG_ID
        BYTE Blob[variable length];   // the key wrap output

    ``wrapped`` is kept byte for byte: no byte order is documented for it.
    Key wrap output (RFC 3217 3DES/RC2, RFC 3394 AES) is whole 8-byte
    blocks, at least two, so other lengths are refused.
    """

    algid: int
    wrapped: bytes

    NAME: ClassVar[str] = "SYMMETRICWRAPKEYBLOB"
    BTYPE: ClassVar[int] = con.SYMMETRICWRAPKEYBLOB
    LAYOUT: ClassVar[tuple[_Field, ...]] = (
        _dword("algid"),
        _Field("wrapped", "rest", check=_length_in(16, None, 8)),
    )


KeyBlob: TypeAlias = (
    RsaPublicBlob
    | RsaPrivateBlob
    | DssPublicBlob
    | DssPrivateBlob
    | DssPublicBlobV3
    | DssPrivateBlobV3
    | DhPublicBlob
    | DhPrivateBlob
    | DhPublicBlobV3
    | DhPrivateBlobV3
    | SimpleBlob
    | PlaintextKeyBlob
    | SymmetricWrapKeyBlob
)

# Dispatch tables.  Key-pair BLOBs are told apart by (bType, magic); the
# magic then fixes bVersion.  Session-key BLOBs by bType alone.
_KEY_PAIR_CLASSES: tuple[type[KeyBlob], ...] = (
    RsaPublicBlob,
    RsaPrivateBlob,
    DssPublicBlob,
    DssPrivateBlob,
    DssPublicBlobV3,
    DssPrivateBlobV3,
    DhPublicBlob,
    DhPrivateBlob,
    DhPublicBlobV3,
    DhPrivateBlobV3,
)
_BY_MAGIC: dict[tuple[int, int | None], type[KeyBlob]] = {
    (c.BTYPE, c.MAGIC): c for c in _KEY_PAIR_CLASSES
}
_BY_TYPE: dict[int, type[KeyBlob]] = {
    c.BTYPE: c for c in (SimpleBlob, PlaintextKeyBlob, SymmetricWrapKeyBlob)
}
_PAIR_TYPES = frozenset(c.BTYPE for c in _KEY_PAIR_CLASSES)
_PAIR_VERSIONS = frozenset(c.VERSION for c in _KEY_PAIR_CLASSES)


def parse_key_blob(data: bytes) -> KeyBlob:
    """Parse any key BLOB this module knows, choosing the class by bType and magic.

    Raises :class:`Fail` with ``NTE_BAD_TYPE`` for an unknown bType,
    ``NTE_BAD_VER`` for a version the layout does not have, ``NTE_BAD_LEN``
    for a truncated or overlong BLOB and ``NTE_BAD_DATA`` for the rest.
    """
    header = BlobHeader.from_prefix(data)
    simple = _BY_TYPE.get(header.bType)
    if simple is not None:
        return simple.from_bytes(data)
    if header.bType not in _PAIR_TYPES:
        raise Fail(winerror.NTE_BAD_TYPE, f"unknown key BLOB type {header.bType}")
    if header.bVersion not in _PAIR_VERSIONS:
        raise Fail(winerror.NTE_BAD_VER, f"key BLOB version {header.bVersion}")
    if len(data) < BlobHeader.SIZE + 4:
        raise Fail(winerror.NTE_BAD_LEN, "key BLOB too short for its magic")
    magic = int_from_le(data[8:12])
    cls = _BY_MAGIC.get((header.bType, magic))
    if cls is None:
        raise Fail(
            winerror.NTE_BAD_DATA, f"magic 0x{magic:08X} is not a bType {header.bType} layout"
        )
    return cls.from_bytes(data)


def encode_key_blob(blob: KeyBlob) -> bytes:
    """The bytes of any key BLOB (``blob.to_bytes()``), for symmetry with :func:`parse_key_blob`."""
    return blob.to_bytes()


# ---------------------------------------------------------------------------
# Conversions to and from the ``cryptography`` package


def _whole_bits(bits: int) -> int:
    """A bit length rounded up to whole bytes, as BLOB bit length fields are."""
    return (bits + 7) // 8 * 8


def _power(base: int, exponent: int, modulus: int) -> int:
    # pow() with a modulus below 2 is an error or meaningless; BLOB fields can
    # hold anything, so say so as a Windows code instead of a ValueError.
    if modulus < 2:
        raise Fail(winerror.NTE_BAD_DATA, "the prime of the key is below 2")
    return pow(base, exponent, modulus)


def _numbers_failed(what: str, exc: Exception) -> Fail:
    # cryptography's messages name the rule a number broke, never its value.
    return Fail(winerror.NTE_BAD_DATA, f"{what}: {exc}")


def _encodable(blob: _B) -> _B:
    """``blob``, once it is known to encode (every member fits its field)."""
    blob.to_bytes()
    return blob


def rsa_public_from_blob(blob: RsaPublicBlob) -> rsa.RSAPublicKey:
    """The ``cryptography`` public key of an RSA PUBLICKEYBLOB."""
    # cryptography's key classes: off the first key's path (cold start).
    from cryptography.hazmat.primitives.asymmetric import rsa  # noqa: PLC0415

    try:
        return rsa.RSAPublicNumbers(blob.pubexp, blob.modulus).public_key()
    except ValueError as exc:
        raise _numbers_failed("RSA public key", exc) from None


def rsa_public_to_blob(key: rsa.RSAPublicKey, aiKeyAlg: int) -> RsaPublicBlob:
    """The PUBLICKEYBLOB of a ``cryptography`` RSA public key, header ALG_ID ``aiKeyAlg``."""
    numbers = key.public_numbers()
    return _encodable(RsaPublicBlob(aiKeyAlg, _whole_bits(key.key_size), numbers.e, numbers.n))


def rsa_private_from_blob(blob: RsaPrivateBlob) -> rsa.RSAPrivateKey:
    """The ``cryptography`` private key of an RSA PRIVATEKEYBLOB.

    ``cryptography`` (OpenSSL) checks the CRT values against p, q and d; the
    one check it leaves implicit, p·q = n, is made here first.
    """
    # cryptography's key classes: off the first key's path (cold start).
    from cryptography.hazmat.primitives.asymmetric import rsa  # noqa: PLC0415

    if blob.p * blob.q != blob.n:
        raise Fail(winerror.NTE_BAD_DATA, "RSA private key: prime1 * prime2 is not the modulus")
    numbers = rsa.RSAPrivateNumbers(
        p=blob.p,
        q=blob.q,
        d=blob.d,
        dmp1=blob.dp,
        dmq1=blob.dq,
        iqmp=blob.qinv,
        public_numbers=rsa.RSAPublicNumbers(blob.pubexp, blob.n),
    )
    try:
        return numbers.private_key()
    except ValueError as exc:
        raise _numbers_failed("RSA private key", exc) from None


def rsa_private_to_blob(key: rsa.RSAPrivateKey, aiKeyAlg: int) -> RsaPrivateBlob:
    """The PRIVATEKEYBLOB of a ``cryptography`` RSA private key, header ALG_ID ``aiKeyAlg``.

    ``NTE_BAD_DATA`` when the key does not fit the layout (a public exponent
    above 32 bits, unbalanced primes, a size outside :data:`RSA_BITS`).
    """
    numbers = key.private_numbers()
    public = numbers.public_numbers
    return _encodable(
        RsaPrivateBlob(
            aiKeyAlg,
            _whole_bits(key.key_size),
            public.e,
            public.n,
            numbers.p,
            numbers.q,
            numbers.dmp1,
            numbers.dmq1,
            numbers.iqmp,
            numbers.d,
        )
    )


def dsa_public_from_blob(blob: DssPublicBlob) -> dsa.DSAPublicKey:
    """The ``cryptography`` public key of a DSS PUBLICKEYBLOB (version 2).

    ``cryptography`` only takes a P of 1024, 2048, 3072 or 4096 bits, so the
    512 to 960-bit keys the layout allows end in ``NTE_BAD_DATA`` here.
    """
    # cryptography's key classes: off the first key's path (cold start).
    from cryptography.hazmat.primitives.asymmetric import dsa  # noqa: PLC0415

    parameters = dsa.DSAParameterNumbers(blob.p, blob.q, blob.g)
    try:
        return dsa.DSAPublicNumbers(blob.y, parameters).public_key()
    except ValueError as exc:
        raise _numbers_failed("DSS public key", exc) from None


def dsa_public_to_blob(
    key: dsa.DSAPublicKey, aiKeyAlg: int, seed: DssSeed = NO_SEED
) -> DssPublicBlob:
    """The version 2 PUBLICKEYBLOB of a ``cryptography`` DSA public key.

    ``NTE_BAD_DATA`` when Q is longer than 160 bits or P outside
    :data:`DSS_BITS`: the version 2 layout cannot hold such keys.
    """
    numbers = key.public_numbers()
    params = numbers.parameter_numbers
    return _encodable(
        DssPublicBlob(
            aiKeyAlg,
            _whole_bits(params.p.bit_length()),
            params.p,
            params.q,
            params.g,
            numbers.y,
            seed,
        )
    )


def dsa_private_from_blob(blob: DssPrivateBlob) -> dsa.DSAPrivateKey:
    """The ``cryptography`` private key of a DSS PRIVATEKEYBLOB (version 2); y is computed."""
    # cryptography's key classes: off the first key's path (cold start).
    from cryptography.hazmat.primitives.asymmetric import dsa  # noqa: PLC0415

    parameters = dsa.DSAParameterNumbers(blob.p, blob.q, blob.g)
    public = dsa.DSAPublicNumbers(_power(blob.g, blob.x, blob.p), parameters)
    try:
        return dsa.DSAPrivateNumbers(blob.x, public).private_key()
    except ValueError as exc:
        raise _numbers_failed("DSS private key", exc) from None


def dsa_private_to_blob(
    key: dsa.DSAPrivateKey, aiKeyAlg: int, seed: DssSeed = NO_SEED
) -> DssPrivateBlob:
    """The version 2 PRIVATEKEYBLOB of a ``cryptography`` DSA private key."""
    numbers = key.private_numbers()
    params = numbers.public_numbers.parameter_numbers
    return _encodable(
        DssPrivateBlob(
            aiKeyAlg,
            _whole_bits(params.p.bit_length()),
            params.p,
            params.q,
            params.g,
            numbers.x,
            seed,
        )
    )


def _dh_parameters(p: int, g: int, q: int | None, bitlen: int) -> dh.DHParameterNumbers:
    # cryptography's key classes: off the first key's path (cold start).
    from cryptography.hazmat.primitives.asymmetric import dh  # noqa: PLC0415

    if _whole_bits(p.bit_length()) != bitlen:
        raise Fail(
            winerror.NTE_BAD_DATA, f"DH key: the prime has {p.bit_length()} bits, bitlen {bitlen}"
        )
    try:
        return dh.DHParameterNumbers(p, g, q)
    except ValueError as exc:
        raise _numbers_failed("DH parameters", exc) from None


def dh_public_from_blob(blob: DhPublicBlob, parameters: dh.DHParameterNumbers) -> dh.DHPublicKey:
    """The ``cryptography`` public key of a DH PUBLICKEYBLOB, whose P and G are ``parameters``.

    The BLOB carries only Y.  Y must lie in [2, P-2]: 0, 1 and P-1 would
    confine the agreed secret to a trivial subgroup (NIST SP 800-56A
    partial public-key validation); ``cryptography`` does not check it.
    """
    # cryptography's key classes: off the first key's path (cold start).
    from cryptography.hazmat.primitives.asymmetric import dh  # noqa: PLC0415

    params = _dh_parameters(parameters.p, parameters.g, parameters.q, blob.bitlen)
    if not 2 <= blob.y <= params.p - 2:
        raise Fail(winerror.NTE_BAD_DATA, "DH public key: Y is not in [2, P-2]")
    try:
        return dh.DHPublicNumbers(blob.y, params).public_key()
    except ValueError as exc:
        raise _numbers_failed("DH public key", exc) from None


def dh_public_to_blob(key: dh.DHPublicKey, aiKeyAlg: int) -> DhPublicBlob:
    """The version 2 PUBLICKEYBLOB of a ``cryptography`` DH public key (Y only)."""
    numbers = key.public_numbers()
    bits = _whole_bits(numbers.parameter_numbers.p.bit_length())
    return _encodable(DhPublicBlob(aiKeyAlg, bits, numbers.y))


def dh_private_from_blob(blob: DhPrivateBlob, q: int | None = None) -> dh.DHPrivateKey:
    """The ``cryptography`` private key of a DH PRIVATEKEYBLOB; Y is computed.

    OpenSSL refuses a prime that is not a safe prime unless it knows Q, and
    the version 2 BLOB does not carry Q: pass it (``KP_Q``, or the version 3
    BLOB) for DSA-style parameters such as Windows generates.
    """
    # cryptography's key classes: off the first key's path (cold start).
    from cryptography.hazmat.primitives.asymmetric import dh  # noqa: PLC0415

    params = _dh_parameters(blob.prime, blob.generator, q, blob.bitlen)
    public = dh.DHPublicNumbers(_power(blob.generator, blob.secret, blob.prime), params)
    try:
        return dh.DHPrivateNumbers(blob.secret, public).private_key()
    except ValueError as exc:
        raise _numbers_failed("DH private key", exc) from None


def dh_private_to_blob(key: dh.DHPrivateKey, aiKeyAlg: int) -> DhPrivateBlob:
    """The version 2 PRIVATEKEYBLOB of a ``cryptography`` DH private key (Q is dropped)."""
    numbers = key.private_numbers()
    params = numbers.public_numbers.parameter_numbers
    bits = _whole_bits(params.p.bit_length())
    return _encodable(DhPrivateBlob(aiKeyAlg, bits, params.p, params.g, numbers.x))
