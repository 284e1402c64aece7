"""The exception csp11 raises, shaped like pywin32's ``pywintypes.error``.

Every failure of the public API is an :class:`error` whose ``winerror`` is the
Windows error code a real provider would set (``csp11.winerror``), whose
``funcname`` is the CryptoAPI function that failed and whose ``strerror`` says
what went wrong in words.  When the cause was a PKCS#11 return code, its name
is in ``strerror`` and in :attr:`error.ckr`.
"""

from __future__ import annotations

__all__ = ["error"]


class error(Exception):  # pywin32 spells it `error`, so ported code keeps working
    """A failed CryptoAPI call: ``args == (winerror, funcname, strerror)``."""

    winerror: int
    funcname: str
    strerror: str
    ckr: str | None

    def __init__(self, winerror: int, funcname: str, strerror: str, *, ckr: str | None = None):
        super().__init__(winerror, funcname, strerror)
        self.winerror = winerror
        self.funcname = funcname
        self.strerror = strerror
        # The PKCS#11 return code behind the failure, e.g. "CKR_MECHANISM_INVALID".
        self.ckr = ckr

    def __str__(self) -> str:
        return f"({self.winerror}, {self.funcname!r}, {self.strerror!r})"
