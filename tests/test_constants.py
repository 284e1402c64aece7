"""csp11.win32cryptcon and csp11.winerror against pywin32's names and values.

The reference is the stub files of the PyPI package ``types-pywin32``
(``win32-stubs/lib/win32cryptcon.pyi`` and ``winerror.pyi``), read with
:mod:`ast`: pywin32 itself is Windows-only and never imported.  The stubs give
most constants as ``NAME: Final = <literal>``; a few are expressions of earlier
names, and long strings are declared ``NAME: Final[str]`` without a value
("unknown value").  Those are checked against ``wincrypt.h`` literals below.
"""

from __future__ import annotations

import ast
import importlib.metadata
import operator
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from csp11 import win32cryptcon, winerror

Value = int | float | str


# --------------------------------------------------------------------------
# Reading the stubs
# --------------------------------------------------------------------------


class _UnknownValue(Exception):
    """The stub gives no value that can be computed for this expression."""


_BINARY_OPERATORS: dict[type[ast.operator], Callable[[Any, Any], Any]] = {
    ast.BitOr: operator.or_,
    ast.BitAnd: operator.and_,
    ast.BitXor: operator.xor,
    ast.LShift: operator.lshift,
    ast.RShift: operator.rshift,
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
}

_UNARY_OPERATORS: dict[type[ast.unaryop], Callable[[Any], Any]] = {
    ast.USub: operator.neg,
    ast.UAdd: operator.pos,
    ast.Invert: operator.invert,
}


def _evaluate(node: ast.expr, known: Mapping[str, Value | None]) -> Value:
    """Evaluate a constant expression of literals and earlier names."""
    if isinstance(node, ast.Constant):
        if isinstance(node.value, bool) or not isinstance(node.value, int | float | str):
            raise _UnknownValue(ast.dump(node))
        return node.value
    if isinstance(node, ast.Name):
        value = known.get(node.id)
        if value is None:
            raise _UnknownValue(node.id)
        return value
    if isinstance(node, ast.UnaryOp) and type(node.op) in _UNARY_OPERATORS:
        operand = _evaluate(node.operand, known)
        if isinstance(operand, str):
            raise _UnknownValue(ast.dump(node))
        result: Value = _UNARY_OPERATORS[type(node.op)](operand)
        return result
    if isinstance(node, ast.BinOp) and type(node.op) in _BINARY_OPERATORS:
        left = _evaluate(node.left, known)
        right = _evaluate(node.right, known)
        try:
            result = _BINARY_OPERATORS[type(node.op)](left, right)
        except TypeError as exc:
            raise _UnknownValue(ast.dump(node)) from exc
        return result
    raise _UnknownValue(ast.dump(node))


@dataclass(frozen=True)
class Stub:
    """What a stub file declares."""

    values: dict[str, Value | None]  # None: declared, value unknown
    str_declared: frozenset[str]  # declared ``Final[str]`` with no value
    functions: frozenset[str]

    def known(self) -> dict[str, Value]:
        return {name: value for name, value in self.values.items() if value is not None}


def parse_stub(source: str) -> Stub:
    values: dict[str, Value | None] = {}
    str_declared: set[str] = set()
    functions: set[str] = set()
    for node in ast.parse(source).body:
        if isinstance(node, ast.FunctionDef):
            functions.add(node.name)
            continue
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            name, expr = node.target.id, node.value
            if expr is None and "str" in ast.unparse(node.annotation):
                str_declared.add(name)
        elif (
            isinstance(node, ast.Assign)
            and len(node.targets) == 1
            and isinstance(node.targets[0], ast.Name)
        ):
            name, expr = node.targets[0].id, node.value
        else:
            continue
        if expr is None:
            values[name] = None
            continue
        try:
            values[name] = _evaluate(expr, values)
        except _UnknownValue:
            values[name] = None
    return Stub(values, frozenset(str_declared), frozenset(functions))


