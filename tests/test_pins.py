"""PIN sources, the prompt, silent contexts — and that a PIN never leaks."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

import csp11
from csp11 import pywintypes, win32crypt, winerror
from csp11 import win32cryptcon as con
from csp11.errors import Fail
from csp11.token import PinRequest, PinSources, read_pin_source
from csp11.win32crypt import PyCRYPTPROV

VERIFY = con.CRYPT_VERIFYCONTEXT
WRONG = "wrong-pin-7f3a9c"


def _acquire(flags: int = VERIFY, token: str | None = None) -> PyCRYPTPROV:
    ctx = win32crypt.CryptAcquireContext(None, None, con.PROV_RSA_AES, flags, Token=token)
    assert ctx is not None
    return ctx


@pytest.fixture
def logged_out(embedded_pin: str) -> Iterator[None]:
    """Start and end logged out, with the default prompt restored."""
    with _acquire() as ctx:
        ctx._state.token.logout()
    yield
    csp11.set_pin_prompt(None)
    with _acquire() as ctx:
        ctx._state.token.logout()


def _no_pin_uri(token_uri: str) -> str:
    return token_uri.split("&pin-source=", maxsplit=1)[0]


def _login(ctx: PyCRYPTPROV) -> None:
    """Log in through the context, as the key operations will."""
    try:
        ctx._state.login()
    except Fail as exc:  # internal API: give it the public shape for the tests
        raise pywintypes.error(exc.code, "login", exc.message) from None


@pytest.mark.usefixtures("logged_out")
def test_embedded_pin_file_logs_in() -> None:
    with _acquire() as ctx:
        _login(ctx)
        assert ctx._state.token.is_logged_in()


@pytest.mark.usefixtures("logged_out")
def test_context_pin_comes_first(token_uri: str) -> None:
    # The URI's pin-source is right; the context's PIN is wrong and must win.
    with _acquire(token=token_uri) as ctx:
        ctx.CryptSetProvParam(con.PP_KEYEXCHANGE_PIN, WRONG)
        with pytest.raises(pywintypes.error) as info:
            _login(ctx)
        assert info.value.winerror == winerror.SCARD_W_WRONG_CHV
        assert not ctx._state.token.is_logged_in()
        ctx.CryptSetProvParam(con.PP_SIGNATURE_PIN, None)  # forget it
        _login(ctx)
        assert ctx._state.token.is_logged_in()


@pytest.mark.usefixtures("logged_out")
def test_uri_pin_value_before_environment(
    token_uri: str, embedded_pin: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CSP11_PIN", WRONG)
    uri = _no_pin_uri(token_uri) + "&pin-value=" + embedded_pin
    with _acquire(token=uri) as ctx:
        _login(ctx)
        assert ctx._state.token.is_logged_in()


@pytest.mark.usefixtures("logged_out")
def test_environment_before_prompt(
    token_uri: str, embedded_pin: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    asked: list[PinRequest] = []
    csp11.set_pin_prompt(lambda req: asked.append(req) or WRONG)  # type: ignore[func-returns-value]
    monkeypatch.setenv("CSP11_PIN", embedded_pin)
    with _acquire(token=_no_pin_uri(token_uri)) as ctx:
        _login(ctx)
    assert asked == []


@pytest.mark.usefixtures("logged_out")
def test_prompt_is_asked_last_with_a_request(
    token_uri: str, embedded_pin: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CSP11_PIN", raising=False)
    asked: list[PinRequest] = []

    def prompt(request: PinRequest) -> str:
        asked.append(request)
        return embedded_pin

    csp11.set_pin_prompt(prompt)
    with _acquire(token=_no_pin_uri(token_uri)) as ctx:
        _login(ctx)
        assert ctx._state.token.is_logged_in()
    assert asked == [PinRequest(token_label="csp11", container=None, reason="login")]


@pytest.mark.usefixtures("logged_out")
def test_prompt_cancel(token_uri: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CSP11_PIN", raising=False)
    csp11.set_pin_prompt(lambda request: None)
    with _acquire(token=_no_pin_uri(token_uri)) as ctx, pytest.raises(pywintypes.error) as info:
        _login(ctx)
    assert info.value.winerror == winerror.SCARD_W_CANCELLED_BY_USER


@pytest.mark.usefixtures("logged_out")
def test_silent_context_never_prompts(token_uri: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CSP11_PIN", raising=False)
    asked: list[PinRequest] = []
    csp11.set_pin_prompt(lambda req: asked.append(req) or "x")  # type: ignore[func-returns-value]
    ctx = _acquire(VERIFY | con.CRYPT_SILENT, token=_no_pin_uri(token_uri))
    with ctx, pytest.raises(pywintypes.error) as info:
        _login(ctx)
    assert info.value.winerror == winerror.NTE_SILENT_CONTEXT
    assert asked == []


@pytest.mark.usefixtures("logged_out")
def test_silent_context_uses_non_interactive_sources(token_uri: str) -> None:
    with _acquire(VERIFY | con.CRYPT_SILENT, token=token_uri) as ctx:
        _login(ctx)
        assert ctx._state.token.is_logged_in()


@pytest.mark.usefixtures("logged_out")
def test_no_terminal_no_pin_is_a_clear_error(
    token_uri: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CSP11_PIN", raising=False)
    with _acquire(token=_no_pin_uri(token_uri)) as ctx, pytest.raises(pywintypes.error) as info:
        _login(ctx)  # pytest's stdin is not a terminal
    assert info.value.winerror == winerror.SCARD_W_CARD_NOT_AUTHENTICATED
    assert "CSP11_PIN" in info.value.strerror


def test_set_pin_prompt_needs_a_callable() -> None:
    with pytest.raises(TypeError):
        csp11.set_pin_prompt("not callable")  # type: ignore[arg-type]


def test_read_pin_source_forms(tmp_path: Path) -> None:
    pin_file = tmp_path / "pin"
    pin_file.write_text("s3cret\n")
    assert read_pin_source(str(pin_file)) == "s3cret"
    assert read_pin_source(f"file:{pin_file}") == "s3cret"
    assert read_pin_source(f"file://{pin_file}") == "s3cret"
    with pytest.raises(Fail) as info:
        read_pin_source(str(tmp_path / "missing"))
    assert info.value.code == winerror.ERROR_FILE_NOT_FOUND
    with pytest.raises(Fail) as info:
        read_pin_source("https://example.invalid/pin")
    assert info.value.code == winerror.ERROR_INVALID_PARAMETER


@pytest.mark.usefixtures("logged_out")
def test_pins_never_leak(
    token_uri: str, embedded_pin: str, caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Every way a PIN enters csp11, right or wrong: no log, message or repr shows it."""
    caplog.set_level(logging.DEBUG)
    seen: list[str] = []
    base = _no_pin_uri(token_uri)
    for pin in (WRONG, embedded_pin):
        for how in ("context", "uri", "env", "prompt"):
            os.environ.pop("CSP11_PIN", None)
            uri = base + (f"&pin-value={pin}" if how == "uri" else "")
            if how == "env":
                os.environ["CSP11_PIN"] = pin
            csp11.set_pin_prompt(lambda request, pin=pin: pin)  # type: ignore[misc]
            try:
                ctx = _acquire(token=uri)
                seen.append(repr(ctx))
                if how == "context":
                    ctx.CryptSetProvParam(con.PP_KEYEXCHANGE_PIN, pin)
                seen += [repr(ctx), str(ctx), repr(ctx._state.pins), repr(ctx._state.token)]
                try:
                    _login(ctx)
                except pywintypes.error as exc:
                    seen += [str(exc), repr(exc), *map(str, exc.args)]
                ctx._state.token.logout()
                ctx.CryptReleaseContext()
            finally:
                os.environ.pop("CSP11_PIN", None)
    # A bad URI that contains the PIN: the error must not repeat it.
    try:
        _acquire(token=base + f"&pin-value={WRONG}&bogus=1")
    except pywintypes.error as exc:
        seen += [str(exc), repr(exc)]
    out = capsys.readouterr()
    seen += [caplog.text, out.out, out.err]
    blob = "\n".join(seen)
    assert "SCARD_W_WRONG_CHV" in blob or "wrong PIN" in blob  # the wrong PIN was tried
    assert WRONG not in blob
    assert embedded_pin not in blob


