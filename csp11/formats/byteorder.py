"""CryptoAPI's little-endian integers and PKCS#11's big-endian ones, in one place.

CryptoAPI stores every multi-byte integer (key parameters, BLOB fields,
signatures, RSA ciphertexts) least significant byte first; PKCS#11 stores
big integers most significant byte first (``CK_BIGINTEGER``).  Everything
that crosses between the two goes through these functions.
"""

from __future__ import annotations

__all__ = ["be_to_le", "int_from_le", "int_to_le", "le_to_be"]


def le_to_be(data: bytes) -> bytes:
    """Little-endian bytes as big-endian (a byte reversal), e.g. KP_P → CKA_PRIME."""
    return bytes(reversed(data))


def be_to_le(data: bytes) -> bytes:
    """Big-endian bytes as little-endian (a byte reversal), e.g. CKA_PRIME → KP_P."""
    return bytes(reversed(data))


def int_from_le(data: bytes) -> int:
    """The unsigned integer a little-endian byte string holds."""
    return int.from_bytes(data, "little")


def int_to_le(value: int, size: int) -> bytes:
    """``value`` as exactly ``size`` little-endian bytes (zero-padded)."""
    return value.to_bytes(size, "little")

