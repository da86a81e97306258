"""PR rules: compare the proposed state (IaC) with the deployed one (the IAM snapshot) against usage.

new-grant-unused: granted by the IaC, not by the snapshot, not used in the window (an added grant
nobody needs). removed-grant-used: granted by the snapshot, not by the IaC, used in the window (a
predicted outage). Only principals the IaC defines and the snapshot knows are compared: a principal new
in the IaC has no history to compare with (the regular rules judge it), and one only in the snapshot is
not managed by this IaC. Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from typing import Any

from ctlint.evaluate import fingerprint
from ctlint.iac.loader import IacResult
from ctlint.model import Finding, Inventory, Level, Principal, SourceLocation, Usage
from ctlint.policy import compute_grants
from ctlint.wildcard import has_wildcard, matches

NEW_GRANT_UNUSED = "new-grant-unused"
REMOVED_GRANT_USED = "removed-grant-used"

Locator = Callable[[Principal, str | None], SourceLocation | None]


def make_locator(result: IacResult) -> Locator:
    """Locate (principal, canonical action) at the pattern that grants it: an exact action string first,
    else the most specific wildcard, else the principal's own definition."""
    by_principal: dict[str, list[tuple[str, SourceLocation]]] = {}
    for (arn, pattern), where in result.action_locations.items():
        by_principal.setdefault(arn, []).append((pattern, where))

    def locate(principal: Principal, action: str | None) -> SourceLocation | None:
        if action is not None:
            candidates = [(p, w) for p, w in by_principal.get(principal.arn, ()) if matches(p, action)]
            if candidates:
                _, where = min(
                    candidates, key=lambda c: (has_wildcard(c[0]), -len(c[0]), c[1].path, c[1].line)
                )
                return where
        return principal.location

    return locate


def _access_level(universe: Any, action: str) -> str | None:
    info = getattr(universe, "info", None)
    found = info(action) if callable(info) else None
    return getattr(found, "access_level", None)


def pr_findings(
    proposed: Inventory,
    deployed: Inventory,
    usage: Usage,
    universe: Any,
    *,
    account_name: str,
    locate: Locator,
    data_events: Collection[str] = (),
    levels: Mapping[str, Level] | None = None,
    observable: Collection[str] | None = None,
) -> list[Finding]:
    """Findings of both PR rules for one account, sorted. `universe` is the action catalog
    (ctlint.policy.ActionUniverse; its `is_observable` and `info` are used when present)."""
    levels = {NEW_GRANT_UNUSED: Level.ERROR, REMOVED_GRANT_USED: Level.ERROR, **(levels or {})}
    is_observable = getattr(universe, "is_observable", None)
    deployed_by_arn = deployed.by_arn()
    findings: list[Finding] = []

    def finding(rule: str, principal: Principal, action: str, message: str, where) -> Finding:
        return Finding(
            rule=rule,
            level=levels[rule],
            account=proposed.account_id,
            account_name=account_name,
            principal=principal.arn,
            principal_type=principal.type,
            action=action,
            role=None,
            message=message,
            fingerprint=fingerprint(proposed.account_id, principal.arn, rule, action, None),
            access_level=_access_level(universe, action),
            location=where,
        )

    window = usage.window
    span = f"between {window.start:%Y-%m-%d} and {window.end:%Y-%m-%d}"
    for principal in sorted(proposed.principals, key=lambda p: p.arn):
        before = deployed_by_arn.get(principal.arn)
        if before is None:
            continue
        new = compute_grants(principal, universe).actions
        old = compute_grants(before, universe).actions
        record = usage.principals.get(principal.arn)
        used = {a.casefold() for a in record.actions} if record else set()
        label = f"{principal.name} ({principal.type})"
        for action in sorted(new - old):
            if action.casefold() in used:
                continue
            if observable is not None and action not in observable:
                continue  # the configured trail does not record every use (ctlint.observability)
            if callable(is_observable) and not is_observable(action, data_events):
                continue  # not recorded by CloudTrail: never call it unused
            findings.append(
                finding(
                    NEW_GRANT_UNUSED,
                    principal,
                    action,
                    f"{label}: this change grants {action}, which it did not use {span}.",
                    locate(principal, action),
                )
            )
        for action in sorted(old - new):
            if action.casefold() not in used:
                continue
            findings.append(
                finding(
                    REMOVED_GRANT_USED,
                    principal,
                    action,
                    f"{label}: this change removes {action}, which it used {span}; expect failures.",
                    locate(principal, action) or principal.location,
                )
            )
    findings.sort(key=Finding.sort_key)
    return findings
