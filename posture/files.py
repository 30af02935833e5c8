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
    """UsageError when an output (flag, path) would replace an input file or folder."""
    given = [Path(p) for p in inputs if p is not None]
    for flag, out in outputs:
        if out is None:
            continue
        for source in given:
            if same_file(out, source):
                raise UsageError(f"{flag} {out} is an input ({source}); choose another path")


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
