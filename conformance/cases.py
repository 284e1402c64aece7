"""The conformance cases: the same calls, with the same seeded inputs, on Wine's
CryptoAPI and on csp11, and what each side answered.

Every case produces a :class:`Record` holding one observation per side (bytes,
ints, ``"OK"`` or ``"ERR <NAME>"``, and tuples of these); the sides agree when
the observations are equal.  Keys are moved between the sides as key BLOBs, so
both hold the same key.  Inputs come from ``random.Random`` seeded with the run's
seed and the case's name: a case draws the same inputs whatever else runs.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric import dsa, padding, rsa, utils
from cryptography.hazmat.primitives.hashes import SHA1

from csp11 import win32cryptcon as con

from .sides import CapiError, Side

VERIFY = con.CRYPT_VERIFYCONTEXT
EXPORTABLE = con.CRYPT_EXPORTABLE

PROVIDERS: dict[int, str] = {
    con.PROV_RSA_AES: con.MS_ENH_RSA_AES_PROV,
    con.PROV_RSA_FULL: con.MS_ENHANCED_PROV,
    con.PROV_DSS: con.MS_DEF_DSS_PROV,
}

# (ALG_ID, name, block size in bytes)
SYMMETRIC: list[tuple[int, str, int]] = [
    (con.CALG_DES, "DES", 8), (con.CALG_3DES_112, "3DES_112", 8), (con.CALG_3DES, "3DES", 8),
    (con.CALG_AES_128, "AES_128", 16), (con.CALG_AES_192, "AES_192", 16),
    (con.CALG_AES_256, "AES_256", 16),
]
MODES = [(con.CRYPT_MODE_CBC, "CBC"), (con.CRYPT_MODE_ECB, "ECB"), (con.CRYPT_MODE_CFB, "CFB-8")]
AES_HASHES = [(con.CALG_MD5, "MD5"), (con.CALG_SHA1, "SHA1"), (con.CALG_SHA_256, "SHA_256"),
              (con.CALG_SHA_384, "SHA_384"), (con.CALG_SHA_512, "SHA_512")]
FULL_HASHES = [(con.CALG_MD2, "MD2"), (con.CALG_MD4, "MD4"), (con.CALG_MD5, "MD5"),
               (con.CALG_SHA1, "SHA1")]
SPECS = [(con.AT_KEYEXCHANGE, "AT_KEYEXCHANGE"), (con.AT_SIGNATURE, "AT_SIGNATURE")]
KEY_PARAMS = [(con.KP_ALGID, "KP_ALGID"), (con.KP_KEYLEN, "KP_KEYLEN"),
              (con.KP_BLOCKLEN, "KP_BLOCKLEN"), (con.KP_PERMISSIONS, "KP_PERMISSIONS"),
              (con.KP_MODE, "KP_MODE"), (con.KP_IV, "KP_IV"), (con.KP_PADDING, "KP_PADDING")]
PROV_NAMES = {con.PROV_RSA_AES: "PROV_RSA_AES", con.PROV_RSA_FULL: "PROV_RSA_FULL",
              con.PROV_DSS: "PROV_DSS"}

AREAS = ("encryption", "keyblobs", "signatures", "derive", "hashes", "keyparams", "errors")


def attempt(fn: Callable[[], Any]) -> Any:
    """The value of ``fn()``, ``"OK"`` for None, or ``"ERR <NAME>"``."""
    try:
        value = fn()
    except CapiError as exc:
        return f"ERR {exc.name}"
    return "OK" if value is None else value


@dataclass
class Record:
    area: str
    function: str
    case: str
    wine: Any
    csp11: Any

    @property
    def agree(self) -> bool:
        return bool(self.wine == self.csp11)


@dataclass
class Run:
    wine: Side
    csp11: Side
    seed: int = 12
    trials: int = 3
    quick: bool = False
    records: list[Record] = field(default_factory=list)
    _contexts: list[tuple[Side, int]] = field(default_factory=list)

    @property
    def sides(self) -> tuple[Side, Side]:
        return (self.wine, self.csp11)

    def rng(self, *key: object) -> random.Random:
        return random.Random("/".join(str(k) for k in (self.seed, *key)))

    def ctx(self, side: Side, prov_type: int = con.PROV_RSA_AES) -> int:
        """A fresh verify context (released at the end of the run)."""
        handle = side.acquire(prov_type, VERIFY, None, PROVIDERS[prov_type])
        self._contexts.append((side, handle))
        return handle

    def release_all(self) -> None:
        for side, handle in self._contexts:
            attempt(lambda s=side, h=handle: s.release(h))  # type: ignore[misc]
        self._contexts.clear()

    def record(self, area: str, function: str, case: str, wine: Any, csp11: Any) -> None:
        self.records.append(Record(area, function, case, wine, csp11))

    def same(self, area: str, function: str, case: str, scenario: Callable[[Side], Any]) -> None:
        """Run ``scenario`` on each side; record what each returned (or the error)."""
        self.record(area, function, case, attempt(lambda: scenario(self.wine)),
                    attempt(lambda: scenario(self.csp11)))

    def other(self, side: Side) -> Side:
        return self.csp11 if side is self.wine else self.wine

    def trial_range(self) -> range:
        return range(1 if self.quick else self.trials)


# ---- shared keys ----------------------------------------------------------------------------
def session_blob(run: Run, maker: Side, algid: int, prov_type: int = con.PROV_RSA_AES) -> bytes:
    """A PLAINTEXTKEYBLOB of a key ``maker`` generated."""
    ctx = run.ctx(maker, prov_type)
    key = maker.genkey(ctx, algid, EXPORTABLE)
    blob = maker.exportkey(key, 0, con.PLAINTEXTKEYBLOB)
    maker.destroykey(key)
    return blob


def pair_blob(run: Run, maker: Side, algid: int, bits: int,
              prov_type: int = con.PROV_RSA_AES) -> bytes:
    """A PRIVATEKEYBLOB of a key pair ``maker`` generated."""
    ctx = run.ctx(maker, prov_type)
    key = maker.genkey(ctx, algid, EXPORTABLE | (bits << 16))
    return maker.exportkey(key, 0, con.PRIVATEKEYBLOB)


def _cut(rng: random.Random, data: bytes, block: int) -> list[bytes]:
    """``data`` (whole blocks) cut at random block boundaries."""
    blocks = len(data) // block
    cuts = sorted(rng.sample(range(1, blocks), k=rng.randint(0, max(0, blocks - 1)))) \
        if blocks > 1 else []
    edges = [0, *(c * block for c in cuts), len(data)]
    return [data[a:b] for a, b in itertools.pairwise(edges)]


def encrypt_plan(rng: random.Random, msg: bytes, block: int) -> list[tuple[bool, bytes]]:
    """Calls ``(Final, Data)`` that encrypt ``msg``: whole blocks while not final."""
    aligned = len(msg) - len(msg) % block
    pieces = _cut(rng, msg[:aligned], block) if aligned else [b""]
    tail = msg[aligned:]
    if not tail and aligned and rng.random() < 0.4:
        return [*((False, p) for p in pieces), (True, b"")]    # Final alone, empty
    return [*((False, p) for p in pieces[:-1]), (True, pieces[-1] + tail)]


def decrypt_plan(rng: random.Random, ct: bytes, block: int) -> list[tuple[bool, bytes]]:
    pieces = _cut(rng, ct, block)
    return [*((False, p) for p in pieces[:-1]), (True, pieces[-1])]


# ---- symmetric encryption -----------------------------------------------------------------
def encryption(run: Run) -> None:
    for algid, name, block in SYMMETRIC:
        for mode, mode_name in MODES:
            for trial in run.trial_range():
                _encryption_case(run, algid, f"{name} {mode_name} #{trial}", block, mode, trial)
    _rsa_encryption(run)


def _encryption_case(run: Run, algid: int, case: str, block: int, mode: int, trial: int) -> None:
    rng = run.rng("encryption", case)
    blob = session_blob(run, run.sides[trial % 2], algid)
    iv = rng.randbytes(block) if mode != con.CRYPT_MODE_ECB else None
    msg = rng.randbytes(rng.randrange(0, 6 * block + 1))
    plan = encrypt_plan(rng, msg, block)
    keys: dict[str, int] = {}

    def setup(side: Side) -> int:
        key = side.importkey(run.ctx(side), blob, 0, EXPORTABLE)
        side.setkey(key, con.KP_MODE, mode)
        if iv is not None:
            side.setkey(key, con.KP_IV, iv)
        keys[side.name] = key
        return key

    def enc(side: Side) -> Any:
        key = setup(side)
        parts = [attempt(lambda f=f, d=d: side.encrypt(key, f, d)) for f, d in plan]  # type: ignore[misc]
        again = attempt(lambda: side.encrypt(key, True, msg))     # the chain restarts at KP_IV
        return (*parts, again)

    w, c = enc(run.wine), enc(run.csp11)
    run.record("encryption", "CryptEncrypt", case, w, c)
    reference = w if all(isinstance(p, bytes) for p in w) else c
    if not all(isinstance(p, bytes) for p in reference):
        return
    ct = b"".join(reference[:-1])
    dplan = decrypt_plan(rng, ct, block)

    def dec(side: Side) -> Any:
        key = keys[side.name]
        parts = [attempt(lambda f=f, d=d: side.decrypt(key, f, d)) for f, d in dplan]  # type: ignore[misc]
        joined = b"".join(p for p in parts if isinstance(p, bytes))
        return (*parts, joined == msg)

    run.same("encryption", "CryptDecrypt", case, dec)


def _rsa_encryption(run: Run) -> None:
    blob = pair_blob(run, run.csp11, con.CALG_RSA_KEYX, 1024)
    for trial in run.trial_range():
        for flags, fname in ((0, "0"), (con.CRYPT_OAEP, "CRYPT_OAEP")):
            case = f"RSA_KEYX 1024 flags={fname} #{trial}"
            rng = run.rng("rsa-encrypt", case)
            msg = rng.randbytes(rng.randrange(1, 128 - (11 if flags == 0 else 42) + 1))
            keys = {s.name: s.importkey(run.ctx(s), blob, 0, 0) for s in run.sides}
            cts = {s.name: attempt(lambda s=s, k=keys, m=msg, f=flags: s.encrypt(  # type: ignore[misc]
                k[s.name], True, m, 0, f))
                   for s in run.sides}
            run.record("encryption", "CryptEncrypt (RSA)", case + " (ciphertext length)",
                       *(len(cts[s.name]) if isinstance(cts[s.name], bytes) else cts[s.name]
                         for s in run.sides))

            def cross(side: Side, cts: dict[str, Any] = cts, keys: dict[str, int] = keys,
                      flags: int = flags) -> Any:
                peer = cts[run.other(side).name]
                if not isinstance(peer, bytes):
                    return "no peer ciphertext"
                return side.decrypt(keys[side.name], True, peer, 0, flags)

            run.same("encryption", "CryptDecrypt (RSA)", case + " (decrypts the peer's)", cross)
        # Too long for PKCS #1 v1.5; a signature key cannot encrypt.
        long_msg = run.rng("rsa-long", trial).randbytes(118)
        run.same("encryption", "CryptEncrypt (RSA)", f"RSA_KEYX 1024, 118 bytes #{trial}",
                 lambda s, m=long_msg: s.encrypt(s.importkey(run.ctx(s), blob, 0, 0), True, m))  # type: ignore[misc]
    sig_blob = pair_blob(run, run.wine, con.CALG_RSA_SIGN, 1024)
    run.same("encryption", "CryptEncrypt (RSA)", "RSA_SIGN key",
             lambda s: s.encrypt(s.importkey(run.ctx(s), sig_blob, 0, 0), True, b"abc"))


# ---- key BLOBs ----------------------------------------------------------------------------
def keyblobs(run: Run) -> None:
    for algid, name, _ in SYMMETRIC:
        for maker in run.sides:
            _round_trip(run, f"{name} {maker.name}→{run.other(maker).name}", maker,
                        con.PLAINTEXTKEYBLOB, lambda s, a=algid: s.genkey(run.ctx(s), a,  # type: ignore[misc]
                                                                          EXPORTABLE))
    for algid, name in ((con.CALG_RSA_KEYX, "RSA_KEYX"), (con.CALG_RSA_SIGN, "RSA_SIGN")):
        for bits in ((1024,) if run.quick else (512, 1024, 1032, 2048)):
            for maker in run.sides:
                def make(s: Side, a: int = algid, b: int = bits) -> int:
                    return s.genkey(run.ctx(s), a, EXPORTABLE | (b << 16))

                for blob_type in (con.PRIVATEKEYBLOB, con.PUBLICKEYBLOB):
                    _round_trip(run, f"{name} {bits} {maker.name}→{run.other(maker).name}",
                                maker, blob_type, make)
    for maker in run.sides:
        def make_dss(s: Side) -> int:
            return s.genkey(run.ctx(s, con.PROV_DSS), con.CALG_DSS_SIGN, EXPORTABLE | (1024 << 16))
        for blob_type in (con.PRIVATEKEYBLOB, con.PUBLICKEYBLOB):
            _round_trip(run, f"DSS_SIGN 1024 {maker.name}→{run.other(maker).name}", maker,
                        blob_type, make_dss, con.PROV_DSS)
    _simpleblobs(run)
    # A PLAINTEXTKEYBLOB of a key imported without CRYPT_EXPORTABLE.
    for algid, name, _ in SYMMETRIC[:4 if run.quick else None]:
        blob = session_blob(run, run.csp11, algid)
        run.same("keyblobs", "CryptExportKey(PLAINTEXTKEYBLOB)", f"{name} not exportable",
                 lambda s, b=blob: s.exportkey(s.importkey(run.ctx(s), b, 0, 0), 0,  # type: ignore[misc]
                                               con.PLAINTEXTKEYBLOB))


_BLOB_NAMES = {con.PLAINTEXTKEYBLOB: "PLAINTEXTKEYBLOB", con.PRIVATEKEYBLOB: "PRIVATEKEYBLOB",
               con.PUBLICKEYBLOB: "PUBLICKEYBLOB", con.SIMPLEBLOB: "SIMPLEBLOB"}


def _round_trip(run: Run, case: str, maker: Side, blob_type: int, make: Callable[[Side], int],
                prov_type: int = con.PROV_RSA_AES) -> None:
    """``maker`` exports a BLOB, the other side imports and exports it again: the same bytes,
    and the same KP_ALGID / KP_KEYLEN on both keys (not on DSS keys: Wine's dssenh has no
    CPGetKeyParam, and calling it aborts the helper)."""
    taker = run.other(maker)
    key = make(maker)
    flags = 0 if blob_type == con.PUBLICKEYBLOB else EXPORTABLE
    params = (con.KP_ALGID, con.KP_KEYLEN) if prov_type != con.PROV_DSS else ()

    def observe(side: Side, handle: int) -> Any:
        return (attempt(lambda: side.exportkey(handle, 0, blob_type)),
                *(attempt(lambda p=p: side.getkey(handle, p)) for p in params))  # type: ignore[misc]

    mine = observe(maker, key)
    blob = mine[0]
    if isinstance(blob, bytes):
        theirs = attempt(lambda: observe(taker, taker.importkey(run.ctx(taker, prov_type), blob,
                                                                 0, flags)))
    else:
        theirs = "no BLOB to import"
    by_side = {maker.name: mine, taker.name: theirs}
    run.record("keyblobs", f"CryptImportKey/CryptExportKey({_BLOB_NAMES[blob_type]})", case,
               by_side["wine"], by_side["csp11"])


def simpleblob_key(private_blob: bytes, simple: bytes, flags: int) -> bytes | None:
    """The key bytes in a SIMPLEBLOB, decrypted with ``cryptography`` (an independent check)
    under the RSA key of a PRIVATEKEYBLOB; None when it does not decrypt."""
    bits = int.from_bytes(private_blob[12:16], "little")
    exponent = int.from_bytes(private_blob[16:20], "little")
    sizes = [bits // 8] + [bits // 16] * 5 + [bits // 8]
    values, offset = [], 20
    for size in sizes:
        values.append(int.from_bytes(private_blob[offset:offset + size], "little"))
        offset += size
    n, p, q, dp, dq, qinv, d = values
    key = rsa.RSAPrivateNumbers(p, q, d, dp, dq, qinv,
                                rsa.RSAPublicNumbers(exponent, n)).private_key()
    pad = (padding.OAEP(mgf=padding.MGF1(SHA1()), algorithm=SHA1(), label=None)
           if flags & con.CRYPT_OAEP else padding.PKCS1v15())
    try:
        return key.decrypt(simple[12:][::-1], pad)
    except ValueError:
        return None


def _simpleblobs(run: Run) -> None:
    """Both sides hold the same exchange pair and session key; each exports a SIMPLEBLOB and
    imports the other's."""
    xblob = pair_blob(run, run.wine, con.CALG_RSA_KEYX, 1024)
    for algid, name, _ in SYMMETRIC:
        for flags, fname in ((0, "PKCS#1"), (con.CRYPT_OAEP, "CRYPT_OAEP")):
            for trial in run.trial_range():
                case = f"{name} {fname} #{trial}"
                sblob = session_blob(run, run.sides[trial % 2], algid)
                held: dict[str, tuple[int, int]] = {}
                exported: dict[str, Any] = {}
                for s in run.sides:
                    ctx = run.ctx(s)
                    x = s.importkey(ctx, xblob, 0, EXPORTABLE)
                    k = s.importkey(ctx, sblob, 0, EXPORTABLE)
                    held[s.name] = (ctx, x)
                    exported[s.name] = attempt(lambda s=s, k=k, x=x, f=flags: s.exportkey(  # type: ignore[misc]
                        k, x, con.SIMPLEBLOB, f))
                run.record("keyblobs", "CryptExportKey(SIMPLEBLOB)", case + " (header, length)",
                           *((e[:12], len(e)) if isinstance(e, bytes) else e
                             for e in (exported["wine"], exported["csp11"])))
                run.record("keyblobs", "CryptExportKey(SIMPLEBLOB)",
                           case + " (decrypts to the key with `cryptography`)",
                           *(isinstance(e, bytes) and simpleblob_key(xblob, e, flags) == sblob[12:]
                             for e in (exported["wine"], exported["csp11"])))

                def take(side: Side, held: dict[str, tuple[int, int]] = held,
                         exported: dict[str, Any] = exported, flags: int = flags,
                         sblob: bytes = sblob) -> Any:
                    peer = exported[run.other(side).name]
                    if not isinstance(peer, bytes):
                        return "no peer SIMPLEBLOB"
                    ctx, x = held[side.name]
                    key = side.importkey(ctx, peer, x, flags | EXPORTABLE)
                    return side.exportkey(key, 0, con.PLAINTEXTKEYBLOB) == sblob

                run.same("keyblobs", "CryptImportKey(SIMPLEBLOB)",
                         case + " (imports the peer's)", take)
        # An OAEP SIMPLEBLOB imported without CRYPT_OAEP.
        sblob = session_blob(run, run.csp11, algid)

        def mismatch(side: Side, sblob: bytes = sblob) -> Any:
            ctx = run.ctx(side)
            x = side.importkey(ctx, xblob, 0, EXPORTABLE)
            k = side.importkey(ctx, sblob, 0, EXPORTABLE)
            wrapped = side.exportkey(k, x, con.SIMPLEBLOB, con.CRYPT_OAEP)
            return side.importkey(ctx, wrapped, x, 0) and "imported"

        run.same("keyblobs", "CryptImportKey(SIMPLEBLOB)", f"{name} OAEP blob, flags 0", mismatch)
        if run.quick:
            break


