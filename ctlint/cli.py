"""Command-line entry point: parse arguments, dispatch to a command, map errors to exit codes.

Exit codes: 0 no finding at or above --fail-on; 1 findings; 2 usage, config, input or engine error.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from ctlint import __version__
from ctlint.errors import CtlintError

# Each module defines register(subparsers); the parser it adds sets `func(args) -> int`.
COMMAND_MODULES = (
    "ctlint.commands.check",
    "ctlint.commands.show",
    "ctlint.commands.usage",
    "ctlint.commands.baseline",
    "ctlint.commands.athena",
)


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # argparse exits 2 as well; keep its one-line message
        self.print_usage(sys.stderr)
        self.exit(2, f"ctlint: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="ctlint", description="A least-privilege gate for AWS IAM.")
    parser.add_argument("--version", action="version", version=f"ctlint {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    subparsers.required = True
    for module_name in COMMAND_MODULES:
        importlib.import_module(module_name).register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args))
    except CtlintError as error:
        print(f"ctlint: error: {error}", file=sys.stderr)
        return error.exit_code
    except KeyboardInterrupt:
        print("ctlint: interrupted; no report was written.", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    sys.exit(main())
