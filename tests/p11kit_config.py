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

import glob
import os
from pathlib import Path

__all__ = ["proxy_env", "proxy_unusable"]


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
