"""Which statements grant each of a principal's effective actions. Pure: values in, values out.

Evaluation (ctlint.policy) says *what* a principal may do; attribution says *where* that comes from, so
that findings can be reported at the statement a person edits. The interface to evaluation is narrow on
purpose: a function naming the actions of one Allow statement, and the principal's effective actions
(after Deny statements and the permissions boundary). A statement grants the intersection of the two;
a resource-aware engine can plug in its own `named_by` without changing anything here.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from ctlint.callerpolicy import never_applies
from ctlint.model import EMPTY_MAPPING, Principal, SourceLocation, Statement, StatementRef

NamedBy = Callable[[Statement], frozenset[str]]


@dataclass(frozen=True)
class StatementGrant:
    statement: StatementRef
    actions: frozenset[str]  # the principal's effective actions this statement grants


@dataclass(frozen=True)
class Attribution:
    """The Allow statements that grant at least one effective action of one principal, in policy order."""

    principal: str
    grants: tuple[StatementGrant, ...]
    # Actions granted by more than one statement -> every statement granting it (others are implied).
    shared: Mapping[str, tuple[StatementRef, ...]] = field(default_factory=lambda: EMPTY_MAPPING)

    def statements_of(self, action: str) -> tuple[StatementRef, ...]:
        shared = self.shared.get(action)
        if shared is not None:
            return shared
        return tuple(g.statement for g in self.grants if action in g.actions)


def attribute(principal: Principal, effective: frozenset[str], named_by: NamedBy) -> Attribution:
    """Attribute `effective` (the principal's granted actions) to its identity-policy Allow statements.

    A policy reached twice the same way (same name, kind and group) counts once; the same managed policy
    attached directly and through a group is two attachments, so two statements to fix.
    """
    grants: list[StatementGrant] = []
    seen: set[tuple[str, str, str | None]] = set()
    for doc in principal.policies:
        key = (doc.name, doc.kind, doc.via_group)
        if key in seen:
            continue
        seen.add(key)
        ruled_out = never_applies(principal, doc)  # a test on this caller fails (ctlint.callerpolicy)
        for index, stmt in enumerate(doc.statements, start=1):
            if stmt.effect != "Allow" or index in ruled_out:
                continue
            actions = named_by(stmt)
            granted = actions if actions <= effective else actions & effective
            if not granted:
                continue
            # AWS managed policies in IaC have no statement location: grouping falls back to where the
            # evaluator located the findings (the attachment).
            where: SourceLocation | None = stmt.location
            ref = StatementRef(
                policy=doc.name,
                policy_kind=doc.kind,
                index=index,
                sid=stmt.sid,
                via_group=doc.via_group,
                location=where,
            )
            grants.append(StatementGrant(ref, frozenset(granted)))
    return Attribution(principal.arn, tuple(grants), _shared(grants))


def _shared(grants: list[StatementGrant]) -> Mapping[str, tuple[StatementRef, ...]]:
    if len(grants) < 2:
        return EMPTY_MAPPING
    owners: dict[str, list[StatementRef]] = {}
    covered: set[str] = set()
    for grant in grants:
        overlap = covered & grant.actions if covered else set()
        for action in overlap:
            owners.setdefault(action, [])
        covered |= grant.actions
    if not owners:
        return EMPTY_MAPPING
    for grant in grants:
        for action in grant.actions & owners.keys():
            owners[action].append(grant.statement)
    return {action: tuple(refs) for action, refs in owners.items()}