# ---- signatures ---------------------------------------------------------------------------
def signatures(run: Run) -> None:
    for prov_type, hashes in ((con.PROV_RSA_AES, AES_HASHES), (con.PROV_RSA_FULL, FULL_HASHES)):
        for spec, spec_name in SPECS:
            algid = con.CALG_RSA_KEYX if spec == con.AT_KEYEXCHANGE else con.CALG_RSA_SIGN
            maker = run.sides[spec % 2]
            blob = pair_blob(run, maker, algid, 1024, prov_type)
            for hash_alg, hash_name in hashes:
                for flags, fname in ((0, "0"), (con.CRYPT_NOHASHOID, "CRYPT_NOHASHOID")):
                    for trial in run.trial_range():
                        case = (f"{PROV_NAMES[prov_type]} {spec_name} {hash_name} "
                                f"flags={fname} #{trial}")
                        _rsa_signature(run, case, prov_type, blob, spec, hash_alg, flags)
    _dss_signatures(run)


def _rsa_signature(run: Run, case: str, prov_type: int, blob: bytes, spec: int,
                   hash_alg: int, flags: int) -> None:
    msg = run.rng("sign", case).randbytes(run.rng("len", case).randrange(0, 300))
    keys: dict[str, int] = {}
    ctxs: dict[str, int] = {}

    def sign(side: Side) -> Any:
        ctx = run.ctx(side, prov_type)
        keys[side.name] = side.importkey(ctx, blob, 0, 0)
        ctxs[side.name] = ctx
        h = side.createhash(ctx, hash_alg)
        side.hashdata(h, msg)
        return side.sign(h, spec, flags)

    w, c = attempt(lambda: sign(run.wine)), attempt(lambda: sign(run.csp11))
    run.record("signatures", "CryptSignHash (RSA)", case, w, c)
    sigs = {"wine": w, "csp11": c}

    def verify(side: Side) -> Any:
        peer = sigs[run.other(side).name]
        if not isinstance(peer, bytes):
            return "no peer signature"
        out = []
        for vflags, sig in ((flags, peer), (0, peer), (flags, bytes([peer[0] ^ 1]) + peer[1:])):
            h = side.createhash(ctxs[side.name], hash_alg)
            side.hashdata(h, msg)
            out.append(attempt(lambda h=h, sig=sig, vflags=vflags: side.verify(  # type: ignore[misc]
                h, sig, keys[side.name], vflags)))
        return tuple(out)

    run.same("signatures", "CryptVerifySignature (RSA)",
             case + " (peer's signature; flags 0; one bit flipped)", verify)


