"""The ``csp11`` command (also ``python -m csp11``).

``csp11 info`` shows the token in use (the embedded default token unless
``--token``/``CSP11_TOKEN`` names another) and what it can do.
``csp11 encrypt FILE`` and ``csp11 decrypt FILE`` encrypt a file for a key
container's exchange key and back (:mod:`csp11.filecrypt`; ``-`` is standard
input or output), with a progress bar when stderr is a terminal.
``csp11 keys`` lists, creates, deletes and exports key containers
(:mod:`csp11.keyscli`).  ``csp11 demo`` runs the whole flow.

Every failure ends with one line on stderr in the user's words, and an exit
status per kind of failure (:data:`EXIT_CODES`, docs/cli.md); ``--verbose``
(anywhere on the command line) adds log lines, the technical detail and a
traceback before it.
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import errno
import json
import logging
import os
import re
import signal
import sys
import tempfile
import time
import traceback
import urllib.parse
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, TextIO

from csp11 import __version__, filecrypt, keyscli, safefiles, win32crypt, win32cryptcon, winerror
from csp11.errors import Fail
from csp11.model.capabilities import token_model
from csp11.ops.keygen import NO_PIN
from csp11.pywintypes import error
from csp11.token import (
    PinRequest,
    PinSources,
    Token,
    TokenInfo,
    get_pin_prompt,
    load_module,
    mechanism_name,
    set_pin_prompt,
)

__all__ = ["EXIT_CODES", "main"]

# Exit statuses, one per kind of failure (docs/cli.md, `csp11 --help`).
EXIT_OK = 0
EXIT_FAILED = 1  # anything else: the file system (an output exists, no space, ...)
EXIT_USAGE = 2  # the command line (argparse's own status), or a question nobody can answer
EXIT_NOT_FOUND = 3  # a file, key container or key that does not exist
EXIT_NOT_AUTHENTIC = 4  # the encrypted file does not authenticate: changed or not for us
EXIT_TOKEN = 5  # the token (or its PKCS#11 module) is not available
EXIT_PIN = 6  # the PIN is wrong, locked, or there was none to use
EXIT_CLOSED_PIPE = 128 + signal.SIGPIPE  # 141: what a shell shows for SIGPIPE

EXIT_CODES = {
    EXIT_OK: "success",
    EXIT_FAILED: "other failure (file system, an output that exists, ...)",
    EXIT_USAGE: "usage: the command line is wrong, or --yes is needed",
    EXIT_NOT_FOUND: "not found: a file, key container or key",
    EXIT_NOT_AUTHENTIC: "the encrypted file does not authenticate (changed, truncated, not "
    "csp11's, or for a key not on this token)",
    EXIT_TOKEN: "the token or its PKCS#11 module is not available",
    EXIT_PIN: "the PIN is wrong or locked, or no PIN could be had",
    EXIT_CLOSED_PIPE: "the reader of standard output went away (closed pipe)",
}

_NOT_AUTHENTIC = (
    "does not authenticate: it was changed or damaged, is not a file csp11 encrypted, or "
    "was encrypted for a key that is not on this token; nothing was written"
)

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
_CKF_TOKEN_INITIALIZED = 0x400
_CKF_USER_PIN_COUNT_LOW = 0x10000
_CKF_USER_PIN_FINAL_TRY = 0x20000
_CKF_USER_PIN_LOCKED = 0x40000

# Mechanisms whose CK_MECHANISM_INFO key sizes count bytes (PKCS#11 §2.x of
# each mechanism); the others count bits.
_SIZE_IN_BYTES = re.compile(
    r"^(AES|DES|DES2|DES3|CAST|CAST3|CAST5|CAST128|IDEA|CDMF|BLOWFISH|TWOFISH|CAMELLIA|ARIA|"
    r"SEED|GENERIC_SECRET|CHACHA20|SALSA20|GOSTR3410|SKIPJACK|BATON|JUNIPER)|_HMAC(_GENERAL)?$"
)

# Codes that mean the token (or its module) cannot be used at all.
_TOKEN_UNAVAILABLE = {
    winerror.SCARD_E_NO_SMARTCARD, winerror.SCARD_W_REMOVED_CARD,
    winerror.SCARD_E_CARD_UNSUPPORTED, winerror.NTE_PROV_DLL_NOT_FOUND,
    winerror.NTE_PROVIDER_DLL_FAIL,
}
_TOKEN_CKRS = {
    "CKR_DEVICE_ERROR", "CKR_DEVICE_REMOVED", "CKR_TOKEN_NOT_PRESENT",
    "CKR_CRYPTOKI_NOT_INITIALIZED", "CKR_SLOT_ID_INVALID", "CKR_TOKEN_NOT_RECOGNIZED",
}
_PIN_CODES = {
    winerror.SCARD_W_WRONG_CHV, winerror.SCARD_W_CHV_BLOCKED,
    winerror.SCARD_W_CARD_NOT_AUTHENTICATED, winerror.SCARD_W_CANCELLED_BY_USER,
}


class _Usage(Exception):
    """A usage error found after parsing (exit status 2)."""


# ---- info ------------------------------------------------------------------------
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
        mechanisms = []
        for m in sorted(token.mechanisms().values(), key=lambda m: m.mechanism):
            name = mechanism_name(m.mechanism)
            unit = "bytes" if _SIZE_IN_BYTES.search(name) else "bits"
            mechanisms.append({
                "name": name,
                "min_key_size": m.min_key_size,
                "max_key_size": m.max_key_size,
                "key_size_unit": unit,
                "flags": m.flags,
            })
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
                "hardware_version": "{}.{}".format(*tinfo.hardware_version),
            },
            "module": {
                "path": tinfo.module_path,
                "description": tinfo.library_description,
                "manufacturer": tinfo.library_manufacturer,
                "version": "{}.{}".format(*tinfo.library_version),
            },
            "random_sample": sample.hex(),
            # What csp11 learned beyond the mechanism list (probes + quirk table).
            "capabilities": _model(token, state.pins),
            "mechanisms": mechanisms,
        }


def _model(token: Token, pins: PinSources) -> dict[str, object]:
    """The token model; the session-pair probe needs a login on some tokens
    (tpm2-pkcs11), and without a PIN at hand that answer is left unknown
    rather than failing ``info``."""
    try:
        return token_model(token).describe(pins)
    except Fail as exc:
        if exc.code not in NO_PIN:
            raise
        return token_model(token).describe(None)


def _provider_type_name(number: int) -> str:
    names = {value: key.upper() for key, value in _PROV_TYPES.items()}
    return f"PROV_{names[number]}" if number in names else f"type {number}"


_NO_LIMIT = 0x7FFFFFFF  # what tokens report as a maximum when there is none


def _sizes(low: int, high: int, unit: str) -> str:
    unbounded = high >= _NO_LIMIT
    if unit == "bytes":
        low, high = low * 8, high * 8
    if unbounded:
        return f"from {low} bits"
    return f"{low} bits" if low == high else f"{low}-{high} bits"


def _capability_lines(model: dict[str, Any]) -> list[str]:
    def yes(value: object) -> str:
        return "unknown" if value is None else ("yes" if value else "no")

    lines = [
        f"Model:     quirks {model['quirks']}; session objects {yes(model['session_objects'])}; "
        f"session key pairs {yes(model['session_key_pairs'])}",
        f"           RSA pairs sign and decrypt whatever asked {yes(model['rsa_pairs_dual_use'])}; "
        f"exportable private keys {yes(model['extractable_private_keys'])}; "
        f"imports private keys {yes(model['imports_private_keys'])}",
        f"           container records in {model['container_records']['carrier']} "
        f"({model['container_records']['why']})",
    ]
    for name, probe in model["secret_keygen"].items():
        lines.append(f"           {name}: generates {yes(probe['generates'])}, "
                     f"CBC with IV {yes(probe['cbc_with_iv'])}"
                     + (f" (CBC {probe['cbc']})" if "cbc" in probe else ""))
    return lines


def _print_info(data: dict[str, Any]) -> None:
    tok, mod = data["token"], data["module"]
    lines = [
        f"csp11 {data['csp11']}",
        f"Token:     {tok['label']!r}, {tok['model']} by {tok['manufacturer']}, serial "
        f"{tok['serial']}, firmware {tok['firmware_version']}",
        f"Chosen as: {data['source']}",
        f"Module:    {mod['path']}",
        f"           {mod['description']} by {mod['manufacturer']}, version {mod['version']}",
        f"State:     {', '.join(tok['flags'])}",
        f"Provider:  {data['provider']} ({_provider_type_name(data['provider_type'])}), "
        f"{'/'.join(data['implementation'])}",
        f"Random:    C_GenerateRandom works (sample {data['random_sample']})",
        *_capability_lines(data["capabilities"]),
        f"CryptoAPI algorithms on this token ({len(data['algorithms'])}):",
    ]
    for alg in data["algorithms"]:
        if alg["max"] == 0:
            sizes = "size set by its key"
        elif alg["min"] != alg["max"]:
            sizes = f"{alg['min']}-{alg['max']} bits, default {alg['default']}"
        else:
            sizes = f"{alg['max']} bits"
        lines.append(f"  0x{alg['algid']:04X} {alg['name']:<13} {alg['long_name']} ({sizes})")
    lines.append(f"PKCS#11 mechanisms ({len(data['mechanisms'])}), with key sizes:")
    for mech in data["mechanisms"]:
        sizes = (
            f"  {_sizes(mech['min_key_size'], mech['max_key_size'], mech['key_size_unit'])}"
            if mech["max_key_size"] else ""
        )
        lines.append(f"  {mech['name']}{sizes}")
    print("\n".join(lines))


# ---- progress and memory -----------------------------------------------------------
class _ProgressBar:
    """A one-line progress bar, redrawn at most ten times a second."""

    _WIDTH = 24

    def __init__(self, label: str, stream: TextIO) -> None:
        self._label = label
        self._stream = stream
        self._start = time.monotonic()
        self._drawn_at: float | None = None
        self._ended = False

    def __call__(self, done: int, total: int) -> None:
        now = time.monotonic()
        if done < total and self._drawn_at is not None and now - self._drawn_at < 0.1:
            return
        self._drawn_at = now
        part = done / total if total else 1.0
        filled = int(part * self._WIDTH)
        elapsed = now - self._start
        rate = f"  {done / elapsed / _MIB:.0f} MiB/s" if elapsed > 0 else ""
        # The full bar ends its line at once: what comes next (the per-use
        # PIN prompt of a user-protected key's signature) starts on its own.
        end = "\n" if done >= total else ""
        self._stream.write(
            f"\r{self._label} [{'#' * filled}{'.' * (self._WIDTH - filled)}] {part:4.0%} "
            f"{done / _MIB:.1f}/{total / _MIB:.1f} MiB{rate}\x1b[K{end}"
        )
        self._stream.flush()
        self._ended = bool(end)

    def close(self) -> None:
        """End the bar's line (so that what follows starts on its own)."""
        if self._drawn_at is not None and not self._ended:
            self._stream.write("\n")
            self._stream.flush()
            self._ended = True


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


