"""Conformance with a running CryptoAPI (Wine's rsaenh/dssenh): a representative
slice of conformance/harness.py (one trial per case family).

Marked ``wine`` (not in the default run: ``pytest -m wine``); skipped when
wine64 or mingw-w64 is missing.  ``scripts/conformance`` runs every case and
writes docs/conformance.md.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from conformance.cases import AREAS, Record
from conformance.harness import BUG, UNDOC, explain, run_conformance
from conformance.sides import find_mingw, find_wine

pytestmark = pytest.mark.wine


@pytest.fixture(scope="module")
def records(tmp_path_factory: pytest.TempPathFactory) -> list[Record]:
    if find_wine() is None or find_mingw() is None:
        pytest.skip("needs wine64 and x86_64-w64-mingw32-gcc (Debian: wine64, "
                    "gcc-mingw-w64-x86-64; scripts/conformance installs them)")
    workdir: Path = tmp_path_factory.mktemp("conformance")
    return run_conformance(AREAS, seed=12, quick=True, workdir=workdir)


def test_every_difference_has_a_reason(records: list[Record]) -> None:
    unexplained = [f"{r.area} | {r.function} | {r.case}: wine={r.wine!r} csp11={r.csp11!r}"
                   for r in records if not r.agree and explain(r) is None]
    assert not unexplained, "\n".join(unexplained)


def test_no_difference_is_a_csp11_bug(records: list[Record]) -> None:
    bugs = [r.case for r in records if not r.agree and (reason := explain(r))
            and reason.kind == BUG]
    assert not bugs


def test_every_csp11_difference_is_documented(records: list[Record]) -> None:
    undocumented = [r.case for r in records if not r.agree and (reason := explain(r))
                    and reason.kind == UNDOC]
    assert not undocumented


@pytest.mark.parametrize("area", ["encryption", "hashes"])
def test_area_agrees_case_for_case(records: list[Record], area: str) -> None:
    differ = [(r.function, r.case) for r in records if r.area == area and not r.agree]
    assert not differ
    assert any(r.area == area for r in records)


def test_rsa_signatures_are_byte_identical(records: list[Record]) -> None:
    rsa = [r for r in records if r.function == "CryptSignHash (RSA)"]
    assert len(rsa) == 36   # 2 key specs x (5 AES-provider + 4 Full-provider hashes) x 2 flags
    assert all(r.agree and isinstance(r.wine, bytes) for r in rsa)


def test_every_area_ran(records: list[Record]) -> None:
    assert {r.area for r in records} == set(AREAS)
    assert sum(r.agree for r in records) > 0.85 * len(records)


def test_cases_csp11_follows_rsaenh_on_agree(records: list[Record]) -> None:
    # Where Microsoft names no code, csp11 answers as rsaenh: a SIMPLEBLOB imported
    # without an exchange key is NTE_BAD_PUBLIC_KEY
    cases = [r for r in records
             if r.function == "CryptImportKey" and r.case == "SIMPLEBLOB without an exchange key"]
    assert len(cases) >= 1
    assert all(r.agree for r in cases), [(r.case, r.wine, r.csp11) for r in cases if not r.agree]
