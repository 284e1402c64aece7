"""DSA and Diffie-Hellman domain parameters: checks and the VER3 parameter blob.

Pure code, no token: used by ``CRYPT_PREGEN`` keys (``KP_P``, ``KP_Q``,
``KP_G``, ``KP_PUB_PARAMS``) and ``KP_VERIFY_PARAMS``.  Values arrive
little-endian, as CryptoAPI passes them.
"""

from __future__ import annotations

import struct

from csp11 import win32cryptcon as con
from csp11 import winerror
from csp11.errors import Fail
from csp11.formats.byteorder import int_from_le

__all__ = ["check_domain_value", "is_probable_prime", "parse_pub_params", "verify_domain"]

DSS_Q_BITS = 160  # DSS keys of the Microsoft providers use a 160-bit Q (FIPS 186-2)
_MAGIC_DSS3 = 0x33535344  # "DSS3"
_MAGIC_DH3 = 0x33484400   # "\0DH3"
_SMALL_PRIMES = (2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47)


def is_probable_prime(n: int, rounds: int = 32) -> bool:
    """Miller-Rabin with random bases (error below 4**-rounds)."""
    if n < 2:
        return False
    for p in _SMALL_PRIMES:
        if n % p == 0:
            return n == p
    d, s = n - 1, 0
    while d % 2 == 0:
        d //= 2
        s += 1
    # secrets (~5 ms: hmac, hashlib, base64): only DH/DSA checks need it (cold start).
    import secrets  # noqa: PLC0415

    for _ in range(rounds):
        a = 2 + secrets.randbelow(n - 3)
        x = pow(a, d, n)
        if x in (1, n - 1):
            continue
        for _ in range(s - 1):
            x = pow(x, 2, n)
            if x == n - 1:
                break
        else:
            return False
    return True


def verify_domain(p: int, g: int, q: int | None) -> str | None:
    """What is wrong with DSA (``q`` given) or DH parameters, or ``None`` if sound."""
    if not is_probable_prime(p):
        return "P is not prime"
    if not 1 < g < p - 1:
        return "G is out of range"
    if q is not None:
        if not is_probable_prime(q):
            return "Q is not prime"
        if (p - 1) % q:
            return "Q does not divide P - 1"
        if pow(g, q, p) != 1:
            return "G does not generate the subgroup of order Q"
    return None


def check_domain_value(name: str, value: bytes, bits: int, dsa: bool) -> None:
    """Check one ``KP_P``/``KP_Q``/``KP_G`` value against the PREGEN key length."""
    number = int_from_le(value)
    if number == 0:
        raise Fail(winerror.NTE_BAD_DATA, f"KP_{name} is zero")
    if name == "P" and number.bit_length() != bits:
        raise Fail(
            winerror.NTE_BAD_LEN,
            f"KP_P has {number.bit_length()} bits; the key was created for {bits}",
        )
    if name == "Q" and dsa and number.bit_length() != DSS_Q_BITS:
        raise Fail(winerror.NTE_BAD_LEN, f"KP_Q must have {DSS_Q_BITS} bits")
    if name == "G" and number.bit_length() > bits:
        raise Fail(winerror.NTE_BAD_LEN, f"KP_G is longer than the {bits}-bit P")


def parse_pub_params(data: bytes, dsa: bool) -> dict[str, bytes]:
    """The P, Q, G of a ``DSSPUBKEY_VER3``/``DHPUBKEY_VER3`` blob (``KP_PUB_PARAMS``).

    Layout (Microsoft, "DSS Version 3 Public Key BLOBs" and "Diffie-Hellman
    Version 3 Public Key BLOBs"): optional ``BLOBHEADER``; magic, bitlenP,
    bitlenQ, bitlenJ, ``DSSSEED`` {counter, seed[20]}; then P, Q, G, J, all
    little-endian (G as long as P; Q and J absent when their length is 0).
    Both the form with a BLOBHEADER and the bare structure are accepted, as
    providers and callers differ.
    """
    magic = _MAGIC_DSS3 if dsa else _MAGIC_DH3
    if len(data) >= 12 and data[0] == con.PUBLICKEYBLOB and struct.unpack_from("<I", data, 8)[
        0
    ] == magic:
        data = data[8:]
    if len(data) < 40:
        raise Fail(winerror.NTE_BAD_LEN, "KP_PUB_PARAMS is too short")
    found, bits_p, bits_q, bits_j = struct.unpack_from("<IIII", data, 0)
    if found != magic:
        raise Fail(winerror.NTE_BAD_DATA, f"KP_PUB_PARAMS: wrong magic 0x{found:08X}")
    if bits_p % 8 or bits_q % 8 or bits_j % 8 or not bits_p:
        raise Fail(winerror.NTE_BAD_DATA, "KP_PUB_PARAMS: bit lengths must be whole bytes")
    size_p, size_q, size_j = bits_p // 8, bits_q // 8, bits_j // 8
    offset = 40
    if len(data) < offset + size_p * 2 + size_q + size_j:
        raise Fail(winerror.NTE_BAD_LEN, "KP_PUB_PARAMS is shorter than its lengths say")
    p = data[offset : offset + size_p]
    offset += size_p
    q = data[offset : offset + size_q]
    offset += size_q
    g = data[offset : offset + size_p]
    result = {"P": p, "G": g}
    if dsa:
        if not size_q:
            raise Fail(winerror.NTE_BAD_DATA, "KP_PUB_PARAMS: a DSS key needs Q")
        result["Q"] = q
    return result
