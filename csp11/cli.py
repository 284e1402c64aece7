"""The ``csp11`` command (also ``python -m csp11``).

``csp11 info`` shows the token in use (the embedded default token unless
``--token``/``CSP11_TOKEN`` names another) and what it can do.  Failures are
one readable line naming the Windows error code, and exit status 1; a
traceback only with ``--verbose``.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Sequence
from typing import Any

from csp11 import __version__, win32crypt, win32cryptcon, winerror
from csp11.pywintypes import error
from csp11.token import Mechanism, TokenInfo

__all__ = ["main"]

_PROV_TYPES = {
    "rsa_full": win32cryptcon.PROV_RSA_FULL,
    "rsa_aes": win32cryptcon.PROV_RSA_AES,
    "dss": win32cryptcon.PROV_DSS,
    "dss_dh": win32cryptcon.PROV_DSS_DH,
}

# Token flags worth showing a person (CK_TOKEN_INFO.flags).
_TOKEN_FLAGS = {
    0x1: "rng",
    0x2: "write-protected",
    0x4: "login-required",
    0x8: "user-pin-initialized",
    0x100: "protected-authentication-path",
    0x400: "token-initialized",
    0x10000: "user-pin-count-low",
    0x20000: "user-pin-final-try",
    0x40000: "user-pin-locked",
}


def _mechanism_name(number: int) -> str:
    try:
        return Mechanism(number).name.lstrip("_")
    except ValueError:
        return f"0x{number:08X}"


def _info(args: argparse.Namespace) -> dict[str, Any]:
    prov = win32crypt.CryptAcquireContext(
        None, args.provider, _PROV_TYPES[args.type], win32cryptcon.CRYPT_VERIFYCONTEXT,
        Token=args.token,
    )
    assert prov is not None  # only CRYPT_DELETEKEYSET returns None
    with prov:
        token = prov.token
        tinfo: TokenInfo = token.info()
        imptype = prov.CryptGetProvParam(win32cryptcon.PP_IMPTYPE)
        sample = prov.CryptGenRandom(8)
        mechanisms = [
            {
                "name": _mechanism_name(m.mechanism),
                "min_key_size": m.min_key_size,
                "max_key_size": m.max_key_size,
                "flags": m.flags,
            }
            for m in sorted(token.mechanisms().values(), key=lambda m: m.mechanism)
        ]
        algorithms = []
        flags = win32cryptcon.CRYPT_FIRST
        while True:
            try:
                row = prov.CryptGetProvParam(win32cryptcon.PP_ENUMALGS_EX, flags)
            except error as exc:
                if exc.winerror != winerror.ERROR_NO_MORE_ITEMS:
                    raise
                break
            flags = win32cryptcon.CRYPT_NEXT
            algorithms.append({
                "algid": row.aiAlgid, "name": row.szName, "long_name": row.szLongName,
                "default": row.dwDefaultLen, "min": row.dwMinLen, "max": row.dwMaxLen,
            })
        return {
            "csp11": __version__,
            "algorithms": algorithms,
            "provider": prov.CryptGetProvParam(win32cryptcon.PP_NAME),
            "provider_type": prov.CryptGetProvParam(win32cryptcon.PP_PROVTYPE),
            "implementation": [
                name for bit, name in ((1, "hardware"), (2, "software"), (8, "removable"))
                if imptype & bit
            ],
            "source": prov._token_description,
            "token": {
                "label": tinfo.label,
                "serial": tinfo.serial,
                "manufacturer": tinfo.manufacturer,
                "model": tinfo.model,
                "flags": [name for bit, name in _TOKEN_FLAGS.items() if tinfo.flags & bit],
                "slot_id": tinfo.slot_id,
                "firmware_version": "{}.{}".format(*tinfo.firmware_version),
            },
            "module": {
                "path": tinfo.module_path,
                "description": tinfo.library_description,
                "manufacturer": tinfo.library_manufacturer,
                "version": "{}.{}".format(*tinfo.library_version),
            },
            "random_sample": sample.hex(),
            "mechanisms": mechanisms,
        }


def _print_info(data: dict[str, Any]) -> None:
    tok, mod = data["token"], data["module"]
    lines = [
        f"csp11 {data['csp11']}",
        f"Token:     {tok['label']!r}  serial {tok['serial']}  ({tok['manufacturer']}, "
        f"{tok['model']})",
        f"Source:    {data['source']}",
        f"Module:    {mod['path']}  ({mod['description']} {mod['version']})",
        f"Flags:     {', '.join(tok['flags'])}",
        f"Provider:  {data['provider']} (type {data['provider_type']}), "
        f"{'/'.join(data['implementation'])}",
        f"Random:    C_GenerateRandom works ({data['random_sample']})",
        f"CryptoAPI algorithms on this token ({len(data['algorithms'])}):",
    ]
    for alg in data["algorithms"]:
        sizes = (
            f"{alg['min']}-{alg['max']} bits, default {alg['default']}"
            if alg["min"] != alg["max"] else f"{alg['max']} bits"
        )
        lines.append(f"  0x{alg['algid']:04X} {alg['name']:<13} {alg['long_name']} ({sizes})")
    lines.append(f"PKCS#11 mechanisms ({len(data['mechanisms'])}):")
    for mech in data["mechanisms"]:
        sizes = (
            f"  {mech['min_key_size']}-{mech['max_key_size']}"
            if mech["max_key_size"] else ""
        )
        lines.append(f"  {mech['name']}{sizes}")
    print("\n".join(lines))


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="csp11",
        description="The Windows CryptoAPI provider model on a PKCS#11 token.",
    )
    parser.add_argument("--version", action="version", version=f"csp11 {__version__}")
    parser.add_argument(
        "--verbose", action="store_true", help="log what csp11 does; tracebacks on errors"
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    info = sub.add_parser(
        "info",
        help="show the token in use and what it can do",
        description="Show the token csp11 uses (the embedded default token unless --token "
        "or CSP11_TOKEN names another) and the mechanisms it offers.",
    )
    info.add_argument(
        "--token", metavar="URI", help="RFC 7512 PKCS#11 URI of the token (default: CSP11_TOKEN, "
        "else the embedded default token)",
    )
    info.add_argument("--provider", metavar="NAME", help="Microsoft provider name to emulate")
    info.add_argument(
        "--type", choices=sorted(_PROV_TYPES), default="rsa_aes", help="provider type"
    )
    info.add_argument("--json", action="store_true", help="print JSON for scripts")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    parser = _parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="csp11: %(levelname)s: %(message)s",
    )
    if args.command is None:
        parser.print_help()
        return 2
    try:
        data = _info(args)
    except error as exc:
        if args.verbose:
            raise
        print(
            f"csp11: {exc.funcname} failed: {winerror.name_of(exc.winerror)}: {exc.strerror}",
            file=sys.stderr,
        )
        return 1
    if args.json:
        print(json.dumps(data, indent=2))
    else:
        _print_info(data)
    return 0
