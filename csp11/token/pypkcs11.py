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
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pkcs11
    import pkcs11._pkcs11
    import pkcs11.attributes
    import pkcs11.exceptions

__all__ = [
    "as_key_type", "as_mechanism", "as_object_class", "mechanism_name", "pkcs11",
]

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


# python-pkcs11 checks that a mechanism, key type or object class handed to
# it is an instance of its own enumeration (ArgumentsBad otherwise), so
# csp11's members (csp11.token.constants: the same numbers) are converted
# where they are handed over.
def as_mechanism(value: Any) -> Any:
    """python-pkcs11's ``Mechanism`` member for a mechanism number (None stays None)."""
    return None if value is None else pkcs11.Mechanism(int(value))


def as_key_type(value: Any) -> Any:
    """python-pkcs11's ``KeyType`` member for a key type number."""
    return pkcs11.KeyType(int(value))


def as_object_class(value: Any) -> Any:
    """python-pkcs11's ``ObjectClass`` member for an object class number."""
    return pkcs11.ObjectClass(int(value))


def mechanism_name(number: int) -> str:
    """The name python-pkcs11 gives a mechanism number (``AES_KEY_GEN``;
    without python-pkcs11's mark of a deprecated one), else the number in hex.
    python-pkcs11 knows far more mechanisms than csp11's own enumeration."""
    try:
        return str(pkcs11.Mechanism(number).name).lstrip("_")
    except ValueError:
        return f"0x{number:08X}"

