"""Finding CloudTrail files: folders (recursively), globs and single files; `.json` and `.json.gz`."""

from __future__ import annotations

import glob
import os
import stat
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ctlint.errors import InputError

SUFFIXES = (".json", ".json.gz")


def is_cloudtrail_name(path: Path) -> bool:
    return path.name.endswith(SUFFIXES)


def _expand(spec: str | Path) -> list[Path]:
    text = str(spec)
    if any(ch in text for ch in "*?["):
        matches = [Path(m) for m in glob.glob(text, recursive=True)]
        if not matches:
            raise InputError(f"CloudTrail path {text!r} matches no file.")
        found: list[Path] = []
        for match in matches:
            found.extend(_expand(match) if match.is_dir() else [match] if is_cloudtrail_name(match) else [])
        return found
    path = Path(text)
    if path.is_dir():
        # The S3 layout (AWSLogs/<acct>/CloudTrail/<region>/YYYY/MM/DD) and flat folders alike; os.walk is
        # several times faster than rglob on thousands of files. Every entry with a CloudTrail name is kept,
        # also a broken link, a link loop or a FIFO: `not_regular` names them, so none hides usage silently.
        found = []
        visited = {os.path.realpath(path)}
        for folder, dirs, names in os.walk(path, followlinks=True):
            # Linked folders are read (their logs count), each real folder once (a link loop ends here).
            dirs[:] = [d for d in dirs if _first_visit(os.path.join(folder, d), visited)]
            base = Path(folder)  # a child of it is parsed from its name alone, not from the whole path
            found.extend(base / n for n in names if n.endswith(SUFFIXES))
        return found
    if path.exists() or path.is_symlink():
        return [path]  # named explicitly: read it whatever its suffix
    raise InputError(f"CloudTrail path {text!r} does not exist.")


def _first_visit(folder: str, visited: set[str]) -> bool:
    real = os.path.realpath(folder)
    if real in visited:
        return False
    visited.add(real)
    return True


_KINDS = (
    (stat.S_ISDIR, "a folder"),
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


def not_regular(mode: int) -> str | None:
    """Why a file with this `st_mode` cannot be read as a log (reading a FIFO would block), or None."""
    if stat.S_ISREG(mode):
        return None
    kind = next((name for test, name in _KINDS if test(mode)), "not a regular file")
    return f"is {kind}, not a regular file; it cannot be read as a CloudTrail log."


def discover(paths: Sequence[str | Path]) -> list[Path]:
    """Every CloudTrail file under `paths`, sorted and without duplicates.

    Raises InputError for a path that does not exist and when no file is found at all: an empty
    input must never look like an account without activity.
    """
    return [path for _key, path in _discover_keyed(paths)]


def _discover_keyed(paths: Sequence[str | Path]) -> list[tuple[str, Path]]:
    """`discover`, each file with its absolute path (the caches' key)."""
    if not paths:
        raise InputError("no CloudTrail path was given.")
    seen: dict[str, Path] = {}
    for spec in paths:
        for path in _expand(spec):
            # abspath, not resolve(): resolving costs a syscall per path component and file; a file reached
            # twice through a link is a duplicate delivery, which the engine dedupes by eventID anyway.
            seen.setdefault(os.path.abspath(path), path)
    if not seen:
        listed = ", ".join(str(p) for p in paths)
        raise InputError(f"no CloudTrail files (.json or .json.gz) found under {listed}.")
    return [(key, seen[key]) for key in sorted(seen)]


@dataclass(frozen=True)
class ScannedFile:
    """A discovered file and what identifies its content for the caches: (absolute path, size, mtime_ns)."""

    path: Path  # as discovered (for messages)
    key: str  # the absolute path; the path as discovered when it cannot be read
    size: int  # -1 when it cannot be read
    mtime_ns: int
    error: str | None = None  # why it cannot be read as a log (not regular, stat failed)


def scan(paths: Sequence[str | Path]) -> tuple[ScannedFile, ...]:
    """`discover(paths)` with each file's identity, in the same order."""
    scanned: list[ScannedFile] = []
    for key, path in _discover_keyed(paths):
        try:
            st = path.stat()
        except OSError as error:
            scanned.append(ScannedFile(path, str(path), -1, -1, f"cannot be read: {error}."))
            continue
        if (problem := not_regular(st.st_mode)) is not None:
            scanned.append(ScannedFile(path, str(path), -1, -1, problem))
            continue
        scanned.append(ScannedFile(path, key, st.st_size, st.st_mtime_ns))
    return tuple(scanned)
