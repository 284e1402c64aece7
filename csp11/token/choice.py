"""Which token a context uses (README, "Choosing the token").

``Token=`` or else ``CSP11_TOKEN``: an RFC 7512 PKCS#11 URI whose path
attributes select the token and whose query gives the module and the PIN.
Neither: the embedded default token (:mod:`csp11.token.embedded`).

The query attribute ``x-init-reserved`` is passed to ``C_Initialize`` as
``pReserved`` (NSS softokn's configuration string, as in p11-kit's module
files).  Without ``module-path`` the module is SoftHSM2 (``CSP11_MODULE`` overrides,
for machines whose tokens all live in one other module).  ``module-name`` is
looked up in the usual PKCS#11 module directories.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import ClassVar

from csp11 import winerror
from csp11.errors import Fail
from csp11.structs import Struct
from csp11.token.embedded import find_softhsm2, open_embedded
from csp11.token.module import Module, load_module, reload_module, view_is_current
from csp11.token.session import BUSY_PAUSES, busy_pause
from csp11.token.token import Token
from csp11.token.uri import Pkcs11Uri, parse_uri

__all__ = ["ChosenToken", "choose_token"]

# p11-kit's and distributions' module directories, for module-name.
_MODULE_DIRS = (
    "/usr/lib/x86_64-linux-gnu/pkcs11",
    "/usr/lib/aarch64-linux-gnu/pkcs11",
    "/usr/lib64/pkcs11",
    "/usr/lib/pkcs11",
    "/usr/lib/softhsm",
    "/usr/lib/x86_64-linux-gnu",
    "/usr/lib/aarch64-linux-gnu",
    "/usr/local/lib",
)


class ChosenToken(Struct):
    """The token of a context and the PIN sources its URI gives."""

    token: Token
    pin_value: str | None
    pin_source: str | None
    description: str  # the URI without its PIN, for messages

    SECRET_MEMBERS: ClassVar[tuple[str, ...]] = ("pin_value",)  # never in repr()


def _module_for(uri: Pkcs11Uri) -> str:
    if uri.module_path:
        # A relative path would load whatever library the working directory
        # holds under that name.
        if not os.path.isabs(uri.module_path):
            raise Fail(
                winerror.ERROR_INVALID_PARAMETER,
                f"module-path must be an absolute path, not {uri.module_path!r}",
            )
        return uri.module_path
    if uri.module_name:
        name = uri.module_name
        candidates = [name] if name.endswith(".so") else [f"{name}.so", f"lib{name}.so"]
        for directory in _MODULE_DIRS:
            for candidate in candidates:
                path = os.path.join(directory, candidate)
                if os.path.exists(path):
                    return path
        raise Fail(winerror.NTE_PROV_DLL_NOT_FOUND, f"PKCS#11 module-name {name!r} not found")
    return os.environ.get("CSP11_MODULE") or find_softhsm2()


def _token_filter(uri: Pkcs11Uri) -> dict[str, object]:
    # The token's own fields, plus the slot's (which the URI may also name).
    want: dict[str, object] = dict(uri.token_filter())
    for key in ("slot_description", "slot_manufacturer", "slot_id"):
        value = getattr(uri, key)
        if value is not None:
            want[key] = value
    return want


def _never(_module: Module) -> bool:
    return False


def choose_token(
    token_uri: str | None, may_reload: Callable[[Module], bool] = _never
) -> ChosenToken:
    """Resolve ``Token=``/``CSP11_TOKEN``/the embedded token to a :class:`ChosenToken`.

    A module that read a tpm2-pkcs11 store while another process wrote it
    may have read part of it (measured: one token of two listed), and keeps
    that view until it is initialised again.  When no token matches and the
    store changed since, the module is initialised again (after the pauses
    of :data:`BUSY_PAUSES`) if ``may_reload(module)`` says nothing of this
    process uses it.
    """
    text = token_uri if token_uri is not None else os.environ.get("CSP11_TOKEN") or None
    if text is None:
        embedded = open_embedded()
        return ChosenToken(
            embedded.token, None, str(embedded.pin_file),
            f"embedded token in {embedded.home}",
        )
    uri = parse_uri(text)
    # x-init-reserved: C_Initialize's pReserved, as p11-kit names it (NSS
    # softokn takes its database configuration there).
    path, reserved = _module_for(uri), uri.vendor.get("x-init-reserved")
    module = load_module(path, init_reserved=reserved)
    want = _token_filter(uri)
    found = module.find_tokens(want)
    pauses = iter(BUSY_PAUSES)
    while (not found and module.view_stamp is not None and not view_is_current(module)
           and may_reload(module) and (pause := next(pauses, None)) is not None):
        reload_module(module)
        busy_pause(pause)
        module = load_module(path, init_reserved=reserved)
        found = module.find_tokens(want)
    shown = uri.redacted()
    if not found:
        raise Fail(winerror.SCARD_E_NO_SMARTCARD, f"no token matches {shown}")
    if len(found) > 1:
        raise Fail(
            winerror.ERROR_INVALID_PARAMETER,
            f"{len(found)} tokens match {shown}; add serial= or token= to choose one",
        )
    return ChosenToken(found[0], uri.pin_value, uri.pin_source, shown)
