"""Where the caches live: `$CTLINT_CACHE_DIR`, else `$XDG_CACHE_HOME/ctlint`, else `~/.cache/ctlint`.

Its own module so that the answer and grants caches find their folder without loading the per-file
cache's DuckDB.
"""

from __future__ import annotations

import os
from pathlib import Path


def default_dir() -> Path:
    if os.environ.get("CTLINT_CACHE_DIR"):
        return Path(os.environ["CTLINT_CACHE_DIR"])
    if os.environ.get("XDG_CACHE_HOME"):
        return Path(os.environ["XDG_CACHE_HOME"]) / "ctlint"
    return Path.home() / ".cache" / "ctlint"
