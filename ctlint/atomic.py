"""Write files so that an interrupted run never leaves a half-written report or cache behind."""

from __future__ import annotations

import os
import stat
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from ctlint.errors import CtlintError


def _is_special(path: Path) -> bool:
    """True for an existing target that is not a regular file or a folder (a device, a FIFO, a socket)."""
    try:
        mode = path.stat().st_mode
    except OSError:
        return False
    return not (stat.S_ISREG(mode) or stat.S_ISDIR(mode))


def check_target(path: Path) -> None:
    """Refuse a report path that can never be written, before anything is: a folder or a dangling name."""
    if path.is_dir() or str(path).endswith(("/", os.sep)):
        raise CtlintError(f"cannot write {path}: it is a folder; give a file name.")


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


class StagedFile:
    """A report written to a temporary file beside its path, renamed into place only by `commit()`.

    Several reports are staged first and committed together, so an interrupt while any of them is being
    produced leaves none behind; each is streamed chunk by chunk, so no report is held whole in memory.
    """

    def __init__(self, path: Path, chunks: str | Iterable[str]) -> None:
        self.path = Path(path)
        self.temporary: Path | None = None
        check_target(self.path)
        if _is_special(self.path):
            # /dev/null, /dev/stdout, a FIFO: renaming over it would replace the device itself.
            self._write_in_place(chunks)
            return
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            handle, temporary = tempfile.mkstemp(
                prefix=f".{self.path.name}.", suffix=".tmp", dir=self.path.parent
            )
        except FileExistsError:  # mkdir met a file where a folder of the path should be
            raise CtlintError(
                f"cannot write {self.path}: a part of its folder {self.path.parent} is a file."
            ) from None
        except OSError as error:
            raise CtlintError(f"cannot write {self.path}: {error.strerror or error}.") from None
        self.temporary = Path(temporary)
        os.chmod(handle, 0o666 & ~_umask())  # mkstemp makes 0600; a report is an ordinary file
        try:
            # backslashreplace: a lone surrogate in data is written as its JSON escape, never a crash.
            with os.fdopen(handle, "w", encoding="utf-8", errors="backslashreplace", newline="\n") as stream:
                if isinstance(chunks, str):
                    stream.write(chunks)
                else:
                    for chunk in chunks:
                        stream.write(chunk)
        except BaseException as error:
            self.discard()
            if isinstance(error, OSError):
                raise CtlintError(f"cannot write {self.path}: {error.strerror or error}.") from None
            raise

    def _write_in_place(self, chunks: str | Iterable[str]) -> None:
        try:
            with open(self.path, "w", encoding="utf-8", errors="backslashreplace", newline="\n") as stream:
                for chunk in [chunks] if isinstance(chunks, str) else chunks:
                    stream.write(chunk)
        except OSError as error:
            raise CtlintError(f"cannot write {self.path}: {error.strerror or error}.") from None

    def commit(self) -> None:
        if self.temporary is None:
            return
        try:
            os.replace(self.temporary, self.path)
        except BaseException as error:
            self.discard()
            if isinstance(error, OSError):
                raise CtlintError(f"cannot write {self.path}: {error.strerror or error}.") from None
            raise

    def discard(self) -> None:
        if self.temporary is not None:
            self.temporary.unlink(missing_ok=True)


def write_text_atomic(path: Path, text: str | Iterable[str]) -> None:
    """Write to a temporary file beside `path`, then rename it over `path` (atomic on POSIX)."""
    StagedFile(path, text).commit()


def write_all_atomic(files: Sequence[tuple[Path, str | Iterable[str]]]) -> None:
    """Stage every file, then rename them all; on any failure or interrupt, none is written."""
    with staged_all(files):
        pass


@contextmanager
def staged_all(files: Sequence[tuple[Path, str | Iterable[str]]]) -> Iterator[None]:
    """Stage every file, run the body (e.g. write stdout), then rename them all.

    Every target is checked before any is staged; a failure or interrupt in staging or in the body
    leaves no report behind.
    """
    for path, _ in files:
        check_target(Path(path))
    staged: list[StagedFile] = []
    try:
        for path, chunks in files:
            staged.append(StagedFile(path, chunks))
        yield
    except BaseException:
        for item in staged:
            item.discard()
        raise
    for index, item in enumerate(staged):
        try:
            item.commit()
        except BaseException:
            for rest in staged[index + 1 :]:
                rest.discard()
            raise


def is_discarded(stream: object) -> bool:
    """True when `stream` writes to the null device (`> /dev/null`): a report there is read by nobody."""
    try:
        return os.path.samestat(os.fstat(stream.fileno()), os.stat(os.devnull))  # type: ignore[attr-defined]
    except (OSError, ValueError, AttributeError):  # no file descriptor (a test's StringIO), or closed
        return False
