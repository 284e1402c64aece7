"""The published DH groups csp11 embeds, recomputed from their definitions."""

from __future__ import annotations

import pytest

from csp11.formats.dhgroups import GROUPS
from csp11.formats.domain import is_probable_prime


def _arctan_inverse(x: int, scale: int) -> int:
    """arctan(1/x) * scale, by its series, in integers."""
    total = term = scale // x
    x2, n, sign = x * x, 1, -1
    while term:
        term //= x2
        n += 2
        total += sign * (term // n)
        sign = -sign
    return total


def _pi_times(two_power: int) -> int:
    """floor(2**two_power * pi), with Machin's formula and guard bits."""
    guard = 64
    scale = 1 << (two_power + guard)
    pi = 4 * (4 * _arctan_inverse(5, scale) - _arctan_inverse(239, scale))
    return pi >> guard


def _e_times(two_power: int) -> int:
    """floor(2**two_power * e), by the series sum 1/k!."""
    guard = 64
    scale = 1 << (two_power + guard)
    total, term, k = 0, scale, 0
    while term:
        total += term
        k += 1
        term //= k
    return total >> guard


# (bits, defining constant, offset): RFC 2409/3526 use pi, RFC 7919 uses e.
DEFINITIONS = {
    768: ("pi", 149686), 1024: ("pi", 129093), 1536: ("pi", 741804),
    2048: ("e", 560316), 3072: ("e", 2625351), 4096: ("e", 5736041),
}


@pytest.mark.parametrize("bits", sorted(DEFINITIONS))
def test_group_matches_its_definition(bits: int) -> None:
    kind, offset = DEFINITIONS[bits]
    if kind == "pi":  # p = 2^n - 2^(n-64) - 1 + 2^64 * (floor(2^(n-130) pi) + k)
        p = 2**bits - 2 ** (bits - 64) - 1 + 2**64 * (_pi_times(bits - 130) + offset)
    else:  # p = 2^b - 2^(b-64) + (floor(2^(b-130) e) + X) * 2^64 - 1
        p = 2**bits - 2 ** (bits - 64) + (_e_times(bits - 130) + offset) * 2**64 - 1
    group = GROUPS[bits]
    assert group.prime == p
    assert group.generator == 2
    assert p.bit_length() == bits


@pytest.mark.parametrize("bits", [768, 1024, 2048])
def test_groups_are_safe_primes(bits: int) -> None:
    p = GROUPS[bits].prime
    assert is_probable_prime(p, rounds=8)
    assert is_probable_prime((p - 1) // 2, rounds=8)
