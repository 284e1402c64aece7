"""The container protocol of docs/containers.md, with interleavings forced at every step.

Writers run in processes of their own.  A step hook (``csp11.core.store.
set_step_hook``) kills a writer at a named step, or stops it there while
another process runs a competing call.  Afterwards the container must be
readable, every call must have ended in success or the Windows error one
machine would give (NTE_EXISTS, NTE_BAD_KEYSET, NTE_NO_KEY), and the token
must hold exactly the objects the container's state names: no claim, no
intent, no stray key.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from .conftest import REPO
from .outside import objects

ALLOWED = {"ok", "NTE_EXISTS", "NTE_BAD_KEYSET", "NTE_NO_KEY"}

# One csp11 call in a process of its own: argv = name, op, step, action.
_WRITER = textwrap.dedent(
    """
    import os, signal, sys
    from csp11 import pywintypes, win32crypt, winerror, win32cryptcon as c
    from csp11.core import store

    name, op, target, action = sys.argv[1:5]
    seen = set()

    def hook(step):
        if step != target or step in seen:
            return
        seen.add(step)
        if action == "kill":
            os.kill(os.getpid(), signal.SIGKILL)
        print("paused", flush=True)
        sys.stdin.readline()

    store.set_step_hook(hook)
    flags = {"create": c.CRYPT_NEWKEYSET, "delete": c.CRYPT_DELETEKEYSET}.get(op, 0)
    try:
        ctx = win32crypt.CryptAcquireContext(name, None, c.PROV_RSA_AES, flags)
        if op == "genkey":
            ctx.CryptGenKey(c.AT_SIGNATURE, 1024 << 16).CryptDestroyKey()
        elif op == "getkey":
            ctx.CryptGetUserKey(c.AT_SIGNATURE).CryptDestroyKey()
        if ctx is not None:
            ctx.CryptReleaseContext()
        print("result ok", flush=True)
    except pywintypes.error as exc:
        print("result", winerror.name_of(exc.winerror), exc.strerror, flush=True)
    """
)

STEPS = {
    "create": ["claim-created", "claims-read", "create-tidied", "create-marker-written"],
    "delete": ["claim-created", "claims-read", "delete-markers-destroyed", "delete-tidied"],
    "genkey": ["intent-created", "pair-made", "claim-created", "claims-read",
               "commit-marker-written", "commit-old-markers-destroyed"],
}
# What exists before the interrupted call, so that it has something to do.
SETUP = {"create": "none", "delete": "keyed", "genkey": "keyed"}


# The children name the token by URI, as processes sharing an HSM do: no file
# lock of csp11's own store applies, only the protocol on the token.
_TOKEN: dict[str, str] = {}


def _env() -> dict[str, str]:
    return dict(os.environ, PYTHONPATH=str(REPO), **_TOKEN)


def _start(name: str, op: str, step: str = "-", action: str = "-") -> subprocess.Popen[str]:
    env = _env()
    return subprocess.Popen(
        [sys.executable, "-c", _WRITER, name, op, step, action], env=env,
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )


def _result(proc: subprocess.Popen[str], timeout: float = 60) -> str:
    out, err = proc.communicate(timeout=timeout)
    lines = [line for line in out.splitlines() if line.startswith("result ")]
    assert lines, f"no result (exit {proc.returncode}): {err[-2000:]}"
    return lines[-1].split()[1]


def _run(name: str, op: str) -> str:
    return _result(_start(name, op))


def _setup(name: str, state: str) -> None:
    if state in ("empty", "keyed"):
        assert _run(name, "create") == "ok"
    if state == "keyed":
        assert _run(name, "genkey") == "ok"


def _rows(home: Path, module: str, name: str) -> list[dict[str, object]]:
    prefix = f"csp11 user/{name}"
    return [r for r in objects(home, module) if str(r["LABEL"]).startswith(prefix)]


def _check_clean(home: Path, module: str, name: str) -> None:
    """After any interleaving and one more call: one marker (or none), one pair
    per named spec, nothing else of the container on the token."""
    opened = _run(name, "getkey")  # opening tidies; reading the key checks it
    assert opened in ALLOWED, opened
    rows = _rows(home, module, name)
    markers = [r for r in rows if r["CLASS"] == 0 and r["LABEL"] == f"csp11 user/{name}"]
    if opened == "NTE_BAD_KEYSET":
        # No container: what is left may only be debris a later NEWKEYSET removes
        # (never a marker); make it and check that it comes up clean.
        assert markers == []
        assert _run(name, "create") == "ok"
        rows = _rows(home, module, name)
        markers = [r for r in rows if r["CLASS"] == 0]
        assert len(markers) == 1 and len(rows) == 1, rows
        return
    assert len(markers) == 1, rows
    keys = [r for r in rows if r["CLASS"] in (2, 3)]
    assert len(keys) == (2 if opened == "ok" else 0), rows
    assert len({r["ID"] for r in keys}) <= 1
    assert len(rows) == 1 + len(keys), rows  # no claim, no intent, no certificate


@pytest.fixture
def name(token_uri: str, csp11_home: Path) -> Iterator[str]:
    _TOKEN.update(CSP11_TOKEN=token_uri, SOFTHSM2_CONF=str(csp11_home / "softhsm2.conf"))
    value = f"proto-{uuid.uuid4().hex[:10]}"
    yield value
    _run(value, "delete")


CRASHES = [(op, step) for op, steps in STEPS.items() for step in steps]


@pytest.mark.parametrize(("op", "step"), CRASHES, ids=[f"{o}@{s}" for o, s in CRASHES])
def test_a_writer_killed_at_any_step_leaves_a_state_the_next_call_repairs(
    name: str, op: str, step: str, csp11_home: Path, softhsm2_module: str
) -> None:
    _setup(name, SETUP[op])
    proc = _start(name, op, step, "kill")
    proc.communicate(timeout=60)
    assert proc.returncode == -signal.SIGKILL
    _check_clean(csp11_home, softhsm2_module, name)


def test_opening_tidies_under_the_lock_only_what_needs_it(
    name: str, csp11_home: Path, softhsm2_module: str
) -> None:
    """An open reads a clean container without its lock (no claim made: the
    opener never reaches "claim-created"); a container with a crashed
    writer's debris is tidied under the lock."""
    _setup(name, "keyed")
    assert _run(name, "getkey") == "ok"
    clean = _start(name, "getkey", "claim-created", "pause")
    out, err = clean.communicate(timeout=60)
    assert out.split() == ["result", "ok"], err[-2000:]  # never paused: no claim was made
    crashed = _start(name, "genkey", "pair-made", "kill")  # leaves an intent and a pair
    crashed.communicate(timeout=60)
    assert crashed.returncode == -signal.SIGKILL
    tidier = _start(name, "getkey", "claim-created", "pause")
    assert tidier.stdout is not None and tidier.stdin is not None
    assert tidier.stdout.readline().strip() == "paused"  # it took the lock
    tidier.stdin.write("\n")
    tidier.stdin.flush()
    assert _result(tidier) == "ok"
    _check_clean(csp11_home, softhsm2_module, name)