def _stub_source(module: str) -> str:
    try:
        dist = importlib.metadata.distribution("types-pywin32")
    except importlib.metadata.PackageNotFoundError:
        pytest.skip("types-pywin32 is not installed (it is in csp11's [test] extra)")
    wanted = f"win32-stubs/lib/{module}.pyi"
    for file in dist.files or ():
        if file.as_posix().endswith(wanted):
            return Path(str(dist.locate_file(file))).read_text(encoding="utf-8")
    pytest.fail(f"types-pywin32 {dist.version} has no {wanted}")


@pytest.fixture(scope="module")
def cryptcon_stub() -> Stub:
    return parse_stub(_stub_source("win32cryptcon"))


@pytest.fixture(scope="module")
def winerror_stub() -> Stub:
    return parse_stub(_stub_source("winerror"))


def _constants(module: ModuleType) -> dict[str, Value]:
    """The public constants a module defines (ints, floats and strings)."""
    return {
        name: value
        for name, value in vars(module).items()
        if not name.startswith("_") and type(value) in (int, float, str)
    }


def _mismatches(module: ModuleType, stub: Stub) -> dict[str, tuple[Value, Value]]:
    """Constants whose value (or type: 64 is not 64.0) differs from the stub's."""
    reference = stub.known()
    found: dict[str, tuple[Value, Value]] = {}
    for name, value in _constants(module).items():
        if name not in reference:
            continue
        expected = reference[name]
        if type(value) is not type(expected) or value != expected:
            found[name] = (value, expected)
    return found


# --------------------------------------------------------------------------
# The reader itself
# --------------------------------------------------------------------------


def test_stub_parser_evaluates_constant_expressions() -> None:
    stub = parse_stub(
        "from typing import Final\n"
        "def F(x: int) -> int: ...\n"
        "A: Final = 0x10\n"
        "B: Final = -2146893816\n"
        "C: Final = (A | 0x1) << 4\n"
        "D: Final = C + A - 1\n"
        "E: Final[str]\n"
        "G: Final = E\n"
        'H: Final = "x" + r"\\y"\n'
        "I = ~0\n"
        "J: Final = UNDEFINED | 1\n"
        "K: Final = 512 / 8\n"
        'L: Final = "a" | 1\n'
    )
    assert stub.values == {
        "A": 16,
        "B": -2146893816,
        "C": 0x110,
        "D": 0x110 + 16 - 1,
        "E": None,
        "G": None,
        "H": "x\\y",
        "I": -1,
        "J": None,
        "K": 64.0,
        "L": None,
    }
    assert stub.str_declared == {"E"}
    assert stub.functions == {"F"}


def test_stubs_are_the_real_reference(cryptcon_stub: Stub, winerror_stub: Stub) -> None:
    # Values read from the installed stub files, not from csp11.
    assert cryptcon_stub.values["CALG_AES_256"] == 0x6610
    assert cryptcon_stub.values["MS_DEF_PROV"] == "Microsoft Base Cryptographic Provider v1.0"
    assert {"GET_ALG_CLASS", "GET_ALG_TYPE", "GET_ALG_SID"} <= cryptcon_stub.functions
    assert len(cryptcon_stub.values) > 1000
    assert winerror_stub.values["NTE_BAD_ALGID"] == -2146893816
    assert winerror_stub.values["SCARD_S_SUCCESS"] == 0  # = NO_ERROR, a name reference


# --------------------------------------------------------------------------
# win32cryptcon
# --------------------------------------------------------------------------


def test_cryptcon_values_equal_pywin32(cryptcon_stub: Stub) -> None:
    assert _mismatches(win32cryptcon, cryptcon_stub) == {}


def test_cryptcon_defines_every_pywin32_name(cryptcon_stub: Stub) -> None:
    missing = {name for name in cryptcon_stub.values if not hasattr(win32cryptcon, name)}
    assert missing == set()
    for function in cryptcon_stub.functions:
        assert callable(getattr(win32cryptcon, function, None)), function


