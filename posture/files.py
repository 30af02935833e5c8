"""Safe files: an output never overwrites an input, a failed write never leaves half a file
where a good one was, and personal data is readable by its owner only."""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path

from posture.errors import UsageError
from posture.paths import user_data_dir

PRIVATE_FILE = 0o600
PRIVATE_DIR = 0o700
SQLITE_HEADER = b"SQLite format 3\x00"


def same_file(a: Path, b: Path) -> bool:
    try:
        if a.exists() and b.exists():
            return a.samefile(b)
        return a.resolve() == b.resolve()
    except OSError:
        return False


def refuse_overwriting_inputs(inputs: Iterable[str | Path | None],
                              outputs: Iterable[tuple[str, Path | None]]) -> None:
    """UsageError when an output (flag, path) would replace an input file or folder, or
    another output."""
    given = [Path(p) for p in inputs if p is not None]
    seen: list[tuple[str, Path]] = []
    for flag, out in outputs:
        if out is None:
            continue
        for source in given:
            if same_file(out, source):
                raise UsageError(f"{flag} {out} is an input ({source}); choose another path")
        for other_flag, other in seen:
            if same_file(out, other):
                raise UsageError(f"{flag} and {other_flag} both name {out}; give each its "
                                 "own path")
        seen.append((flag, out))


# The largest settings, exercise, program, profile or token file read whole: each is a few
# kilobytes; a bigger one is no such file.
SMALL_FILE_BYTES = 1 << 20


def read_small_file(path: str | Path, what: str, limit: int = SMALL_FILE_BYTES) -> bytes:
    """The whole of a small regular file: the one gate for every file read whole.

    Devices (/dev/zero), FIFOs and sockets are refused before anything is read: the file is
    opened without blocking (a FIFO with no writer would wait forever) and checked with
    fstat on that open descriptor. At most `limit` bytes are ever read.
    """
    path = Path(path)
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0)
                     | getattr(os, "O_BINARY", 0))
    except FileNotFoundError:
        raise UsageError(f"{path}: no such {what}") from None
    except OSError as exc:
        raise UsageError(f"{path}: cannot read {what} ({exc.strerror})") from exc
    try:
        mode = os.fstat(fd).st_mode
        if stat.S_ISDIR(mode):
            raise UsageError(f"{path}: is a folder, not a file")
        if not stat.S_ISREG(mode):
            raise UsageError(f"{path}: not a regular file (a pipe, device or socket)")
        with os.fdopen(os.dup(fd), "rb") as fh:
            data = fh.read(limit + 1)
    except OSError as exc:
        raise UsageError(f"{path}: cannot read {what} ({exc.strerror})") from exc
    finally:
        os.close(fd)
    if len(data) > limit:
        raise UsageError(f"{path}: {what} over the {_mib(limit)} limit")
    return data


def _mib(size: int) -> str:
    return f"{size / (1 << 20):g} MiB" if size >= 1 << 20 else f"{size // 1024} KiB"


def read_small_text(path: str | Path, what: str, limit: int = SMALL_FILE_BYTES) -> str:
    """read_small_file decoded as UTF-8, with a one-line error for other bytes."""
    data = read_small_file(path, what, limit)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UsageError(f"{path}: {what} is not UTF-8 text (byte {exc.start})") from None


def check_regular_input(path: str | Path) -> None:
    """Refuse FIFOs, devices and sockets as inputs: reading them can block forever."""
    path = Path(path)
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        return  # a missing file is reported by whoever opens it
    except OSError as exc:
        raise UsageError(f"{path}: cannot read ({exc.strerror})") from exc
    if not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
        raise UsageError(f"{path}: not a regular file (a pipe, device or socket)")


def private_dir(path: Path) -> Path:
    """Make a folder (and missing parents) readable by the owner only; return it."""
    try:
        # Every folder this creates is private, the missing parents too (mkdir(parents=True)
        # would make those with the default mode).
        for folder in [*reversed(path.parents), path]:
            if not folder.exists():
                with contextlib.suppress(FileExistsError):  # made meanwhile: fine
                    folder.mkdir(mode=PRIVATE_DIR)
        if not path.is_dir():
            raise FileExistsError(path)
    except FileExistsError as exc:
        raise UsageError(f"{path}: exists and is not a folder") from exc
    except OSError as exc:
        raise UsageError(f"cannot create folder {path}: {exc.strerror}") from exc
    return path


# What posture keeps in the user data folder that is personal (models are not).
PERSONAL_FILES = ("history.sqlite3", "history.sqlite3-wal", "history.sqlite3-shm",
                  "dashboard-token", "calibration")