INTERLEAVINGS = [
    (op, step, other)
    for op, steps in STEPS.items() for step in steps
    for other in ("create", "delete", "genkey")
]
# The default run forces a writer stopped inside the lock (after reading the
# claims), at its commit point, and holding an intent, each against a
# competing writer; the slow run every writer step against every call.
_DEFAULT = {("create", "claims-read"): "create", ("delete", "delete-markers-destroyed"): "genkey",
            ("genkey", "intent-created"): "delete", ("genkey", "commit-marker-written"): "genkey"}


def _interleavings(slow: bool) -> list[tuple[str, str, str]]:
    return [i for i in INTERLEAVINGS if slow or _DEFAULT.get((i[0], i[1])) == i[2]]


def _interleave(name: str, op: str, step: str, other: str, home: Path, module: str) -> None:
    _setup(name, SETUP[op])
    first = _start(name, op, step, "pause")
    assert first.stdout is not None and first.stdin is not None
    assert first.stdout.readline().strip() == "paused"
    second = _start(name, other)
    time.sleep(0.5)  # the second call runs now, or waits for the first's lock
    first.stdin.write("\n")
    first.stdin.flush()
    results = {_result(first), _result(second)}
    assert results <= ALLOWED, results
    _check_clean(home, module, name)


@pytest.mark.parametrize(("op", "step", "other"), _interleavings(False),
                         ids=[f"{o}@{s}+{x}" for o, s, x in _interleavings(False)])