def test_cryptcon_extra_names_are_declared(cryptcon_stub: Stub) -> None:
    extra = set(_constants(win32cryptcon)) - set(cryptcon_stub.values)
    # Every name pywin32 lacks is listed, and every listed name is one pywin32 lacks.
    assert extra == set(win32cryptcon._NOT_IN_PYWIN32)
    for name, source in win32cryptcon._NOT_IN_PYWIN32.items():
        assert "wincrypt.h" in source, name


def test_cryptcon_fills_values_the_stub_leaves_open(cryptcon_stub: Stub) -> None:
    assert cryptcon_stub.str_declared  # else this test checks nothing
    for name in cryptcon_stub.str_declared:
        value = getattr(win32cryptcon, name)
        assert isinstance(value, str), name
        assert value, name


_AES_PROTOTYPE = "Microsoft Enhanced RSA and AES Cryptographic Provider (Prototype)"

# Values from Microsoft's wincrypt.h, typed in independently of both the stub
# and csp11.  Every name in _NOT_IN_PYWIN32 must be here.
WINCRYPT_H: dict[str, Value] = {
    "CALG_AES_256": 0x6610,
    "CALG_AES": 0x6611,
    "CALG_RSA_KEYX": 0xA400,
    "CALG_SHA_256": 0x800C,
    "PROV_RSA_AES": 24,
    "PROV_RSA_FULL": 1,
    "PROV_DSS_DH": 13,
    "CRYPT_EXPORTABLE": 0x1,
    "CRYPT_ARCHIVABLE": 0x4000,
    "CRYPT_FORCE_KEY_PROTECTION_HIGH": 0x8000,
    "CRYPT_DEFAULT_CONTAINER_OPTIONAL": 0x80,
    "CRYPT_USER_PROTECTED_STRONG": 0x00100000,
    "RSA1024BIT_KEY": 0x04000000,
    "KEYSTATEBLOB": 0xC,
    "PLAINTEXTKEYBLOB": 0x8,
    "KP_PIN_ID": 43,
    "KP_PIN_INFO": 44,
    "KP_PERMISSIONS": 6,
    "PP_USER_CERTSTORE": 42,
    "PP_SMARTCARD_READER": 43,
    "PP_SMARTCARD_GUID": 45,
    "PP_ROOT_CERTSTORE": 46,
    "PP_SMARTCARD_READER_ICON": 47,
    "PP_PIN_PROMPT_STRING": 44,
    "PP_SECURE_KEYEXCHANGE_PIN": 47,
    "PP_SECURE_SIGNATURE_PIN": 48,
    "PP_ENUMALGS_EX": 22,
    "CRYPT_FIRST": 1,
    "CRYPT_NEXT": 2,
    "MS_DEF_PROV": "Microsoft Base Cryptographic Provider v1.0",
    "MS_ENHANCED_PROV": "Microsoft Enhanced Cryptographic Provider v1.0",
    "MS_STRONG_PROV": "Microsoft Strong Cryptographic Provider",
    "MS_DEF_RSA_SIG_PROV": "Microsoft RSA Signature Cryptographic Provider",
    "MS_DEF_RSA_SCHANNEL_PROV": "Microsoft RSA SChannel Cryptographic Provider",
    "MS_DEF_DSS_PROV": "Microsoft Base DSS Cryptographic Provider",
    "MS_DEF_DSS_DH_PROV": "Microsoft Base DSS and Diffie-Hellman Cryptographic Provider",
    "MS_ENH_DSS_DH_PROV": "Microsoft Enhanced DSS and Diffie-Hellman Cryptographic Provider",
    "MS_DEF_DH_SCHANNEL_PROV": "Microsoft DH SChannel Cryptographic Provider",
    "MS_SCARD_PROV": "Microsoft Base Smart Card Crypto Provider",
    "MS_ENH_RSA_AES_PROV": "Microsoft Enhanced RSA and AES Cryptographic Provider",
    "MS_ENH_RSA_AES_PROV_XP": _AES_PROTOTYPE,
    "MS_ENH_RSA_AES_PROV_XP_A": _AES_PROTOTYPE,
}


