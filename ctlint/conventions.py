"""Command-line conventions every command shares: options, colour and the environment.

- `--progress auto|always|never`, `--quiet` and `--version` on every command (not only at the top);
- colour: `--no-color`, then `NO_COLOR` (any non-empty value: off, https://no-color.org), then
  `FORCE_COLOR` (any non-empty value: on, even when not a terminal), else on for a terminal only;
- the environment: `CTLINT_CONFIG` (the config file when `--config` is not given), `CTLINT_PROGRESS`
  (the default of `--progress`), `CTLINT_CACHE_DIR` (the caches), `CTLINT_DEBUG` (tracebacks for
  internal errors);
- config discovery: `--config`, else `CTLINT_CONFIG`, else `ctlint.yaml` then CloudTracker's
  `config.yaml` in the current folder and each parent up to the repository root (the first folder
  holding `.git`), never above it.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TextIO

from ctlint import __version__
from ctlint.progress import MODES

ENVIRONMENT = {
    "CTLINT_CONFIG": "the config file when --config is not given",
    "CTLINT_PROGRESS": "the default of --progress (auto, always, never)",
    "CTLINT_CACHE_DIR": "where the local engine keeps its caches (default $XDG_CACHE_HOME/ctlint or ~/.cache/ctlint)",
    "CTLINT_DEBUG": "any value: print a traceback for an internal error",
    "NO_COLOR": "any non-empty value: never colour the output",
    "FORCE_COLOR": "any non-empty value: colour even when the output is not a terminal",
}


def add_common_arguments(parser: argparse.ArgumentParser) -> None:
    """--progress, --quiet and --version on `parser` and on every (sub)command below it."""
    children = [
        child
        for action in parser._actions  # argparse has no public way to reach its subparsers
        if isinstance(action, argparse._SubParsersAction)
        for child in dict.fromkeys(action.choices.values())
    ]
    if children:
        for child in children:
            add_common_arguments(child)
        return
    # Leaves only: a subparser's defaults would overwrite what a parent parsed.
    options = {option for action in parser._actions for option in action.option_strings}
    if "--progress" not in options:
        parser.add_argument(
            "--progress",
            choices=MODES,
            default=None,
            help="progress on stderr: auto (a live line on a terminal, a line every 10 s elsewhere; default, "
            "or $CTLINT_PROGRESS), always, never",
        )
    if "--quiet" not in options:
        parser.add_argument(
            "--quiet", "-q", action="store_true", help="no progress and no informational lines on stderr"
        )
    if "--version" not in options:
        parser.add_argument("--version", action="version", version=f"ctlint {__version__}")


def use_colour(no_color_flag: bool, stream: TextIO, environ: Mapping[str, str] | None = None) -> bool:
    env = os.environ if environ is None else environ
    if no_color_flag or env.get("NO_COLOR"):
        return False
    if env.get("FORCE_COLOR"):
        return True
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def discover_config(
    candidates: Sequence[str] = ("ctlint.yaml", "config.yaml"),
    *,
    start: Path | None = None,
    environ: Mapping[str, str] | None = None,
) -> str | None:
    """The config file to use when --config is not given, or None."""
    env = os.environ if environ is None else environ
    if env.get("CTLINT_CONFIG"):
        return env["CTLINT_CONFIG"]
    here = (start or Path.cwd()).absolute()
    root = next((folder for folder in (here, *here.parents) if (folder / ".git").exists()), here)
    for folder in (here, *here.parents):
        for name in candidates:
            if (folder / name).is_file():
                return name if folder == here else str(folder / name)
        if folder == root:
            return None  # outside a repository only the current folder is searched
    return None
