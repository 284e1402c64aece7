"""CryptGenKey + CryptDestroyKey against the same work done directly with python-pkcs11.

Both run in this process, on the same token and session pool, alternating in
batches so that drift affects both alike; the figure is the median batch.
Targets (issue #3): AES-256 at most 1.3x the direct call, RSA-2048 key pairs
within 1.05x.

    .venv/bin/python benchmarks/bench_genkey.py [--rounds N]
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

from csp11 import win32crypt, win32cryptcon
from csp11.token import Attribute, KeyType


def batch(fn: Callable[[], None], n: int) -> float:
    start = time.perf_counter()
    for _ in range(n):
        fn()
    return (time.perf_counter() - start) / n


def compare(name: str, ours: Callable[[], None], direct: Callable[[], None],
            n: int, rounds: int, target: float) -> float:
    ours()  # warm up
    direct()
    a, b = [], []
    for _ in range(rounds):
        a.append(batch(ours, n))
        b.append(batch(direct, n))
    mine, theirs = statistics.median(a), statistics.median(b)
    ratio = mine / theirs
    verdict = "ok" if ratio <= target else "OVER TARGET"
    print(f"{name:<34} csp11 {mine * 1e6:10.1f} us   python-pkcs11 {theirs * 1e6:10.1f} us"
          f"   ratio {ratio:5.3f}  (target <= {target}) {verdict}")
    return ratio


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=15)
    args = parser.parse_args()
    prov = win32crypt.CryptAcquireContext(None, None, win32cryptcon.PROV_RSA_AES,
                                          win32cryptcon.CRYPT_VERIFYCONTEXT)
    assert prov is not None
    token = prov._state.token
    pooled = token.acquire()  # the direct calls get a session of their own
    session = pooled.session

    def csp11_aes() -> None:
        prov.CryptGenKey(win32cryptcon.CALG_AES_256, 0).CryptDestroyKey()

    def direct_aes() -> None:
        session.generate_key(KeyType.AES, 256, template={Attribute.PRIVATE: False}).destroy()

    def csp11_rsa() -> None:
        prov.CryptGenKey(win32cryptcon.CALG_RSA_SIGN, 2048 << 16).CryptDestroyKey()

    def direct_rsa() -> None:
        for obj in session.generate_keypair(
            KeyType.RSA, 2048, public_template={Attribute.PRIVATE: False},
            private_template={Attribute.PRIVATE: False},
        ):
            obj.destroy()

    compare("AES-256 generate + destroy", csp11_aes, direct_aes, 500, args.rounds, 1.3)
    compare("RSA-2048 key pair + destroy", csp11_rsa, direct_rsa, 4, args.rounds, 1.05)
    token.release(pooled)


if __name__ == "__main__":
    main()
