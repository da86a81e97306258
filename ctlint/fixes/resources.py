"""The Resource list a patch writes: narrowed to what usage names, or left as written with one sentence.

Only `ctlint fix` asks the engine for resources; `check` passes none, and its patches stay Action-only.
A statement is narrowed when its one principal's usage names resources for every action the new Action
list keeps, and `ctlint.suggest.statement.rightsize_statement` puts all those actions into one statement
on one Resource list that differs from today's (never broader: that is the right-sizer's promise). A
statement several principals hold is left as written: narrowing it to the union of their resources needs
every holder's usage, and one holder whose usage is not seen (or not known by resource) would lose access.
Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from ctlint.fixes.rewrite import Expand
from ctlint.model import Statement
from ctlint.policy import ActionUniverse
from ctlint.suggest.resources import is_policy_resource
from ctlint.suggest.statement import formats_of, rightsize_statement

UsedResources = Mapping[str, Mapping[str, frozenset[str]]]  # principal ARN -> action -> resource ARNs


@dataclass(frozen=True)
class ResourceChoice:
    resources: tuple[str, ...] | None  # the new Resource list; None: left as written
    note: str | None = None  # why it is left as written (None when narrowed, or not asked)


def narrow_resources(
    statement: Statement,
    actions: Sequence[str],
    principals: Sequence[str],
    used: UsedResources | None,
    universe: ActionUniverse,
    expand: Expand,
) -> ResourceChoice:
    """The Resource list for `statement` once its Action list is `actions` (the rewrite's), for the
    principals that hold it; `used` is None when resources were not collected (nothing to say then)."""
    kept = frozenset().union(*(expand(p) for p in actions)) if actions else frozenset()
    if used is None or not kept:
        return ResourceChoice(None)
    if statement.not_resources is not None:
        return _kept("the statement uses NotResource, which ctlint does not narrow")
    if len(principals) != 1:
        return _kept("the statement grants to several principals; see ctlint suggest for each")
    by_action = used.get(principals[0], {})
    # An action that takes only `*` needs no resource from usage (the right-sizer keeps `*` for it).
    unknown = sorted(
        a
        for a in kept
        if formats_of(universe, a) and not any(is_policy_resource(r) for r in by_action.get(a, ()))
    )
    if unknown:
        more = f" and {len(unknown) - 1} more action(s)" if len(unknown) > 1 else ""
        return _kept(f"usage names no resource for {unknown[0]}{more}")
    sized = rightsize_statement(statement, {a: by_action.get(a, frozenset()) for a in kept}, universe)
    if sized.reason:
        return _kept(sized.reason)
    if sized.unplaced:
        return _kept(f"the statement grants {min(sized.unplaced)} on none of the resources it was used on")
    if len(sized.statements) != 1 or sized.statements[0].names != kept:
        return _kept("resources differ per action; see ctlint suggest")
    narrowed = sized.statements[0]
    if narrowed.not_resources is not None:
        return _kept("the statement uses NotResource, which ctlint does not narrow")
    if set(narrowed.resources) == set(statement.resources):
        return _kept("the actions kept need every resource it names")
    return ResourceChoice(tuple(narrowed.resources))


def _kept(reason: str) -> ResourceChoice:
    return ResourceChoice(None, f"Resource left as written: {reason}.")