@contextlib.contextmanager
def _bars(args: argparse.Namespace, decrypting: bool) -> Iterator[dict[str, Any]]:
    """Progress callbacks for ``encrypt_file``/``decrypt_file`` (none unless
    stderr is a terminal, and none when the data goes to that terminal too:
    the bar would be drawn through it)."""
    if not sys.stderr.isatty() or (args.to_stdout and sys.stdout.isatty()):
        yield {}
        return
    name = args.file if len(args.file) <= 32 else "..." + args.file[-29:]
    made: list[_ProgressBar] = []

    def bar(label: str) -> Callable[[int, int], None]:
        def step(done: int, total: int) -> None:
            if not made or made[-1]._label != label:
                if made:
                    made[-1].close()
                made.append(_ProgressBar(label, sys.stderr))
            made[-1](done, total)
        return step

    try:
        if decrypting:
            yield {"verify_progress": bar(f"verifying {name}"),
                   "progress": bar(f"decrypting {name}")}
        else:
            yield {"progress": bar(f"encrypting {name}")}
    finally:
        if made:
            made[-1].close()


# ---- encrypt and decrypt -----------------------------------------------------------
def _crypt_file(args: argparse.Namespace) -> dict[str, Any]:
    decrypting = args.command == "decrypt"
    target = args.output
    if target is None and args.file != safefiles.STDIO:
        try:
            target = str(filecrypt.default_output(args.file, decrypting=decrypting))
        except ValueError as exc:
            raise _Usage(f"{exc} (-o FILE, or -o - for standard output)") from None
    to_stdout = target in (None, safefiles.STDIO)
    if to_stdout and not decrypting and sys.stdout.isatty():
        raise _Usage("encrypted data is not written to a terminal: use -o FILE or a pipe")
    args.to_stdout = to_stdout
    _tune_malloc()
    with _bars(args, decrypting) as progress:
        if decrypting:
            result = filecrypt.decrypt_file(
                args.file, target, container=args.container, token=args.token,
                overwrite=args.force, stdio=True, **progress,
            )
        else:
            result = filecrypt.encrypt_file(
                args.file, target, container=args.container or filecrypt.DEFAULT_CONTAINER,
                token=args.token, overwrite=args.force, stdio=True, **progress,
            )
    return {
        "command": args.command,
        "input": result.input,
        "output": result.output,
        "bytes": result.bytes,
        "seconds": round(result.seconds, 6),
        "container": result.container,
        "key_bits": result.key_bits,
    }


