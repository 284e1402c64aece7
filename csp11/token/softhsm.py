"""SoftHSM2's lost generation: making every process see every token object.

SoftHSM2 2.6 keeps, per process, the value of a token's ``generation`` file
that it last saw, and re-reads the token's directory only when the file
differs.  Its writers increment the file from what they read and remember
the result, so a process that writes just after another process's write
absorbs that increment and never re-reads the directory: it stops seeing the
other process's objects (measured: a child creates an object, the parent
creates one, the parent's C_FindObjects misses the child's; docs/containers.md).

The repair: after writing token objects, increment the ``generation`` files
once more, under the lock SoftHSM2 itself takes (a POSIX record lock on the
whole file).  Every process's next search, this one's included, then re-reads
the directory and sees every object whose file exists.  It needs the token
store on this machine: SoftHSM2 served by ``p11-kit server`` is one process
and needs no repair.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import struct
import threading
from collections.abc import Iterator, Mapping
from typing import TextIO

from csp11.interrupts import interruptible
from csp11.token.forkgate import ChildSafeLock

__all__ = ["generation_files", "store_file_lock", "store_lock_path", "touch_generations"]

_DEFAULT_CONF = "/etc/softhsm/softhsm2.conf"


def _token_dir(env: Mapping[str, str]) -> str | None:
    conf = env.get("SOFTHSM2_CONF") or os.environ.get("SOFTHSM2_CONF") or _DEFAULT_CONF
    try:
        with open(conf, encoding="utf-8", errors="replace") as handle:
            lines = handle.read().splitlines()
    except OSError:
        return None
    for line in lines:
        key, _, value = line.partition("=")
        if key.strip() == "directories.tokendir" and value.strip():
            return value.strip()
    return None


def store_lock_path(env: Mapping[str, str]) -> str | None:
    """The file every csp11 process using this SoftHSM2 store locks around its
    calls that read or write the store (``.lock`` beside the token directory:
    the embedded token's own lock file), or None where it cannot be made.

    SoftHSM2 that reads its store while another process rewrites a file of
    it can be left with a broken view of the token for the rest of the
    process (measured: every later C_Login answers CKR_GENERAL_ERROR).
    """
    store = _token_dir(env)
    if store is None:
        return None
    parent = os.path.dirname(os.path.normpath(store)) or "."
    if not os.access(parent, os.W_OK):
        return None
    return os.path.join(parent, ".lock")


# Store locks this process holds: (lock, depth, open file).  flock belongs to
# an open file, so a second open of the same file in this process would
# block against the first; one holder per path, re-entrant in the process.
_held: dict[str, tuple[threading.RLock, list[int], list[TextIO]]] = {}


def _forget_parent() -> None:
    # The parent's locks are the parent's: the child's copies of its open
    # lock files are closed (the parent keeps its flock) and forgotten.
    for _lock, _depth, files in _held.values():
        for handle in files:
            handle.close()
    _held.clear()


_held_lock = ChildSafeLock(_forget_parent)


@interruptible
def _wait_for_lock(handle: TextIO) -> None:
    """Take the store's lock file, waiting for another process that holds
    it; a stop signal ends the wait at once (nothing is held yet)."""
    fcntl.flock(handle, fcntl.LOCK_EX)


@contextlib.contextmanager
def store_file_lock(path: str | None) -> Iterator[None]:
    """Hold a store's lock file (``flock``), re-entrant within the process;
    nothing when ``path`` is None."""
    if path is None:
        yield
        return
    path = os.path.realpath(path)
    with _held_lock:
        entry = _held.setdefault(path, (threading.RLock(), [0], []))
    lock, depth, files = entry
    with lock:
        if depth[0] == 0:
            handle = open(path, "a+")  # noqa: SIM115 - kept open while held
            try:
                _wait_for_lock(handle)
            except BaseException:
                handle.close()
                raise
            files.append(handle)
        depth[0] += 1
        try:
            yield
        finally:
            depth[0] -= 1
            if depth[0] == 0:
                files.pop().close()  # closing drops the flock


def generation_files(env: Mapping[str, str]) -> list[str]:
    """The ``generation`` files of the token store the module's configuration
    names (``SOFTHSM2_CONF`` in the module's environment, else the process's,
    else SoftHSM2's default); empty when it cannot be read."""
    store = _token_dir(env)
    if store is None:
        return []
    try:
        names = os.listdir(store)
    except OSError:
        return []
    found = (os.path.join(store, name, "generation") for name in names
             if not name.startswith("."))  # as glob's "*"
    return sorted(path for path in found if os.path.isfile(path))


def touch_generations(files: list[str]) -> None:
    """Increment each ``generation`` file (8 bytes, big-endian), as SoftHSM2 does."""
    for path in files:
        try:
            fd = os.open(path, os.O_RDWR)
        except OSError:
            continue  # a token deleted meanwhile, or not ours to touch
        try:
            fcntl.lockf(fd, fcntl.LOCK_EX)
            raw = os.pread(fd, 8, 0)
            value = struct.unpack(">Q", raw)[0] if len(raw) == 8 else 0
            value = (value + 1) & 0xFFFFFFFFFFFFFFFF or 1
            os.pwrite(fd, struct.pack(">Q", value), 0)
        except OSError:
            pass  # the repair is best effort; SoftHSM2 itself never fails on it
        finally:
            os.close(fd)  # also drops the record lock
