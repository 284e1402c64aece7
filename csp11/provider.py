"""``PyCRYPTPROV``: a provider context on a token.

A context ties together a provider personality (:mod:`csp11.providers`), a
token (:mod:`csp11.token_choice`), the container it was opened for and its PIN
sources.  Contexts are reference counted as on Windows:
``CryptContextAddRef`` adds a reference, ``CryptReleaseContext`` drops one,
and the context is released when none is left; a released context answers
every call with ``NTE_BAD_UID``.
"""

from __future__ import annotations

import itertools
import threading
import weakref
from types import TracebackType
from typing import TYPE_CHECKING, Any, NamedTuple

from csp11 import win32cryptcon as con
from csp11 import winerror
from csp11.algorithms import ALGORITHMS
from csp11.args import DWORD_MAX, dword, flags, optional_bytes
from csp11.capabilities import capabilities
from csp11.containers import ContainerName, containers_of
from csp11.errors import Fail, api
from csp11.providers import Personality
from csp11.pywintypes import error
from csp11.token import CKF_HW_SLOT, CKF_REMOVABLE_DEVICE, PinSources, Token

if TYPE_CHECKING:
    from csp11.hashes import PyCRYPTHASH
    from csp11.keys import PyCRYPTKEY

__all__ = ["PROV_ENUMALGS", "PROV_ENUMALGS_EX", "PyCRYPTPROV"]


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

_handles = itertools.count(1)

