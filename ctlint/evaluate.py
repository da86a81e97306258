"""The rules engine: grants and usage in, findings out. Pure: no I/O, no clock, no engine knowledge."""

from __future__ import annotations

import hashlib
import heapq
from collections.abc import Callable, Collection, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from itertools import groupby, pairwise
from operator import itemgetter
from typing import Any, Protocol

from ctlint.gcpause import cyclic_gc_paused
from ctlint.model import (
    EMPTY_MAPPING,
    Finding,
    FindingRun,
    FindingRuns,
    Grants,
    Inventory,
    Principal,
    RuleSpec,
    SourceLocation,
    Usage,
    Window,
    new_finding,
)
from ctlint.observability import Visibility
from ctlint.rulekinds import KINDS
from ctlint.wildcard import matches


class ActionCatalog(Protocol):
    all_actions: frozenset[str]

    def info(self, action: str): ...  # -> ActionInfo | None

    def is_observable(self, action: str, data_events: Collection[str]) -> bool: ...


Locator = Callable[[Principal, str | None], SourceLocation | None]

# Which policy verdict a per-action grant finding rests on (ctlint.policy): shared, read-only.


@dataclass(frozen=True)
class AccountState:
    inventory: Inventory  # the proposed state: the snapshot with the IaC's principals in place of its own
    grants: Mapping[str, Grants]  # by principal ARN
    # With IaC: the deployed snapshot's grants (for the pull-request rules) and the IaC principals whose
    # names are only known at deployment: (resource address, location, "user" | "role").
    deployed_grants: Mapping[str, Grants] | None = None
    unlinked: tuple[tuple[str, SourceLocation, str], ...] = ()
    # IaC grants that cannot be evaluated offline: (what, where it is written).
    unresolved: tuple[tuple[str, SourceLocation], ...] = ()


@dataclass(frozen=True)
class EvaluationInput:
    accounts: tuple[AccountState, ...]
    usage: Usage
    active: frozenset[str]  # principal ARNs with any counted CloudTrail activity in the window
    rules: tuple[RuleSpec, ...]
    data_events: frozenset[str] = frozenset()
    # The observability verdicts for the configured trail (ctlint.observability.visibility); None: decide
    # from `data_events` alone, as before trail scopes existed.
    visibility: Visibility | None = None


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


