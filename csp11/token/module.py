"""PKCS#11 modules in the process: one :class:`Module` per library, loaded on
first use; its slots, the tokens found on them by what they report, and
``C_InitToken`` for a new token.
"""

from __future__ import annotations

import ctypes
import os
import threading
from collections.abc import Callable, Mapping

from csp11 import winerror
from csp11.errors import Fail, fail_from_ckr
from csp11.token.ckr import _ckr_name
from csp11.token.constants import (
    CKF_RW_SESSION,
    CKF_SERIAL_SESSION,
    CKF_TOKEN_INITIALIZED,
    CKF_USER_PIN_INITIALIZED,
    CKR_OK,
    CKU_SO,
)
from csp11.token.cryptoki import Library, SlotFacts, TokenFacts, _ulong
from csp11.token.forkgate import ChildSafeLock, library_call
from csp11.token.session import BUSY_PAUSES, busy_pause
from csp11.token.softhsm import store_file_lock, store_lock_path
from csp11.token.token import Token, _token_info_of


class Module(Library):
    """One loaded PKCS#11 library, initialised once per process, and its tokens."""

    def __init__(self, path: str, env: Mapping[str, str], init_reserved: str | None) -> None:
        super().__init__(path, env, init_reserved)
        self._tokens: dict[tuple[str, str], Token] = {}
        self._lock = threading.Lock()
        # The tpm2-pkcs11 store as it was just before C_Initialize (see
        # view_is_current); None where there is none.
        self.view_stamp: tuple[int, ...] | None = None

    def __repr__(self) -> str:
        return f"<csp11 Module {self.path!r}>"

    def wrote_store(self) -> None:
        """This process's own write keeps its view current: where the store
        moved on by exactly one commit from the view (tpm2-pkcs11 commits once
        per C_CreateObject or C_DestroyObject), that commit was this one.  Any
        other step (another process wrote too, or a call that commits twice)
        leaves the view marked old, and the next reload that is safe happens."""
        with self._lock:
            view = self.view_stamp
            if view is None:
                return
            now = _store_stamp(self.env)
            if now is not None and now[:2] == view[:2] and now[-1] == view[-1] + 1:
                self.view_stamp = now

    def slots(self) -> list[SlotFacts]:
        """The slots with a token present."""
        ck = self.cryptoki
        return [ck.slot_info(slot_id) for slot_id in ck.slot_list(token_present=True)]

    def find_tokens(self, want: Mapping[str, object]) -> list[Token]:
        """Tokens whose attributes match ``want``.

        Keys: ``label``, ``serial``, ``manufacturer``, ``model`` (as
        :meth:`csp11.token.uri.Pkcs11Uri.token_filter` names them),
        ``slot_id``, ``slot_description``, ``slot_manufacturer``.  Tokens are
        matched by what they report, never by position.
        """
        found: list[Token] = []
        # Under the store's lock (SoftHSM2): C_GetTokenInfo may re-read a store
        # another process is rewriting (csp11.token.softhsm.store_lock_path).
        with store_file_lock(store_lock_path(self.env)):
            slots = [(slot, _token_info_of(self.cryptoki, slot.slot_id))
                     for slot in self.slots()]
        for slot, tok in slots:
            if tok is None:
                continue
            serial = tok.serial.decode("ascii", "replace").strip()
            have: dict[str, object] = {
                "label": tok.label,
                "serial": serial,
                "manufacturer": tok.manufacturer_id,
                "model": tok.model,
                "slot_id": slot.slot_id,
                "slot_description": slot.slot_description,
                "slot_manufacturer": slot.manufacturer_id,
            }
            if all(have.get(key) == value for key, value in want.items()):
                found.append(self._token_for(slot, tok, serial))
        return found

    def _token_for(self, slot: SlotFacts, tok: TokenFacts, serial: str) -> Token:
        # One Token object per physical token per process: login state and
        # the session pool are token-wide.
        key = (serial, tok.label)
        with self._lock:
            existing = self._tokens.get(key)
            if existing is None or existing.slot_id != slot.slot_id:
                existing = Token(self, slot, tok)
                self._tokens[key] = existing
            return existing

    def init_token(self, label: str, so_pin: str, user_pin: str) -> None:
        """Initialise a free slot's token with ``label`` and set its user PIN.

        Used for the embedded default token and for test tokens; PINs go
        straight to the library, never through a command line.
        """
        ck = self.cryptoki
        free: int | None = None
        for listed in ck.slot_list(token_present=True):
            tok = _token_info_of(ck, listed)
            if tok is not None and not tok.flags & CKF_TOKEN_INITIALIZED:
                free = listed
                break
        if free is None:
            raise Fail(winerror.NTE_TOKEN_KEYSET_STORAGE_FULL, "no free slot to create a token in")
        padded = label.encode("utf-8")[:32].ljust(32, b" ")
        so = so_pin.encode("utf-8")
        rv = ck.C_InitToken(free, so, len(so), padded)
        if rv != CKR_OK:
            raise fail_from_ckr(_ckr_name(rv), "C_InitToken")
        # SoftHSM2 gives an initialised token a new slot id: look it up again.
        slot_id: int | None = None
        for listed in ck.slot_list(token_present=True):
            tok = _token_info_of(ck, listed)
            if tok is not None and tok.label == label and not tok.flags & CKF_USER_PIN_INITIALIZED:
                slot_id = listed
        if slot_id is None:
            raise Fail(winerror.NTE_FAIL, f"token {label!r} vanished after C_InitToken")
        handle = _ulong()
        rv = ck.C_OpenSession(
            slot_id, CKF_SERIAL_SESSION | CKF_RW_SESSION, None, None, ctypes.byref(handle)
        )
        if rv != CKR_OK:
            raise fail_from_ckr(_ckr_name(rv), "C_OpenSession")
        try:
            rv = ck.login(handle.value, CKU_SO, so_pin)
            if rv != CKR_OK:
                raise fail_from_ckr(_ckr_name(rv), "C_Login(SO)")
            user = user_pin.encode("utf-8")
            rv = ck.C_InitPIN(handle.value, user, len(user))
            if rv != CKR_OK:
                raise fail_from_ckr(_ckr_name(rv), "C_InitPIN")
            ck.C_Logout(handle.value)
        finally:
            ck.C_CloseSession(handle.value)


