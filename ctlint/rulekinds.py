"""The rule kinds: what each kind of rule checks, in one registry.

A rule file under `rules/` names a kind; this registry says what the kind does (its check), where it
runs (once per principal, or once per account), its default level and a line of docs. The rule files,
the evaluator (`ctlint.evaluate`), the IaC rules and the generated rule docs all read this one table,
so adding a kind means adding one check here and one YAML file under `rules/`.

Checks are pure: they read the values of `RuleContext` and return findings built by `ctx.finding` or
`ctx.per_action` (runs of findings), so ids, levels, filters and fingerprints behave the same for every kind.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import TYPE_CHECKING, Literal

from ctlint.model import Finding, FindingRun, Grants, Level, Principal, RuleSpec
from ctlint.policy import may_assume, trust_admits

if TYPE_CHECKING:  # the evaluator imports this registry; the context is only a type here
    from ctlint.evaluate import AccountState, RuleContext

# A check returns findings, or runs of them (`ctx.per_action`: one run per principal for many actions).
PrincipalCheck = Callable[
    ["RuleContext", RuleSpec, "AccountState", Principal, Grants], Iterable[Finding | FindingRun]
]
AccountCheck = Callable[["RuleContext", RuleSpec, "AccountState"], Iterable[Finding | FindingRun]]


@dataclass(frozen=True)
class RuleKind:
    name: str
    summary: str  # one line for the generated docs
    default_level: Level  # a rule file may leave `level` out
    # "principal": the check runs for every principal of every account; "account": once per account.
    scope: Literal["principal", "account"]
    check: PrincipalCheck | AccountCheck
    # Activity: "any" runs for every principal; "inactive" only for principals with no activity in the
    # window; "active" skips inactive principals when an unused-actor rule is on (one finding, not one
    # per action, for a principal that did nothing).
    activity: Literal["any", "inactive", "active"] = "any"


# ---------------------------------------------------------------- per-principal checks

# Which verdict a per-action finding rests on (ctlint.policy): shared, read-only finding properties.
_GRANTED: Mapping[str, object] = MappingProxyType({"verdict": "granted"})
_CONDITIONAL: Mapping[str, object] = MappingProxyType({"verdict": "conditional"})


def _by_verdict(
    actions: Sequence[str], conditional: frozenset[str]
) -> Iterator[tuple[list[str], Mapping[str, object]]]:
    """The actions granted for certain, then those granted only under conditions ctlint cannot decide."""
    certain = [a for a in actions if a not in conditional] if conditional else list(actions)
    if certain:
        yield certain, _GRANTED
    if conditional:
        maybe = [a for a in actions if a in conditional]
        if maybe:
            yield maybe, _CONDITIONAL


def _label(principal: Principal) -> str:
    return f"{principal.name} ({principal.type})"


def granted_unused(
    ctx: RuleContext, rule: RuleSpec, state: AccountState, principal: Principal, grants: Grants
):
    if not ctx.principal_passes(rule, principal):
        return []
    certain = grants.actions - grants.conditional if grants.conditional else grants.actions
    actions = sorted((certain & ctx.observable) - ctx.used_actions(principal).keys())
    message = (f"{_label(principal)} is granted ", f" but did not use it {ctx.between}.")
    return ctx.per_action(rule, state.inventory, principal, actions, message, _GRANTED)


def granted_unused_conditional(
    ctx: RuleContext, rule: RuleSpec, state: AccountState, principal: Principal, grants: Grants
):
    """granted-unused for actions granted only under conditions ctlint cannot decide."""
    if not grants.conditional or not ctx.principal_passes(rule, principal):
        return []
    actions = sorted((grants.conditional & ctx.observable) - ctx.used_actions(principal).keys())
    message = (
        f"{_label(principal)} is granted ",
        f" under conditions ctlint cannot decide but did not use it {ctx.between}.",
    )
    return ctx.per_action(rule, state.inventory, principal, actions, message, _CONDITIONAL)


def granted_unknown(
    ctx: RuleContext, rule: RuleSpec, state: AccountState, principal: Principal, grants: Grants
):
    if not ctx.principal_passes(rule, principal):
        return []
    actions = sorted(grants.actions - ctx.observable - ctx.uncontrolled - ctx.used_actions(principal).keys())
    label = _label(principal)
    unrecorded = (
        f"{label} is granted ",
        ", whose use CloudTrail does not record with the configured trail, "
        "so ctlint cannot tell whether it is used.",
    )
    found: list[FindingRun] = []
    for group, verdict in _by_verdict([a for a in actions if a not in ctx.partial], grants.conditional):
        found.extend(ctx.per_action(rule, state.inventory, principal, group, unrecorded, verdict))
    # Actions the trail records only for some uses: the log alone cannot prove them unused, so say what
    # was watched; one per_action call per distinct scope, not per action.
    by_scope: dict[str, list[str]] = {}
    for action in actions:
        if action in ctx.partial:
            by_scope.setdefault(ctx.partial[action], []).append(action)
    for scope, group in by_scope.items():
        message = (
            f"{label} is granted ",
            f", whose use the configured trail records only {scope}; it was not used there "
            f"{ctx.between}, but ctlint cannot tell whether it is used elsewhere.",
        )
        for part, verdict in _by_verdict(group, grants.conditional):
            found.extend(ctx.per_action(rule, state.inventory, principal, part, message, verdict))
    return found


def used_not_granted(
    ctx: RuleContext, rule: RuleSpec, state: AccountState, principal: Principal, grants: Grants
) -> Iterator[Finding]:
    if not ctx.principal_passes(rule, principal):
        return
    for action, use in sorted(ctx.used_actions(principal).items()):
        if action in ctx.uncontrolled:
            continue  # needs no permission, and no policy can deny it
        if action not in grants.actions and ctx.action_passes(rule, action):
            yield ctx.finding(
                rule,
                state.inventory,
                principal,
                f"{_label(principal)} used {action} {use.count} time(s), last on {use.last_seen:%Y-%m-%d}, "
                "but its policies do not grant it.",
                action,
                properties={"count": use.count, "last_seen": use.last_seen.isoformat()},
            )


def unused_actor(
    ctx: RuleContext, rule: RuleSpec, state: AccountState, principal: Principal, grants: Grants
) -> Iterator[Finding]:
    if ctx.principal_passes(rule, principal):
        yield ctx.finding(
            rule, state.inventory, principal, f"{_label(principal)} made no recorded call {ctx.between}."
        )


def unknown_action(
    ctx: RuleContext, rule: RuleSpec, state: AccountState, principal: Principal, grants: Grants
) -> Iterator[Finding]:
    if not ctx.principal_passes(rule, principal):
        return
    for pattern in sorted(set(grants.unknown_patterns)):
        yield ctx.finding(
            rule,
            state.inventory,
            principal,
            f"{_label(principal)} has a policy that allows {pattern}, which matches no IAM action.",
            pattern,
        )


def unused_assume_role(
    ctx: RuleContext, rule: RuleSpec, state: AccountState, principal: Principal, grants: Grants
) -> Iterator[Finding]:
    if not grants.assume_role_resources or not ctx.principal_passes(rule, principal):
        return
    assumed = ctx.assumed
    for role in ctx.roles:
        if role.arn == principal.arn or role.is_service_linked or (principal.arn, role.arn) in assumed:
            continue
        if may_assume(grants, role.arn) and trust_admits(role, principal.arn, principal):
            yield ctx.finding(
                rule,
                state.inventory,
                principal,
                f"{_label(principal)} may assume role {role.name} but did not {ctx.between}.",
                role=role.arn,
            )


# ---------------------------------------------------------------- pull-request checks (IaC vs deployed)
# Only principals the IaC defines and the snapshot knows are compared: a principal new in the IaC has no
# history to compare with (the regular rules judge it), one only in the snapshot is not managed by the IaC.


def _change(
    ctx: RuleContext, rule: RuleSpec, state: AccountState, principal: Principal
) -> tuple[frozenset[str], frozenset[str], set[str]] | None:
    """(proposed actions, deployed actions, used actions case-folded) of a principal the IaC redefines."""
    if state.deployed_grants is None or principal.origin == "snapshot":
        return None
    before = state.deployed_grants.get(principal.arn)
    if before is None or not ctx.principal_passes(rule, principal):
        return None
    used = {a.casefold() for a in ctx.used_actions(principal)}
    return state.grants[principal.arn].actions, before.actions, used


def new_grant_unused(
    ctx: RuleContext, rule: RuleSpec, state: AccountState, principal: Principal, grants: Grants
) -> Iterator[Finding]:
    change = _change(ctx, rule, state, principal)
    if change is None:
        return
    new, old, used = change
    for action in sorted(new - old):
        # Unobservable actions are never called unused.
        if action.casefold() in used or action not in ctx.observable or not ctx.action_passes(rule, action):
            continue
        yield ctx.finding(
            rule,
            state.inventory,
            principal,
            f"{_label(principal)}: this change grants {action}, which it did not use {ctx.between}.",
            action,
        )


def removed_grant_used(
    ctx: RuleContext, rule: RuleSpec, state: AccountState, principal: Principal, grants: Grants
) -> Iterator[Finding]:
    change = _change(ctx, rule, state, principal)
    if change is None:
        return
    new, old, used = change
    for action in sorted(old - new):
        if action.casefold() in used and ctx.action_passes(rule, action):
            yield ctx.finding(
                rule,
                state.inventory,
                principal,
                f"{_label(principal)}: this change removes {action}, which it used {ctx.between}; "
                "expect failures.",
                action,
            )


def iac_unlinked(ctx: RuleContext, rule: RuleSpec, state: AccountState) -> Iterator[Finding]:
    for address, where, kind in state.unlinked:
        if ctx.subject_passes(rule, address, kind):
            yield ctx.subject_finding(
                rule,
                state.inventory,
                address,
                kind,
                f"{address} has a name generated at deployment, so ctlint cannot link it to usage; "
                "its grants are not checked.",
                where,
            )


def iac_unresolved(ctx: RuleContext, rule: RuleSpec, state: AccountState) -> Iterator[Finding]:
    """A gate that cannot see a grant must not pass it: every IaC grant ctlint cannot evaluate offline."""
    seen: set[tuple[str, str]] = set()
    for text, where in state.unresolved:
        # The resource address or logical id leads the text ("aws_iam_role_policy.x: ..."); else the file.
        own = text.removeprefix(f"{where.path}: ")  # CloudFormation documents lead with the file
        head, sep, _ = own.partition(": ")
        subject = head if sep and " " not in head else where.path
        if (subject, text) in seen or not ctx.subject_passes(rule, subject, "resource"):
            continue
        seen.add((subject, text))
        yield ctx.subject_finding(
            rule,
            state.inventory,
            subject,
            "resource",
            f"{text} cannot be evaluated offline, so its grants are not checked; "
            "make it known at plan time or review it.",
            where,
            detail=text,
        )


# ---------------------------------------------------------------- the registry

_ALL = (
    RuleKind(
        "granted-unused",
        "a granted action CloudTrail records, not used in the window",
        Level.WARNING,
        "principal",
        granted_unused,
        activity="active",
    ),
    RuleKind(
        "granted-unused-conditional",
        "like granted-unused, for an action granted only under conditions ctlint cannot decide",
        Level.NOTE,
        "principal",
        granted_unused_conditional,
        activity="active",
    ),
    RuleKind(
        "used-not-granted",
        "an action used in the window that the policies do not grant",
        Level.WARNING,
        "principal",
        used_not_granted,
    ),
    RuleKind(
        "unused-actor",
        "a user or role with no recorded activity in the window",
        Level.WARNING,
        "principal",
        unused_actor,
        activity="inactive",
    ),
    RuleKind(
        "unused-assume-role",
        "a role the principal may assume (its policy and the role's trust policy agree) but did not",
        Level.WARNING,
        "principal",
        unused_assume_role,
    ),
    RuleKind(
        "granted-unknown",
        "a granted action whose use CloudTrail cannot show",
        Level.NOTE,
        "principal",
        granted_unknown,
        activity="active",
    ),
    RuleKind(
        "unknown-action",
        "a policy action pattern that matches no IAM action",
        Level.NOTE,
        "principal",
        unknown_action,
    ),
    RuleKind(
        "new-grant-unused",
        "IaC grants an action the deployed snapshot does not, and it was not used",
        Level.ERROR,
        "principal",
        new_grant_unused,
    ),
    RuleKind(
        "removed-grant-used",
        "IaC removes an action the principal used in the window",
        Level.ERROR,
        "principal",
        removed_grant_used,
    ),
    RuleKind(
        "iac-unresolved",
        "an IaC grant ctlint cannot evaluate offline (unknown until apply, an unresolvable function)",
        Level.ERROR,
        "account",
        iac_unresolved,
    ),
    RuleKind(
        "iac-unlinked",
        "an IaC principal whose name is only known after deployment",
        Level.NOTE,
        "account",
        iac_unlinked,
    ),
)

KINDS: Mapping[str, RuleKind] = {kind.name: kind for kind in _ALL}
