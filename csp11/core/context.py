"""The state of a provider context: personality, token, PINs, container, references.

A :class:`Context` is plain state, as rsaenh's ``KEYCONTAINER`` is: the
public ``PyCRYPTPROV`` (:mod:`csp11.win32crypt`) holds one and the
operations (:mod:`csp11.ops`) act on it.  Contexts are reference counted
as on Windows: ``CryptContextAddRef`` adds a reference,
``CryptReleaseContext`` drops one, and the context is released when none is
left; a released context answers every call with ``NTE_BAD_UID``, and the
key and hash states it made are released with it.
"""

from __future__ import annotations

import itertools
import threading
import weakref
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Protocol

from csp11 import win32cryptcon as con
from csp11 import winerror
from csp11.args import DWORD_MAX
from csp11.core.store import ContainerName, containers_of
from csp11.errors import Fail
from csp11.model.algorithms import Algorithm
from csp11.model.providers import Personality
from csp11.structs import Struct
from csp11.token import PinSources, Token, TokenKey

__all__ = ["Context", "Owned", "UserKey"]

_handles = itertools.count(1)
_SWEEP_MIN = 64  # tracked states at which dead references are first swept


class Owned(Protocol):
    """A key or hash state that a context releases with itself."""

    def close(self) -> None:
        """Release the state's token objects and operations (idempotent)."""


class UserKey(Struct):
    """A key pair in one slot (``AT_KEYEXCHANGE``/``AT_SIGNATURE``) of a verify
    context's ephemeral container; ``tkey`` is a reference the context owns."""

    alg: Algorithm
    bits: int
    permissions: int
    tkey: TokenKey


class _Found(Struct):
    """A named container's pair as the context last found it (see
    :meth:`Context.found_key`); ``writes`` is the token's count of this
    process's token-object writes at the time it was looked up."""

    user_key: UserKey
    writes: int


def _releaser(slots: dict[int, UserKey], found: dict[int, _Found]) -> Callable[[], None]:
    """What lets a dropped context's key pairs go: its ephemeral pairs (session
    objects) and its references to its container's pairs."""
    def release() -> None:
        failure: Fail | None = None
        held = [found.popitem()[1].user_key for _ in range(len(found))]
        while slots:
            held.append(slots.popitem()[1])
        for user_key in held:
            try:
                user_key.tkey.release()
            except Fail as exc:  # every other pair must still go
                failure = failure or exc
        if failure is not None:
            raise failure
    return release


