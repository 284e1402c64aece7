"""Attribute templates, checked before python-pkcs11 packs them.

An exception raised while python-pkcs11 packs a template can crash the
process (TOKEN-FACTS, pitfall 2), so every template csp11 hands to it is
checked here first: known attributes, values of the Python type the packer
takes.
"""

from __future__ import annotations

import struct
from collections.abc import Mapping
from typing import Any

from csp11 import winerror
from csp11.errors import Fail
from csp11.token.constants import DEFAULT, Attribute

_BOOL = (Attribute.ALWAYS_AUTHENTICATE, Attribute.DECRYPT, Attribute.DERIVE, Attribute.ENCRYPT,
         Attribute.EXTRACTABLE, Attribute.MODIFIABLE, Attribute.NEVER_EXTRACTABLE,
         Attribute.PRIVATE, Attribute.SENSITIVE, Attribute.SIGN, Attribute.TOKEN,
         Attribute.UNWRAP, Attribute.VERIFY, Attribute.WRAP)
_STR = (Attribute.APPLICATION, Attribute.LABEL)
_BYTES = (Attribute.BASE, Attribute.COEFFICIENT, Attribute.EXPONENT_1, Attribute.EXPONENT_2,
          Attribute.ID, Attribute.ISSUER, Attribute.MODULUS, Attribute.PRIME, Attribute.PRIME_1,
          Attribute.PRIME_2, Attribute.PRIVATE_EXPONENT, Attribute.PUBLIC_EXPONENT,
          Attribute.SERIAL_NUMBER, Attribute.SUBJECT, Attribute.SUBPRIME, Attribute.VALUE)
_ULONG = (Attribute.CERTIFICATE_TYPE, Attribute.CLASS, Attribute.KEY_TYPE,
          Attribute.MODULUS_BITS, Attribute.VALUE_LEN)
# The Python type python-pkcs11's packer takes for each attribute csp11 uses
# (tests/test_token.py checks the table against python-pkcs11's own).
ATTRIBUTE_PY_TYPE: dict[int, type] = {
    **dict.fromkeys(_BOOL, bool), **dict.fromkeys(_STR, str), **dict.fromkeys(_BYTES, bytes),
    **dict.fromkeys(_ULONG, int),
}
_ULONG_BYTES = struct.Struct("L")  # CK_ULONG: the platform's unsigned long


def pack_value(key: int, value: object) -> bytes:
    """An attribute value as python-pkcs11's packer writes it into
    ``pValue`` (for a template :func:`check_template` passed)."""
    kind = ATTRIBUTE_PY_TYPE[key]
    if kind is bool:
        return b"\x01" if value else b"\x00"
    if kind is int:
        return _ULONG_BYTES.pack(value)
    if kind is str:
        return str(value).encode("utf-8")
    if not isinstance(value, bytes | bytearray):
        raise Fail(winerror.NTE_FAIL, f"template: 0x{key:X} needs bytes")
    return bytes(value)


# Templates already checked, by identity.  The entry holds the template
# itself, so its id cannot be reused while cached; the cache is cleared when
# it grows, as only csp11's own long-lived templates recur.
_checked: dict[int, Mapping[Any, object]] = {}
_CHECKED_MAX = 512
_SECRET_ATTRIBUTES = frozenset({
    Attribute.VALUE, Attribute.PRIVATE_EXPONENT, Attribute.PRIME_1, Attribute.PRIME_2,
    Attribute.EXPONENT_1, Attribute.EXPONENT_2, Attribute.COEFFICIENT,
})


def check_template(template: Mapping[Any, object]) -> None:
    """Refuse a template python-pkcs11 could not pack (``NTE_FAIL``, a csp11 bug).

    Every key must be an attribute python-pkcs11 knows and every value of the
    Python type its packer takes (``bool`` for booleans — not ``int``).
    Callers must not change a template after it was checked.
    """
    if _checked.get(id(template)) is template:
        return
    _check_template(template)
    if any(key in _SECRET_ATTRIBUTES for key in template):
        return  # key material is never kept, not even in a cache
    if len(_checked) >= _CHECKED_MAX:
        _checked.clear()
    _checked[id(template)] = template


def _check_template(template: Mapping[Any, object]) -> None:
    for key, value in template.items():
        expected = ATTRIBUTE_PY_TYPE.get(int(key))
        if expected is None:
            raise Fail(winerror.NTE_FAIL, f"template: attribute 0x{int(key):X} is not packable")
        if value is DEFAULT:
            continue
        if expected is int:
            ok = isinstance(value, int) and not isinstance(value, bool)
        else:
            ok = isinstance(value, expected)
        if not ok:
            raise Fail(
                winerror.NTE_FAIL,
                f"template: {Attribute(int(key)).name} needs {expected.__name__}, "
                f"got {type(value).__name__}",
            )

