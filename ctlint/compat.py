"""CloudTracker's command line inside ctlint's: its invocation without a subcommand and its flags.

CloudTracker (duo-labs/cloudtracker) is run as `cloudtracker --account demo --list users`; ctlint's
equivalent is `ctlint show ...`. A command line that starts with one of CloudTracker's own options is
run as `show`, with a one-line hint on stderr, so a migrating user's scripts keep working. Flags of
CloudTracker's that mean nothing here are accepted with a one-line note saying so.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

# Options that only CloudTracker's command line starts with (ctlint's own top level has --version/--help).
_CLOUDTRACKER_OPTIONS = frozenset({"--account", "--list", "--user", "--role", "--destrole", "--destaccount"})

# CloudTracker's default window, next to ours (README, "Migrating from CloudTracker").
CLOUDTRACKER_DEFAULT_DAYS = 365


def route_cloudtracker(argv: Sequence[str]) -> list[str]:
    """`argv` as ctlint parses it: a CloudTracker-style command line becomes `show ...` (with a hint)."""
    args = list(argv)
    if not args or not args[0].startswith("-") or args[0] in ("-h", "--help", "--version"):
        return args
    if not any(arg.split("=", 1)[0] in _CLOUDTRACKER_OPTIONS for arg in args):
        return args
    if "--quiet" in args or "-q" in args:
        return ["show", *args]
    print(
        "ctlint: hint: CloudTracker's command line is `ctlint show ...` here; running "
        f"`ctlint show {' '.join(args)}`.",
        file=sys.stderr,
    )
    return ["show", *args]


def add_cloudtracker_flags(parser: argparse.ArgumentParser) -> None:
    """CloudTracker's flags that have no job in ctlint: accepted, and noted by `cloudtracker_notes`."""
    parser.add_argument(
        "--iam",
        metavar="FILE",
        dest="cloudtracker_iam",
        help="CloudTracker's flag, ignored as CloudTracker ignored it: each account's snapshot is its 'iam' key",
    )
    parser.add_argument(
        "--skip-setup",
        action="store_true",
        dest="cloudtracker_skip_setup",
        help="CloudTracker's flag; nothing to skip here (ctlint creates its Athena table only when missing)",
    )


def cloudtracker_notes(args: argparse.Namespace) -> list[str]:
    """One sentence per CloudTracker flag given that means nothing here."""
    notes = []
    if getattr(args, "cloudtracker_iam", None):
        notes.append(
            f"--iam {args.cloudtracker_iam} is ignored, as CloudTracker ignored it: each account's IAM snapshot "
            "is the 'iam' key of its entry in the config."
        )
    if getattr(args, "cloudtracker_skip_setup", False):
        notes.append(
            "--skip-setup means nothing here: ctlint checks its Athena table and creates it only when it is "
            "missing, and the local engine needs no setup."
        )
    return notes
