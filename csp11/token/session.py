"""The sessions of one token: a pool of python-pkcs11 sessions, each with the
lock that serialises its use.

Sessions are pooled per token and reused (SoftHSM2's ``C_CloseSession`` scans
every session object, TOKEN-FACTS).  A session that holds objects is the home
of the keys made or found in it (see :class:`csp11.token.keyobject.TokenKey`);
multi-part operations (:class:`csp11.token.operation.Operation`) get
sessions of their own, kept apart so that no key's home is tied up by a hash.
:class:`csp11.token.token.Token` is a pool and adds what runs on it.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from typing import Any, TypeVar

import pkcs11.exceptions

from csp11 import winerror
from csp11.errors import Fail, fail_from_ckr
from csp11.token.ckr import ckr_of
from csp11.token.cryptoki import Library
from csp11.token.forkgate import generation, library_call

_T = TypeVar("_T")

# What a token answers for a session it no longer has (closed under csp11,
# or gone with a token that was removed and put back).
SESSION_LOST = frozenset({"CKR_SESSION_HANDLE_INVALID", "CKR_SESSION_CLOSED"})


class _Pooled:
    """A pooled python-pkcs11 session with the lock that serialises its use."""

    __slots__ = ("alive", "lock", "session")

    def __init__(self, session: Any) -> None:
        self.session = session
        self.lock = threading.Lock()
        self.alive = True


class SessionPool:
    """The session pool of one token (the base of :class:`csp11.token.token.Token`)."""

    def __init__(self, module: Library, tok: Any) -> None:
        self.module = module
        self._tok = tok
        self._idle: list[_Pooled] = []
        # Sessions that carry a multi-part operation (Operation) and never
        # hold objects, so no key's home session is tied up by a hash.
        self._op_idle: list[_Pooled] = []
        self._all: list[_Pooled] = []
        self._pool_lock = threading.Lock()
        self._generation = generation()

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
        try:
            with library_call():
                session = self._tok.open(rw=True)
        except pkcs11.exceptions.TokenWriteProtected:
            with library_call():
                session = self._tok.open(rw=False)
        except pkcs11.exceptions.PKCS11Error as exc:
            raise fail_from_ckr(ckr_of(exc), "C_OpenSession") from None
        pooled = _Pooled(session)
        with self._pool_lock:
            self._all.append(pooled)
        return pooled

    def acquire(self) -> _Pooled:
        """A session for one operation, locked for the caller; reused afterwards."""
        with self._pool_lock:
            # A session can be busy while idle in the pool when a key that
            # lives in it is being used through Token.run_on: skip it, and
            # leave it in the pool for later.
            for index in range(len(self._idle) - 1, -1, -1):
                pooled = self._idle[index]
                if pooled.lock.acquire(blocking=False):
                    del self._idle[index]
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
        # Opened without a PIN, so python-pkcs11's close() does not call
        # C_Logout (which would log out every session of the token).
        if self._generation != generation():
            return  # the parent's session: not this process's to close
        with contextlib.suppress(pkcs11.exceptions.PKCS11Error), library_call():
            pooled.session.close()

    def session_count(self) -> int:
        """How many sessions csp11 holds open on this token."""
        with self._pool_lock:
            return len(self._all)

    def run_on(self, pooled: _Pooled, doing: str, fn: Callable[[Any], _T]) -> _T:
        """Run ``fn(session)`` on a given session (the one a key lives in)."""
        self.check_generation()
        with pooled.lock:
            if not pooled.alive:
                raise Fail(winerror.NTE_BAD_KEY, f"{doing}: the key's session was lost")
            try:
                with library_call():
                    return fn(pooled.session)
            except pkcs11.exceptions.PKCS11Error as exc:
                ckr = ckr_of(exc)
                if ckr not in SESSION_LOST:
                    raise fail_from_ckr(ckr, doing) from None
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

