"""Where a stop signal ends csp11's work (csp11/interrupts.py).

In the command line's signal window (``safefiles.signals_raise``) a signal
raises at once only outside csp11's code or in a wait marked
interruptible; inside the token layer it waits for a checkpoint, so that no
lock, session or half-made object is left behind by an exception raised
between two bytecodes.  Real token, real signals, in this process (pytest
runs tests in the main thread, where Python runs signal handlers).
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Callable
from typing import Any

from csp11 import interrupts, safefiles
from csp11.token import fastpath
from csp11.win32crypt import PyCRYPTPROV
from csp11.win32cryptcon import CALG_3DES, CALG_AES_256, CRYPT_EXPORTABLE, KP_IV


def _stopped(body: Callable[[], object]) -> safefiles.Interrupted:
    """What ``body`` run in the command line's signal window raised."""
    try:
        with safefiles.signals_raise():
            body()
    except safefiles.Interrupted as exc:
        return exc
    raise AssertionError("no Interrupted")


def test_a_signal_outside_csp11_stops_at_once() -> None:
    reached = []

    def body() -> None:
        os.kill(os.getpid(), signal.SIGTERM)
        reached.append("the line after the signal")

    raised = _stopped(body)
    assert raised.signum == signal.SIGTERM and not raised.completed
    assert reached == []


def _signal_inside_the_token_layer(prov: PyCRYPTPROV, reached: list[str]) -> Any:
    token = prov._state.token

    def inside(session: Any) -> int:
        # Called by Token.run with a pooled session taken and locked.
        os.kill(os.getpid(), signal.SIGTERM)
        reached.append("inside, after the signal")
        return 7

    value = token.run("C_GenerateRandom", inside)
    reached.append("back from the token layer")
    return value


def test_a_signal_inside_the_token_layer_waits_for_a_checkpoint(prov: PyCRYPTPROV) -> None:
    reached: list[str] = []

    def body() -> None:
        assert _signal_inside_the_token_layer(prov, reached) == 7
        assert interrupts.pending() == signal.SIGTERM
        safefiles.checkpoint()
        reached.append("after the checkpoint")

    raised = _stopped(body)
    assert raised.signum == signal.SIGTERM and not raised.completed
    assert reached == ["inside, after the signal", "back from the token layer"]
    assert interrupts.pending() is None
    # The session went back to the pool: the token works on, in this thread.
    token = prov._state.token
    assert token.session_count() >= 1
    for _ in range(3):
        with prov.CryptGenKey(CALG_AES_256, CRYPT_EXPORTABLE) as key:
            assert key.CryptEncrypt(True, b"x" * 5) != b"x" * 5


def test_a_signal_that_waited_to_the_end_says_the_work_completed(prov: PyCRYPTPROV) -> None:
    reached: list[str] = []

    def body() -> None:
        _signal_inside_the_token_layer(prov, reached)
        reached.append("the block's last line")

    raised = _stopped(body)
    assert raised.signum == signal.SIGTERM and raised.completed
    assert reached[-1] == "the block's last line"
    assert interrupts.pending() is None


def test_a_second_signal_is_ignored_while_the_first_is_handled(prov: PyCRYPTPROV) -> None:
    def inside(session: Any) -> None:
        os.kill(os.getpid(), signal.SIGTERM)
        os.kill(os.getpid(), signal.SIGHUP)  # ignored: the clean-up must run

    def body() -> None:
        prov._state.token.run("C_GenerateRandom", inside)
        safefiles.checkpoint()

    assert _stopped(body).signum == signal.SIGTERM
    # The handlers the block found are back.
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL
    assert signal.getsignal(signal.SIGHUP) is signal.SIG_DFL


def test_an_interruptible_wait_ends_at_once() -> None:
    """A blocking read of an input (csp11's ``_read_input``, marked
    interruptible) ends when the signal comes, not when data does."""
    reading, writing = os.pipe()
    main = threading.main_thread().ident
    assert main is not None

    done = threading.Event()

    def later() -> None:
        time.sleep(0.3)
        signal.pthread_kill(main, signal.SIGTERM)
        # If the read was not interrupted, it ends here (and the test fails).
        if not done.wait(5):
            os.write(writing, b"late")

    helper = threading.Thread(target=later, daemon=True)
    start = time.monotonic()
    try:
        with os.fdopen(reading, "rb", buffering=0) as src:
            helper.start()
            assert _stopped(lambda: safefiles._read_input(src)).signum == signal.SIGTERM
        assert time.monotonic() - start < 4
    finally:
        done.set()
        helper.join()
        os.close(writing)


def test_csp11_threads_leave_signals_to_the_main_thread(prov: PyCRYPTPROV) -> None:
    """A process's signal goes to a thread that does not block it; csp11's
    bulk worker blocks the stop signals, so they reach the main thread."""
    # A large one-shot call on the main thread goes to the worker: 3DES of
    # whole 8-byte blocks that are not whole 16-byte pieces (AES and aligned
    # calls go in pieces on the calling thread).
    size = fastpath.OFFLOAD_BYTES + 8
    with prov.CryptGenKey(CALG_3DES, CRYPT_EXPORTABLE) as key:
        sealed = key.CryptEncrypt(False, bytes(size))
        key.CryptSetKeyParam(KP_IV, bytes(8))
        assert key.CryptDecrypt(False, sealed) == bytes(size)
    workers = [t for t in threading.enumerate() if t.name == "csp11-bulk"]
    assert workers, [t.name for t in threading.enumerate()]
    for worker in workers:
        with open(f"/proc/self/task/{worker.native_id}/status") as status:
            blocked = next(int(line.split()[1], 16) for line in status
                           if line.startswith("SigBlk:"))
        for signum in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT):
            assert blocked >> (signum - 1) & 1, (worker.name, signum)
        assert not blocked >> (signal.SIGSEGV - 1) & 1
