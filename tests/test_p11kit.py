"""The test token through p11-kit: the system proxy module, and a `p11-kit server`
in another process reached through p11-kit-client.so (how an HSM on another
machine is reached).  Both hand out a new instance for every
C_GetFunctionList call; csp11 must use the one it initialised.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from .conftest import REPO
from .p11kit_config import CLIENT, PROXY, proxy_env, proxy_unusable, served

# A user's program, in a process of its own: a container with both key pairs,
# reopened, used and deleted; a verify context's pair; the enumeration.
_PROGRAM = textwrap.dedent(
    """
    import sys
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding
    from csp11 import interop, win32crypt, win32cryptcon as c
    uri, name = sys.argv[1], sys.argv[2]
    ctx = win32crypt.CryptAcquireContext(name, None, c.PROV_RSA_AES, c.CRYPT_NEWKEYSET,
                                         Token=uri)
    for spec in (c.AT_SIGNATURE, c.AT_KEYEXCHANGE):
        ctx.CryptGenKey(spec, 2048 << 16).CryptDestroyKey()
    ctx.CryptReleaseContext()
    ctx = win32crypt.CryptAcquireContext(name, None, c.PROV_RSA_AES, 0, Token=uri)
    for spec in (c.AT_SIGNATURE, c.AT_KEYEXCHANGE):
        key = ctx.CryptGetUserKey(spec)
        public = interop.key_from_blob(key.CryptExportKey(None, c.PUBLICKEYBLOB))
        h = ctx.CryptCreateHash(c.CALG_SHA_256)
        h.CryptHashData(b"through p11-kit")
        signature = h.CryptSignHash(spec)
        public.verify(signature[::-1], b"through p11-kit", padding.PKCS1v15(), hashes.SHA256())
    # Large calls go to the token in pieces (C_*Update, C_*Final); decrypted
    # here on the token's ECB, as p11-kit's RPC carries no CBC parameters.
    session = ctx.CryptGenKey(c.CALG_AES_256, 0)
    plain = bytes(range(256)) * 4096 + b"end"
    assert session.CryptDecrypt(True, session.CryptEncrypt(True, plain)) == plain
    session.CryptDestroyKey()
    digest = ctx.CryptCreateHash(c.CALG_SHA1)
    digest.CryptHashData(b"a" * 3_000_000)  # a multi-part digest: csp11's own calls
    assert len(digest.CryptGetHashParam(c.HP_HASHVAL)) == 20
    ctx.CryptReleaseContext()
    assert win32crypt.CryptAcquireContext(name, None, c.PROV_RSA_AES, c.CRYPT_DELETEKEYSET,
                                          Token=uri) is None
    verify = win32crypt.CryptAcquireContext(None, None, c.PROV_RSA_AES, c.CRYPT_VERIFYCONTEXT,
                                            Token=uri)
    verify.CryptGenKey(c.AT_SIGNATURE, 1024 << 16)
    h = verify.CryptCreateHash(c.CALG_SHA1)
    h.CryptHashData(b"x")
    assert len(h.CryptSignHash(c.AT_SIGNATURE)) == 128
    verify.CryptReleaseContext()
    print("ok")
    """
)


def _run(uri: str, env: dict[str, str]) -> None:
    name = f"p11kit-{os.getpid()}-{time.monotonic_ns() % 10**6}"
    result = subprocess.run(
        [sys.executable, "-c", _PROGRAM, uri, name],
        env={**os.environ, "PYTHONPATH": str(REPO), **env},
        capture_output=True, text=True, timeout=120, check=False,
    )
    assert result.returncode == 0 and result.stdout.strip() == "ok", result.stderr[-3000:]


@pytest.mark.skipif(PROXY is None, reason="p11-kit-proxy.so is not installed (p11-kit-modules)")
@pytest.mark.skipif(proxy_unusable() is not None, reason=str(proxy_unusable()))
def test_through_the_system_proxy(csp11_home: Path, embedded_pin: str, softhsm2_module: str,
                                  tmp_path: Path) -> None:
    del embedded_pin  # the token exists
    uri = f"pkcs11:token=csp11?module-path={PROXY}&pin-source=file:{csp11_home / 'pin'}"
    # The tests' own p11-kit configuration, as far as p11-kit allows it.
    _run(uri, proxy_env(csp11_home / "softhsm2.conf", softhsm2_module, tmp_path))


@pytest.fixture
def server(csp11_home: Path, softhsm2_module: str, embedded_pin: str,
           tmp_path: Path) -> Iterator[str]:
    """`p11-kit server` serving the test token on a unix socket (another process)."""
    del embedded_pin
    with served(tmp_path / "p11-kit.sock", softhsm2_module,
                csp11_home / "softhsm2.conf") as address:
        yield address


def test_through_p11_kit_rpc(server: str, csp11_home: Path) -> None:
    uri = f"pkcs11:token=csp11?module-path={CLIENT}&pin-source=file:{csp11_home / 'pin'}"
    _run(uri, {"P11_KIT_SERVER_ADDRESS": server})


def test_a_stop_signal_ends_an_encryption_over_rpc_soon(server: str, csp11_home: Path,
                                                        tmp_path: Path) -> None:
    """Through p11-kit RPC CBC runs on the token's ECB, a round trip per block
    (seconds per MiB): SIGTERM stops ``csp11 encrypt`` between two blocks,
    not at the end of the piece, and leaves nothing."""
    env = {**os.environ, "PYTHONPATH": str(REPO), "P11_KIT_SERVER_ADDRESS": server,
           "CSP11_TOKEN": f"pkcs11:token=csp11?module-path={CLIENT}"
                          f"&pin-source=file:{csp11_home / 'pin'}"}
    name = f"rpc-stop-{os.getpid()}"
    made = subprocess.run([sys.executable, "-m", "csp11", "keys", "create", name, "--bits",
                           "1024"], env=env, capture_output=True, timeout=120, check=False)
    assert made.returncode == 0, made.stderr
    try:
        work = tmp_path / "work"  # beside the server's socket
        work.mkdir()
        (work / "f").write_bytes(os.urandom(4 << 20))
        child = subprocess.Popen(
            [sys.executable, "-m", "csp11", "encrypt", str(work / "f"), "--container", name],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        time.sleep(3)  # started, and in the first MiB's 65 536 round trips
        assert child.poll() is None
        start = time.monotonic()
        child.send_signal(signal.SIGTERM)
        _, err = child.communicate(timeout=120)
        # One MiB piece here takes about 1 s over the socket; between two
        # blocks the stop takes ~0.02 s (measured; 0.8 s without the check).
        assert time.monotonic() - start < 0.5, err
        assert child.returncode == -signal.SIGTERM, err
        assert err.endswith(b"csp11: stopped by SIGTERM; nothing was left behind\n"), err
        assert sorted(p.name for p in work.iterdir()) == ["f"]
    finally:
        subprocess.run([sys.executable, "-m", "csp11", "keys", "delete", name, "--yes"],
                       env=env, capture_output=True, timeout=120, check=False)