@pytest.mark.parametrize(("name", "expected"), sorted(WINCRYPT_H.items()))
def test_cryptcon_literal_values(name: str, expected: Value) -> None:
    assert getattr(win32cryptcon, name) == expected


def test_every_extra_name_has_a_literal_check() -> None:
    assert set(win32cryptcon._NOT_IN_PYWIN32) <= set(WINCRYPT_H)


def test_provider_names_are_the_ansi_strings() -> None:
    for name, value in _constants(win32cryptcon).items():
        if re.fullmatch(r"MS_\w+_PROV(_XP)?", name):
            assert value == getattr(win32cryptcon, name + "_A"), name


def test_signed_flags_as_pywin32() -> None:
    assert win32cryptcon.CRYPT_VERIFYCONTEXT == -268435456
    assert win32cryptcon.CRYPT_VERIFYCONTEXT & 0xFFFFFFFF == 0xF0000000
    assert 0xF0000000 & win32cryptcon.CRYPT_VERIFYCONTEXT == 0xF0000000
    assert win32cryptcon.KEY_LENGTH_MASK & 0xFFFFFFFF == 0xFFFF0000


CRYPTGENKEY_PAGE = [
    "AT_KEYEXCHANGE",
    "AT_SIGNATURE",
    "CALG_DH_EPHEM",
    "CALG_DH_SF",
    "CRYPT_ARCHIVABLE",
    "CRYPT_CREATE_IV",
    "CRYPT_CREATE_SALT",
    "CRYPT_DATA_KEY",
    "CRYPT_EXPORTABLE",
    "CRYPT_FORCE_KEY_PROTECTION_HIGH",
    "CRYPT_KEK",
    "CRYPT_INITIATOR",
    "CRYPT_NO_SALT",
    "CRYPT_ONLINE",
    "CRYPT_PREGEN",
    "CRYPT_RECIPIENT",
    "CRYPT_SF",
    "CRYPT_SGCKEY",
    "CRYPT_USER_PROTECTED",
    "CRYPT_VOLATILE",
    "RSA1024BIT_KEY",
]

BLOB_TYPES = [
    "SIMPLEBLOB",
    "PUBLICKEYBLOB",
    "PRIVATEKEYBLOB",
    "PLAINTEXTKEYBLOB",
    "OPAQUEKEYBLOB",
    "PUBLICKEYBLOBEX",
    "SYMMETRICWRAPKEYBLOB",
    "KEYSTATEBLOB",
    "CUR_BLOB_VERSION",
]

ACQUIRE_FLAGS = [
    "CRYPT_VERIFYCONTEXT",
    "CRYPT_NEWKEYSET",
    "CRYPT_DELETEKEYSET",
    "CRYPT_MACHINE_KEYSET",
    "CRYPT_SILENT",
    "CRYPT_DEFAULT_CONTAINER_OPTIONAL",
]

EXPORT_IMPORT_FLAGS = [
    "CRYPT_OAEP",
    "CRYPT_BLOB_VER3",
    "CRYPT_DESTROYKEY",
    "CRYPT_SSL2_FALLBACK",
    "CRYPT_Y_ONLY",
    "CRYPT_IPSEC_HMAC_KEY",
    "CRYPT_NO_SALT",
]

