"""The exception type and the PKCS#11 → Windows error table."""

from __future__ import annotations

import re
from pathlib import Path

import pkcs11
import pkcs11.exceptions
import pytest

from csp11 import pywintypes, winerror
from csp11.errors import CKR_MEANINGS, CKR_TO_WINERROR, CKR_VALUES, Fail, api, fail_from_ckr
from csp11.token import _EXCEPTION_CKR, ckr_of


def test_error_is_shaped_like_pywin32() -> None:
    exc = pywintypes.error(winerror.NTE_BAD_ALGID, "CryptGenKey", "Invalid algorithm specified.")
    assert exc.args == (winerror.NTE_BAD_ALGID, "CryptGenKey", "Invalid algorithm specified.")
    assert exc.winerror == -2146893816
    assert exc.funcname == "CryptGenKey"
    assert exc.strerror == "Invalid algorithm specified."
    assert exc.ckr is None
    assert isinstance(exc, Exception)


def _pkcs11_return_code_map() -> list[tuple[str, str]]:
    """(CKR name, exception class) pairs from python-pkcs11's own source."""
    pxd = Path(pkcs11.__file__).with_name("_pkcs11.pxd").read_text()
    body = pxd[pxd.index("cdef inline object map_rv_to_error") :]
    pairs = re.findall(r"rv == (CKR_\w+):\n\s+exc = (\w+)\(", body)
    assert len(pairs) > 60, "python-pkcs11's return-code map was not found"
    return pairs


@pytest.mark.parametrize(("ckr", "exc_name"), _pkcs11_return_code_map())
def test_every_python_pkcs11_return_code_is_translated(ckr: str, exc_name: str) -> None:
    assert ckr in CKR_VALUES, f"{ckr} missing from CKR_VALUES"
    if exc_name != "PKCS11Error":
        assert _EXCEPTION_CKR[exc_name] == ckr
        exc = getattr(pkcs11.exceptions, exc_name)()
        assert ckr_of(exc) == ckr


def test_every_exception_class_is_in_the_table() -> None:
    classes = {
        name
        for name, obj in vars(pkcs11.exceptions).items()
        if isinstance(obj, type) and issubclass(obj, pkcs11.exceptions.PKCS11Error)
    }
    # Not return codes: python-pkcs11's own lookup helpers and the base class.
    helpers = {"PKCS11Error", "NoSuchKey", "NoSuchToken", "MultipleObjectsReturned",
               "MultipleTokensReturned"}
    assert classes - helpers == set(_EXCEPTION_CKR)


def test_generic_pkcs11_errors_are_named() -> None:
    assert ckr_of(pkcs11.exceptions.PKCS11Error("Unmapped error code 0x1b7")) == (
        "CKR_LIBRARY_LOAD_FAILED"
    )
    assert ckr_of(pkcs11.exceptions.PKCS11Error("Unmapped error code 0x80000001")) == (
        "CKR_0x80000001"
    )
    assert ckr_of(pkcs11.exceptions.PKCS11Error("Buffer was too small. Should never see this.")) \
        == "CKR_BUFFER_TOO_SMALL"


def test_mapping_targets_are_windows_codes() -> None:
    defined = {v for k, v in vars(winerror).items() if k.isupper() and isinstance(v, int)}
    for ckr, code in CKR_TO_WINERROR.items():
        assert ckr in CKR_VALUES
        assert code in defined, ckr


@pytest.mark.parametrize(
    ("ckr", "code"),
    [
        ("CKR_MECHANISM_INVALID", winerror.NTE_BAD_ALGID),
        ("CKR_KEY_UNEXTRACTABLE", winerror.NTE_BAD_KEY_STATE),
        ("CKR_PIN_INCORRECT", winerror.SCARD_W_WRONG_CHV),
        ("CKR_PIN_LOCKED", winerror.SCARD_W_CHV_BLOCKED),
        ("CKR_TOKEN_NOT_PRESENT", winerror.SCARD_E_NO_SMARTCARD),
        ("CKR_DEVICE_REMOVED", winerror.SCARD_W_REMOVED_CARD),
        ("CKR_SIGNATURE_INVALID", winerror.NTE_BAD_SIGNATURE),
        ("CKR_FUNCTION_CANCELED", winerror.SCARD_W_CANCELLED_BY_USER),
    ],
)
def test_issue_mappings(ckr: str, code: int) -> None:
    fail = fail_from_ckr(ckr, "C_Something")
    assert fail.code == code
    # Named, or said in words (CKR_MEANINGS) with the name kept in .ckr.
    assert ckr in fail.message or CKR_MEANINGS[ckr] in fail.message
    assert fail.ckr == ckr


def test_unmapped_code_is_nte_fail_naming_the_ckr() -> None:
    fail = fail_from_ckr("CKR_GENERAL_ERROR", "C_GenerateKey")
    assert fail.code == winerror.NTE_FAIL
    assert fail.message == "C_GenerateKey failed: CKR_GENERAL_ERROR (0x5)"
    odd = fail_from_ckr("CKR_0x80000123", "C_Sign")
    assert odd.code == winerror.NTE_FAIL
    assert "CKR_0x80000123" in odd.message


def test_api_decorator_names_the_function() -> None:
    @api("CryptGenKey")
    def failing() -> None:
        raise Fail(winerror.NTE_BAD_FLAGS, "bad flags", ckr="CKR_ARGUMENTS_BAD")

    with pytest.raises(pywintypes.error) as info:
        failing()
    assert info.value.args == (winerror.NTE_BAD_FLAGS, "CryptGenKey", "bad flags")
    assert info.value.ckr == "CKR_ARGUMENTS_BAD"
    assert info.value.__cause__ is None


def test_api_decorator_lets_type_errors_through_and_wraps_bugs() -> None:
    @api("CryptHashData")
    def wrong_type() -> None:
        raise TypeError("Data must be bytes")

    @api("CryptHashData")
    def buggy() -> None:
        raise KeyError("oops")

    with pytest.raises(TypeError):
        wrong_type()
    with pytest.raises(pywintypes.error) as info:
        buggy()
    assert info.value.winerror == winerror.NTE_FAIL
    assert info.value.funcname == "CryptHashData"
    assert "KeyError" in info.value.strerror


def test_api_decorator_relabels_nested_public_calls() -> None:
    @api("CryptExportKey")
    def inner() -> None:
        raise Fail(winerror.NTE_BAD_KEY, "no")

    @api("CryptImportKey")
    def outer() -> None:
        inner()

    with pytest.raises(pywintypes.error) as info:
        outer()
    assert info.value.funcname == "CryptImportKey"
