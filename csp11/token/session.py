"""The sessions of one token: a pool of sessions, each with the lock that
serialises its use.

A pooled session is opened through csp11's ctypes binding until python-pkcs11
is needed in the process (:mod:`csp11.token.pypkcs11`); a call that needs
python-pkcs11's session object on such a session gets one opened beside it
(:attr:`_Pooled.session`), kept and closed with it.  Objects are visible in
every session of the process, so keys made in one are used through the other.

Sessions are pooled per token and reused (SoftHSM2's ``C_CloseSession`` scans
every session object, TOKEN-FACTS).  A session that holds objects is the home
of the keys made or found in it (see :class:`csp11.token.keyobject.TokenKey`);
multi-part operations (:class:`csp11.token.operation.Operation`) get
sessions of their own, kept apart so that no key's home is tied up by a hash.
:class:`csp11.token.token.Token` is a pool and adds what runs on it.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

from csp11 import winerror
from csp11.errors import Fail, fail_from_ckr
from csp11.logs import log as _log
from csp11.token.ckr import _ckr_name, ckr_of
from csp11.token.constants import CKF_RW_SESSION, CKF_SERIAL_SESSION, CKR_OK
from csp11.token.cryptoki import Library, _ulong
from csp11.token.forkgate import generation, library_call
from csp11.token.pypkcs11 import pkcs11

_T = TypeVar("_T")

# What a token answers for a session it no longer has (closed under csp11,
# or gone with a token that was removed and put back).
SESSION_LOST = frozenset({"CKR_SESSION_HANDLE_INVALID", "CKR_SESSION_CLOSED"})


class _Pooled:
    """A pooled session with the lock that serialises its use.

    ``handle`` is the PKCS#11 session handle (all csp11's own calls use it).
    Attributes it does not have are python-pkcs11's :attr:`session`'s, so a
    function run on it calls python-pkcs11's methods as on that session.
    """

    __slots__ = ("_p11", "_pool", "alive", "generation", "handle", "handle_arg", "handle_out",
                 "lock", "new_handle", "own_handle")

    def __init__(self, pool: SessionPool, handle: int, p11: Any) -> None:
        self._pool = pool
        self.handle = handle
        # python-pkcs11's session: the one ``handle`` names, or one opened
        # beside a session csp11 opened itself (own_handle), or None yet.
        self._p11 = p11
        self.own_handle = p11 is None
        self.lock = threading.Lock()
        self.alive = True
        self.generation = generation()  # the process (fork generation) it was opened in
        # The session's handle as a C argument, and where a call made under
        # the lock writes a new object's handle (fastpath.Quick): made once,
        # not at every call.
        self.handle_arg = _ulong(handle)
        self.new_handle = _ulong()
        self.handle_out = ctypes.byref(self.new_handle)

    @property
    def session(self) -> Any:
        """python-pkcs11's session object (imports python-pkcs11 and opens a
        session beside this one the first time, where csp11 opened this one)."""
        p11 = self._p11
        if p11 is None:
            with self._pool._pool_lock:
                p11 = self._p11
                if p11 is None:
                    p11 = self._p11 = self._pool._open_python_pkcs11()
        return p11

    def handles(self) -> tuple[int, ...]:
        """This session's handle, and python-pkcs11's session's beside it if any."""
        if self.own_handle and self._p11 is not None:
            return (self.handle, int(self._p11.handle))
        return (self.handle,)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.session, name)

    def close(self) -> None:
        """Close the session (and python-pkcs11's beside it); failures are ignored."""
        if self._p11 is not None:
            # Opened without a PIN, so python-pkcs11's close() does not call
            # C_Logout (which would log out every session of the token).
            with contextlib.suppress(pkcs11.exceptions.PKCS11Error), library_call():
                self._p11.close()
        if self.own_handle:
            self._pool.module.cryptoki.C_CloseSession(self.handle)


