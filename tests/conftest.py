"""Shared test setup: the whole suite runs on every core; no test uses the real cache directory."""

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


@pytest.hookimpl(tryfirst=True)  # before pytest-xdist's own hook turns `numprocesses` into workers
def pytest_cmdline_main(config: pytest.Config) -> None:
    """The whole suite (`python -m pytest`, no paths) runs on every core, through pytest-xdist.

    A default set here rather than `-n auto` in addopts, so that `-p no:xdist` (or an environment without
    the plugin) still runs everything in one process, and a file named on the command line runs
    in-process as before (starting workers costs more than it saves on one file). `-n N` decides."""
    if not config.pluginmanager.hasplugin("xdist") or hasattr(config, "workerinput"):
        return  # no plugin, or this is one of its workers (which must not start workers of its own)
    if config.option.numprocesses is not None or config.args_source is not pytest.Config.ArgsSource.TESTPATHS:
        return
    if not config.option.usepdb and not config.option.collectonly:
        config.option.numprocesses = "auto"
        if config.option.dist == "no":
            # Each worker starts with a contiguous half of the tests (a module's fixtures are mostly built
            # once) and steals from the other's end, so one long file does not leave a core idle.
            config.option.dist = "worksteal"


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
