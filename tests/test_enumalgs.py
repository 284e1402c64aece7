"""PP_ENUMALGS / PP_ENUMALGS_EX and the key-size parameters."""

from __future__ import annotations

import pytest

from csp11 import pywintypes, win32crypt, winerror
from csp11 import win32cryptcon as con
from csp11.win32crypt import PROV_ENUMALGS, PROV_ENUMALGS_EX, PyCRYPTPROV

from .helpers import enumerated


def _ctx(provider: str, prov_type: int) -> PyCRYPTPROV:
    ctx = win32crypt.CryptAcquireContext(None, provider, prov_type, con.CRYPT_VERIFYCONTEXT)
    assert ctx is not None
    return ctx


def test_aes_provider_on_softhsm2() -> None:
    with _ctx(con.MS_ENH_RSA_AES_PROV, con.PROV_RSA_AES) as ctx:
        rows = enumerated(ctx, con.PP_ENUMALGS_EX)
        assert all(isinstance(r, PROV_ENUMALGS_EX) for r in rows)
        by_id = {r.aiAlgid: r for r in rows}
        # SoftHSM2 has no RC2/RC4; MD2 and MD4 are computed in software, as every
        # PROV_RSA_FULL/PROV_RSA_AES provider offers them.
        assert con.CALG_RC2 not in by_id and con.CALG_RC4 not in by_id
        assert con.CALG_MD2 in by_id and con.CALG_MD4 in by_id
        assert by_id[con.CALG_AES_256] == PROV_ENUMALGS_EX(
            con.CALG_AES_256, 256, 256, 256, 0, "AES-256", "Advanced Encryption Standard (AES-256)"
        )
        # RSA: the provider's 384..16384, clipped to SoftHSM2's 512..16384.
        assert by_id[con.CALG_RSA_KEYX][1:5] == (1024, 512, 16384, 0x30)
        assert by_id[con.CALG_DES].dwDefaultLen == 56  # no parity in the enumeration
        assert by_id[con.CALG_SHA_256].szName == "SHA-256"
        assert con.CALG_AES not in by_id


def test_enumerations_share_the_cursor_and_restart() -> None:
    with _ctx(con.MS_STRONG_PROV, con.PROV_RSA_FULL) as ctx:
        first = ctx.CryptGetProvParam(con.PP_ENUMALGS, con.CRYPT_FIRST)
        assert isinstance(first, PROV_ENUMALGS)
        second = ctx.CryptGetProvParam(con.PP_ENUMALGS_EX, 0)  # 0 continues, as CRYPT_NEXT
        assert second.aiAlgid != first.aiAlgid
        again = ctx.CryptGetProvParam(con.PP_ENUMALGS, con.CRYPT_FIRST)
        assert again == first
        plain = enumerated(ctx, con.PP_ENUMALGS)
        ex = enumerated(ctx, con.PP_ENUMALGS_EX)
        assert [(p.aiAlgid, p.dwBitLen, p.szName) for p in plain] == [
            (e.aiAlgid, e.dwDefaultLen, e.szName) for e in ex
        ]
        with pytest.raises(pywintypes.error) as info:
            ctx.CryptGetProvParam(con.PP_ENUMALGS, 0x100)
        assert info.value.winerror == winerror.NTE_BAD_FLAGS


@pytest.mark.parametrize(
    ("provider", "prov_type", "algid"),
    [
        (con.MS_ENH_RSA_AES_PROV, con.PROV_RSA_AES, con.CALG_RSA_SIGN),
        (con.MS_DEF_PROV, con.PROV_RSA_FULL, con.CALG_RSA_KEYX),
        (con.MS_DEF_DSS_PROV, con.PROV_DSS, con.CALG_DSS_SIGN),
        (con.MS_ENH_DSS_DH_PROV, con.PROV_DSS_DH, con.CALG_DH_SF),
    ],
)
def test_enumerated_lengths_are_generatable(provider: str, prov_type: int, algid: int) -> None:
    """What PP_ENUMALGS_EX promises, CryptGenKey delivers (min, default; max if quick)."""
    with _ctx(provider, prov_type) as ctx:
        row = next(r for r in enumerated(ctx, con.PP_ENUMALGS_EX) if r.aiAlgid == algid)
        for bits in {row.dwMinLen, row.dwDefaultLen}:
            with ctx.CryptGenKey(algid, bits << 16) as key:
                assert key.CryptGetKeyParam(con.KP_KEYLEN) == bits
        if row.dwMinLen > 64:
            with pytest.raises(pywintypes.error) as info:
                ctx.CryptGenKey(algid, (row.dwMinLen - 64) << 16)
            assert info.value.winerror == winerror.ERROR_INVALID_PARAMETER


def test_dss_is_clipped_to_what_softhsm2_can_make() -> None:
    with _ctx(con.MS_DEF_DSS_PROV, con.PROV_DSS) as ctx:
        row = next(r for r in enumerated(ctx, con.PP_ENUMALGS_EX) if r.aiAlgid == con.CALG_DSS_SIGN)
        assert (row.dwDefaultLen, row.dwMinLen, row.dwMaxLen) == (1024, 1024, 1024)


@pytest.mark.parametrize(
    ("provider", "prov_type", "inc", "keyspec"),
    [
        (con.MS_ENH_RSA_AES_PROV, con.PROV_RSA_AES, 8, 3),
        (con.MS_DEF_DSS_PROV, con.PROV_DSS, 64, con.AT_SIGNATURE),
        (con.MS_ENH_DSS_DH_PROV, con.PROV_DSS_DH, 64, 3),
    ],
)
def test_keysize_increments_and_keyspec(
    provider: str, prov_type: int, inc: int, keyspec: int
) -> None:
    with _ctx(provider, prov_type) as ctx:
        assert ctx.CryptGetProvParam(con.PP_SIG_KEYSIZE_INC) == inc
        assert ctx.CryptGetProvParam(con.PP_KEYX_KEYSIZE_INC) == inc
        assert ctx.CryptGetProvParam(con.PP_KEYSPEC) == keyspec


def test_every_offer_has_an_algorithm_row() -> None:
    from csp11.model.algorithms import ALGORITHMS
    from csp11.model.providers import PERSONALITIES

    for personality in PERSONALITIES:
        for offer in personality.offers:
            alg = ALGORITHMS[offer.algid]
            assert offer.minimum <= offer.default <= offer.maximum, (personality.name, alg.name)
            if offer.step:
                assert (offer.maximum - offer.minimum) % offer.step == 0
