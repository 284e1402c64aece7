"""OpenSSL 3's legacy provider, for tokens that run single DES through the
process's OpenSSL (the quirk :attr:`csp11.token.quirks.Quirks.openssl_legacy_des`).

Loading it acts on the whole process, once.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging

_log = logging.getLogger("csp11")

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
    name = ctypes.util.find_library("crypto")
    if name is None:
        return
    try:
        libcrypto = ctypes.CDLL(name)
    except OSError:
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
