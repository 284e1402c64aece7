"""The ``csp11`` command (also ``python -m csp11``).

``csp11 info`` shows the token in use (the embedded default token unless
``--token``/``CSP11_TOKEN`` names another) and what it can do.
``csp11 encrypt FILE`` and ``csp11 decrypt FILE`` encrypt a file for a key
container's exchange key and back (:mod:`csp11.filecrypt`), with a progress
bar when stderr is a terminal.  Failures are one readable line naming the
Windows error code (or the file-system problem), and exit status 1; a
traceback only with ``--verbose``.
"""

from __future__ import annotations

import argparse
import ctypes
import json
import logging
import os
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TextIO

from csp11 import __version__, filecrypt, win32crypt, win32cryptcon, winerror
from csp11.pywintypes import error
from csp11.token import Mechanism, TokenInfo

__all__ = ["main"]

_MIB = 1 << 20
# glibc mallopt parameters (malloc.h).
_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3

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
        # The token and how it was chosen: state below the public handle,
        # which this report (and only it) shows.
        state = prov._state
        token = state.token
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
            "source": state.token_description,
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


class _ProgressBar:
    """A one-line progress bar, redrawn at most ten times a second."""

    _WIDTH = 24

    def __init__(self, label: str, stream: TextIO) -> None:
        self._label = label
        self._stream = stream
        self._start = time.monotonic()
        self._drawn_at: float | None = None

    def __call__(self, done: int, total: int) -> None:
        now = time.monotonic()
        if done < total and self._drawn_at is not None and now - self._drawn_at < 0.1:
            return
        self._drawn_at = now
        part = done / total if total else 1.0
        filled = int(part * self._WIDTH)
        elapsed = now - self._start
        rate = f"  {done / elapsed / _MIB:.0f} MiB/s" if elapsed > 0 else ""
        self._stream.write(
            f"\r{self._label} [{'#' * filled}{'.' * (self._WIDTH - filled)}] {part:4.0%} "
            f"{done / _MIB:.1f}/{total / _MIB:.1f} MiB{rate}\x1b[K"
        )
        self._stream.flush()

    def close(self) -> None:
        """End the bar's line (so that what follows starts on its own)."""
        if self._drawn_at is not None:
            self._stream.write("\n")
            self._stream.flush()


def _tune_malloc() -> None:
    """Keep MiB-sized buffers on the heap between calls (glibc only).

    Otherwise glibc hands every 1 MiB buffer (Python's, and SoftHSM2's own
    for each C_Encrypt) back to the kernel when freed and faults a new one in
    for the next piece (TOKEN-FACTS: MiB-sized calls on the main thread).
    Measured here, that was a third of the time of a 1 MiB CryptEncrypt with
    a hash.  The process keeps at most a few MiB more than it uses.
    """
    if not sys.platform.startswith("linux"):
        return
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):  # not glibc
        return
    mallopt(_M_MMAP_THRESHOLD, 4 * filecrypt.CHUNK_SIZE)
    mallopt(_M_TRIM_THRESHOLD, 16 * filecrypt.CHUNK_SIZE)


def _crypt_file(args: argparse.Namespace) -> dict[str, Any]:
    decrypting = args.command == "decrypt"
    run = filecrypt.decrypt_file if decrypting else filecrypt.encrypt_file
    try:
        target = args.output or filecrypt.default_output(args.file, decrypting=decrypting)
    except ValueError as exc:
        args.parser.error(str(exc))
    bar = None
    if sys.stderr.isatty():
        name = args.file if len(args.file) <= 32 else "..." + args.file[-29:]
        bar = _ProgressBar(f"{'decrypting' if decrypting else 'encrypting'} {name}", sys.stderr)
    _tune_malloc()
    try:
        result = run(args.file, target, container=args.container, token=args.token,
                     overwrite=args.force, progress=bar)
    finally:
        if bar is not None:
            bar.close()
    return {
        "command": args.command,
        "input": result.input,
        "output": result.output,
        "bytes": result.bytes,
        "seconds": round(result.seconds, 6),
        "container": result.container,
    }


def _print_crypt_file(data: dict[str, Any]) -> None:
    print(f"{data['command']}ed {data['input']} -> {data['output']} "
          f"({data['bytes']:,} bytes in {data['seconds']:.2f} s)")


_DEMO_BYTES = 4 * 1024 * 1024 + 7


def _demo(args: argparse.Namespace) -> dict[str, Any]:
    """Encrypt a file for the container, decrypt it again, compare: the whole flow."""
    _tune_malloc()
    with tempfile.TemporaryDirectory(prefix="csp11-demo-") as work:
        if args.file is None:
            source = Path(work) / "sample.bin"
            with open(source, "wb") as out:  # not secret: made for the round trip
                out.write(os.urandom(_DEMO_BYTES))
        else:
            source = Path(args.file)
        encrypted = Path(work) / (source.name + ".csp11")
        restored = Path(work) / (source.name + ".restored")
        sealed = filecrypt.encrypt_file(source, encrypted, container=args.container,
                                        token=args.token)
        opened = filecrypt.decrypt_file(encrypted, restored, container=args.container,
                                        token=args.token)
        identical = _same_file(source, restored)
        header_size = _header_size(encrypted)
        encrypted_size = encrypted.stat().st_size
    if not identical:  # decrypt_file verified the signature: this would be a csp11 bug
        raise error(winerror.NTE_FAIL, "demo", "the decrypted file differs from the original")
    return {
        "command": "demo",
        "input": str(args.file) if args.file else f"{_DEMO_BYTES} random bytes",
        "container": args.container,
        "bytes": sealed.bytes,
        "encrypted_bytes": encrypted_size,
        "header_bytes": header_size,
        "encrypt_seconds": round(sealed.seconds, 6),
        "decrypt_seconds": round(opened.seconds, 6),
        "identical": identical,
    }


