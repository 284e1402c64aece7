"""MD2 (RFC 1319) and MD4 (RFC 1320) for hashes no token and no OpenSSL 3 computes.

Every PROV_RSA_FULL provider offers CALG_MD2 and CALG_MD4, and old programs
use them (a Visual Pinball exporter stamps each table with an MD2 value).
PKCS#11 has no MD4 and tokens rarely have MD2; OpenSSL 3 keeps both out of
its default provider, so ``hashlib`` may lack them.  They are digests of
public data, never of keys, so computing them here gives nothing away.
:func:`new` prefers ``hashlib`` and falls back to these (slow, pure Python:
fine for the small inputs such programs hash).
"""

from __future__ import annotations

import struct
from typing import Protocol

__all__ = ["MD2", "MD4", "Digest", "new"]


class Digest(Protocol):
    """The part of hashlib's interface csp11 uses."""

    def update(self, data: bytes, /) -> None: ...
    def digest(self) -> bytes: ...
    def copy(self) -> Digest: ...


# RFC 1319 §3.2: a permutation of 0..255 built from the digits of pi.
_PI_SUBST = bytes((
    41, 46, 67, 201, 162, 216, 124, 1, 61, 54, 84, 161, 236, 240, 6, 19, 98, 167, 5, 243, 192,
    199, 115, 140, 152, 147, 43, 217, 188, 76, 130, 202, 30, 155, 87, 60, 253, 212, 224, 22,
    103, 66, 111, 24, 138, 23, 229, 18, 190, 78, 196, 214, 218, 158, 222, 73, 160, 251, 245,
    142, 187, 47, 238, 122, 169, 104, 121, 145, 21, 178, 7, 63, 148, 194, 16, 137, 11, 34, 95,
    33, 128, 127, 93, 154, 90, 144, 50, 39, 53, 62, 204, 231, 191, 247, 151, 3, 255, 25, 48,
    179, 72, 165, 181, 209, 215, 94, 146, 42, 172, 86, 170, 198, 79, 184, 56, 210, 150, 164,
    125, 182, 118, 252, 107, 226, 156, 116, 4, 241, 69, 157, 112, 89, 100, 113, 135, 32, 134,
    91, 207, 101, 230, 45, 168, 2, 27, 96, 37, 173, 174, 176, 185, 246, 28, 70, 97, 105, 52, 64,
    126, 15, 85, 71, 163, 35, 221, 81, 175, 58, 195, 92, 249, 206, 186, 197, 234, 38, 44, 83,
    13, 110, 133, 40, 132, 9, 211, 223, 205, 244, 65, 129, 77, 82, 106, 220, 55, 200, 108, 193,
    171, 250, 36, 225, 123, 8, 12, 189, 177, 74, 120, 136, 149, 139, 227, 99, 232, 109, 233,
    203, 213, 254, 59, 0, 29, 57, 242, 239, 183, 14, 102, 88, 208,
    228, 166, 119, 114, 248, 235, 117, 75, 10, 49, 68, 80, 180, 143, 237, 31, 26, 219, 153, 141,
    51, 159, 17, 131, 20,
))


class MD2:
    """RFC 1319 MD2, with hashlib's ``update``/``digest``/``copy``."""

    digest_size = 16
    block_size = 16

    def __init__(self, data: bytes = b"") -> None:
        self._state = bytearray(48)
        self._checksum = bytearray(16)
        self._pending = b""
        self.update(data)

    def update(self, data: bytes, /) -> None:
        """Hash more data."""
        data = self._pending + bytes(data)
        whole = len(data) - len(data) % 16
        for start in range(0, whole, 16):
            self._block(data[start:start + 16])
        self._pending = data[whole:]

    def _block(self, block: bytes) -> None:
        state, checksum = self._state, self._checksum
        last = checksum[15]
        for i in range(16):  # §3.2: the checksum, updated as the block goes in
            checksum[i] ^= _PI_SUBST[block[i] ^ last]
            last = checksum[i]
        for i in range(16):  # §3.4: 18 rounds over the 48-byte state
            state[16 + i] = block[i]
            state[32 + i] = state[16 + i] ^ state[i]
        t = 0
        for round_ in range(18):
            for i in range(48):
                state[i] ^= _PI_SUBST[t]
                t = state[i]
            t = (t + round_) & 0xFF

    def digest(self) -> bytes:
        """The value (the object stays usable)."""
        twin = self.copy()
        count = 16 - len(twin._pending)
        twin.update(bytes([count]) * count)  # §3.1: padding
        twin._block(bytes(twin._checksum))   # §3.3: the checksum is the last block
        return bytes(twin._state[:16])

    def copy(self) -> MD2:
        """An independent copy of the running hash."""
        twin = MD2.__new__(MD2)
        twin._state, twin._checksum = bytearray(self._state), bytearray(self._checksum)
        twin._pending = self._pending
        return twin


