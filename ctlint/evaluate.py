"""The rules engine: grants and usage in, findings out. Pure: no I/O, no clock, no engine knowledge."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Collection, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from types import MappingProxyType
from typing import Any, Protocol

from ctlint.gcpause import cyclic_gc_paused
from ctlint.model import (
    EMPTY_MAPPING,
    Finding,
    Grants,
    Inventory,
    Principal,
    RuleSpec,
    SourceLocation,
    Usage,
    Window,
    new_finding,
)
from ctlint.policy import may_assume, trust_admits
from ctlint.wildcard import matches


class ActionCatalog(Protocol):
    all_actions: frozenset[str]

    def info(self, action: str): ...  # -> ActionInfo | None

    def is_observable(self, action: str, data_events: Collection[str]) -> bool: ...


Locator = Callable[[Principal, str | None], SourceLocation | None]

# Which policy verdict a per-action grant finding rests on (ctlint.policy): shared, read-only.
_GRANTED: Mapping[str, object] = MappingProxyType({"verdict": "granted"})
_CONDITIONAL: Mapping[str, object] = MappingProxyType({"verdict": "conditional"})


@dataclass(frozen=True)
class AccountState:
    inventory: Inventory
    grants: Mapping[str, Grants]  # by principal ARN


@dataclass(frozen=True)
class EvaluationInput:
    accounts: tuple[AccountState, ...]
    usage: Usage
    active: frozenset[str]  # principal ARNs with any counted CloudTrail activity in the window
    rules: tuple[RuleSpec, ...]
    data_events: frozenset[str] = frozenset()


def fingerprint(account: str, principal: str, rule: str, action: str | None, role: str | None) -> str:
    """A stable identity for a finding: never a line number, so moving code keeps baselines valid."""
    key = "|".join((account, principal, rule, action or "", role or ""))
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:32]


def _day(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d")


def _between(window: Window) -> str:
    return f"between {_day(window.start)} and {_day(window.end)}"


def is_active(principal: Principal, active: frozenset[str], window: Window) -> bool:
    if principal.arn in active:
        return True
    last_used = principal.role_last_used
    return last_used is not None and window.start <= last_used < window.end


class _Evaluator:
    def __init__(self, data: EvaluationInput, catalog: ActionCatalog, locate: Locator) -> None:
        self.data = data
        self.catalog = catalog
        self.locate = locate
        self.window = data.usage.window
        self.between = _between(self.window)  # formatted once: it ends every per-action message
        self._observable = frozenset(
            a for a in catalog.all_actions if catalog.is_observable(a, data.data_events)
        )
        self._levels: dict[str, str | None] = {}
        self._prefixes: dict[tuple[str, str, str], Any] = {}

    # ------------------------------------------------------------ helpers

    def access_level(self, action: str) -> str | None:
        try:
            return self._levels[action]
        except KeyError:
            info = self.catalog.info(action)
            level = self._levels[action] = info.access_level if info else None
            return level

    def principal_passes(self, rule: RuleSpec, principal: Principal) -> bool:
        filters = rule.filters
        if principal.is_service_linked and not filters.include_service_linked:
            return False
        if filters.principal_types and principal.type not in filters.principal_types:
            return False
        return not filters.principals or any(matches(p, principal.arn) for p in filters.principals)

    def action_passes(self, rule: RuleSpec, action: str) -> bool:
        filters = rule.filters
        if filters.actions and not any(matches(p, action) for p in filters.actions):
            return False
        return not filters.access_levels or self.access_level(action) in filters.access_levels

    def finding(
        self,
        rule: RuleSpec,
        account: Inventory,
        principal: Principal,
        message: str,
        action: str | None = None,
        role: str | None = None,
        properties: Mapping[str, object] | None = None,
    ) -> Finding:
        return new_finding(
            rule.id,
            rule.level,
            account.account_id,
            account.account_name,
            principal.arn,
            principal.type,
            action,
            role,
            message,
            self.fingerprint(account.account_id, principal.arn, rule.id, action, role),
            self.access_level(action) if action else None,
            self.locate(principal, action),
            None,
            None,  # suppressed_reason and baseline are set by later stages
            properties if properties is not None else EMPTY_MAPPING,
        )

    def _prefix(self, account: str, principal: str, rule: str) -> Any:
        """The hash state after `account|principal|rule|`: millions of findings share few prefixes."""
        key = (account, principal, rule)
        prefix = self._prefixes.get(key)
        if prefix is None:
            prefix = self._prefixes[key] = hashlib.sha256("|".join((*key, "")).encode("utf-8"))
        return prefix

    def fingerprint(
        self, account: str, principal: str, rule: str, action: str | None, role: str | None
    ) -> str:
        """`fingerprint()`, continuing from the shared prefix."""
        digest = self._prefix(account, principal, rule).copy()
        digest.update(f"{action or ''}|{role or ''}".encode())
        return digest.hexdigest()[:32]

    def used_actions(self, principal: Principal) -> Mapping:
        usage = self.data.usage.principals.get(principal.arn)
        return usage.actions if usage else {}

    # ------------------------------------------------------------ rule kinds

    def granted_unused(self, rule, account, principal, grants) -> list[Finding]:
        if not self.principal_passes(rule, principal):
            return []
        certain = grants.actions - grants.conditional if grants.conditional else grants.actions
        actions = sorted((certain & self._observable) - self.used_actions(principal).keys())
        label = f"{principal.name} ({principal.type})"
        return self.per_action(
            rule,
            account,
            principal,
            actions,
            (f"{label} is granted ", f" but did not use it {self.between}."),
            _GRANTED,
        )

    def granted_unused_conditional(self, rule, account, principal, grants) -> list[Finding]:
        """granted-unused for actions granted only under conditions ctlint cannot decide."""
        if not grants.conditional or not self.principal_passes(rule, principal):
            return []
        actions = sorted((grants.conditional & self._observable) - self.used_actions(principal).keys())
        label = f"{principal.name} ({principal.type})"
        return self.per_action(
            rule,
            account,
            principal,
            actions,
            (
                f"{label} is granted ",
                f" under conditions ctlint cannot decide but did not use it {self.between}.",
            ),
            _CONDITIONAL,
        )

    def granted_unknown(self, rule, account, principal, grants) -> list[Finding]:
        if not self.principal_passes(rule, principal):
            return []
        actions = grants.actions - self._observable - self.used_actions(principal).keys()
        label = f"{principal.name} ({principal.type})"
        message = (
            f"{label} is granted ",
            ", whose use CloudTrail does not record with the configured trail, "
            "so ctlint cannot tell whether it is used.",
        )
        certain = actions - grants.conditional if grants.conditional else actions
        found = self.per_action(rule, account, principal, sorted(certain), message, _GRANTED)
        if grants.conditional:
            conditional = sorted(actions & grants.conditional)
            found += self.per_action(rule, account, principal, conditional, message, _CONDITIONAL)
        return found

    def per_action(
        self,
        rule,
        account,
        principal,
        actions,
        message: tuple[str, str],
        properties: Mapping[str, object] = EMPTY_MAPPING,
    ) -> list[Finding]:
        """`finding()` for each action (message: the text before and after it), with the per-principal work
        done once: these two rules make nearly all findings of a run with `*` grants (millions), so this
        is a plain loop over locals, not a generator."""
        prefix = self._prefix(account.account_id, principal.arn, rule.id)
        rule_id, level, account_id, account_name = (
            rule.id,
            rule.level,
            account.account_id,
            account.account_name,
        )
        arn, kind = principal.arn, principal.type
        locate, access_level, passes, construct = (
            self.locate,
            self.access_level,
            self.action_passes,
            new_finding,
        )
        filtered = bool(rule.filters.actions or rule.filters.access_levels)
        before, after = message
        found = []
        add = found.append
        for action in actions:
            if filtered and not passes(rule, action):
                continue
            digest = prefix.copy()
            digest.update(f"{action}|".encode())
            add(
                construct(
                    rule_id,
                    level,
                    account_id,
                    account_name,
                    arn,
                    kind,
                    action,
                    None,
                    before + action + after,
                    digest.hexdigest()[:32],
                    access_level(action),
                    locate(principal, action),
                    None,
                    None,
                    properties,
                )
            )
        return found

    def used_not_granted(self, rule, account, principal, grants) -> Iterator[Finding]:
        if not self.principal_passes(rule, principal):
            return
        label = f"{principal.name} ({principal.type})"
        for action, use in sorted(self.used_actions(principal).items()):
            if action not in grants.actions and self.action_passes(rule, action):
                yield self.finding(
                    rule,
                    account,
                    principal,
                    f"{label} used {action} {use.count} time(s), last on {_day(use.last_seen)}, "
                    "but its policies do not grant it.",
                    action,
                    properties={"count": use.count, "last_seen": use.last_seen.isoformat()},
                )

    def unused_actor(self, rule, account, principal, grants) -> Iterator[Finding]:
        if self.principal_passes(rule, principal):
            yield self.finding(
                rule,
                account,
                principal,
                f"{principal.name} ({principal.type}) made no recorded call {self.between}.",
            )

    def unknown_action(self, rule, account, principal, grants) -> Iterator[Finding]:
        for pattern in sorted(set(grants.unknown_patterns)):
            if self.principal_passes(rule, principal):
                yield self.finding(
                    rule,
                    account,
                    principal,
                    f"{principal.name} ({principal.type}) has a policy that allows {pattern}, "
                    "which matches no IAM action.",
                    pattern,
                )

    def unused_assume_role(self, rule, account, principal, grants, roles, assumed) -> Iterator[Finding]:
        if not grants.assume_role_resources or not self.principal_passes(rule, principal):
            return
        for role in roles:
            if role.arn == principal.arn or role.is_service_linked:
                continue
            if (principal.arn, role.arn) in assumed:
                continue
            if may_assume(grants, role.arn) and trust_admits(role, principal.arn):
                yield self.finding(
                    rule,
                    account,
                    principal,
                    f"{principal.name} ({principal.type}) may assume role {role.name} "
                    f"but did not {self.between}.",
                    role=role.arn,
                )

    # ------------------------------------------------------------ driver

    def run(self) -> list[Finding]:
        roles = [p for state in self.data.accounts for p in state.inventory.principals if p.type == "role"]
        # Assumption rows reach back before the window (sessions that started earlier); only count those
        # inside it, or whose session acted inside it.
        assumed = {
            (row.source_arn, row.role_arn)
            for row in self.data.usage.assumptions
            if row.last_seen >= self.window.start
        } | {(row.source_arn, row.role_arn) for row in self.data.usage.sessions}
        enabled = [rule for rule in self.data.rules if rule.enabled]
        actor_rule_on = any(rule.kind == "unused-actor" for rule in enabled)
        findings: list[Finding] = []
        for state in self.data.accounts:
            inventory = state.inventory
            for principal in inventory.principals:
                grants = state.grants[principal.arn]
                active = is_active(principal, self.data.active, self.window)
                for rule in enabled:
                    kind = rule.kind
                    if kind == "unused-actor":
                        if not active:
                            findings.extend(self.unused_actor(rule, inventory, principal, grants))
                    elif kind == "unknown-action":
                        findings.extend(self.unknown_action(rule, inventory, principal, grants))
                    elif kind == "unused-assume-role":
                        findings.extend(
                            self.unused_assume_role(rule, inventory, principal, grants, roles, assumed)
                        )
                    elif kind == "used-not-granted":
                        findings.extend(self.used_not_granted(rule, inventory, principal, grants))
                    elif kind in ("granted-unused", "granted-unknown", "granted-unused-conditional"):
                        # An inactive principal gets one unused-actor finding, not one per action.
                        if not active and actor_rule_on:
                            continue
                        method = self.granted_unused if kind == "granted-unused" else self.granted_unknown
                        if kind == "granted-unused-conditional":
                            method = self.granted_unused_conditional
                        findings.extend(method(rule, inventory, principal, grants))
        # Each rule yields one finding per (principal, action or role): no duplicates to remove.
        return sorted(findings, key=Finding.sort_key)


def evaluate(data: EvaluationInput, catalog: ActionCatalog, locate: Locator | None = None) -> list[Finding]:
    """Evaluate every enabled rule over every principal; returns findings sorted and de-duplicated."""
    with cyclic_gc_paused():  # findings can number millions
        return _Evaluator(data, catalog, locate or (lambda principal, _action: principal.location)).run()
