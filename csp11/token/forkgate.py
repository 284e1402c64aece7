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
_inside = 0
_closed = False
_generation = 0  # how many forks this process descends from (its own view)
_child_hooks: list[Callable[[], None]] = []


def generation() -> int:
    """Changes in a child after fork(): state made before belongs to the parent."""
    return _generation


class _Gate:
    """The gate's context manager: a class rather than a generator, and the
    condition's lock taken directly, because every token call passes it
    (measured: ~1 µs less per pass, four passes per key generated and
    destroyed)."""

    __slots__ = ()

    def __enter__(self) -> None:
        global _inside  # noqa: PLW0603 - process-wide gate state
        cond = _cond
        cond.acquire()
        try:
            while _closed:
                cond.wait()
            _inside += 1
        finally:
            cond.release()

    def __exit__(self, *exc: object) -> None:
        global _inside  # noqa: PLW0603
        cond = _cond
        cond.acquire()
        try:
            _inside -= 1
            if not _inside and _closed:  # only a fork waits for the last call
                cond.notify_all()
        finally:
            cond.release()


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
    if _inside and not _cond.wait_for(lambda: not _inside, timeout=_PATIENCE):
        _log.warning("fork() while a PKCS#11 call runs in another thread: the child may hang")


def _after_in_parent() -> None:
    global _closed  # noqa: PLW0603
    _closed = False
    _cond.notify_all()
    _cond.release()


def _after_in_child() -> None:
    global _cond, _inside, _closed, _generation  # noqa: PLW0603
    _cond = threading.Condition()  # the parent's waiters do not exist here
    _inside, _closed = 0, False
    _generation += 1
    for hook in _child_hooks:
        hook()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(before=_before, after_in_parent=_after_in_parent,
                        after_in_child=_after_in_child)
