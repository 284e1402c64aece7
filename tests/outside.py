"""Look at the test token from another process, with python-pkcs11 alone.

This is "another PKCS#11 client" for the tests: it shares no code with csp11
beyond the library, logs in with the token's PIN, lists objects with the
attributes that matter for key protection, and tries to get key material out
(attribute reads and C_WrapKey under a fresh AES key).
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any

from .conftest import run_python

_SCRIPT = textwrap.dedent(
    """
    import fcntl, json, os, sys
    import pkcs11
    from pkcs11 import Attribute as A, ObjectClass as O, KeyType, Mechanism
    from pkcs11.exceptions import PKCS11Error

    # The embedded token's store lock, as csp11 takes it: SoftHSM2 rewrites its
    # token file on login, which another process's C_Initialize must not see.
    lock = open(os.path.join(os.path.dirname(sys.argv[2]), ".lock"), "a+")
    fcntl.flock(lock, fcntl.LOCK_EX)
    lib = pkcs11.lib(sys.argv[1])
    token = lib.get_token(token_label="csp11")
    attack = sys.argv[3] if len(sys.argv) > 3 else ""
    out = []
    with token.open(rw=True, user_pin=open(sys.argv[2]).read().strip()) as s:
        kek = s.generate_key(KeyType.AES, 256, template={A.TOKEN: False})
        for obj in s.get_objects({A.TOKEN: True}):
            row = {}
            for name in ("CLASS", "LABEL", "ID", "PRIVATE", "EXTRACTABLE", "SENSITIVE",
                         "NEVER_EXTRACTABLE", "ALWAYS_AUTHENTICATE", "MODULUS"):
                try:
                    value = obj[getattr(A, name)]
                except PKCS11Error as exc:
                    value = type(exc).__name__
                if isinstance(value, bytes):
                    value = value.hex()
                row[name] = value if isinstance(value, (str, bool, int)) else str(value)
            if attack and row["LABEL"] == attack and obj[A.CLASS] == O.PRIVATE_KEY:
                for name in ("PRIVATE_EXPONENT", "VALUE"):
                    try:
                        obj[getattr(A, name)]
                        row["read_" + name] = "READ"
                    except PKCS11Error as exc:
                        row["read_" + name] = type(exc).__name__
                try:
                    kek.wrap_key(obj, mechanism=Mechanism.AES_KEY_WRAP_PAD)
                    row["wrap"] = "WRAPPED"
                except PKCS11Error as exc:
                    row["wrap"] = type(exc).__name__
            out.append(row)
    print(json.dumps(out))
    """
)


def objects(home: Path, module: str, attack_label: str = "") -> list[dict[str, Any]]:
    """The token objects, as seen by a separate python-pkcs11 process."""
    result = run_python(
        f"import sys; sys.argv = ['x', {module!r}, {str(home / 'pin')!r}, {attack_label!r}]\n"
        + _SCRIPT,
        env={"SOFTHSM2_CONF": str(home / "softhsm2.conf")},
    )
    assert result.returncode == 0, result.stderr
    rows: list[dict[str, Any]] = json.loads(result.stdout.strip().splitlines()[-1])
    return rows


def labelled(rows: list[dict[str, Any]], label: str) -> list[dict[str, Any]]:
    """The rows with exactly this label."""
    return [row for row in rows if row["LABEL"] == label]
