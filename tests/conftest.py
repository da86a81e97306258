"""Shared test setup: no test reads or writes the user's real cache directory."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _private_cache_dir(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("CTLINT_CACHE_DIR", str(tmp_path_factory.mktemp("ctlint-cache")))
