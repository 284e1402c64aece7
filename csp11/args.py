"""Checking the arguments of the public API, as pywin32 would take them.

pywin32's constants are signed 32-bit ints (``CRYPT_VERIFYCONTEXT`` is
``-268435456``, i.e. 0xF0000000), and callers also write the unsigned form.
Every DWORD argument is therefore normalised to its unsigned 32-bit value
before csp11 looks at its bits.  Wrong Python types are ``TypeError``, the one
foreign exception csp11 raises, as pywin32 does.
"""

from __future__ import annotations

from csp11 import winerror
from csp11.errors import Fail

__all__ = [
    "DWORD_MAX", "MAX_PATH", "bytes_arg", "container_name", "dword", "flags", "optional_bytes",
    "optional_str",
]

DWORD_MAX = 0xFFFFFFFF
MAX_PATH = 260  # Windows' limit on a key container's name, terminator included


def dword(value: object, name: str, code: int = winerror.ERROR_INVALID_PARAMETER) -> int:
    """``value`` as an unsigned DWORD; out of 32-bit range → ``code``."""
    if not isinstance(value, int):
        raise TypeError(f"{name} must be an int, not {type(value).__name__}")
    if not -0x80000000 <= value <= DWORD_MAX:
        raise Fail(code, f"{name} does not fit in a DWORD: {value}")
    return value & DWORD_MAX


def flags(value: object, name: str = "Flags") -> int:
    """A ``dwFlags`` argument; out of 32-bit range → ``NTE_BAD_FLAGS``."""
    return dword(value, name, winerror.NTE_BAD_FLAGS)


def optional_str(value: object, name: str) -> str | None:
    """A ``str`` or ``None`` argument."""
    if value is not None and not isinstance(value, str):
        raise TypeError(f"{name} must be a str or None, not {type(value).__name__}")
    return value


def optional_bytes(value: object, name: str) -> bytes | None:
    """A bytes-like or ``None`` argument, as ``bytes``."""
    if value is None:
        return None
    if not isinstance(value, (bytes, bytearray, memoryview)):
        raise TypeError(f"{name} must be bytes or None, not {type(value).__name__}")
    return bytes(value)


def bytes_arg(value: object, name: str) -> bytes:
    """A bytes-like argument, as ``bytes``."""
    if not isinstance(value, (bytes, bytearray, memoryview)):
        raise TypeError(f"{name} must be bytes, not {type(value).__name__}")
    return bytes(value)


def container_name(value: object) -> str | None:
    """A key container's name: text without NUL, shorter than ``MAX_PATH``.

    What Windows cannot name a container with is ``NTE_BAD_KEYSET_PARAM``
    before anything reaches the token: a lone surrogate (text that came from
    undecodable bytes), an embedded NUL (a C string would end there), or 260
    characters or more.
    """
    name = optional_str(value, "Container")
    if name is None:
        return None
    if "\0" in name:
        raise Fail(winerror.NTE_BAD_KEYSET_PARAM, "the container name holds a NUL character")
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        raise Fail(
            winerror.NTE_BAD_KEYSET_PARAM,
            "the container name is not valid text (it came from bytes that are not UTF-8)",
        ) from None
    if len(name) >= MAX_PATH:
        raise Fail(
            winerror.NTE_BAD_KEYSET_PARAM,
            f"the container name is {len(name)} characters; the limit is {MAX_PATH - 1}",
        )
    return name
