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
    "pkcs11": "python-pkcs11 (~45 ms): the first key is made through csp11's own binding",
    "asn1crypto": "pulled in by python-pkcs11",
    "cryptography": "key formats and key wrapping only (~8 ms of its bindings)",
    "inspect": "pulled in by dataclasses (~5 ms): csp11's records are Structs",
    "pathlib": "with fnmatch and urllib.parse, ~4 ms: the token layer uses os.path",
    "urllib.parse": "with ipaddress: only a PKCS#11 URI's values need it",
    "logging": "~5 ms: the csp11 logger is made on the first message (csp11.logs)",
    "json": "only container records and ephemeral key labels",
}

# The modules csp11 imports: those in sys.modules after the first key that
# were not before it.  The modules checked are first dropped from
# sys.modules (the interpreter's start, this script's json and the test
# environment's editable-install hook, which imports pathlib, load some of
# them), so that csp11 importing one imports it again, and shows.
_FIRST_KEY = """
import json, sys
for name in __CHECKED__:
    sys.modules.pop(name, None)
started = set(sys.modules)
from csp11 import win32crypt as w, win32cryptcon as c
p = w.CryptAcquireContext(None, None, c.PROV_RSA_AES, c.CRYPT_VERIFYCONTEXT)
p.CryptGenKey(c.CALG_AES_256, 0)
print(json.dumps(sorted(set(sys.modules) - started)))
"""


def _modules_after(code: str) -> set[str]:
    done = run_python(code.replace("__CHECKED__", repr(sorted(NOT_ON_THE_FIRST_KEY_PATH))))
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


def test_python_pkcs11_comes_with_the_first_call_that_needs_it() -> None:
    """A key pair is python-pkcs11's work: it is imported then, on the
    function list csp11 initialised, and the session key made before works
    through it too (its python-pkcs11 object made on first use)."""
    loaded = _modules_after(_FIRST_KEY.replace("p.CryptGenKey(c.CALG_AES_256, 0)\n", """
k = p.CryptGenKey(c.CALG_AES_256, c.CRYPT_EXPORTABLE)
assert "pkcs11" not in sys.modules
pair = p.CryptGenKey(c.AT_KEYEXCHANGE, 1024 << 16)
assert "pkcs11" in sys.modules
blob = k.CryptExportKey(pair, c.SIMPLEBLOB)
again = p.CryptImportKey(blob, pair, c.CRYPT_EXPORTABLE)
plain = k.CryptExportKey(None, c.PLAINTEXTKEYBLOB)
assert again.CryptExportKey(None, c.PLAINTEXTKEYBLOB) == plain
tok = p._state.token
assert tok.module.lib is tok.module.lib  # one python-pkcs11 library object
"""))
    assert "pkcs11" in loaded


def test_the_first_key_probes_only_its_own_algorithm() -> None:
    """A session algorithm's offer costs a probe of the token (a key made and
    used); the first key of a process clips its own algorithm alone, and an
    enumeration still lists every algorithm, in order."""
    code = """
import json, sys
from csp11 import win32crypt as w, win32cryptcon as c
from csp11.model.capabilities import capabilities
p = w.CryptAcquireContext(None, None, c.PROV_RSA_AES, c.CRYPT_VERIFYCONTEXT)
p.CryptGenKey(c.CALG_AES_256, 0)
caps = capabilities(p._state.personality, p._state.token)
first = sorted(caps._clipped)
listed = [offer.algid for offer in caps.offers]
print(json.dumps([first, listed, [o.algid for o in p._state.personality.offers]]))
"""
    done = run_python(code)
    assert done.returncode == 0, done.stderr
    first, listed, rows = json.loads(done.stdout.splitlines()[-1])
    assert first == [0x6610]  # CALG_AES_256 alone
    assert listed == [algid for algid in rows if algid in listed]  # PP_ENUMALGS order
    assert {0x660E, 0x660F, 0x6610, 0x8004, 0x800C} <= set(listed)  # AES-128/192/256, SHA-1/256


def test_the_first_key_compiles_no_pattern_of_csp11() -> None:
    """csp11's regular expressions (a URI's character checks, the CKR of an
    unmapped python-pkcs11 error) are compiled where first used, not at
    import: a compile is ~0.2 ms of every cold start.  ``re`` keeps what it
    compiled in ``re._cache``; the interpreter's own compiles are there from
    before csp11."""
    code = """
import json, re
before = set(re._cache)
from csp11 import win32crypt as w, win32cryptcon as c
p = w.CryptAcquireContext(None, None, c.PROV_RSA_AES, c.CRYPT_VERIFYCONTEXT)
p.CryptGenKey(c.CALG_AES_256, 0)
print(json.dumps([str(key[1]) for key in set(re._cache) - before]))
"""
    done = run_python(code)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.splitlines()[-1]) == []
