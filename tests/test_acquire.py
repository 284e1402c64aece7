"""CryptAcquireContext, CryptReleaseContext, CryptContextAddRef, CryptGenRandom,
CryptGetProvParam on the test token."""

from __future__ import annotations

import collections
import math

import pytest

from csp11 import pywintypes, win32crypt, winerror
from csp11 import win32cryptcon as con
from csp11.ops import provider
from csp11.win32crypt import PyCRYPTPROV

VERIFY = con.CRYPT_VERIFYCONTEXT


def _code(excinfo: pytest.ExceptionInfo[pywintypes.error]) -> int:
    return excinfo.value.winerror


def acquire(provider: str | None, prov_type: int, flags: int = VERIFY,
            container: str | None = None, **kw: str) -> PyCRYPTPROV:
    ctx = win32crypt.CryptAcquireContext(container, provider, prov_type, flags, **kw)
    assert ctx is not None
    return ctx


@pytest.mark.parametrize(
    ("provider", "prov_type", "expected_name"),
    [
        (None, con.PROV_RSA_FULL, con.MS_STRONG_PROV),  # the seed: default RSA_FULL is Strong
        (None, con.PROV_RSA_AES, con.MS_ENH_RSA_AES_PROV),
        (None, con.PROV_DSS, con.MS_DEF_DSS_PROV),
        (None, con.PROV_DSS_DH, con.MS_ENH_DSS_DH_PROV),
        (con.MS_DEF_PROV, con.PROV_RSA_FULL, con.MS_DEF_PROV),
        (con.MS_ENHANCED_PROV, con.PROV_RSA_FULL, con.MS_ENHANCED_PROV),
        (con.MS_STRONG_PROV, con.PROV_RSA_FULL, con.MS_STRONG_PROV),
        (con.MS_ENH_RSA_AES_PROV, con.PROV_RSA_AES, con.MS_ENH_RSA_AES_PROV),
        (con.MS_DEF_DSS_PROV, con.PROV_DSS, con.MS_DEF_DSS_PROV),
        (con.MS_DEF_DSS_DH_PROV, con.PROV_DSS_DH, con.MS_DEF_DSS_DH_PROV),
        (con.MS_ENH_DSS_DH_PROV, con.PROV_DSS_DH, con.MS_ENH_DSS_DH_PROV),
        (con.MS_ENH_RSA_AES_PROV.upper(), con.PROV_RSA_AES, con.MS_ENH_RSA_AES_PROV),
        (con.MS_ENH_RSA_AES_PROV + " (Prototype)", con.PROV_RSA_AES, con.MS_ENH_RSA_AES_PROV),
    ],
)
def test_personalities(provider: str | None, prov_type: int, expected_name: str) -> None:
    with acquire(provider, prov_type) as ctx:
        assert ctx.CryptGetProvParam(con.PP_NAME) == expected_name
        assert ctx.CryptGetProvParam(con.PP_PROVTYPE) == prov_type
        assert ctx.CryptGetProvParam(con.PP_VERSION) == 0x200


@pytest.mark.parametrize(
    ("provider", "prov_type", "code"),
    [
        (con.MS_ENH_RSA_AES_PROV, con.PROV_RSA_FULL, winerror.NTE_PROV_TYPE_NO_MATCH),
        (con.MS_DEF_PROV, con.PROV_DSS, winerror.NTE_PROV_TYPE_NO_MATCH),
        ("No Such Provider", con.PROV_RSA_FULL, winerror.NTE_KEYSET_NOT_DEF),
        (None, 0, winerror.NTE_BAD_PROV_TYPE),
        (None, 999, winerror.NTE_BAD_PROV_TYPE),
        (None, -1, winerror.NTE_BAD_PROV_TYPE),
        (None, con.PROV_RSA_SCHANNEL, winerror.NTE_PROV_TYPE_NOT_DEF),
    ],
)
def test_provider_validation(provider: str | None, prov_type: int, code: int) -> None:
    with pytest.raises(pywintypes.error) as info:
        win32crypt.CryptAcquireContext(None, provider, prov_type, VERIFY)
    assert _code(info) == code
    assert info.value.funcname == "CryptAcquireContext"


