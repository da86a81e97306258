"""Allowlist entries suppress matching findings; expired entries stop suppressing and say so."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date

from ctlint.config import AllowlistEntry
from ctlint.model import Finding
from ctlint.wildcard import matches


@dataclass(frozen=True)
class AllowlistOutcome:
    findings: tuple[Finding, ...]  # not suppressed
    suppressed: tuple[Finding, ...]  # suppressed, each with its entry's reason
    warnings: tuple[str, ...]  # expired entries, entries that matched nothing


def entry_matches(entry: AllowlistEntry, finding: Finding) -> bool:
    # For unused-assume-role the glob may name either side: a yearly role is rarely assumed by anyone.
    targets = (finding.principal,) if finding.role is None else (finding.principal, finding.role)
    if not any(matches(entry.principal, target) for target in targets):
        return False
    if entry.rules and finding.rule not in entry.rules:
        return False
    if entry.actions:
        # Principal-level findings (no action) are covered only by an entry that allows every action.
        if finding.action is None:
            return "*" in entry.actions
        return any(matches(pattern, finding.action) for pattern in entry.actions)
    return True


def apply_allowlist(findings: Sequence[Finding], entries: Sequence[AllowlistEntry], today: date) -> AllowlistOutcome:
    live = [e for e in entries if e.expires is None or e.expires >= today]
    warnings = [
        f"{e.describe()} expired on {e.expires}; it no longer suppresses findings (reason was: {e.reason})."
        for e in entries
        if e.expires is not None and e.expires < today
    ]
    kept: list[Finding] = []
    suppressed: list[Finding] = []
    used: set[int] = set()
    for finding in findings:
        entry = next((e for e in live if entry_matches(e, finding)), None)
        if entry is None:
            kept.append(finding)
        else:
            used.add(entry.index)
            suppressed.append(replace(finding, suppressed_reason=f"{entry.reason} ({entry.describe()})"))
    warnings.extend(f"{e.describe()} matched no finding." for e in live if e.index not in used)
    return AllowlistOutcome(tuple(kept), tuple(suppressed), tuple(warnings))
