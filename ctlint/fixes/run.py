"""The fix stage of a run: after grouping, the IaC statements the findings flag, as StatementFix values.

The one place of the fix stage that reads files: the IaC files named by flagged statements are read
again (within the same size limit), so a patch is made from the text as it is now.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from ctlint.errors import InputError
from ctlint.fixes.plan import FIX_KINDS, plan_fixes, statement_holders
from ctlint.fixes.resources import UsedResources
from ctlint.fixes.values import StatementFix
from ctlint.limits import check_file_size
from ctlint.model import GroupedFinding, Principal, RuleSpec, Statement
from ctlint.policy import ActionUniverse, statement_actions


def run_fixes(
    principals: Iterable[Principal],
    iac_results: Iterable[Any],
    groups: Sequence[GroupedFinding],
    rules: Iterable[RuleSpec],
    catalog: ActionUniverse,
    resources: UsedResources | None = None,
) -> tuple[StatementFix, ...]:
    """StatementFix values for the IaC statements that `groups` flag (no files read when none).

    `resources` (principal -> action -> ARNs, collected by `ctlint fix` only) lets patches narrow the
    Resource list; without it they rewrite the Action list alone."""
    iac_results = list(iac_results)
    files = [shown for result in iac_results if result is not None for shown in result.files]
    kinds = {rule.id: rule.kind for rule in rules}
    wanted = {
        g.statement.location.path
        for g in groups
        if kinds.get(g.rule) in FIX_KINDS and g.statement is not None and g.statement.location is not None
    } & set(files)
    if not wanted:
        return ()
    results = [result for result in iac_results if result is not None]
    unlinked = {where for result in results for where in getattr(result, "unlinked_statements", ())}
    holders = statement_holders(principals, wanted, unlinked)

    def expand(pattern: str) -> frozenset[str]:
        return statement_actions(Statement("Allow", actions=(pattern,)), catalog)

    return plan_fixes(groups, kinds, holders, FileSources(), expand, resources, catalog)


class FileSources:
    """The planner's view of the working tree: files as reports show them (relative to the cwd)."""

    def read(self, path: str) -> str | None:
        return read_source(path)

    def tf_files(self, folder: str) -> list[str]:
        base = Path(folder)
        if not base.is_dir() or not within_working_directory(base):
            return []
        return sorted((base / p.name).as_posix() for p in base.iterdir() if p.suffix == ".tf" and p.is_file())


def read_source(shown: str) -> str | None:
    """The text of an IaC file as reports show it (relative to the working directory), or None."""
    path = Path(shown)
    try:
        check_file_size(path, "terraform_plan", shown)  # the larger of the two IaC limits
        # newline="": the text as written (CRLF stays CRLF), so a written fix changes only its lines.
        with open(path, encoding="utf-8", newline="") as handle:
            return handle.read()
    except (OSError, UnicodeDecodeError, InputError):
        return None  # the fix then says the file cannot be read now; the check itself already read it


def within_working_directory(path: Path) -> bool:
    """True when `path`, links resolved, lies under the working directory (the tree under review)."""
    try:
        path.resolve().relative_to(Path.cwd().resolve())
    except (OSError, ValueError):
        return False
    return True