_modules: dict[str, Module] = {}
# Modules the parent had loaded, in a child after fork(): finalised before the
# child loads them again (PKCS#11 wants the child to initialise afresh).
_inherited: dict[str, Module] = {}


def _forget_parent() -> None:
    _inherited.update(_modules)
    _modules.clear()


_modules_lock = ChildSafeLock(_forget_parent)


# tpm2-pkcs11's store: the first of these that exists (its db.c: the variable
# TPM2_PKCS11_STORE, the built-in /etc/tpm2_pkcs11, ~/.tpm2_pkcs11, the
# working directory).
_TPM2_DB = "tpm2_pkcs11.sqlite3"


def _tpm2_store(env: Mapping[str, str]) -> str | None:
    merged = {**os.environ, **env}
    dirs = [merged.get("TPM2_PKCS11_STORE"), "/etc/tpm2_pkcs11"]
    if merged.get("HOME"):
        dirs.append(os.path.join(merged["HOME"], ".tpm2_pkcs11"))
    dirs.append(os.getcwd())
    for directory in dirs:
        if directory and os.path.isfile(os.path.join(directory, _TPM2_DB)):
            return os.path.join(directory, _TPM2_DB)
    return None


def _store_stamp(env: Mapping[str, str]) -> tuple[int, ...] | None:
    """What changes whenever the tpm2-pkcs11 store is written: the file's
    identity, size and time, and SQLite's file change counter (header bytes
    24-27, bumped by every commit in rollback-journal mode, which the store
    uses), which catches writes within one tick of the file's clock."""
    path = _tpm2_store(env)
    if path is None:
        return None
    try:
        with open(path, "rb") as db:
            header = db.read(28)
            st = os.fstat(db.fileno())
    except OSError:
        return None
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, int.from_bytes(header[24:28], "big"))


def view_is_current(module: Module) -> bool:
    """Whether no other process has written the tpm2-pkcs11 store since
    ``module`` was initialised (False when that cannot be told)."""
    return module.view_stamp is not None and _store_stamp(module.env) == module.view_stamp


# What layers above keep per Token (models, container registries, sweeps):
# told when a reload ends a token, so that each reload does not keep the old
# Token, its Module and what hangs off them alive for good.
_unloaded_listeners: list[Callable[[Token], None]] = []


