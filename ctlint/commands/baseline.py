"""`ctlint baseline`: record today's findings so that `ctlint check --baseline` gates on new ones only."""

from __future__ import annotations

import argparse
import sys
from datetime import datetime, timezone
from pathlib import Path

from ctlint.baseline import Baseline, BaselineWritten, load_baseline, write_baseline
from ctlint.commands.notes import print_warnings
from ctlint.options import CheckOptions, InputOptions

DEFAULT_OUTPUT = ".ctlint-baseline.json"


def register(subparsers) -> None:
    from ctlint.commands.check import add_input_arguments

    parser = subparsers.add_parser(
        "baseline",
        help="record today's findings in a baseline file",
        description=(
            "Run the check and record its unsuppressed findings by fingerprint in a baseline file. "
            "Entries that persist keep their first-seen date. Exit 0 on success, 2 on error."
        ),
    )
    add_input_arguments(parser)
    parser.add_argument(
        "--output",
        "-o",
        metavar="FILE",
        default=DEFAULT_OUTPUT,
        help=f"baseline file (default: {DEFAULT_OUTPUT})",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ctlint.pipeline import config_or_error, run_check

    # The check must not mark findings against an old baseline while we record a new one.
    inputs = InputOptions.from_namespace(args, config=config_or_error(args.config))
    result = run_check(CheckOptions(inputs=inputs))
    print_warnings(result.warnings)
    output = Path(args.output)
    previous = load_baseline(output) if output.exists() else None
    today = datetime.now(timezone.utc).date().isoformat()
    written = write_baseline(output, result.findings, previous, today)
    print(summary(output, written, previous), file=sys.stderr)
    return 0


def summary(output: Path, written: BaselineWritten, previous: Baseline | None) -> str:
    """One line: how many entries were written, and how they compare with the previous baseline."""
    if previous is None:
        return f"ctlint: wrote {written.entries} finding(s) to the new baseline {output}."
    added, kept = written.entries - written.kept, written.kept
    return (
        f"ctlint: wrote {written.entries} finding(s) to baseline {output} "
        f"({added} added, {kept} kept, {len(previous.entries) - kept} removed)."
    )
