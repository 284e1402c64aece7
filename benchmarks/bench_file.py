"""``csp11 encrypt`` and ``csp11 decrypt`` of a big file, each in a child process.

Makes a file (1 GiB by default; sparse, so it costs no disk and reads fast,
or ``--random`` for one random MiB repeated), encrypts it with the command
line, decrypts the result, and compares SHA-256 digests.  For each step: wall
time, MiB/s, and the child's peak RSS (``wait4``'s rusage).  The token is a
fresh embedded token in the temporary directory (its container and exchange
key are made by a small warm-up run first, so the figures are the file's).

    .venv/bin/python benchmarks/bench_file.py [--mib N] [--random] [--dir DIR]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

_MIB = 1 << 20
_REPO = Path(__file__).resolve().parent.parent


def make_file(path: Path, mib: int, random: bool) -> None:
    with open(path, "wb") as f:
        if not random:
            f.truncate(mib * _MIB)
            return
        block = os.urandom(_MIB)
        for _ in range(mib):
            f.write(block)


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(4 * _MIB):
            digest.update(chunk)
    return digest.hexdigest()


def csp11(env: dict[str, str], *args: str) -> tuple[dict[str, Any], float, int]:
    """Run the command; its JSON report, wall seconds and peak RSS in bytes."""
    with tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        child = subprocess.Popen(
            [sys.executable, "-m", "csp11", *args, "--json"],
            stdout=subprocess.PIPE, stderr=err, stdin=subprocess.DEVNULL, env=env,
        )
        assert child.stdout is not None
        out = child.stdout.read()
        _, status, usage = os.wait4(child.pid, 0)
        wall = time.perf_counter() - start
        child.returncode = os.waitstatus_to_exitcode(status)
        if child.returncode:
            err.seek(0)
            raise SystemExit(f"csp11 {' '.join(args)} failed: {err.read().decode().strip()}")
    return json.loads(out), wall, usage.ru_maxrss * 1024  # Linux: ru_maxrss in KiB


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mib", type=int, default=1024, help="file size in MiB (default 1024)")
    parser.add_argument("--random", action="store_true",
                        help="write a random MiB repeated instead of a sparse file")
    parser.add_argument("--dir", type=Path, help="where to work (default: a temporary directory)")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="csp11-bench-", dir=args.dir))
    try:
        env = dict(os.environ)
        for name in ("CSP11_TOKEN", "CSP11_PIN", "CSP11_MODULE", "SOFTHSM2_CONF"):
            env.pop(name, None)
        env["CSP11_HOME"] = str(work / "home")
        env["PYTHONPATH"] = str(_REPO) + os.pathsep + env.get("PYTHONPATH", "")
        (work / "warm").write_bytes(b"warm up")
        csp11(env, "encrypt", str(work / "warm"))

        plain, sealed, restored = work / "plain", work / "plain.csp11", work / "restored"
        make_file(plain, args.mib, args.random)
        size = args.mib * _MIB
        print(f"{args.mib} MiB {'random' if args.random else 'sparse'} file, "
              f"Python {sys.version.split()[0]}")
        for verb, source, target in (("encrypt", plain, sealed), ("decrypt", sealed, restored)):
            report, wall, rss = csp11(env, verb, str(source), "-o", str(target))
            assert report["bytes"] == size
            print(f"{verb:<8} wall {wall:7.2f} s  {size / _MIB / wall:7.1f} MiB/s   "
                  f"(in-process {report['seconds']:6.2f} s, "
                  f"{size / _MIB / report['seconds']:7.1f} MiB/s)   peak RSS {rss / _MIB:6.1f} MiB")
        same = sha256(plain) == sha256(restored)
        print(f"SHA-256 of the decrypted file {'matches' if same else 'DIFFERS FROM'} "
              "the original's")
        if not same:
            raise SystemExit(1)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
