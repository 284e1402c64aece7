"""csp11 against the same operations in C, C with glibc's trimming tuned, and
python-pkcs11 called directly: one interleaved run, ratios of medians.

Everything runs on one fresh SoftHSM2 token made in a temporary directory
(csp11's embedded token, ``CSP11_HOME`` there).  The C baseline
(benchmarks/c/p11bench.c) is built with gcc into that directory; it dlopens
the same module, logs in to the same token and times the same operations
straight on the function list.  Each round runs, one after the other, in
fresh processes and on their main threads (as a user's script would):

    C             p11bench
    C tuned       p11bench with GLIBC_TUNABLES raising malloc's trim and mmap
                  thresholds (set before the process starts, as it must be)
    SunPKCS11     benchmarks/java/P11Bench.java, built with javac when a JDK is
                  on PATH (its AES key generation is generate only: the JDK
                  destroys keys when they are collected)
    python-pkcs11 this file --child pkcs11 (the library as documented)
    csp11         this file --child csp11 (the public win32crypt API)

Each figure is the median per-call time in one process; the table shows the
median over rounds.  Then: cold start (a fresh ``python -c`` from process
start to its first CryptGenKey, wall time), 2-thread scaling (RSA-1024 key
pairs with csp11, 2 threads against 1, ``--thread-rounds`` times, each right
after the same in C with a session per thread: the token's own ceiling on
this machine) and, with ``--file-mib``, ``csp11
encrypt``/``decrypt`` of a file against raw multi-part C_EncryptUpdate over
the same number of bytes (C tuned), and against C doing the command's own
work on the same three threads (``p11bench file:enc``/``file:dec``: read,
AES, the token's SHA-256, write), with that C program's CPU per MiB: what
the machine's vCPUs allow at best.  The machine is shared: the load
(``/proc/loadavg``) is printed with every round.  No figure here is checked
against a target by any test.

    .venv/bin/python benchmarks/bench_vs_c.py [--rounds 5] [--calls 100]
        [--file-mib 1024] [--no-file] [--before OTHER_CHECKOUT] [--thread-rounds 3]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pkcs11
from pkcs11 import Attribute, KeyType, Mechanism, ObjectClass

from csp11 import win32crypt
from csp11 import win32cryptcon as con

_MIB = 1 << 20
_REPO = Path(__file__).resolve().parent.parent
_TUNED = "glibc.malloc.trim_threshold=67108864:glibc.malloc.mmap_threshold=67108864"
# Operation name, what it is, the target (csp11 / baseline, baseline).
OPS: tuple[tuple[str, str, float | None, str], ...] = (
    ("genkey", "AES-256 generate + destroy", 2.0, "C"),
    ("aescbc", "AES-256-CBC encrypt 1 MiB", 1.15, "C tuned"),
    ("aescbc_dec", "AES-256-CBC decrypt 1 MiB", None, "C tuned"),
    ("sha256", "SHA-256 1 MiB", 1.05, "C"),
    ("rsasign", "RSA-2048 sign, PKCS#1 v1.5, session key", 1.05, "C"),
    ("rsasign_token", "RSA-2048 sign, PKCS#1 v1.5, container (token) key", 1.05, "C"),
    ("random32", "C_GenerateRandom 32 bytes", None, "C"),
    ("random1m", "C_GenerateRandom 1 MiB", None, "C"),
)
_CONTAINER = "bench-vs-c"
# A SHA-256 DigestInfo prefix: what CryptSignHash has the token sign.
_SHA256_INFO = bytes.fromhex("3031300d060960864801650304020105000420")


def _median_call(fn: Callable[[], object], calls: int) -> float:
    """Median wall time of one call, in microseconds (after one warm-up call)."""
    fn()
    times = []
    for _ in range(calls):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1e6


# ---- children ---------------------------------------------------------------------------------
def child_csp11(calls: int) -> dict[str, float]:

    prov = win32crypt.CryptAcquireContext(_CONTAINER, None, con.PROV_RSA_AES, 0)
    assert prov is not None
    key = prov.CryptGenKey(con.CALG_AES_256, 0)
    data = bytes(_MIB)
    sealed = key.CryptEncrypt(False, data)
    value = bytes(32)

    def genkey() -> None:
        prov.CryptGenKey(con.CALG_AES_256, 0).CryptDestroyKey()

    def sha256() -> None:
        h = prov.CryptCreateHash(con.CALG_SHA_256)
        h.CryptHashData(data)
        h.CryptGetHashParam(con.HP_HASHVAL)
        h.CryptDestroyHash()

    # A verify-only context holds its key pairs in session objects, as an
    # ephemeral container (CHANGELOG, session 3): the session-key row.
    ephemeral = win32crypt.CryptAcquireContext(None, None, con.PROV_RSA_AES,
                                               con.CRYPT_VERIFYCONTEXT)
    assert ephemeral is not None
    ephemeral.CryptGenKey(con.AT_SIGNATURE, 2048 << 16)

    def signer(where: Any) -> Callable[[], None]:
        def rsasign() -> None:
            h = where.CryptCreateHash(con.CALG_SHA_256)
            h.CryptSetHashParam(con.HP_HASHVAL, value)
            h.CryptSignHash(con.AT_SIGNATURE)
            h.CryptDestroyHash()
        return rsasign

    ops: dict[str, Callable[[], object]] = {
        "genkey": genkey,
        "aescbc": lambda: key.CryptEncrypt(False, data),
        "aescbc_dec": lambda: key.CryptDecrypt(False, sealed),
        "sha256": sha256,
        "rsasign": signer(ephemeral),
        "rsasign_token": signer(prov),  # a container's key: a token object, found per call
        "random32": lambda: prov.CryptGenRandom(32),
        "random1m": lambda: prov.CryptGenRandom(_MIB),
    }
    return {name: _median_call(fn, calls) for name, fn in ops.items()}


def child_pkcs11(calls: int, module: str, pin: str) -> dict[str, float]:
    lib = pkcs11.lib(module)
    token = lib.get_token(token_label="csp11")
    session = token.open(rw=True, user_pin=pin)
    template = {  # csp11's session-key template (csp11.core.templates)
        Attribute.TOKEN: False, Attribute.PRIVATE: False, Attribute.SENSITIVE: True,
        Attribute.EXTRACTABLE: False, Attribute.MODIFIABLE: True, Attribute.ENCRYPT: True,
        Attribute.DECRYPT: True, Attribute.WRAP: True, Attribute.UNWRAP: True,
        Attribute.SIGN: False, Attribute.VERIFY: False, Attribute.DERIVE: False,
    }
    key: Any = session.generate_key(KeyType.AES, 256, template=template)
    priv: Any
    _, priv = session.generate_keypair(
        KeyType.RSA, 2048, public_template={Attribute.TOKEN: False},
        private_template={Attribute.TOKEN: False, Attribute.SENSITIVE: True},
    )
    assert priv.object_class == ObjectClass.PRIVATE_KEY
    token_pub: Any
    token_priv: Any
    token_pub, token_priv = session.generate_keypair(
        KeyType.RSA, 2048, public_template={Attribute.TOKEN: True},
        private_template={Attribute.TOKEN: True, Attribute.SENSITIVE: True},
    )
    data = bytes(_MIB)
    iv = bytes(16)
    sealed = key.encrypt(data, mechanism=Mechanism.AES_CBC, mechanism_param=iv)
    info = _SHA256_INFO + bytes(32)
    ops: dict[str, Callable[[], object]] = {
        "genkey": lambda: session.generate_key(KeyType.AES, 256, template=template).destroy(),
        "aescbc": lambda: key.encrypt(data, mechanism=Mechanism.AES_CBC, mechanism_param=iv),
        "aescbc_dec": lambda: key.decrypt(sealed, mechanism=Mechanism.AES_CBC,
                                          mechanism_param=iv),
        "sha256": lambda: session.digest(data, mechanism=Mechanism.SHA256),
        "rsasign": lambda: priv.sign(info, mechanism=Mechanism.RSA_PKCS),
        "rsasign_token": lambda: token_priv.sign(info, mechanism=Mechanism.RSA_PKCS),
        "random32": lambda: session.generate_random(32 * 8),
        "random1m": lambda: session.generate_random(_MIB * 8),
    }
    found = {name: _median_call(fn, calls) for name, fn in ops.items()}
    token_pub.destroy()
    token_priv.destroy()
    return found


def _per_second(step: Callable[[int], None], threads: int, seconds: float) -> float:
    """Calls of ``step(thread index)`` per second, by ``threads`` threads for ``seconds``."""
    counts = [0] * threads
    stop = time.perf_counter() + seconds

    def work(i: int) -> None:
        while time.perf_counter() < stop:
            step(i)
            counts[i] += 1

    workers = [threading.Thread(target=work, args=(i,)) for i in range(threads)]
    start = time.perf_counter()
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    return sum(counts) / (time.perf_counter() - start)


def child_threads(seconds: float) -> dict[str, float]:
    """RSA-1024 key pairs per second with csp11, on 1 thread and on 2."""

    prov = win32crypt.CryptAcquireContext(None, None, con.PROV_RSA_AES, con.CRYPT_VERIFYCONTEXT)
    assert prov is not None

    def rate(threads: int) -> float:
        def one_pair(i: int) -> None:
            prov.CryptGenKey(con.CALG_RSA_KEYX, 1024 << 16).CryptDestroyKey()

        return _per_second(one_pair, threads, seconds)

    # The same key pairs straight through python-pkcs11, each thread on a
    # session of its own (csp11 initialised the module with OS locking):
    # what the machine gives at this moment, for comparison.
    token = prov._state.token
    sessions = [token.acquire(), token.acquire()]
    public = {Attribute.TOKEN: False, Attribute.PRIVATE: False}
    private = {Attribute.TOKEN: False, Attribute.PRIVATE: False, Attribute.SENSITIVE: True}

    def direct_rate(threads: int) -> float:
        def one_pair(i: int) -> None:
            for obj in sessions[i].session.generate_keypair(
                    KeyType.RSA, 1024, public_template=public, private_template=private):
                obj.destroy()

        return _per_second(one_pair, threads, seconds)

    one, direct_one = rate(1), direct_rate(1)
    two, direct_two = rate(2), direct_rate(2)
    for pooled in sessions:
        token.release(pooled)
    return {"rsa1024_1thread_per_s": one, "rsa1024_2threads_per_s": two, "scaling": two / one,
            "direct_scaling": direct_two / direct_one}


# ---- the parent -------------------------------------------------------------------------------
def _load() -> str:
    load = Path("/proc/loadavg")
    return load.read_text().split(" ")[0] if load.exists() else "?"


def _parse_rates(out: str) -> list[float]:
    """The rates p11bench prints for ``threads:`` (pairs per second), in order."""
    return [float(line.split()[1]) for line in out.splitlines() if line.startswith("threads:")]


def _parse_c(out: str) -> dict[str, float]:
    found = {}
    for line in out.splitlines():
        name, value, *_ = line.split()
        if not name.startswith("bulk:"):
            found[name] = float(value)
    return found


class Bench:
    def __init__(self, work: Path) -> None:
        self.work = work
        self.env = dict(os.environ)
        # PYTHONDONTWRITEBYTECODE: an installed csp11 has its bytecode (pip
        # compiles it at install); without a cache every start compiles every
        # module again, about 130 ms here, which no user pays.
        for name in ("CSP11_TOKEN", "CSP11_PIN", "CSP11_MODULE", "SOFTHSM2_CONF",
                     "GLIBC_TUNABLES", "PYTHONDONTWRITEBYTECODE"):
            self.env.pop(name, None)
        self.env["CSP11_HOME"] = str(work / "home")
        self.env["PYTHONPATH"] = str(_REPO) + os.pathsep + self.env.get("PYTHONPATH", "")
        # The embedded token, a container with its RSA-2048 signature key.
        self.py("-c", "from csp11 import win32crypt as w, win32cryptcon as c\n"
                f"p = w.CryptAcquireContext({_CONTAINER!r}, None, c.PROV_RSA_AES, "
                "c.CRYPT_NEWKEYSET)\n"
                "p.CryptGenKey(c.AT_SIGNATURE, 2048 << 16)\n"
                "print(p._state.token.module.path)")
        self.module = self.py("-c", "from csp11.token.embedded import find_softhsm2\n"
                              "print(find_softhsm2())").strip()
        self.pin = (work / "home" / "pin").read_text().strip()
        self.c_env = dict(self.env, SOFTHSM2_CONF=str(work / "home" / "softhsm2.conf"))
        self.split: list[tuple[float, ...]] = []  # cold start: import, acquire, first key (ms)
        # Cold starts run in csp11's installation as a user has it (.venv-run,
        # made by scripts/bootstrap: a copy, not editable), with PYTHONPATH
        # putting the tree measured first.  The test environment's editable
        # install adds an import hook to every start that no user pays.
        self.user_python = _user_python()
        self.p11bench = work / "p11bench"
        subprocess.run(["gcc", "-O2", "-o", str(self.p11bench),
                        str(_REPO / "benchmarks" / "c" / "p11bench.c"), "-ldl", "-lpthread"],
                       check=True)
        # SunPKCS11, where a JDK is installed (javac and java on PATH).
        self.java: Path | None = None
        if shutil.which("javac") and shutil.which("java"):
            classes = work / "java"
            subprocess.run(["javac", "-d", str(classes),
                            str(_REPO / "benchmarks" / "java" / "P11Bench.java")], check=True)
            self.java = classes
        self.java_first: list[float] = []

    def py(self, *args: str) -> str:
        return self.py_in(self.env, *args)

    def py_in(self, env: dict[str, str], *args: str, python: str = sys.executable) -> str:
        # In the work directory: `python -c` and `-m` put the current directory
        # first on sys.path, where a checkout's csp11 would shadow PYTHONPATH's.
        done = subprocess.run([python, *args], env=env, capture_output=True,
                              text=True, check=False, cwd=self.work)
        if done.returncode:
            raise SystemExit(f"child failed: {done.stderr.strip()}")
        return done.stdout

    def c(self, calls: int, ops: list[str], tuned: bool) -> str:
        env = dict(self.c_env, GLIBC_TUNABLES=_TUNED) if tuned else self.c_env
        return subprocess.run([str(self.p11bench), self.module, "csp11", self.pin, str(calls),
                               *ops], env=env, capture_output=True, text=True,
                              check=True).stdout

    def sunpkcs11(self, calls: int) -> dict[str, float]:
        """The SunPKCS11 column (and its cold start: JVM start to the first key)."""
        assert self.java is not None
        ops = [op for op in _c_ops() if op != "rsasign_token"]
        out = subprocess.run(["java", "-cp", str(self.java), "P11Bench", self.module, self.pin,
                              str(calls), "first", *ops], env=self.c_env, capture_output=True,
                             text=True, check=True).stdout
        found = {}
        for line in out.splitlines():
            name, value, *_ = line.split()
            if name == "first":
                self.java_first.append(float(value))
            else:
                found[name] = float(value)
        return found

    def child(self, kind: str, calls: int, tree: Path | None = None) -> dict[str, float]:
        env = self.env
        if tree is not None:  # csp11 from another checkout (the "before" column)
            env = dict(env, PYTHONPATH=str(tree) + os.pathsep + self.env["PYTHONPATH"])
        done = subprocess.run([sys.executable, __file__, "--child", kind, "--calls", str(calls),
                               "--module", self.module], env=env, capture_output=True,
                              text=True, check=False)
        if done.returncode:
            raise SystemExit(f"child failed: {done.stderr.strip()}")
        out = done.stdout
        found: dict[str, float] = json.loads(out)
        return found

    def cold_start(self, tree: Path | None = None) -> float:
        """Process start to the first key, in ms: the child reads CLOCK_MONOTONIC
        (one clock for every process) right after its first CryptGenKey; the
        interpreter's exit (token finalised, modules torn down) is counted apart.
        ``tree``: csp11 from another checkout (its split is not kept)."""
        env = self.env
        if tree is not None:
            env = dict(env, PYTHONPATH=str(tree) + os.pathsep + self.env["PYTHONPATH"])
        start = time.monotonic()
        out = self.py_in(env, "-c", "import time\nt0 = time.monotonic()\n"
                      "from csp11 import win32crypt as w, win32cryptcon as c\n"
                      "t1 = time.monotonic()\n"
                      "p = w.CryptAcquireContext(None, None, c.PROV_RSA_AES, "
                      "c.CRYPT_VERIFYCONTEXT)\n"
                      "t2 = time.monotonic()\n"
                      "p.CryptGenKey(c.CALG_AES_256, 0)\n"
                      "t3 = time.monotonic()\n"
                      "print(t0, t1, t2, t3)", python=self.user_python)
        end = time.monotonic()
        t0, t1, t2, t3 = (float(x) for x in out.split())
        if tree is None:
                self.split.append(((t0 - start) * 1e3, (t1 - t0) * 1e3, (t2 - t1) * 1e3,
                               (t3 - t2) * 1e3, (end - t3) * 1e3))
        return (t3 - start) * 1e3

    def python_start(self, code: str = "pass") -> float:
        """A fresh interpreter running ``code``, whole process, in ms."""
        start = time.perf_counter()
        self.py_in(self.env, "-c", code, python=self.user_python)
        return (time.perf_counter() - start) * 1e3

    def c_first_key(self) -> float:
        """The C floor of a cold start, in ms: p11bench as a whole process
        (dlopen, C_Initialize, C_Login, one C_GenerateKey + C_DestroyObject)."""
        start = time.perf_counter()
        self.c(1, ["genkey"], tuned=False)
        return (time.perf_counter() - start) * 1e3

    def import_profile(self, runs: int = 7) -> dict[str, float]:
        """``import csp11.win32crypt`` by package, ms: per module the smallest
        self time of ``runs`` runs of ``python -X importtime`` (the machine is
        shared; the minimum is the module's own cost), summed per package."""
        def imported(code: str) -> dict[str, int]:
            """Module -> its own import time in µs, as ``-X importtime`` prints."""
            err = subprocess.run([self.user_python, "-X", "importtime", "-c", code],
                                 env=self.env, capture_output=True, text=True, check=True,
                                 cwd=self.work).stderr
            found = {}
            for line in err.splitlines():
                if line.startswith("import time:") and line.count("|") == 2:
                    own, _, name = line.split("|")
                    if own.split(":")[1].strip().isdigit():  # not the heading
                        found[name.strip()] = int(own.split(":")[1])
            return found

        bare = imported("pass")  # what every interpreter imports before any code
        best: dict[str, int] = {}
        for _ in range(runs):
            for name, micros in imported("import csp11.win32crypt").items():
                if name not in bare:
                    best[name] = min(best.get(name, 1 << 62), micros)
        groups: dict[str, float] = {}
        for name, micros in best.items():
            top = name.split(".")[0]
            group = top if top in ("csp11", "pkcs11", "asn1crypto", "cryptography") else "other"
            groups[group] = groups.get(group, 0.0) + micros / 1e3
        biggest = sorted(((v, k) for k, v in best.items() if k.startswith("csp11")),
                         reverse=True)[:3]
        groups.update({f"  {name}": micros / 1e3 for micros, name in biggest})
        return groups


def _user_python() -> str:
    """The interpreter of csp11 installed as a user installs it (.venv-run,
    made or refreshed by scripts/bootstrap); this one where that fails."""
    done = subprocess.run([str(_REPO / "scripts" / "bootstrap")], capture_output=True,
                          text=True, check=False)
    python = _REPO / ".venv-run" / "bin" / "python"
    if done.returncode or not python.exists():
        print(f"scripts/bootstrap failed ({done.stderr.strip()[-200:]}): cold starts run in "
              f"{sys.executable}, whose editable install adds an import hook", flush=True)
        return sys.executable
    return str(python)


def _c_ops() -> list[str]:
    return ["genkey", "aescbc", "aescbc_dec", "sha256", "rsasign", "rsasign_token", "random32",
            "random1m"]


def run(args: argparse.Namespace) -> None:
    work = Path(tempfile.mkdtemp(prefix="csp11-vs-c-"))
    try:
        bench = Bench(work)
        print(f"module {bench.module}; Python {sys.version.split()[0]}; "
              f"{args.rounds} rounds, median of {args.calls} calls each")
        names = ["C", "C tuned", "python-pkcs11", "csp11"]
        if bench.java is not None:
            names.insert(2, "SunPKCS11")
        if args.before:
            names.append("csp11 before")
        columns: dict[str, list[dict[str, float]]] = {k: [] for k in names}
        cold: list[float] = []
        cold_before: list[float] = []
        bare: list[float] = []
        floors: dict[str, list[float]] = {"python -c pass": [], "python -c 'import pkcs11'": [],
                                          "C: process start to first key": []}
        for r in range(args.rounds):
            print(f"round {r + 1}: load {_load()}", flush=True)
            columns["C"].append(_parse_c(bench.c(args.calls, _c_ops(), tuned=False)))
            columns["C tuned"].append(_parse_c(bench.c(args.calls, _c_ops(), tuned=True)))
            if bench.java is not None:
                columns["SunPKCS11"].append(bench.sunpkcs11(args.calls))
            columns["python-pkcs11"].append(bench.child("pkcs11", args.calls))
            columns["csp11"].append(bench.child("csp11", args.calls))
            if args.before:
                columns["csp11 before"].append(bench.child("csp11", args.calls, args.before))
            for _ in range(3):
                cold.append(bench.cold_start())
                if args.before:
                    cold_before.append(bench.cold_start(args.before))
                bare.append(bench.python_start())
                floors["python -c pass"].append(bare[-1])
                floors["python -c 'import pkcs11'"].append(bench.python_start("import pkcs11"))
                floors["C: process start to first key"].append(bench.c_first_key())
        med = {col: {op: statistics.median(row.get(op, float("nan")) for row in rows)
                     for op, *_ in OPS}
               for col, rows in columns.items()}
        if bench.java is None:
            print("no JDK (javac/java) on PATH: no SunPKCS11 column")
        print()
        before_head = " csp11 before (/ C) |" if args.before else ""
        java_head = " SunPKCS11 |" if bench.java is not None else ""
        print(f"| operation (SoftHSM2) | C | C tuned |{java_head} python-pkcs11 |{before_head} "
              "csp11 | csp11 / C | csp11 / C tuned | csp11 / python-pkcs11 | target |")
        print("|---|---|---|---|---|---|---|---|---|" + ("---|" if args.before else "")
              + ("---|" if bench.java is not None else ""))
        for op, title, target, base in OPS:
            m = {col: med[col][op] for col in med}
            ours = m["csp11"]
            goal = "-"
            if target is not None:
                verdict = "met" if ours / m[base] <= target else "NOT met"
                goal = f"<= {target}x {base}: {verdict}"
            before = (f" {m['csp11 before']:.1f} µs ({m['csp11 before'] / m['C']:.2f}) |"
                      if args.before else "")
            java = ""
            if bench.java is not None:  # SunPKCS11 has no container-key row
                java = " - |" if m["SunPKCS11"] != m["SunPKCS11"] else f" {m['SunPKCS11']:.1f} µs |"
            print(f"| {title} | {m['C']:.1f} µs | {m['C tuned']:.1f} µs |{java} "
                  f"{m['python-pkcs11']:.1f} µs |{before} {ours:.1f} µs | {ours / m['C']:.2f} | "
                  f"{ours / m['C tuned']:.2f} | {ours / m['python-pkcs11']:.2f} | {goal} |")
        for name in ("C", "csp11"):
            print(f"\n{name}: RSA-2048 signing with a container's (token) key / with a session "
                  f"key: {med[name]['rsasign_token'] / med[name]['rsasign']:.2f}", end="")
        print(" (target for csp11: <= 1.10)")
        cold_ms = statistics.median(cold)
        print(f"\ncold start to the first key ({bench.user_python}): {cold_ms:.1f} ms median "
              f"of {len(cold)} "
              f"(bare `python -c pass`: {statistics.median(bare):.1f} ms); target <= 60 ms: "
              f"{'met' if cold_ms <= 60 else 'NOT met'}")
        if cold_before:
            print(f"  csp11 before: {statistics.median(cold_before):.1f} ms median of "
                  f"{len(cold_before)}, interleaved with the above")
        if bench.java_first:
            first = statistics.median(bench.java_first)
            print(f"  SunPKCS11: JVM start to the first key {first:.0f} ms (inside the JVM, "
                  f"login included; median of {len(bench.java_first)})")
        parts = [statistics.median(p[i] for p in bench.split) for i in range(5)]
        print(f"  of which: interpreter start {parts[0]:.1f} ms, import csp11 {parts[1]:.1f} ms, "
              f"CryptAcquireContext {parts[2]:.1f} ms, first CryptGenKey {parts[3]:.1f} ms "
              f"(then the interpreter's exit: {parts[4]:.1f} ms)")
        print("  floors (whole processes, medians): " + ", ".join(
            f"{name} {statistics.median(values):.1f} ms" for name, values in floors.items()))
        profile = bench.import_profile()
        print("  import csp11 by package (per module the minimum self time of 7 `-X importtime` "
              "runs, summed; modules a bare interpreter imports left out): " + ", ".join(
                  f"{name.strip()} {ms:.1f} ms" for name, ms in profile.items()
                  if not name.startswith(" ")))
        print("    csp11's largest: " + ", ".join(
            f"{name.strip()} {ms:.1f} ms" for name, ms in profile.items() if name.startswith(" ")))
        seconds = args.thread_seconds
        for _ in range(args.thread_rounds):
            # The token's own ceiling first: the same key pairs in C, each
            # thread on a session of its own, right before csp11's.
            c_rates = _parse_rates(bench.c(1, [f"threads:1:{seconds}", f"threads:2:{seconds}"],
                                           tuned=False))
            c_scaling = c_rates[1] / c_rates[0]
            threads = json.loads(bench.py(__file__, "--child", "threads", "--seconds",
                                          str(seconds)))
            print(f"RSA-1024 key pairs: 1 thread {threads['rsa1024_1thread_per_s']:.1f}/s, "
                  f"2 threads {threads['rsa1024_2threads_per_s']:.1f}/s, scaling "
                  f"{threads['scaling']:.2f}x (target >= 1.9x; python-pkcs11 in the same "
                  f"process: {threads['direct_scaling']:.2f}x; C: {c_rates[0]:.1f}/s and "
                  f"{c_rates[1]:.1f}/s, {c_scaling:.2f}x; load {_load()}, on "
                  f"{os.cpu_count()} CPUs)")
        if not args.no_file:
            file_run(bench, args.file_mib, args.before, args.file_rounds,
                     med["C"]["sha256"])
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _file_dir(bench: Bench, mib: int) -> Path:
    """A tmpfs directory for the file run when there is room for the three files
    (the plaintext, the encrypted and the decrypted one): reading and writing
    then cost no disk.  Otherwise the work directory."""
    shm = Path("/dev/shm")
    if shm.is_dir() and shutil.disk_usage(shm).free > (3 * mib + 64) * _MIB:
        return Path(tempfile.mkdtemp(prefix="csp11-vs-c-", dir=shm))
    return bench.work


def _run_measured(cmd: list[str], env: dict[str, str], cwd: Path) -> tuple[str, float, int]:
    """Run ``cmd``: its output, wall seconds and peak RSS in KiB (its own, by wait4)."""
    with tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        child = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=err, cwd=cwd)
        assert child.stdout is not None
        out = child.stdout.read()
        _, status, usage = os.wait4(child.pid, 0)
        wall = time.perf_counter() - start
        child.returncode = os.waitstatus_to_exitcode(status)
        child.stdout.close()
        if child.returncode:
            err.seek(0)
            raise SystemExit(f"{cmd[3:5]} failed: {err.read().decode().strip()}")
    return out.decode(), wall, usage.ru_maxrss


