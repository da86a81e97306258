"""Shared test setup: no test reads or writes the user's real cache directory."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

# Build-time tools (the data generators) live in scripts/, outside the package.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "scripts"))


@pytest.fixture(autouse=True)
def _private_cache_dir(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("CTLINT_CACHE_DIR", str(tmp_path_factory.mktemp("ctlint-cache")))
