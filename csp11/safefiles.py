"""Where the ``csp11`` command reads and writes: files as Unix users expect,
and nothing left behind.

Inputs
    A path, or ``-`` for standard input.  What cannot be read twice or whose
    size is not known in advance (standard input, a FIFO, a character device)
    is first copied to an *unnamed* temporary file (``O_TMPFILE`` in the
    temporary directory: no other process can open it by name, and it
    vanishes with the process, whatever ends it).

Outputs
    ``-`` is standard output, written in place.  An existing output that is
    not a regular file (a FIFO, ``/dev/null``, a terminal) is opened and
    written in place: never replaced, renamed over or truncated into a
    regular file.  A regular file is *published*: written into an unnamed
    file in the target's directory (``O_TMPFILE``, mode 0600) and linked into
    place (``linkat``) only when complete; an
    existing target is replaced (``rename``) only with ``overwrite``.  Until
    then no name in the directory shows any of it.

    Where the file system cannot make unnamed files, or the kernel cannot
    link them (``AT_EMPTY_PATH`` and ``/proc/self/fd`` both refused: tried
    once per directory), a private (0600)
    temporary file with a recognisable name (``.csp11-*.tmp``) takes its
    place; it is removed when the command fails or is stopped by SIGTERM,
    SIGHUP or SIGINT, and one left by SIGKILL is removed by the next run that
    writes into the same directory (only files of that pattern, owned by the
    user, older than a minute).  ``CSP11_TMPFILE=named`` forces this fallback
    (for tests, and for file systems that accept ``O_TMPFILE`` but cannot
    link it).

Signals
    :func:`signals_raise` turns SIGTERM, SIGHUP and SIGINT into
    :class:`Interrupted` in the main thread, so that every ``with`` block
    unwinds and cleans up; the command then ends by the same signal.  The
    exception comes at once only where csp11 may stop safely (see
    :mod:`csp11.interrupts`: reading the input, a PIN prompt, waiting for
    a store lock); elsewhere it waits for the next :func:`checkpoint` —
    between two pieces of a file, before an output is published — or the
    end of the block.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import os
import re
import signal
import stat
import sys
import tempfile
import time
from collections.abc import Iterator
from types import FrameType
from typing import BinaryIO

from csp11 import interrupts
from csp11.interrupts import Interrupted, checkpoint, interruptible

__all__ = [
    "STALE_AFTER",
    "STDIO",
    "TEMP_PATTERN",
    "Interrupted",
    "Source",
    "Target",
    "checkpoint",
    "clean_stale",
    "published",
    "signals_raise",
]

STDIO = "-"
TEMP_PATTERN = re.compile(r"\.csp11-[0-9a-f]{16}\.tmp")  # fallback temporary files
STALE_AFTER = 60.0  # seconds: a fallback file older than this is a dead run's
_SIGNALS = (signal.SIGTERM, signal.SIGHUP, signal.SIGINT)
_COPY = 1 << 20


def _raise(signum: int, frame: FrameType | None) -> None:
    # Once: the cleanup that follows must not be interrupted by a second signal.
    for other in _SIGNALS:
        signal.signal(other, signal.SIG_IGN)
    if interrupts.may_stop_here(frame):
        raise Interrupted(signum)
    interrupts.defer(signum)  # raised at the next checkpoint


@contextlib.contextmanager
def signals_raise() -> Iterator[None]:
    """SIGTERM, SIGHUP and SIGINT raise :class:`Interrupted` inside the block
    (main thread only; elsewhere the block runs unchanged): at once where
    csp11 may stop safely, else at the next :func:`checkpoint`.  A signal
    still waiting when the block's work is done is raised as it ends, with
    ``completed`` set (the work was not undone)."""
    try:
        saved = {signum: signal.signal(signum, _raise) for signum in _SIGNALS}
    except ValueError:  # not the main thread
        yield
        return
    interrupts.clear()
    try:
        yield
        late = interrupts.pending()
        if late is not None:
            raise Interrupted(late, completed=True)
    finally:
        interrupts.clear()
        for signum, handler in saved.items():
            signal.signal(signum, handler)


@contextlib.contextmanager
def _signals_held() -> Iterator[None]:
    """Signals wait (blocked) while a file is linked into place or cleaned up."""
    try:
        old = signal.pthread_sigmask(signal.SIG_BLOCK, _SIGNALS)
    except (AttributeError, ValueError, OSError):  # pragma: no cover - not POSIX threads
        yield
        return
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)


def clean_stale(directory: str | os.PathLike[str]) -> list[str]:
    """Remove fallback temporary files a killed run left in ``directory``:
    names matching :data:`TEMP_PATTERN`, regular files owned by this user,
    unchanged for :data:`STALE_AFTER` seconds.  Returns the names removed."""
    removed: list[str] = []
    now = time.time()
    uid = os.getuid()
    try:
        names = os.listdir(directory)
    except OSError:
        return removed
    for name in names:
        if not TEMP_PATTERN.fullmatch(name):
            continue
        path = os.path.join(directory, name)
        with contextlib.suppress(OSError):
            info = os.lstat(path)
            if (stat.S_ISREG(info.st_mode) and info.st_uid == uid
                    and now - info.st_mtime > STALE_AFTER):
                os.unlink(path)
                removed.append(name)
    return removed


_AT_FDCWD = -100
_AT_EMPTY_PATH = 0x1000
_linkable: dict[str, bool] = {}  # directory -> whether its unnamed files can be linked


def _link_fd(fd: int, target: str) -> None:
    """Give the unnamed file ``fd`` the name ``target`` (``linkat``): by
    ``AT_EMPTY_PATH`` where the kernel lets this process (root, or Linux 6.10+
    for a file it opened), else through ``/proc/self/fd``.  ``EEXIST`` when
    ``target`` exists."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.linkat(fd, b"", _AT_FDCWD, os.fsencode(target), _AT_EMPTY_PATH) == 0:
            return
        failed = ctypes.get_errno()
    except (OSError, AttributeError):  # pragma: no cover - no libc linkat
        failed = errno.ENOSYS
    if failed == errno.EEXIST:
        raise FileExistsError(errno.EEXIST, "exists", target)
    os.link(f"/proc/self/fd/{fd}", target, follow_symlinks=True)


