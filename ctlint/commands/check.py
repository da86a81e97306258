"""`ctlint check`: the gate. Reports to stdout and files, exit code from --fail-on."""

from __future__ import annotations

import argparse
import sys
from datetime import datetime, timezone
from pathlib import Path

from ctlint.atomic import staged_all
from ctlint.gcpause import cyclic_gc_paused
from ctlint.model import Level, RunResult
from ctlint.pipeline import config_or_error, run_check
from ctlint.report import FORMATS, renderer

FAIL_ON = ("error", "warning", "note", "never")


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
    for fmt in ("json", "sarif", "junit", "markdown"):
        parser.add_argument(f"--{fmt}", metavar="PATH", help=f"also write a {fmt.upper()} report to PATH")
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
    parser.set_defaults(func=run)


def exit_code(result: RunResult, fail_on: str) -> int:
    if fail_on == "never":
        return 0
    threshold = Level(fail_on).rank
    gating = (f for f in result.findings if f.baseline in (None, "new"))
    return 1 if any(f.level.rank >= threshold for f in gating) else 0


def write_reports(args: argparse.Namespace, result: RunResult) -> None:
    """Stage every report, then rename them all: an interrupt while producing any leaves no file behind."""
    from ctlint.report.json_report import iter_json

    def chunks(fmt: str):
        return iter_json(result) if fmt == "json" else renderer(fmt)(result)

    files = [
        (Path(path), chunks(fmt))
        for fmt in ("json", "sarif", "junit", "markdown")
        if (path := getattr(args, fmt, None))
    ]
    if args.format == "text":
        colour = not args.no_color and args.output is None and sys.stdout.isatty()
        from ctlint.report.text import render_text

        rendered = render_text(result, colour=colour)
    elif args.output:
        rendered = chunks(args.format)
    else:
        rendered = renderer(args.format)(result)
    if args.output:
        files.append((Path(args.output), rendered))
    # stdout is written while the files are staged: if it fails (a closed pipe, a full disk), no file is left.
    with staged_all(files):
        if not args.output:
            sys.stdout.write(rendered)
            sys.stdout.flush()


def run(args: argparse.Namespace) -> int:
    # Every stage after evaluation (allowlist, baseline, reports) handles the millions of findings too.
    with cyclic_gc_paused():
        return _run(args)


def _run(args: argparse.Namespace) -> int:
    args.config = config_or_error(args.config)
    result = run_check(args)
    if args.baseline and args.update_baseline:
        from ctlint.baseline import load_baseline, write_baseline

        baseline_path = Path(args.baseline)
        previous = load_baseline(baseline_path) if baseline_path.exists() else None
        write_baseline(
            baseline_path, result.findings, previous, datetime.now(timezone.utc).date().isoformat()
        )
        print(f"ctlint: wrote {len(result.findings)} finding(s) to baseline {baseline_path}", file=sys.stderr)
    write_reports(args, result)
    if args.soft_fail:
        return 0
    fail_on = args.fail_on or result.fail_on or "warning"
    return exit_code(result, fail_on)