def test_a_writer_stopped_at_any_step_while_another_call_runs(
    name: str, op: str, step: str, other: str, csp11_home: Path, softhsm2_module: str
) -> None:
    _interleave(name, op, step, other, csp11_home, softhsm2_module)


@pytest.mark.slow
@pytest.mark.parametrize(("op", "step", "other"), _interleavings(True),
                         ids=[f"{o}@{s}+{x}" for o, s, x in _interleavings(True)])
def test_every_interleaving(
    name: str, op: str, step: str, other: str, csp11_home: Path, softhsm2_module: str
) -> None:
    _interleave(name, op, step, other, csp11_home, softhsm2_module)


_RACER = textwrap.dedent(
    """
    import collections, json, sys
    from csp11 import pywintypes, win32crypt, winerror, win32cryptcon as c
    name, rounds = sys.argv[1], int(sys.argv[2])
    seen = collections.Counter()
    why = {}
    for _ in range(rounds):
        for flags, then in ((c.CRYPT_NEWKEYSET, None), (0, "genkey"),
                            (c.CRYPT_DELETEKEYSET, None)):
            try:
                ctx = win32crypt.CryptAcquireContext(name, None, c.PROV_RSA_AES, flags)
                if then == "genkey":
                    ctx.CryptGenKey(c.AT_SIGNATURE, 1024 << 16).CryptDestroyKey()
                    ctx.CryptGetUserKey(c.AT_SIGNATURE).CryptDestroyKey()
                if ctx is not None:
                    ctx.CryptReleaseContext()
                seen["ok"] += 1
            except pywintypes.error as exc:
                seen[winerror.name_of(exc.winerror)] += 1
                why.setdefault(winerror.name_of(exc.winerror), exc.funcname + ": " + exc.strerror)
    print(json.dumps([seen, why]))
    """
)


def _race(name: str, processes: int, rounds: int, home: Path, module: str) -> None:
    import json

    before = len(objects(home, module))
    env = _env()
    racers = [subprocess.Popen([sys.executable, "-c", _RACER, name, str(rounds)], env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
              for _ in range(processes)]
    seen: dict[str, int] = {}
    why: dict[str, str] = {}
    for racer in racers:
        out, err = racer.communicate(timeout=600)
        assert racer.returncode == 0, err[-2000:]
        counts, reasons = json.loads(out.splitlines()[-1])
        why.update(reasons)
        for code, count in counts.items():
            seen[code] = seen.get(code, 0) + count
    assert set(seen) <= ALLOWED, (seen, why)
    assert seen.get("ok", 0) > 0
    # The name works afterwards, and the token holds what it held before.
    _run(name, "delete")
    assert _run(name, "create") == "ok"
    assert _run(name, "genkey") == "ok"
    assert _run(name, "delete") == "ok"
    assert len(objects(home, module)) == before


def test_four_processes_race_on_one_name(
    name: str, csp11_home: Path, softhsm2_module: str
) -> None:
    _race(name, 4, 4, csp11_home, softhsm2_module)


@pytest.mark.slow
def test_four_processes_fifteen_rounds(
    name: str, csp11_home: Path, softhsm2_module: str
) -> None:
    _race(name, 4, 15, csp11_home, softhsm2_module)
