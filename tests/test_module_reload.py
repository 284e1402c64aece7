"""A module reload (csp11.token.reload_module, used for tpm2-pkcs11's stale
view) leaves nothing of the old module alive: the caches above the token layer
(token models, capabilities, container registries, ephemeral sweeps) forget
its tokens, so a long-running process that reloads often does not grow.

Run on SoftHSM2 through a token URI (the reload itself does not depend on the
token), in a process of its own so the suite's module stays loaded.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

from .conftest import run_python

_CHILD = textwrap.dedent("""
    import gc, sys, weakref
    from csp11 import win32crypt, win32cryptcon as con
    from csp11.token import reload_module
    from csp11.token import module as modules

    def work(flags):
        prov = win32crypt.CryptAcquireContext("reloaded", None, con.PROV_RSA_AES, flags)
        prov.CryptGenKey(con.CALG_AES_256, 0).CryptDestroyKey()
        prov.CryptGetUserKey(con.AT_SIGNATURE)
        prov.CryptReleaseContext()
        verify = win32crypt.CryptAcquireContext(
            None, None, con.PROV_RSA_AES, con.CRYPT_VERIFYCONTEXT)
        verify.CryptGenKey(con.CALG_RSA_SIGN, 1024 << 16).CryptDestroyKey()
        verify.CryptReleaseContext()

    prov = win32crypt.CryptAcquireContext("reloaded", None, con.PROV_RSA_AES, con.CRYPT_NEWKEYSET)
    prov.CryptGenKey(con.AT_SIGNATURE, 1024 << 16)
    prov.CryptReleaseContext()
    del prov  # a released context still names its token; what the caller keeps stays
    work(0)
    for _ in range(3):
        (module,) = modules._modules.values()
        old = [weakref.ref(module)] + [weakref.ref(t) for t in module._tokens.values()]
        assert len(old) == 2, old
        reload_module(module)
        del module
        gc.collect()
        alive = [ref() for ref in old if ref() is not None]
        assert not alive, [repr(a) for a in alive]
        work(0)  # the token is found again through the new module
    print("ok")
""")


def test_a_reload_keeps_nothing_of_the_old_module(token_uri: str, csp11_home: Path) -> None:
    conf = str(csp11_home / "softhsm2.conf")
    done = run_python(_CHILD, env={"CSP11_TOKEN": token_uri, "SOFTHSM2_CONF": conf})
    assert done.returncode == 0, done.stderr
    assert done.stdout == "ok\n"
    assert done.stderr == ""
