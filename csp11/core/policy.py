"""Key policy: the ``KP_PERMISSIONS`` of new keys and the salt rules of RC2/RC4.

Windows-observed (rsaenh, WINDOWS-FACTS); one home for what CryptGenKey,
CryptImportKey, CryptDeriveKey and agreement decide alike.
"""

from __future__ import annotations

from collections.abc import Callable

from csp11 import win32cryptcon as con
from csp11.model.algorithms import Algorithm
from csp11.model.providers import Personality

__all__ = [
    "DEFAULT_PERMISSIONS", "KNOWN_PERMISSIONS", "PROTECTION", "SALT_BYTES", "extractable",
    "permissions_for", "salt_for",
]

# KP_PERMISSIONS of a new key: ENCRYPT|DECRYPT|READ|WRITE|MAC (0x3b); with
# CRYPT_EXPORTABLE also EXPORT (0x3f).  Windows-observed (rsaenh).
DEFAULT_PERMISSIONS = (
    con.CRYPT_ENCRYPT | con.CRYPT_DECRYPT | con.CRYPT_READ | con.CRYPT_WRITE | con.CRYPT_MAC
)
KNOWN_PERMISSIONS = (
    DEFAULT_PERMISSIONS | con.CRYPT_EXPORT | con.CRYPT_EXPORT_KEY | con.CRYPT_IMPORT_KEY
    | con.CRYPT_ARCHIVE
)
# Flags that make a key pair ask for its PIN at each use.
PROTECTION = con.CRYPT_USER_PROTECTED | con.CRYPT_FORCE_KEY_PROTECTION_HIGH
SALT_BYTES = 11  # the 88-bit salt of 40-bit RC2/RC4 keys


def permissions_for(flag_bits: int) -> int:
    """``KP_PERMISSIONS`` of a new key from its creation flags: 0x3b; with
    ``CRYPT_EXPORTABLE`` also ``CRYPT_EXPORT`` (0x3f); with
    ``CRYPT_ARCHIVABLE`` also ``CRYPT_ARCHIVE`` (WINDOWS-FACTS)."""
    permissions = DEFAULT_PERMISSIONS
    if flag_bits & con.CRYPT_EXPORTABLE:
        permissions |= con.CRYPT_EXPORT
    if flag_bits & con.CRYPT_ARCHIVABLE:
        permissions |= con.CRYPT_ARCHIVE
    return permissions


def extractable(flag_bits: int) -> bool:
    """Whether a new key's objects are ``CKA_EXTRACTABLE`` (exportable or archivable)."""
    return bool(flag_bits & (con.CRYPT_EXPORTABLE | con.CRYPT_ARCHIVABLE))


def salt_for(
    personality: Personality, alg: Algorithm, bits: int, low: int,
    created: Callable[[], bytes] | None = None,
) -> bytes:
    """The salt rules of RC2/RC4 keys (Windows-observed, docs/differences.md).

    ``created`` makes the salt ``CRYPT_CREATE_SALT`` asks for (random for
    CryptGenKey, the hash's next bytes for CryptDeriveKey; imports take no
    such flag).  The Enhanced family ignores the flag; a 40-bit key otherwise
    has eleven zero bytes, unless ``CRYPT_NO_SALT``.
    """
    if not alg.salted:
        return b""
    if low & con.CRYPT_CREATE_SALT and created is not None:
        return created() if personality.create_salt else b""
    if bits == 40 and not low & con.CRYPT_NO_SALT:
        return bytes(SALT_BYTES)
    return b""