def on_token_unloaded(forget: Callable[[Token], None]) -> Callable[[Token], None]:
    """Call ``forget(token)`` for every token of a module that
    :func:`reload_module` ends (the Token is never used again: a new one
    stands for the token after the reload); returns ``forget`` (a decorator)."""
    _unloaded_listeners.append(forget)
    return forget


def reload_module(module: Module) -> None:
    """Finalise ``module`` and forget it: the next :func:`load_module` of its
    path initialises the library afresh.

    For tokens whose module reads the token's objects only at
    ``C_Initialize`` (quirk ``objects_read_at_load``): that is the only way
    such a process sees what other processes made or destroyed since.  The
    caller guarantees that nothing of this process uses the module's tokens,
    sessions or objects any more (every later call through them fails);
    keys dropped earlier and waiting for a token call are released first.
    """
    with _modules_lock:
        if _modules.get(module.path) is not module:
            return  # already reloaded by another thread
        del _modules[module.path]
        with module._lock:
            tokens = list(module._tokens.values())
        for token in tokens:
            token.drain()
        with library_call():
            module.cryptoki.C_Finalize(None)
    for token in tokens:
        for forget in _unloaded_listeners:
            forget(token)


def load_module(
    path: str, env: Mapping[str, str] | None = None, init_reserved: str | None = None
) -> Module:
    """The process's :class:`Module` for ``path``, loading it on first use.

    ``env`` is set while the library initialises (SoftHSM2 reads
    ``SOFTHSM2_CONF`` then); ``init_reserved`` is ``C_Initialize``'s
    ``pReserved`` string (NSS softokn's configuration).  A library is
    initialised once per process, so a second caller asking for a different
    configuration gets ``NTE_PROVIDER_DLL_FAIL`` rather than silently the
    wrong one.
    """
    env = dict(env or {})
    real = os.path.realpath(path)
    with _modules_lock:
        module = _modules.get(real)
        if module is not None:
            conflict = init_reserved is not None and init_reserved != module.init_reserved
            if conflict or (env and any(module.env.get(k) != v for k, v in env.items())):
                raise Fail(
                    winerror.NTE_PROVIDER_DLL_FAIL,
                    f"{path} is already loaded in this process with another configuration; "
                    "one process can use only one",
                )
            return module
        if not os.path.exists(real):
            raise Fail(winerror.NTE_PROV_DLL_NOT_FOUND, f"PKCS#11 module not found: {path}")
        old = _inherited.pop(real, None)
        if old is not None:
            # The parent's copy in this child: end it, so that the library
            # (which keeps its state per process image) starts afresh.
            old.cryptoki.C_Finalize(None)
        module = _initialised(path, real, env, init_reserved)
        _modules[real] = module
        return module


def _initialised(path: str, real: str, env: dict[str, str], init_reserved: str | None) -> Module:
    """A new :class:`Module` for ``real``, initialised.

    Where a tpm2-pkcs11 store is in use (its SQLite file exists), another
    process writing it makes ``C_Initialize`` fail with ``CKR_GENERAL_ERROR``
    ("database is locked"), or succeed having read part of it (measured while
    another process made and deleted containers: 177 of 200 ``C_Initialize``
    failed, and 1 listed one token of two).  Such a start is tried again
    after the pauses of :data:`BUSY_PAUSES`: a failed one, and one during
    which the store changed (then finalised first).  The quirk table cannot
    say which module this is before a start has succeeded; the store file
    is what is contended, so its presence is what counts.
    """
    pauses = iter(BUSY_PAUSES)
    while True:
        stamp = _store_stamp(env)  # before C_Initialize: a write meanwhile counts as new
        pause = next(pauses, None) if stamp is not None else None
        try:
            module = Module(real, env, init_reserved)
        except OSError as exc:
            raise Fail(
                winerror.NTE_PROVIDER_DLL_FAIL, f"cannot load PKCS#11 module {path}: {exc}"
            ) from None
        except Fail as exc:
            if exc.ckr != "CKR_GENERAL_ERROR" or pause is None:
                raise
        else:
            module.view_stamp = stamp
            if pause is None or _store_stamp(env) == stamp:
                return module
            with library_call():
                module.cryptoki.C_Finalize(None)  # read while being written: read again
        busy_pause(pause)
