"""Issue #6's "done when", end to end: a new user creates a container, generates
both key pairs, closes everything; a new process finds, uses and deletes them;
pkcs11-tool (another PKCS#11 client) sees exactly what docs/mapping.md says."""

from __future__ import annotations

import fcntl
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from .conftest import run_python

_MAKE = """
import sys
from csp11 import win32crypt, win32cryptcon as con
ctx = win32crypt.CryptAcquireContext(sys.argv[1], None, con.PROV_RSA_AES, con.CRYPT_NEWKEYSET)
ctx.CryptGenKey(con.AT_KEYEXCHANGE, 1024 << 16).CryptDestroyKey()
ctx.CryptGenKey(con.AT_SIGNATURE, 1024 << 16).CryptDestroyKey()
ctx.CryptReleaseContext()
"""

_USE_AND_DELETE = """
import sys
from csp11 import win32crypt, win32cryptcon as con
ctx = win32crypt.CryptAcquireContext(sys.argv[1], None, con.PROV_RSA_AES, 0)
exchange = ctx.CryptGetUserKey(con.AT_KEYEXCHANGE)
signature = ctx.CryptGetUserKey(con.AT_SIGNATURE)
secret = ctx.CryptGenKey(con.CALG_AES_128, con.CRYPT_EXPORTABLE)
again = ctx.CryptImportKey(secret.CryptExportKey(exchange, con.SIMPLEBLOB), exchange)
assert again.CryptDecrypt(True, secret.CryptEncrypt(True, b"found")) == b"found"
h = ctx.CryptCreateHash(con.CALG_SHA1)
h.CryptHashData(b"used in a new process")
sig = h.CryptSignHash(con.AT_SIGNATURE)
v = ctx.CryptCreateHash(con.CALG_SHA1)
v.CryptHashData(b"used in a new process")
v.CryptVerifySignature(sig, signature)
ctx.CryptReleaseContext()
assert win32crypt.CryptAcquireContext(sys.argv[1], None, con.PROV_RSA_AES,
                                      con.CRYPT_DELETEKEYSET) is None
print("done")
"""


def _objects_seen_by_pkcs11_tool(home: Path, module: str) -> str:
    tool = shutil.which("pkcs11-tool")
    if tool is None:
        pytest.skip("pkcs11-tool (Debian package opensc) is not installed")
    # The throwaway test token's PIN on a command line: acceptable here only.
    pin = (home / "pin").read_text().strip()
    # Under the embedded token's store lock, as csp11 takes it: SoftHSM2
    # rewrites its token file on login.
    with open(home / ".lock", "a+") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        return subprocess.run(
            [tool, "--module", module, "--token-label", "csp11", "--login", "--pin", pin,
             "--list-objects"],
            env={"SOFTHSM2_CONF": str(home / "softhsm2.conf"), "PATH": os.environ["PATH"]},
            capture_output=True, text=True, timeout=60, check=True,
        ).stdout


def _blocks(listing: str, name: str) -> list[str]:
    """The object blocks of pkcs11-tool's listing that belong to container ``name``."""
    blocks = re.split(r"\n(?=\S)", listing)
    return [b for b in blocks if f"csp11 user/{name}" in b]


def test_create_close_reopen_use_delete(
    embedded_pin: str, csp11_home: Path, softhsm2_module: str
) -> None:
    name = f"story-{os.getpid()}-{os.urandom(3).hex()}"
    made = run_python(f"import sys; sys.argv = ['x', {name!r}]\n" + _MAKE)
    assert made.returncode == 0, made.stderr

    blocks = _blocks(_objects_seen_by_pkcs11_tool(csp11_home, softhsm2_module), name)
    kinds = sorted(b.splitlines()[0].split(";")[0].strip() for b in blocks)
    assert kinds == ["Data object " + kinds[0].split()[-1], "Private Key Object",
                     "Private Key Object", "Public Key Object", "Public Key Object"]
    for spec in ("AT_KEYEXCHANGE", "AT_SIGNATURE"):
        pair = [b for b in blocks if f"label:      csp11 user/{name} {spec}" in b]
        assert len(pair) == 2, pair
        ids = {re.search(r"ID:\s+(\S+)", b).group(1) for b in pair}  # type: ignore[union-attr]
        assert len(ids) == 1 and next(iter(ids)).startswith(b"csp11".hex())
        private = next(b for b in pair if b.startswith("Private Key Object"))
        assert "sensitive" in private and "never extractable" in private
    marker = next(b for b in blocks if b.startswith("Data object"))
    assert "application:    'csp11'" in marker and "private" in marker

    used = run_python(f"import sys; sys.argv = ['x', {name!r}]\n" + _USE_AND_DELETE)
    assert used.returncode == 0, used.stderr
    assert used.stdout.strip().endswith("done")
    assert _blocks(_objects_seen_by_pkcs11_tool(csp11_home, softhsm2_module), name) == []
