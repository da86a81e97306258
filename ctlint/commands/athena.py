"""`ctlint athena setup|teardown|aggregate`: ctlint's Athena objects and its daily aggregate table.

`ctlint check` runs setup by itself when the table is missing; these commands let an operator do it
ahead of time (or clean up), with the config's `athena:` block. `aggregate` fills the daily aggregate
table (athena.aggregate_location) so checks read megabytes of Parquet instead of the trail. What was
done goes to stderr.
"""

from __future__ import annotations

import argparse
import sys
from datetime import date, datetime, timedelta, timezone

from ctlint.config import Config, load_config
from ctlint.errors import ConfigError, InputError

MAX_DAYS = 3660  # one run; a typo like --since 0202-01-01 should not start ten thousand queries


def _now() -> datetime:
    return datetime.now(timezone.utc)


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "athena",
        help="create or drop ctlint's Athena objects; fill the daily aggregate table",
        description="Manage the Athena objects of the config's `athena:` block.",
    )
    commands = parser.add_subparsers(dest="athena_command", metavar="ACTION", parser_class=type(parser))
    commands.required = True
    for name, helptext in (
        ("setup", "create the database and the partition-projected CloudTrail table (idempotent)"),
        ("teardown", "drop ctlint's tables, and its database when nothing else is in it (S3 data stays)"),
        ("aggregate", "write the missing complete days into the daily aggregate table (idempotent)"),
    ):
        sub = commands.add_parser(name, help=helptext, description=helptext[0].upper() + helptext[1:] + ".")
        sub.add_argument(
            "--config", "-c", metavar="FILE", help="config file (default: ctlint.yaml, else config.yaml)"
        )
        sub.set_defaults(func=run, athena_action=name)
        if name == "aggregate":
            which = sub.add_mutually_exclusive_group()
            which.add_argument("--days", type=int, metavar="N", help="the last N complete days")
            which.add_argument("--since", metavar="YYYY-MM-DD", help="first day to write (UTC)")
            sub.add_argument(
                "--until",
                metavar="YYYY-MM-DD",
                help="last day to write (UTC; default: the last complete day)",
            )
            sub.add_argument("--force", action="store_true", help="rewrite days that are already aggregated")
            sub.add_argument(
                "--settle-hours",
                type=float,
                default=2.0,
                metavar="H",
                help="a day is complete H hours after it ended, when CloudTrail has delivered it (default 2)",
            )


def _config(config_arg: str | None) -> Config:
    from ctlint.pipeline import config_or_error

    config = load_config(config_or_error(config_arg))
    if not config.athena:
        raise ConfigError(f"{config.path}: has no 'athena' block; add s3_bucket (and path) to use Athena.")
    return config


def aggregate_days(args: argparse.Namespace, config: Config, now: datetime) -> list[date]:
    """The days `ctlint athena aggregate` writes: the options', or the config window's missing ones."""
    from ctlint.config import resolve_window
    from ctlint.usage import athena_aggregate as agg

    settle = args.settle_hours
    if settle is None or not 0 <= settle <= 24 * 14:
        raise InputError(f"--settle-hours {settle:g} is not a number of hours between 0 and 336.")
    last_complete = (now - timedelta(hours=settle)).date() - timedelta(days=1)
    if args.until and not args.since:
        raise InputError("--until needs --since (the first day to write).")
    if args.days is not None:
        if not 1 <= args.days <= MAX_DAYS:
            raise InputError(f"--days {args.days} is not between 1 and {MAX_DAYS}.")
        first, last = last_complete - timedelta(days=args.days - 1), last_complete
    elif args.since:
        first = agg.parse_day(args.since, what="--since")
        last = agg.parse_day(args.until, what="--until") if args.until else last_complete
        if last > last_complete:
            raise InputError(
                f"--until {agg.day_text(last)} is not complete yet: a day counts once it ended {settle:g} hours "
                f"ago (--settle-hours); the last complete day is {agg.day_text(last_complete)}."
            )
        if first > last:
            raise InputError(
                f"--since {agg.day_text(first)} is after the last day to write, {agg.day_text(last)}."
            )
    else:
        window = resolve_window(config, now=now)
        days = agg.full_days(window)
        # One day before the window's first full day: a window starting at midnight takes its
        # role-assumption lookback (the 12 h before it) from that day's tail.
        first = (days[0] if days else window.start.date()) - timedelta(days=1)
        last = min(last_complete, days[-1] if days else last_complete)
    if first < date(2013, 1, 1):
        raise InputError(f"{agg.day_text(first)} is before CloudTrail existed (2013); give a later --since.")
    count = (last - first).days + 1
    if count > MAX_DAYS:
        raise InputError(f"{count} days is more than one run writes ({MAX_DAYS}); split the range.")
    return [first + timedelta(days=i) for i in range(max(0, count))]


def run(args: argparse.Namespace) -> int:
    from ctlint.usage.factory import make_athena_engine

    config = _config(getattr(args, "config", None))
    engine = make_athena_engine(config)
    if args.athena_action == "aggregate":
        if engine.settings.aggregate_location is None:
            raise ConfigError(
                f"{config.path}: athena has no aggregate_location; add one (s3://bucket/prefix/) for the "
                "daily aggregate table."
            )
        now = _now()
        days = aggregate_days(args, config, now)
        if not days:
            print("ctlint: athena: no complete day to aggregate yet.", file=sys.stderr)
            return 0
        done = engine.aggregate(days, force=args.force, now=lambda: now)
        if not done:
            print("ctlint: athena: nothing to do: every day is already aggregated.", file=sys.stderr)
        return 0
    done = engine.setup() if args.athena_action == "setup" else engine.teardown()
    for line in done or ["nothing to do: the Athena objects are already as configured"]:
        print(f"ctlint: athena: {line}", file=sys.stderr)
    return 0
