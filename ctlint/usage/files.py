"""Finding CloudTrail files: folders (recursively), globs and single files; `.json` and `.json.gz`."""

from __future__ import annotations

import glob
import os
from collections.abc import Sequence
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
        # several times faster than rglob on thousands of files.
        found = []
        for folder, _dirs, names in os.walk(path):
            found.extend(Path(folder, n) for n in names if n.endswith(SUFFIXES))
        return [p for p in found if p.is_file()]
    if path.is_file():
        return [path]  # named explicitly: read it whatever its suffix
    raise InputError(f"CloudTrail path {text!r} does not exist.")


def discover(paths: Sequence[str | Path]) -> list[Path]:
    """Every CloudTrail file under `paths`, sorted and without duplicates.

    Raises InputError for a path that does not exist and when no file is found at all: an empty
    input must never look like an account without activity.
    """
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
    return [seen[key] for key in sorted(seen)]
