"""csp11: the Windows CryptoAPI provider model for Python, with keys on a PKCS#11 token.

The public surface mirrors pywin32's (README.md, docs/mapping.md)::

    from csp11 import win32crypt, win32cryptcon, winerror, pywintypes

plus :func:`set_pin_prompt` and :class:`PinRequest` for PIN entry.
"""

from __future__ import annotations

from csp11 import pywintypes, win32crypt, win32cryptcon, winerror
from csp11.token import PinRequest, set_pin_prompt

__all__ = [
    "PinRequest",
    "__version__",
    "pywintypes",
    "set_pin_prompt",
    "win32crypt",
    "win32cryptcon",
    "winerror",
]

__version__ = "0.1.0"
