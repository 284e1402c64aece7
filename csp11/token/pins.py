"""Where PINs come from, and the PIN prompt.

The README ("PINs") fixes the order in which a PIN is looked for, first that applies:

1. ``CryptSetProvParam(PP_KEYEXCHANGE_PIN or PP_SIGNATURE_PIN)`` on the context;
2. the token URI's ``pin-value`` or ``pin-source``;
3. the environment variable ``CSP11_PIN``;
4. the PIN prompt (:func:`set_pin_prompt`), unless the context is silent.

A PIN is held in memory only as long as needed, is never logged, and never
appears in an exception or a ``repr``.  The embedded default token's PIN file
counts as the URI's ``pin-source``.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from typing import Literal

from csp11 import winerror
from csp11.errors import Fail
from csp11.interrupts import interruptible
from csp11.structs import Struct
from csp11.token.forkgate import ChildSafeLock

__all__ = [
    "PinRequest",
    "PinSources",
    "default_prompt",
    "get_pin_prompt",
    "read_pin_source",
    "set_pin_prompt",
]

PinReason = Literal["login", "key-use"]


class PinRequest(Struct):
    """What the PIN prompt is asked for.

    ``token_label`` names the token, ``container`` the key container (``None``
    for a verify-only context), ``reason`` is ``"login"`` to log in to the
    token or ``"key-use"`` for a user-protected key's per-use PIN.
    ``protected_path`` is true when the token has its own PIN pad: the prompt
    should then tell the user to enter the PIN there and return ``""``.
    ``final_try`` is true when the token reports one try left before the PIN
    locks.
    """

    token_label: str
    container: str | None
    reason: PinReason
    protected_path: bool = False
    # The token says one wrong PIN more locks it: the prompt should say so.
    final_try: bool = False


PinPrompt = Callable[[PinRequest], "str | None"]


@interruptible  # waiting for the user holds nothing: Ctrl-C ends it at once
def default_prompt(request: PinRequest) -> str | None:
    """Ask for the PIN on the terminal, without echo.

    With no terminal attached there is nobody to ask: the call fails with
    ``SCARD_W_CARD_NOT_AUTHENTICATED`` and says where a PIN can come from.
    """
    if not (sys.stdin is not None and sys.stdin.isatty()):
        raise Fail(
            winerror.SCARD_W_CARD_NOT_AUTHENTICATED,
            f"token {request.token_label!r} needs a PIN and there is no terminal to ask: "
            "set CSP11_PIN, put pin-source in the token URI, or call csp11.set_pin_prompt()",
        )
    where = f" (container {request.container!r})" if request.container else ""
    what = "key-use PIN" if request.reason == "key-use" else "PIN"
    try:
        # getpass (and termios): only a terminal prompt needs it (cold start).
        import getpass  # noqa: PLC0415

        return getpass.getpass(f"{what} for token {request.token_label!r}{where}: ")
    except EOFError:
        return None


_prompt_lock = ChildSafeLock()
_prompt: PinPrompt = default_prompt


def set_pin_prompt(fn: PinPrompt | None) -> None:
    """Install the PIN prompt: ``fn(request) -> str | None``.

    ``request`` is a :class:`PinRequest`; returning ``None`` means the user
    cancelled (``SCARD_W_CANCELLED_BY_USER``).  ``None`` restores the default
    terminal prompt.  The prompt is process-wide, like Windows' PIN dialog.
    """
    global _prompt  # noqa: PLW0603 - one prompt per process, as on Windows
    if fn is not None and not callable(fn):
        raise TypeError("set_pin_prompt() takes a callable or None")
    with _prompt_lock:
        _prompt = fn if fn is not None else default_prompt


def get_pin_prompt() -> PinPrompt:
    """The PIN prompt in force."""
    return _prompt


def read_pin_source(source: str) -> str:
    """Read a PIN from an RFC 7512 ``pin-source`` (``file:PATH`` or a path).

    The first line of the file is the PIN (a trailing newline is not part of
    it).  Errors name the file, never its contents.
    """
    path = source[len("file:") :] if source.startswith("file:") else source
    if path.startswith("//"):
        # file:///abs/path (empty authority) and file://localhost/abs/path
        rest = path[2:]
        host, _, tail = rest.partition("/")
        if host not in ("", "localhost"):
            raise Fail(winerror.ERROR_INVALID_PARAMETER, f"pin-source: remote file {source!r}")
        path = "/" + tail
    if ":" in path.split("/", 1)[0] and not path.startswith("/"):
        raise Fail(
            winerror.ERROR_INVALID_PARAMETER,
            f"pin-source: only file: sources are supported, not {source.split(':', 1)[0]!r}",
        )
    try:
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
    except (OSError, UnicodeDecodeError) as exc:
        raise Fail(
            winerror.ERROR_FILE_NOT_FOUND
            if isinstance(exc, FileNotFoundError)
            else winerror.ERROR_ACCESS_DENIED,
            f"pin-source: cannot read {path!r} ({type(exc).__name__})",
        ) from None
    return text.splitlines()[0] if text else ""


class PinSources:
    """The PIN sources of one provider context, in the README's order.

    ``context_pin`` is what ``CryptSetProvParam(PP_*_PIN)`` set, ``uri_pin``
    the URI's ``pin-value``, ``uri_pin_source`` its ``pin-source``.  The object
    never shows a PIN in its ``repr``.
    """

    __slots__ = ("_context_pin", "silent", "uri_pin", "uri_pin_source")

    def __init__(
        self, *, uri_pin: str | None, uri_pin_source: str | None, silent: bool
    ) -> None:
        self._context_pin: str | None = None
        self.uri_pin = uri_pin
        self.uri_pin_source = uri_pin_source
        self.silent = silent

    def __repr__(self) -> str:
        kinds = [
            name
            for name, present in (
                ("context", self._context_pin is not None),
                ("uri", self.uri_pin is not None or self.uri_pin_source is not None),
                ("env", "CSP11_PIN" in os.environ),
            )
            if present
        ]
        return f"<PinSources {'+'.join(kinds) or 'prompt-only'} silent={self.silent}>"

    def set_context_pin(self, pin: str | None) -> None:
        """Record the PIN given with ``PP_KEYEXCHANGE_PIN``/``PP_SIGNATURE_PIN``."""
        self._context_pin = pin

    def without_prompt(self) -> str | None:
        """The PIN from the first non-interactive source, or ``None``."""
        if self._context_pin is not None:
            return self._context_pin
        if self.uri_pin is not None:
            return self.uri_pin
        if self.uri_pin_source is not None:
            return read_pin_source(self.uri_pin_source)
        return os.environ.get("CSP11_PIN")

    def prompt(self, request: PinRequest) -> str:
        """Ask the installed prompt (never on a silent context).

        Raises ``NTE_SILENT_CONTEXT`` on a silent context and
        ``SCARD_W_CANCELLED_BY_USER`` when the prompt returns ``None``.
        """
        if self.silent:
            raise Fail(
                winerror.NTE_SILENT_CONTEXT,
                f"token {request.token_label!r} needs a PIN and the context is silent",
            )
        pin = get_pin_prompt()(request)
        if pin is None:
            raise Fail(winerror.SCARD_W_CANCELLED_BY_USER, "the PIN prompt was cancelled")
        if not isinstance(pin, str):
            raise Fail(winerror.ERROR_INVALID_PARAMETER, "the PIN prompt must return str or None")
        return pin

    def for_key_use(self, request: PinRequest) -> str:
        """The per-use PIN of a user-protected key: ``PP_KEYEXCHANGE_PIN``/
        ``PP_SIGNATURE_PIN`` if the caller set one, else the prompt.

        Stored PINs (URI, file, ``CSP11_PIN``) are not used: a key that asks
        for its PIN at every use would otherwise never ask anyone.
        """
        if self._context_pin is not None:
            return self._context_pin
        return self.prompt(request)

    def get(self, request: PinRequest) -> str:
        """The PIN: the first source that has one, else the prompt.

        On the token's final try only a PIN the caller gave for this context
        (``PP_KEYEXCHANGE_PIN``/``PP_SIGNATURE_PIN``) or typed at the prompt
        is used: a stored PIN (URI, file, ``CSP11_PIN``) that may be stale
        must not lock the token.  A silent context then fails with
        ``SCARD_W_CARD_NOT_AUTHENTICATED``.
        """
        if request.final_try:
            if self._context_pin is not None:
                return self._context_pin
            if self.silent:
                raise Fail(
                    winerror.SCARD_W_CARD_NOT_AUTHENTICATED,
                    f"token {request.token_label!r} has one PIN try left; csp11 will not "
                    "spend it on a stored PIN: give it with PP_KEYEXCHANGE_PIN",
                )
            return self.prompt(request)
        pin = self.without_prompt()
        return pin if pin is not None else self.prompt(request)
