"""CryptGenKey: provider × ALG_ID × length × flags, each cell checked against the
table of the seed and WINDOWS-FACTS, written out here independently of csp11's
own tables (and of SoftHSM2's measured limits, TOKEN-FACTS).

The default run checks a representative slice; ``-m slow`` walks every cell,
including 16384-bit RSA keys (about a minute each on SoftHSM2).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from csp11 import pywintypes, win32crypt, winerror
from csp11 import win32cryptcon as con

# ---- the expected table (seed + notes/WINDOWS-FACTS.md) ---------------------------
# ALG_ID → (default, min, max, step) per provider; lengths without parity.
RC_BASE = {con.CALG_RC2: (40, 40, 56, 8), con.CALG_RC4: (40, 40, 56, 8)}
RC_ENH = {con.CALG_RC2: (128, 40, 128, 8), con.CALG_RC4: (128, 40, 128, 8)}
DES = {con.CALG_DES: (56, 56, 56, 0)}
TDES = {con.CALG_3DES_112: (112, 112, 112, 0), con.CALG_3DES: (168, 168, 168, 0)}
AES = {con.CALG_AES_128: (128, 128, 128, 0), con.CALG_AES_192: (192, 192, 192, 0),
       con.CALG_AES_256: (256, 256, 256, 0)}
RSA_ENH = {con.CALG_RSA_SIGN: (1024, 384, 16384, 8), con.CALG_RSA_KEYX: (1024, 384, 16384, 8)}
DSS = {con.CALG_DSS_SIGN: (1024, 512, 1024, 64)}

PROVIDERS: dict[str, tuple[int, dict[int, tuple[int, int, int, int]], int, int]] = {
    # name: (type, offers, AT_KEYEXCHANGE →, AT_SIGNATURE →)
    con.MS_DEF_PROV: (con.PROV_RSA_FULL, {
        **RC_BASE, **DES, con.CALG_RSA_SIGN: (512, 384, 16384, 8),
        con.CALG_RSA_KEYX: (512, 384, 1024, 8)}, con.CALG_RSA_KEYX, con.CALG_RSA_SIGN),
    con.MS_STRONG_PROV: (con.PROV_RSA_FULL, {**RC_ENH, **DES, **TDES, **RSA_ENH},
                         con.CALG_RSA_KEYX, con.CALG_RSA_SIGN),
    con.MS_ENHANCED_PROV: (con.PROV_RSA_FULL, {**RC_ENH, **DES, **TDES, **RSA_ENH},
                           con.CALG_RSA_KEYX, con.CALG_RSA_SIGN),
    con.MS_ENH_RSA_AES_PROV: (con.PROV_RSA_AES, {**RC_ENH, **DES, **TDES, **AES, **RSA_ENH},
                              con.CALG_RSA_KEYX, con.CALG_RSA_SIGN),
    con.MS_DEF_DSS_PROV: (con.PROV_DSS, {**DSS}, 0, con.CALG_DSS_SIGN),
    con.MS_DEF_DSS_DH_PROV: (con.PROV_DSS_DH, {
        **RC_BASE, **DES, **DSS, con.CALG_DH_SF: (512, 512, 1024, 64),
        con.CALG_DH_EPHEM: (512, 512, 1024, 64)}, con.CALG_DH_SF, con.CALG_DSS_SIGN),
    con.MS_ENH_DSS_DH_PROV: (con.PROV_DSS_DH, {
        **RC_ENH, **DES, **TDES, **DSS, con.CALG_DH_SF: (1024, 512, 4096, 64),
        con.CALG_DH_EPHEM: (1024, 512, 4096, 64)}, con.CALG_DH_SF, con.CALG_DSS_SIGN),
}
PARITY = {con.CALG_DES: 8, con.CALG_3DES_112: 16, con.CALG_3DES: 24}

# What SoftHSM2 2.6 can make (TOKEN-FACTS): no RC2/RC4; RSA from 512 bits;
# DSA only at 1024 bits.
TOKEN_LACKS = {con.CALG_RC2, con.CALG_RC4}
TOKEN_MIN = {con.CALG_RSA_SIGN: 512, con.CALG_RSA_KEYX: 512, con.CALG_DSS_SIGN: 1024}

ALGIDS = (
    con.CALG_DES, con.CALG_3DES_112, con.CALG_3DES, con.CALG_AES_128, con.CALG_AES_192,
    con.CALG_AES_256, con.CALG_RC2, con.CALG_RC4, con.CALG_RSA_SIGN, con.CALG_RSA_KEYX,
    con.AT_KEYEXCHANGE, con.AT_SIGNATURE, con.CALG_DSS_SIGN, con.CALG_DH_SF,
    con.CALG_DH_EPHEM, con.CALG_AES, con.CALG_SHA1, con.CALG_CYLINK_MEK,
)
BAD_FLAG = 0x20  # not in the seed's table


@dataclass(frozen=True)
class Cell:
    provider: str
    algid: int
    length: int
    flags: int

    def __str__(self) -> str:
        return f"{self.provider[:24]}|0x{self.algid:04X}|{self.length}|0x{self.flags:X}"


def expected(cell: Cell) -> tuple[str, int]:
    """("ok", KP_KEYLEN) or ("error", winerror code)."""
    _, offers, keyx, sign = PROVIDERS[cell.provider]
    if cell.flags & BAD_FLAG:
        return "error", winerror.NTE_BAD_FLAGS
    algid = {con.AT_KEYEXCHANGE: keyx, con.AT_SIGNATURE: sign}.get(cell.algid, cell.algid)
    if algid not in offers or algid in TOKEN_LACKS:
        return "error", winerror.NTE_BAD_ALGID
    default, low, high, step = offers[algid]
    low = max(low, TOKEN_MIN.get(algid, 0))
    default = max(default, low)
    parity = PARITY.get(algid, 0)
    if parity:
        if cell.length in (0, high, high + parity):
            return "ok", high + parity
        return "error", winerror.ERROR_INVALID_PARAMETER
    if cell.length == 0:
        return "ok", default
    if not low <= cell.length <= high:
        return "error", winerror.ERROR_INVALID_PARAMETER
    if step and (cell.length - offers[algid][1]) % step:
        return "error", winerror.NTE_BAD_FLAGS
    return "ok", cell.length


def lengths_for(provider: str, algid: int, full: bool) -> list[int]:
    _, offers, keyx, sign = PROVIDERS[provider]
    resolved = {con.AT_KEYEXCHANGE: keyx, con.AT_SIGNATURE: sign}.get(algid, algid)
    if resolved not in offers:
        return [0, 128]
    default, low, high, step = offers[resolved]
    step = step or 8
    picks = {0, default, low, high, low - step, high + step, low + step // 2,
             high + PARITY.get(resolved, 0)}
    if not full and resolved in (con.CALG_RSA_SIGN, con.CALG_RSA_KEYX):
        # 16384-bit RSA takes about a minute on SoftHSM2: only in the full run.
        picks = {p for p in picks if p <= 2048}
    if not full and resolved in (con.CALG_DH_SF, con.CALG_DH_EPHEM):
        # Sizes without a published group need fresh primes (seconds each).
        picks = {p for p in picks if p in (0, 512, 1024, 4096) or not low <= p <= high}
    return sorted(p for p in picks if p >= 0)


def cells(full: bool) -> Iterator[Cell]:
    for provider in PROVIDERS:
        for algid in ALGIDS:
            for length in lengths_for(provider, algid, full):
                for flags in (0, con.CRYPT_EXPORTABLE, BAD_FLAG):
                    if not full and flags == BAD_FLAG and length:
                        continue
                    yield Cell(provider, algid, length, flags)


def _representative(cell: Cell) -> bool:
    """The default slice: every provider and ALG_ID, every length class, fewer repeats."""
    return cell.flags != con.CRYPT_EXPORTABLE or cell.length == 0


SLICE = [c for c in cells(full=False) if _representative(c)]
FULL = [c for c in cells(full=True) if c not in set(SLICE)]


def _check(cell: Cell) -> None:
    prov_type = PROVIDERS[cell.provider][0]
    ctx = win32crypt.CryptAcquireContext(None, cell.provider, prov_type, con.CRYPT_VERIFYCONTEXT)
    assert ctx is not None
    with ctx as prov:
        outcome, value = expected(cell)
        if outcome == "error":
            with pytest.raises(pywintypes.error) as info:
                prov.CryptGenKey(cell.algid, cell.flags | (cell.length << 16))
            assert info.value.winerror == value, (str(cell), info.value.strerror)
            assert info.value.funcname == "CryptGenKey"
            return
        key = prov.CryptGenKey(cell.algid, cell.flags | (cell.length << 16))
        with key:
            assert key.CryptGetKeyParam(con.KP_KEYLEN) == value, str(cell)
            permissions = key.CryptGetKeyParam(con.KP_PERMISSIONS)
            assert permissions == (0x3F if cell.flags & con.CRYPT_EXPORTABLE else 0x3B)


@pytest.mark.parametrize("cell", SLICE, ids=str)
def test_grid_slice(cell: Cell) -> None:
    _check(cell)


@pytest.mark.slow
@pytest.mark.parametrize("cell", FULL, ids=str)
def test_grid_full(cell: Cell) -> None:
    _check(cell)


def test_grid_covers_every_provider_and_outcome() -> None:
    outcomes = {expected(c) [0] for c in SLICE}
    codes = {expected(c)[1] for c in SLICE if expected(c)[0] == "error"}
    assert outcomes == {"ok", "error"}
    assert codes == {winerror.NTE_BAD_FLAGS, winerror.NTE_BAD_ALGID,
                     winerror.ERROR_INVALID_PARAMETER}
    assert {c.provider for c in SLICE} == set(PROVIDERS)
    assert len(SLICE) > 300
    assert not set(itertools.chain(SLICE)) & set(FULL)
