"""Organisation policies as policy evaluation sees them: SCPs and RCPs turned into guard documents.

AWS evaluates a request of a principal in a member account against the service control policies of every
level above it (the root, each OU on the path, the account itself): at each level some SCP must allow
the request, and a Deny in any SCP refuses it. Resource control policies guard the resources of the
accounts they are attached to: Deny statements only (the AWS-managed `RCPFullAWSAccess`, attached at
every level and impossible to detach, is their only Allow), so any RCP Deny refuses the request.

So each SCP level acts like one more permissions boundary (its Allows restrict, its Denies subtract), and
the RCPs of all levels act like one boundary that allows everything and holds their Denies.
ctlint.policy intersects these guards per resource with the identity policies, exactly as it does with
a boundary: a Deny covering every resource of an action removes it, an Allow-list on resources
restricts, a conditional Allow grants conditionally, a conditional Deny does not remove (the same
conventions as for identity policies).

Who is not bound: principals of the management account (`OrgPolicies.management_account`; SCPs do not
apply to it and RCPs do not apply to its resources), and service-linked roles (neither SCPs nor RCPs
apply to them). Root users are not principals ctlint evaluates.

What is not exact offline:
- RCPs guard the resources of the account they are attached to. ctlint applies an account's RCPs to
  every request of its principals, as if every resource were the account's own: exact for the account's
  resources, which are what its snapshot and IaC describe. A grant on a resource of another account
  also needs that account's resource policy (which ctlint does not read) and passes that account's
  RCPs, not these.
- RCPs take effect only for the AWS services that support them (AWS keeps that list in the
  Organizations user guide; no maintained package ships it, so ctlint does not). An RCP Deny is applied
  to whatever actions it names; Organizations expects RCPs to name actions of supported services.
- The few tasks AWS documents as not restricted by SCPs (e.g. some root-user-only tasks) are not
  special-cased.

No I/O here: the documents come in as values (ctlint.orgload reads them).
"""

from __future__ import annotations

from dataclasses import replace

from ctlint.model import Inventory, OrgPolicies, PolicyDocument, Principal, Statement

__all__ = ["guards", "binds", "with_organization"]

# What RCPFullAWSAccess allows: every action on every resource (it grants nothing; it lets requests pass).
_PASS_THROUGH = Statement(effect="Allow", actions=("*",), resources=("*",))

# Keyed by id() of the OrgPolicies value, holding it so the id stays unique; one account's principals all
# share one value, so their guard documents (and the evaluator's caches keyed by them) are shared too.
_GUARDS: dict[int, tuple[OrgPolicies, tuple[PolicyDocument, ...]]] = {}


def binds(principal: Principal) -> bool:
    """Whether organisation policies apply to the principal at all."""
    org = principal.organization
    return org is not None and not org.management_account and not principal.is_service_linked


def guards(principal: Principal) -> tuple[PolicyDocument, ...]:
    """The guard documents that bind the principal, each to be intersected like a permissions boundary:
    one per level that has SCPs (root first), then one for all RCP Denies. () when none apply."""
    org = principal.organization
    if org is None or not binds(principal):
        return ()
    hit = _GUARDS.get(id(org))
    if hit is None or hit[0] is not org:
        hit = _GUARDS[id(org)] = (org, _guard_documents(org))
    return hit[1]


def _guard_documents(org: OrgPolicies) -> tuple[PolicyDocument, ...]:
    docs: list[PolicyDocument] = []
    if any(level.scps for level in org.levels):
        # A level without SCPs allows nothing (AWS never lets the last SCP of a target be detached; the
        # loader refuses such input, so this only happens for values built by hand).
        for level in org.levels:
            statements = tuple(s for d in level.scps for s in d.statements)
            docs.append(PolicyDocument(name=f"SCPs at {level.name}", kind="scp", statements=statements))
    denies = tuple(s for level in org.levels for d in level.rcps for s in d.statements if s.effect == "Deny")
    if denies:
        docs.append(PolicyDocument(name="RCPs", kind="rcp", statements=(_PASS_THROUGH, *denies)))
    return tuple(docs)


def with_organization(inventory: Inventory, org: OrgPolicies) -> Inventory:
    """The inventory with every principal bound by the account's organisation policies."""
    principals = tuple(replace(p, organization=org) for p in inventory.principals)
    return replace(inventory, principals=principals)
