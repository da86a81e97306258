"""Attribution, grouping and the per-principal summary of one run, from what the pipeline already has.

Pure (no I/O): `ctlint.pipeline.run_check` calls `group_run` once, after the allowlist and the baseline
have marked the per-action findings, and puts the result on the RunResult.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any

from ctlint.attribution import Attribution, attribute
from ctlint.evaluate import AccountState, is_active
from ctlint.grouping import GroupingContext, group_findings
from ctlint.model import Finding, GroupedFinding, PrincipalSummary, RuleSpec, Usage, Window
from ctlint.policy import statement_actions
from ctlint.summary import levels_of, sort_summaries, summarise


@dataclass(frozen=True)
class GroupedRun:
    groups: tuple[GroupedFinding, ...]
    suppressed_groups: tuple[GroupedFinding, ...]
    principals: tuple[PrincipalSummary, ...]


def group_run(
    accounts: Sequence[AccountState],
    usage: Usage,
    active: frozenset[str],
    window: Window,
    catalog: Any,  # ctlint.catalog.Catalog: all_actions, info, is_observable, expand, expand_not
    data_events: Collection[str],
    rules: Sequence[RuleSpec],
    findings: Sequence[Finding],
    suppressed: Sequence[Finding],
) -> GroupedRun:
    observable = frozenset(a for a in catalog.all_actions if catalog.is_observable(a, data_events))
    levels: dict[str, str | None] = {}

    def access_level(action: str) -> str | None:
        if action not in levels:
            info = catalog.info(action)
            levels[action] = info.access_level if info else None
        return levels[action]

    by_level = levels_of(catalog.all_actions, access_level)

    def named_by(stmt):
        return statement_actions(stmt, catalog)

    attributions: dict[str, Attribution] = {}
    names: dict[str, str] = {}
    summaries: list[PrincipalSummary] = []
    for state in accounts:
        inventory = state.inventory
        for principal in inventory.principals:
            grants = state.grants[principal.arn]
            attributions[principal.arn] = attribute(principal, grants.actions, named_by)
            names[principal.arn] = principal.name
            own = usage.principals.get(principal.arn)
            summaries.append(
                summarise(
                    inventory.account_id,
                    inventory.account_name,
                    principal,
                    grants,
                    own.actions if own else {},
                    observable,
                    by_level,
                    active=is_active(principal, active, window),
                )
            )
    context = GroupingContext(
        attributions=attributions,
        used={arn: use.actions for arn, use in usage.principals.items()},
        observable=observable,
        kinds={rule.id: rule.kind for rule in rules},
        names=names,
    )
    return GroupedRun(
        groups=group_findings(findings, context),
        suppressed_groups=group_findings(suppressed, context),
        principals=sort_summaries(summaries),
    )
