"""Allowlist entries suppress matching findings; expired entries stop suppressing and say so."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from ctlint.model import AllowlistEntry, Finding, FindingRun, FindingRuns, runs_of
from ctlint.wildcard import matches


@dataclass(frozen=True)
class AllowlistOutcome:
    findings: FindingRuns  # not suppressed
    suppressed: FindingRuns  # suppressed, each with its entry's reason
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
    """Split `findings` (in order) into kept and suppressed; runs are cut where the entry covering their
    actions changes, so a suppressed finding carries the first live entry that covers it."""
    live = [e for e in entries if e.expires is None or e.expires >= today]
    warnings = [
        f"{e.describe()} expired on {e.expires}; it no longer suppresses findings (reason was: {e.reason})."
        for e in entries
        if e.expires is not None and e.expires < today
    ]
    kept: list[FindingRun] = []
    suppressed: list[FindingRun] = []
    used: set[int] = set()
    # The principal, role and rule are one per run: match those globs once per run, the actions per action.
    candidates: dict[tuple[str, str | None, str], list[AllowlistEntry]] = {}
    for run in runs_of(findings):
        who = (run.principal, run.role, run.rule)
        entries_for_who = candidates.get(who)
        if entries_for_who is None:
            entries_for_who = candidates[who] = [e for e in live if _covers_who(e, *who)]
        if not entries_for_who:
            kept.append(run)
            continue

        def covering(action: str | None, _entries: list[AllowlistEntry] = entries_for_who) -> int:
            entry = next((e for e in _entries if _covers_action(e, action)), None)
            return -1 if entry is None else entry.index

        by_index = {e.index: e for e in entries_for_who}
        for index, part in run.cut(map(covering, run.actions)):
            if index < 0:
                kept.append(part)
                continue
            entry = by_index[index]
            used.add(index)
            suppressed.append(
                part.with_actions(part.actions, suppressed_reason=f"{entry.reason} ({entry.describe()})")
            )
    warnings.extend(f"{e.describe()} matched no finding." for e in live if e.index not in used)
    return AllowlistOutcome(FindingRuns(kept), FindingRuns(suppressed), tuple(warnings))
