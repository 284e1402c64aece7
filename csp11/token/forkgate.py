"""fork() and PKCS#11: no thread inside the library at the fork, a fresh start in the child.

A child of a process that used a PKCS#11 library from several threads can
hang for ever at its first call: a lock the library's other threads held at
the fork stays locked in the child (measured: 3 to 12 of 30 children hung).
And PKCS#11 requires a child to initialise the library again and never use
the parent's sessions.

So every call into a library passes the gate (:func:`library_call`).  Just
before ``fork()`` the gate closes and waits until no thread is inside a call
(new calls wait at the gate); after it the gate opens again in the parent,
and in the child everything of the token layer starts afresh: the child's
first use finalises the inherited library and initialises it again
(:mod:`csp11.token.module`), and objects made before the fork (contexts,
keys) refuse to work there (``NTE_BAD_UID``): a child opens its own.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable

from csp11.logs import log as _log

__all__ = ["ChildSafeLock", "generation", "library_call", "on_child"]

_PATIENCE = 10.0  # seconds a fork waits for calls in progress

_cond = threading.Condition()
# One item per call inside a library.  list.append and list.pop are atomic,
# so a call passes the gate without taking a lock; only a fork (rare) and the
# calls that meet one use _cond.
_passes: list[None] = []
_closed = False
_generation = 0  # how many forks this process descends from (its own view)
_child_hooks: list[Callable[[], None]] = []


def generation() -> int:
    """Changes in a child after fork(): state made before belongs to the parent."""
    return _generation


class _Gate:
    """The gate's context manager: a class rather than a generator, and no
    lock on the way through, because every token call passes it (measured:
    ~0.2 µs a pass, against ~0.5 µs with a condition's lock taken twice).

    Why no call can be inside a library at a fork: a call counts itself in
    (append) *before* it looks at ``_closed``, and a fork sets ``_closed``
    *before* it looks at the count.  So either the call sees ``_closed`` and
    steps back before calling, or the fork sees the call counted and waits
    for it to leave (a call that leaves while a fork waits wakes it).  A call
    that stepped back may still be counted at the instant of the fork: the
    child starts with an empty count.
    """

    __slots__ = ()

    def __enter__(self) -> None:
        _passes.append(None)
        if _closed:
            _step_back()

    def __exit__(self, *exc: object) -> None:
        _passes.pop()
        if _closed:  # a fork may be waiting for the last call to leave
            _left()


def _step_back() -> None:
    """A call that met a fork on its way in: wait for the fork, then go in."""
    _passes.pop()
    with _cond:
        if not _passes:
            _cond.notify_all()
        while _closed:
            _cond.wait()
        _passes.append(None)


def _left() -> None:
    with _cond:
        if not _passes:
            _cond.notify_all()


_GATE = _Gate()


def library_call() -> _Gate:
    """Around every call into a PKCS#11 library (cheap: one lock, twice)."""
    return _GATE


def on_child(hook: Callable[[], None]) -> None:
    """Run ``hook()`` in every child after fork() (to forget the parent's state)."""
    _child_hooks.append(hook)


class ChildSafeLock:
    """A lock that a child process after fork() finds free, and (optionally)
    a registry it finds empty: what the parent's threads held or filled
    belongs to the parent."""

    def __init__(self, forget: Callable[[], None] | None = None) -> None:
        self._lock = threading.Lock()
        self._forget = forget
        on_child(self._reset)

    def _reset(self) -> None:
        self._lock = threading.Lock()
        if self._forget is not None:
            self._forget()

    def __enter__(self) -> None:
        self._lock.acquire()

    def __exit__(self, *exc: object) -> None:
        self._lock.release()


def _before() -> None:
    global _closed  # noqa: PLW0603
    _cond.acquire()  # held across the fork: released in both processes after it
    _closed = True
    if _passes and not _cond.wait_for(lambda: not _passes, timeout=_PATIENCE):
        _log.warning("fork() while a PKCS#11 call runs in another thread: the child may hang")


def _after_in_parent() -> None:
    global _closed  # noqa: PLW0603
    _closed = False
    _cond.notify_all()
    _cond.release()


def _after_in_child() -> None:
    global _cond, _closed, _generation  # noqa: PLW0603
    _cond = threading.Condition()  # the parent's waiters do not exist here
    _passes.clear()  # the parent's other threads do not exist here either
    _closed = False
    _generation += 1
    for hook in _child_hooks:
        hook()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(before=_before, after_in_parent=_after_in_parent,
                        after_in_child=_after_in_child)
