"""What the request context of a principal's own calls certainly holds: the caller-decided condition keys.

`facts_of(principal)` reads the principal (ARN, account, type, name, unique id, tags, organisation id)
into `ctlint.conditions.CallerFacts`. Only what holds for every request the principal can make counts:
- `aws:PrincipalArn`, `aws:PrincipalAccount`, `aws:PrincipalType` (User / AssumedRole), and
  `aws:PrincipalIsAWSService` ("false": an IAM user or role is never a service principal).
- `aws:username`: a user's name; absent for a role's sessions.
- `aws:userid`: a user's unique id (UserId); for a role, its RoleId followed by ":" and the session name,
  which the caller picks, so only a pattern that settles every session name decides it.
- `aws:PrincipalOrgID`: the configured organisation id; unknown when none is configured.
- `aws:PrincipalTag/<key>`: a user's tags. A role's tags only when its trust policy lets no one call
  sts:TagSession: session tags override the role's tags and add new ones, so a role whose trust
  admits them (IAM Identity Center roles, SAML roles, role chains) has unknown tags. A tag whose value
  the IaC does not resolve is unknown; a tag missing from a complete tag set (a snapshot's Tags,
  Terraform's tags_all) is absent, from an incomplete one (CloudFormation, which adds stack tags at
  deploy time) unknown.
No I/O here.
"""

from __future__ import annotations

from dataclasses import replace

from ctlint.conditions import CallerFacts
from ctlint.model import Inventory, Principal
from ctlint.wildcard import matches

__all__ = ["facts_of", "in_organization", "session_tags_possible"]

_TAG_PREFIX = "aws:principaltag/"
_TAG_SESSION = "sts:TagSession"


def session_tags_possible(role: Principal) -> bool:
    """Whether a session of the role may carry session tags: its trust policy is unknown, or one of its
    Allow statements covers sts:TagSession (whatever its principals and conditions)."""
    trust = role.trust_policy
    if trust is None:
        return True
    for stmt in trust.statements:
        if stmt.effect != "Allow":
            continue
        if stmt.not_actions is not None:
            if not any(matches(p, _TAG_SESSION) for p in stmt.not_actions):
                return True
        elif any(matches(p, _TAG_SESSION) for p in stmt.actions):
            return True
    return False


def facts_of(principal: Principal) -> CallerFacts:
    values = {
        "aws:principalarn": principal.arn,
        "aws:principalaccount": principal.account_id,
        "aws:principalisawsservice": "false",
    }
    absent: set[str] = set()
    prefixed: dict[str, str] = {}
    if principal.type == "user":
        values["aws:principaltype"] = "User"
        values["aws:username"] = principal.name
        if principal.unique_id:
            values["aws:userid"] = principal.unique_id
    elif principal.type == "role":
        values["aws:principaltype"] = "AssumedRole"
        absent.add("aws:username")
        if principal.unique_id:
            prefixed["aws:userid"] = principal.unique_id + ":"
    if principal.organization_id:
        values["aws:principalorgid"] = principal.organization_id
    complete: tuple[str, ...] = ()
    unknown: set[str] = set()
    if principal.type == "user" or (principal.type == "role" and not session_tags_possible(principal)):
        for key, value in principal.tags:
            if value is None:
                unknown.add(_TAG_PREFIX + key.lower())
            else:
                values[_TAG_PREFIX + key.lower()] = value
        complete = (_TAG_PREFIX,) if principal.tags_complete else ()
    return CallerFacts(
        values=values,
        absent=frozenset(absent),
        complete_prefixes=complete,
        unknown=frozenset(unknown),
        prefixed=prefixed,
    )


def in_organization(
    organization_id: str | None, snapshot: Inventory | None, inventory: Inventory
) -> tuple[Inventory | None, Inventory]:
    """The deployed snapshot and the evaluated inventory with every principal in the configured
    organisation (None: left as they are); one object when they were one."""
    if organization_id is None:
        return snapshot, inventory

    def placed(each: Inventory) -> Inventory:
        principals = tuple(replace(p, organization_id=organization_id) for p in each.principals)
        return replace(each, principals=principals)

    moved = placed(inventory)
    if snapshot is None or snapshot is inventory:
        return (moved if snapshot is not None else None), moved
    return placed(snapshot), moved
