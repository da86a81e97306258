"""Per-action findings in, one finding per (principal, granting statement, rule) out. Pure: no I/O.

DESIGN.md's "Findings (per action) -> grouped per statement -> Reports": people fix a statement, not an
action, so reports show groups; the per-action findings stay inside them (baselines, allowlists and the
JSON report's `findings` keep working on those atoms). An action granted by several statements belongs
to each of their groups, and the group says so. Findings whose action no statement grants (used but not
granted, a typo'd pattern) form one group per principal and rule; principal-level findings (no action)
stay single.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import groupby

from ctlint.attribution import Attribution
from ctlint.model import (
    EMPTY_MAPPING,
    ActionUse,
    Finding,
    FindingRun,
    GroupedFinding,
    SourceLocation,
    StatementRef,
    runs_of,
)
from ctlint.summary import weight

LISTED_IN_MESSAGE = 5  # actions named in a message; the properties list them all
# Rule kinds whose findings are granted actions, described against the statement's whole grant.
GRANT_KINDS = frozenset({"granted-unused", "granted-unknown", "new-grant-unused"})


@dataclass(frozen=True)
class GroupingContext:
    attributions: Mapping[str, Attribution]  # by principal ARN
    used: Mapping[str, Mapping[str, ActionUse]]  # principal ARN -> action -> use in the window
    observable: frozenset[str]  # actions the configured trail records
    kinds: Mapping[str, str]  # rule id -> rule kind
    names: Mapping[str, str] = field(default_factory=lambda: EMPTY_MAPPING)  # principal ARN -> name


def group_findings(findings: Sequence[Finding], context: GroupingContext) -> tuple[GroupedFinding, ...]:
    """Group `findings` (any order); the groups come back sorted by GroupedFinding.sort_key.

    Groups hold the findings as stretches of their runs (`GroupedFinding.runs`): per action this is a
    dict entry and set arithmetic in C, never a Finding."""
    groups: list[GroupedFinding] = []
    per_principal: dict[tuple[str, str], list[FindingRun]] = defaultdict(list)
    for run in runs_of(findings):
        if run.actions[0] is None:
            groups.append(_single(run))
        else:
            per_principal[(run.account, run.principal)].append(run)
    for (_account, principal), items in per_principal.items():
        groups.extend(_principal_groups(principal, items, context))
    return tuple(sorted(groups, key=GroupedFinding.sort_key))


def _principal_groups(
    principal: str, runs: list[FindingRun], context: GroupingContext
) -> Iterable[GroupedFinding]:
    attribution = context.attributions.get(principal)
    by_rule: dict[str, dict[str, int]] = defaultdict(dict)  # rule -> action -> position of its run
    for position, run in enumerate(runs):
        by_rule[run.rule].update(dict.fromkeys(run.actions, position))  # type: ignore[arg-type]
    used = context.used.get(principal, EMPTY_MAPPING)
    for _rule, by_action in sorted(by_rule.items()):
        attributed: set[str] = set()
        for grant in attribution.grants if attribution else ():
            hits = by_action.keys() & grant.actions
            if not hits:
                continue
            attributed |= hits
            actions = sorted(hits)
            members = _stretches(actions, by_action, runs)
            yield _statement_group(
                members, actions, grant.statement, grant.actions, attribution, used, context
            )
        rest = sorted(by_action.keys() - attributed)
        if rest:
            yield _ungrouped(_stretches(rest, by_action, runs), rest, context)


def _stretches(
    actions: list[str], by_action: Mapping[str, int], runs: list[FindingRun]
) -> tuple[FindingRun, ...]:
    """The runs of `actions` (sorted), cut to the stretches of actions each run holds."""
    found = []
    for position, items in groupby(actions, key=by_action.__getitem__):
        run, part = runs[position], tuple(items)
        found.append(run if part == run.actions else run.with_actions(part))
    return tuple(found)


def _statement_group(
    members: tuple[FindingRun, ...],
    actions: list[str],
    statement: StatementRef,
    granted: frozenset[str],
    attribution: Attribution | None,
    used: Mapping[str, ActionUse],
    context: GroupingContext,
) -> GroupedFinding:
    first = members[0]
    used_here = sorted(used.keys() & granted)
    unobservable = len(granted - context.observable - used.keys())
    unused = len(granted) - len(used_here) - unobservable
    # Most privileged first (Permissions management, Write, ...), then by name: what a reader should see.
    buckets = _buckets(members)  # once: the message ranks by it, the properties count by it
    ranked = [action for bucket in buckets.values() for action in bucket]
    shared: dict[str, list[str]] = {}
    if attribution is not None and attribution.shared:
        labels: dict[StatementRef, str] = {}  # a few statements, thousands of shared actions
        for action in attribution.shared.keys() & set(actions):
            shared[action] = [
                labels.get(ref) or labels.setdefault(ref, ref.label())
                for ref in attribution.shared[action]
                if ref != statement
            ]
        shared = dict(sorted(shared.items()))
    name = context.names.get(first.principal, first.principal)
    kind = context.kinds.get(first.rule, first.rule)
    message = f"{statement.label()} grants {name} ({first.principal_type}) {_count(len(granted), 'action')}"
    if kind in GRANT_KINDS:
        listed = ", ".join(used_here[:LISTED_IN_MESSAGE]) + (
            ", ..." if len(used_here) > LISTED_IN_MESSAGE else ""
        )
        own = f" ({_listed(ranked)})"
        natural = unobservable if kind == "granted-unknown" else unused
        if len(actions) != natural:  # a filtered rule reports part of them
            own = f", {len(actions)} of them reported here ({_listed(ranked)})"
        message += f"; {len(used_here)} used in the window" + (f" ({listed})" if used_here else "")
        message += f"; {unused} never used" + (own if kind != "granted-unknown" else "")
        message += f"; {unobservable} not observable" + (own if kind == "granted-unknown" else "")
    else:
        message += f"; {len(actions)} found by this rule: {_listed(ranked)}"
    if shared:
        message += f"; {_count(len(shared), 'of them is', 'of them are')} also granted by another statement"
    properties: dict[str, object] = {
        "statement": _statement_dict(statement),
        "actions": actions,
        "action_count": len(actions),
        "by_access_level": dict(sorted((level, len(bucket)) for level, bucket in buckets.items())),
        "statement_granted": len(granted),
        "statement_used": {a: used[a].last_seen.isoformat() for a in used_here},
        "statement_unused": unused,
        "statement_unobservable": unobservable,
    }
    if shared:
        properties["also_granted_by"] = shared
    return _group(members, statement, message, properties)


def _ungrouped(
    members: tuple[FindingRun, ...], actions: list[str], context: GroupingContext
) -> GroupedFinding:
    """Findings of one rule and principal that no statement grants (used but not granted, typos)."""
    first = members[0]
    name = context.names.get(first.principal, first.principal)
    if len(actions) == 1:
        message = first.message_of(actions[0])
    else:
        message = (
            f"{name} ({first.principal_type}): {len(actions)} actions no statement grants: {_listed(actions)}"
        )
    properties: dict[str, object] = {
        "actions": list(actions),
        "action_count": len(actions),
        "by_access_level": _levels(members),
    }
    return _group(members, None, message, properties)


def _single(run: FindingRun) -> GroupedFinding:
    """A principal-level finding (a run of one without action) as its own group."""
    return GroupedFinding(
        rule=run.rule,
        level=run.level,
        account=run.account,
        account_name=run.account_name,
        principal=run.principal,
        principal_type=run.principal_type,
        statement=None,
        message=run.message_of(None),
        fingerprint=next(run.fingerprints()),
        runs=(run,),
        location=run.location,
        baseline=run.baseline,
        suppressed_reason=run.suppressed_reason,
        properties=run.properties,
    )


def _group(
    members: tuple[FindingRun, ...],
    statement: StatementRef | None,
    message: str,
    properties: Mapping[str, object],
) -> GroupedFinding:
    first = members[0]
    states = {run.baseline for run in members}
    baseline = None if states == {None} else ("new" if "new" in states or None in states else "unchanged")
    reasons = sorted({run.suppressed_reason for run in members if run.suppressed_reason is not None})
    return GroupedFinding(
        rule=first.rule,
        level=first.level,  # one rule: one level
        account=first.account,
        account_name=first.account_name,
        principal=first.principal,
        principal_type=first.principal_type,
        statement=statement,
        message=message + ("" if message.endswith(".") else "."),
        fingerprint=group_fingerprint(first.account, first.principal, first.rule, statement),
        runs=members,
        location=_location(statement, first),
        baseline=baseline,
        suppressed_reason="; ".join(reasons) if reasons else None,
        properties=properties,
    )


def _location(statement: StatementRef | None, first: FindingRun) -> SourceLocation | None:
    """The statement's own line, unless it lives in another file than the one the evaluator points at
    (an IaC principal reusing a policy document of the deployed snapshot): annotate the file under review."""
    here = statement.location if statement is not None else None
    if here is None or (first.location is not None and first.location.path != here.path):
        return first.location
    return here


def group_fingerprint(account: str, principal: str, rule: str, statement: StatementRef | None) -> str:
    """A statement's identity, never its line: the policy, the attachment and the Sid (else the index)."""
    if statement is None:
        where = "principal"
    else:
        position = f"sid:{statement.sid}" if statement.sid else f"index:{statement.index}"
        where = f"{statement.policy_kind}|{statement.policy}|{statement.via_group or ''}|{position}"
    key = "\x1f".join((account, principal, rule, where))
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:32]