class RuleContext:
    """What every rule check reads: the input, the catalog, the window, and finding constructors."""

    def __init__(self, data: EvaluationInput, catalog: ActionCatalog, locate: Locator) -> None:
        self.data = data
        self.catalog = catalog
        self.locate = locate
        self.window = data.usage.window
        self.between = _between(self.window)  # formatted once: it ends every per-action message
        if data.visibility is None:
            self.observable = frozenset(
                a for a in catalog.all_actions if catalog.is_observable(a, data.data_events)
            )
        else:
            self.observable = data.visibility.observable
        # Actions the trail records for some uses only (action -> what it watches), and actions no
        # policy controls (sts:GetCallerIdentity): neither is ever called unused or missing.
        self.partial: Mapping[str, str] = data.visibility.partial if data.visibility else EMPTY_MAPPING
        self.uncontrolled: frozenset[str] = data.visibility.uncontrolled if data.visibility else frozenset()
        self._levels: dict[str | None, str | None] = {}
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

    def per_action(
        self,
        rule,
        account,
        principal,
        actions,
        message: tuple[str, str],
        properties: Mapping[str, object] = EMPTY_MAPPING,
    ) -> list[FindingRun]:
        """The findings of `actions` (sorted; message: the text before and after the action) as one run, or
        one run per stretch of actions with the same location where the locator varies (IaC). These two
        rules make nearly all findings of a run with `*` grants (millions): per action, this is only the
        filter and the access level."""
        if rule.filters.actions or rule.filters.access_levels:
            actions = [action for action in actions if self.action_passes(rule, action)]
        if not actions:
            return []
        access_level, levels = self.access_level, self._levels
        for action in actions:
            if action not in levels:
                access_level(action)
        # One location for all of a principal's actions unless its locator says otherwise (IaC).
        fixed = principal_location(self.locate, principal)
        run = FindingRun(
            rule.id,
            rule.level,
            account.account_id,
            account.account_name,
            principal.arn,
            principal.type,
            None,
            tuple(actions),
            message[0],
            message[1],
            None if fixed is VARIES else fixed,  # type: ignore[arg-type]  # a location once VARIES is out
            access_levels=levels,
            properties=properties,
            prefix=self._prefix(account.account_id, principal.arn, rule.id),
        )
        if fixed is not VARIES:
            return [run]
        return [
            run.with_actions(tuple(stretch), location=where)
            for where, stretch in groupby(actions, key=lambda action: self.locate(principal, action))
        ]

    @cached_property
    def roles(self) -> tuple[Principal, ...]:
        """Every role of every account: the targets unused-assume-role considers."""
        return tuple(
            p for state in self.data.accounts for p in state.inventory.principals if p.type == "role"
        )

    @cached_property
    def assumed(self) -> frozenset[tuple[str, str]]:
        """(source, role) pairs seen in the window. Assumption rows reach back before the window (sessions
        that started earlier); only those inside it count, or those whose session acted inside it."""
        usage = self.data.usage
        return frozenset(
            {
                (row.source_arn, row.role_arn)
                for row in usage.assumptions
                if row.last_seen >= self.window.start
            }
            | {(row.source_arn, row.role_arn) for row in usage.sessions}
        )

    def subject_passes(self, rule: RuleSpec, arn: str, kind: str) -> bool:
        """The principal filters, for a subject that is not a Principal (e.g. an IaC resource address)."""
        filters = rule.filters
        if filters.principal_types and kind not in filters.principal_types:
            return False
        return not filters.principals or any(matches(p, arn) for p in filters.principals)

    def subject_finding(
        self,
        rule: RuleSpec,
        account: Inventory,
        arn: str,
        kind: str,
        message: str,
        location: SourceLocation | None,
        detail: str | None = None,
    ) -> Finding:
        """A finding about something that is not a Principal; `detail` joins its identity (fingerprint)
        where one subject can have several findings of the rule."""
        return new_finding(
            rule.id, rule.level, account.account_id, account.account_name, arn, kind, None, None, message,
            self.fingerprint(account.account_id, arn, rule.id, detail, None),
            None, location, None, None, EMPTY_MAPPING,
        )  # fmt: skip

    # ------------------------------------------------------------ driver

    def run(self) -> FindingRuns:
        enabled = [(rule, KINDS[rule.kind]) for rule in self.data.rules if rule.enabled]
        per_principal = [(rule, kind) for rule, kind in enabled if kind.scope == "principal"]
        per_account = [(rule, kind) for rule, kind in enabled if kind.scope == "account"]
        actor_rule_on = any(kind.activity == "inactive" for _rule, kind in enabled)
        findings: list[Finding | FindingRun] = []
        for state in self.data.accounts:
            for rule, kind in per_account:
                findings.extend(kind.check(self, rule, state))  # type: ignore[call-arg]
            for principal in state.inventory.principals:
                grants = state.grants[principal.arn]
                active = is_active(principal, self.data.active, self.window)
                for rule, kind in per_principal:
                    if kind.activity == "inactive" and active:
                        continue
                    if kind.activity == "active" and not active and actor_rule_on:
                        continue  # an inactive principal gets one unused-actor finding, not one per action
                    findings.extend(kind.check(self, rule, state, principal, grants))  # type: ignore[call-arg]
        # Each rule yields one finding per (principal, action or role): no duplicates to remove.
        runs = [item if isinstance(item, FindingRun) else FindingRun.of(item) for item in findings]
        return FindingRuns(in_finding_order(runs))


def in_finding_order(runs: list[FindingRun]) -> Iterator[FindingRun]:
    """`runs` (in the order they were made) sorted so that their findings come in `Finding.sort_key`
    order, ties in the order made, as a stable sort of the findings would put them: runs of one principal
    and rule that interleave or tie (granted-unknown makes a run per verdict and scope) are cut."""
    order = sorted(range(len(runs)), key=lambda index: runs[index].sort_key())
    for _who, same in groupby(order, key=lambda index: runs[index].sort_key()[:3]):
        bucket = list(same)  # one account, principal and rule
        if any(runs[a].last_key() >= runs[b].sort_key()[3:] for a, b in pairwise(bucket)):
            yield from _interleaved(runs, bucket)
        else:
            yield from (runs[index] for index in bucket)


def _interleaved(runs: list[FindingRun], bucket: list[int]) -> Iterator[FindingRun]:
    """The findings of the runs at `bucket` in action order, ties in the order made (a stable merge), as
    stretches of one run each."""
    streams = [
        [((action or "", runs[index].role or ""), index, action) for action in runs[index].actions]
        for index in bucket
    ]
    for index, items in groupby(heapq.merge(*streams), key=itemgetter(1)):
        run = runs[index]
        yield run.with_actions(tuple(action for _key, _index, action in items))


def evaluate(data: EvaluationInput, catalog: ActionCatalog, locate: Locator | None = None) -> FindingRuns:
    """Evaluate every enabled rule over every principal; returns findings sorted and de-duplicated, held as
    runs (a sequence of `Finding`s built on demand)."""
    with cyclic_gc_paused():  # findings can number millions
        return RuleContext(data, catalog, locate or default_locator).run()


VARIES = object()  # principal_location(): the location depends on the action


def principal_location(locate: Locator, principal: Principal) -> object:
    """The one location `locate` gives every action of `principal`, or VARIES. A locator that knows this
    declares `for_principal(principal)` (returning VARIES where it cannot say); any other varies."""
    for_principal = getattr(locate, "for_principal", None)
    return VARIES if for_principal is None else for_principal(principal)


def default_locator(principal: Principal, _action: str | None) -> SourceLocation | None:
    return principal.location


default_locator.for_principal = lambda principal: principal.location  # type: ignore[attr-defined]