class Context:
    """A provider context (``HCRYPTPROV``): which rules, which token, which container."""

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
        self.personality = personality
        self.token = token
        self.pins = pins
        self.container = container
        self.flags = flags
        self.token_description = token_description
        self.refs = 1
        # Set once close() has made its last token call.
        self.closed = False
        self.lock = threading.Lock()
        self.handle = next(_handles)
        # Live key and hash states: released with the context, as Windows
        # frees a context's keys with it.
        # id -> weak reference, without a callback (cheaper than a WeakSet on
        # the hot paths): a state closed leaves at once (disown), one dropped
        # leaves a dead reference, swept when the dict has doubled.
        self._owned: dict[int, weakref.ref[Owned]] = {}
        self._sweep_at = _SWEEP_MIN
        # CryptGenKey of session keys: (ALG_ID, flags, KeyLen) → the algorithm,
        # bits, flags and permissions the checks gave, and the key's (shared)
        # template (csp11.ops.keygen).
        self.session_key_plans: dict[
            tuple[int, int, int], tuple[Algorithm, int, int, int, Mapping[object, object]]
        ] = {}
        # CryptCreateHash of a plain digest the token computes: ALG_ID → the
        # algorithm, its mechanism and size, as the checks found them once
        # (csp11.ops.hashing).
        self.hash_plans: dict[int, tuple[Algorithm, object, int]] = {}
        self.enum_index = -1  # PP_ENUMALGS(_EX) position
        self.enum_containers: list[str] = []  # PP_ENUMCONTAINERS snapshot
        self.enum_index_containers = -1
        # A verify context is an ephemeral, nameless container (WINDOWS-FACTS):
        # the key pairs generated or imported in it fill these slots until it
        # is released.  Dropped without release, its pairs go at the token's
        # next call (finalizers only queue).
        self._user_keys: dict[int, UserKey] = {}
        # A named container's pairs as this context found them on the token,
        # so that CryptSignHash and CryptGetUserKey do not search the token at
        # every call (rsaenh, too, keeps the keys a context loaded).
        self._found: dict[int, _Found] = {}
        self._finalizer = weakref.finalize(self, token.later,
                                           _releaser(self._user_keys, self._found))

    def __repr__(self) -> str:
        state = "released" if self.refs == 0 else f"refs={self.refs}"
        return (
            f"<PyCRYPTPROV {self.handle} {self.personality.name!r} "
            f"container={self.container_name!r} token={self.token.label!r} {state}>"
        )

    @property
    def silent(self) -> bool:
        """Whether the context was acquired with ``CRYPT_SILENT`` (never prompts)."""
        return bool(self.flags & con.CRYPT_SILENT)

    @property
    def verify_only(self) -> bool:
        """Whether the context was acquired with ``CRYPT_VERIFYCONTEXT``."""
        return bool(self.flags & con.CRYPT_VERIFYCONTEXT & DWORD_MAX)

    @property
    def container_name(self) -> str | None:
        """The container's name, for prompts and messages."""
        return self.container.name if self.container is not None else None

    def check_live(self) -> None:
        """Fail with ``NTE_BAD_UID`` once the context is released."""
        if self.refs == 0:
            raise Fail(winerror.NTE_BAD_UID, "the provider context has been released")

    def adopt(self, owned: Owned) -> None:
        """Track a key or hash state of this context (released with it)."""
        with self.lock:
            self.check_live()
            states = self._owned
            states[id(owned)] = weakref.ref(owned)
            if len(states) >= self._sweep_at:
                live = {key: ref for key, ref in states.items() if ref() is not None}
                self._owned = live
                self._sweep_at = max(_SWEEP_MIN, 2 * len(live))

    def disown(self, owned: Owned) -> None:
        """Stop tracking a state that was closed (``owned`` itself, alive: no
        other live object has its id, so the entry is its own)."""
        with self.lock:
            self._owned.pop(id(owned), None)

    def login(self) -> None:
        """Log in to the token if not already (prompting only where allowed)."""
        self.check_live()
        self.token.ensure_login(self.pins, self.container_name)

    @contextmanager
    def container_locked(self) -> Iterator[None]:
        """Hold the named container's lock (across processes and hosts) for a
        sequence of calls that must not interleave with another writer's, such
        as "use the exchange key, or make it if there is none"."""
        if self.container is None:
            yield
            return
        self.login()
        with containers_of(self.token).locked(self.container, self.pins):
            yield

    def user_key(self, spec: int) -> UserKey | None:
        """The verify context's key pair of ``spec`` (AT_*), if one was made or imported."""
        with self.lock:
            return self._user_keys.get(spec)

    def fill(self, spec: int, user_key: UserKey) -> None:
        """Make ``user_key`` the verify context's ``spec`` pair, replacing (and
        letting go of) the previous one; handles to the old pair keep working."""
        with self.lock:
            self.check_live()
            old = self._user_keys.get(spec)
            self._user_keys[spec] = user_key
        if old is not None:
            old.tkey.release()

    def found_key(self, spec: int) -> UserKey | None:
        """A new reference to the named container's ``spec`` pair as this
        context last found it, or None: never found, or this process has
        written token objects since (a pair it destroyed may have left its
        handles to new objects: tpm2-pkcs11 reuses handles), or the pair's
        session was lost.  Another process's change is not seen here: the
        caller checks the objects (CryptGetUserKey) or looks again when the
        token says they are gone (CryptSignHash)."""
        with self.lock:
            entry = self._found.get(spec)
            if entry is None:
                return None
            tkey = entry.user_key.tkey
            if entry.writes == self.token.object_writes and tkey.home.alive:
                shared = tkey.share()
                return UserKey(entry.user_key.alg, entry.user_key.bits,
                               entry.user_key.permissions, shared)
            del self._found[spec]
        tkey.release()
        return None

    def keep_found(self, spec: int, user_key: UserKey, writes: int) -> None:
        """Remember the container's ``spec`` pair (``user_key.tkey`` is a
        reference handed to the context), found when the token's write count
        was ``writes``."""
        with self.lock:
            if self.refs == 0:
                old: UserKey | None = user_key  # released meanwhile: keep nothing
            else:
                entry = self._found.get(spec)
                old = entry.user_key if entry is not None else None
                self._found[spec] = _Found(user_key, writes)
        if old is not None:
            old.tkey.release()

    def forget_found(self, spec: int, tkey: TokenKey) -> None:
        """Forget the remembered ``spec`` pair if it is still ``tkey`` (the token
        said its objects are gone)."""
        with self.lock:
            entry = self._found.get(spec)
            if entry is None or entry.user_key.tkey is not tkey:
                return
            del self._found[spec]
        tkey.release()

    def add_ref(self) -> None:
        """One more reference (``CryptContextAddRef``)."""
        with self.lock:
            self.check_live()
            self.refs += 1

    def release_ref(self) -> None:
        """Drop one reference; the last one releases the context (harmless after)."""
        with self.lock:
            if self.refs > 0:
                self.refs -= 1
            last = self.refs == 0
        if last:
            self.close()

    def close(self) -> None:
        """Release the context and every key and hash state it made.

        Every state is released even when one fails; the first failure is
        raised afterwards.
        """
        with self.lock:
            self.refs = 0
            owned = [state for state in (ref() for ref in self._owned.values())
                     if state is not None]
            self._owned = {}
        failures = []
        for state in owned:
            try:
                state.close()
            except Fail as exc:  # keep going: every other key must still go
                failures.append(exc)
        try:
            _releaser(self._user_keys, self._found)()
        except Fail as exc:
            failures.append(exc)
        finally:
            # Only now has the context made its last token call: until then
            # its module must not be finalised (ops.provider reloads one).
            self.closed = True
        if failures:
            raise failures[0]