def dss_valid(private_blob: bytes, msg: bytes, sig: bytes) -> bool:
    """Whether ``sig`` (CryptoAPI's r ‖ s, little-endian) is a valid DSA signature of SHA-1(msg)
    under the key of a DSS PRIVATEKEYBLOB: an independent check with ``cryptography``."""
    def little(b: bytes) -> int:
        return int.from_bytes(b, "little")

    size = int.from_bytes(private_blob[12:16], "little") // 8
    p = little(private_blob[16:16 + size])
    q = little(private_blob[16 + size:36 + size])
    g = little(private_blob[36 + size:36 + 2 * size])
    x = little(private_blob[36 + 2 * size:56 + 2 * size])
    public = dsa.DSAPublicNumbers(pow(g, x, p), dsa.DSAParameterNumbers(p, q, g)).public_key()
    try:
        public.verify(utils.encode_dss_signature(little(sig[:20]), little(sig[20:40])), msg,
                      SHA1())
    except InvalidSignature:
        return False
    return len(sig) == 40


def _dss_signatures(run: Run) -> None:
    """Even trials: both sides import one PRIVATEKEYBLOB (made by csp11: Wine's dssenh cannot
    export DSS private keys).  Odd trials: each side generates its own key and imports the
    other's PUBLICKEYBLOB.  Each side verifies both signatures, and both tampered."""
    for trial in run.trial_range():
        shared = trial % 2 == 0
        msg = run.rng("dss", trial).randbytes(run.rng("dss-len", trial).randrange(0, 300))
        ctxs = {s.name: run.ctx(s, con.PROV_DSS) for s in run.sides}
        own: dict[str, int] = {}
        if shared:
            blob = pair_blob(run, run.csp11, con.CALG_DSS_SIGN, 1024, con.PROV_DSS)
            for s in run.sides:
                own[s.name] = s.importkey(ctxs[s.name], blob, 0, 0)
        else:
            for s in run.sides:
                own[s.name] = s.genkey(ctxs[s.name], con.CALG_DSS_SIGN, 1024 << 16)
        # pub[verifier][signer]: the verifier's handle to the signer's public key.
        pub: dict[str, dict[str, Any]] = {s.name: {s.name: own[s.name]} for s in run.sides}
        for s in run.sides:
            peer = run.other(s)
            pub[peer.name][s.name] = (own[peer.name] if shared else attempt(
                lambda s=s, peer=peer, c=ctxs, o=own: peer.importkey(  # type: ignore[misc]
                    c[peer.name], s.exportkey(o[s.name], 0, con.PUBLICKEYBLOB))))
        sigs: dict[str, Any] = {}
        for s in run.sides:
            def sign(side: Side, ctxs: dict[str, int] = ctxs, msg: bytes = msg) -> bytes:
                h = side.createhash(ctxs[side.name], con.CALG_SHA1)
                side.hashdata(h, msg)
                return side.sign(h, con.AT_SIGNATURE)

            sigs[s.name] = attempt(lambda s=s: sign(s))  # type: ignore[misc]
        case = f"DSS 1024 SHA1 #{trial} ({'one imported key' if shared else 'own keys'})"
        run.record("signatures", "CryptSignHash (DSS)", case + " (signature length)",
                   *(len(v) if isinstance(v, bytes) else v for v in sigs.values()))
        if shared:
            run.record("signatures", "CryptSignHash (DSS)",
                       case + " (valid for the key's public value: checked with `cryptography`)",
                       *(isinstance(v, bytes) and dss_valid(blob, msg, v)
                         for v in (sigs["wine"], sigs["csp11"])))

        def verify(side: Side, sigs: dict[str, Any] = sigs, pub: dict[str, dict[str, Any]] = pub,
                   ctxs: dict[str, int] = ctxs, msg: bytes = msg) -> Any:
            out = []
            for signer in ("wine", "csp11"):
                sig, key = sigs[signer], pub[side.name][signer]
                if not isinstance(sig, bytes) or not isinstance(key, int):
                    out.append(f"no signature or key: {sig if isinstance(key, int) else key}")
                    continue
                for candidate in (sig, sig[:-1] + bytes([sig[-1] ^ 0x80])):
                    h = side.createhash(ctxs[side.name], con.CALG_SHA1)
                    side.hashdata(h, msg)
                    out.append(attempt(lambda h=h, c=candidate, k=key:  # type: ignore[misc]
                                       side.verify(h, c, k)))
            return tuple(out)

        run.same("signatures", "CryptVerifySignature (DSS)",
                 case + " (Wine's, tampered, csp11's, tampered)", verify)

    blob = pair_blob(run, run.csp11, con.CALG_DSS_SIGN, 1024, con.PROV_DSS)

    def md5_sign(side: Side) -> Any:
        ctx = run.ctx(side, con.PROV_DSS)
        side.importkey(ctx, blob, 0, 0)
        h = side.createhash(ctx, con.CALG_MD5)
        side.hashdata(h, b"abc")
        return side.sign(h, con.AT_SIGNATURE)

    run.same("signatures", "CryptSignHash (DSS)", "DSS with an MD5 hash", md5_sign)