OTHER_CSP_NAMES = [
    "CRYPT_NOHASHOID",
    "CRYPT_LITTLE_ENDIAN",
    "CRYPT_FIRST",
    "CRYPT_NEXT",
    "CRYPT_MODE_CBC",
    "CRYPT_MODE_ECB",
    "CRYPT_MODE_OFB",
    "CRYPT_MODE_CFB",
    "CRYPT_MODE_CTS",
    "CRYPT_ENCRYPT",
    "CRYPT_DECRYPT",
    "CRYPT_EXPORT",
    "CRYPT_READ",
    "CRYPT_WRITE",
    "CRYPT_MAC",
    "CRYPT_EXPORT_KEY",
    "CRYPT_IMPORT_KEY",
    "CRYPT_ARCHIVE",
    "PKCS5_PADDING",
    "RANDOM_PADDING",
    "ZERO_PADDING",
    "CRYPT_IMPL_HARDWARE",
    "CRYPT_IMPL_SOFTWARE",
    "CRYPT_IMPL_MIXED",
    "CRYPT_IMPL_UNKNOWN",
    "CRYPT_IMPL_REMOVABLE",
    "CRYPT_FLAG_PCT1",
    "CRYPT_FLAG_SIGNING",
    "CRYPT_SEC_DESCR",
    "PP_KEYSET_TYPE",
]


def test_cryptcon_required_names(cryptcon_stub: Stub) -> None:
    from_stub = [
        name
        for name in cryptcon_stub.values
        if re.match(r"(CALG|KP|HP|PP|PROV|ALG_CLASS|ALG_TYPE|ALG_SID)_", name)
        or re.fullmatch(r"MS_\w+_PROV(_A)?", name)
    ]
    required = (
        CRYPTGENKEY_PAGE
        + BLOB_TYPES
        + ACQUIRE_FLAGS
        + EXPORT_IMPORT_FLAGS
        + OTHER_CSP_NAMES
        + from_stub
    )
    assert len(from_stub) > 150
    missing = [name for name in required if not hasattr(win32cryptcon, name)]
    assert missing == []


def test_alg_id_helpers() -> None:
    c = win32cryptcon
    assert c.GET_ALG_CLASS(c.CALG_AES_256) == c.ALG_CLASS_DATA_ENCRYPT
    assert c.GET_ALG_TYPE(c.CALG_AES_256) == c.ALG_TYPE_BLOCK
    assert c.GET_ALG_SID(c.CALG_AES_256) == c.ALG_SID_AES_256
    assert c.GET_ALG_CLASS(c.CALG_RSA_KEYX) == c.ALG_CLASS_KEY_EXCHANGE
    assert c.GET_ALG_TYPE(c.CALG_RC4) == c.ALG_TYPE_STREAM
    assert c.GET_ALG_CLASS(c.CALG_SHA_256) == c.ALG_CLASS_HASH
    assert c.GET_ALG_TYPE(c.CALG_DH_SF) == c.ALG_TYPE_DH
    assert c.GET_ALG_SID(c.CALG_DH_EPHEM) == c.ALG_SID_DH_EPHEM
    for name, value in _constants(c).items():
        if name.startswith("CALG_"):
            assert isinstance(value, int)
            parts = c.GET_ALG_CLASS(value) | c.GET_ALG_TYPE(value) | c.GET_ALG_SID(value)
            assert parts == value, name
    assert c.RCRYPT_SUCCEEDED(c.CRYPT_SUCCEED)
    assert not c.RCRYPT_SUCCEEDED(c.CRYPT_FAILED)
    assert c.RCRYPT_FAILED(c.CRYPT_FAILED)
    encoding = c.X509_ASN_ENCODING | c.PKCS_7_ASN_ENCODING
    assert c.GET_CERT_ENCODING_TYPE(encoding) == c.X509_ASN_ENCODING
    assert c.GET_CMSG_ENCODING_TYPE(encoding) == c.PKCS_7_ASN_ENCODING


# --------------------------------------------------------------------------
# winerror
# --------------------------------------------------------------------------


def test_winerror_values_equal_pywin32(winerror_stub: Stub) -> None:
    assert _mismatches(winerror, winerror_stub) == {}


def test_winerror_defines_only_pywin32_names(winerror_stub: Stub) -> None:
    assert set(_constants(winerror)) - set(winerror_stub.values) == set()