def _print_crypt_file(data: dict[str, Any]) -> None:
    print(f"{data['command']}ed {data['input']} -> {data['output']}: {data['bytes']:,} bytes "
          f"in {data['seconds']:.2f} s, key container {data['container']!r}")


# ---- demo --------------------------------------------------------------------------
_DEMO_BYTES = 4 * 1024 * 1024 + 7


def _demo(args: argparse.Namespace) -> dict[str, Any]:
    """Encrypt a file for the container, decrypt it again, compare: the whole flow."""
    _tune_malloc()
    container = args.container or filecrypt.DEFAULT_CONTAINER
    with tempfile.TemporaryDirectory(prefix="csp11-demo-") as work:
        if args.file is None:
            source = Path(work) / "sample.bin"
            with open(source, "wb") as out:  # not secret: made for the round trip
                out.write(os.urandom(_DEMO_BYTES))
        else:
            source = Path(args.file)
        encrypted = Path(work) / (source.name + ".csp11")
        restored = Path(work) / (source.name + ".restored")
        sealed = filecrypt.encrypt_file(source, encrypted, container=container,
                                        token=args.token)
        opened = filecrypt.decrypt_file(encrypted, restored, token=args.token)
        identical = _same_file(source, restored)
        encrypted_size = encrypted.stat().st_size
    if not identical:  # decrypt_file verified the signature: this would be a csp11 bug
        raise error(winerror.NTE_FAIL, "demo", "the decrypted file differs from the original")
    return {
        "command": "demo",
        "input": str(args.file) if args.file else f"{_DEMO_BYTES} random bytes",
        "container": container,
        "bytes": sealed.bytes,
        "encrypted_bytes": encrypted_size,
        "header_bytes": sealed.header_bytes,
        "signature_bytes": sealed.key_bits // 8,
        "key_bits": sealed.key_bits,
        "key_created": sealed.created_key,
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


def _print_demo(data: dict[str, Any]) -> None:
    made = "made now" if data["key_created"] else "already on the token"
    what = "random data" if data["input"].endswith("random bytes") else data["input"]
    print(f"key container {data['container']!r}: RSA {data['key_bits']}-bit exchange key "
          f"({made})")
    print(f"encrypted {what}: {data['bytes']:,} bytes -> {data['encrypted_bytes']:,} bytes "
          f"(header {data['header_bytes']}, signature {data['signature_bytes']}) in "
          f"{data['encrypt_seconds']:.2f} s")
    print(f"decrypted in {data['decrypt_seconds']:.2f} s: signature verified, "
          f"{'identical to the original' if data['identical'] else 'DIFFERENT'}")


# ---- keys --------------------------------------------------------------------------
def _keys_list(args: argparse.Namespace) -> dict[str, Any]:
    return keyscli.listing(args.token)


def _keys_create(args: argparse.Namespace) -> dict[str, Any]:
    return keyscli.create(args.name, bits=args.bits, exportable=args.exportable,
                          user_protected=args.user_protected, token=args.token)


def _keys_delete(args: argparse.Namespace) -> dict[str, Any]:
    return keyscli.delete(args.name, yes=args.yes, token=args.token)


def _keys_export(args: argparse.Namespace) -> dict[str, Any]:
    data = keyscli.export(args.name, blob=args.blob, token=args.token)
    if args.blob and sys.stdout.isatty():
        raise _Usage("a PUBLICKEYBLOB is binary: redirect standard output to a file")
    sys.stdout.buffer.write(data)
    sys.stdout.buffer.flush()
    return {}


# ---- the parser --------------------------------------------------------------------
def _common(parser: argparse.ArgumentParser, *, token: bool = True) -> None:
    """Options every command takes, before or after the command's name.

    Defaults are SUPPRESS so that a subcommand's parser never overwrites what
    was given before the subcommand."""
    parser.add_argument("-v", "--verbose", action="store_true", default=argparse.SUPPRESS,
                        help="log what csp11 does; technical detail and a traceback on errors")
    if token:
        parser.add_argument(
            "--token", metavar="URI", default=argparse.SUPPRESS,
            help="RFC 7512 PKCS#11 URI of the token (default: CSP11_TOKEN, else the "
            "embedded default token)",
        )


def _json_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print JSON for scripts")


def _file_parser(sub: Any, command: str) -> None:
    decrypting = command == "decrypt"
    parser = sub.add_parser(
        command,
        help="decrypt a file made by csp11 encrypt" if decrypting
        else "encrypt a file for a key container's exchange key",
        description=(
            "Decrypt FILE (made by csp11 encrypt; - for standard input) with the exchange key "
            "of the key container its header names. The whole file is authenticated first; "
            "only then is anything written. A changed, truncated or foreign file fails "
            f"(exit status {EXIT_NOT_AUTHENTIC}) and leaves no output."
            if decrypting else
            "Encrypt FILE (- for standard input) with a new AES-256 key, wrapped (SIMPLEBLOB, "
            "OAEP) for the key container's RSA exchange key and signed with it. Only the "
            f"default container ({filecrypt.DEFAULT_CONTAINER}) is made on first use; make "
            "others with `csp11 keys create NAME`."
        ),
    )
    parser.add_argument("file", metavar="FILE", help=f"the file to {command}, or - for stdin")
    parser.add_argument(
        "-o", "--output", metavar="OUT",
        help="where to write, - for stdout (default: FILE without .csp11; stdout when FILE "
        "is -)" if decrypting
        else "where to write, - for stdout (default: FILE.csp11; stdout when FILE is -)",
    )
    parser.add_argument(
        "--container", metavar="NAME", default=None,
        help="key container: the one the file's header names by default" if decrypting
        else f"key container on the token (default: {filecrypt.DEFAULT_CONTAINER})",
    )
    parser.add_argument("-f", "--force", action="store_true",
                        help="replace OUT if it is an existing regular file")
    _common(parser)
    _json_option(parser)
    parser.set_defaults(run=_crypt_file, show=_print_crypt_file)


def _keys_parser(sub: Any) -> None:
    keys = sub.add_parser(
        "keys", help="list, create, delete and export key containers",
        description="The key containers on the token and their key pairs.",
    )
    _common(keys)
    actions = keys.add_subparsers(dest="keys_command", metavar="ACTION")
    listing = actions.add_parser("list", help="the containers on the token and their keys",
                                 description="Each container with its key pairs: key spec, "
                                 "algorithm, size in bits, exportable or not, user-protected "
                                 "or not, and the key id encrypted files record.")
    _common(listing)
    _json_option(listing)
    listing.set_defaults(run=_keys_list, show=keyscli.show_listing)
    create = actions.add_parser(
        "create", help="make a container with an RSA exchange key pair",
        description="Make key container NAME with an RSA exchange key pair on the token "
        "(not exportable unless --exportable).",
    )
    create.add_argument("name", metavar="NAME")
    create.add_argument("--bits", type=int, default=filecrypt.EXCHANGE_KEY_BITS,
                        help=f"RSA key size (default: {filecrypt.EXCHANGE_KEY_BITS})")
    create.add_argument("--exportable", action="store_true",
                        help="the private key may leave the token (CRYPT_EXPORTABLE)")
    create.add_argument("--user-protected", action="store_true",
                        help="ask for the PIN at each use of the private key "
                        "(CRYPT_USER_PROTECTED)")
    _common(create)
    _json_option(create)
    create.set_defaults(run=_keys_create, show=keyscli.show_created)
    delete = actions.add_parser(
        "delete", help="delete a container and its keys",
        description="Delete key container NAME and its keys. Files encrypted for it can never "
        "be decrypted again. Asks first on a terminal; without one, --yes is needed.",
    )
    delete.add_argument("name", metavar="NAME")
    delete.add_argument("-y", "--yes", action="store_true", help="do not ask")
    _common(delete)
    _json_option(delete)
    delete.set_defaults(run=_keys_delete, show=keyscli.show_deleted)
    export = actions.add_parser(
        "export", help="print a container's public exchange key",
        description="Print the public exchange key of container NAME: PEM "
        "(SubjectPublicKeyInfo), or the PUBLICKEYBLOB bytes with --blob.",
    )
    export.add_argument("name", metavar="NAME")
    export.add_argument("--blob", action="store_true", help="the PUBLICKEYBLOB bytes")
    _common(export)
    export.set_defaults(run=_keys_export, show=None, json=False)
    keys.set_defaults(run=None, keys_parser=keys)


def _epilog() -> str:
    rows = "\n".join(f"  {code:>3}  {meaning}" for code, meaning in EXIT_CODES.items())
    return (f"exit status:\n{rows}\n  129, 130, 143  stopped by SIGHUP, SIGINT, SIGTERM "
            "(nothing left behind)\n\n-v/--verbose and --token may come before or after the "
            "command. See docs/cli.md.")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="csp11",
        description="The Windows CryptoAPI provider model on a PKCS#11 token.",
        epilog=_epilog(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"csp11 {__version__}")
    _common(parser)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    info = sub.add_parser(
        "info",
        help="show the token in use and what it can do",
        description="Show the token csp11 uses (the embedded default token unless --token "
        "or CSP11_TOKEN names another) and the mechanisms it offers.",
    )
    _common(info)
    info.add_argument("--provider", metavar="NAME", help="Microsoft provider name to emulate")
    info.add_argument(
        "--type", choices=sorted(_PROV_TYPES), default="rsa_aes", help="provider type"
    )
    _json_option(info)
    info.set_defaults(run=_info, show=_print_info)
    _file_parser(sub, "encrypt")
    _file_parser(sub, "decrypt")
    _keys_parser(sub)
    demo = sub.add_parser(
        "demo",
        help="encrypt a file and decrypt it again (the whole flow, in a temporary directory)",
        description="Microsoft's 'Encrypting a File' and 'Decrypting a File' on the token: "
        "encrypt FILE (default: 4 MiB of random bytes) for the key container, decrypt it, "
        "and compare. Nothing is left behind but the container and its key.",
    )
    demo.add_argument("file", metavar="FILE", nargs="?", help="the file to use")
    demo.add_argument(
        "--container", metavar="NAME", default=None,
        help=f"key container on the token (default: {filecrypt.DEFAULT_CONTAINER})",
    )
    _common(demo)
    _json_option(demo)
    demo.set_defaults(run=_demo, show=_print_demo)
    return parser


# ---- failures ----------------------------------------------------------------------
_CKR = re.compile(r"\s*\(?\bCKR_[A-Z_0-9]+\)?:?")


def _plain(text: str) -> str:
    """A token-layer message without PKCS#11 return-code names."""
    return re.sub(r"\s{2,}", " ", _CKR.sub("", text)).strip(" :;,")


def _pin_flags(token: str | None) -> tuple[str, int] | None:
    """The token's label and flags (for the tries left after a wrong PIN)."""
    try:
        prov = win32crypt.CryptAcquireContext(None, None, win32cryptcon.PROV_RSA_AES,
                                              win32cryptcon.CRYPT_VERIFYCONTEXT, Token=token)
        assert prov is not None
        with prov:
            info = prov._state.token.info()  # state below the handle, as `info` reads it
            return info.label, info.flags
    except Exception:
        return None


def _pin_message(exc: error, token: str | None, typed: bool = False) -> str:
    where = ("CSP11_PIN, the token URI's pin-value or pin-source, or the PIN file of the "
             "embedded token")
    if exc.winerror == winerror.SCARD_W_CANCELLED_BY_USER:
        return "no PIN was entered: nothing was done"
    if exc.winerror == winerror.SCARD_W_CARD_NOT_AUTHENTICATED:
        return f"the token needs a PIN and none could be had: set {where}, or run on a terminal"
    state = _pin_flags(token)
    label = f" for token {state[0]!r}" if state else ""
    flags = state[1] if state else 0
    if exc.winerror == winerror.SCARD_W_CHV_BLOCKED or flags & _CKF_USER_PIN_LOCKED:
        return (f"the PIN{label} is locked: the token's security officer must unlock it "
                "(e.g. softhsm2-util or pkcs11-tool --init-pin)")
    tries = (
        "; final try: one more wrong PIN locks the token" if flags & _CKF_USER_PIN_FINAL_TRY
        else "; the token reports few tries left" if flags & _CKF_USER_PIN_COUNT_LOW
        else ""
    )
    if typed:
        return f"wrong PIN{label}{tries}: the PIN typed at the prompt was not accepted"
    return f"wrong PIN{label}{tries}: check {where}"


def _query(uri: str) -> dict[str, str]:
    _, _, query = uri.partition("?")
    return {key: value for key, value in urllib.parse.parse_qsl(query)}


def _tokens_there(uri: str | None) -> list[str]:
    """Labels of the tokens a URI's module offers (for "no token matches")."""
    text = uri if uri is not None else os.environ.get("CSP11_TOKEN") or ""
    path = _query(text).get("module-path") or os.environ.get("CSP11_MODULE")
    if not text or not path:
        return []
    try:
        infos = [found.info() for found in load_module(path).find_tokens({})]
    except Exception:
        return []
    # A module's free slot (SoftHSM2 always has one) holds no token yet.
    return [info.label for info in infos if info.flags & _CKF_TOKEN_INITIALIZED]


def _token_message(exc: error, token: str | None) -> str:
    if exc.winerror == winerror.SCARD_E_NO_SMARTCARD:
        labels = _tokens_there(token)
        there = (
            "tokens there: " + ", ".join(repr(label) for label in labels) if labels
            else "the module offers no token"
        )
        return f"no token matches the token URI ({there}): check --token or CSP11_TOKEN"
    if "C_Initialize" in exc.strerror:
        return ("the token's PKCS#11 module did not start (C_Initialize failed): check the "
                "module and its configuration (SoftHSM2 reads SOFTHSM2_CONF)")
    return f"the token is not available: {_plain(exc.strerror)}"


def _failure(exc: BaseException, args: argparse.Namespace) -> tuple[int, str]:
    """The exit status and the one line for a failure."""
    if isinstance(exc, _Usage | keyscli.Declined):
        declined = isinstance(exc, keyscli.Declined) and not exc.usage
        return (EXIT_FAILED if declined else EXIT_USAGE), str(exc)
    if isinstance(exc, filecrypt.NotAuthentic):
        file = getattr(args, "file", None)
        name = "standard input" if file == safefiles.STDIO else file or "the encrypted file"
        hint = f" ({exc.hint})" if exc.hint else ""
        return EXIT_NOT_AUTHENTIC, f"{name} {_NOT_AUTHENTIC}{hint}"
    if isinstance(exc, error):
        return _error_failure(exc, args)
    if isinstance(exc, OSError):
        return _os_failure(exc)
    return EXIT_FAILED, f"unexpected failure: {type(exc).__name__}: {exc}"


def _error_failure(exc: error, args: argparse.Namespace) -> tuple[int, str]:
    if isinstance(exc, filecrypt.NoContainer | filecrypt.NoExchangeKey):
        return EXIT_NOT_FOUND, exc.strerror
    if exc.winerror in _PIN_CODES:
        return EXIT_PIN, _pin_message(exc, args.token, typed=bool(getattr(args, "prompted", [])))
    if exc.winerror in _TOKEN_UNAVAILABLE or exc.ckr in _TOKEN_CKRS or (
        # Opening the token failed for a reason it would not name.
        exc.funcname == "CryptAcquireContext" and exc.winerror == winerror.NTE_FAIL
    ):
        return EXIT_TOKEN, _token_message(exc, args.token)
    if exc.winerror in (winerror.NTE_EXISTS, winerror.NTE_BAD_LEN):
        return EXIT_FAILED, exc.strerror + (
            "; nothing was written" if exc.winerror == winerror.NTE_BAD_LEN else "")
    meaning = winerror.MESSAGES.get(exc.winerror, "").rstrip(".")
    return EXIT_FAILED, f"{_plain(exc.strerror)}" + (f" ({meaning})" if meaning else "")


def _os_failure(exc: OSError) -> tuple[int, str]:
    if isinstance(exc, FileExistsError):
        return EXIT_FAILED, f"{exc.filename} exists: use --force to replace it"
    if isinstance(exc, FileNotFoundError):
        return EXIT_NOT_FOUND, f"{exc.filename}: no such file or directory"
    if isinstance(exc, IsADirectoryError):
        return EXIT_FAILED, f"{exc.filename} is a directory: name a file"
    what = os.strerror(exc.errno) if exc.errno else str(exc)
    return EXIT_FAILED, f"{exc.filename}: {what}" if exc.filename else what


def _silence_stdout() -> None:
    """After a closed pipe: later writes and the final flush go nowhere."""
    with contextlib.suppress(OSError, ValueError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)


def _is_closed_pipe(exc: BaseException) -> bool:
    return isinstance(exc, BrokenPipeError) or (
        isinstance(exc, OSError) and exc.errno == errno.EPIPE
    )


def _report(args: argparse.Namespace, data: dict[str, Any]) -> None:
    if args.show is None:  # the command wrote its own output
        return
    if getattr(args, "to_stdout", False):
        # Standard output carries the file: a report goes to stderr, if asked for.
        if args.json:
            print(json.dumps(data, indent=2), file=sys.stderr)
        return
    if args.json:
        print(json.dumps(data, indent=2))
    else:
        args.show(data)
    sys.stdout.flush()


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    parser = _parser()
    args = parser.parse_args(argv)
    verbose = getattr(args, "verbose", False)
    args.token = getattr(args, "token", None)
    # Warnings of the layers below show with --verbose only: a failure is
    # reported once, by the line below, not also by a log line.
    logging.basicConfig(
        level=logging.INFO if verbose else logging.ERROR,
        format="csp11: %(levelname)s: %(message)s",
    )
    if args.command is None or getattr(args, "run", None) is None:  # no command or action
        (args.keys_parser if args.command == "keys" else parser).print_help()
        return EXIT_USAGE
    run: Callable[[argparse.Namespace], dict[str, Any]] = args.run
    # A PIN typed at the prompt and refused is the user's to type again, not a
    # setting to check: the prompt notes that it was asked, for the message.
    args.prompted = []
    outer_prompt = get_pin_prompt()

    def prompt(request: PinRequest) -> str | None:
        answer = outer_prompt(request)
        args.prompted.append(request.reason)
        return answer

    set_pin_prompt(prompt)
    try:
        with safefiles.signals_raise():
            data = run(args)
            _report(args, data)
    except safefiles.Interrupted as exc:
        name = signal.Signals(exc.signum).name
        # A signal that came where csp11 could not stop waited for the work's
        # end when no checkpoint came first: the work stands, and says so.
        said = (f"stopped by {name} once the command had completed" if exc.completed
                else f"stopped by {name}; nothing was left behind")
        with contextlib.suppress(OSError):
            print(f"csp11: {said}", file=sys.stderr)
        # End as the signal would have ended us (the shell sees 128 + signum).
        signal.signal(exc.signum, signal.SIG_DFL)
        os.kill(os.getpid(), exc.signum)
        return 128 + exc.signum  # pragma: no cover - the signal ended the process
    except Exception as exc:
        if _is_closed_pipe(exc):
            _silence_stdout()
            return EXIT_CLOSED_PIPE
        status, message = _failure(exc, args)
        if verbose:
            traceback.print_exception(exc)
            if isinstance(exc, error):
                print(f"csp11: detail: {winerror.name_of(exc.winerror)} in {exc.funcname}: "
                      f"{exc.strerror}", file=sys.stderr)
        print(f"csp11: {message}", file=sys.stderr)
        return status
    finally:
        set_pin_prompt(outer_prompt)
    return EXIT_OK