class PyCRYPTPROV:
    """A CryptoAPI provider context (``HCRYPTPROV``) whose keys live on a token."""

    def __init__(
        self,
        personality: Personality,
        token: Token,
        pins: PinSources,
        *,
        container: ContainerName | None,
        flags: int,
        token_description: str,
    ) -> None:
        self._personality = personality
        self._token = token
        self._pins = pins
        self._container = container
        self._flags = flags
        self._token_description = token_description
        self._refs = 1
        self._lock = threading.Lock()
        self._handle = next(_handles)
        # Live key handles: released with the context, as Windows frees a
        # context's keys with it.
        self._keys: weakref.WeakSet[PyCRYPTKEY | PyCRYPTHASH] = weakref.WeakSet()
        self._enum_index = -1  # PP_ENUMALGS(_EX) position
        self._enum_containers: list[str] = []  # PP_ENUMCONTAINERS snapshot
        self._enum_index_containers = -1

    def __repr__(self) -> str:
        state = "released" if self._refs == 0 else f"refs={self._refs}"
        return (
            f"<PyCRYPTPROV {self._handle} {self._personality.name!r} "
            f"container={self.container_name!r} token={self._token.label!r} {state}>"
        )

    # ---- lifetime ------------------------------------------------------------
    def __enter__(self) -> PyCRYPTPROV:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._drop_all()

    def _drop_all(self) -> None:
        with self._lock:
            self._refs = 0
            keys = list(self._keys)
            self._keys.clear()
        failures = []
        for key in keys:
            try:
                key.close()
            except (error, Fail) as exc:  # keep going: every other key must still go
                failures.append(exc)
        if failures:
            first = failures[0]
            if isinstance(first, Fail):
                raise error(first.code, "CryptReleaseContext", first.message, ckr=first.ckr)
            raise first

    def adopt(self, key: PyCRYPTKEY | PyCRYPTHASH) -> None:
        """Track a key or hash handle of this context (released with it)."""
        with self._lock:
            self.check_live()
            self._keys.add(key)

    def check_live(self) -> None:
        """Fail with ``NTE_BAD_UID`` once the context is released."""
        if self._refs == 0:
            raise Fail(winerror.NTE_BAD_UID, "the provider context has been released")

    @property
    def HCRYPTPROV(self) -> int:
        """The context's handle, an int unique within the process."""
        return self._handle

    @property
    def silent(self) -> bool:
        """Whether the context was acquired with ``CRYPT_SILENT`` (never prompts)."""
        return bool(self._flags & con.CRYPT_SILENT)

    @property
    def verify_only(self) -> bool:
        """Whether the context was acquired with ``CRYPT_VERIFYCONTEXT``."""
        return bool(self._flags & con.CRYPT_VERIFYCONTEXT & DWORD_MAX)

    @api("CryptReleaseContext")
    def CryptReleaseContext(self, Flags: int = 0) -> None:
        """Drop one reference; the context is released when none is left.

        Non-zero ``Flags`` fail with ``NTE_BAD_FLAGS`` after releasing anyway,
        as Windows does.  Releasing a released context is harmless.
        """
        Flags = flags(Flags)
        with self._lock:
            if self._refs > 0:
                self._refs -= 1
            last = self._refs == 0
        if last:
            self._drop_all()
        if Flags != 0:
            raise Fail(winerror.NTE_BAD_FLAGS, f"dwFlags must be 0, not 0x{Flags:X}")

    @api("CryptContextAddRef")
    def CryptContextAddRef(self, Flags: int = 0) -> None:
        """Add a reference: one more ``CryptReleaseContext`` is needed to release."""
        Flags = flags(Flags)
        with self._lock:
            self.check_live()
            if Flags != 0:
                raise Fail(winerror.NTE_BAD_FLAGS, f"dwFlags must be 0, not 0x{Flags:X}")
            self._refs += 1

    # ---- keys ----------------------------------------------------------------
    @api("CryptGenKey")
    def CryptGenKey(self, Algid: int, Flags: int, KeyLen: int = 0) -> PyCRYPTKEY:
        """Generate a session key or a key pair on the token.

        The key length is taken from the upper 16 bits of ``Flags`` (as the
        seed documents) or from ``KeyLen`` (as pywin32 does); both non-zero
        and different → ``NTE_BAD_FLAGS``.  See :mod:`csp11.keygen` for the
        rules and docs/mapping.md for the PKCS#11 calls.
        """
        from csp11.keygen import generate  # noqa: PLC0415 - keygen imports this module's users

        return generate(self, Algid, Flags, KeyLen)

    @api("CryptGetUserKey")
    def CryptGetUserKey(self, KeySpec: int) -> PyCRYPTKEY:
        """A new handle to the container's ``AT_KEYEXCHANGE`` or ``AT_SIGNATURE`` key pair.

        ``NTE_NO_KEY`` when the container has none (and always in a verify-only
        context).  Destroying the handle never deletes the stored key.
        """
        spec = dword(KeySpec, "KeySpec")
        self.check_live()
        if spec not in (con.AT_KEYEXCHANGE, con.AT_SIGNATURE):
            raise Fail(winerror.NTE_BAD_KEY, "KeySpec must be AT_KEYEXCHANGE or AT_SIGNATURE")
        if self._container is None:
            raise Fail(winerror.NTE_NO_KEY, "a verify-only context has no stored keys")
        from csp11.keygen import open_stored  # noqa: PLC0415 - keygen imports this module's users

        return open_stored(self, spec)

    # ---- random --------------------------------------------------------------
    @api("CryptImportKey")
    def CryptImportKey(
        self, Data: bytes, PubKey: PyCRYPTKEY | None = None, Flags: int = 0
    ) -> PyCRYPTKEY:
        """A key from a key BLOB (see :mod:`csp11.importkey`); ``PubKey`` decrypts
        SIMPLEBLOBs (an exchange key pair) and SYMMETRICWRAPKEYBLOBs (an AES key)."""
        from csp11.importkey import import_key  # noqa: PLC0415 - import cycle

        return import_key(self, Data, PubKey, Flags)

    @api("CryptCreateHash")
    def CryptCreateHash(self, Algid: int, Key: PyCRYPTKEY | None = None,
                        Flags: int = 0) -> PyCRYPTHASH:
        """A hash object (see :mod:`csp11.hashes`); ``Key`` keys CALG_MAC and CALG_HMAC."""
        from csp11.hashes import create_hash  # noqa: PLC0415 - import cycle

        return create_hash(self, Algid, Key, Flags)

    @api("CryptDeriveKey")
    def CryptDeriveKey(self, Algid: int, BaseData: PyCRYPTHASH, Flags: int = 0) -> PyCRYPTKEY:
        """A session key from a hash value (see :mod:`csp11.derive`)."""
        from csp11.derive import derive_key  # noqa: PLC0415 - import cycle

        return derive_key(self, Algid, BaseData, Flags)

    @api("CryptGenRandom")
    def CryptGenRandom(self, Len: int, SeedData: bytes | None = None) -> bytes:
        """``Len`` random bytes from the token (``C_GenerateRandom``).

        ``SeedData``, like the initial buffer contents on Windows, is extra
        seed material: it goes to ``C_SeedRandom`` where the token takes seed
        (many HSMs don't and ignore it, which is what Windows allows too).
        """
        if not isinstance(Len, int):
            raise TypeError(f"Len must be an int, not {type(Len).__name__}")
        seed = optional_bytes(SeedData, "SeedData")
        self.check_live()
        if not 0 <= Len <= DWORD_MAX:
            raise Fail(winerror.ERROR_INVALID_PARAMETER, f"Len out of range: {Len}")
        if seed:
            self._token.seed_random(seed)
        return self._token.generate_random(Len)

    # ---- parameters ------------------------------------------------------------
    @api("CryptGetProvParam")
    def CryptGetProvParam(self, Param: int, Flags: int = 0) -> Any:
        """Read a provider parameter (``PP_*``).

        ``PP_NAME`` (str), ``PP_PROVTYPE``, ``PP_IMPTYPE`` (from the token's
        slot flags: hardware or software, and removable), ``PP_VERSION`` (the
        Microsoft provider's version, 0x200).  Unknown parameter →
        ``NTE_BAD_TYPE``; non-zero ``Flags`` → ``NTE_BAD_FLAGS``.
        """
        Param = dword(Param, "Param")
        Flags = flags(Flags)
        self.check_live()
        if Param in (con.PP_ENUMALGS, con.PP_ENUMALGS_EX):
            return self._enum_algs(Param, Flags)
        if Param == con.PP_ENUMCONTAINERS:
            return self._enum_containers_next(Flags)
        getter = _PROV_PARAMS.get(Param)
        if getter is None:
            raise Fail(winerror.NTE_BAD_TYPE, f"unknown provider parameter {Param}")
        if Flags != 0:
            raise Fail(winerror.NTE_BAD_FLAGS, f"dwFlags must be 0 for parameter {Param}")
        return getter(self)

    def _enum_containers_next(self, flags_: int) -> str:
        allowed = con.CRYPT_FIRST | con.CRYPT_NEXT | con.CRYPT_MACHINE_KEYSET
        if flags_ & ~allowed:
            raise Fail(winerror.NTE_BAD_FLAGS, f"invalid flags 0x{flags_:X} for PP_ENUMCONTAINERS")
        if flags_ & con.CRYPT_FIRST or self._enum_index_containers < 0:
            self.login()
            scope = "machine" if flags_ & con.CRYPT_MACHINE_KEYSET else "user"
            names = containers_of(self._token).names(scope, self._pins)
            with self._lock:
                self._enum_containers = names
                self._enum_index_containers = -1
        with self._lock:
            index = self._enum_index_containers + 1
            if index >= len(self._enum_containers):
                raise Fail(winerror.ERROR_NO_MORE_ITEMS, "no more containers")
            self._enum_index_containers = index
            return self._enum_containers[index]

    def _enum_algs(self, param: int, flags_: int) -> PROV_ENUMALGS | PROV_ENUMALGS_EX:
        if flags_ & ~(con.CRYPT_FIRST | con.CRYPT_NEXT | con.CRYPT_SGC_ENUM):
            raise Fail(winerror.NTE_BAD_FLAGS, f"invalid flags 0x{flags_:X} for PP_ENUMALGS")
        offers = capabilities(self._personality, self._token).offers
        with self._lock:
            index = 0 if flags_ & con.CRYPT_FIRST else self._enum_index + 1
            if index >= len(offers):
                raise Fail(winerror.ERROR_NO_MORE_ITEMS, "no more algorithms")
            self._enum_index = index
        offer = offers[index]
        alg = ALGORITHMS[offer.algid]
        if param == con.PP_ENUMALGS:
            return PROV_ENUMALGS(offer.algid, offer.default, alg.name)
        return PROV_ENUMALGS_EX(
            offer.algid, offer.default, offer.minimum, offer.maximum, alg.protocols,
            alg.name, alg.long_name,
        )

    @api("CryptSetProvParam")
    def CryptSetProvParam(self, Param: int, Data: Any, Flags: int = 0) -> None:
        """Set a provider parameter: ``PP_KEYEXCHANGE_PIN`` / ``PP_SIGNATURE_PIN`` (str).

        The PIN is used for this context's logins before any other source
        (SPEC §1) and is never shown in a ``repr`` or message.  ``None``
        forgets it.  Unknown parameter → ``NTE_BAD_TYPE``.
        """
        Param = dword(Param, "Param")
        Flags = flags(Flags)
        self.check_live()
        if Param in (con.PP_KEYEXCHANGE_PIN, con.PP_SIGNATURE_PIN):
            if Data is not None and not isinstance(Data, str):
                raise TypeError("a PIN must be a str or None")
            if Flags != 0:
                raise Fail(winerror.NTE_BAD_FLAGS, "dwFlags must be 0 for a PIN")
            self._pins.set_context_pin(Data)
            return
        raise Fail(winerror.NTE_BAD_TYPE, f"unknown or read-only provider parameter {Param}")

    # ---- for the layers above (not CryptoAPI) ---------------------------------
    @property
    def personality(self) -> Personality:
        """The Microsoft provider whose rules this context follows."""
        return self._personality

    @property
    def container(self) -> ContainerName | None:
        """The key container of the context (``None`` for a verify-only context)."""
        return self._container

    @property
    def container_name(self) -> str | None:
        """The container's name, for prompts and messages."""
        return self._container.name if self._container is not None else None

    @property
    def token(self) -> Token:
        """The token this context's keys live on."""
        return self._token

    @property
    def pins(self) -> PinSources:
        """This context's PIN sources."""
        return self._pins

    def login(self) -> None:
        """Log in to the token if not already (prompting only where allowed)."""
        self.check_live()
        self._token.ensure_login(self._pins, self.container_name)


