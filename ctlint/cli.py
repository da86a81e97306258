"""Command-line entry point: parse arguments, dispatch to a command, map errors to exit codes.

Exit codes: 0 no finding at or above --fail-on; 1 findings; 2 usage, config, input or engine error,
and any unexpected exception (never 1, which a pipeline reads as "findings"); 130 Ctrl-C; 143 SIGTERM.
"""

from __future__ import annotations

import argparse
import importlib
import os
import signal
import sys
import threading
import traceback
from collections.abc import Sequence
from typing import NoReturn

from ctlint import __version__, progress
from ctlint.compat import route_cloudtracker
from ctlint.conventions import add_common_arguments
from ctlint.errors import CtlintError

# Each module defines register(subparsers); the parser it adds sets `func(args) -> int`.
COMMAND_MODULES = (
    "ctlint.commands.check",
    "ctlint.commands.show",
    "ctlint.commands.usage",
    "ctlint.commands.baseline",
    "ctlint.commands.athena",
    "ctlint.commands.completion",
)


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:  # argparse exits 2 as well; keep its one-line message
        self.print_usage(sys.stderr)
        self.exit(2, f"ctlint: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="ctlint", description="A least-privilege gate for AWS IAM.")
    parser.add_argument("--version", action="version", version=f"ctlint {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    subparsers.required = True
    for module_name in COMMAND_MODULES:
        importlib.import_module(module_name).register(subparsers)
    add_common_arguments(parser)
    return parser


class Terminated(BaseException):
    """SIGTERM arrived (a CI job cancelled): unwinds like Ctrl-C so temporary files are removed."""


def _terminate(_signum, _frame) -> None:
    raise Terminated


def _internal_error(error: Exception) -> int:
    if os.environ.get("CTLINT_DEBUG"):
        traceback.print_exception(error, file=sys.stderr)
    detail = " ".join(str(error).split())
    print(
        f"ctlint: internal error: {type(error).__name__}: {detail} (a bug in ctlint; no report was written; "
        "set CTLINT_DEBUG=1 to see where).",
        file=sys.stderr,
    )
    return 2


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(route_cloudtracker(sys.argv[1:] if argv is None else argv))
    progress.configure(
        progress.mode_from(getattr(args, "progress", None), quiet=getattr(args, "quiet", False))
    )
    previous = None
    if threading.current_thread() is threading.main_thread():
        previous = signal.signal(signal.SIGTERM, _terminate)
    try:
        return int(args.func(args))
    except CtlintError as error:
        print(f"ctlint: error: {error}", file=sys.stderr)
        return error.exit_code
    except KeyboardInterrupt:
        print("ctlint: interrupted; no report was written.", file=sys.stderr)
        return 130
    except Terminated:
        print("ctlint: terminated; no report was written.", file=sys.stderr)
        return 143
    except BrokenPipeError:
        return 0
    except RuntimeError as error:
        if str(error) != "Query interrupted":
            return _internal_error(error)
        # DuckDB turns Ctrl-C during a query into this RuntimeError (and swallows the KeyboardInterrupt).
        print("ctlint: interrupted; no report was written.", file=sys.stderr)
        return 130
    except Exception as error:  # a bug must not exit 1, which a pipeline reads as "findings"
        return _internal_error(error)
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


if __name__ == "__main__":
    sys.exit(main())
