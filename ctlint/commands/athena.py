"""`ctlint athena setup|teardown`: create or remove ctlint's Athena database and CloudTrail table.

`ctlint check` runs setup by itself when the table is missing; these commands let an operator do it
ahead of time (or clean up), with the config's `athena:` block. What was done goes to stderr.
"""

from __future__ import annotations

import argparse
import sys

from ctlint.config import load_config
from ctlint.errors import ConfigError


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "athena",
        help="create or drop ctlint's Athena database and CloudTrail table",
        description="Manage the Athena objects of the config's `athena:` block.",
    )
    commands = parser.add_subparsers(dest="athena_command", metavar="ACTION", parser_class=type(parser))
    commands.required = True
    for name, helptext in (
        ("setup", "create the database and the partition-projected CloudTrail table (idempotent)"),
        ("teardown", "drop ctlint's table, and its database when nothing else is in it"),
    ):
        sub = commands.add_parser(name, help=helptext, description=helptext[0].upper() + helptext[1:] + ".")
        sub.add_argument(
            "--config", "-c", metavar="FILE", help="config file (default: ctlint.yaml, else config.yaml)"
        )
        sub.set_defaults(func=run, athena_action=name)


def _engine(config_arg: str | None):
    from ctlint.pipeline import config_or_error
    from ctlint.usage.athena import AthenaEngine, AthenaSettings

    config = load_config(config_or_error(config_arg))
    if not config.athena:
        raise ConfigError(f"{config.path}: has no 'athena' block; add s3_bucket (and path) to use Athena.")
    settings = AthenaSettings.from_mapping(config.athena, where=f"{config.path}: athena")
    return AthenaEngine(settings, [account.id for account in config.accounts])


def run(args: argparse.Namespace) -> int:
    engine = _engine(getattr(args, "config", None))
    done = engine.setup() if args.athena_action == "setup" else engine.teardown()
    for line in done or ["nothing to do: the Athena objects are already as configured"]:
        print(f"ctlint: athena: {line}", file=sys.stderr)
    return 0