# ---- CryptDeriveKey -----------------------------------------------------------------------
def derive(run: Run) -> None:
    rows: list[tuple[int, list[tuple[int, str]]]] = [(con.PROV_RSA_AES, AES_HASHES),
                                                     (con.PROV_RSA_FULL, FULL_HASHES[:2])]
    for prov_type, hashes in rows:
        for hash_alg, hash_name in hashes:
            for algid, name, _ in SYMMETRIC:
                if prov_type == con.PROV_RSA_FULL and algid in (con.CALG_AES_128,
                                                                con.CALG_AES_192,
                                                                con.CALG_AES_256):
                    continue
                flag_sets = [(EXPORTABLE, "CRYPT_EXPORTABLE"), (0, "0")]
                if not run.quick and hash_alg in (con.CALG_MD5, con.CALG_SHA1):
                    flag_sets += [(EXPORTABLE | con.CRYPT_CREATE_SALT, "EXPORTABLE|CREATE_SALT"),
                                  (EXPORTABLE | con.CRYPT_NO_SALT, "EXPORTABLE|NO_SALT")]
                for flags, fname in flag_sets:
                    case = f"{PROV_NAMES[prov_type]} {hash_name} → {name} flags={fname}"
                    _derive_case(run, case, prov_type, hash_alg, algid, flags)
    for algid, name, bits in ((con.CALG_3DES, "3DES", 168), (con.CALG_3DES, "3DES", 192),
                              (con.CALG_3DES_112, "3DES_112", 112),
                              (con.CALG_AES_128, "AES_128", 128),
                              (con.CALG_AES_128, "AES_128", 256), (con.CALG_DES, "DES", 56),
                              (con.CALG_AES, "AES", 0), (con.CALG_RSA_KEYX, "RSA_KEYX", 0),
                              (con.CALG_RSA_SIGN, "RSA_SIGN", 0), (0x1234, "0x1234", 0)):
        case = f"PROV_RSA_AES SHA1 → {name} length {bits} in Flags"
        _derive_case(run, case, con.PROV_RSA_AES, con.CALG_SHA1, algid, EXPORTABLE | (bits << 16))


