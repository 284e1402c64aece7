"""NSS softokn's key-database token ("NSS Certificate DB") for the tests.

A new ``sql:`` database, its user PIN set as a user would (C_InitPIN after
the SO's login with the empty PIN of a new database), the token's URI, and a
look at the token from outside csp11: a process of its own that talks to
softokn through ctypes alone (python-pkcs11 cannot pass softokn its
configuration, and no NSS tool is installed here), so that what csp11 left
on the token is counted by code that shares nothing with csp11.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import urllib.parse
from pathlib import Path
from typing import Any

from .helpers import installed

__all__ = ["CERT_DB", "SOFTOKN", "init_string", "outside", "set_user_pin", "uri"]

SOFTOKN = installed("/usr/lib/*/libsoftokn3.so", "/usr/lib64/libsoftokn3.so")
CERT_DB = "NSS Certificate DB"


def init_string(db: Path) -> str:
    """softokn's configuration (``x-init-reserved``) for the database in ``db``."""
    return f"configdir='sql:{db}' certPrefix='' keyPrefix='' secmod='secmod.db' flags=''"


def uri(init: str, token: str = CERT_DB, pin: str | None = None) -> str:
    """A ``CSP11_TOKEN`` URI for one of softokn's tokens with this configuration."""
    return (
        f"pkcs11:token={urllib.parse.quote(token)}?module-path={SOFTOKN}"
        f"&x-init-reserved={urllib.parse.quote(init, safe='')}"
        + (f"&pin-value={pin}" if pin is not None else "")
    )


# PKCS#11 through ctypes: the function list's order up to C_SignInit (pkcs11f.h).
_OUTSIDE = textwrap.dedent(
    """
    import ctypes, json, sys
    path, init, label, pin, action = sys.argv[1:6]
    U = ctypes.c_ulong
    ORDER = ("C_Initialize C_Finalize C_GetInfo C_GetFunctionList C_GetSlotList C_GetSlotInfo "
             "C_GetTokenInfo C_GetMechanismList C_GetMechanismInfo C_InitToken C_InitPIN "
             "C_SetPIN C_OpenSession C_CloseSession C_CloseAllSessions C_GetSessionInfo "
             "C_GetOperationState C_SetOperationState C_Login C_Logout C_CreateObject "
             "C_CopyObject C_DestroyObject C_GetObjectSize C_GetAttributeValue "
             "C_SetAttributeValue C_FindObjectsInit C_FindObjects C_FindObjectsFinal "
             "C_EncryptInit C_Encrypt C_EncryptUpdate C_EncryptFinal C_DecryptInit C_Decrypt "
             "C_DecryptUpdate C_DecryptFinal C_DigestInit C_Digest C_DigestUpdate C_DigestKey "
             "C_DigestFinal C_SignInit").split()

    class Attr(ctypes.Structure):
        _fields_ = (("type", U), ("value", ctypes.c_void_p), ("length", U))

    class Mech(ctypes.Structure):
        _fields_ = (("mechanism", U), ("parameter", ctypes.c_void_p), ("length", U))

    class InitArgs(ctypes.Structure):
        _fields_ = (("create", ctypes.c_void_p), ("destroy", ctypes.c_void_p),
                    ("lock", ctypes.c_void_p), ("unlock", ctypes.c_void_p),
                    ("flags", U), ("reserved", ctypes.c_char_p))

    class Functions(ctypes.Structure):
        _fields_ = [("version", ctypes.c_ubyte * 2)] + [(n, ctypes.c_void_p) for n in ORDER]

    lib = ctypes.CDLL(path)
    table = ctypes.POINTER(Functions)()
    assert lib.C_GetFunctionList(ctypes.byref(table)) == 0

    def call(name, *args):
        kinds = [ctypes.c_void_p] * len(args)  # handles, counts and pointers: one word each
        return ctypes.CFUNCTYPE(U, *kinds)(getattr(table.contents, name))(*args)
    args = InitArgs(None, None, None, None, 2, init.encode())  # CKF_OS_LOCKING_OK
    assert call("C_Initialize", ctypes.addressof(args)) == 0
    count = U(0)
    call("C_GetSlotList", 1, None, ctypes.addressof(count))
    slots = (U * count.value)()
    call("C_GetSlotList", 1, ctypes.addressof(slots), ctypes.addressof(count))
    info = ctypes.create_string_buffer(512)
    slot = next(s for s in slots if call("C_GetTokenInfo", s, ctypes.addressof(info)) == 0
                and info.raw[:32].decode().strip() == label)
    session = U()
    assert call("C_OpenSession", slot, 6, None, None, ctypes.addressof(session)) == 0  # RW|SERIAL
    assert call("C_Login", session.value, 1, pin.encode(), len(pin)) == 0  # CKU_USER

    def attribute(handle, kind):
        a = Attr(kind, None, 0)
        rv = call("C_GetAttributeValue", session.value, handle, ctypes.addressof(a), 1)
        if rv != 0 or a.length == U(-1).value:
            return {0x11: "SENSITIVE", 0x12: "TYPE_INVALID"}.get(rv, hex(rv))
        buffer = ctypes.create_string_buffer(a.length)
        a.value = ctypes.cast(buffer, ctypes.c_void_p)
        assert call("C_GetAttributeValue", session.value, handle, ctypes.addressof(a), 1) == 0
        return buffer.raw[:a.length]

    def number(raw):
        return int.from_bytes(raw, sys.byteorder) if isinstance(raw, bytes) else raw

    def boolean(raw):
        return bool(raw[0]) if isinstance(raw, bytes) else raw

    true = ctypes.c_ubyte(1)
    template = Attr(0x1, ctypes.cast(ctypes.byref(true), ctypes.c_void_p), 1)  # CKA_TOKEN
    assert call("C_FindObjectsInit", session.value, ctypes.addressof(template), 1) == 0
    handles, batch, got = [], (U * 64)(), U()
    while call("C_FindObjects", session.value, ctypes.addressof(batch), 64,
                ctypes.addressof(got)) == 0 and got.value:
        handles += list(batch[:got.value])
    call("C_FindObjectsFinal", session.value)
    rows = []
    for h in handles:
        row = {"CLASS": number(attribute(h, 0x0)),
               "LABEL": attribute(h, 0x3).decode(errors="replace"),
               "ID": attribute(h, 0x102).hex()}
        if row["CLASS"] in (2, 3, 4):  # keys
            row["KEY_TYPE"] = number(attribute(h, 0x100))
            for name, kind in (("PRIVATE", 0x2), ("MODIFIABLE", 0x170),
                               ("SENSITIVE", 0x103), ("EXTRACTABLE", 0x162),
                               ("ENCRYPT", 0x104), ("DECRYPT", 0x105), ("WRAP", 0x106),
                               ("UNWRAP", 0x107), ("SIGN", 0x108), ("VERIFY", 0x10A),
                               ("DERIVE", 0x10C)):
                row[name] = boolean(attribute(h, kind))
        if row["CLASS"] == 4 and action == "attack":
            value = attribute(h, 0x11)
            row["read_VALUE"] = "READ" if isinstance(value, bytes) else value
            mech = Mech(0x251, None, 0)  # CKM_SHA256_HMAC
            row["sign_init"] = hex(call("C_SignInit", session.value, ctypes.addressof(mech), h))
        rows.append(row)
    print(json.dumps(rows))
    """
)


