"""`ctlint check`: the gate. Reports to stdout and files, exit code from --fail-on."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable
from datetime import datetime, timezone
from pathlib import Path

from ctlint import progress
from ctlint.atomic import is_discarded, staged_all, write_all_atomic
from ctlint.commands.notes import print_warnings
from ctlint.conventions import use_colour
from ctlint.errors import ConfigError
from ctlint.gating import exit_code_for, summary_counts
from ctlint.gcpause import cyclic_gc_paused
from ctlint.model import RunResult
from ctlint.options import CheckOptions, InputOptions, ReportOptions
from ctlint.pipeline import config_or_error, run_check
from ctlint.report import FORMATS, RENDERERS, RenderOptions

FAIL_ON = ("error", "warning", "note", "never")
FILE_RENDERERS = tuple(r for r in RENDERERS.values() if r.file_flag)


def add_window_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--start", metavar="DATE", help="window start (YYYY-MM-DD, inclusive); overrides the config"
    )
    parser.add_argument(
        "--end", metavar="DATE", help="window end (YYYY-MM-DD, exclusive); overrides the config"
    )


def add_input_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--config", "-c", metavar="FILE", help="config file (default: ctlint.yaml, else config.yaml)"
    )
    add_window_arguments(parser)
    parser.add_argument(
        "--skip-bad-files",
        action="store_true",
        help="skip unreadable CloudTrail files (listed in reports); still exit 2 past the configured share",
    )
    parser.add_argument(
        "--skip-bad-records",
        action="store_true",
        help="drop single CloudTrail records without eventSource, eventName or a readable eventTime instead of "
        "failing on their file (the count is a warning in every report)",
    )
    parser.add_argument(
        "--keep-results", action="store_true", help="Athena: keep the query result objects in S3"
    )
    parser.add_argument(
        "--no-cache",
        action="store_true",
        help="local logs: neither read nor write the caches, per file and per answer (results are identical either way)",
    )


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "check",
        help="compare IAM grants with CloudTrail usage and gate on findings",
        description="Compare IAM grants with CloudTrail usage; exit 0 (clean), 1 (findings) or 2 (error).",
    )
    add_input_arguments(parser)
    parser.add_argument(
        "--format", "-f", choices=FORMATS, default="text", help="format on stdout (default: text)"
    )
    parser.add_argument(
        "--output", "-o", metavar="PATH", help="write the --format report to PATH instead of stdout"
    )
    for entry in FILE_RENDERERS:
        parser.add_argument(f"--{entry.name}", metavar="PATH", help=f"also write {entry.description} to PATH")
    parser.add_argument(
        "--fail-on",
        choices=FAIL_ON,
        default=None,
        help="lowest level that fails the run (default: the config's fail_on, else warning)",
    )
    parser.add_argument("--soft-fail", action="store_true", help="always exit 0 (reports are still written)")
    parser.add_argument("--baseline", metavar="FILE", help="fail only on findings not in this baseline")
    parser.add_argument(
        "--update-baseline", action="store_true", help="rewrite --baseline with today's findings"
    )
    parser.add_argument("--no-color", action="store_true", help="never colour the text report")
    parser.add_argument(
        "--summary",
        metavar="PATH",
        help="also write a small JSON file with the counts the gate decided on (for CI steps)",
    )
    parser.set_defaults(func=run)


def write_reports(options: ReportOptions, result: RunResult) -> None:
    """Check every target, stage every report, then rename them all: a failure or interrupt while producing
    any, stdout included, leaves no file behind."""
    plain = RenderOptions()
    files: list[tuple[Path, str | Iterable[str]]] = [
        (Path(path), RENDERERS[fmt].render(result, plain)) for fmt, path in options.files
    ]
    if options.summary:
        files.append((Path(options.summary), json.dumps(summary_counts(result), indent=2) + "\n"))
    if options.output:
        files.append((Path(options.output), RENDERERS[options.format].render(result, plain)))
        with progress.current().stage("writing the reports"):
            write_all_atomic(files)
        return
    if is_discarded(sys.stdout):  # `--json FILE > /dev/null`: render only the reports someone reads
        with progress.current().stage("writing the reports"):
            write_all_atomic(files)
        return
    colour = options.format == "text" and use_colour(options.no_color, sys.stdout)
    # Rendered whole before any file is renamed into place: a failing renderer leaves no report.
    rendered = "".join(RENDERERS[options.format].render(result, RenderOptions(colour=colour)))
    # stdout is written while the files are staged: if it fails (a closed pipe, a full disk), no file is left.
    with progress.current().stage("writing the reports"), staged_all(files):
        sys.stdout.write(rendered)
        sys.stdout.flush()


def run(args: argparse.Namespace) -> int:
    # Every stage after evaluation (allowlist, baseline, reports) handles the millions of findings too.
    with cyclic_gc_paused():
        return _run(args)


def _run(args: argparse.Namespace) -> int:
    if args.update_baseline and not args.baseline:
        raise ConfigError("--update-baseline needs --baseline FILE: the baseline to write.")
    inputs = InputOptions.from_namespace(args, config=config_or_error(args.config))
    options = CheckOptions.from_namespace(args, inputs=inputs)
    reports = ReportOptions.from_namespace(args, tuple(r.name for r in FILE_RENDERERS))
    result = run_check(options)
    print_warnings(result.warnings)
    if options.baseline and options.update_baseline:
        from ctlint.baseline import load_baseline, write_baseline

        baseline_path = Path(options.baseline)
        previous = load_baseline(baseline_path) if baseline_path.exists() else None
        write_baseline(
            baseline_path, result.findings, previous, datetime.now(timezone.utc).date().isoformat()
        )
        print(f"ctlint: wrote {len(result.findings)} finding(s) to baseline {baseline_path}", file=sys.stderr)
        write_reports(reports, result)
        return 0  # like checkov and trivy: writing the baseline is the job, not gating on it
    write_reports(reports, result)
    if options.soft_fail:
        return 0
    return exit_code_for(result)