def test_winerror_defines_every_crypto_code(winerror_stub: Stub) -> None:
    wanted = [name for name in winerror_stub.values if re.match(r"(NTE|SCARD|CRYPT_E)_", name)]
    assert len(wanted) > 150
    missing = [name for name in wanted if not hasattr(winerror, name)]
    assert missing == []


WINERROR_REQUIRED = [
    # Named on the CryptGenKey page
    "ERROR_INVALID_HANDLE",
    "ERROR_INVALID_PARAMETER",
    "NTE_BAD_ALGID",
    "NTE_BAD_FLAGS",
    "NTE_BAD_UID",
    "NTE_FAIL",
    "NTE_SILENT_CONTEXT",
    # Used by the rest of the API
    "NTE_BAD_KEY",
    "NTE_BAD_KEY_STATE",
    "NTE_BAD_KEYSET",
    "NTE_EXISTS",
    "NTE_NO_KEY",
    "NTE_BAD_TYPE",
    "NTE_BAD_DATA",
    "NTE_BAD_LEN",
    "NTE_BAD_VER",
    "NTE_BAD_HASH",
    "NTE_BAD_HASH_STATE",
    "NTE_BAD_SIGNATURE",
    "NTE_BAD_PROV_TYPE",
    "NTE_PROV_TYPE_NO_MATCH",
    "NTE_KEYSET_NOT_DEF",
    "NTE_BAD_PUBLIC_KEY",
    "NTE_PERM",
    "NTE_NO_MEMORY",
    "NTE_PROVIDER_DLL_FAIL",
    "NTE_TOKEN_KEYSET_STORAGE_FULL",
    "NTE_DEVICE_NOT_READY",
    "SCARD_W_WRONG_CHV",
    "SCARD_W_CHV_BLOCKED",
    "SCARD_W_CANCELLED_BY_USER",
    "SCARD_W_REMOVED_CARD",
    "SCARD_E_NO_SMARTCARD",
    "SCARD_W_CARD_NOT_AUTHENTICATED",
    "SCARD_E_NO_READERS_AVAILABLE",
    "ERROR_SUCCESS",
    "ERROR_NO_MORE_ITEMS",
    "ERROR_MORE_DATA",
    "ERROR_NOT_ENOUGH_MEMORY",
    "ERROR_OUTOFMEMORY",
    "ERROR_CALL_NOT_IMPLEMENTED",
    "ERROR_BUSY",
    "ERROR_FILE_NOT_FOUND",
    "ERROR_ACCESS_DENIED",
    "ERROR_NOT_SUPPORTED",
    "ERROR_INVALID_DATA",
    "ERROR_CANCELLED",
    "ERROR_TIMEOUT",
    "E_FAIL",
    "E_INVALIDARG",
    "E_NOTIMPL",
    "E_OUTOFMEMORY",
    "S_OK",
]


def test_winerror_required_names() -> None:
    missing = [name for name in WINERROR_REQUIRED if not hasattr(winerror, name)]
    assert missing == []


# Values from winerror.h, typed in independently of both the stub and csp11.
WINERROR_H: dict[str, int] = {
    "NTE_BAD_UID": 0x80090001,
    "NTE_BAD_ALGID": 0x80090008,
    "NTE_BAD_FLAGS": 0x80090009,
    "NTE_BAD_KEYSET": 0x80090016,
    "NTE_FAIL": 0x80090020,
    "NTE_SILENT_CONTEXT": 0x80090022,
    "SCARD_W_WRONG_CHV": 0x8010006B,
    "SCARD_W_CANCELLED_BY_USER": 0x8010006E,
    "CRYPT_E_NOT_FOUND": 0x80092004,
    "E_FAIL": 0x80004005,
    "E_INVALIDARG": 0x80070057,
    "ERROR_INVALID_HANDLE": 6,
    "ERROR_INVALID_PARAMETER": 87,
    "ERROR_NO_MORE_ITEMS": 259,
    "ERROR_MORE_DATA": 234,
    "ERROR_CANCELLED": 1223,
}


