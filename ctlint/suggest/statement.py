"""Right-size one statement: the pure function `ctlint suggest` builds on, and IaC patches can call.

`rightsize_statement(statement, used, universe)` keeps, of the actions one Allow statement names, those
in `used`, each on the resources it was used on where the statement covers them (else the statement's
own patterns that overlap them), or on the statement's patterns that matter for the action when no
resource is known; actions that take only `*` keep `*`. The Condition block is carried over, so what
it guarded stays guarded. The result is never broader than the statement. Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from ctlint.model import Statement
from ctlint.policy import ActionUniverse, statement_actions
from ctlint.suggest.actions import compress_actions
from ctlint.suggest.resources import (
    STAR,
    covers,
    grants_somewhere,
    is_policy_resource,
    of_type,
    overlapping,
    relevant,
    within_type,
)

Condition = tuple[tuple[str, str, tuple[str, ...]], ...]


@dataclass(frozen=True)
class SuggestedStatement:
    """One statement of a suggested document (Sid set when the principal's documents are assembled)."""

    effect: str
    actions: tuple[str, ...] = ()  # patterns (canonical names, or wildcards naming only wanted actions)
    not_actions: tuple[str, ...] | None = None  # a carried-over Deny's NotAction, verbatim
    resources: tuple[str, ...] = (STAR,)
    not_resources: tuple[str, ...] | None = None
    conditions: Condition = ()
    sid: str | None = None
    purpose: str = "used"  # used | allowlisted | unobservable | deny
    names: frozenset[str] = field(default=frozenset(), compare=False)  # the canonical actions it allows
    origin: str = field(default="", compare=False)  # StatementRef.label() of the statement it comes from

    def to_json(self) -> dict[str, object]:
        """The statement in IAM's JSON grammar (single values stay lists: both are valid)."""
        out: dict[str, object] = {}
        if self.sid:
            out["Sid"] = self.sid
        out["Effect"] = self.effect
        if self.not_actions is not None:
            out["NotAction"] = list(self.not_actions)
        else:
            out["Action"] = list(self.actions)
        if self.not_resources is not None:
            out["NotResource"] = list(self.not_resources)
        else:
            out["Resource"] = list(self.resources)
        if self.conditions:
            out["Condition"] = condition_block(self.conditions)
        return out


def condition_block(conditions: Condition) -> dict[str, dict[str, list[str]]]:
    """The parsed Condition tests as IAM's `{operator: {key: [values]}}`, in document order."""
    block: dict[str, dict[str, list[str]]] = {}
    for operator, key, values in conditions:
        block.setdefault(operator, {})[key] = list(values)
    return block


@dataclass(frozen=True)
class RightSized:
    statements: tuple[SuggestedStatement, ...]
    placed: frozenset[str]  # actions of `used` the statements allow
    unplaced: frozenset[str]  # actions of `used` the statement names but cannot keep (see `reason`)
    reason: str | None = None  # why nothing could be kept, when that is the statement's fault


def condition_unreadable(stmt: Statement) -> bool:
    """The statement has a Condition ctlint did not parse (an IaC value it could not read offline)."""
    return stmt.has_condition and not stmt.conditions


def is_stand_in(pattern: str) -> bool:
    """Not an ARN pattern: the IaC reader's stand-in for a value it could not resolve offline (the JSON
    text of `!GetAtt Table.Arn`); IAM accepts only ARNs and wildcards, so it cannot go into a document."""
    return not pattern.startswith("arn:") and pattern[:1] not in ("*", "?")


def formats_of(universe: ActionUniverse, action: str) -> tuple[str, ...]:
    resource_types = getattr(universe, "resource_types", None)
    if resource_types is None:
        return ()
    return tuple(sorted({t.arn_format for t in resource_types(action)}))


def _resources_for(
    stmt: Statement, action: str, used_on: frozenset[str], universe: ActionUniverse, partition: str
) -> tuple[tuple[str, ...], bool] | None:
    """(patterns, is NotResource) to keep for `action`, or None when the statement grants it nowhere.

    Narrowed one resource type at a time: a type the used resources belong to is cut to them (those the
    statement covers; else the statement's patterns that overlap them); a type they never show keeps the
    statement's patterns for that type. The catalog does not say which types one request needs (an
    `ec2:RunInstances` call is authorised on an image, a subnet, ... as well as the instance), so an
    unseen type is never dropped."""
    formats = formats_of(universe, action)
    if not grants_somewhere(stmt, formats, partition):
        return None
    if not formats:
        return (STAR,), False
    # A resource of none of the action's types tells nothing about what it needs: ignored.
    typed = {
        arn: types
        for arn in sorted(r for r in used_on if is_policy_resource(r))
        if (types := [f for f in formats if of_type(arn, f, partition)])
    }
    if not typed:
        if stmt.not_resources is not None:
            return tuple(stmt.not_resources), True
        return relevant(stmt, formats, partition) or tuple(stmt.resources), False
    kept: list[str] = []
    seen_types: set[str] = set()
    for arn, types in typed.items():
        seen_types.update(types)
        if covers(stmt, arn, formats, partition):
            kept.append(arn)
        else:
            kept.extend(overlapping(stmt, arn, formats, partition))
    if not kept:
        return None
    for arn_format in formats:
        if arn_format not in seen_types:
            kept.extend(within_type(stmt, arn_format, partition) if stmt.not_resources is None else ())
    if stmt.not_resources is not None and len(seen_types) < len(formats):
        return tuple(stmt.not_resources), True  # an unseen type keeps the NotResource whole
    return tuple(sorted(dict.fromkeys(kept))), False


def rightsize_statement(
    statement: Statement,
    used: Mapping[str, frozenset[str]],
    universe: ActionUniverse,
    *,
    partition: str = "aws",
    purpose: str = "used",
) -> RightSized:
    """Right-size one Allow statement to `used` (canonical action -> resource ARNs or ARN patterns it was
    used on; an empty set: used, resource unknown). Actions of `used` the statement does not name are
    ignored; those it names but grants on none of their resources, or on none of the used ones, come
    back in `unplaced`. Resources that are not printable ARNs are ignored (the statement's patterns
    stand in for them)."""
    if statement.effect != "Allow":
        raise ValueError("rightsize_statement takes an Allow statement")
    named = statement_actions(statement, universe) & used.keys()
    if condition_unreadable(statement):
        return RightSized((), frozenset(), frozenset(named), "its Condition could not be read")
    unresolved = [p for p in (*statement.resources, *(statement.not_resources or ())) if is_stand_in(p)]
    if unresolved and named:
        return RightSized(
            (), frozenset(), frozenset(named), f"its resource {unresolved[0]} is only known at deployment"
        )
    groups: dict[tuple[tuple[str, ...], bool], set[str]] = {}
    unplaced: set[str] = set()
    for action in named:
        where = _resources_for(statement, action, used[action], universe, partition)
        if where is None:
            unplaced.add(action)
        else:
            groups.setdefault(where, set()).add(action)
    statements = []
    for (patterns, negated), actions in sorted(groups.items(), key=lambda kv: (min(kv[1]), kv[0])):
        statements.append(
            SuggestedStatement(
                effect="Allow",
                actions=compress_actions(actions, universe),
                resources=() if negated else patterns,
                not_resources=patterns if negated else None,
                conditions=statement.conditions,
                purpose=purpose,
                names=frozenset(actions),
            )
        )
    placed = frozenset(named - unplaced)
    return RightSized(tuple(statements), placed, frozenset(unplaced))
