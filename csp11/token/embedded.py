"""The embedded default token: a SoftHSM2 token csp11 makes for itself.

With no ``Token=`` argument and no ``CSP11_TOKEN`` variable, csp11 uses a
SoftHSM2 token that it creates on first use and reuses afterwards, so that a
fresh machine with SoftHSM2 installed works without any configuration.

Layout of the data directory (``$CSP11_HOME``, else ``$XDG_DATA_HOME/csp11``,
else ``~/.local/share/csp11``; mode 0700)::

    softhsm2.conf   SoftHSM2 configuration pointing at tokens/
    tokens/         SoftHSM2's token store
    pin             the user PIN (random, mode 0600)
    serial          the token's serial, written once it exists
    so-pin          the security officer PIN (random, mode 0600)
    .lock           serialises first-time creation between processes

The PINs are made with :mod:`secrets` and handed to SoftHSM2 through
``C_InitToken``/``C_InitPIN`` in-process, so they never appear on a command
line.  A PIN file readable by group or others is refused, as ssh refuses a
private key file.
"""

from __future__ import annotations

import os
import stat
import time

from csp11 import winerror
from csp11.errors import Fail
from csp11.structs import Struct
from csp11.token.forkgate import ChildSafeLock
from csp11.token.module import Module, load_module
from csp11.token.softhsm import store_file_lock
from csp11.token.token import Token

__all__ = ["EMBEDDED_LABEL", "EmbeddedToken", "data_home", "find_softhsm2", "open_embedded"]

EMBEDDED_LABEL = "csp11"
_FIND_TRIES = 5

# Where Debian, Ubuntu, Fedora and source builds put SoftHSM2's module.
SOFTHSM2_MODULE_CANDIDATES = (
    "/usr/lib/softhsm/libsofthsm2.so",
    "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so",
    "/usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so",
    "/usr/lib64/pkcs11/libsofthsm2.so",
    "/usr/lib/pkcs11/libsofthsm2.so",
    "/usr/local/lib/softhsm/libsofthsm2.so",
    "/opt/homebrew/lib/softhsm/libsofthsm2.so",
)


def find_softhsm2() -> str:
    """The SoftHSM2 PKCS#11 module (``CSP11_SOFTHSM2_MODULE`` overrides the search)."""
    override = os.environ.get("CSP11_SOFTHSM2_MODULE")
    if override:
        return override
    for candidate in SOFTHSM2_MODULE_CANDIDATES:
        if os.path.exists(candidate):
            return candidate
    raise Fail(
        winerror.NTE_PROV_DLL_NOT_FOUND,
        "SoftHSM2 is not installed: install the Debian/Ubuntu package 'softhsm2' "
        "(sudo apt-get install softhsm2), or choose a token with CSP11_TOKEN",
    )


def data_home() -> str:
    """csp11's data directory for the embedded token."""
    explicit = os.environ.get("CSP11_HOME")
    if explicit:
        return explicit
    xdg = os.environ.get("XDG_DATA_HOME")
    base = xdg if xdg else os.path.join(os.path.expanduser("~"), ".local", "share")
    return os.path.join(base, "csp11")


class EmbeddedToken(Struct):
    """The embedded token and where its PIN is kept (a ``pin-source`` path)."""

    token: Token
    pin_file: str
    home: str


def _write_secret(path: str) -> None:
    # O_EXCL: never overwrite an existing PIN; 0600 from the first byte.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as fh:
        fh.write(os.urandom(24).hex() + "\n")


def _read_secret(path: str) -> str:
    mode = os.stat(path).st_mode
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise Fail(
            winerror.NTE_PERM,
            f"{path} is accessible by other users (mode {stat.S_IMODE(mode):o}); "
            f"run: chmod 600 {path}",
        )
    with open(path, encoding="ascii") as handle:
        return handle.read().strip()


def _find_created(module: Module, serial: str) -> list[Token]:
    # SoftHSM2's file store can be mid-rewrite by another process (a login
    # rewrites the token file): look again briefly before giving up.
    for attempt in range(_FIND_TRIES):
        found = module.find_tokens({"label": EMBEDDED_LABEL, "serial": serial})
        if found:
            return found
        time.sleep(0.01 * (attempt + 1))
    raise Fail(
        winerror.SCARD_E_NO_SMARTCARD,
        f"the embedded token (serial {serial}) is missing from {module.path}'s store; "
        "its keys may still be in the store: keep the csp11 data directory, check that "
        "SoftHSM2 can read it (softhsm2-util --show-slots with SOFTHSM2_CONF pointing at "
        "its softhsm2.conf), and try again",
    )


