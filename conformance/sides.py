"""The two CryptoAPIs under comparison, behind one interface of integer handles.

:class:`WineSide` drives ``capi_helper.exe`` (conformance/capi_helper.c) under
wine64, one request per line; :class:`Csp11Side` calls csp11's ``win32crypt``.
Both raise :class:`CapiError` with the Windows error code of a failed call, so
a case can run the same steps on either side and compare what came back.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
from abc import ABC, abstractmethod
from collections.abc import Callable
from pathlib import Path
from typing import Any

from csp11 import pywintypes, win32crypt, winerror
from csp11 import win32cryptcon as con

HERE = Path(__file__).resolve().parent
HELPER_SOURCE = HERE / "capi_helper.c"

# Parameters whose value is a DWORD (the rest are byte strings).
DWORD_KEY_PARAMS = frozenset({
    con.KP_ALGID, con.KP_BLOCKLEN, con.KP_KEYLEN, con.KP_PERMISSIONS, con.KP_MODE,
    con.KP_PADDING, con.KP_MODE_BITS, con.KP_EFFECTIVE_KEYLEN,
})
DWORD_HASH_PARAMS = frozenset({con.HP_ALGID, con.HP_HASHSIZE})

Value = int | bytes


class CapiError(Exception):
    """A failed call: ``code`` is the Windows error (unsigned), -1 for a Python exception."""

    def __init__(self, code: int, text: str = "") -> None:
        super().__init__(code, text)
        self.code = code
        self.text = text

    @property
    def name(self) -> str:
        if self.code == -1:
            return f"EXC {self.text}"
        return winerror.name_of(self.code)


class Side(ABC):
    """One CryptoAPI.  Handles are ints; 0 is "no handle"."""

    name: str

    @abstractmethod
    def acquire(self, prov_type: int, flags: int, container: str | None = None,
                provider: str | None = None) -> int: ...
    @abstractmethod
    def release(self, prov: int, flags: int = 0) -> None: ...
    @abstractmethod
    def genkey(self, prov: int, algid: int, flags: int = 0) -> int: ...
    @abstractmethod
    def getuserkey(self, prov: int, spec: int) -> int: ...
    @abstractmethod
    def importkey(self, prov: int, blob: bytes, pub: int = 0, flags: int = 0) -> int: ...
    @abstractmethod
    def exportkey(self, key: int, exp: int, blob_type: int, flags: int = 0) -> bytes: ...
    @abstractmethod
    def encrypt(self, key: int, final: bool, data: bytes, hash_: int = 0,
                flags: int = 0) -> bytes: ...
    @abstractmethod
    def decrypt(self, key: int, final: bool, data: bytes, hash_: int = 0,
                flags: int = 0) -> bytes: ...
    @abstractmethod
    def createhash(self, prov: int, algid: int, key: int = 0, flags: int = 0) -> int: ...
    @abstractmethod
    def hashdata(self, hash_: int, data: bytes, flags: int = 0) -> None: ...
    @abstractmethod
    def hashkey(self, hash_: int, key: int, flags: int = 0) -> None: ...
    @abstractmethod
    def gethash(self, hash_: int, param: int, flags: int = 0) -> Value: ...
    @abstractmethod
    def sethash(self, hash_: int, param: int, value: Value, flags: int = 0) -> None: ...
    @abstractmethod
    def sign(self, hash_: int, spec: int, flags: int = 0) -> bytes: ...
    @abstractmethod
    def verify(self, hash_: int, sig: bytes, pub: int, flags: int = 0) -> None: ...
    @abstractmethod
    def derive(self, prov: int, algid: int, hash_: int, flags: int = 0) -> int: ...
    @abstractmethod
    def getkey(self, key: int, param: int, flags: int = 0) -> Value: ...
    @abstractmethod
    def setkey(self, key: int, param: int, value: Value | None, flags: int = 0) -> None: ...
    @abstractmethod
    def destroykey(self, key: int) -> None: ...
    @abstractmethod
    def destroyhash(self, hash_: int) -> None: ...
    @abstractmethod
    def duphash(self, hash_: int) -> int: ...


# ---- Wine ---------------------------------------------------------------------------------
def find_wine() -> str | None:
    """The wine64 loader, or None when Wine is not installed."""
    for cand in ("wine64", "/usr/lib/wine/wine64", "/usr/lib64/wine/wine64"):
        path = shutil.which(cand) if "/" not in cand else (cand if os.access(cand, os.X_OK)
                                                           else None)
        if path:
            return path
    return None


def find_mingw() -> str | None:
    return shutil.which("x86_64-w64-mingw32-gcc")


def _wineserver(wine: str) -> str | None:
    here = Path(wine).parent
    for cand in (here / "wineserver64", here / "wineserver"):
        if cand.exists():
            return str(cand)
    return shutil.which("wineserver")


def build_helper(workdir: Path) -> Path:
    """Compile capi_helper.c into ``workdir`` (a binary is never kept in the tree)."""
    gcc = find_mingw()
    if gcc is None:
        raise RuntimeError("x86_64-w64-mingw32-gcc is not installed (gcc-mingw-w64-x86-64)")
    exe = workdir / "capi_helper.exe"
    subprocess.run([gcc, "-O2", "-Wall", "-o", str(exe), str(HELPER_SOURCE), "-ladvapi32"],
                   check=True, capture_output=True, text=True)
    return exe


def _hex(data: bytes | None) -> str:
    if data is None:
        return "-"
    return data.hex() if data else "."


def _dw(value: int) -> str:
    return str(value & 0xFFFFFFFF)


class WineSide(Side):
    """CryptoAPI as Wine's rsaenh/dssenh implement it, through the helper."""

    name = "wine"

    def __init__(self, workdir: Path) -> None:
        wine = find_wine()
        if wine is None:
            raise RuntimeError("wine64 is not installed")
        self._wine = wine
        self._prefix = workdir / "wineprefix"
        self._env = dict(os.environ, WINEPREFIX=str(self._prefix), WINEDEBUG="-all",
                         WINEDLLOVERRIDES="mscoree,mshtml=", DISPLAY="")
        exe = build_helper(workdir)
        self._proc = subprocess.Popen(
            [wine, str(exe)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL, env=self._env, text=True, bufsize=1,
        )
        self._call("ping")

    def close(self) -> None:
        if self._proc.stdin:
            self._proc.stdin.close()
        try:
            self._proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()
        server = _wineserver(self._wine)
        if server:
            subprocess.run([server, "-k"], env=self._env, check=False,
                           capture_output=True, timeout=60)

    def _call(self, verb: str, *args: str) -> list[str]:
        assert self._proc.stdin is not None
        assert self._proc.stdout is not None
        self._proc.stdin.write(" ".join((verb, *args)) + "\n")
        self._proc.stdin.flush()
        answer = self._proc.stdout.readline()
        if not answer:
            raise RuntimeError(f"capi_helper died during {verb}")
        parts = answer.split()
        if parts[0] == "ERR":
            raise CapiError(int(parts[1], 16))
        return parts[1:]

    def _handle(self, verb: str, *args: str) -> int:
        return int(self._call(verb, *args)[0])

    def _bytes(self, verb: str, *args: str) -> bytes:
        out = self._call(verb, *args)[0]
        return b"" if out == "." else bytes.fromhex(out)

    def acquire(self, prov_type: int, flags: int, container: str | None = None,
                provider: str | None = None) -> int:
        return self._handle("acquire", _dw(prov_type), _dw(flags),
                            _hex(None if container is None else container.encode()),
                            _hex(None if provider is None else provider.encode()))

    def release(self, prov: int, flags: int = 0) -> None:
        self._call("release", str(prov), _dw(flags))

    def genkey(self, prov: int, algid: int, flags: int = 0) -> int:
        return self._handle("genkey", str(prov), _dw(algid), _dw(flags))

    def getuserkey(self, prov: int, spec: int) -> int:
        return self._handle("getuserkey", str(prov), _dw(spec))

    def importkey(self, prov: int, blob: bytes, pub: int = 0, flags: int = 0) -> int:
        return self._handle("importkey", str(prov), _hex(blob), str(pub), _dw(flags))

    def exportkey(self, key: int, exp: int, blob_type: int, flags: int = 0) -> bytes:
        return self._bytes("exportkey", str(key), str(exp), _dw(blob_type), _dw(flags))

    def encrypt(self, key: int, final: bool, data: bytes, hash_: int = 0,
                flags: int = 0) -> bytes:
        return self._bytes("encrypt", str(key), str(hash_), str(int(final)), _dw(flags),
                           _hex(data))

    def decrypt(self, key: int, final: bool, data: bytes, hash_: int = 0,
                flags: int = 0) -> bytes:
        return self._bytes("decrypt", str(key), str(hash_), str(int(final)), _dw(flags),
                           _hex(data))

    def createhash(self, prov: int, algid: int, key: int = 0, flags: int = 0) -> int:
        return self._handle("createhash", str(prov), _dw(algid), str(key), _dw(flags))

    def hashdata(self, hash_: int, data: bytes, flags: int = 0) -> None:
        self._call("hashdata", str(hash_), _hex(data), _dw(flags))

    def hashkey(self, hash_: int, key: int, flags: int = 0) -> None:
        self._call("hashkey", str(hash_), str(key), _dw(flags))

    def gethash(self, hash_: int, param: int, flags: int = 0) -> Value:
        raw = self._bytes("gethash", str(hash_), _dw(param), _dw(flags))
        return int.from_bytes(raw, "little") if param in DWORD_HASH_PARAMS else raw

    def sethash(self, hash_: int, param: int, value: Value, flags: int = 0) -> None:
        data = value.to_bytes(4, "little") if isinstance(value, int) else value
        self._call("sethash", str(hash_), _dw(param), _hex(data), _dw(flags))

    def sign(self, hash_: int, spec: int, flags: int = 0) -> bytes:
        return self._bytes("sign", str(hash_), _dw(spec), _dw(flags))

    def verify(self, hash_: int, sig: bytes, pub: int, flags: int = 0) -> None:
        self._call("verify", str(hash_), _hex(sig), str(pub), _dw(flags))

    def derive(self, prov: int, algid: int, hash_: int, flags: int = 0) -> int:
        return self._handle("derive", str(prov), _dw(algid), str(hash_), _dw(flags))

    def getkey(self, key: int, param: int, flags: int = 0) -> Value:
        raw = self._bytes("getkey", str(key), _dw(param), _dw(flags))
        return int.from_bytes(raw, "little") if param in DWORD_KEY_PARAMS else raw

    def setkey(self, key: int, param: int, value: Value | None, flags: int = 0) -> None:
        data = (value & 0xFFFFFFFF).to_bytes(4, "little") if isinstance(value, int) else value
        self._call("setkey", str(key), _dw(param), _hex(data), _dw(flags))

    def destroykey(self, key: int) -> None:
        self._call("destroykey", str(key))

    def destroyhash(self, hash_: int) -> None:
        self._call("destroyhash", str(hash_))

    def duphash(self, hash_: int) -> int:
        return self._handle("duphash", str(hash_))


# ---- csp11 --------------------------------------------------------------------------------
class Csp11Side(Side):
    """csp11's win32crypt on the token it is configured for (CSP11_HOME's embedded one)."""

    name = "csp11"

    def __init__(self) -> None:
        self._objects: dict[int, Any] = {}
        self._next = 1

    def _new(self, obj: Any) -> int:
        handle = self._next
        self._next += 1
        self._objects[handle] = obj
        return handle

    def _obj(self, handle: int) -> Any:
        return self._objects[handle] if handle else None

    @staticmethod
    def _run(fn: Callable[[], Any]) -> Any:
        try:
            return fn()
        except pywintypes.error as exc:
            raise CapiError(exc.winerror & 0xFFFFFFFF, exc.strerror) from exc
        except (TypeError, ValueError, OverflowError) as exc:
            raise CapiError(-1, f"{type(exc).__name__}: {exc}") from exc

    def acquire(self, prov_type: int, flags: int, container: str | None = None,
                provider: str | None = None) -> int:
        ctx = self._run(lambda: win32crypt.CryptAcquireContext(container, provider, prov_type,
                                                               flags))
        return self._new(ctx) if ctx is not None else 0

    def release(self, prov: int, flags: int = 0) -> None:
        self._run(lambda: self._objects.pop(prov).CryptReleaseContext(flags))

    def genkey(self, prov: int, algid: int, flags: int = 0) -> int:
        return self._new(self._run(lambda: self._obj(prov).CryptGenKey(algid, flags)))

    def getuserkey(self, prov: int, spec: int) -> int:
        return self._new(self._run(lambda: self._obj(prov).CryptGetUserKey(spec)))

    def importkey(self, prov: int, blob: bytes, pub: int = 0, flags: int = 0) -> int:
        return self._new(self._run(
            lambda: self._obj(prov).CryptImportKey(blob, self._obj(pub), flags)))

    def exportkey(self, key: int, exp: int, blob_type: int, flags: int = 0) -> bytes:
        out: bytes = self._run(
            lambda: self._obj(key).CryptExportKey(self._obj(exp), blob_type, flags))
        return out

    def encrypt(self, key: int, final: bool, data: bytes, hash_: int = 0,
                flags: int = 0) -> bytes:
        out: bytes = self._run(
            lambda: self._obj(key).CryptEncrypt(final, data, self._obj(hash_), flags))
        return out

    def decrypt(self, key: int, final: bool, data: bytes, hash_: int = 0,
                flags: int = 0) -> bytes:
        out: bytes = self._run(
            lambda: self._obj(key).CryptDecrypt(final, data, self._obj(hash_), flags))
        return out

    def createhash(self, prov: int, algid: int, key: int = 0, flags: int = 0) -> int:
        return self._new(self._run(
            lambda: self._obj(prov).CryptCreateHash(algid, self._obj(key), flags)))

    def hashdata(self, hash_: int, data: bytes, flags: int = 0) -> None:
        self._run(lambda: self._obj(hash_).CryptHashData(data, flags))

    def hashkey(self, hash_: int, key: int, flags: int = 0) -> None:
        self._run(lambda: self._obj(hash_).CryptHashSessionKey(self._obj(key), flags))

    def gethash(self, hash_: int, param: int, flags: int = 0) -> Value:
        out: Value = self._run(lambda: self._obj(hash_).CryptGetHashParam(param, flags))
        return out

    def sethash(self, hash_: int, param: int, value: Value, flags: int = 0) -> None:
        self._run(lambda: self._obj(hash_).CryptSetHashParam(param, value, flags))

    def sign(self, hash_: int, spec: int, flags: int = 0) -> bytes:
        out: bytes = self._run(lambda: self._obj(hash_).CryptSignHash(spec, flags))
        return out

    def verify(self, hash_: int, sig: bytes, pub: int, flags: int = 0) -> None:
        self._run(lambda: self._obj(hash_).CryptVerifySignature(sig, self._obj(pub), flags))

    def derive(self, prov: int, algid: int, hash_: int, flags: int = 0) -> int:
        return self._new(self._run(
            lambda: self._obj(prov).CryptDeriveKey(algid, self._obj(hash_), flags)))

    def getkey(self, key: int, param: int, flags: int = 0) -> Value:
        out: Value = self._run(lambda: self._obj(key).CryptGetKeyParam(param, flags))
        return out

    def setkey(self, key: int, param: int, value: Value | None, flags: int = 0) -> None:
        self._run(lambda: self._obj(key).CryptSetKeyParam(param, value, flags))

    def destroykey(self, key: int) -> None:
        self._run(lambda: self._objects.pop(key).CryptDestroyKey())

    def destroyhash(self, hash_: int) -> None:
        self._run(lambda: self._objects.pop(hash_).CryptDestroyHash())

    def duphash(self, hash_: int) -> int:
        return self._new(self._run(lambda: self._obj(hash_).CryptDuplicateHash()))

    def close(self) -> None:
        for handle in sorted(self._objects, reverse=True):
            obj = self._objects.pop(handle)
            if isinstance(obj, win32crypt.PyCRYPTPROV):
                with contextlib.suppress(pywintypes.error):
                    obj.CryptReleaseContext()
