"""The provider functions: acquiring a context, its parameters (``PP_*``), random bytes.

``CryptAcquireContext`` here takes normalised arguments and returns a
:class:`csp11.core.context.Context`; the public function that checks them is
in :mod:`csp11.win32crypt`.  ``CryptGetProvParam`` is a table,
:data:`_PROV_PARAMS`, plus the two enumerations (``PP_ENUMALGS(_EX)``,
``PP_ENUMCONTAINERS``).
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from typing import Any, NamedTuple

from csp11 import win32cryptcon as con
from csp11 import winerror
from csp11.args import DWORD_MAX
from csp11.core import containermap
from csp11.core.containermap import FOUND_PREFIX, found_container, found_containers
from csp11.core.context import Context
from csp11.core.store import ContainerName, containers_of
from csp11.errors import Fail
from csp11.model.algorithms import ALGORITHMS
from csp11.model.capabilities import capabilities
from csp11.model.providers import choose
from csp11.token import (
    CKF_HW_SLOT,
    CKF_REMOVABLE_DEVICE,
    ChildSafeLock,
    ChosenToken,
    Module,
    PinSources,
    choose_token,
    reload_module,
    view_is_current,
)

__all__ = [
    "ACQUIRE_FLAGS", "PROV_ENUMALGS", "PROV_ENUMALGS_EX", "RANDOM_CHUNK", "acquire", "gen_random",
    "get_prov_param", "set_prov_param",
]

_VERIFY = con.CRYPT_VERIFYCONTEXT & DWORD_MAX  # pywin32 spells it signed
# The most random bytes asked of the token in one C_GenerateRandom.
RANDOM_CHUNK = 16 << 20
ACQUIRE_FLAGS = (
    _VERIFY
    | con.CRYPT_NEWKEYSET
    | con.CRYPT_DELETEKEYSET
    | con.CRYPT_MACHINE_KEYSET
    | con.CRYPT_SILENT
    | con.CRYPT_DEFAULT_CONTAINER_OPTIONAL
)


# Contexts not yet released, to tell whether this process still uses a module;
# _acquiring covers choosing a token up to registering the new context, so
# that no thread holds a module's token unregistered while it is reloaded.
_live: weakref.WeakSet[Context] = weakref.WeakSet()
_acquiring = ChildSafeLock(_live.clear)


class PROV_ENUMALGS(NamedTuple):
    """An algorithm as ``PP_ENUMALGS`` reports it (pywin32's field names)."""

    aiAlgid: int
    dwBitLen: int
    szName: str


class PROV_ENUMALGS_EX(NamedTuple):
    """An algorithm as ``PP_ENUMALGS_EX`` reports it (pywin32's field names)."""

    aiAlgid: int
    dwDefaultLen: int
    dwMinLen: int
    dwMaxLen: int
    dwProtocols: int
    szName: str
    szLongName: str


def acquire(
    container: str | None, provider: str | None, prov_type: int, flag_bits: int,
    token_uri: str | None,
) -> Context | None:
    """CryptAcquireContext (arguments normalised; see :mod:`csp11.win32crypt`)."""
    if flag_bits & ~ACQUIRE_FLAGS & DWORD_MAX or 0 < flag_bits & _VERIFY < _VERIFY:
        raise Fail(winerror.NTE_BAD_FLAGS, f"invalid flags 0x{flag_bits:08X}")
    personality = choose(provider, prov_type)
    name = container or None
    if flag_bits & con.CRYPT_NEWKEYSET and flag_bits & con.CRYPT_DELETEKEYSET:
        raise Fail(winerror.NTE_BAD_FLAGS, "CRYPT_NEWKEYSET and CRYPT_DELETEKEYSET together")
    if flag_bits & _VERIFY:
        if name is not None:
            raise Fail(
                winerror.NTE_BAD_FLAGS, "CRYPT_VERIFYCONTEXT takes no container name"
            )
        # CRYPT_NEWKEYSET is accepted and changes nothing (a verify context is
        # always a new, nameless container), as Windows' providers do.
        if flag_bits & con.CRYPT_DELETEKEYSET:
            raise Fail(
                winerror.NTE_BAD_FLAGS,
                "CRYPT_VERIFYCONTEXT cannot be combined with CRYPT_DELETEKEYSET",
            )
    elif name is None:
        # Windows' default container is named after the user.
        # getpass (and termios): only a default container name needs it (cold start).
        import getpass  # noqa: PLC0415

        name = getpass.getuser()
    scope = "machine" if flag_bits & con.CRYPT_MACHINE_KEYSET else "user"
    cname = ContainerName(scope, name) if name is not None else None
    with _acquiring:
        chosen = choose_token(token_uri, _unused)
        if cname is not None and chosen.token.quirks.objects_read_at_load:
            chosen = _fresh(chosen, token_uri)
        pins = PinSources(
            uri_pin=chosen.pin_value,
            uri_pin_source=chosen.pin_source,
            silent=bool(flag_bits & con.CRYPT_SILENT),
        )
        ctx = Context(
            personality, chosen.token, pins,
            container=cname, flags=flag_bits, token_description=chosen.description,
        )
        _live.add(ctx)
    if cname is None:
        return ctx
    try:
        if flag_bits & con.CRYPT_NEWKEYSET:
            # Before the login: a write-protected token may have no user at all.
            containers_of(ctx.token).check_writable()
        ctx.login()
        ctx.container = _open_container(ctx, cname, flag_bits)
    except BaseException:
        ctx.release_ref()
        raise
    if flag_bits & con.CRYPT_DELETEKEYSET:
        ctx.release_ref()
        return None
    return ctx


def _fresh(chosen: ChosenToken, token_uri: str | None) -> ChosenToken:
    """The token with the module's view of the token's objects made current,
    where that is safe: on a token whose module reads its objects only at
    ``C_Initialize`` (tpm2-pkcs11), before a named container is opened, made
    or deleted, when a process (this one too) has written the token's store
    since the module was initialised, and only when this process holds no
    other context on the module — finalising it would end their sessions,
    logins and key handles.
    With another context live the view stays as it is (docs/differences.md)."""
    module = chosen.token.module
    assert isinstance(module, Module)
    if view_is_current(module):
        return chosen  # nobody wrote the store since: nothing to see
    if not _unused(module):
        return chosen
    reload_module(module)
    return choose_token(token_uri, _unused)


def _unused(module: Module) -> bool:
    """Whether this process holds no context on ``module`` (held under
    ``_acquiring``): only then may it be finalised and initialised again."""
    return not any(not ctx.closed and ctx.token.module is module for ctx in list(_live))


def _open_container(ctx: Context, cname: ContainerName, flag_bits: int) -> ContainerName:
    """CryptAcquireContext's work on a named container: create, delete or open it;
    returns its name as the context keeps it (``found`` for the token's own keys).

    A container csp11 made wins over keys of the same name csp11 did not make
    (whose name then is ``#`` and their CKA_ID: docs/mapping.md); a found
    container is opened and deleted without csp11's markers and lock, and
    nothing is written to the token unless it is deleted.
    """
    store = containers_of(ctx.token)
    pins = ctx.pins
    if flag_bits & con.CRYPT_DELETEKEYSET:
        if not store.exists(cname, pins):
            found = found_container(ctx.token, pins, cname.name)
            if found is not None:
                containermap.destroy(ctx.token, found)
                return cname
        store.delete(cname, pins)
        return cname
    if flag_bits & con.CRYPT_NEWKEYSET:
        if cname.name.startswith(FOUND_PREFIX):
            raise Fail(
                winerror.NTE_BAD_KEYSET_PARAM,
                f"container names beginning with {FOUND_PREFIX!r} name keys csp11 did not "
                f"make; {cname.name!r} cannot be created",
            )
        if found_container(ctx.token, pins, cname.name) is not None:
            raise Fail(winerror.NTE_EXISTS,
                       f"key container {cname.name!r} already exists (the token's own keys)")
        store.create(cname, pins)
        return cname
    if store.exists(cname, pins):
        # Tidies crash debris (NTE_BAD_KEYSET if it was deleted meanwhile).
        store.tidy(cname, pins)
        return cname
    if found_container(ctx.token, pins, cname.name) is not None:
        return ContainerName(cname.scope, cname.name, found=True)
    stale = (
        f" (as far as this process can tell: token {ctx.token.label!r} shows a process only "
        "the objects that existed when it loaded the token's module, and csp11 reloads it "
        "only when the process holds no other context on it; a container another process "
        "made since is found once this process has released its contexts, or by a new "
        "process)"
        if ctx.token.quirks.objects_read_at_load else ""
    )
    raise Fail(winerror.NTE_BAD_KEYSET, f"key container {cname.name!r} does not exist{stale}")


def gen_random(ctx: Context, length: int, seed: bytes | None) -> bytes:
    """CryptGenRandom: ``length`` bytes from the token (``C_GenerateRandom``).

    ``seed``, like the initial buffer contents on Windows, is extra seed
    material: it goes to ``C_SeedRandom`` where the token takes seed (many
    HSMs don't and ignore it, which is what Windows allows too).
    """
    ctx.check_live()
    if not 0 <= length <= DWORD_MAX:
        raise Fail(winerror.ERROR_INVALID_PARAMETER, f"Len out of range: {length}")
    if seed:
        ctx.token.seed_random(seed)
    if length <= RANDOM_CHUNK:
        return ctx.token.generate_random(length)
    # Any DWORD is a valid length, but a token has its own limit per call
    # (SoftHSM2 answers 2 GiB with CKR_GENERAL_ERROR): ask in pieces.
    try:
        out = bytearray(length)
        view = memoryview(out)
        for start in range(0, length, RANDOM_CHUNK):
            piece = ctx.token.generate_random(min(RANDOM_CHUNK, length - start))
            view[start : start + len(piece)] = piece
        view.release()
        return bytes(out)
    except MemoryError:
        raise Fail(winerror.NTE_NO_MEMORY, f"no memory for {length} random bytes") from None


def get_prov_param(ctx: Context, param: int, flag_bits: int) -> Any:
    """CryptGetProvParam: a table of parameters plus the two enumerations."""
    ctx.check_live()
    if param in (con.PP_ENUMALGS, con.PP_ENUMALGS_EX):
        return _enum_algs(ctx, param, flag_bits)
    if param == con.PP_ENUMCONTAINERS:
        return _enum_containers_next(ctx, flag_bits)
    getter = _PROV_PARAMS.get(param)
    if getter is None:
        raise Fail(winerror.NTE_BAD_TYPE, f"unknown provider parameter {param}")
    if flag_bits != 0:
        raise Fail(winerror.NTE_BAD_FLAGS, f"dwFlags must be 0 for parameter {param}")
    return getter(ctx)


def set_prov_param(ctx: Context, param: int, data: object, flag_bits: int) -> None:
    """CryptSetProvParam: ``PP_KEYEXCHANGE_PIN`` / ``PP_SIGNATURE_PIN`` (str or None).

    The PIN is used for this context's logins before any other source and is
    never shown in a ``repr`` or message.  ``None`` forgets it.
    """
    ctx.check_live()
    if param in (con.PP_KEYEXCHANGE_PIN, con.PP_SIGNATURE_PIN):
        if data is not None and not isinstance(data, str):
            raise TypeError("a PIN must be a str or None")
        if flag_bits != 0:
            raise Fail(winerror.NTE_BAD_FLAGS, "dwFlags must be 0 for a PIN")
        ctx.pins.set_context_pin(data)
        return
    raise Fail(winerror.NTE_BAD_TYPE, f"unknown or read-only provider parameter {param}")


def _enum_containers_next(ctx: Context, flag_bits: int) -> str:
    allowed = con.CRYPT_FIRST | con.CRYPT_NEXT | con.CRYPT_MACHINE_KEYSET
    if flag_bits & ~allowed:
        raise Fail(winerror.NTE_BAD_FLAGS, f"invalid flags 0x{flag_bits:X} for PP_ENUMCONTAINERS")
    if flag_bits & con.CRYPT_FIRST or ctx.enum_index_containers < 0:
        ctx.login()
        scope = "machine" if flag_bits & con.CRYPT_MACHINE_KEYSET else "user"
        # csp11's own containers of the scope and the token's own keys
        # (which belong to no scope), whose names never coincide.
        names = sorted({*containers_of(ctx.token).names(scope, ctx.pins),
                        *found_containers(ctx.token, ctx.pins)})
        with ctx.lock:
            ctx.enum_containers = names
            ctx.enum_index_containers = -1
    with ctx.lock:
        index = ctx.enum_index_containers + 1
        if index >= len(ctx.enum_containers):
            raise Fail(winerror.ERROR_NO_MORE_ITEMS, "no more containers")
        ctx.enum_index_containers = index
        return ctx.enum_containers[index]


def _enum_algs(ctx: Context, param: int, flag_bits: int) -> PROV_ENUMALGS | PROV_ENUMALGS_EX:
    if flag_bits & ~(con.CRYPT_FIRST | con.CRYPT_NEXT | con.CRYPT_SGC_ENUM):
        raise Fail(winerror.NTE_BAD_FLAGS, f"invalid flags 0x{flag_bits:X} for PP_ENUMALGS")
    offers = capabilities(ctx.personality, ctx.token).offers
    with ctx.lock:
        index = 0 if flag_bits & con.CRYPT_FIRST else ctx.enum_index + 1
        if index >= len(offers):
            raise Fail(winerror.ERROR_NO_MORE_ITEMS, "no more algorithms")
        ctx.enum_index = index
    offer = offers[index]
    alg = ALGORITHMS[offer.algid]
    if param == con.PP_ENUMALGS:
        return PROV_ENUMALGS(offer.algid, offer.default, alg.name)
    return PROV_ENUMALGS_EX(
        offer.algid, offer.default, offer.minimum, offer.maximum, alg.protocols,
        alg.name, alg.long_name,
    )


def _imptype(ctx: Context) -> int:
    slot_flags = ctx.token.info().slot_flags
    kind = con.CRYPT_IMPL_HARDWARE if slot_flags & CKF_HW_SLOT else con.CRYPT_IMPL_SOFTWARE
    if slot_flags & CKF_REMOVABLE_DEVICE:
        kind |= con.CRYPT_IMPL_REMOVABLE
    return kind


def _unique_container(ctx: Context) -> str:
    cname = ctx.container
    if cname is None:
        return ""
    if cname.found:
        return f"csp11:{ctx.token.serial}:found/{cname.name}"
    return f"csp11:{ctx.token.serial}:{cname.scope}/{cname.name}"


def _keyset_type(ctx: Context) -> int:
    cname = ctx.container
    return con.CRYPT_MACHINE_KEYSET if cname is not None and cname.scope == "machine" else 0


_PROV_PARAMS: dict[int, Callable[[Context], Any]] = {
    con.PP_CONTAINER: lambda ctx: ctx.container_name or "",
    con.PP_UNIQUE_CONTAINER: _unique_container,
    con.PP_KEYSET_TYPE: _keyset_type,
    con.PP_SIG_KEYSIZE_INC: lambda ctx: ctx.personality.keysize_inc,
    con.PP_KEYX_KEYSIZE_INC: lambda ctx: ctx.personality.keysize_inc,
    con.PP_KEYSPEC: lambda ctx: ctx.personality.keyspec,
    con.PP_NAME: lambda ctx: ctx.personality.name,
    con.PP_PROVTYPE: lambda ctx: ctx.personality.prov_type,
    con.PP_IMPTYPE: _imptype,
    con.PP_VERSION: lambda ctx: ctx.personality.version,
}
