"""Allowlist entries suppress matching findings; expired entries stop suppressing and say so."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date

from ctlint.model import AllowlistEntry, Finding
from ctlint.wildcard import matches


@dataclass(frozen=True)
class AllowlistOutcome:
    findings: tuple[Finding, ...]  # not suppressed
    suppressed: tuple[Finding, ...]  # suppressed, each with its entry's reason
    warnings: tuple[str, ...]  # expired entries, entries that matched nothing


def _covers_who(entry: AllowlistEntry, principal: str, role: str | None, rule: str) -> bool:
    # For unused-assume-role the glob may name either side: a yearly role is rarely assumed by anyone.
    targets = (principal,) if role is None else (principal, role)
    if not any(matches(entry.principal, target) for target in targets):
        return False
    return not entry.rules or rule in entry.rules


def _covers_action(entry: AllowlistEntry, action: str | None) -> bool:
    if not entry.actions:
        return True
    # Principal-level findings (no action) are covered only by an entry that allows every action.
    if action is None:
        return "*" in entry.actions
    return any(matches(pattern, action) for pattern in entry.actions)


def apply_allowlist(
    findings: Sequence[Finding], entries: Sequence[AllowlistEntry], today: date
) -> AllowlistOutcome:
    live = [e for e in entries if e.expires is None or e.expires >= today]
    warnings = [
        f"{e.describe()} expired on {e.expires}; it no longer suppresses findings (reason was: {e.reason})."
        for e in entries
        if e.expires is not None and e.expires < today
    ]
    kept: list[Finding] = []
    suppressed: list[Finding] = []
    used: set[int] = set()
    # Findings come in runs of one (principal, role, rule); match the globs once per run, not per action.
    candidates: dict[tuple[str, str | None, str], list[AllowlistEntry]] = {}
    for finding in findings:
        who = (finding.principal, finding.role, finding.rule)
        entries_for_who = candidates.get(who)
        if entries_for_who is None:
            entries_for_who = candidates[who] = [e for e in live if _covers_who(e, *who)]
        if not entries_for_who:
            kept.append(finding)
            continue
        entry = next((e for e in entries_for_who if _covers_action(e, finding.action)), None)
        if entry is None:
            kept.append(finding)
        else:
            used.add(entry.index)
            suppressed.append(replace(finding, suppressed_reason=f"{entry.reason} ({entry.describe()})"))
    warnings.extend(f"{e.describe()} matched no finding." for e in live if e.index not in used)
    return AllowlistOutcome(tuple(kept), tuple(suppressed), tuple(warnings))