def _can_link(directory: str) -> bool:
    """Whether an unnamed file made in ``directory`` can be linked into it
    (some kernels and sandboxes refuse both ways of ``linkat``): tried once
    per directory with an empty file under a fallback name."""
    key = os.path.realpath(directory)
    if key not in _linkable:
        fd = os.open(directory, os.O_TMPFILE | os.O_WRONLY | os.O_CLOEXEC, 0o600)
        probe = os.path.join(directory, f".csp11-{os.urandom(8).hex()}.tmp")
        try:
            with _signals_held():
                _link_fd(fd, probe)
                os.unlink(probe)
            _linkable[key] = True
        except OSError:
            _linkable[key] = False
        finally:
            os.close(fd)
    return _linkable[key]


def _unnamed(directory: str) -> int | None:
    """An unnamed file (``O_TMPFILE``, 0600) in ``directory``; ``None`` where the
    file system cannot make one, or the kernel cannot link it later."""
    if os.environ.get("CSP11_TMPFILE") == "named" or not hasattr(os, "O_TMPFILE"):
        return None
    try:
        if not _can_link(directory):
            return None
        return os.open(directory, os.O_TMPFILE | os.O_WRONLY | os.O_CLOEXEC, 0o600)
    except OSError as exc:
        if exc.errno in (errno.EOPNOTSUPP, errno.EISDIR, errno.EINVAL, errno.ENOSYS):
            return None
        raise


def _named(directory: str) -> tuple[int, str]:
    """A private fallback file with a recognisable name in ``directory``."""
    while True:
        path = os.path.join(directory, f".csp11-{os.urandom(8).hex()}.tmp")
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
        except FileExistsError:  # pragma: no cover - 64 random bits
            continue
        return fd, path


def _fsync_directory(directory: str) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


@contextlib.contextmanager
def published(target: str | os.PathLike[str], *, overwrite: bool) -> Iterator[BinaryIO]:
    """A file that becomes the regular file ``target`` only when the block ends
    without an exception (see the module docstring).  ``FileExistsError`` when
    ``target`` exists (or appears meanwhile) and ``overwrite`` is not set."""
    target = os.fspath(target)
    directory = os.path.dirname(target) or "."
    if not overwrite and os.path.lexists(target):
        raise FileExistsError(errno.EEXIST, "exists", target)
    clean_stale(directory)
    fd = _unnamed(directory)
    named: str | None = None
    if fd is None:
        with _signals_held():
            fd, named = _named(directory)
    try:
        with open(fd, "wb") as dst:
            yield dst
            dst.flush()
            os.fsync(dst.fileno())
            checkpoint()  # a signal that waited stops the command before it publishes
            with _signals_held():
                _link(dst.fileno(), named, target, overwrite=overwrite)
                named = None
        _fsync_directory(directory)
    finally:
        if named is not None:
            with _signals_held(), contextlib.suppress(OSError):
                os.unlink(named)


def _link(fd: int, named: str | None, target: str, *, overwrite: bool) -> None:
    """Give the complete file its name: without ``overwrite`` never over an
    existing one (``link`` fails with ``EEXIST``); with it, by ``rename``."""
    if not overwrite:
        if named is None:
            _link_fd(fd, target)
        else:
            os.link(named, target)
            os.unlink(named)
        return
    if named is None:
        directory = os.path.dirname(target) or "."
        while True:
            step = os.path.join(directory, f".csp11-{os.urandom(8).hex()}.tmp")
            try:
                _link_fd(fd, step)
                break
            except FileExistsError:  # pragma: no cover - 64 random bits
                continue
        try:
            os.replace(step, target)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(step)
            raise
    else:
        os.replace(named, target)


