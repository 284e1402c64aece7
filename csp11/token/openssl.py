"""OpenSSL 3's legacy provider, for tokens that run single DES through the
process's OpenSSL (the quirk :attr:`csp11.token.quirks.Quirks.openssl_legacy_des`).

Loading it acts on the whole process, once.
"""

from __future__ import annotations

import ctypes

from csp11.logs import log as _log

# OpenSSL 3's libcrypto by the names its builds give it.  Only OpenSSL 3 has
# providers (OpenSSL 1.1 has single DES built in, its library is libcrypto.so.1.1),
# so the versioned names are all there is to look for.  Opened by name rather
# than through ctypes.util.find_library: that imports subprocess and shutil
# (about 6 ms of every csp11 import) and runs ldconfig (about 2 ms of every
# SoftHSM2 token's first use).
_OPENSSL3_LIBCRYPTO = ("libcrypto.so.3", "libcrypto.3.dylib", "libcrypto-3-x64.dll",
                       "libcrypto-3.dll")

_legacy_loaded = False


def _load_openssl_legacy() -> None:
    """Load OpenSSL 3's "default" and "legacy" providers into the process's
    default library context (see :attr:`csp11.token.quirks.Quirks.openssl_legacy_des`).

    Harmless where OpenSSL is 1.1 (no providers: DES is built in) or absent.
    """
    global _legacy_loaded  # noqa: PLW0603 - once per process, by design
    if _legacy_loaded:
        return
    _legacy_loaded = True
    libcrypto = None
    for name in _OPENSSL3_LIBCRYPTO:
        try:
            libcrypto = ctypes.CDLL(name)
            break
        except OSError:
            continue
    if libcrypto is None:
        return
    load = getattr(libcrypto, "OSSL_PROVIDER_load", None)
    if load is None:
        return
    load.restype = ctypes.c_void_p
    load.argtypes = (ctypes.c_void_p, ctypes.c_char_p)
    for provider in (b"default", b"legacy"):
        if not load(None, provider):
            _log.warning("could not load OpenSSL's %s provider: single DES may fail",
                         provider.decode())