def test_pin_sources_repr_hides_pin() -> None:
    sources = PinSources(uri_pin="123456", uri_pin_source=None, silent=False)
    sources.set_context_pin("654321")
    assert "123456" not in repr(sources)
    assert "654321" not in repr(sources)


def test_final_try_is_not_spent_on_a_stored_pin(monkeypatch: pytest.MonkeyPatch) -> None:
    """The decision csp11 takes when a token reports CKF_USER_PIN_FINAL_TRY (SoftHSM2
    never reports it, so the rule is checked on the PIN sources themselves)."""
    monkeypatch.setenv("CSP11_PIN", "stored-env-pin")
    final = PinRequest("tok", "box", "login", final_try=True)
    normal = PinRequest("tok", "box", "login")
    sources = PinSources(uri_pin="stored-uri-pin", uri_pin_source=None, silent=False)
    assert sources.get(normal) == "stored-uri-pin"
    asked: list[PinRequest] = []
    csp11.set_pin_prompt(lambda req: asked.append(req) or "typed")  # type: ignore[func-returns-value]
    try:
        assert sources.get(final) == "typed"
        assert asked == [final]
        sources.set_context_pin("given")
        assert sources.get(final) == "given"
    finally:
        csp11.set_pin_prompt(None)
    silent = PinSources(uri_pin="stored-uri-pin", uri_pin_source=None, silent=True)
    with pytest.raises(Fail) as info:
        silent.get(final)
    assert info.value.code == winerror.SCARD_W_CARD_NOT_AUTHENTICATED
    assert "stored-uri-pin" not in info.value.message
