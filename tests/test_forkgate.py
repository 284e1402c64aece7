"""The fork gate's promise, checked on its hooks without forking: a fork
waits for the calls inside a library to leave, and calls that come while it
is under way wait for it (csp11.token.forkgate; test_fork.py forks for real,
but a child hangs only now and then when the gate is broken).

The hooks are the ones ``os.register_at_fork`` runs; the thread that runs
``_before`` runs ``_after_in_parent`` too, as a forking thread does.
"""

from __future__ import annotations

import threading

from csp11.token import forkgate

_SETTLE = 0.3  # seconds a blocked thread is given to (wrongly) get through


def _forker(closed: threading.Event, go_on: threading.Event) -> threading.Thread:
    def fork() -> None:
        forkgate._before()
        closed.set()
        go_on.wait(10)
        forkgate._after_in_parent()

    return threading.Thread(target=fork, daemon=True)


def test_a_fork_waits_for_a_call_inside_and_later_calls_wait_for_the_fork() -> None:
    inside, leave, closed, go_on = (threading.Event() for _ in range(4))
    entered_during_fork = threading.Event()

    def call() -> None:
        with forkgate.library_call():
            inside.set()
            leave.wait(10)

    def later_call() -> None:
        with forkgate.library_call():
            entered_during_fork.set()

    caller = threading.Thread(target=call, daemon=True)
    caller.start()
    assert inside.wait(10)
    forker = _forker(closed, go_on)
    forker.start()
    # The fork must not start while a call is inside the library.
    assert not closed.wait(_SETTLE)
    leave.set()
    assert closed.wait(10)  # the call left: the fork goes ahead
    caller.join(10)
    # During the fork no call gets in...
    late = threading.Thread(target=later_call, daemon=True)
    late.start()
    assert not entered_during_fork.wait(_SETTLE)
    # ...and once it is over, the waiting call goes in.
    go_on.set()
    forker.join(10)
    assert entered_during_fork.wait(10)
    late.join(10)
    assert not forker.is_alive() and not late.is_alive()


def test_the_gate_is_open_again_after_a_fork_without_calls() -> None:
    closed, go_on = threading.Event(), threading.Event()
    forker = _forker(closed, go_on)
    forker.start()
    assert closed.wait(10)  # nothing inside: no wait
    go_on.set()
    forker.join(10)
    done = threading.Event()

    def call() -> None:
        with forkgate.library_call():
            done.set()

    caller = threading.Thread(target=call, daemon=True)
    caller.start()
    assert done.wait(10)
    caller.join(10)
