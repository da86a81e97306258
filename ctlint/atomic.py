"""Write files so that an interrupted run never leaves a half-written report or cache behind."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from ctlint.errors import CtlintError


def write_text_atomic(path: Path, text: str) -> None:
    """Write to a temporary file beside `path`, then rename it over `path` (atomic on POSIX)."""
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except FileExistsError:  # mkdir met a file where a folder of the path should be
        raise CtlintError(f"cannot write {path}: a part of its folder {path.parent} is a file.") from None
    except OSError as error:
        raise CtlintError(f"cannot write {path}: {error.strerror or error}.") from None
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="\n") as stream:
            stream.write(text)
        os.replace(temporary, path)
    except BaseException as error:
        Path(temporary).unlink(missing_ok=True)
        if isinstance(error, OSError):
            raise CtlintError(f"cannot write {path}: {error.strerror or error}.") from None
        raise
