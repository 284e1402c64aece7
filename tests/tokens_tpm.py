"""A TPM 2.0 token for the tests: swtpm + a private D-Bus + tpm2-abrmd + tpm2-pkcs11.

Everything lives in one temporary directory and is torn down afterwards; the
machine's TPM (if any), its system bus and its p11-kit registrations are never
used.  The recipe is the measured one (notes/TOKEN-FACTS.md): without the
resource manager, transient objects pile up across processes until the TPM
answers "out of memory for object contexts".

``python -m tests.tokens_tpm`` brings one up by hand and prints the environment
and URI (for trying csp11 against it from a shell); Ctrl-C tears it down.

Measured on this fixture (tpm2-pkcs11 1.9.0, Debian 12; source read where
noted), in the style of notes/TOKEN-FACTS.md:

- Objects of other processes: tpm2-pkcs11 reads the token's objects from its
  sqlite store once, at ``C_Initialize`` (``db_get_tokens`` → ``init_tobjects``),
  and ``C_FindObjects`` searches that in-memory list.  Process A loads the
  module, process B then makes a key pair (or a csp11 container: its data
  record and pair): A does not find it — not in the session it had, not in a
  new session, not after closing all sessions and logging in again — while a
  new process does.  B destroys an object A had loaded: A still finds it,
  reads its attributes, and signs with the private key (the TPM blob is in A's
  memory and the primary key persists); A's ``C_DestroyObject`` of it answers
  CKR_OK.  Every object class (the list is one for all).  Only ``C_Finalize``
  + ``C_Initialize`` in A shows B's changes (python-pkcs11's
  ``lib.reinitialize()``: measured, B's new objects appear and the destroyed
  one is gone).  Through csp11: A gets NTE_BAD_KEYSET for B's new container,
  and A's ``CRYPT_NEWKEYSET`` of the same name succeeds (two containers of one
  name; one ``CRYPT_DELETEKEYSET`` in a new process removes both) — unless A
  holds no context then, when csp11 reinitialises the module first (see
  test_an_idle_process_sees_other_processes_containers).  C_Finalize +
  C_Initialize + login takes ~32 ms here.  The store is one SQLite file in
  rollback-journal mode: its file change counter (header bytes 24-27) grows by
  one per C_CreateObject or C_DestroyObject; a csp11 container open takes and
  drops the container lock (two commits).
- Concurrent writers: while another process creates and deletes containers,
  this process's container opens fail at the lock's C_CreateObject with
  CKR_GENERAL_ERROR ("step error: database is locked": SQLite's busy answer,
  not retried by tpm2-pkcs11) — 17 of 45 opens from 3 threads; none without
  the other process.  C_Initialize fails the same way ("db creation failed:
  database is locked"; 177 of 200 in a loop against a writer making and
  deleting containers as fast as it can), and one C_Initialize of 200
  returned CKR_OK listing one slot of two (the token missing) for the life
  of the module.  csp11 tries such calls again after pauses (quirk
  store_busy_fails; C_Initialize, and a view that lacks the token while the
  store changed, wherever a module is (re)loaded: csp11.token.module,
  csp11.token.choice); test_processes_sharing_the_store_wait_for_each_other.
- ``C_CreateObject`` (source: ``object_create``) needs a read/write session
  of the logged-in user (else CKR_SESSION_READ_ONLY, even for CKA_TOKEN false);
  makes RSA public keys, CKO_DATA (CKA_PRIVATE true only) and certificates,
  anything else CKR_ATTRIBUTE_VALUE_INVALID; and stores every object it makes
  in the store, whatever CKA_TOKEN says (a public key created with CKA_TOKEN
  false reads back CKA_TOKEN false and is listed by the next process).
- Mechanisms (``pkcs11-tool -M``): RSA 1024..3072, ECDSA, AES ECB/CBC/CBC-PAD/
  CTR (on keys it made; ``C_GenerateKey`` is CKR_FUNCTION_NOT_SUPPORTED),
  SHA-1/2 digests and HMACs; no DES/3DES, RC2, RC4 or generic-secret
  generation: no session cipher at all.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from .helpers import installed

__all__ = ["TPM_MODULE", "TpmToken", "missing", "outside_objects"]


TPM_MODULE = installed(
    "/usr/lib/*/pkcs11/libtpm2_pkcs11.so", "/usr/lib64/pkcs11/libtpm2_pkcs11.so",
    "/usr/lib/pkcs11/libtpm2_pkcs11.so",
)
_TOOLS = {
    "swtpm": "swtpm",
    "dbus-daemon": "dbus",
    "tpm2-abrmd": "tpm2-abrmd",
    "pkcs11-tool": "opensc",
}
LABEL = "csp11-tpm"
SO_PIN = "so-pin-123456"


def missing() -> str | None:
    """Why a TPM token cannot be brought up here (None: it can)."""
    absent = [package for tool, package in _TOOLS.items() if shutil.which(tool) is None
              and not Path("/usr/sbin", tool).exists()]
    if TPM_MODULE is None:
        absent.append("libtpm2-pkcs11-1")
    if not glob.glob("/usr/lib/*/libtss2-tcti-tabrmd.so*") and not glob.glob(
        "/usr/lib64/libtss2-tcti-tabrmd.so*"
    ):
        absent.append("libtss2-tcti-tabrmd0")
    return f"TPM token packages missing: {', '.join(absent)}" if absent else None


def _free_port_pair() -> int:
    """A port P with P and P+1 free (swtpm's server and control ports)."""
    for _ in range(50):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = int(s.getsockname()[1])
        if port >= 65535:
            continue
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port + 1))
            except OSError:
                continue
        return port
    raise RuntimeError("no free port pair for swtpm")