def outside(init: str, pin: str, attack: bool = False) -> list[dict[str, Any]]:
    """Every token object of NSS Certificate DB as a process of its own, not
    csp11, sees it after logging in: class, label, ID (hex) and, for keys, the
    attributes that decide what they can do.  ``attack`` also tries to read
    each secret key's CKA_VALUE and to start an HMAC with it
    (``read_VALUE``, ``sign_init``: the CKR as hex)."""
    assert SOFTOKN is not None
    result = subprocess.run(
        [sys.executable, "-c", _OUTSIDE, SOFTOKN, init, CERT_DB, pin,
         "attack" if attack else "list"],
        capture_output=True, text=True, timeout=120, check=False,
        env={k: v for k, v in os.environ.items() if k != "PYTHONPATH"},
    )
    assert result.returncode == 0, result.stderr[-3000:]
    rows: list[dict[str, Any]] = json.loads(result.stdout.strip().splitlines()[-1])
    return rows


_SET_PIN = textwrap.dedent(
    """
    import ctypes, sys
    from csp11.token import CKF_RW_SESSION, CKF_SERIAL_SESSION, CKR_OK, CKU_SO
    from csp11.token.module import load_module
    path, init, label, pin = sys.argv[1:5]
    module = load_module(path, init_reserved=init)
    ck = module.cryptoki
    slot = next(s.slot_id for s in module.lib.get_slots(token_present=True)
                if s.get_token().label == label)
    handle = ctypes.c_ulong()
    assert ck.C_OpenSession(slot, CKF_SERIAL_SESSION | CKF_RW_SESSION, None, None,
                            ctypes.byref(handle)) == CKR_OK
    assert ck.login(handle.value, CKU_SO, "") == CKR_OK
    assert ck.C_InitPIN(handle.value, pin.encode(), len(pin.encode())) == CKR_OK
    ck.C_Logout(handle.value)
    ck.C_CloseSession(handle.value)
    """
)


def set_user_pin(init: str, pin: str, repo: Path) -> None:
    """Give a new database's NSS Certificate DB its user PIN, in a process of its
    own (softokn takes one configuration per process: the caller's may differ)."""
    assert SOFTOKN is not None
    result = subprocess.run(
        [sys.executable, "-c", _SET_PIN, SOFTOKN, init, CERT_DB, pin],
        capture_output=True, text=True, timeout=120, check=False,
        env={**os.environ, "PYTHONPATH": str(repo)},
    )
    assert result.returncode == 0, result.stderr[-3000:]
