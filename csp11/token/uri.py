"""RFC 7512 ``pkcs11:`` URIs: which token, which module, which PIN.

``Token=`` (or the environment variable ``CSP11_TOKEN``) names the token csp11
works on as a PKCS#11 URI (README, "Choosing the token")::

    pkcs11:token=ci;serial=abc?module-path=/usr/lib/softhsm/libsofthsm2.so&pin-value=1234

:func:`parse_uri` turns such text into a :class:`Pkcs11Uri`.  The parser is
pure Python, has no regular expression that can backtrack, and runs in time
linear in the length of the text.

Syntax (RFC 7512 §2.3)
----------------------
* The scheme ``pkcs11:`` is compared ASCII-case-insensitively, as RFC 3986
  §3.1 asks of schemes (``PKCS11:`` is accepted too).  Attribute names are
  case-sensitive.
* The path runs up to the first ``?``, the query after it.  Path attributes
  are separated by ``;``, query attributes by ``&``; each is ``name=value``,
  the value being everything after the first ``=``.  ``pkcs11:`` with nothing
  after it is valid and matches any token.
* Path attributes: ``token``, ``manufacturer``, ``serial``, ``model`` (they
  select the token: :meth:`Pkcs11Uri.token_filter`), ``library-manufacturer``,
  ``library-description``, ``library-version`` (``M`` or ``M.N``),
  ``slot-description``, ``slot-manufacturer``, ``slot-id`` (decimal, at most
  2**64 - 1), and the object attributes ``object``, ``type`` (``public``,
  ``private``, ``cert``, ``secret-key`` or ``data``) and ``id``.  csp11 picks
  tokens, not objects: the object attributes are legal, parsed and kept
  (:attr:`Pkcs11Uri.object`, :attr:`~Pkcs11Uri.object_type`,
  :attr:`~Pkcs11Uri.object_id`) but play no part in choosing the token.
* Query attributes: ``pin-value``, ``pin-source``, ``module-name``,
  ``module-path``.
* Vendor attributes: names ``x-`` followed by letters, digits, ``-`` and
  ``_``, in the path or the query; kept in :attr:`Pkcs11Uri.vendor`.
* Values are percent-decoded; the octets are UTF-8 (RFC 7512 §5), except
  ``id``, which is raw bytes.  A value may be empty (``serial=``): it is kept as
  ``""``, which RFC 7512 matches against an empty field, not as "absent".

Refused, each with :class:`csp11.pywintypes.error` (``ERROR_INVALID_PARAMETER``,
``"CryptAcquireContext"``) and a message naming the problem: a text not starting
with ``pkcs11:``; an unknown attribute name that does not start with ``x-``
(a typo such as ``tokn`` would otherwise silently widen the token choice); a
path attribute in the query or the reverse; an attribute given twice (a vendor
name counts once across path and query, so :attr:`Pkcs11Uri.vendor` loses
nothing); an attribute without ``=`` or with an empty name; a ``%`` not followed
by two hexadecimal digits; octets that are not UTF-8; a malformed ``slot-id``,
``library-version`` or ``type``; ``pin-value`` together with ``pin-source``
(RFC 7512 §2.4: such a URI "SHOULD be refused as invalid"); control characters.
Anything but a ``str`` raises :class:`TypeError`.

Deliberate deviation: RFC 7512 itself no longer requires the ``x-`` prefix for
vendor attributes (its last example uses ``vendor-aaa=value-a``).  csp11 keeps
the prefix as the mark of a vendor attribute so that misspelt standard names
fail loudly instead of being ignored; write ``x-vendor-aaa``.

Leniency
--------
What a person types or a tool wraps is accepted where nothing is ambiguous:

* Line breaks and the spaces and tabs around them are removed, and so are
  spaces and tabs at either end of the text (RFC 3986 Appendix C, which RFC
  7512 §3 applies to its own wrapped examples).  Write a value's leading or
  trailing space as ``%20``.
* Characters RFC 7512 wants percent-encoded but that cannot be mistaken for a
  delimiter are taken literally: spaces, ``\\``, ``#``, ``"``, ``/`` in the path,
  ``;`` in the query, non-ASCII letters (used as UTF-8) and so on.  This keeps
  Windows module paths such as ``C:\\Program Files\\OpenSC\\opensc-pkcs11.dll``
  and labels such as ``Jürgen's token`` usable unencoded.  The delimiters still
  delimit: a ``?``, ``;`` (path), ``&`` (query) or ``%`` inside a value must be
  written ``%3F``, ``%3B``, ``%26``, ``%25``.
* Empty attributes (``;;``, a trailing ``&``) are skipped.
* Control characters (U+0000-U+001F, U+007F-U+009F) are refused, not taken
  literally: they are never meant and would end up in logs.

The PIN
-------
``pin-value`` is a secret (README, "PINs").  It is left out of ``repr``;
``str`` and :meth:`Pkcs11Uri.redacted` show ``pin-value=***``; no error message
contains it, or a part of it: values are never quoted from the query, attribute
names following ``pin-value`` in the query are not quoted either (an unencoded
``&`` in a PIN would make its tail look like another attribute), and every error
is raised outside any ``except`` block, so neither ``__cause__`` nor
``__context__`` carries a decoding exception that holds the octets.  A value
other than the PIN's own that contains ``pin-value=`` is refused without being
shown: a delimiter was mistyped (``pkcs11:token=t&pin-value=1234``) and the PIN
would otherwise end up in a label.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, ClassVar, Final, Literal

from csp11 import winerror
from csp11.pywintypes import error
from csp11.structs import Struct

__all__ = ["Pkcs11Uri", "parse_uri"]

_FUNCNAME: Final = "CryptAcquireContext"
_SCHEME: Final = "pkcs11:"

_Kind = Literal["text", "bytes", "slot-id", "version", "type"]
_Component = Literal["path", "query"]

# name -> (Pkcs11Uri field, how the value is read).  The order is the order in
# which redacted() writes them.
_PATH_ATTRS: Final[dict[str, tuple[str, _Kind]]] = {
    "token": ("token", "text"),
    "manufacturer": ("manufacturer", "text"),
    "serial": ("serial", "text"),
    "model": ("model", "text"),
    "library-manufacturer": ("library_manufacturer", "text"),
    "library-description": ("library_description", "text"),
    "library-version": ("library_version", "version"),
    "slot-description": ("slot_description", "text"),
    "slot-manufacturer": ("slot_manufacturer", "text"),
    "slot-id": ("slot_id", "slot-id"),
    "object": ("object", "text"),
    "type": ("object_type", "type"),
    "id": ("object_id", "bytes"),
}
_QUERY_ATTRS: Final[dict[str, tuple[str, _Kind]]] = {
    "pin-source": ("pin_source", "text"),
    "pin-value": ("pin_value", "text"),
    "module-name": ("module_name", "text"),
    "module-path": ("module_path", "text"),
}
_STANDARD_NAMES: Final = frozenset(_PATH_ATTRS) | frozenset(_QUERY_ATTRS)
_OBJECT_TYPES: Final = ("public", "private", "cert", "secret-key", "data")
_MAX_SLOT_ID: Final = 2**64 - 1  # CK_SLOT_ID is a CK_ULONG

_DIGITS: Final = frozenset("0123456789")
_HEX: Final = frozenset("0123456789abcdefABCDEF")
_NAME_CHARS: Final = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")

# Single character classes: a search is one linear scan, nothing to backtrack.
# Pattern strings, compiled (and cached) by re on first use: compiling them
# at import cost every cold start about 0.5 ms for labels rarely checked.
_SURROGATE: Final = r"[\ud800-\udfff]"
_CONTROL: Final = r"[\x00-\x1f\x7f-\x9f]"

# What redacted() leaves unencoded: RFC 3986 unreserved plus RFC 7512's
# pk11-path-res-avail / pk11-query-res-avail, less "=": written %3D, a value
# such as "a&pin-value=b" cannot look like a mistyped delimiter when read back.
_UNRESERVED: Final = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~"
_RES_AVAIL: Final = ":[]@!$'()*+,"
_PATH_SAFE: Final = frozenset((_UNRESERVED + _RES_AVAIL + "&").encode("ascii"))
_QUERY_SAFE: Final = frozenset((_UNRESERVED + _RES_AVAIL + "/?|").encode("ascii"))
_NOTHING_SAFE: Final[frozenset[int]] = frozenset()


class Pkcs11Uri(Struct, kw_only=True):
    """A parsed RFC 7512 PKCS#11 URI; ``None`` marks an attribute not given.

    Path attributes (select the token, the slot, the library or an object):
    ``token`` (the token label, ``CK_TOKEN_INFO.label``), ``manufacturer``,
    ``serial``, ``model``, ``library_manufacturer``, ``library_description``,
    ``library_version`` (text ``"M"`` or ``"M.N"``), ``slot_description``,
    ``slot_manufacturer``, ``slot_id``, and the object attributes ``object``
    (``CKA_LABEL``), ``object_type`` (the ``type`` attribute) and ``object_id``
    (``CKA_ID`` bytes), which csp11 does not use to choose a token.

    Query attributes: ``module_path``, ``module_name``, ``pin_value`` (a
    secret: not in ``repr``, ``***`` in ``str``) and ``pin_source`` (e.g.
    ``"file:/path"`` or ``"/path"``; reading it is the caller's business).
    :func:`parse_uri` refuses a URI with both ``pin-value`` and
    ``pin-source``; should a directly built instance carry both, ``pin_value``
    wins.  ``module_path`` and ``module_name`` may both be set (RFC 7512 leaves
    the meaning to the implementation); they are kept as given.

    Vendor (``x-``) attributes are kept in order, per component, in
    ``vendor_path`` and ``vendor_query`` (tuples of ``(name, value)`` pairs, so
    the instance stays hashable), and together in the read-only mapping
    :attr:`vendor`.
    """

    token: str | None = None
    manufacturer: str | None = None
    serial: str | None = None
    model: str | None = None
    library_manufacturer: str | None = None
    library_description: str | None = None
    library_version: str | None = None
    slot_description: str | None = None
    slot_manufacturer: str | None = None
    slot_id: int | None = None
    module_path: str | None = None
    module_name: str | None = None
    pin_value: str | None = None
    pin_source: str | None = None
    object: str | None = None
    object_type: str | None = None
    object_id: bytes | None = None
    vendor_path: tuple[tuple[str, str], ...] = ()
    vendor_query: tuple[tuple[str, str], ...] = ()

    SECRET_MEMBERS: ClassVar[tuple[str, ...]] = ("pin_value",)  # never in repr()

    @property
    def vendor(self) -> Mapping[str, str]:
        """Every ``x-`` attribute, path then query, as a read-only name -> value map.

        Names are unique across both components (:func:`parse_uri` refuses a
        repeat), so the map holds everything; ``vendor_path`` and
        ``vendor_query`` keep the component and the order.
        """
        return MappingProxyType(dict(self.vendor_path + self.vendor_query))

    def token_filter(self) -> dict[str, str]:
        """The token-selecting attributes that are set, for the caller to match.

        Keys are ``"label"`` (from ``token``), ``"serial"``, ``"manufacturer"``
        and ``"model"``, present only when the URI gives them.  An empty string
        is a real filter (RFC 7512: it matches an empty field), not "any".
        Compare against the ``CK_TOKEN_INFO`` fields with their blank padding
        removed.
        """
        pairs = (
            ("label", self.token),
            ("serial", self.serial),
            ("manufacturer", self.manufacturer),
            ("model", self.model),
        )
        return {key: value for key, value in pairs if value is not None}

    def redacted(self) -> str:
        """The URI as text, with ``pin-value=***`` in place of the PIN.

        Safe for logs and error messages.  Attributes come in a fixed order,
        standard ones first, and values are percent-encoded as RFC 7512 §2.3
        allows (``id`` entirely), so :func:`parse_uri` reads the text back to an
        equal instance, but for the PIN.
        """
        path: list[str] = []
        for name, (attr, kind) in _PATH_ATTRS.items():
            value = getattr(self, attr)
            if value is None:
                continue
            if kind == "slot-id":
                path.append(f"{name}={value}")
            else:
                safe = _NOTHING_SAFE if kind == "bytes" else _PATH_SAFE
                path.append(f"{name}={_encode(value, safe)}")
        path.extend(f"{name}={_encode(value, _PATH_SAFE)}" for name, value in self.vendor_path)
        query: list[str] = []
        for name, (attr, _kind) in _QUERY_ATTRS.items():
            value = getattr(self, attr)
            if value is None:
                continue
            shown = "***" if name == "pin-value" else _encode(value, _QUERY_SAFE)
            query.append(f"{name}={shown}")
        query.extend(f"{name}={_encode(value, _QUERY_SAFE)}" for name, value in self.vendor_query)
        text = _SCHEME + ";".join(path)
        if query:
            text += "?" + "&".join(query)
        return text

    def __str__(self) -> str:
        """Same as :meth:`redacted`: the PIN never shows."""
        return self.redacted()


def parse_uri(text: str) -> Pkcs11Uri:
    """Parse an RFC 7512 ``pkcs11:`` URI; see the module documentation for the rules.

    Raises :class:`csp11.pywintypes.error` with ``winerror ==
    ERROR_INVALID_PARAMETER`` and ``funcname == "CryptAcquireContext"`` for any
    malformed text; the message names the problem and never holds the PIN.
    Raises :class:`TypeError` when *text* is not a ``str``.
    """
    if not isinstance(text, str):
        raise TypeError(f"a PKCS#11 URI must be a str, not {type(text).__name__}")
    if re.search(_SURROGATE, text) is not None:
        raise _invalid("the text is not valid Unicode (it holds a lone surrogate)")
    text = _unwrap(text)
    control = re.search(_CONTROL, text)
    if control is not None:
        raise _invalid(
            f"control character U+{ord(control.group()):04X} in the text; "
            "percent-encode it if it is meant"
        )
    scheme = text[: len(_SCHEME)]
    if not (scheme.isascii() and scheme.lower() == _SCHEME):
        raise _invalid('the text must start with "pkcs11:", e.g. "pkcs11:token=<label>"')
    path, _, query = text[len(_SCHEME) :].partition("?")

    fields: dict[str, Any] = {}
    seen: set[str] = set()
    vendor_path = _parse_component(path, "path", fields, seen)
    vendor_query = _parse_component(query, "query", fields, seen)
    if "pin_value" in fields and "pin_source" in fields:
        raise _invalid(
            'both "pin-value" and "pin-source" are given; RFC 7512 says such a URI '
            "SHOULD be refused: give one of them"
        )
    return Pkcs11Uri(**fields, vendor_path=vendor_path, vendor_query=vendor_query)


def _parse_component(
    text: str, component: _Component, fields: dict[str, Any], seen: set[str]
) -> tuple[tuple[str, str], ...]:
    """Read the path or the query into *fields*; return its vendor attributes."""
    own, other = (_PATH_ATTRS, _QUERY_ATTRS) if component == "path" else (_QUERY_ATTRS, _PATH_ATTRS)
    separator = ";" if component == "path" else "&"
    vendor: list[tuple[str, str]] = []
    # Once the PIN has been read, later query text may be the tail of a PIN
    # whose "&" was not encoded: from then on no name is quoted.
    after_pin = False
    for index, segment in enumerate(text.split(separator), 1):
        if not segment:
            continue  # ";;" or a trailing "&": nothing is ambiguous, skip it
        name, equals, raw = segment.partition("=")
        if not equals:
            raise _invalid(_no_equals_message(segment, component, index, separator))
        if not name:
            raise _invalid(f'{component} attribute #{index} has an empty name ("=" comes first)')
        described = _describe(name, component, index, after_pin)
        spec = own.get(name)
        if spec is None:
            if name in other:
                where = 'after "?"' if component == "path" else 'before "?"'
                raise _invalid(
                    f'"{name}" is a {"query" if component == "path" else "path"} attribute; '
                    f"it belongs {where}"
                )
            _check_vendor_name(name, component, index, after_pin)
        if name in seen:
            raise _invalid(f"attribute {described} is given twice")
        seen.add(name)
        if name != "pin-value":
            _check_misplaced_delimiters(raw, described, component)
        kind: _Kind = "text" if spec is None else spec[1]
        value = _decode(raw, kind, name, described)
        if spec is None:
            assert isinstance(value, str)
            vendor.append((name, value))
        else:
            fields[spec[0]] = value
        if name == "pin-value":
            after_pin = True
    return tuple(vendor)


def _check_vendor_name(name: str, component: _Component, index: int, after_pin: bool) -> None:
    """Refuse a name that is neither standard nor a well-formed ``x-`` name."""
    if name.startswith("x-"):
        if len(name) > 2 and all(char in _NAME_CHARS for char in name):
            return
        raise _invalid(
            f"bad vendor attribute name {_describe(name, component, index, after_pin)}: "
            'after "x-" come letters, digits, "-" and "_" only'
        )
    message = f"unknown {component} attribute {_describe(name, component, index, after_pin)}"
    if not (component == "query" and after_pin):
        message += _suggestion(name)
    raise _invalid(message + '; vendor-specific attribute names start with "x-"')


def _suggestion(name: str) -> str:
    """A "did you mean" for a mistyped standard name, or ``""``."""
    if len(name) > 64:
        return ""  # keep difflib's quadratic matching away from long junk
    if name.lower() in _STANDARD_NAMES:
        return f' (names are case-sensitive: "{name.lower()}")'
    if name.lower().startswith("x-"):
        return ' (the vendor prefix is lowercase "x-")'
    # Imported only for this hint: cold start (difflib and heapq, about 1 ms of
    # every process for a message about a mistyped URI).
    import difflib  # noqa: PLC0415

    close = difflib.get_close_matches(name, sorted(_STANDARD_NAMES), n=1, cutoff=0.75)
    return f' (did you mean "{close[0]}"?)' if close else ""


def _check_misplaced_delimiters(raw: str, described: str, component: _Component) -> None:
    """Refuse a value that swallowed other attributes through a mistyped delimiter."""
    if "pin-value=" in raw:
        raise _invalid(
            f'the value of {described} contains "pin-value=": a delimiter is missing or '
            'wrong (the query starts at "?", its attributes are separated by "&"); '
            "the value is not shown as it may hold the PIN"
        )
    if component == "path":
        for name in _QUERY_ATTRS:
            if f"&{name}=" in raw:
                raise _invalid(
                    f'the value of {described} contains "&{name}=": query attributes '
                    'follow a "?", e.g. "pkcs11:token=t?module-path=/lib/x.so"'
                )


def _decode(raw: str, kind: _Kind, name: str, described: str) -> str | bytes | int:
    """Percent-decode *raw* and read it as *kind*; no value is ever quoted from the query."""
    offset = _bad_escape(raw)
    if offset is not None:
        raise _invalid(
            f"bad percent-encoding in the value of {described} at offset {offset}: "
            '"%" must be followed by two hexadecimal digits (a literal "%" is %25)'
        )
    # urllib.parse (with ipaddress): only a URI's values need it (cold start).
    from urllib.parse import unquote_to_bytes  # noqa: PLC0415

    octets = unquote_to_bytes(raw)
    if kind == "bytes":
        return octets
    value = _utf8(octets)
    if value is None:
        raise _invalid(f"the value of {described} is not UTF-8 once percent-decoded")
    if kind == "slot-id":
        if not _all_digits(value):
            raise _invalid(f'"{name}" must be a decimal number, not {_quote(value)}')
        digits = value.lstrip("0") or "0"
        # Checked by length first: int() of a huge string is slow or refused.
        if len(digits) > 20 or int(digits) > _MAX_SLOT_ID:
            raise _invalid(f'"{name}" is too large for a CK_SLOT_ID: {_quote(value)}')
        return int(digits)
    if kind == "version":
        major, dot, minor = value.partition(".")
        if not _all_digits(major) or (dot and not _all_digits(minor)):
            raise _invalid(f'"{name}" must be "M" or "M.N" in decimal, not {_quote(value)}')
    elif kind == "type" and value not in _OBJECT_TYPES:
        raise _invalid(f'"{name}" must be one of {", ".join(_OBJECT_TYPES)}, not {_quote(value)}')
    return value


def _bad_escape(raw: str) -> int | None:
    """Offset of the first ``%`` not followed by two hex digits, or ``None``."""
    position = raw.find("%")
    while position != -1:
        if (
            position + 2 >= len(raw)
            or raw[position + 1] not in _HEX
            or raw[position + 2] not in _HEX
        ):
            return position
        position = raw.find("%", position + 3)
    return None


def _utf8(octets: bytes) -> str | None:
    """*octets* as UTF-8, or ``None``.

    Returning instead of raising keeps the UnicodeDecodeError, which holds the
    octets (maybe the PIN), out of the ``__context__`` of the error raised.
    """
    try:
        return octets.decode("utf-8")
    except UnicodeDecodeError:
        return None


def _all_digits(text: str) -> bool:
    return bool(text) and all(char in _DIGITS for char in text)


def _unwrap(text: str) -> str:
    """Drop line breaks with the blanks around them, and blanks at both ends."""
    if "\n" not in text and "\r" not in text:
        return text.strip(" \t")
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    return "".join(line.strip(" \t") for line in lines)


def _no_equals_message(segment: str, component: _Component, index: int, separator: str) -> str:
    """Message for an attribute without ``=``; only a standard name is quoted."""
    if segment in _STANDARD_NAMES:
        return f'attribute "{segment}" has no "=" and value'
    encoded = "%3B" if separator == ";" else "%26"
    return (
        f'{component} attribute #{index} has no "=" (attributes are name=value; '
        f'an unencoded "{separator}" inside a value? write it as {encoded})'
    )


def _describe(name: str, component: _Component, index: int, after_pin: bool) -> str:
    """How an error message names an attribute without risking the PIN."""
    if name in _STANDARD_NAMES:
        return f'"{name}"'
    if component == "query" and after_pin:
        return (
            f"#{index} (name not shown: it follows pin-value and may be the tail of a "
            'PIN with an unencoded "&", which must be written %26)'
        )
    return _quote(name)


def _quote(text: str) -> str:
    """*text* in double quotes, shortened and escaped; only ever used for non-secret text."""
    if len(text) > 40:
        text = text[:40] + "..."
    if not text.isprintable():  # a decoded %00 or %0A must not break a log line
        text = text.encode("unicode_escape").decode("ascii")
    return f'"{text}"'


def _encode(value: str | bytes, safe: frozenset[int]) -> str:
    """Percent-encode every octet of *value* (UTF-8 for text) not in *safe*."""
    # surrogatepass: str() of a hand-built instance must not fail on odd text.
    octets = value.encode("utf-8", "surrogatepass") if isinstance(value, str) else value
    return "".join(chr(octet) if octet in safe else f"%{octet:02X}" for octet in octets)


def _invalid(message: str) -> error:
    """The error every malformed URI raises (callers raise it outside ``except``)."""
    return error(winerror.ERROR_INVALID_PARAMETER, _FUNCNAME, f"PKCS#11 URI: {message}")