def _derive_case(run: Run, case: str, prov_type: int, hash_alg: int, algid: int,
                 flags: int) -> None:
    secret = run.rng("derive", case).randbytes(24)

    def go(side: Side) -> Any:
        ctx = run.ctx(side, prov_type)
        h = side.createhash(ctx, hash_alg)
        side.hashdata(h, secret)
        key = side.derive(ctx, algid, h, flags)
        params = tuple(attempt(lambda p=p: side.getkey(key, p))  # type: ignore[misc]
                       for p in (con.KP_ALGID, con.KP_KEYLEN, con.KP_PERMISSIONS))
        out = attempt(lambda: side.encrypt(key, True, b"sixteen byte msg"))
        blob = (attempt(lambda: side.exportkey(key, 0, con.PLAINTEXTKEYBLOB))
                if flags & EXPORTABLE else "-")
        return (*params, out, blob)

    run.same("derive", "CryptDeriveKey", case, go)
    if flags & (con.CRYPT_CREATE_SALT | con.CRYPT_NO_SALT):
        def salt(side: Side) -> Any:
            ctx = run.ctx(side, prov_type)
            h = side.createhash(ctx, hash_alg)
            side.hashdata(h, secret)
            return side.getkey(side.derive(ctx, algid, h, flags), con.KP_SALT)

        run.same("derive", "CryptGetKeyParam(KP_SALT) of a derived key", case, salt)


