"""Progress lines (live on a terminal, periodic elsewhere, controllable) and the shared CLI conventions:
colour variables, CTLINT_CONFIG, config discovery up to the repository root, --version everywhere."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from ctlint.cli import build_parser, main
from ctlint.conventions import discover_config, use_colour
from ctlint.progress import Progress, mode_from

REPO = Path(__file__).resolve().parents[1]
DEMO = REPO / "examples" / "demo"


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_plain_lines_every_interval_when_not_a_terminal():
    clock, out = Clock(), io.StringIO()
    progress = Progress("auto", stream=out, interval=10, clock=clock)
    progress.start()
    progress.update("reading 1/9 files")
    clock.now += 9
    progress.update("reading 2/9 files")
    assert out.getvalue() == ""  # a fast stage prints nothing
    clock.now += 2
    progress.update("reading 3/9 files")
    clock.now += 5
    progress.update("reading 4/9 files")
    clock.now += 5
    progress.update("reading 5/9 files")
    progress.clear()
    assert out.getvalue() == "ctlint: reading 3/9 files\nctlint: reading 5/9 files\n"
    assert "\r" not in out.getvalue()


def test_live_line_on_a_terminal_is_cleared_at_the_end():
    clock, out = Clock(), Terminal()
    progress = Progress("auto", stream=out, clock=clock)
    progress.update("reading 1/2 files")
    clock.now += 1
    progress.update("reading 2/2 files", force=True)
    progress.clear()
    assert out.getvalue() == ("\r\033[2Kctlint: reading 1/2 files\r\033[2Kctlint: reading 2/2 files\r\033[2K")


def test_modes_and_quiet(monkeypatch):
    out = io.StringIO()
    never = Progress("never", stream=Terminal())
    never.update("x", force=True)
    assert not never.enabled and never.stream.getvalue() == ""
    always = Progress("always", stream=out)
    always.update("x", force=True)
    assert always.live and out.getvalue().startswith("\r")
    monkeypatch.setenv("CTLINT_PROGRESS", "never")
    assert mode_from(None) == "never" and mode_from("always") == "always"
    assert mode_from("always", quiet=True) == "never"
    monkeypatch.delenv("CTLINT_PROGRESS")
    assert mode_from(None) == "auto"


def test_a_stage_without_counts_ticks_and_clears():
    out = Terminal()
    progress = Progress("auto", stream=out)
    with progress.stage("evaluating 3 principals"):
        import time

        time.sleep(0.5)
    text = out.getvalue()
    assert "ctlint: evaluating 3 principals (0 s)" in text and text.endswith("\r\033[2K")


def test_the_check_shows_progress_only_when_asked(tmp_path):
    """Through the real CLI in a subprocess (stderr is a pipe, not a terminal)."""
    base = [sys.executable, "-m", "ctlint", "check", "--config", str(DEMO / "ctlint.yaml"), "-o", os.devnull]
    env = {**os.environ, "CTLINT_CACHE_DIR": str(tmp_path)}
    env.pop("CTLINT_PROGRESS", None)
    # bytes, not text=True: universal newlines would turn the live line's \r into \n
    loud = subprocess.run([*base, "--progress", "always"], capture_output=True, env=env, timeout=120)
    assert b"\r\033[2Kctlint: reading " in loud.stderr and b"ctlint: evaluating " in loud.stderr
    assert loud.stderr.endswith(b"\r\033[2K")  # the line is cleared at the end
    quiet = subprocess.run([*base, "--quiet"], capture_output=True, env=env, timeout=120)
    assert b"\r" not in quiet.stderr and b"reading" not in quiet.stderr
    assert quiet.returncode == loud.returncode == 1


def test_colour_variables():
    assert use_colour(False, Terminal(), {}) is True
    assert use_colour(False, io.StringIO(), {}) is False
    assert use_colour(False, Terminal(), {"NO_COLOR": "1"}) is False
    assert use_colour(False, io.StringIO(), {"FORCE_COLOR": "1"}) is True
    assert use_colour(True, Terminal(), {"FORCE_COLOR": "1"}) is False
    assert use_colour(False, Terminal(), {"NO_COLOR": ""}) is True  # empty means unset (no-color.org)


def test_no_color_and_force_color_reach_check(capsys, monkeypatch):
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("FORCE_COLOR", "1")
    main(["check", "--config", str(DEMO / "ctlint.yaml")])
    assert "\033[" in capsys.readouterr().out
    monkeypatch.setenv("NO_COLOR", "1")
    main(["check", "--config", str(DEMO / "ctlint.yaml")])
    assert "\033[" not in capsys.readouterr().out


def _demo_copy(root: Path) -> Path:
    shutil.copytree(DEMO, root, ignore=shutil.ignore_patterns("generate.py"))
    return root / "ctlint.yaml"


def test_config_discovery_walks_up_to_the_repository_root(tmp_path, monkeypatch):
    repo = tmp_path / "repo"
    config = _demo_copy(repo)
    (repo / ".git").mkdir()
    deep = repo / "modules" / "iam"
    deep.mkdir(parents=True)
    monkeypatch.delenv("CTLINT_CONFIG", raising=False)
    monkeypatch.chdir(deep)
    assert discover_config() == str(config)
    # Not above the repository root: a config in the folder holding the repository is not found.
    (tmp_path / "outer").mkdir()
    inner = tmp_path / "outer" / "project"
    (inner / ".git").mkdir(parents=True)
    (tmp_path / "outer" / "ctlint.yaml").write_text("accounts: []\n")
    assert discover_config(start=inner) is None
    # Outside any repository only the current folder counts.
    (tmp_path / "loose" / "sub").mkdir(parents=True)
    (tmp_path / "loose" / "ctlint.yaml").write_text("accounts: []\n")
    assert discover_config(start=tmp_path / "loose" / "sub") is None
    assert discover_config(start=tmp_path / "loose") == "ctlint.yaml" or discover_config(
        start=tmp_path / "loose"
    ).endswith("ctlint.yaml")


def test_ctlint_config_environment_variable(tmp_path, monkeypatch, capsys):
    config = _demo_copy(tmp_path / "elsewhere")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CTLINT_CONFIG", str(config))
    assert main(["check", "-o", os.devnull]) == 1
    monkeypatch.delenv("CTLINT_CONFIG")
    assert main(["check"]) == 2
    assert "use --config or set CTLINT_CONFIG" in capsys.readouterr().err


def _leaf_commands(parser, prefix=()):
    import argparse

    subs = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    if not subs:
        yield prefix
        return
    for name, child in subs[0].choices.items():
        yield from _leaf_commands(child, (*prefix, name))


@pytest.mark.parametrize("command", sorted(_leaf_commands(build_parser())))
def test_version_progress_and_quiet_on_every_command(command, capsys):
    with pytest.raises(SystemExit) as exited:
        main([*command, "--version"])
    assert exited.value.code == 0
    assert capsys.readouterr().out.startswith("ctlint ")
    parser = build_parser()
    for name in command:
        import argparse

        sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
        parser = sub.choices[name]
    options = {o for a in parser._actions for o in a.option_strings}
    assert {"--progress", "--quiet", "--version"} <= options


@pytest.mark.parametrize("shell", ["bash", "zsh"])
def test_shell_completion_knows_every_command_and_option(shell, capsys):
    assert main(["completion", shell]) == 0
    script = capsys.readouterr().out
    for word in (
        "check",
        "show",
        "usage",
        "baseline",
        "athena",
        "--fail-on",
        "--update-baseline",
        "--progress",
    ):
        assert word in script, word
    if shell == "bash":
        done = subprocess.run(["bash", "-n"], input=script, text=True, capture_output=True, timeout=30)
        assert done.returncode == 0, done.stderr  # the script parses