def _check_private(path: str) -> None:
    """Refuse a data directory or file of the embedded token that another user
    could change (as ssh refuses such a key file): it holds the token's
    configuration, its PINs and the token itself."""
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return
    if stat.S_ISLNK(info.st_mode):
        raise Fail(winerror.NTE_PERM, f"{path} is a symbolic link; csp11 wants the real path")
    if info.st_uid != os.geteuid():
        raise Fail(
            winerror.NTE_PERM,
            f"{path} belongs to another user (uid {info.st_uid}); csp11 uses only its own "
            "files: choose another CSP11_HOME, or have its owner run: "
            f"chown {os.geteuid()} {path}",
        )
    if info.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        fix = "700" if stat.S_ISDIR(info.st_mode) else "600"
        raise Fail(
            winerror.NTE_PERM,
            f"{path} can be changed by other users (mode {stat.S_IMODE(info.st_mode):o}); "
            f"run: chmod {fix} {path}",
        )


_opened: dict[str, EmbeddedToken] = {}
_opened_lock = ChildSafeLock(_opened.clear)  # a child opens the token afresh


def open_embedded() -> EmbeddedToken:
    """The embedded token, created on first use (safe against concurrent first uses).

    Found once per process and data directory; later calls cost a lookup.
    """
    home = data_home()
    with _opened_lock:
        found = _opened.get(home)
        if found is None:
            found = _opened[home] = _open_embedded(home)
        return found


def _open_embedded(home: str) -> EmbeddedToken:
    module_path = find_softhsm2()
    tokens = os.path.join(home, "tokens")
    conf = os.path.join(home, "softhsm2.conf")
    pin_file = os.path.join(home, "pin")
    so_pin_file = os.path.join(home, "so-pin")
    serial_file = os.path.join(home, "serial")
    try:
        os.makedirs(home, mode=0o700, exist_ok=True)
        _check_private(home)
        try:
            os.mkdir(tokens, mode=0o700)
        except FileExistsError:
            if not os.path.isdir(tokens):
                raise
        for path in (tokens, conf, pin_file, so_pin_file, serial_file):
            _check_private(path)
        with store_file_lock(os.path.join(home, ".lock")):
            if not os.path.exists(conf):
                with open(conf, "w", encoding="utf-8") as handle:
                    handle.write(
                        "# csp11's embedded default token (written by csp11)\n"
                        f"directories.tokendir = {tokens}\n"
                        "objectstore.backend = file\n"
                        "log.level = ERROR\n"
                        "slots.removable = false\n"
                    )
            if not os.path.exists(pin_file):
                _write_secret(pin_file)
            if not os.path.exists(so_pin_file):
                _write_secret(so_pin_file)
            module = load_module(module_path, {"SOFTHSM2_CONF": conf})
            if os.path.exists(serial_file):
                # Created before: never create again, even if a read of the
                # token store races another process and misses it.
                with open(serial_file, encoding="ascii") as handle:
                    serial = handle.read().strip()
                found = _find_created(module, serial)
            else:
                found = module.find_tokens({"label": EMBEDDED_LABEL})
                if not found:
                    module.init_token(
                        EMBEDDED_LABEL, _read_secret(so_pin_file), _read_secret(pin_file)
                    )
                    found = module.find_tokens({"label": EMBEDDED_LABEL})
                if len(found) == 1:
                    with open(serial_file, "w", encoding="ascii") as handle:
                        handle.write(found[0].serial + "\n")
            _read_secret(pin_file)  # refuse a PIN file others can read before using it
    except OSError as exc:
        raise Fail(
            winerror.NTE_FAIL, f"embedded token in {home}: {type(exc).__name__}: {exc.strerror}"
        ) from None
    if len(found) != 1:
        raise Fail(
            winerror.NTE_FAIL,
            f"expected one token labelled {EMBEDDED_LABEL!r} in {home}, found {len(found)}",
        )
    token = found[0]
    token.store_lock = os.path.join(home, ".lock")
    return EmbeddedToken(token, pin_file, home)
