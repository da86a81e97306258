"""`ctlint suggest`: right-sized identity policies from the window's usage (docs/suggest.md).

  ctlint suggest --config ctlint.yaml [--principal ARN ...] [--drop-unobservable]
                 [--format text|json|terraform|cloudformation] [--output FILE] [--json FILE]

Reads the same inputs as `check` (ctlint.pipeline.analyse); the suggestions themselves are pure
(ctlint.suggest). Exit 0 when the suggestions were written, 2 on bad input; never 1 (nothing is gated).
"""

from __future__ import annotations

import argparse
import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING

from ctlint import __version__, progress
from ctlint.atomic import check_target, staged_all, write_all_atomic
from ctlint.commands.check import add_input_arguments
from ctlint.commands.notes import print_warnings
from ctlint.errors import ConfigError
from ctlint.observability import visibility
from ctlint.options import InputOptions
from ctlint.pipeline import analyse, config_or_error
from ctlint.rulefiles import load_rules

if TYPE_CHECKING:  # the suggest stack loads when the command runs, not with the command line
    from ctlint.suggest.build import Suggestion, SuggestOptions

FORMATS = ("text", "json", "terraform", "cloudformation")
# The rule kinds whose findings an allowlist entry must cover to keep an unused grant in the suggestion.
GRANT_RULE_KINDS = frozenset({"granted-unused", "granted-unused-conditional", "granted-unknown"})


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "suggest",
        help="suggest right-sized identity policies from CloudTrail usage",
        description="Per principal, an identity policy with the actions it used in the window (on the "
        "resources it used, where known), the ones CloudTrail cannot show, and its allowlisted ones; "
        "never broader than today's grant. Exit 0, or 2 on bad input.",
    )
    add_input_arguments(parser)
    parser.add_argument(
        "--principal",
        action="append",
        default=[],
        metavar="ARN",
        help="only this principal (repeatable; default: every principal but service-linked roles)",
    )
    parser.add_argument(
        "--drop-unobservable",
        action="store_true",
        help="leave out granted actions CloudTrail cannot record (kept in their own statements by default)",
    )
    parser.add_argument(
        "--format", "-f", choices=FORMATS, default="text", help="format on stdout (default: text)"
    )
    parser.add_argument("--output", "-o", metavar="PATH", help="write the --format output to PATH")
    parser.add_argument("--json", metavar="PATH", help="also write the suggestions as JSON to PATH")
    parser.set_defaults(func=run)


def _render(fmt: str, suggestions: tuple[Suggestion, ...], analysis, options: SuggestOptions) -> str:
    from ctlint.suggest.cloudformation import render_cloudformation
    from ctlint.suggest.jsonout import render_json
    from ctlint.suggest.terraform import render_terraform
    from ctlint.suggest.text import render_text

    if fmt == "json":
        return render_json(
            suggestions,
            tool_version=__version__,
            window=analysis.window,
            data=analysis.catalog.versions,
            document_limit=options.document_chars,
        )
    if fmt == "terraform":
        return render_terraform(suggestions)
    if fmt == "cloudformation":
        return render_cloudformation(suggestions)
    return render_text(suggestions)


def _known_principals(analysis, wanted: list[str]) -> None:
    known = {p.arn for state in analysis.accounts for p in state.inventory.principals}
    missing = [arn for arn in wanted if arn not in known]
    if missing:
        raise ConfigError(
            f"--principal {missing[0]} is not a user or role of the configured accounts "
            "(give the full ARN, as `ctlint check` reports it)."
        )


def run(args: argparse.Namespace) -> int:
    from ctlint.suggest.build import SuggestOptions
    from ctlint.suggest.run import suggest_all

    for path in (args.output, args.json):
        if path:
            check_target(Path(path))
    inputs = InputOptions.from_namespace(args, config=config_or_error(args.config), collect_resources=True)
    now = datetime.now(timezone.utc)
    analysis = analyse(inputs, now=now)
    _known_principals(analysis, args.principal)
    config = analysis.config
    rules = load_rules(config.rule_overrides, config.rule_files)
    options = SuggestOptions(drop_unobservable=args.drop_unobservable)
    with progress.current().stage("suggesting policies"):
        suggestions = suggest_all(
            analysis.accounts,
            analysis.usage,
            analysis.active,
            analysis.window,
            visibility(analysis.catalog, config.data_events, config.trail),
            analysis.catalog,
            allowlist=config.allowlist,
            grant_rule_ids={r.id for r in rules if r.kind in GRANT_RULE_KINDS},
            today=now.date(),
            principals=args.principal,
            options=options,
        )
    print_warnings(analysis.warnings)
    files: list[tuple[Path, str]] = []
    if args.json:
        files.append((Path(args.json), _render("json", suggestions, analysis, options)))
    rendered = _render(args.format, suggestions, analysis, options)
    if args.output:
        files.append((Path(args.output), rendered))
        write_all_atomic(files)
        return 0
    with staged_all(files):
        sys.stdout.write(rendered)
        sys.stdout.flush()
    return 0