def _statement_dict(statement: StatementRef) -> dict[str, object]:
    return {
        "policy": statement.policy,
        "kind": statement.policy_kind,
        "index": statement.index,
        "sid": statement.sid,
        "via_group": statement.via_group,
    }


def _buckets(members: Sequence[FindingRun]) -> dict[str, list[str]]:
    """The members' actions per access level, most privileged level first, names in member order."""
    found: dict[str, list[str]] = {}
    for run in members:
        levels = run.access_levels
        for action in run.actions:
            level = levels.get(action) or "unknown"
            bucket = found.get(level)
            if bucket is None:
                bucket = found[level] = []
            bucket.append(action or "")
    return dict(sorted(found.items(), key=lambda item: (-weight(item[0]), item[0])))


def _levels(members: Sequence[FindingRun]) -> dict[str, int]:
    return dict(sorted((level, len(bucket)) for level, bucket in _buckets(members).items()))


def _listed(actions: Sequence[str]) -> str:
    shown = ", ".join(actions[:LISTED_IN_MESSAGE])
    return shown + (
        f" and {len(actions) - LISTED_IN_MESSAGE} more" if len(actions) > LISTED_IN_MESSAGE else ""
    )


def _count(n: int, singular: str, plural: str | None = None) -> str:
    return f"{n} {singular if n == 1 else (plural or singular + 's')}"