def _imptype(ctx: PyCRYPTPROV) -> int:
    slot_flags = ctx.token.info().slot_flags
    kind = con.CRYPT_IMPL_HARDWARE if slot_flags & CKF_HW_SLOT else con.CRYPT_IMPL_SOFTWARE
    if slot_flags & CKF_REMOVABLE_DEVICE:
        kind |= con.CRYPT_IMPL_REMOVABLE
    return kind


def _container(ctx: PyCRYPTPROV) -> str:
    return ctx.container_name or ""


def _unique_container(ctx: PyCRYPTPROV) -> str:
    cname = ctx.container
    if cname is None:
        return ""
    return f"csp11:{ctx.token.serial}:{cname.scope}/{cname.name}"


def _keyset_type(ctx: PyCRYPTPROV) -> int:
    cname = ctx.container
    return con.CRYPT_MACHINE_KEYSET if cname is not None and cname.scope == "machine" else 0


_PROV_PARAMS: dict[int, Any] = {
    con.PP_CONTAINER: _container,
    con.PP_UNIQUE_CONTAINER: _unique_container,
    con.PP_KEYSET_TYPE: _keyset_type,
    con.PP_SIG_KEYSIZE_INC: lambda ctx: ctx._personality.keysize_inc,
    con.PP_KEYX_KEYSIZE_INC: lambda ctx: ctx._personality.keysize_inc,
    con.PP_KEYSPEC: lambda ctx: ctx._personality.keyspec,
    con.PP_NAME: lambda ctx: ctx._personality.name,
    con.PP_PROVTYPE: lambda ctx: ctx._personality.prov_type,
    con.PP_IMPTYPE: _imptype,
    con.PP_VERSION: lambda ctx: ctx._personality.version,
}

