"""Which organisation policy took an action away: the grants with and without the account's SCPs and RCPs.

For `ctlint show` (and anyone explaining a verdict): an action the principal's own policies grant and
the organisation policies remove is named with the first reason found, root level first: an
unconditional Deny naming it on every resource, a level at which no SCP Allow names it, or else the
combination (e.g. an Allow-list on resources that leaves none of the resources its policies allow).
No I/O here.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from ctlint.model import OrgPolicies, PolicyDocument, Principal
from ctlint.orgpolicy import binds
from ctlint.policy import ActionUniverse, compute_grants, statement_actions

__all__ = ["Removal", "removed_by_organization"]


@dataclass(frozen=True)
class Removal:
    action: str
    reason: str  # e.g. "denied by SCP 'DenyLeave' at root/ou-prod"


def removed_by_organization(principal: Principal, universe: ActionUniverse) -> tuple[Removal, ...]:
    """The actions the principal's policies grant that its organisation policies remove, sorted."""
    org = principal.organization
    if org is None or not binds(principal):
        return ()
    bound = compute_grants(principal, universe).actions
    alone = compute_grants(replace(principal, organization=None), universe).actions
    return tuple(Removal(a, _reason(org, a, universe)) for a in sorted(alone - bound))


def _denies(doc: PolicyDocument, action: str, universe: ActionUniverse) -> bool:
    return any(
        s.effect == "Deny"
        and not s.has_condition
        and s.resources == ("*",)
        and s.not_resources is None
        and action in statement_actions(s, universe)
        for s in doc.statements
    )


def _allows(docs: tuple[PolicyDocument, ...], action: str, universe: ActionUniverse) -> bool:
    return any(
        s.effect == "Allow" and action in statement_actions(s, universe) for d in docs for s in d.statements
    )


def _reason(org: OrgPolicies, action: str, universe: ActionUniverse) -> str:
    for level in org.levels:
        for kind, docs in (("SCP", level.scps), ("RCP", level.rcps)):
            for doc in docs:
                if _denies(doc, action, universe):
                    return f"denied by {kind} '{doc.name}' at {level.name}"
    has_scps = any(level.scps for level in org.levels)
    for level in org.levels:
        if has_scps and not _allows(level.scps, action, universe):
            return f"no SCP at {level.name} allows it"
    return "no resource its policies allow is allowed by the organisation policies too"
