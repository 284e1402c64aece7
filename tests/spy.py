"""Run csp11 through OpenSC's pkcs11-spy.so and read back the PKCS#11 calls.

pkcs11-spy sits between csp11 and SoftHSM2 and logs every call with its
mechanism and templates; :func:`spy_calls` parses that log so tests can
assert what csp11 asked the token for, from outside csp11.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from .conftest import run_python

SPY_CANDIDATES = (
    "/usr/lib/x86_64-linux-gnu/pkcs11-spy.so",
    "/usr/lib/aarch64-linux-gnu/pkcs11-spy.so",
    "/usr/lib/pkcs11-spy.so",
    "/usr/lib64/pkcs11-spy.so",
)


def find_spy() -> str | None:
    """Path of pkcs11-spy.so, if OpenSC is installed."""
    return next((p for p in SPY_CANDIDATES if os.path.exists(p)), None)


@dataclass
class Call:
    """One logged PKCS#11 call."""

    name: str
    mechanism: str | None = None
    templates: dict[str, dict[str, object]] = field(default_factory=dict)
    returned: str = ""


_CALL = re.compile(r"^\d+: (C_\w+)$")
_TEMPLATE = re.compile(r"^\[in\] (p\w*Template)\[\d+\]:")
_ATTR = re.compile(r"^    (CKA_\S+(?: \(0x[0-9a-fA-F]+\))?)\s+(.*?)\s*$")
_HEX = re.compile(r"^    [0-9a-f]{8}  ((?:[0-9A-Fa-f]{2} )+)")
# Strings are dumped as groups of up to four bytes: "    63737031 31207573"
_HEX_WORDS = re.compile(r"^    ((?:[0-9A-Fa-f]{2}){1,4}(?: (?:[0-9A-Fa-f]{2}){1,4})*)$")


def parse(log: str) -> list[Call]:
    """The calls in a pkcs11-spy log."""
    calls: list[Call] = []
    current: Call | None = None
    template: dict[str, object] | None = None
    last_attr: str | None = None
    for line in log.splitlines():
        if m := _CALL.match(line):
            current = Call(m.group(1))
            calls.append(current)
            template = None
            continue
        if current is None:
            continue
        if line.startswith("[in] pMechanism->type = "):
            current.mechanism = line.split("=", 1)[1].strip()
        elif m := _TEMPLATE.match(line):
            template = current.templates.setdefault(m.group(1), {})
        elif line.startswith("Returned:"):
            current.returned = line.split()[-1]
            template = None
        elif template is not None and last_attr and (
            (m := _HEX.match(line)) or (m := _HEX_WORDS.match(line))
        ):
            previous = template.get(last_attr)
            chunk = bytes.fromhex(m.group(1).replace(" ", ""))
            template[last_attr] = (previous if isinstance(previous, bytes) else b"") + chunk
        elif template is not None and (m := _ATTR.match(line)):
            last_attr, value = m.group(1), m.group(2)
            template[last_attr] = {"True": True, "False": False}.get(
                value, b"" if " / " in value else value
            )
        elif not line.startswith("    "):
            template = None if line.startswith("[out]") else template
    return calls


def ulong(value: object) -> int:
    """A CK_ULONG attribute value as logged (little-endian bytes)."""
    assert isinstance(value, bytes)
    return int.from_bytes(value, "little")


def spy_calls(code: str, home: Path, softhsm2_module: str, tmp: Path) -> list[Call]:
    """Run ``code`` (with ``TOKEN`` bound to a URI through the spy); return the calls."""
    spy = find_spy()
    assert spy is not None
    log = tmp / "spy.log"
    uri = f"pkcs11:token=csp11?module-path={spy}&pin-source=file:{home / 'pin'}"
    result = run_python(
        f"TOKEN = {uri!r}\n" + code,
        env={
            "PKCS11SPY": softhsm2_module,
            "PKCS11SPY_OUTPUT": str(log),
            "SOFTHSM2_CONF": str(home / "softhsm2.conf"),
        },
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return parse(log.read_text(errors="replace"))
