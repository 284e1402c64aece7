"""python-pkcs11, imported on first use.

``import pkcs11`` costs about 45 ms here (its package imports asn1crypto and
every enumeration it has), which is most of a cold start (issue #16: process
start to the first key in 60 ms).  csp11's first key needs none of it: the
module is loaded, its tokens found, sessions opened and keys made through
csp11's own ctypes binding (:mod:`csp11.token.cryptoki`,
:mod:`csp11.token.fastpath`).  python-pkcs11 serves the rest (object search,
attribute reads, key pairs, the rarely used calls) and is imported by the
first of them.

The token layer's modules write ``pkcs11.exceptions.PKCS11Error`` and the like
as before; ``pkcs11`` here stands for the package and imports it (and the
submodule asked for) when an attribute is first read.  An ``except`` clause
reads it only when an exception is being matched, so the import happens on
the first failure, never on a hot path that succeeds.
"""

from __future__ import annotations

import importlib
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pkcs11
    import pkcs11._pkcs11
    import pkcs11.attributes
    import pkcs11.exceptions

__all__ = ["imported", "pkcs11"]

# The submodules csp11 reads through ``pkcs11.<name>``; the package itself
# imports exceptions and the enumerations, not these two.
_SUBMODULES = frozenset({"_pkcs11", "attributes", "exceptions"})


class _OnFirstUse:
    """``pkcs11``: the package, imported when an attribute is first read."""

    def __getattr__(self, name: str) -> Any:
        package = importlib.import_module("pkcs11")
        value = (importlib.import_module(f"pkcs11.{name}") if name in _SUBMODULES
                 else getattr(package, name))
        setattr(self, name, value)  # later reads are plain attribute reads
        return value


if not TYPE_CHECKING:
    pkcs11 = _OnFirstUse()


def imported() -> bool:
    """Whether python-pkcs11 is in the process already (then using it costs nothing more)."""
    return "pkcs11._pkcs11" in sys.modules
