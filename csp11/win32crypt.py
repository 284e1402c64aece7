"""csp11's ``win32crypt``: the CryptoAPI provider functions, on a PKCS#11 token.

A drop-in for the CSP part of pywin32's ``win32crypt``: code written against
it runs on a token by changing its imports (SPEC §1)::

    from csp11 import win32crypt, win32cryptcon
    prov = win32crypt.CryptAcquireContext(None, None, win32cryptcon.PROV_RSA_AES,
                                          win32cryptcon.CRYPT_VERIFYCONTEXT)
"""

from __future__ import annotations

import getpass

from csp11 import win32cryptcon as con
from csp11 import winerror
from csp11.args import DWORD_MAX, dword, flags, optional_str
from csp11.containers import ContainerName, containers_of
from csp11.errors import Fail, api
from csp11.provider import PyCRYPTPROV
from csp11.providers import choose
from csp11.token import PinSources, choose_token

__all__ = ["CryptAcquireContext", "PyCRYPTPROV"]

_VERIFY = con.CRYPT_VERIFYCONTEXT & DWORD_MAX  # pywin32 spells it signed
_ACQUIRE_FLAGS = (
    _VERIFY
    | con.CRYPT_NEWKEYSET
    | con.CRYPT_DELETEKEYSET
    | con.CRYPT_MACHINE_KEYSET
    | con.CRYPT_SILENT
    | con.CRYPT_DEFAULT_CONTAINER_OPTIONAL
)


@api("CryptAcquireContext")
def CryptAcquireContext(
    Container: str | None,
    Provider: str | None,
    ProvType: int,
    Flags: int,
    *,
    Token: str | None = None,
) -> PyCRYPTPROV | None:
    """Open a provider context on a token.

    ``Provider``/``ProvType`` choose the Microsoft provider whose rules apply
    (SPEC §3); ``Token`` (or ``CSP11_TOKEN``) is the PKCS#11 URI of the token,
    the embedded default token when neither is given.  With
    ``CRYPT_VERIFYCONTEXT`` the context has no container and its keys are
    session objects that vanish with the process; otherwise ``Container``
    (default: the user's login name) is a key container on the token
    (``CRYPT_NEWKEYSET`` creates it, ``CRYPT_DELETEKEYSET`` deletes it and
    returns ``None``; see :mod:`csp11.containers`), and opening it logs in.
    """
    Container = optional_str(Container, "Container")
    Provider = optional_str(Provider, "Provider")
    Token = optional_str(Token, "Token")
    ProvType = dword(ProvType, "ProvType")
    Flags = flags(Flags)
    if Flags & ~_ACQUIRE_FLAGS & DWORD_MAX or 0 < Flags & _VERIFY < _VERIFY:
        raise Fail(winerror.NTE_BAD_FLAGS, f"invalid flags 0x{Flags:08X}")
    personality = choose(Provider, ProvType)
    container = Container or None
    if Flags & con.CRYPT_NEWKEYSET and Flags & con.CRYPT_DELETEKEYSET:
        raise Fail(winerror.NTE_BAD_FLAGS, "CRYPT_NEWKEYSET and CRYPT_DELETEKEYSET together")
    if Flags & _VERIFY:
        if container is not None:
            raise Fail(
                winerror.NTE_BAD_FLAGS, "CRYPT_VERIFYCONTEXT takes no container name"
            )
        if Flags & (con.CRYPT_NEWKEYSET | con.CRYPT_DELETEKEYSET):
            raise Fail(
                winerror.NTE_BAD_FLAGS,
                "CRYPT_VERIFYCONTEXT cannot be combined with CRYPT_NEWKEYSET/CRYPT_DELETEKEYSET",
            )
    elif container is None:
        # Windows' default container is named after the user.
        container = getpass.getuser()
    chosen = choose_token(Token)
    pins = PinSources(
        uri_pin=chosen.pin_value,
        uri_pin_source=chosen.pin_source,
        silent=bool(Flags & con.CRYPT_SILENT),
    )
    scope = "machine" if Flags & con.CRYPT_MACHINE_KEYSET else "user"
    cname = ContainerName(scope, container) if container is not None else None
    prov = PyCRYPTPROV(
        personality,
        chosen.token,
        pins,
        container=cname,
        flags=Flags,
        token_description=chosen.description,
    )
    if cname is None:
        return prov
    try:
        prov.login()
        store = containers_of(chosen.token)
        if Flags & con.CRYPT_DELETEKEYSET:
            store.delete(cname, pins)
            prov.CryptReleaseContext()
            return None
        if Flags & con.CRYPT_NEWKEYSET:
            store.create(cname, pins)
        else:
            # NTE_BAD_KEYSET if it does not exist; tidies crash debris if it does.
            store.tidy(cname, pins)
    except BaseException:
        prov.CryptReleaseContext()
        raise
    return prov
