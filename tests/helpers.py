"""Small helpers several test modules share."""

from __future__ import annotations

import glob
from typing import Any

import pytest

from csp11 import pywintypes, win32crypt, winerror
from csp11 import win32cryptcon as con
from csp11.ops import userkey
from csp11.win32crypt import PyCRYPTKEY, PyCRYPTPROV


def code_name(exc: pytest.ExceptionInfo[pywintypes.error]) -> str:
    """The Windows code's name of a caught ``pywintypes.error`` (``"NTE_BAD_KEY"``)."""
    return winerror.name_of(exc.value.winerror)


def verify_context(prov_type: int = con.PROV_RSA_AES) -> PyCRYPTPROV:
    """A ``CRYPT_VERIFYCONTEXT`` context on the test token."""
    ctx = win32crypt.CryptAcquireContext(None, None, prov_type, con.CRYPT_VERIFYCONTEXT)
    assert ctx is not None
    return ctx


def token_objects(ctx: PyCRYPTPROV) -> int:
    """How many objects the token shows this process (session and token objects)."""
    ctx._state.login()
    _, (found,) = ctx._state.token.find([{}], ctx._state.pins)
    return len(found)


def public_key_of(key: PyCRYPTKEY) -> Any:
    """The ``cryptography`` public key of a key pair handle, read from the token."""
    return userkey.public_key_of(key._state)


def installed(*patterns: str) -> str | None:
    """The first file matching one of ``patterns`` (globs, tried in order), or
    ``None``: where a Debian package put a module or tool on this machine."""
    for pattern in patterns:
        found = sorted(glob.glob(pattern))
        if found:
            return found[0]
    return None


def enumerated(ctx: PyCRYPTPROV, param: int, scope_flag: int = 0) -> list[Any]:
    """Every item an enumerating ``CryptGetProvParam`` (``PP_ENUMALGS_EX``,
    ``PP_ENUMCONTAINERS``, ...) gives, to its ``ERROR_NO_MORE_ITEMS``."""
    items, flags = [], con.CRYPT_FIRST | scope_flag
    while True:
        try:
            items.append(ctx.CryptGetProvParam(param, flags))
        except pywintypes.error as exc:
            assert exc.winerror == winerror.ERROR_NO_MORE_ITEMS
            return items
        flags = con.CRYPT_NEXT | scope_flag


def container_names(ctx: PyCRYPTPROV, scope_flag: int = 0) -> list[str]:
    """Every name ``PP_ENUMCONTAINERS`` gives."""
    return enumerated(ctx, con.PP_ENUMCONTAINERS, scope_flag)