def _same_file(a: Path, b: Path) -> bool:
    with open(a, "rb") as left, open(b, "rb") as right:
        while True:
            x, y = left.read(1 << 20), right.read(1 << 20)
            if x != y:
                return False
            if not x:
                return True


def _header_size(path: Path) -> int:
    with open(path, "rb") as src:
        return len(filecrypt.Header.read(src, path.stat().st_size).to_bytes())


def _print_demo(data: dict[str, Any]) -> None:
    print(f"container {data['container']!r} on the token: RSA exchange key pair (made on "
          "first use)")
    print(f"encrypted {data['input']}: {data['bytes']:,} bytes -> {data['encrypted_bytes']:,} "
          f"(header with SIMPLEBLOB {data['header_bytes']} bytes) in "
          f"{data['encrypt_seconds']:.2f} s")
    print(f"decrypted and verified in {data['decrypt_seconds']:.2f} s: "
          f"{'identical' if data['identical'] else 'DIFFERENT'}")


def _token_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--token", metavar="URI", help="RFC 7512 PKCS#11 URI of the token (default: CSP11_TOKEN, "
        "else the embedded default token)",
    )


def _file_parser(sub: Any, command: str) -> None:
    decrypting = command == "decrypt"
    parser = sub.add_parser(
        command,
        help="decrypt a file made by csp11 encrypt" if decrypting
        else "encrypt a file for a key container's exchange key",
        description=(
            "Decrypt FILE (made by csp11 encrypt) with the key container's exchange key. The "
            "output is written only when the whole file decrypts and its signature verifies; "
            "a changed, truncated or foreign file fails and leaves no output."
            if decrypting else
            "Encrypt FILE with a new AES-256 key, wrapped (SIMPLEBLOB, OAEP) for the key "
            "container's RSA exchange key and signed with it. The container and its key are "
            "made on the token on first use."
        ),
    )
    parser.add_argument("file", metavar="FILE", help="the file to " + command)
    parser.add_argument(
        "-o", "--output", metavar="OUT",
        help="where to write (default: FILE without .csp11)" if decrypting
        else "where to write (default: FILE.csp11)",
    )
    parser.add_argument(
        "--container", metavar="NAME", default=filecrypt.DEFAULT_CONTAINER,
        help=f"key container on the token (default: {filecrypt.DEFAULT_CONTAINER})",
    )
    parser.add_argument("-f", "--force", action="store_true", help="replace OUT if it exists")
    _token_option(parser)
    parser.add_argument("--json", action="store_true", help="print JSON for scripts")
    parser.set_defaults(run=_crypt_file, show=_print_crypt_file, parser=parser)


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
    _token_option(info)
    info.add_argument("--provider", metavar="NAME", help="Microsoft provider name to emulate")
    info.add_argument(
        "--type", choices=sorted(_PROV_TYPES), default="rsa_aes", help="provider type"
    )
    info.add_argument("--json", action="store_true", help="print JSON for scripts")
    info.set_defaults(run=_info, show=_print_info)
    _file_parser(sub, "encrypt")
    _file_parser(sub, "decrypt")
    demo = sub.add_parser(
        "demo",
        help="encrypt a file and decrypt it again (the whole flow, in a temporary directory)",
        description="Microsoft's 'Encrypting a File' and 'Decrypting a File' on the token: "
        "encrypt FILE (default: 4 MiB of random bytes) for the key container, decrypt it, "
        "and compare. Nothing is left behind but the container and its key.",
    )
    demo.add_argument("file", metavar="FILE", nargs="?", help="the file to use")
    demo.add_argument(
        "--container", metavar="NAME", default=filecrypt.DEFAULT_CONTAINER,
        help=f"key container on the token (default: {filecrypt.DEFAULT_CONTAINER})",
    )
    _token_option(demo)
    demo.add_argument("--json", action="store_true", help="print JSON for scripts")
    demo.set_defaults(run=_demo, show=_print_demo)
    return parser


def _describe(exc: BaseException) -> str:
    """A failure in one line."""
    if isinstance(exc, error):
        meaning = winerror.MESSAGES.get(exc.winerror, "").rstrip(".")
        code = winerror.name_of(exc.winerror) + (f" ({meaning})" if meaning else "")
        return f"{exc.funcname} failed: {code}: {exc.strerror}"
    if isinstance(exc, FileExistsError):
        return f"{exc}: use --force to replace it"
    if isinstance(exc, OSError):
        return f"{exc.filename}: {exc.strerror}" if exc.filename else str(exc)
    return "interrupted"


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
    run: Callable[[argparse.Namespace], dict[str, Any]] = args.run
    try:
        data = run(args)
    except (error, OSError, KeyboardInterrupt) as exc:
        if args.verbose:
            raise
        print(f"csp11: {_describe(exc)}", file=sys.stderr)
        return 130 if isinstance(exc, KeyboardInterrupt) else 1
    if args.json:
        print(json.dumps(data, indent=2))
    else:
        args.show(data)
    return 0
