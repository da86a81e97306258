"""Suggestions for every principal of a run (or the ones asked for), from the pipeline's values. Pure."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import date

from ctlint.evaluate import AccountState, is_active
from ctlint.model import AllowlistEntry, Principal, Usage, Window
from ctlint.observability import Visibility
from ctlint.policy import ActionUniverse
from ctlint.suggest.build import PrincipalInput, Suggestion, SuggestOptions, suggest_policy
from ctlint.wildcard import matches


def allowlisted_actions(
    principal: Principal,
    granted: frozenset[str],
    entries: Sequence[AllowlistEntry],
    rule_ids: Collection[str],
    today: date,
) -> frozenset[str]:
    """Granted actions a live allowlist entry keeps: an entry for the principal that covers the rules
    reporting unused grants (`rule_ids`; an entry without rules covers every rule), for its actions (an
    entry without actions: every action)."""
    kept: set[str] = set()
    for entry in entries:
        if entry.expires is not None and entry.expires < today:
            continue
        if not matches(entry.principal, principal.arn):
            continue
        if entry.rules and not set(entry.rules) & set(rule_ids):
            continue
        if not entry.actions:
            return granted
        kept.update(a for a in granted if any(matches(p, a) for p in entry.actions))
    return frozenset(kept)


def suggest_all(
    accounts: Sequence[AccountState],
    usage: Usage,
    active: frozenset[str],
    window: Window,
    visibility: Visibility,
    universe: ActionUniverse,
    *,
    allowlist: Sequence[AllowlistEntry] = (),
    grant_rule_ids: Collection[str] = (),
    today: date,
    principals: Collection[str] = (),
    include_service_linked: bool = False,
    options: SuggestOptions | None = None,
) -> tuple[Suggestion, ...]:
    """One suggestion per principal (all of them, or the ARNs in `principals`), sorted by account and
    ARN. Service-linked roles are left out unless asked for by ARN or `include_service_linked`: AWS owns
    their policies."""
    wanted = frozenset(principals)
    out: list[Suggestion] = []
    for state in accounts:
        inventory = state.inventory
        for principal in inventory.principals:
            if wanted and principal.arn not in wanted:
                continue
            if principal.is_service_linked and not (include_service_linked or principal.arn in wanted):
                continue
            grants = state.grants[principal.arn]
            own = usage.principals.get(principal.arn)
            facts = PrincipalInput(
                principal=principal,
                account_name=inventory.account_name,
                grants=grants,
                used=frozenset(own.actions) if own else frozenset(),
                resources=usage.resources.get(principal.arn, {}),
                allowlisted=allowlisted_actions(principal, grants.actions, allowlist, grant_rule_ids, today),
                active=is_active(principal, active, window),
            )
            out.append(suggest_policy(facts, visibility, universe, options))
    return tuple(sorted(out, key=lambda s: (s.account, s.principal)))