# ---- hashes -------------------------------------------------------------------------------
def hashes(run: Run) -> None:
    for prov_type, algs in ((con.PROV_RSA_AES, AES_HASHES), (con.PROV_RSA_FULL, FULL_HASHES)):
        for hash_alg, hash_name in algs:
            for trial in run.trial_range():
                case = f"{PROV_NAMES[prov_type]} {hash_name} #{trial}"
                rng = run.rng("hash", case)
                chunks = [rng.randbytes(rng.choice((0, 1, 3, 64, 65, 200)))
                          for _ in range(rng.randint(1, 5))]
                split = rng.randint(0, len(chunks))

                def go(side: Side, prov_type: int = prov_type, hash_alg: int = hash_alg,
                       chunks: list[bytes] = chunks, split: int = split) -> Any:
                    h = side.createhash(run.ctx(side, prov_type), hash_alg)
                    for chunk in chunks[:split]:
                        side.hashdata(h, chunk)
                    dup = side.duphash(h)
                    for chunk in chunks[split:]:
                        side.hashdata(h, chunk)
                    return (side.gethash(h, con.HP_ALGID), side.gethash(h, con.HP_HASHSIZE),
                            side.gethash(dup, con.HP_HASHVAL), side.gethash(h, con.HP_HASHVAL),
                            attempt(lambda: side.hashdata(h, b"more")),
                            side.gethash(h, con.HP_HASHVAL))

                run.same("hashes", "CryptCreateHash/CryptHashData/CryptGetHashParam", case, go)
    hash_algs = AES_HASHES[:3] if run.quick else AES_HASHES
    for algid, name, _ in SYMMETRIC:
        blob = session_blob(run, run.sides[algid % 2], algid)
        for hash_alg, hash_name in hash_algs:
            for flags, fname in ((0, "0"), (con.CRYPT_LITTLE_ENDIAN, "CRYPT_LITTLE_ENDIAN")):
                def hk(side: Side, blob: bytes = blob, hash_alg: int = hash_alg,
                       flags: int = flags) -> Any:
                    ctx = run.ctx(side)
                    key = side.importkey(ctx, blob, 0, EXPORTABLE)
                    h = side.createhash(ctx, hash_alg)
                    side.hashdata(h, b"prefix")
                    side.hashkey(h, key, flags)
                    return side.gethash(h, con.HP_HASHVAL)

                run.same("hashes", "CryptHashSessionKey", f"{name} {hash_name} flags={fname}", hk)


# ---- key parameters -----------------------------------------------------------------------
def _params(side: Side, key: int) -> tuple[Any, ...]:
    return tuple(attempt(lambda p=p: side.getkey(key, p)) for p, _ in KEY_PARAMS)  # type: ignore[misc]


def keyparams(run: Run) -> None:
    names = "(" + ", ".join(n for _, n in KEY_PARAMS) + ")"
    for algid, name, _ in SYMMETRIC:
        for flags, fname in ((0, "0"), (EXPORTABLE, "CRYPT_EXPORTABLE")):
            run.same("keyparams", "CryptGetKeyParam", f"generated {name} flags={fname} {names}",
                     lambda s, a=algid, f=flags: _params(s, s.genkey(run.ctx(s), a, f)))  # type: ignore[misc]
            run.same("keyparams", "CryptGetKeyParam(KP_SALT)", f"generated {name} flags={fname}",
                     lambda s, a=algid, f=flags: s.getkey(s.genkey(run.ctx(s), a, f),  # type: ignore[misc]
                                                          con.KP_SALT))
            blob = session_blob(run, run.csp11, algid)
            run.same("keyparams", "CryptGetKeyParam", f"imported {name} flags={fname}",
                     lambda s, b=blob, f=flags: _params(s, s.importkey(run.ctx(s), b, 0, f)))  # type: ignore[misc]
    for algid, name in ((con.AT_KEYEXCHANGE, "AT_KEYEXCHANGE"), (con.AT_SIGNATURE, "AT_SIGNATURE"),
                        (con.CALG_RSA_KEYX, "CALG_RSA_KEYX"), (con.CALG_RSA_SIGN, "CALG_RSA_SIGN")):
        for flags, fname in ((1024 << 16, "1024 bits"), (EXPORTABLE | (2048 << 16),
                                                          "2048 bits, CRYPT_EXPORTABLE")):
            run.same("keyparams", "CryptGetKeyParam", f"generated {name} {fname}",
                     lambda s, a=algid, f=flags: _params(s, s.genkey(run.ctx(s), a, f)))  # type: ignore[misc]
    rsa_blob = pair_blob(run, run.wine, con.CALG_RSA_KEYX, 1024)
    run.same("keyparams", "CryptGetKeyParam", "imported RSA_KEYX PRIVATEKEYBLOB",
             lambda s: _params(s, s.importkey(run.ctx(s), rsa_blob, 0, EXPORTABLE)))
    # Setting parameters, then reading them back.
    rng = run.rng("setkey")
    for algid, name, block in SYMMETRIC:
        blob = session_blob(run, run.wine, algid)
        iv = rng.randbytes(block)
        settings: list[tuple[str, int, Any]] = [
            ("KP_MODE=ECB", con.KP_MODE, con.CRYPT_MODE_ECB),
            ("KP_MODE=CFB", con.KP_MODE, con.CRYPT_MODE_CFB),
            ("KP_MODE=CBC", con.KP_MODE, con.CRYPT_MODE_CBC),
            ("KP_IV=random", con.KP_IV, iv),
            ("KP_PADDING=PKCS5", con.KP_PADDING, con.PKCS5_PADDING),
            ("KP_MODE_BITS=8", con.KP_MODE_BITS, 8),
            ("KP_PERMISSIONS=0x3f", con.KP_PERMISSIONS, 0x3F),
            ("KP_MODE=99", con.KP_MODE, 99),
            ("KP_PADDING=RANDOM_PADDING", con.KP_PADDING, con.RANDOM_PADDING),
            ("KP_ALGID=CALG_3DES", con.KP_ALGID, con.CALG_3DES),
        ]
        for label, param, value in settings:
            def setget(side: Side, blob: bytes = blob, param: int = param,
                       value: Any = value) -> Any:
                key = side.importkey(run.ctx(side), blob, 0, EXPORTABLE)
                return (attempt(lambda: side.setkey(key, param, value)), _params(side, key))

            run.same("keyparams", "CryptSetKeyParam", f"{name} {label}", setget)
        if run.quick:
            break


