"""Command-line entry point: parse arguments, dispatch to a command, map errors to exit codes.

Exit codes: 0 no finding at or above --fail-on; 1 findings; 2 usage, config, input or engine error,
and any unexpected exception (never 1, which a pipeline reads as "findings"); 130 Ctrl-C; 143 SIGTERM.
"""

from __future__ import annotations

import argparse
import contextlib
import errno
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
from ctlint.inert import InertStream, sanitise_line

# Each module defines register(subparsers); the parser it adds sets `func(args) -> int`.
COMMAND_MODULES = (
    "ctlint.commands.check",
    "ctlint.commands.show",
    "ctlint.commands.usage",
    "ctlint.commands.baseline",
    "ctlint.commands.athena",
    "ctlint.commands.completion",
    "ctlint.commands.suggest",
    "ctlint.commands.fix",
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


_terminated = threading.Event()

# Errors of writing itself (not of a missing or forbidden file): the output is incomplete.
_WRITE_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EIO})


def _terminate(_signum, _frame) -> None:
    # Remembered because DuckDB turns the exception raised here into RuntimeError("Query interrupted").
    _terminated.set()
    raise Terminated


def _silence_stdout() -> None:
    """Point stdout at /dev/null so the interpreter's final flush cannot fail a second time."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):
        pass


def _output_failed(sentence: str) -> int:
    _silence_stdout()
    print(f"ctlint: error: {sentence}", file=sys.stderr)
    return 2


def _reconfigure_stdout() -> None:
    # A lone surrogate from a CloudTrail field becomes `\\udc80`, which in JSON output is its exact escape.
    reconfigure = getattr(sys.stdout, "reconfigure", None)
    if reconfigure is not None:
        with contextlib.suppress(ValueError, OSError):
            reconfigure(errors="backslashreplace")


def _terminated_exit() -> int:
    print("ctlint: terminated; no report was written.", file=sys.stderr)
    return 143


def _flush_stdout() -> None:
    sys.stdout.flush()


def _internal_error(error: Exception) -> int:
    if os.environ.get("CTLINT_DEBUG"):
        traceback.print_exception(error, file=sys.stderr)
    detail = sanitise_line(" ".join(str(error).split()))
    print(
        f"ctlint: internal error: {type(error).__name__}: {detail} (a bug in ctlint; no report was written; "
        "set CTLINT_DEBUG=1 to see where).",
        file=sys.stderr,
    )
    return 2


def main(argv: Sequence[str] | None = None) -> int:
    original_stderr = sys.stderr
    if not isinstance(sys.stderr, InertStream):
        sys.stderr = InertStream(sys.stderr)  # names from pull requests and CloudTrail reach stderr
    try:
        return _main(argv)
    finally:
        sys.stderr = original_stderr


def _main(argv: Sequence[str] | None) -> int:
    if sys.stdout is None:  # started with file descriptor 1 closed (`ctlint check >&-`): nowhere to report
        print("ctlint: error: standard output is closed; no report can be written.", file=sys.stderr)
        return 2
    _reconfigure_stdout()
    parser = build_parser()
    args = parser.parse_args(route_cloudtracker(sys.argv[1:] if argv is None else argv))
    progress.configure(
        progress.mode_from(getattr(args, "progress", None), quiet=getattr(args, "quiet", False))
    )
    previous = None
    if threading.current_thread() is threading.main_thread():
        previous = signal.signal(signal.SIGTERM, _terminate)
    _terminated.clear()
    try:
        code = int(args.func(args))
        _flush_stdout()  # a full disk or closed pipe shows here, not at exit where it would be ignored
        return code
    except CtlintError as error:
        if _terminated.is_set():  # an engine wrapped the interrupt SIGTERM caused into its own error
            return _terminated_exit()
        print(f"ctlint: error: {sanitise_line(str(error))}", file=sys.stderr)
        return error.exit_code
    except KeyboardInterrupt:
        print("ctlint: interrupted; no report was written.", file=sys.stderr)
        return 130
    except Terminated:
        return _terminated_exit()
    except BrokenPipeError:
        # Whoever read stdout went away: the report was not delivered, so the run must not look clean.
        return _output_failed("standard output was closed before the report was complete (broken pipe).")
    except OSError as error:
        if error.errno not in _WRITE_ERRNOS or error.filename is not None:
            return _internal_error(error)
        return _output_failed(f"cannot write standard output: {error.strerror}.")
    except RuntimeError as error:
        if str(error) != "Query interrupted":
            return _internal_error(error)
        if _terminated.is_set():
            return _terminated_exit()
        # DuckDB turns Ctrl-C during a query into this RuntimeError (and swallows the KeyboardInterrupt).
        print("ctlint: interrupted; no report was written.", file=sys.stderr)
        return 130
    except Exception as error:  # a bug must not exit 1, which a pipeline reads as "findings"
        if _terminated.is_set():
            return _terminated_exit()
        return _internal_error(error)
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


if __name__ == "__main__":
    sys.exit(main())
