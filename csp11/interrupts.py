"""Where a stop signal may end csp11's work at once, and where it must wait.

The command line turns SIGTERM, SIGHUP and SIGINT into an exception
(:class:`Interrupted`, see ``csp11.safefiles.signals_raise``) so that every
``with`` block unwinds and cleans up.  An exception raised by a signal
handler can come between any two bytecodes: between a lock's ``acquire()``
and the ``try`` that releases it, inside ``threading``'s and ``queue``'s own
Python code, between a session taken from the pool and the block that gives
it back.  A lock left held that way is waited on for ever by the clean-up
that follows (a ``csp11 decrypt`` stopped by SIGTERM once hung so in CI).

So the handler decides where it runs (:func:`may_stop_here`): it raises only
when the innermost csp11 code on the stack is marked :func:`interruptible`
(a blocking wait that holds nothing: reading the input, a PIN prompt,
waiting for another process's store lock) or when no csp11 code is on the
stack.  Anywhere else inside csp11 the signal is remembered
(:func:`defer`) and raised at the next :func:`checkpoint` — between two
pieces of a file, before an output is published — or when the command's
block ends.

The threads csp11 starts take no signals (:func:`signals_to_main_thread`):
the kernel gives a process's signal to any thread that does not block it,
and one taken by a helper thread would not end the main thread's wait.

This module is a base layer: the token layer marks its waits with it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from types import CodeType, FrameType
from typing import TypeVar

__all__ = [
    "Interrupted",
    "checkpoint",
    "clear",
    "defer",
    "interruptible",
    "may_stop_here",
    "pending",
    "signals_to_main_thread",
]

_F = TypeVar("_F", bound=Callable[..., object])

_INTERRUPTIBLE: set[CodeType] = set()
_PACKAGE = __name__.partition(".")[0]
_pending: list[int] = []  # the signal waiting for a checkpoint (main thread only)


class Interrupted(BaseException):
    """SIGTERM, SIGHUP or SIGINT arrived.

    ``completed`` is true when the signal waited for the end of the
    command's work (it came while csp11 could not stop safely, and no
    checkpoint came before the work was done).
    """

    def __init__(self, signum: int, *, completed: bool = False) -> None:
        super().__init__(signum)
        self.signum = signum
        self.completed = completed


def interruptible(fn: _F) -> _F:
    """Mark ``fn`` as a wait that a signal may end at once: it holds no
    lock, session or half-made object while it blocks, and whatever it
    opened is closed by the ``with``/``try`` blocks around the call."""
    _INTERRUPTIBLE.add(fn.__code__)
    return fn


def may_stop_here(frame: FrameType | None) -> bool:
    """Whether a signal handler running in ``frame`` may raise: the innermost
    csp11 frame is :func:`interruptible`, or no csp11 frame is on the stack."""
    while frame is not None:
        code = frame.f_code
        if code in _INTERRUPTIBLE:
            return True
        module = frame.f_globals.get("__name__", "")
        if module == _PACKAGE or module.startswith(_PACKAGE + "."):
            return False
        frame = frame.f_back
    return True


def defer(signum: int) -> None:
    """Remember ``signum`` for the next :func:`checkpoint` (the first one wins)."""
    if not _pending:
        _pending.append(signum)


def pending() -> int | None:
    """The signal waiting for a checkpoint, if any."""
    return _pending[0] if _pending else None


def clear() -> None:
    """Forget a waiting signal (a new command block begins or ended)."""
    _pending.clear()


def checkpoint() -> None:
    """Raise :class:`Interrupted` for a waiting signal: call where an
    exception is safe (nothing held that a ``with`` would not give back).
    Only the main thread stops: the signal is its."""
    if _pending and threading.current_thread() is threading.main_thread():
        raise Interrupted(_pending.pop())


def signals_to_main_thread() -> None:
    """Block the asynchronous signals in the calling thread (one csp11
    started), so that the kernel gives them to the main thread, where
    Python runs its handlers and where the waits they must end are.  Faults
    (SIGSEGV and the like) stay deliverable."""
    # signal builds its enumerations on import: only threads need it (cold start).
    import signal  # noqa: PLC0415

    faults = {signal.SIGSEGV, signal.SIGBUS, signal.SIGFPE, signal.SIGILL, signal.SIGTRAP,
              signal.SIGSYS, signal.SIGABRT}
    signal.pthread_sigmask(signal.SIG_BLOCK, signal.valid_signals() - faults)
