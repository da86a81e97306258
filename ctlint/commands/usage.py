"""`ctlint usage PATH...`: what the logs show, per principal, in IAM actions (no config needed).

Answers "what does this role actually use?" and measures the event mapping: events that need no IAM
action and events ctlint cannot map are listed with their counts.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from ctlint import progress
from ctlint.atomic import write_text_atomic
from ctlint.config import parse_date
from ctlint.errors import ConfigError
from ctlint.events import map_usage
from ctlint.inert import guard_lines, sanitise_line, visible
from ctlint.model import Usage, Window
from ctlint.usage.filekind import not_event_logs_note

ALL_TIME_START = datetime(1970, 1, 1, tzinfo=timezone.utc)


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "usage",
        help="show the IAM actions each principal used according to CloudTrail files",
        description="Read CloudTrail files (.json, .json.gz; folders recursively, globs) and list per "
        "principal ARN the IAM actions used, with counts and last use.",
    )
    parser.add_argument("paths", nargs="+", metavar="PATH", help="CloudTrail files, folders or globs")
    parser.add_argument(
        "--start", metavar="DATE", help="window start (YYYY-MM-DD, inclusive; default: all time)"
    )
    parser.add_argument("--end", metavar="DATE", help="window end (YYYY-MM-DD, exclusive; default: tomorrow)")
    parser.add_argument("--json", metavar="FILE", help="also write the result as JSON to FILE")
    parser.add_argument(
        "--skip-bad-files", action="store_true", help="skip unreadable CloudTrail files (listed on stderr)"
    )
    parser.add_argument(
        "--max-skipped-share",
        type=float,
        default=0.1,
        metavar="SHARE",
        help="with --skip-bad-files: still fail when more than this share of files is skipped (default 0.1)",
    )
    parser.add_argument(
        "--skip-bad-records",
        action="store_true",
        help="drop single records without eventSource, eventName or a readable eventTime (counted on stderr)",
    )
    parser.set_defaults(func=run)


def window_from(start: str | None, end: str | None, *, now: datetime | None = None) -> Window:
    """The window for `usage`: all time up to tomorrow unless given (dates at UTC midnight)."""
    now = now or datetime.now(timezone.utc)
    begin = _midnight(parse_date(start, "--start")) if start else ALL_TIME_START
    finish = _midnight(parse_date(end, "--end")) if end else _midnight((now + timedelta(days=1)).date())
    if begin >= finish:
        raise ConfigError(f"the window start {begin:%Y-%m-%d} is not before its end {finish:%Y-%m-%d}.")
    return Window(start=begin, end=finish)


def _midnight(day) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=timezone.utc)


def _iso(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def to_json(usage: Usage, *, skipping: bool = False) -> dict[str, Any]:
    """The public JSON contract of `ctlint usage` (sorted, deterministic).

    With `skipping` (--skip-bad-files) it also lists `skipped_files`, possibly empty, so a consumer can
    tell a complete read from a partial one.
    """
    document: dict[str, Any] = {
        "principals": [
            {
                "principal": arn,
                "type": principal.type,
                "actions": {
                    action: {"count": use.count, "last_seen": _iso(use.last_seen)}
                    for action, use in sorted(principal.actions.items())
                },
            }
            for arn, principal in sorted(usage.principals.items())
        ],
        "no_iam_action": [
            {"eventSource": e.event_source, "eventName": e.event_name, "count": e.count}
            for e in sorted(usage.no_iam_action, key=lambda e: (e.event_source, e.event_name))
        ],
        "unmapped": [
            {"eventSource": e.event_source, "eventName": e.event_name, "count": e.count}
            for e in sorted(usage.unmapped, key=lambda e: (e.event_source, e.event_name))
        ],
        "events": {"read": usage.stats.read, "counted": usage.stats.counted, "errors": usage.stats.errors},
    }
    from ctlint.sessions import sessions_json, usage_by_session

    # Who behind each role: usage per session identity (sourceIdentity, else the role session name).
    document["sessions"] = sessions_json(usage_by_session(usage.identities))
    if skipping:
        document["skipped_files"] = sorted(usage.skipped_files)
    return document


def to_text(usage: Usage) -> str:
    lines: list[str] = []
    for arn, principal in sorted(usage.principals.items()):
        if not principal.actions:
            continue
        lines.append(f"{visible(arn)} ({principal.type})")
        width = max(len(a) for a in principal.actions)
        for action, use in sorted(principal.actions.items()):
            lines.append(f"  {visible(action):<{width}}  {use.count:>7}  last {_iso(use.last_seen)}")
    for title, events in (("no IAM action", usage.no_iam_action), ("unmapped", usage.unmapped)):
        if events:
            lines.append(f"{title}:")
            for e in sorted(events, key=lambda e: (e.event_source, e.event_name)):
                lines.append(f"  {visible(e.event_source)} {visible(e.event_name)}  {e.count}")
    stats = usage.stats
    lines.append(f"events: {stats.read} read, {stats.counted} counted, {stats.errors} with errors")
    return guard_lines("\n".join(lines)) + "\n"


def run(args: argparse.Namespace) -> int:
    from ctlint.usage.local import LocalEngine  # DuckDB and sqlglot load for this command only

    window = window_from(args.start, args.end)
    engine = LocalEngine(
        [Path(p) for p in args.paths],
        skip_bad_files=args.skip_bad_files,
        max_skipped_share=args.max_skipped_share,
        skip_bad_records=args.skip_bad_records,
        progress=progress.current(),
    )
    try:
        raw = engine.collect(window, None)
    finally:
        engine.close()
    for message in engine.skip_messages:
        print(f"ctlint: warning: skipped: {sanitise_line(message)}", file=sys.stderr)
    total = engine.records_loaded + engine.records_skipped
    note = f"ctlint: read {total} records from {len(engine.files) - len(engine.skipped_files)} files"
    if engine.records_skipped:
        note += f"; dropped {engine.records_skipped} without eventSource, eventName or a readable eventTime"
    print(note + ".", file=sys.stderr)
    not_event_logs = not_event_logs_note(engine.not_event_logs)
    if not_event_logs:
        print(f"ctlint: {not_event_logs}", file=sys.stderr)
    usage = map_usage(raw)
    if args.json:
        write_text_atomic(
            Path(args.json),
            json.dumps(to_json(usage, skipping=args.skip_bad_files), indent=2, sort_keys=False) + "\n",
        )
    sys.stdout.write(to_text(usage))
    return 0
