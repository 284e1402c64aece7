"""A p11-kit configuration of the tests' own for p11-kit-proxy.so.

The proxy loads every module p11-kit knows.  A user's configuration
(``$HOME/.config/pkcs11/modules``) can list the test SoftHSM2 module and switch
the machine's registered modules off for the proxy (``disable-in:
p11-kit-proxy``), so that the tests do not depend on what the machine has
registered (a TPM module that prints TCTI errors where no TPM is, ...).  As
root p11-kit reads only the system module directory (TOKEN-FACTS): there the
proxy reaches the test token through the system's SoftHSM2 registration and
``SOFTHSM2_CONF``, so that registration must exist.
"""

from __future__ import annotations

import contextlib
import glob
import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from .helpers import installed

__all__ = ["CLIENT", "PROXY", "SERVER", "proxy_env", "proxy_unusable", "served"]

PROXY = installed("/usr/lib/*/p11-kit-proxy.so", "/usr/lib64/p11-kit-proxy.so")
CLIENT = installed("/usr/lib/*/pkcs11/p11-kit-client.so", "/usr/lib64/pkcs11/p11-kit-client.so")
SERVER = installed("/usr/libexec/p11-kit/p11-kit-server", "/usr/lib/*/p11-kit/p11-kit-server")


@contextlib.contextmanager
def served(socket: Path, softhsm2_module: str, softhsm2_conf: Path) -> Iterator[str]:
    """`p11-kit server` serving the test token (label csp11) on the unix
    ``socket``, in a process of its own: the P11_KIT_SERVER_ADDRESS to use."""
    if SERVER is None or CLIENT is None:
        pytest.skip("p11-kit server or p11-kit-client.so is not installed (p11-kit)")
    proc = subprocess.Popen(
        [SERVER, "-f", "-n", str(socket), "--provider", softhsm2_module, "pkcs11:token=csp11"],
        env={**os.environ, "SOFTHSM2_CONF": str(softhsm2_conf)},
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(200):
            if socket.exists():
                break
            time.sleep(0.05)
        assert socket.exists(), "p11-kit server did not start"
        yield f"unix:path={socket}"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def _registered() -> list[str]:
    return glob.glob("/usr/share/p11-kit/modules/*.module") + glob.glob(
        "/etc/pkcs11/modules/*.module"
    )


def proxy_env(softhsm2_conf: Path, softhsm2_module: str, home: Path) -> dict[str, str]:
    """Variables for a process whose p11-kit-proxy.so shows the test token only
    (as far as p11-kit lets a user configure it; see the module docstring)."""
    modules = home / ".config" / "pkcs11" / "modules"
    modules.mkdir(parents=True, exist_ok=True)
    for registered in _registered():
        (modules / Path(registered).name).write_text("disable-in: p11-kit-proxy\n")
    (modules / "csp11-test-softhsm2.module").write_text(f"module: {softhsm2_module}\n")
    return {"HOME": str(home), "SOFTHSM2_CONF": str(softhsm2_conf)}


def proxy_unusable() -> str | None:
    """Why the proxy cannot reach the test token here (None: it can)."""
    if os.geteuid() != 0:
        return None
    for registered in _registered():
        text = Path(registered).read_text(errors="replace")
        if "softhsm" in text and "disable-in: p11-kit-proxy" not in text:
            return None
    return ("as root p11-kit reads only the system's modules, and SoftHSM2 is not registered "
            "there (the softhsm2 package's p11-kit module)")
