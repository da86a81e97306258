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


@pytest.fixture(autouse=True)
def _private_state_dir(tmp_path_factory):
    """The cache's secret lives outside the cache folder; never in the user's real state folder either.

    A MonkeyPatch of its own, so a test's `monkeypatch.undo()` keeps this machine's secret."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("CTLINT_STATE_DIR", str(tmp_path_factory.mktemp("ctlint-state")))
        patch.delenv("CTLINT_CACHE_KEY", raising=False)
        yield