@pytest.mark.parametrize(("name", "unsigned"), sorted(WINERROR_H.items()))
def test_winerror_literal_values(name: str, unsigned: int) -> None:
    signed = unsigned - (1 << 32) if unsigned & 0x80000000 else unsigned
    assert getattr(winerror, name) == signed


def test_nte_bad_algid_is_signed() -> None:
    assert winerror.NTE_BAD_ALGID == -2146893816


def test_hresults_are_signed_32_bit() -> None:
    for name, value in _constants(winerror).items():
        assert isinstance(value, int), name
        assert -(1 << 31) <= value < (1 << 31), name


# --------------------------------------------------------------------------
# winerror.MESSAGES and winerror.name_of
# --------------------------------------------------------------------------


def test_messages_cover_the_codes() -> None:
    codes = _constants(winerror)
    values = set(codes.values())
    assert set(winerror.MESSAGES) <= values
    for name, value in codes.items():
        if re.match(r"(NTE|SCARD|ERROR|CRYPT_E|E)_", name):
            assert value in winerror.MESSAGES, name
    for code, text in winerror.MESSAGES.items():
        assert isinstance(text, str), code
        assert text, code
        assert text == text.strip(), code


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("NTE_BAD_ALGID", "Invalid algorithm specified."),
        ("NTE_BAD_FLAGS", "Invalid flags specified."),
        ("NTE_BAD_KEYSET", "Keyset does not exist"),
        ("NTE_BAD_UID", "Bad UID."),
        ("NTE_FAIL", "An internal error occurred."),
        (
            "NTE_SILENT_CONTEXT",
            "Provider could not perform the action since the context was acquired as silent.",
        ),
        ("SCARD_W_WRONG_CHV", "The card cannot be accessed because the wrong PIN was presented."),
        ("SCARD_W_CANCELLED_BY_USER", "The action was cancelled by the user."),
        ("ERROR_INVALID_PARAMETER", "The parameter is incorrect."),
        ("ERROR_INVALID_HANDLE", "The handle is invalid."),
        ("ERROR_NO_MORE_ITEMS", "No more data is available."),
        ("ERROR_SUCCESS", "The operation completed successfully."),
    ],
)
def test_message_texts(name: str, text: str) -> None:
    assert winerror.MESSAGES[getattr(winerror, name)] == text


def test_name_of_round_trips() -> None:
    codes = _constants(winerror)
    names_by_value: dict[Value, list[str]] = {}
    for name, value in codes.items():
        names_by_value.setdefault(value, []).append(name)
    for value, names in names_by_value.items():
        assert isinstance(value, int)
        chosen = winerror.name_of(value)
        assert chosen in names, (value, names)
        assert winerror.name_of(value & 0xFFFFFFFF) == chosen  # unsigned form
        if len(names) == 1:
            assert chosen == names[0]


def test_name_of_preference_and_unknown_codes() -> None:
    assert winerror.name_of(winerror.NTE_BAD_ALGID) == "NTE_BAD_ALGID"
    assert winerror.name_of(0x80090008) == "NTE_BAD_ALGID"
    assert winerror.name_of(-2146434962) == "SCARD_W_CANCELLED_BY_USER"
    # 0 has five names (ERROR_SUCCESS, NO_ERROR, S_OK, NTE_OP_OK, SCARD_S_SUCCESS).
    assert winerror.name_of(0) == "ERROR_SUCCESS"
    assert winerror.name_of(winerror.NTE_OP_OK) == "ERROR_SUCCESS"
    assert winerror.name_of(0x8009FFFF) == "0x8009FFFF"
    assert winerror.name_of(-2146828289) == "0x8009FFFF"
    assert winerror.name_of(12345678) == "0x00BC614E"
    assert winerror.name_of(1 << 40) == hex(1 << 40)
    assert winerror.name_of(-(1 << 40)) == hex(-(1 << 40))
