"""What a process's first key costs at import: modules kept off the path of
``import csp11.win32crypt`` + ``CryptAcquireContext`` + ``CryptGenKey``
(docs/performance.md "Cold start").  Timings are measured in benchmarks/, not
asserted here; this holds the structure that keeps them low."""

from __future__ import annotations

import json

from .conftest import run_python

# Module -> why the first key must not import it.
NOT_ON_THE_FIRST_KEY_PATH = {
    "cryptography.x509": "certificates only (csp11.formats.certinfo): ~20 ms of import",
    "email.utils": "pulled in by cryptography.x509",
    "calendar": "pulled in by cryptography.x509 (email.utils)",
    "difflib": "only for the hint on a mistyped PKCS#11 URI",
}

_FIRST_KEY = """
import json, sys
from csp11 import win32crypt as w, win32cryptcon as c
p = w.CryptAcquireContext(None, None, c.PROV_RSA_AES, c.CRYPT_VERIFYCONTEXT)
p.CryptGenKey(c.CALG_AES_256, 0)
print(json.dumps(sorted(sys.modules)))
"""


def _modules_after(code: str) -> set[str]:
    done = run_python(code)
    assert done.returncode == 0, done.stderr
    return set(json.loads(done.stdout.splitlines()[-1]))


def test_the_first_key_imports_no_certificate_code() -> None:
    loaded = _modules_after(_FIRST_KEY)
    assert "csp11.formats.certinfo" in loaded  # the module is there, its parser not
    assert {m: why for m, why in NOT_ON_THE_FIRST_KEY_PATH.items() if m in loaded} == {}


def test_a_certificate_brings_its_parser() -> None:
    """The deferred import happens where a certificate is read, and works there."""
    loaded = _modules_after(_FIRST_KEY.replace(
        "print(", "from csp11.formats import certinfo\n"
        "assert certinfo.rsa_public_numbers(b'not DER') is None\nprint("))
    assert "cryptography.x509" in loaded