def test_verify_context_with_container_is_bad_flags() -> None:
    with pytest.raises(pywintypes.error) as info:
        win32crypt.CryptAcquireContext("mine", None, con.PROV_RSA_AES, VERIFY)
    assert _code(info) == winerror.NTE_BAD_FLAGS


@pytest.mark.parametrize(
    "flags", [0x1, 0x80000000, VERIFY | 0x100, VERIFY | con.CRYPT_DELETEKEYSET]
)
def test_bad_acquire_flags(flags: int) -> None:
    with pytest.raises(pywintypes.error) as info:
        win32crypt.CryptAcquireContext(None, None, con.PROV_RSA_AES, flags)
    assert _code(info) == winerror.NTE_BAD_FLAGS


def test_verify_context_with_newkeyset_as_windows_takes_it() -> None:
    """rsaenh accepts CRYPT_VERIFYCONTEXT | CRYPT_NEWKEYSET without a name (programs
    written for pywin32 pass both); with a name it is NTE_BAD_FLAGS."""
    both = VERIFY | con.CRYPT_NEWKEYSET
    for name in (None, ""):
        ctx = win32crypt.CryptAcquireContext(name, None, con.PROV_RSA_FULL, both)
        assert ctx is not None
        assert ctx.CryptGetProvParam(con.PP_CONTAINER) == ""
        ctx.CryptReleaseContext()
    with pytest.raises(pywintypes.error) as info:
        win32crypt.CryptAcquireContext("mine", None, con.PROV_RSA_FULL, both)
    assert _code(info) == winerror.NTE_BAD_FLAGS


@pytest.mark.parametrize(
    ("name", "why"),
    [("\udcff", "not valid text"), ("a\0b", "NUL"), ("x" * 260, "limit is 259")],
)
def test_container_names_windows_cannot_take(name: str, why: str) -> None:
    for flags in (0, con.CRYPT_NEWKEYSET, con.CRYPT_DELETEKEYSET):
        for _ in range(2):  # a second call once crashed the process
            with pytest.raises(pywintypes.error) as info:
                win32crypt.CryptAcquireContext(name, None, con.PROV_RSA_AES, flags)
            assert _code(info) == winerror.NTE_BAD_KEYSET_PARAM
            assert why in info.value.strerror
    ctx = win32crypt.CryptAcquireContext("x" * 259, None, con.PROV_RSA_AES, con.CRYPT_NEWKEYSET)
    assert ctx is not None
    ctx.CryptReleaseContext()
    assert win32crypt.CryptAcquireContext("x" * 259, None, con.PROV_RSA_AES,
                                          con.CRYPT_DELETEKEYSET) is None


@pytest.mark.parametrize(
    "call",
    [
        lambda: win32crypt.CryptAcquireContext(None, None, "24", VERIFY),  # type: ignore[arg-type]
        lambda: win32crypt.CryptAcquireContext(None, 5, con.PROV_RSA_AES, VERIFY),  # type: ignore[arg-type]
        lambda: win32crypt.CryptAcquireContext(b"c", None, con.PROV_RSA_AES, 0),  # type: ignore[arg-type]
        lambda: win32crypt.CryptAcquireContext(None, None, con.PROV_RSA_AES, 1.0),  # type: ignore[arg-type]
    ],
)
def test_wrong_argument_types_are_type_errors(call: object) -> None:
    with pytest.raises(TypeError):
        call()  # type: ignore[operator]


