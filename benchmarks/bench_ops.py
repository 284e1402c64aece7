"""CryptEncrypt and CryptCreateHash/CryptHashData against the same work done
directly with python-pkcs11.

Both sides run in this process, on the same token, with keys made from the
same template (csp11's own session-key template), alternating in batches so
that drift affects both alike; the figure is the median batch.  Target: each
csp11 call at most 1.15x the direct one.

The work runs on a worker thread by default: on the main thread glibc hands
SoftHSM2's (and Python's) MiB-sized buffers back to the kernel after every
call, which slows both sides by about the same absolute amount
(TOKEN-FACTS); ``--main-thread`` shows that case.

    .venv/bin/python benchmarks/bench_ops.py [--rounds N] [--batch N] [--main-thread]
"""

from __future__ import annotations

import argparse
import os
import threading

from bench_genkey import compare

from csp11 import win32crypt, win32cryptcon
from csp11.core.templates import session_template
from csp11.model.algorithms import ALGORITHMS
from csp11.token import KeyType, Mechanism

_MIB = 1 << 20
_TARGET = 1.15


def run(rounds: int, n: int) -> None:
    prov = win32crypt.CryptAcquireContext(None, None, win32cryptcon.PROV_RSA_AES,
                                          win32cryptcon.CRYPT_VERIFYCONTEXT)
    assert prov is not None
    token = prov._state.token
    pooled = token.acquire()  # the direct calls get a session of their own
    session = pooled.session
    data = os.urandom(_MIB)
    iv = bytes(16)  # csp11's default KP_IV

    ours = prov.CryptGenKey(win32cryptcon.CALG_AES_256, 0)
    template = session_template(ALGORITHMS[win32cryptcon.CALG_AES_256], 256,
                                extractable=False, private=False)
    theirs = session.generate_key(KeyType.AES, 256, template=template)

    def csp11_cbc() -> None:
        ours.CryptEncrypt(False, data)

    def csp11_cbc_final() -> None:
        ours.CryptEncrypt(True, data)

    def direct_cbc() -> None:
        theirs.encrypt(data, mechanism=Mechanism.AES_CBC, mechanism_param=iv)

    def direct_cbc_pad() -> None:
        theirs.encrypt(data, mechanism=Mechanism.AES_CBC_PAD, mechanism_param=iv)

    def csp11_sha256() -> None:
        with prov.CryptCreateHash(win32cryptcon.CALG_SHA_256) as digest:
            digest.CryptHashData(data)
            digest.CryptGetHashParam(win32cryptcon.HP_HASHVAL)

    def direct_sha256() -> None:
        session.digest(data, mechanism=Mechanism.SHA256)

    # Equal work: the same sizes out, the same digest.
    assert len(ours.CryptEncrypt(True, data)) == len(
        theirs.encrypt(data, mechanism=Mechanism.AES_CBC_PAD, mechanism_param=iv))
    with prov.CryptCreateHash(win32cryptcon.CALG_SHA_256) as digest:
        digest.CryptHashData(data)
        assert digest.CryptGetHashParam(win32cryptcon.HP_HASHVAL) == bytes(
            session.digest(data, mechanism=Mechanism.SHA256)
        )

    print(f"1 MiB per call, median of {rounds} batches of {n}")
    compare("AES-256-CBC Final=False vs CBC", csp11_cbc, direct_cbc, n, rounds, _TARGET)
    compare("AES-256-CBC Final=True vs CBC", csp11_cbc_final, direct_cbc, n, rounds, _TARGET)
    compare("AES-256-CBC Final=True vs CBC_PAD", csp11_cbc_final, direct_cbc_pad, n, rounds,
            _TARGET)
    compare("SHA-256 hash object vs C_Digest", csp11_sha256, direct_sha256, n, rounds, _TARGET)
    theirs.destroy()
    ours.CryptDestroyKey()
    token.release(pooled)
    prov.CryptReleaseContext()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--batch", type=int, default=20, help="calls per batch")
    parser.add_argument("--main-thread", action="store_true",
                        help="run on the main thread instead of a worker thread")
    args = parser.parse_args()
    if args.main_thread:
        run(args.rounds, args.batch)
        return
    failure: list[BaseException] = []

    def work() -> None:
        try:
            run(args.rounds, args.batch)
        except BaseException as exc:
            failure.append(exc)

    worker = threading.Thread(target=work, name="bench")
    worker.start()
    worker.join()
    if failure:
        raise failure[0]


if __name__ == "__main__":
    main()