def file_run(bench: Bench, mib: int, before: Path | None, rounds: int,
             sha256_us: float) -> None:
    """csp11 encrypt/decrypt of a file of ``mib`` MiB against raw AES-CBC in C over
    as many bytes of memory: one-shot C_Encrypt per chunk, chained (``chain:``,
    what CryptEncrypt does) and multi-part C_EncryptUpdate (``bulk:``), plain
    and tuned; per round the best of them is the reference.  Rounds interleave
    C and csp11; medians over rounds.  ``sha256_us`` (the C loop's SHA-256 of
    1 MiB on the token) gives the format's own floor: the file's signature
    covers a SHA-256 of the ciphertext run on the token."""
    where = _file_dir(bench, mib)
    plain = where / "plain"
    block = os.urandom(_MIB)
    with open(plain, "wb") as f:
        for _ in range(mib):
            f.write(block)
    sealed, restored = where / "plain.csp11", where / "restored"
    chunk_kib = 1024
    specs = [f"chain:{mib}:{chunk_kib}", f"chain:{mib}:256", f"bulk:{mib}:{chunk_kib}"]
    trees: list[tuple[str, Path | None]] = [("csp11", None)]
    if before is not None:
        trees.insert(0, ("csp11 before", before))
    c_rates: dict[str, list[float]] = {}
    best: list[float] = []
    ours: dict[str, list[tuple[float, float, int]]] = {}
    writes: list[float] = []
    c_work: dict[str, list[tuple[float, float]]] = {}  # verb: (MiB/s, CPU ms per MiB)
    print(f"\nfile of {mib} MiB in {where} (load {_load()})")
    try:
        for r in range(rounds):
            print(f"  round {r + 1}: load {_load()}", flush=True)
            round_rates = []
            for tuned in (False, True):
                for line in bench.c(1, specs, tuned).splitlines():
                    spec, rate, _ = line.split()
                    name = f"raw C {'tuned' if tuned else 'plain'} {spec}"
                    c_rates.setdefault(name, []).append(float(rate))
                    round_rates.append(float(rate))
            best.append(max(round_rates))
            # C doing the command's own work on csp11's threads (read, AES,
            # the token's SHA-256 on a second thread, write on a third): the
            # ceiling of the command line on this machine.  Tuned, as the
            # command tunes its own malloc.
            c_out = where / "c-out"
            for line in bench.c(1, [f"file:enc:{plain}:{c_out}", f"file:dec:{plain}:{c_out}"],
                                True).splitlines():
                op, speed, _, _, *cpu = line.split()
                c_work.setdefault("encrypt" if op.startswith("file:enc") else "decrypt", []).append(
                    (float(speed), sum(float(x.split("=")[1]) for x in cpu)))
            c_out.unlink(missing_ok=True)
            # What the output's writes cost this machine (fresh pages of the
            # file system), which the C loop does not pay.
            start = time.perf_counter()
            with open(where / "written", "wb", buffering=0) as f:
                for _ in range(mib):
                    f.write(block)
            writes.append(mib / (time.perf_counter() - start))
            (where / "written").unlink()
            for name, tree in trees:
                env = bench.env
                if tree is not None:
                    env = dict(env, PYTHONPATH=str(tree) + os.pathsep + bench.env["PYTHONPATH"])
                for verb, source, target in (("encrypt", plain, sealed),
                                             ("decrypt", sealed, restored)):
                    target.unlink(missing_ok=True)
                    out, wall, rss = _run_measured(
                        [sys.executable, "-m", "csp11", verb, str(source), "-o", str(target),
                         "--json"], env, bench.work)
                    seconds = json.loads(out)["seconds"]
                    ours.setdefault(f"{name} {verb}", []).append((mib / seconds, mib / wall, rss))
        for name, rates in c_rates.items():
            print(f"  {name}: {statistics.median(rates):.1f} MiB/s")
        reference = statistics.median(best)
        encrypt_c = max(statistics.median(v) for k, v in c_rates.items() if "chain:" in k)
        one_core = 1 / (1 / encrypt_c + sha256_us / 1e6)
        print(f"  reference (best raw C per round, median): {reference:.1f} MiB/s; the format's "
              f"token work on one core (C_Encrypt + the token's SHA-256, {sha256_us:.0f} µs/MiB): "
              f"{one_core:.1f} MiB/s = {one_core / reference:.0%}; writing {mib} MiB to a new "
              f"file here: {statistics.median(writes):.1f} MiB/s")
        cpus = 2 if not hasattr(os, "sched_getaffinity") else len(os.sched_getaffinity(0))
        for verb, c_runs in c_work.items():
            c_rate = statistics.median(x[0] for x in c_runs)
            cpu_ms = statistics.median(x[1] for x in c_runs)
            floor = 1e3 / (cpu_ms / cpus)  # every vCPU busy all the time
            print(f"  C doing the command's work ({verb}, file:{verb[:3]}): {c_rate:.1f} MiB/s = "
                  f"{c_rate / reference:.0%} of the reference; {cpu_ms:.2f} ms of CPU per MiB, so "
                  f"{cpus} vCPUs cannot exceed {floor:.0f} MiB/s = {floor / reference:.0%} "
                  "(rounds: " + " ".join(f"{x[0]:.0f} MiB/s {x[1]:.2f} ms" for x in c_runs) + ")")
        for label, runs in ours.items():
            in_process = statistics.median(x[0] for x in runs)
            whole = statistics.median(x[1] for x in runs)
            peak = max(x[2] for x in runs) / 1024
            share = in_process / reference
            verb = label.rsplit(" ", 1)[1]
            of_c = in_process / statistics.median(x[0] for x in c_work[verb])
            print(f"  {label}: {in_process:.1f} MiB/s in-process ({whole:.1f} MiB/s wall), peak "
                  f"RSS {peak:.1f} MiB = {share:.0%} of the raw C reference (target >= 90%: "
                  f"{'met' if share >= 0.9 else 'NOT met'}), {of_c:.0%} of C doing the same "
                  "work; rounds: " + " ".join(f"{x[0]:.0f}" for x in runs))
    finally:
        for path in (plain, sealed, restored):
            path.unlink(missing_ok=True)
        if where != bench.work:
            shutil.rmtree(where, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--calls", type=int, default=100, help="calls per operation and round")
    parser.add_argument("--file-mib", type=int, default=1024)
    parser.add_argument("--no-file", action="store_true", help="skip the file throughput run")
    parser.add_argument("--file-rounds", type=int, default=3,
                        help="rounds of the file run (C and csp11 interleaved)")
    parser.add_argument("--thread-seconds", type=float, default=3.0)
    parser.add_argument("--thread-rounds", type=int, default=3,
                        help="C and csp11 thread-scaling runs, one after the other")
    parser.add_argument("--before", type=Path,
                        help="another checkout of csp11, measured as a column of its own")
    parser.add_argument("--child", choices=("csp11", "pkcs11", "threads"), help=argparse.SUPPRESS)
    parser.add_argument("--module", help=argparse.SUPPRESS)
    parser.add_argument("--seconds", type=float, default=3.0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child == "csp11":
        print(json.dumps(child_csp11(args.calls)))
    elif args.child == "pkcs11":
        pin = (Path(os.environ["CSP11_HOME"]) / "pin").read_text().strip()
        os.environ["SOFTHSM2_CONF"] = str(Path(os.environ["CSP11_HOME"]) / "softhsm2.conf")
        print(json.dumps(child_pkcs11(args.calls, args.module, pin)))
    elif args.child == "threads":
        print(json.dumps(child_threads(args.seconds)))
    else:
        run(args)


if __name__ == "__main__":
    main()
