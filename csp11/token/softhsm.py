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

import fcntl
import os
import struct
from collections.abc import Mapping
from pathlib import Path

__all__ = ["generation_files", "touch_generations"]

_DEFAULT_CONF = "/etc/softhsm/softhsm2.conf"


def generation_files(env: Mapping[str, str]) -> list[Path]:
    """The ``generation`` files of the token store the module's configuration
    names (``SOFTHSM2_CONF`` in the module's environment, else the process's,
    else SoftHSM2's default); empty when it cannot be read."""
    conf = env.get("SOFTHSM2_CONF") or os.environ.get("SOFTHSM2_CONF") or _DEFAULT_CONF
    try:
        lines = Path(conf).read_text().splitlines()
    except OSError:
        return []
    for line in lines:
        key, _, value = line.partition("=")
        if key.strip() == "directories.tokendir" and value.strip():
            store = Path(value.strip())
            return sorted(store.glob("*/generation"))
    return []


def touch_generations(files: list[Path]) -> None:
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