# ---- inputs and outputs of the command ----------------------------------------------
class Source:
    """An input: a regular file read in place, or anything else (``-``, a FIFO,
    a device) copied first to an unnamed temporary file."""

    def __init__(self, path: str | os.PathLike[str], *, stdio: bool = False) -> None:
        self.path = os.fspath(path)
        self.stdio = stdio and self.path == STDIO
        self.name = "standard input" if self.stdio else self.path

    @contextlib.contextmanager
    def open(self, *, buffer_any: bool = True) -> Iterator[tuple[BinaryIO, int]]:
        """The input (positioned at its start) and its size in bytes.  With
        ``buffer_any`` false, anything but a regular file is refused
        (``OSError``): the library's behaviour."""
        if self.stdio:
            with _buffered(sys.stdin.buffer) as copy:
                yield copy
            return
        with open(self.path, "rb", buffering=0) as src:
            info = os.fstat(src.fileno())
            if stat.S_ISDIR(info.st_mode):  # pragma: no cover - open() refuses first
                raise IsADirectoryError(errno.EISDIR, "is a directory", self.path)
            if stat.S_ISREG(info.st_mode):
                yield src, info.st_size
                return
            if not buffer_any:
                raise OSError(errno.EINVAL, "not a regular file", self.path)
            with _buffered(src) as copy:
                yield copy


@interruptible
def _read_input(src: BinaryIO) -> bytes:
    """One piece of an input that may block (a pipe, a terminal): a signal
    ends the wait at once (and one that waited ends the copy here)."""
    checkpoint()
    return src.read(_COPY)


@contextlib.contextmanager
def _buffered(src: BinaryIO) -> Iterator[tuple[BinaryIO, int]]:
    with tempfile.TemporaryFile() as copy:  # O_TMPFILE where it can: unnamed
        size = 0
        while True:
            piece = _read_input(src)
            if not piece:
                break
            copy.write(piece)
            size += len(piece)
        copy.flush()
        copy.seek(0)
        yield copy, size


class Target:
    """An output: ``-`` (standard output), an existing file that is not a
    regular file (written in place), or a regular file (published)."""

    def __init__(self, path: str | os.PathLike[str], *, overwrite: bool,
                 stdio: bool = False) -> None:
        self.path = os.fspath(path)
        self.overwrite = overwrite
        self.stdio = stdio and self.path == STDIO
        self.name = "standard output" if self.stdio else self.path

    @property
    def in_place(self) -> bool:
        """Whether writes reach the output as they happen (standard output, a
        FIFO, a device): nothing written can be taken back."""
        if self.stdio:
            return True
        try:
            info = os.stat(self.path)
        except FileNotFoundError:
            return False
        return not stat.S_ISREG(info.st_mode)

    @property
    def publishes(self) -> bool:
        """Whether the output is a regular file, written unseen and published
        when complete (neither standard output nor written in place)."""
        return not self.stdio and not self.in_place

    def check(self) -> None:
        """Fail early (before any work) if the output cannot be written:
        ``FileExistsError``, ``IsADirectoryError``, ``FileNotFoundError`` for a
        missing directory."""
        if self.stdio:
            return
        try:
            info = os.stat(self.path)
        except FileNotFoundError:
            directory = os.path.dirname(self.path) or "."
            if not os.path.isdir(directory):
                raise FileNotFoundError(errno.ENOENT, "no such directory", directory) from None
            if os.path.lexists(self.path) and not self.overwrite:  # a dangling symlink
                raise FileExistsError(errno.EEXIST, "exists", self.path) from None
            return
        if stat.S_ISDIR(info.st_mode):
            raise IsADirectoryError(errno.EISDIR, "is a directory", self.path)
        if stat.S_ISREG(info.st_mode) and not self.overwrite:
            raise FileExistsError(errno.EEXIST, "exists", self.path)

    @contextlib.contextmanager
    def open(self) -> Iterator[BinaryIO]:
        """Where to write; published (regular files) when the block succeeds."""
        if self.stdio:
            out = sys.stdout.buffer
            yield out
            out.flush()
            return
        if self.in_place:
            # Open what is there (never create): a FIFO, /dev/null, a terminal.
            fd = os.open(self.path, os.O_WRONLY | os.O_CLOEXEC | os.O_NOCTTY)
            if stat.S_ISREG(os.fstat(fd).st_mode):  # replaced meanwhile by a file
                os.close(fd)
                raise FileExistsError(errno.EEXIST, "exists", self.path)
            with open(fd, "wb") as dst:
                yield dst
            return
        with published(self.path, overwrite=self.overwrite) as dst:
            yield dst

