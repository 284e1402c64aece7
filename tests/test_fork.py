"""fork() from a process that uses csp11 from threads: every child works.

PKCS#11 wants a child to initialise the library afresh and never to use the
parent's sessions; a lock another thread held at the fork must not hang the
child.  The parent runs in a process of its own, so that pytest's process is
never forked while it holds the token.
"""

from __future__ import annotations

import textwrap

import pytest

from .conftest import run_python

_PARENT = textwrap.dedent(
    """
    import os, sys, threading, time
    from csp11 import pywintypes, win32crypt, winerror, win32cryptcon as c

    CHILDREN = int(sys.argv[1])
    ctx = win32crypt.CryptAcquireContext(None, None, c.PROV_RSA_AES, c.CRYPT_VERIFYCONTEXT)
    stop = threading.Event()

    def busy(kind):
        while not stop.is_set():
            if kind == "hash":
                h = ctx.CryptCreateHash(c.CALG_SHA_256)
                h.CryptHashData(os.urandom(3_000_000))  # multi-part: csp11's own calls
                h.CryptGetHashParam(c.HP_HASHVAL)
                h.CryptDestroyHash()
            elif kind == "keys":
                ctx.CryptGenKey(c.CALG_RSA_KEYX, 512 << 16).CryptDestroyKey()
            else:
                k = ctx.CryptGenKey(c.CALG_AES_256, 0)
                k.CryptEncrypt(True, os.urandom(1 << 20))
                k.CryptDestroyKey()

    threads = [threading.Thread(target=busy, args=(k,), daemon=True)
               for k in ("hash", "keys", "aes", "hash")]
    for t in threads:
        t.start()
    time.sleep(0.2)
    ok = hung = failed = 0
    for _ in range(CHILDREN):
        pid = os.fork()
        if pid == 0:
            code = 1
            try:
                # The parent's context is the parent's: refused here.
                try:
                    ctx.CryptGenRandom(4)
                    code = 3
                except pywintypes.error as exc:
                    if exc.winerror != winerror.NTE_BAD_UID:
                        code = 4
                    else:
                        mine = win32crypt.CryptAcquireContext(
                            None, None, c.PROV_RSA_AES, c.CRYPT_VERIFYCONTEXT)
                        mine.CryptGenKey(c.AT_SIGNATURE, 512 << 16)
                        h = mine.CryptCreateHash(c.CALG_SHA1)
                        h.CryptHashData(b"child")
                        assert len(h.CryptSignHash(c.AT_SIGNATURE)) == 64
                        mine.CryptReleaseContext()
                        code = 0
            finally:
                os._exit(code)
        deadline = time.monotonic() + 30
        while True:
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                if os.waitstatus_to_exitcode(status) == 0:
                    ok += 1
                else:
                    failed += 1
                break
            if time.monotonic() > deadline:
                os.kill(pid, 9)
                os.waitpid(pid, 0)
                hung += 1
                break
            time.sleep(0.01)
    stop.set()
    for t in threads:
        t.join()
    print(ok, hung, failed)
    """
)


def _forks(children: int) -> tuple[int, int, int]:
    result = run_python(f"import sys; sys.argv = ['x', '{children}']\n" + _PARENT, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    ok, hung, failed = (int(n) for n in result.stdout.split()[-3:])
    return ok, hung, failed


def test_children_of_a_threaded_parent_work(embedded_pin: str) -> None:
    del embedded_pin  # the token exists
    assert _forks(10) == (10, 0, 0)


@pytest.mark.slow
def test_thirty_children_of_a_threaded_parent_work(embedded_pin: str) -> None:
    del embedded_pin
    assert _forks(30) == (30, 0, 0)