# ---- errors -------------------------------------------------------------------------------
def errors(run: Run) -> None:
    def err(function: str, case: str, scenario: Callable[[Side], Any]) -> None:
        run.same("errors", function, case, scenario)

    aes = session_blob(run, run.csp11, con.CALG_AES_128)
    des = session_blob(run, run.csp11, con.CALG_DES)
    rsa = pair_blob(run, run.csp11, con.CALG_RSA_KEYX, 1024)

    def imp(side: Side, blob: bytes, flags: int = EXPORTABLE) -> int:
        return side.importkey(run.ctx(side), blob, 0, flags)

    # CryptGenKey
    for algid, flags, label in ((0x1234, 0, "unknown ALG_ID"), (con.CALG_AES, 0, "CALG_AES"),
                                (con.CALG_MD5, 0, "a hash ALG_ID"),
                                (con.CALG_AES_128, 192 << 16, "AES_128 with 192 bits"),
                                (con.CALG_RSA_KEYX, 1028 << 16, "RSA 1028 bits (off step)"),
                                (con.CALG_RSA_KEYX, 16392 << 16, "RSA 16392 bits (too long)"),
                                (con.CALG_RSA_KEYX, 256 << 16, "RSA 256 bits (too short)"),
                                (con.CALG_DES, 0x8, "flag 0x8"),
                                (con.CALG_DES, 0x10000000, "DES, 4096 bits in Flags (0x10000000)")):
        err("CryptGenKey", label, lambda s, a=algid, f=flags: s.genkey(run.ctx(s), a, f) and "OK")  # type: ignore[misc]
    # CryptCreateHash
    err("CryptCreateHash", "unknown ALG_ID", lambda s: s.createhash(run.ctx(s), 0x8099) and "OK")
    err("CryptCreateHash", "a cipher ALG_ID",
        lambda s: s.createhash(run.ctx(s), con.CALG_AES_128) and "OK")
    err("CryptCreateHash", "flags 1", lambda s: s.createhash(run.ctx(s), con.CALG_SHA1, 0, 1)
        and "OK")
    err("CryptCreateHash", "MD2 on PROV_RSA_AES",
        lambda s: s.createhash(run.ctx(s), con.CALG_MD2) and "OK")
    err("CryptCreateHash", "SHA_256 on PROV_RSA_FULL",
        lambda s: s.createhash(run.ctx(s, con.PROV_RSA_FULL), con.CALG_SHA_256) and "OK")

    def finished(side: Side) -> Any:
        h = side.createhash(run.ctx(side), con.CALG_SHA1)
        side.gethash(h, con.HP_HASHVAL)
        return side.hashdata(h, b"x")

    err("CryptHashData", "after HP_HASHVAL", finished)
    err("CryptHashData", "flags 2", lambda s: s.hashdata(
        s.createhash(run.ctx(s), con.CALG_SHA1), b"x", 2))
    err("CryptGetHashParam", "unknown parameter", lambda s: s.gethash(
        s.createhash(run.ctx(s), con.CALG_SHA1), 0x99))
    err("CryptGetHashParam", "flags 1", lambda s: s.gethash(
        s.createhash(run.ctx(s), con.CALG_SHA1), con.HP_HASHVAL, 1))
    # CryptEncrypt / CryptDecrypt
    err("CryptEncrypt", "AES not final, 15 bytes", lambda s: s.encrypt(imp(s, aes), False,
                                                                        bytes(15)))
    err("CryptEncrypt", "DES not final, 12 bytes", lambda s: s.encrypt(imp(s, des), False,
                                                                       bytes(12)))
    err("CryptDecrypt", "AES final, 17 bytes", lambda s: s.decrypt(imp(s, aes), True, bytes(17)))
    err("CryptDecrypt", "AES not final, 8 bytes", lambda s: s.decrypt(imp(s, aes), False,
                                                                      bytes(8)))
    err("CryptEncrypt", "flags 0x1234", lambda s: s.encrypt(imp(s, aes), True, b"abc", 0, 0x1234))
    for label, pad in (("last byte 0", b"\x00"), ("last byte 17", b"\x11"),
                       ("inconsistent", b"\x01\x02\x02")):
        def bad_pad(side: Side, pad: bytes = pad) -> Any:
            key = imp(side, aes)
            side.setkey(key, con.KP_MODE, con.CRYPT_MODE_ECB)
            plain = bytes(16 - len(pad)) + pad
            ct = side.encrypt(key, False, plain)
            first = attempt(lambda: side.decrypt(key, True, ct))
            again = attempt(lambda: side.decrypt(key, True, side.encrypt(key, True, b"ok")))
            return (first, again)

        err("CryptDecrypt", f"bad padding ({label}), then the key again", bad_pad)

    # Key BLOBs
    err("CryptImportKey", "truncated PLAINTEXTKEYBLOB", lambda s: imp(s, aes[:-1]) and "OK")
    err("CryptImportKey", "PLAINTEXTKEYBLOB, AES_128 with 15 key bytes",
        lambda s: imp(s, aes[:8] + (15).to_bytes(4, "little") + aes[12:27]) and "OK")
    err("CryptImportKey", "PLAINTEXTKEYBLOB, DES with 7 key bytes",
        lambda s: imp(s, des[:8] + (7).to_bytes(4, "little") + des[12:19]) and "OK")
    err("CryptImportKey", "PLAINTEXTKEYBLOB, 16 bytes after the key (hostap's sizeof)",
        lambda s: imp(s, aes + bytes(range(16))) and "OK")
    err("CryptImportKey", "bVersion 3", lambda s: imp(s, aes[:1] + b"\x03" + aes[2:]) and "OK")
    err("CryptImportKey", "bType 0x55", lambda s: imp(s, b"\x55" + aes[1:]) and "OK")
    err("CryptImportKey", "unknown aiKeyAlg",
        lambda s: imp(s, aes[:4] + (0x6699).to_bytes(4, "little") + aes[8:]) and "OK")
    err("CryptImportKey", "empty BLOB", lambda s: imp(s, b"") and "OK")
    err("CryptImportKey", "flags 0x2", lambda s: imp(s, aes, 0x2) and "OK")
    err("CryptImportKey", "truncated PRIVATEKEYBLOB", lambda s: imp(s, rsa[:-10]) and "OK")
    err("CryptImportKey", "PRIVATEKEYBLOB magic RSA1",
        lambda s: imp(s, rsa[:8] + b"RSA1" + rsa[12:]) and "OK")
    err("CryptImportKey", "SIMPLEBLOB without an exchange key",
        lambda s: imp(s, bytes([1, 2, 0, 0]) + con.CALG_AES_128.to_bytes(4, "little")
                      + con.CALG_RSA_KEYX.to_bytes(4, "little") + bytes(128)) and "OK")

    def simple_garbage(side: Side) -> Any:
        ctx = run.ctx(side)
        x = side.importkey(ctx, rsa, 0, EXPORTABLE)
        blob = (bytes([1, 2, 0, 0]) + con.CALG_AES_128.to_bytes(4, "little")
                + con.CALG_RSA_KEYX.to_bytes(4, "little") + bytes(range(128)))
        return side.importkey(ctx, blob, x, 0) and "OK"

    err("CryptImportKey", "SIMPLEBLOB that does not decrypt", simple_garbage)
    err("CryptExportKey", "PUBLICKEYBLOB of a session key",
        lambda s: s.exportkey(imp(s, aes), 0, con.PUBLICKEYBLOB))
    err("CryptExportKey", "unknown BLOB type", lambda s: s.exportkey(imp(s, aes), 0, 0x55))
    err("CryptExportKey", "PRIVATEKEYBLOB of a key imported without CRYPT_EXPORTABLE",
        lambda s: s.exportkey(imp(s, rsa, 0), 0, con.PRIVATEKEYBLOB))
    err("CryptExportKey", "PRIVATEKEYBLOB of a key generated without CRYPT_EXPORTABLE",
        lambda s: s.exportkey(s.genkey(run.ctx(s), con.AT_SIGNATURE, 0), 0,
                              con.PRIVATEKEYBLOB))
    err("CryptExportKey", "SIMPLEBLOB without an exchange key",
        lambda s: s.exportkey(imp(s, aes), 0, con.SIMPLEBLOB))
    err("CryptExportKey", "PRIVATEKEYBLOB flags 0x8000",
        lambda s: s.exportkey(imp(s, rsa), 0, con.PRIVATEKEYBLOB, 0x8000))
    # Key parameters
    err("CryptGetKeyParam", "unknown parameter", lambda s: s.getkey(imp(s, aes), 0x99))
    err("CryptGetKeyParam", "flags 1", lambda s: s.getkey(imp(s, aes), con.KP_ALGID, 1))
    err("CryptGetKeyParam", "KP_SALT of an RSA key", lambda s: s.getkey(imp(s, rsa), con.KP_SALT))
    err("CryptSetKeyParam", "unknown parameter", lambda s: s.setkey(imp(s, aes), 0x99, 1))
    err("CryptSetKeyParam", "flags 1", lambda s: s.setkey(imp(s, aes), con.KP_MODE, 1, 1))
    err("CryptSetKeyParam", "KP_PERMISSIONS adding CRYPT_EXPORT",
        lambda s: s.setkey(imp(s, aes, 0), con.KP_PERMISSIONS, 0x3F))
    # Signatures
    err("CryptSignHash", "fresh verify context (no key)", lambda s: s.sign(
        s.createhash(run.ctx(s), con.CALG_SHA1), con.AT_SIGNATURE))
    err("CryptSignHash", "flags 0x10", lambda s: (imp(s, rsa), s.sign(
        s.createhash(run.ctx(s), con.CALG_SHA1), con.AT_KEYEXCHANGE, 0x10))[1])
    err("CryptSignHash", "KeySpec 3", lambda s: s.sign(s.createhash(run.ctx(s), con.CALG_SHA1), 3))

    def verify_bad(side: Side, sig: bytes) -> Any:
        ctx = run.ctx(side)
        key = side.importkey(ctx, rsa, 0, 0)
        h = side.createhash(ctx, con.CALG_SHA1)
        side.hashdata(h, b"data")
        return side.verify(h, sig, key)

    err("CryptVerifySignature", "all-zero signature", lambda s: verify_bad(s, bytes(128)))
    err("CryptVerifySignature", "short signature", lambda s: verify_bad(s, bytes(range(100))))
    err("CryptVerifySignature", "signature of other data", lambda s: verify_bad(s, _rsa_sig(s, run,
                                                                                         rsa)))
    err("CryptDeriveKey", "from an unfinished hash of nothing, flags 0x8000",
        lambda s: s.derive(run.ctx(s), con.CALG_AES_128, s.createhash(run.ctx(s), con.CALG_SHA1),
                           0x8000) and "OK")


def _rsa_sig(side: Side, run: Run, blob: bytes) -> bytes:
    ctx = run.ctx(side)
    side.importkey(ctx, blob, 0, 0)
    h = side.createhash(ctx, con.CALG_SHA1)
    side.hashdata(h, b"other data")
    return side.sign(h, con.AT_KEYEXCHANGE)


AREA_FUNCTIONS: dict[str, Callable[[Run], None]] = {
    "encryption": encryption, "keyblobs": keyblobs, "signatures": signatures, "derive": derive,
    "hashes": hashes, "keyparams": keyparams, "errors": errors,
}


def run_areas(run: Run, areas: Iterator[str] | list[str] | tuple[str, ...] = AREAS) -> None:
    for area in areas:
        AREA_FUNCTIONS[area](run)
        run.release_all()