def test_release_and_addref() -> None:
    ctx = acquire(None, con.PROV_RSA_AES)
    ctx.CryptContextAddRef()
    ctx.CryptReleaseContext()
    assert ctx.CryptGenRandom(4)  # one reference left: still usable
    ctx.CryptReleaseContext()
    with pytest.raises(pywintypes.error) as info:
        ctx.CryptGenRandom(4)
    assert _code(info) == winerror.NTE_BAD_UID
    assert info.value.funcname == "CryptGenRandom"
    with pytest.raises(pywintypes.error) as info:
        ctx.CryptGetProvParam(con.PP_NAME)
    assert _code(info) == winerror.NTE_BAD_UID
    with pytest.raises(pywintypes.error) as info:
        ctx.CryptContextAddRef()
    assert _code(info) == winerror.NTE_BAD_UID
    ctx.CryptReleaseContext()  # releasing twice is harmless


def test_release_with_flags_fails_but_releases() -> None:
    ctx = acquire(None, con.PROV_RSA_AES)
    with pytest.raises(pywintypes.error) as info:
        ctx.CryptReleaseContext(1)
    assert _code(info) == winerror.NTE_BAD_FLAGS
    with pytest.raises(pywintypes.error) as info:
        ctx.CryptGenRandom(1)
    assert _code(info) == winerror.NTE_BAD_UID


def test_addref_flags_must_be_zero(prov: PyCRYPTPROV) -> None:
    with pytest.raises(pywintypes.error) as info:
        prov.CryptContextAddRef(2)
    assert _code(info) == winerror.NTE_BAD_FLAGS


def test_context_manager_releases() -> None:
    with acquire(None, con.PROV_RSA_AES) as ctx:
        ctx.CryptContextAddRef()  # even with extra references, `with` ends it
    with pytest.raises(pywintypes.error) as info:
        ctx.CryptGenRandom(1)
    assert _code(info) == winerror.NTE_BAD_UID


def test_handles_are_distinct_ints() -> None:
    with acquire(None, con.PROV_RSA_AES) as a, acquire(None, con.PROV_RSA_FULL) as b:
        assert isinstance(a.HCRYPTPROV, int)
        assert a.HCRYPTPROV != b.HCRYPTPROV


@pytest.mark.parametrize("length", [0, 1, 7, 16, 1000, 65536])
def test_gen_random_lengths(prov: PyCRYPTPROV, length: int) -> None:
    data = prov.CryptGenRandom(length)
    assert isinstance(data, bytes)
    assert len(data) == length


def test_gen_random_is_random(prov: PyCRYPTPROV) -> None:
    data = prov.CryptGenRandom(1 << 16)
    assert prov.CryptGenRandom(32) != prov.CryptGenRandom(32)
    counts = collections.Counter(data)
    entropy = -sum(c / len(data) * math.log2(c / len(data)) for c in counts.values())
    assert entropy > 7.99  # bits per byte over 64 KiB


def test_gen_random_with_seed(prov: PyCRYPTPROV) -> None:
    assert len(prov.CryptGenRandom(16, b"extra seed")) == 16


