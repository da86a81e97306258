"""`ctlint fix`: the IaC patches of a check, as a unified diff, or written with --write.

Same inputs as `ctlint check`. The diff goes to stdout (so `ctlint fix > fix.patch && git apply
fix.patch` works); statements that cannot be rewritten exactly are listed on stderr with the suggested
Action list. Unlike `check`, it asks the engine for resources, so a patch can also narrow the Resource
lines (ctlint.fixes.resources); where it does not, stderr says why. Exit 0 when every flagged statement has a patch (or none is flagged), 1 when some could not
be rewritten, 2 on bad input.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections import defaultdict
from pathlib import Path

from ctlint.atomic import write_all_atomic
from ctlint.commands.check import add_input_arguments
from ctlint.commands.notes import print_warnings
from ctlint.inert import sanitise_line
from ctlint.options import CheckOptions, InputOptions
from ctlint.pipeline import config_or_error, run_check


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "fix",
        help="rewrite the IaC statements that grant unused actions (a diff, or --write)",
        description="Print a unified diff that removes the actions the check flags as unused "
        "(new-grant-unused, granted-unused) from the IaC statements that grant them; --write applies it.",
    )
    add_input_arguments(parser)
    parser.add_argument(
        "--write",
        action="store_true",
        help="apply the patches to the files (atomically), not just print them",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    # The patching stack loads when the command runs, not with the command line.
    from ctlint.fixes.cloudformation import Unfixable
    from ctlint.fixes.plan import apply_file_fixes
    from ctlint.fixes.run import read_source, within_working_directory
    from ctlint.fixes.textedit import unified_diff
    from ctlint.fixes.values import StatementFix

    # Resources from usage let a patch narrow the Resource list too (check never collects them).
    inputs = InputOptions.from_namespace(args, config=config_or_error(args.config), collect_resources=True)
    result = run_check(CheckOptions(inputs=inputs))
    print_warnings(result.warnings)
    by_file: dict[str, list[StatementFix]] = defaultdict(list)
    failed: list[tuple[StatementFix, str]] = [(f, f.reason or "") for f in result.fixes if not f.edits]
    for fix in result.fixes:
        if fix.edits:
            by_file[fix.path].append(fix)
    changed: list[tuple[str, str, str]] = []  # (file, before, after)
    for path, fixes in sorted(by_file.items()):
        before = read_source(path)
        try:
            if not within_working_directory(Path(path)):
                raise Unfixable(
                    f"{path} is outside the working directory; ctlint fix edits files under it only"
                )
            if before is None:
                raise Unfixable(f"{path} cannot be read now")
            changed.append((path, before, apply_file_fixes(path, before, fixes)))
        except Unfixable as exc:
            failed.extend((fix, f"{exc}.") for fix in fixes)
    diff = "".join(unified_diff(path, before, after) for path, before, after in changed)
    shown = "".join(_shown(line) for line in diff.splitlines(keepends=True))
    sys.stdout.write(shown)
    sys.stdout.flush()
    if shown != diff:
        print(
            "ctlint: warning: the diff holds control or format characters, shown as escapes; "
            "--write applies the exact text.",
            file=sys.stderr,
        )
    if args.write and changed:
        modes = {path: os.stat(path).st_mode & 0o7777 for path, _before, _after in changed}
        # The resolved path: a link inside the tree is followed, never replaced by a file.
        write_all_atomic([(Path(path).resolve(), after) for path, _before, after in changed])
        for path, mode in modes.items():
            os.chmod(path, mode)  # a fixed source keeps its permissions
    fixed = sum(len(fixes) for path, fixes in by_file.items() if any(c[0] == path for c in changed))
    verb = "rewrote" if args.write else "would rewrite"
    print(f"ctlint: {verb} {fixed} statement(s) in {len(changed)} file(s).", file=sys.stderr)
    for fix in result.fixes:
        if fix.edits and fix.resource_note:
            print(
                sanitise_line(f"ctlint: {fix.path}:{fix.line} {fix.statement.label()}: {fix.resource_note}"),
                file=sys.stderr,
            )
    for fix, reason in failed:
        reason = reason.removeprefix(f"{fix.path}:{fix.line}: ")
        suggested = ", ".join(fix.actions) if fix.actions else "(none: remove the statement)"
        print(
            sanitise_line(
                f"ctlint: not rewritten: {fix.path}:{fix.line} {fix.statement.label()}: {reason} "
                f"Suggested Action: [{suggested}]"
            ),
            file=sys.stderr,
        )
    return 1 if failed else 0


def _shown(line: str) -> str:
    """A diff line for the terminal: data made inert, its own line end (CRLF stays CRLF) kept."""
    body = line.rstrip("\r\n")
    return sanitise_line(body) + line[len(body) :]
