"""Conformance of csp11 against a running CryptoAPI (Wine's rsaenh/dssenh).

``scripts/conformance`` runs this end to end; by hand::

    CSP11_HOME=$(mktemp -d) .venv/bin/python -m conformance.harness --out docs/conformance.md

It builds conformance/capi_helper.c with mingw-w64, starts it once under wine64
in a throwaway WINEPREFIX, runs every case of conformance/cases.py on both
sides with the same seeded inputs, and writes a Markdown report: per function
and case, agree or differ, and for every difference its reason
(:data:`REASONS`), or "unexplained".
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .cases import AREAS, Record, Run, run_areas
from .sides import Csp11Side, WineSide


@dataclass(frozen=True)
class Reason:
    function: str   # regex on Record.function
    case: str       # regex on Record.case
    kind: str       # "csp11 difference", "Wine deviation", "csp11 bug"
    text: str

    def matches(self, record: Record) -> bool:
        return bool(re.search(self.function, record.function)
                    and re.search(self.case, record.case))


DIFF = "csp11 difference (documented)"
UNDOC = "csp11 difference, not yet in docs/differences.md"
WINE = "Wine deviation (known)"
WINE_NEW = "Wine deviation (newly observed)"
WINE_DOC = "Wine deviation from Microsoft's documentation"
BUG = "csp11 bug"

_FACTS = "WINDOWS-FACTS, known Wine deviations"
_BLOB_CODES = (f"{_FACTS}: \"its error codes for malformed key BLOBs differ from Windows in "
               "places\"")
_BAD_LENGTHS = (f"{_FACTS}: \"it accepts some BLOBs whose bit length disagrees with their "
                "data\"")
_DSSENH = ("Wine 8's dssenh is incomplete (CPEncrypt, CPDecrypt, CPGetKeyParam, CPSetKeyParam, "
           "CPHashSessionKey are unimplemented stubs; the harness never calls them on DSS keys, "
           "since a stub aborts the process)")
_LENGTHS = ("Microsoft documents ERROR_INVALID_PARAMETER for a key length above the maximum or "
            "below the minimum (seed, CryptGenKey's page: \"a key larger than the maximum or "
            "smaller than the minimum … fails with ERROR_INVALID_PARAMETER\"; CryptDeriveKey's "
            "page: \"the same as CryptGenKey\" but for where the key comes from); Wine's rsaenh "
            "answers NTE_BAD_DATA (NTE_BAD_FLAGS for a fixed-length DES key), and observed "
            "Windows builds deviate from the page too; csp11 follows the page (docs/mapping.md, "
            "CryptGenKey checks; docs/differences.md, Algorithms and lengths: \"Out-of-range key "
            "lengths\")")

# Why a case differs.  Only consulted for cases that differ; the first match wins.
REASONS: list[Reason] = [
    # ---- key BLOBs
    Reason(r"CryptExportKey\(PLAINTEXTKEYBLOB\)", r"not exportable", WINE,
           f"{_FACTS}: \"PLAINTEXTKEYBLOB export ignores CRYPT_EXPORTABLE\"; Windows refuses "
           "(documented), as csp11 does with NTE_BAD_KEY_STATE (WINDOWS-FACTS: a key made "
           "without CRYPT_EXPORTABLE → NTE_BAD_KEY_STATE; docs/differences.md, Key BLOBs)"),
    Reason(r"CryptImportKey\(SIMPLEBLOB\)", r"CRYPT_OAEP .*imports the peer's", WINE_NEW,
           "Wine's rsaenh refuses csp11's OAEP SIMPLEBLOBs (NTE_BAD_DATA), although both sides' "
           "blobs decrypt to the session key with RFC 8017 OAEP "
           "(SHA-1, MGF1, empty label) in `cryptography`: see the agreeing \"(decrypts to the "
           "key with `cryptography`)\" rows; csp11 imports Wine's"),
    Reason(r"CryptImportKey\(SIMPLEBLOB\)", r"OAEP blob, flags 0", WINE,
           f"{_BLOB_CODES}: rsaenh answers NTE_BAD_FLAGS when the PKCS #1 type 2 check of a "
           "SIMPLEBLOB fails; csp11 NTE_BAD_DATA (WINDOWS-FACTS: malformed BLOBs → NTE_BAD_DATA)"),
    Reason(r"PRIVATEKEYBLOB", r"DSS_SIGN .*wine→csp11", WINE_NEW,
           f"{_DSSENH}; CryptExportKey(PRIVATEKEYBLOB) of a DSS key fails with no error code "
           "(GetLastError() = 0), so there is no BLOB to import"),
    Reason(r"PUBLICKEYBLOB", r"DSS_SIGN .*wine→csp11", WINE_NEW,
           f"{_DSSENH}; the PUBLICKEYBLOB of a DSS key it generated is a CNG "
           "BCRYPT_DSA_PUBLIC_BLOB (magic \"DSPB\", no BLOBHEADER), which csp11 refuses "
           "(NTE_BAD_TYPE)"),
    Reason(r"PUBLICKEYBLOB", r"DSS_SIGN .*csp11→wine", WINE_NEW,
           "Wine's dssenh drops the DSSSEED of an imported DSS public key: it exports counter 0 "
           "and a zero seed where csp11's BLOB carried counter 0xFFFFFFFF (no seed); "
           "WINDOWS-FACTS: round trips are exact, DSSSEED included"),
    # ---- signatures
    Reason(r"\(DSS\)", r"one imported key", WINE_NEW,
           f"{_DSSENH}; its signatures with an imported DSS PRIVATEKEYBLOB are not valid for the "
           "key's public value (checked with `cryptography`; csp11's are), and its "
           "CryptVerifySignature fails csp11's valid signatures with no error code"),
    Reason(r"CryptVerifySignature \(DSS\)", r"own keys", WINE_NEW,
           "the Wine-generated key's PUBLICKEYBLOB is a CNG blob csp11 cannot import (see "
           "keyblobs, DSS_SIGN PUBLICKEYBLOB wine→csp11), and Wine fails verification with no "
           "error code"),
    Reason(r"CryptSignHash \(DSS\)", r"MD5", WINE_NEW,
           f"{_DSSENH}; signing an MD5 hash with a DSS key fails with no error code "
           "(GetLastError() = 0); csp11 says NTE_BAD_ALGID"),
    # ---- key parameters
    Reason(r"CryptGetKeyParam$", r"AT_|CALG_RSA|RSA_KEYX", WINE_NEW,
           "KP_IV of an RSA key: rsaenh copies KP_BLOCKLEN/8 bytes (the modulus length, as "
           "Microsoft documents KP_IV) out of the key's IV buffer, which is shorter: beyond "
           "it lies other memory of the process (non-zero from byte 136 of a 2048-bit key's "
           "answer, now and then earlier); csp11 answers zeros, and both agree whenever that "
           "memory is zero (most 1024-bit cases); the other parameters agree"),
    Reason(r"CryptSetKeyParam", r"KP_MODE=99", WINE,
           f"{_FACTS}: \"CRYPT_MODE_OFB/CTS are accepted by KP_MODE then refused at use\" "
           "(Windows refuses a mode it cannot run when it is set); csp11 refuses it at "
           "CryptSetKeyParam with NTE_BAD_DATA; docs/differences.md, Algorithms and lengths: "
           "\"`KP_MODE` OFB, CTS or any value csp11 cannot run\""),
    # ---- errors
    Reason(r"CryptGenKey", r"flag 0x8$", WINE_DOC,
           "Microsoft documents NTE_BAD_FLAGS when dwFlags \"contains a value that is not "
           "valid\" (seed, CryptGenKey's page), and 0x8 (CRYPT_UPDATE_KEY) is no flag of the "
           "page's table (WINDOWS-FACTS: the table's unused flags are accepted and ignored); "
           "Wine's rsaenh ignores the bit; docs/differences.md, Algorithms and lengths: "
           "\"`CryptGenKey` flags outside the seed's table\""),
    Reason(r"CryptGenKey|CryptDeriveKey", r"too short|too long|AES_128 with 192|4096 bits"
           r"|AES_128 length 256", WINE_DOC, _LENGTHS),
    Reason(r"CryptGenKey", r"off step", WINE,
           "WINDOWS-FACTS: a key-pair length inside the range but off the step → NTE_BAD_FLAGS "
           "(csp11); rsaenh says NTE_BAD_DATA"),
    Reason(r"CryptImportKey", r"truncated PRIVATEKEYBLOB|DES with 7 key bytes", WINE,
           _BAD_LENGTHS + " (WINDOWS-FACTS: the DES family needs the full size with parity)"),
    Reason(r"CryptImportKey", r"truncated PLAINTEXTKEYBLOB|bVersion 3|empty BLOB", WINE,
           _BLOB_CODES + " (csp11: NTE_BAD_LEN for a short BLOB, NTE_BAD_VER for a bad bVersion)"),
    Reason(r"CryptImportKey", r"flags 0x2", DIFF,
           "csp11 answers CRYPT_USER_PROTECTED in a verify-only (or silent) context with "
           "NTE_SILENT_CONTEXT, the rule Microsoft documents for CryptGenKey (seed) and that "
           "csp11 keeps for every key it makes; Microsoft's CryptImportKey page gives "
           "NTE_SILENT_CONTEXT for a CRYPT_SILENT context and says nothing of verify contexts; "
           "Wine's rsaenh ignores the flag (docs/differences.md, Key BLOBs: "
           "\"`CRYPT_USER_PROTECTED` on `CryptImportKey` in a verify-only context\")"),
    Reason(r"CryptExportKey", r"SIMPLEBLOB without an exchange key", WINE_DOC,
           "Microsoft documents NTE_NO_KEY (CryptExportKey's page: a session key is exported "
           "and hExpKey is no public key); Wine's rsaenh answers NTE_BAD_PUBLIC_KEY, a code its "
           "source marks \"FIXME: error_code?\" (docs/differences.md, Key BLOBs: \"A "
           "SIMPLEBLOB exported without an exchange key\")"),
    Reason(r"CryptExportKey|CryptDeriveKey", r"flags 0x8000", WINE_DOC,
           "Microsoft documents NTE_BAD_FLAGS for a dwFlags value the function does not define "
           "(CryptExportKey's and CryptDeriveKey's pages; 0x8000 is no flag of either); Wine's "
           "rsaenh ignores the bit (docs/differences.md, Key BLOBs: \"Undefined flag bits\")"),
    Reason(r"CryptSignHash", r"KeySpec 3", WINE_DOC,
           "Microsoft documents NTE_BAD_ALGID (CryptSignHash's page: dwKeySpec has an incorrect "
           "value); Wine's rsaenh answers NTE_NO_KEY, from its CPGetUserKey "
           "(docs/differences.md, Key BLOBs)"),
    Reason(r"CryptDecrypt", r"not final, 8 bytes", WINE_NEW,
           "rsaenh decrypts a partial block when Final=FALSE; WINDOWS-FACTS: Final=False needs "
           "whole blocks (NTE_BAD_DATA), as csp11 answers"),
    Reason(r"CryptCreateHash", r"a cipher ALG_ID", WINE_NEW,
           "rsaenh's CPCreateHash accepts any ALG_ID its provider lists, CALG_AES_128 included; "
           "csp11 answers NTE_BAD_ALGID, the documented code for a non-hash ALG_ID"),
]


def explain(record: Record) -> Reason | None:
    for reason in REASONS:
        if reason.matches(record):
            return reason
    return None


def _short(value: Any, limit: int = 90) -> str:
    if isinstance(value, bytes):
        text = value.hex() if value else "b''"
        return text if len(text) <= limit else f"{text[:limit // 2]}…({len(value)} bytes)"
    if isinstance(value, tuple):
        return "(" + ", ".join(_short(v, 40) for v in value) + ")"
    text = str(value)
    return text if len(text) <= limit else text[:limit] + "…"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def report(records: Sequence[Record], seed: int, trials: int, seconds: float,
           versions: dict[str, str]) -> str:
    lines: list[str] = []
    out = lines.append
    agree = sum(r.agree for r in records)
    out("# Conformance of csp11 with a running CryptoAPI (Wine's rsaenh/dssenh)")
    out("")
    out("Generated by `scripts/conformance` (conformance/harness.py); do not edit by hand.")
    out(f"Seed {seed}, {trials} random trials per case family; "
        f"{len(records)} cases, run in {seconds:.0f} s. "
        + ", ".join(f"{k}: {v}" for k, v in versions.items()) + ".")
    out("")
    out("Each case runs the same calls with the same inputs on both sides: "
        "`conformance/capi_helper.c` (CryptoAPI under wine64) and csp11 on a fresh SoftHSM2 "
        "token.  Keys cross between the two as key BLOBs, so both hold the same key.  A case "
        "agrees when both sides return the same bytes, values or error codes.  RC2 and RC4 "
        "are left out: SoftHSM2 has neither (docs/differences.md, \"Algorithms offered\").")
    out("")
    out(f"**Overall: {agree} of {len(records)} cases agree "
        f"({100.0 * agree / max(1, len(records)):.1f}%).**")
    out("")
    by_area: dict[str, list[Record]] = defaultdict(list)
    for r in records:
        by_area[r.area].append(r)
    out("| Area | Cases | Agree | Differ | Explained differences | Unexplained |")
    out("|---|---:|---:|---:|---:|---:|")
    for area, recs in by_area.items():
        diff = [r for r in recs if not r.agree]
        explained = sum(explain(r) is not None for r in diff)
        out(f"| {area} | {len(recs)} | {len(recs) - len(diff)} | {len(diff)} | {explained} | "
            f"{len(diff) - explained} |")
    out("")
    diffs = [r for r in records if not r.agree]
    kinds: dict[str, int] = defaultdict(int)
    for r in diffs:
        reason = explain(r)
        kinds[reason.kind if reason else "unexplained"] += 1
    out("Differences by reason: " + (", ".join(f"{k}: {n}" for k, n in kinds.items()) or "none")
        + ".")
    out("")
    out("## Differences and their reasons")
    out("")
    if not diffs:
        out("None.")
    else:
        out("| Area | Function | Case | Wine | csp11 | Reason |")
        out("|---|---|---|---|---|---|")
        for r in diffs:
            reason = explain(r)
            why = f"**{reason.kind}**: {reason.text}" if reason else "**unexplained**"
            out(f"| {r.area} | {_cell(r.function)} | {_cell(r.case)} | {_cell(_short(r.wine))} "
                f"| {_cell(_short(r.csp11))} | {_cell(why)} |")
    out("")
    out("## Per function and case")
    out("")
    out("Trials of one case family (`#0`, `#1`, …) are counted together.")
    for area, recs in by_area.items():
        out("")
        out(f"### {area}")
        out("")
        out("| Function | Case | Agree | Differ |")
        out("|---|---|---:|---:|")
        groups: dict[tuple[str, str], list[Record]] = defaultdict(list)
        for r in recs:
            groups[(r.function, re.sub(r" #\d+", "", r.case))].append(r)
        for (function, case), grp in groups.items():
            n_agree = sum(r.agree for r in grp)
            out(f"| {_cell(function)} | {_cell(case)} | {n_agree} | {len(grp) - n_agree} |")
    out("")
    return "\n".join(lines)


def _versions() -> dict[str, str]:
    import subprocess

    versions: dict[str, str] = {}
    for name, cmd in (("Wine", ["wine", "--version"]), ("SoftHSM2", ["softhsm2-util", "-v"])):
        try:
            done = subprocess.run(cmd, capture_output=True, text=True, timeout=60, check=False)
            versions[name] = done.stdout.strip() or "?"
        except OSError:
            versions[name] = "?"
    return versions


def run_conformance(areas: Sequence[str] = AREAS, seed: int = 12, trials: int = 3,
                    quick: bool = False, workdir: Path | None = None) -> list[Record]:
    """Run ``areas`` on Wine and csp11; the records of every case."""
    with tempfile.TemporaryDirectory(prefix="csp11-conformance-") as tmp:
        wine = WineSide(Path(workdir or tmp))
        c = Csp11Side()
        run = Run(wine, c, seed=seed, trials=trials, quick=quick)
        try:
            run_areas(run, list(areas))
        finally:
            run.release_all()
            c.close()
            wine.close()
        return run.records


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--seed", type=int, default=12)
    parser.add_argument("--trials", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="one trial, fewer variants")
    parser.add_argument("--areas", default=",".join(AREAS))
    parser.add_argument("--out", type=Path, help="write the Markdown report here")
    args = parser.parse_args(argv)
    if "CSP11_HOME" not in os.environ:
        os.environ["CSP11_HOME"] = tempfile.mkdtemp(prefix="csp11-conformance-home-")
    start = time.monotonic()
    records = run_conformance(args.areas.split(","), args.seed, args.trials, args.quick)
    seconds = time.monotonic() - start
    text = report(records, args.seed, 1 if args.quick else args.trials, seconds, _versions())
    if args.out:
        args.out.write_text(text)
    unexplained = [r for r in records if not r.agree and explain(r) is None]
    for r in unexplained:
        print(f"DIFFER {r.area} | {r.function} | {r.case}\n  wine:  {_short(r.wine, 400)}\n"
              f"  csp11: {_short(r.csp11, 400)}", file=sys.stderr)
    agree = sum(r.agree for r in records)
    print(f"{agree} of {len(records)} cases agree; {len(unexplained)} unexplained differences; "
          f"{seconds:.0f} s")
    return 1 if unexplained else 0


if __name__ == "__main__":
    sys.exit(main())