def test_gen_random_asks_the_token_in_pieces(prov: PyCRYPTPROV,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    # Any DWORD is a valid Len, but SoftHSM2 answers 2 GiB in one
    # C_GenerateRandom with CKR_GENERAL_ERROR, which came out as NTE_FAIL.
    monkeypatch.setattr(provider, "RANDOM_CHUNK", 1000)
    asked: list[int] = []
    real = prov._state.token.generate_random

    def spy(length: int) -> bytes:
        asked.append(length)
        return real(length)

    monkeypatch.setattr(prov._state.token, "generate_random", spy)
    data = prov.CryptGenRandom(2500)
    assert len(data) == 2500
    assert asked == [1000, 1000, 500]
    assert data[:1000] != data[1000:2000]


@pytest.mark.slow
def test_gen_random_of_2_gib(prov: PyCRYPTPROV) -> None:
    assert len(prov.CryptGenRandom(1 << 31)) == 1 << 31


@pytest.mark.parametrize("length", [-1, 1 << 32])
def test_gen_random_bad_length(prov: PyCRYPTPROV, length: int) -> None:
    with pytest.raises(pywintypes.error) as info:
        prov.CryptGenRandom(length)
    assert _code(info) == winerror.ERROR_INVALID_PARAMETER


def test_gen_random_types(prov: PyCRYPTPROV) -> None:
    with pytest.raises(TypeError):
        prov.CryptGenRandom("16")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        prov.CryptGenRandom(16, "seed")  # type: ignore[arg-type]


def test_prov_params(prov: PyCRYPTPROV) -> None:
    # SoftHSM2 is software on a non-removable slot.
    assert prov.CryptGetProvParam(con.PP_IMPTYPE) == con.CRYPT_IMPL_SOFTWARE
    assert isinstance(prov.CryptGetProvParam(con.PP_NAME), str)


@pytest.mark.parametrize("param", [0, 9999, con.PP_KEYEXCHANGE_PIN])
def test_unknown_prov_param(prov: PyCRYPTPROV, param: int) -> None:
    with pytest.raises(pywintypes.error) as info:
        prov.CryptGetProvParam(param)
    assert _code(info) == winerror.NTE_BAD_TYPE
    assert info.value.funcname == "CryptGetProvParam"


def test_prov_param_flags(prov: PyCRYPTPROV) -> None:
    with pytest.raises(pywintypes.error) as info:
        prov.CryptGetProvParam(con.PP_NAME, 1)
    assert _code(info) == winerror.NTE_BAD_FLAGS


def test_set_prov_param_unknown(prov: PyCRYPTPROV) -> None:
    with pytest.raises(pywintypes.error) as info:
        prov.CryptSetProvParam(con.PP_NAME, "x")
    assert _code(info) == winerror.NTE_BAD_TYPE
    with pytest.raises(TypeError):
        prov.CryptSetProvParam(con.PP_KEYEXCHANGE_PIN, b"1234")


def test_token_chosen_by_uri(token_uri: str) -> None:
    with acquire(None, con.PROV_RSA_AES, Token=token_uri) as ctx:
        assert len(ctx.CryptGenRandom(8)) == 8
        assert ctx._state.token.label == "csp11"


def test_token_chosen_by_environment(token_uri: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CSP11_TOKEN", token_uri.replace("token=csp11", "token=nope"))
    with pytest.raises(pywintypes.error) as info:
        acquire(None, con.PROV_RSA_AES)
    assert _code(info) == winerror.SCARD_E_NO_SMARTCARD
    assert "token=nope" in info.value.strerror
    # An explicit Token= wins over the environment.
    with acquire(None, con.PROV_RSA_AES, Token=token_uri) as ctx:
        assert ctx._state.token.label == "csp11"


def test_bad_uri_is_a_clear_error() -> None:
    with pytest.raises(pywintypes.error) as info:
        win32crypt.CryptAcquireContext(None, None, con.PROV_RSA_AES, VERIFY, Token="http://x")
    assert _code(info) == winerror.ERROR_INVALID_PARAMETER
    assert info.value.funcname == "CryptAcquireContext"


def test_missing_module_is_a_clear_error() -> None:
    with pytest.raises(pywintypes.error) as info:
        win32crypt.CryptAcquireContext(
            None, None, con.PROV_RSA_AES, VERIFY,
            Token="pkcs11:token=x?module-path=/nonexistent/libnothing.so",
        )
    assert _code(info) == winerror.NTE_PROV_DLL_NOT_FOUND
    assert "/nonexistent/libnothing.so" in info.value.strerror


def test_relative_module_path_is_refused() -> None:
    with pytest.raises(pywintypes.error) as info:
        win32crypt.CryptAcquireContext(
            None, None, con.PROV_RSA_AES, VERIFY, Token="pkcs11:token=x?module-path=libsofthsm2.so"
        )
    assert _code(info) == winerror.ERROR_INVALID_PARAMETER
    assert "absolute" in info.value.strerror