def _rotl(value: int, shift: int) -> int:
    value &= 0xFFFFFFFF
    return ((value << shift) | (value >> (32 - shift))) & 0xFFFFFFFF


class MD4:
    """RFC 1320 MD4, with hashlib's ``update``/``digest``/``copy``."""

    digest_size = 16
    block_size = 64

    def __init__(self, data: bytes = b"") -> None:
        self._h = [0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476]
        self._pending = b""
        self._length = 0
        self.update(data)

    def update(self, data: bytes, /) -> None:
        """Hash more data."""
        data = bytes(data)
        self._length += len(data)
        data = self._pending + data
        whole = len(data) - len(data) % 64
        for start in range(0, whole, 64):
            self._block(data[start:start + 64])
        self._pending = data[whole:]

    def _block(self, block: bytes) -> None:
        x = struct.unpack("<16I", block)
        a, b, c, d = self._h
        for i in (0, 4, 8, 12):  # round 1: F, shifts 3 7 11 19
            a = _rotl(a + ((b & c) | (~b & d)) + x[i], 3)
            d = _rotl(d + ((a & b) | (~a & c)) + x[i + 1], 7)
            c = _rotl(c + ((d & a) | (~d & b)) + x[i + 2], 11)
            b = _rotl(b + ((c & d) | (~c & a)) + x[i + 3], 19)
        for i in (0, 1, 2, 3):  # round 2: G, + 0x5A827999, shifts 3 5 9 13
            a = _rotl(a + ((b & c) | (b & d) | (c & d)) + x[i] + 0x5A827999, 3)
            d = _rotl(d + ((a & b) | (a & c) | (b & c)) + x[i + 4] + 0x5A827999, 5)
            c = _rotl(c + ((d & a) | (d & b) | (a & b)) + x[i + 8] + 0x5A827999, 9)
            b = _rotl(b + ((c & d) | (c & a) | (d & a)) + x[i + 12] + 0x5A827999, 13)
        for i in (0, 2, 1, 3):  # round 3: H, + 0x6ED9EBA1, shifts 3 9 11 15
            a = _rotl(a + (b ^ c ^ d) + x[i] + 0x6ED9EBA1, 3)
            d = _rotl(d + (a ^ b ^ c) + x[i + 8] + 0x6ED9EBA1, 9)
            c = _rotl(c + (d ^ a ^ b) + x[i + 4] + 0x6ED9EBA1, 11)
            b = _rotl(b + (c ^ d ^ a) + x[i + 12] + 0x6ED9EBA1, 15)
        self._h = [(v + w) & 0xFFFFFFFF for v, w in zip(self._h, (a, b, c, d), strict=True)]

    def digest(self) -> bytes:
        """The value (the object stays usable)."""
        twin = self.copy()
        bits = (self._length * 8) & 0xFFFFFFFFFFFFFFFF
        twin.update(b"\x80" + bytes((55 - self._length) % 64))
        twin._block(twin._pending + struct.pack("<Q", bits))
        return struct.pack("<4I", *twin._h)

    def copy(self) -> MD4:
        """An independent copy of the running hash."""
        twin = MD4.__new__(MD4)
        twin._h, twin._pending, twin._length = list(self._h), self._pending, self._length
        return twin


_FALLBACKS: dict[str, type[MD2] | type[MD4]] = {"md2": MD2, "md4": MD4}


def new(name: str) -> Digest:
    """``hashlib.new(name)``, or this module's MD2/MD4 where hashlib lacks them."""
    # hashlib (~2 ms with OpenSSL's bindings): off the first key's path (cold start).
    import hashlib  # noqa: PLC0415

    try:
        return hashlib.new(name)
    except ValueError:
        fallback = _FALLBACKS.get(name)
        if fallback is None:
            raise
        return fallback()
