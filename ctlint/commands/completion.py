"""`ctlint completion bash|zsh|tcsh`: a shell completion script, generated from the parser by shtab.

ctlint completion bash > ~/.local/share/bash-completion/completions/ctlint
ctlint completion zsh > "${fpath[1]}/_ctlint"
"""

from __future__ import annotations

import argparse
import sys

SHELLS = ("bash", "zsh", "tcsh")


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "completion",
        help="print a shell completion script (bash, zsh, tcsh)",
        description="Print a completion script for the shell; source it or install it where the shell looks.",
    )
    parser.add_argument("shell", choices=SHELLS)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import shtab

    from ctlint.cli import build_parser  # the whole command line, as the user types it

    sys.stdout.write(shtab.complete(build_parser(), shell=args.shell))
    return 0