def secure_user_data() -> Path:
    """The user data folder, created private; if it or the personal files in it are open to
    others (made by an older posture, or by hand), their permissions are taken back."""
    root = private_dir(user_data_dir())
    tighten(root)
    for name in PERSONAL_FILES:
        tighten(root / name)
    calibration = root / "calibration"
    if calibration.is_dir() and not calibration.is_symlink():
        for item in calibration.iterdir():
            tighten(item)
    return root


def tighten(path: Path) -> None:
    """Remove group and other permissions from a file (to 0600 at most) or folder (0700) of
    this user's; links and other users' files are left alone."""
    try:
        info = path.lstat()
        if stat.S_ISLNK(info.st_mode) or (hasattr(os, "getuid")
                                           and info.st_uid != os.getuid()):
            return
        mode = stat.S_IMODE(info.st_mode)
        allowed = PRIVATE_DIR if stat.S_ISDIR(info.st_mode) else PRIVATE_FILE
        if mode & ~allowed:
            os.chmod(path, mode & allowed)
    except OSError:
        return  # missing, or not ours to change


def check_output_file(path: Path) -> None:
    """An output file path must be a new or regular file in an existing folder."""
    try:
        _check_output_file(path)
    except OSError as exc:
        raise UsageError(f"{path}: cannot write there ({exc.strerror})") from exc


def _check_output_file(path: Path) -> None:
    if path.is_dir():
        raise UsageError(f"{path}: is a folder; give a file name")
    if not path.parent.is_dir():
        raise UsageError(f"{path}: folder {path.parent} does not exist")
    if path.exists() and not path.is_file():
        raise UsageError(f"{path}: not a regular file")


class PendingFile:
    """A temporary file beside `path` (same suffix, so writers pick the right format):
    commit() puts it in place at once; abort() removes it and leaves `path` untouched."""

    def __init__(self, path: Path, private: bool = False) -> None:
        check_output_file(path)
        self.path = path
        try:
            fd, name = tempfile.mkstemp(prefix=f".{path.name}.",
                                        suffix=path.suffix or ".tmp", dir=path.parent)
            os.close(fd)
            if not private:
                os.chmod(name, 0o666 & ~_umask())
        except OSError as exc:
            raise UsageError(f"cannot write {path}: {exc.strerror}") from exc
        self.tmp = Path(name)

    def commit(self) -> None:
        try:
            os.replace(self.tmp, self.path)
        except OSError as exc:
            self.abort()
            raise UsageError(f"cannot write {self.path}: {exc.strerror}") from exc

    def abort(self) -> None:
        self.tmp.unlink(missing_ok=True)


@contextlib.contextmanager
def atomic_output(path: Path, private: bool = False) -> Iterator[Path]:
    """Write to the yielded temporary path; it replaces `path` only if the block succeeds."""
    pending = PendingFile(path, private)
    try:
        yield pending.tmp
    except OSError as exc:
        pending.abort()
        raise UsageError(f"cannot write {path}: {exc.strerror or exc}") from exc
    except BaseException:
        pending.abort()
        raise
    pending.commit()


def write_bytes_atomic(path: Path, data: bytes, private: bool = False) -> None:
    with atomic_output(path, private) as tmp:
        with open(tmp, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())


def write_text_atomic(path: Path, text: str, private: bool = False) -> None:
    write_bytes_atomic(path, text.encode("utf-8"), private)


def _umask() -> int:
    """The process umask, read without changing it (os.umask would, for every thread)."""
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    return 0o022


def history_path_problem(path: Path) -> str | None:
    """Why this path cannot hold the history, or None: it must be a SQLite database or a
    new file, not a folder, device or other kind of file."""
    try:
        return _history_path_problem(path)
    except OSError as exc:  # a name too long, a folder that cannot be searched...
        return f"cannot use it ({exc.strerror})"


def _history_path_problem(path: Path) -> str | None:
    if path.is_dir():
        return "is a folder; give a file name"
    if path.exists():
        if not path.is_file():
            return "not a regular file"
        try:
            with open(path, "rb") as fh:
                head = fh.read(16)
        except OSError as exc:
            return f"cannot read it ({exc.strerror})"
        if head and head != SQLITE_HEADER:
            return "not a posture history (SQLite) file"
        return None
    return folder_problem(path.parent)


def folder_problem(folder: Path) -> str | None:
    """Why a new file cannot be made in `folder` (created with its missing parents), or None.

    Tried for real, as the next start will do it: a folder that cannot be created (under
    /proc, say) or written passes every check on names and types.
    """
    existing = folder
    while not existing.exists() and existing.parent != existing:
        existing = existing.parent
    if not existing.is_dir():
        return f"{existing} is not a folder"
    try:
        os.rmdir(tempfile.mkdtemp(prefix=".posture-check-", dir=existing))
    except OSError as exc:
        return f"cannot create anything in {existing} ({exc.strerror})"
    return None