def _abrmd() -> str:
    return shutil.which("tpm2-abrmd") or "/usr/sbin/tpm2-abrmd"


class TpmToken:
    """One running simulated TPM with an initialised tpm2-pkcs11 token."""

    def __init__(self) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="csp11-tpm-"))
        self.pin_file = self.dir / "pin"
        self.user_pin = "user-pin-1234"
        self._procs: list[subprocess.Popen[bytes]] = []
        self._dbus_pid = 0
        self.env: dict[str, str] = {}

    @property
    def uri(self) -> str:
        """The csp11 token URI of the TPM token (module path and PIN file)."""
        return f"pkcs11:token={LABEL}?module-path={TPM_MODULE}&pin-source=file:{self.pin_file}"

    def start(self) -> TpmToken:
        """Bring up swtpm, the bus, the resource manager; initialise the token."""
        try:
            self._start()
        except BaseException:
            self.stop()
            raise
        return self

    def _start(self) -> None:
        state = self.dir / "state"
        store = self.dir / "store"
        state.mkdir()
        store.mkdir()
        port = _free_port_pair()
        self._procs.append(subprocess.Popen(
            ["swtpm", "socket", "--tpm2", "--tpmstate", f"dir={state}",
             "--server", f"type=tcp,port={port},bindaddr=127.0.0.1",
             "--ctrl", f"type=tcp,port={port + 1},bindaddr=127.0.0.1",
             "--flags", "not-need-init,startup-clear"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
        ))
        _wait_port(port)
        out = subprocess.run(
            ["dbus-daemon", "--session", "--print-address=1", "--print-pid=1", "--fork",
             f"--address=unix:path={self.dir / 'bus'}"],
            capture_output=True, text=True, check=True, timeout=30,
        ).stdout.split()
        address, self._dbus_pid = out[0], int(out[1])
        bus_env = {**os.environ, "DBUS_SESSION_BUS_ADDRESS": address}
        self._procs.append(subprocess.Popen(
            [_abrmd(), "--session", "--allow-root", "--flush-all", f"--tcti=swtpm:port={port}"],
            env=bus_env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            start_new_session=True,
        ))
        self.env = {
            "DBUS_SESSION_BUS_ADDRESS": address,
            "TPM2_PKCS11_TCTI": "tabrmd:bus_type=session",
            "TPM2_PKCS11_STORE": str(store),
            "TPM2_PKCS11_LOG_LEVEL": "0",
        }
        env = {**os.environ, **self.env}
        init = ["pkcs11-tool", "--module", str(TPM_MODULE)]
        deadline = time.monotonic() + 30
        while True:  # tpm2-abrmd takes a moment to claim its bus name
            done = subprocess.run(
                [*init, "--init-token", "--label", LABEL, "--so-pin", SO_PIN],
                env=env, capture_output=True, text=True, timeout=60, check=False,
            )
            if done.returncode == 0:
                break
            if time.monotonic() > deadline:
                raise RuntimeError(f"tpm2-pkcs11 token init failed: {done.stderr[-2000:]}")
            time.sleep(0.2)
        subprocess.run(
            [*init, "--token-label", LABEL, "--login", "--login-type", "so", "--so-pin",
             SO_PIN, "--init-pin", "--pin", self.user_pin],
            env=env, capture_output=True, text=True, timeout=60, check=True,
        )
        self.pin_file.write_text(self.user_pin + "\n")
        self.pin_file.chmod(0o600)

    def stop(self) -> None:
        """Stop every process this token started and remove its directory."""
        for proc in reversed(self._procs):
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        self._procs.clear()
        if self._dbus_pid:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self._dbus_pid, signal.SIGTERM)
            self._dbus_pid = 0
        shutil.rmtree(self.dir, ignore_errors=True)


# pkcs11-tool --list-objects: the first line of each object names its class.
_CLASSES = {
    "Public Key Object": "public", "Private Key Object": "private",
    "Secret Key Object": "secret", "Data object": "data", "Certificate Object": "certificate",
}


def outside_objects(tpm: TpmToken) -> dict[str, int]:
    """The token's objects by class, as a new OpenSC pkcs11-tool process lists them
    after logging in (counted from outside csp11, and by a process that loaded
    tpm2-pkcs11 after every change: see the stale view above)."""
    done = subprocess.run(
        ["pkcs11-tool", "--module", str(TPM_MODULE), "--token-label", LABEL, "--login",
         "--pin", tpm.user_pin, "--list-objects"],
        env={**os.environ, **tpm.env}, capture_output=True, text=True, timeout=60, check=True,
    )
    counts = dict.fromkeys(_CLASSES.values(), 0)
    for line in done.stdout.splitlines():
        for prefix, kind in _CLASSES.items():
            if line.startswith(prefix):
                counts[kind] += 1
    return counts


def _wait_port(port: int) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError("swtpm did not start listening")


if __name__ == "__main__":
    reason = missing()
    if reason:
        sys.exit(reason)
    tpm = TpmToken().start()
    try:
        for name, value in tpm.env.items():
            print(f"export {name}='{value}'")
        print(f"# CSP11_TOKEN='{tpm.uri}'", flush=True)
        signal.pause()
    except KeyboardInterrupt:
        pass
    finally:
        tpm.stop()
