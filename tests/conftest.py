"""Test set-up: a real SoftHSM2 token made for this test run, never the user's.

Before anything loads SoftHSM2, ``CSP11_HOME`` points at a fresh temporary
directory, so the embedded default token csp11 creates there (with its own
``softhsm2.conf``) is the token under test; variables that could point csp11
at another token are removed.  Tests that need a process of their own (a
fresh machine, a crash) use :func:`run_python`.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings

# CI explores a fixed set of examples (derandomize): a property found false
# there is reproducible, and a run cannot fail by the luck of the draw.  Local
# runs draw new examples each time (and keep failures in .hypothesis/).
settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")

_RUN_DIR = Path(tempfile.mkdtemp(prefix="csp11-tests-"))
for _name in ("CSP11_TOKEN", "CSP11_PIN", "CSP11_MODULE", "CSP11_SOFTHSM2_MODULE",
              "SOFTHSM2_CONF"):
    os.environ.pop(_name, None)
os.environ["CSP11_HOME"] = str(_RUN_DIR / "home")

from csp11 import win32crypt, win32cryptcon  # noqa: E402
from csp11.token import find_softhsm2  # noqa: E402
from csp11.win32crypt import PyCRYPTPROV  # noqa: E402

from .tokens_tpm import TpmToken, missing  # noqa: E402

REPO = Path(__file__).resolve().parent.parent


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    shutil.rmtree(_RUN_DIR, ignore_errors=True)


@pytest.fixture(scope="session")
def csp11_home() -> Path:
    """The data directory of the embedded token under test."""
    return Path(os.environ["CSP11_HOME"])


@pytest.fixture(scope="session")
def softhsm2_module() -> str:
    """Path of SoftHSM2's PKCS#11 module."""
    return find_softhsm2()


@pytest.fixture(scope="session")
def embedded_pin(csp11_home: Path) -> str:
    """The embedded token's user PIN (created on first use)."""
    ctx = win32crypt.CryptAcquireContext(
        None, None, win32cryptcon.PROV_RSA_AES, win32cryptcon.CRYPT_VERIFYCONTEXT
    )
    assert ctx is not None
    ctx.CryptReleaseContext()
    return (csp11_home / "pin").read_text().strip()


@pytest.fixture(scope="session")
def token_uri(softhsm2_module: str, csp11_home: Path, embedded_pin: str) -> str:
    """A PKCS#11 URI naming the test token explicitly (module and PIN file)."""
    return (
        f"pkcs11:token=csp11?module-path={softhsm2_module}"
        f"&pin-source=file:{csp11_home / 'pin'}"
    )


@pytest.fixture(scope="session")
def tpm_token() -> Iterator[TpmToken]:
    """A TPM 2.0 token (swtpm + private D-Bus + tpm2-abrmd + tpm2-pkcs11) for the
    session, torn down afterwards; its variables are set in this process too
    (tpm2-pkcs11 reads them when it is loaded)."""
    reason = missing()
    if reason:
        pytest.skip(reason)
    tpm = TpmToken().start()
    saved = {name: os.environ.get(name) for name in tpm.env}
    os.environ.update(tpm.env)
    try:
        yield tpm
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        tpm.stop()


@pytest.fixture
def prov() -> Iterator[PyCRYPTPROV]:
    """A verify-only context on the test token, released afterwards."""
    ctx = win32crypt.CryptAcquireContext(
        None, None, win32cryptcon.PROV_RSA_AES, win32cryptcon.CRYPT_VERIFYCONTEXT
    )
    assert ctx is not None
    with ctx:
        yield ctx


def run_python(
    code: str, env: dict[str, str] | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """Run ``code`` in a new Python process with csp11 importable."""
    full_env = dict(os.environ)
    full_env.update(env or {})
    full_env["PYTHONPATH"] = str(REPO) + os.pathsep + full_env.get("PYTHONPATH", "")
    return subprocess.run(
        [sys.executable, "-c", code],
        env=full_env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        stdin=subprocess.DEVNULL,
    )
