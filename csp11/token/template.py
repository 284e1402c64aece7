"""Attribute templates, checked before python-pkcs11 packs them.

An exception raised while python-pkcs11 packs a template can crash the
process (TOKEN-FACTS, pitfall 2), so every template csp11 hands to it is
checked here first: known attributes, values of the Python type the packer
takes.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

import pkcs11
import pkcs11.attributes

from csp11 import winerror
from csp11.errors import Fail
from csp11.token.constants import Attribute

_HANDLER_TYPES: tuple[tuple[object, type], ...] = (
    (pkcs11.attributes.handle_bool, bool),
    (pkcs11.attributes.handle_ulong, int),
    (pkcs11.attributes.handle_str, str),
    (pkcs11.attributes.handle_bytes, bytes),
    (pkcs11.attributes.handle_date, date),
)
_ATTRIBUTE_PY_TYPE: dict[int, type] = {}
for _attr, _handler in pkcs11.attributes.ATTRIBUTE_TYPES.items():
    # Handlers not in _HANDLER_TYPES are python-pkcs11's IntEnum packers.
    _ATTRIBUTE_PY_TYPE[int(_attr)] = next(
        (py for handler, py in _HANDLER_TYPES if handler is _handler), int
    )


# Templates already checked, by identity.  The entry holds the template
# itself, so its id cannot be reused while cached; the cache is cleared when
# it grows, as only csp11's own long-lived templates recur.
_checked: dict[int, Mapping[Any, object]] = {}
_CHECKED_MAX = 512
_SECRET_ATTRIBUTES = frozenset({
    pkcs11.Attribute.VALUE, pkcs11.Attribute.PRIVATE_EXPONENT, pkcs11.Attribute.PRIME_1,
    pkcs11.Attribute.PRIME_2, pkcs11.Attribute.EXPONENT_1, pkcs11.Attribute.EXPONENT_2,
    pkcs11.Attribute.COEFFICIENT,
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
        expected = _ATTRIBUTE_PY_TYPE.get(int(key))
        if expected is None:
            raise Fail(winerror.NTE_FAIL, f"template: attribute 0x{int(key):X} is not packable")
        if value is pkcs11.DEFAULT:
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