# Pauses (seconds, each varied by ±50% so that waiting processes spread out)
# before trying again a call that met a store another process holds (quirk
# store_busy_fails, and C_Initialize in csp11.token.module): about 10 s in all,
# far beyond the few milliseconds one store write takes.  Measured against a
# process making and deleting containers in a tight loop (about 200 store
# writes a second): 3 s was not always enough for a C_Initialize to find the
# store free.
BUSY_PAUSES = (0.01, 0.02, 0.05, 0.1, 0.2, 0.3, 0.5, 0.5, 1.0, 1.0, 1.0, 1.0, 2.0, 2.0)


def jitter() -> float:
    """A random factor in [0.5, 1.5), to spread out the retries of processes
    that wait for the same thing (from os.urandom: ``random`` costs a
    millisecond of every start, cold start)."""
    return 0.5 + int.from_bytes(os.urandom(2), "big") / 65536


def busy_pause(pause: float) -> None:
    """Sleep one of :data:`BUSY_PAUSES`, varied by ±50%."""
    time.sleep(pause * jitter())


class SessionPool:
    """The session pool of one token (the base of :class:`csp11.token.token.Token`)."""

    def __init__(self, module: Library, slot_id: int, label: str) -> None:
        self.module = module
        self.slot_id = slot_id
        self.label = label
        # python-pkcs11's Token object, found when first needed.
        self._p11_token: Any = None
        self._idle: list[_Pooled] = []
        # Sessions that carry a multi-part operation (Operation) and never
        # hold objects, so no key's home session is tied up by a hash.
        self._op_idle: list[_Pooled] = []
        self._all: list[_Pooled] = []
        self._pool_lock = threading.Lock()
        self._generation = generation()
        # Pauses before trying a call again on a busy store (waited_for_store);
        # set by Token for tokens with the quirk store_busy_fails.
        self.busy_pauses: tuple[float, ...] = ()

    def check_generation(self) -> None:
        """Refuse to work in a child process on what was opened before fork()."""
        if self._generation != generation():
            raise Fail(
                winerror.NTE_BAD_UID,
                "this context was opened before fork(); a child process opens its own "
                "(PKCS#11 forbids using the parent's sessions)",
            )

    # ---- sessions --------------------------------------------------------
    def _open(self) -> _Pooled:
        self.check_generation()
        if self.module.python_pkcs11_loaded():
            # python-pkcs11 is in use already: its session serves both.
            session = self._open_python_pkcs11()
            pooled = _Pooled(self, int(session.handle), session)
        else:
            pooled = _Pooled(self, self._open_handle(), None)
        with self._pool_lock:
            self._all.append(pooled)
        return pooled

    def _open_handle(self) -> int:
        """``C_OpenSession`` through csp11's binding: read-write, or read-only
        on a write-protected token."""
        ck = self.module.cryptoki
        handle = _ulong()
        flags = CKF_SERIAL_SESSION | CKF_RW_SESSION
        rv = ck.C_OpenSession(self.slot_id, flags, None, None, ctypes.byref(handle))
        if _ckr_name(rv) == "CKR_TOKEN_WRITE_PROTECTED":
            rv = ck.C_OpenSession(self.slot_id, CKF_SERIAL_SESSION, None, None,
                                  ctypes.byref(handle))
        if rv != CKR_OK:
            raise fail_from_ckr(_ckr_name(rv), "C_OpenSession")
        return int(handle.value)

    def _open_python_pkcs11(self) -> Any:
        """A session opened through python-pkcs11 (read-write, or read-only on
        a write-protected token)."""
        self.check_generation()
        try:
            with library_call():
                tok = self._p11_token
                if tok is None:
                    tok = self._p11_token = next(
                        (slot.get_token() for slot in self.module.lib.get_slots()
                         if slot.slot_id == self.slot_id), None)
                if tok is None:
                    raise Fail(winerror.SCARD_W_REMOVED_CARD, f"token {self.label!r} is gone")
                try:
                    return tok.open(rw=True)
                except pkcs11.exceptions.TokenWriteProtected:
                    return tok.open(rw=False)
        except pkcs11.exceptions.PKCS11Error as exc:
            raise fail_from_ckr(ckr_of(exc), "C_OpenSession") from None

    def acquire(self) -> _Pooled:
        """A session for one operation, locked for the caller; reused afterwards."""
        with self._pool_lock:
            idle = self._idle
            if idle and idle[-1].lock.acquire(blocking=False):  # the usual case
                return idle.pop()
            # A session can be busy while idle in the pool when a key that
            # lives in it is being used through Token.run_on: skip it, and
            # leave it in the pool for later.
            for index in range(len(idle) - 2, -1, -1):
                pooled = idle[index]
                if pooled.lock.acquire(blocking=False):
                    del idle[index]
                    return pooled
        pooled = self._open()
        pooled.lock.acquire()
        return pooled

    def release(self, pooled: _Pooled) -> None:
        """Give a session back to the pool."""
        pooled.lock.release()
        if pooled.alive:
            with self._pool_lock:
                self._idle.append(pooled)

    def discard_operation(self, pooled: _Pooled) -> None:
        """Close an operation's session after a failure (ending whatever it ran)."""
        self._discard(pooled)

    def end_operation(self, pooled: _Pooled) -> None:
        """Give back an operation's session (after the operation ended)."""
        if pooled.alive:
            with self._pool_lock:
                self._op_idle.append(pooled)

    def _discard(self, pooled: _Pooled) -> None:
        pooled.alive = False
        with self._pool_lock:
            # Out of every list: a lost session left idle would be handed out
            # again (and fail again) by acquire().
            for sessions in (self._all, self._idle, self._op_idle):
                if pooled in sessions:
                    sessions.remove(pooled)
        if self._generation != generation():
            return  # the parent's session: not this process's to close
        pooled.close()

    def session_count(self) -> int:
        """How many sessions csp11 holds open on this token (python-pkcs11's
        beside csp11's own included)."""
        with self._pool_lock:
            return sum(2 if p.own_handle and p._p11 is not None else 1 for p in self._all)

    def waited_for_store(self, pauses: Iterator[float], ckr: str, doing: str) -> bool:
        """Whether a call that failed with ``ckr`` is to be tried again, after
        the next of ``pauses`` (slept here): ``CKR_GENERAL_ERROR`` on a token
        whose store another process may hold (quirk ``store_busy_fails``: the
        call changed nothing).  ``pauses`` is ``iter(self.busy_pauses)``,
        empty on other tokens."""
        if ckr != "CKR_GENERAL_ERROR":
            return False
        pause = next(pauses, None)
        if pause is None:
            return False
        _log.debug("token %r: store busy at %s; trying again", self.label, doing)
        busy_pause(pause)
        return True

    def run_on(self, pooled: _Pooled, doing: str, fn: Callable[[Any], _T]) -> _T:
        """Run ``fn(session)`` on a given session (the one a key lives in).

        ``fn`` may be run again after a busy store (:meth:`waited_for_store`):
        a function that acts on several objects drops each one done."""
        if self._generation != generation():
            self.check_generation()
        busy: Iterator[float] | None = None  # made on the first failure only (hot path)
        with pooled.lock:
            if not pooled.alive:
                raise Fail(winerror.NTE_BAD_KEY, f"{doing}: the key's session was lost")
            while True:
                try:
                    with library_call():
                        return fn(pooled)
                except pkcs11.exceptions.PKCS11Error as exc:
                    ckr = ckr_of(exc)
                    if busy is None:
                        busy = iter(self.busy_pauses)
                    if self.waited_for_store(busy, ckr, doing):
                        continue
                    if ckr not in SESSION_LOST:
                        raise fail_from_ckr(ckr, doing) from None
                break
            # The token dropped the key's session, and the session objects in
            # it: the call cannot be redone here.  The session leaves the pool
            # (closed, so nothing leaks); a container's key is opened again
            # by CryptGetUserKey, in a new session.
            self._discard(pooled)
            raise Fail(
                winerror.NTE_BAD_KEY,
                f"{doing} failed: the token lost the session that held this key; "
                "open or make the key again",
                ckr=ckr,
            )

