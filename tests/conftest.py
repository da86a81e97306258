"""Shared test setup: no test reads or writes the user's real cache directory."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from hypothesis import settings

# Build-time tools (the data generators) live in scripts/, outside the package.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "scripts"))

# Properties assert results, not timings: beside another xdist worker, or on a loaded CI machine, one slow
# example must not fail the run (hypothesis's 200 ms deadline). Each test keeps its own example count.
settings.register_profile("ctlint", deadline=None)
settings.load_profile("ctlint")


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
