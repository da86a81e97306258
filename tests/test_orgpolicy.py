"""SCPs and RCPs in policy evaluation (ctlint.orgpolicy via ctlint.policy), as AWS intersects them."""

from __future__ import annotations

from dataclasses import replace

import pytest

from ctlint.catalog import Catalog
from ctlint.model import OrgLevel, OrgPolicies, PolicyDocument, Principal
from ctlint.orgpolicy import binds, guards
from ctlint.policy import compute_grants, example_resource, may_assume, parse_policy_document

ACCOUNT = "111111111111"


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return Catalog.load()


def doc(*statements: dict, kind: str = "inline") -> PolicyDocument:
    return parse_policy_document(
        {"Version": "2012-10-17", "Statement": list(statements)}, name=kind, kind=kind, where="test"
    )


def scp(*statements: dict) -> PolicyDocument:
    return doc(*statements, kind="scp")


def rcp(*statements: dict) -> PolicyDocument:
    return doc(*({"Principal": "*", **s} for s in statements), kind="rcp")


FULL = scp({"Effect": "Allow", "Action": "*", "Resource": "*"})
ADMIN = doc({"Effect": "Allow", "Action": "*", "Resource": "*"})


def user(*policies: PolicyDocument, org: OrgPolicies | None = None, path: str = "/") -> Principal:
    return Principal(
        arn=f"arn:aws:iam::{ACCOUNT}:user/alice",
        name="alice",
        type="user",
        account_id=ACCOUNT,
        path=path,
        policies=policies or (ADMIN,),
        organization=org,
    )


def org(*levels: tuple[PolicyDocument, ...], rcps: tuple[PolicyDocument, ...] = (), **kwargs) -> OrgPolicies:
    named = [OrgLevel(name=f"level{i}", scps=scps) for i, scps in enumerate(levels)]
    if rcps:
        named[0] = replace(named[0], rcps=rcps)
    return OrgPolicies(levels=tuple(named), **kwargs)


def granted(catalog: Catalog, principal: Principal) -> frozenset[str]:
    return compute_grants(principal, catalog).actions


def test_full_aws_access_at_every_level_changes_nothing(catalog):
    alone = compute_grants(user(), catalog)
    bound = compute_grants(user(org=org((FULL,), (FULL,), (FULL,))), catalog)
    assert bound.actions == alone.actions and bound.conditional == alone.conditional


def test_an_allow_list_at_one_level_restricts_and_every_level_must_allow(catalog):
    s3_only = scp({"Effect": "Allow", "Action": "s3:*", "Resource": "*"})
    kms_only = scp({"Effect": "Allow", "Action": ["s3:GetObject", "kms:*"], "Resource": "*"})
    assert granted(catalog, user(org=org((FULL,), (s3_only,)))) == catalog.expand("s3:*")
    # Root allows everything, the OU only s3, the account s3:GetObject and kms: the intersection.
    assert granted(catalog, user(org=org((FULL,), (s3_only,), (kms_only,)))) == {"s3:GetObject"}


def test_policies_at_one_level_are_a_union(catalog):
    s3_only = scp({"Effect": "Allow", "Action": "s3:*", "Resource": "*"})
    sqs_only = scp({"Effect": "Allow", "Action": "sqs:*", "Resource": "*"})
    assert granted(catalog, user(org=org((FULL,), (s3_only, sqs_only)))) == (
        catalog.expand("s3:*") | catalog.expand("sqs:*")
    )


def test_a_deny_at_any_level_subtracts(catalog):
    deny = scp({"Effect": "Deny", "Action": ["iam:*", "organizations:LeaveOrganization"], "Resource": "*"})
    actions = granted(catalog, user(org=org((FULL,), (FULL, deny), (FULL,))))
    assert not actions & catalog.expand("iam:*")
    assert "organizations:LeaveOrganization" not in actions
    assert "s3:GetObject" in actions


def test_a_level_with_no_scp_allows_nothing(catalog):
    assert granted(catalog, user(org=org((FULL,), ()))) == frozenset()


def test_management_account_and_service_linked_roles_are_not_bound(catalog):
    deny_all = scp({"Effect": "Deny", "Action": "*", "Resource": "*"})
    alone = granted(catalog, user())
    management = user(org=org((FULL, deny_all), management_account=True))
    assert not binds(management) and guards(management) == ()
    assert granted(catalog, management) == alone
    linked = Principal(
        arn=f"arn:aws:iam::{ACCOUNT}:role/aws-service-role/x.amazonaws.com/AWSServiceRoleForX",
        name="AWSServiceRoleForX",
        type="role",
        account_id=ACCOUNT,
        path="/aws-service-role/x.amazonaws.com/",
        policies=(ADMIN,),
        organization=org((FULL, deny_all)),
    )
    assert granted(catalog, linked) == alone
    assert granted(catalog, user(org=org((FULL, deny_all)))) == frozenset()


def test_a_deny_covering_every_resource_type_removes_one_covering_some_does_not(catalog):
    deny = scp(
        # Objects and objects through access points: every resource type of s3:GetObject.
        {
            "Effect": "Deny",
            "Action": "s3:GetObject",
            "Resource": ["arn:aws:s3:::*", "arn:aws:s3:*:*:accesspoint/*"],
        },
        {"Effect": "Deny", "Action": "s3:DeleteObject", "Resource": "arn:aws:s3:::*"},
        {"Effect": "Deny", "Action": "cloudtrail:StopLogging", "Resource": "arn:aws:cloudtrail:*:*:trail/*"},
        {"Effect": "Deny", "Action": "s3:PutObject", "Resource": "arn:aws:s3:::prod/*"},
    )
    actions = granted(catalog, user(org=org((FULL, deny))))
    assert "s3:GetObject" not in actions
    assert "cloudtrail:StopLogging" not in actions
    assert "s3:DeleteObject" in actions  # through an access point
    assert "s3:PutObject" in actions  # other buckets
    assert example_resource(user(org=org((FULL, deny))), "s3:PutObject", catalog) != "arn:aws:s3:::prod/x"


def test_an_allow_list_on_resources_restricts_to_what_it_can_match(catalog):
    bucket_objects = scp({"Effect": "Allow", "Action": "s3:*", "Resource": "arn:aws:s3:::b/*"})
    principal = user(org=org((FULL,), (bucket_objects,)))
    actions = granted(catalog, principal)
    assert "s3:PutObject" in actions
    assert "s3:ListAllMyBuckets" not in actions  # takes only "*"
    assert "s3:CreateBucket" not in actions  # a bucket ARN is never under b/
    example = example_resource(principal, "s3:PutObject", catalog)
    assert example is not None and example.startswith("arn:aws:s3:::b/")


def test_identity_and_scp_must_allow_the_same_resource(catalog):
    identity = doc({"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::a/*"})
    elsewhere = scp({"Effect": "Allow", "Action": "s3:*", "Resource": "arn:aws:s3:::b/*"})
    assert granted(catalog, user(identity, org=org((FULL,), (elsewhere,)))) == frozenset()
    overlapping = scp({"Effect": "Allow", "Action": "s3:*", "Resource": "arn:aws:s3:::a*"})
    assert granted(catalog, user(identity, org=org((FULL,), (overlapping,)))) == {"s3:GetObject"}


def test_conditional_scp_statements_follow_the_identity_conventions(catalog):
    mfa = {"Bool": {"aws:MultiFactorAuthPresent": "true"}}
    conditional_allow = scp({"Effect": "Allow", "Action": "s3:*", "Resource": "*", "Condition": mfa})
    grants = compute_grants(user(org=org((FULL,), (conditional_allow,))), catalog)
    assert grants.actions == catalog.expand("s3:*") == grants.conditional
    guardrail = scp({"Effect": "Deny", "Action": "s3:*", "Resource": "*", "Condition": mfa})
    grants = compute_grants(user(org=org((FULL, guardrail))), catalog)
    assert "s3:GetObject" in grants.actions and "s3:GetObject" not in grants.conditional


def test_rcp_denies_subtract_and_conditional_ones_do_not(catalog):
    deny = rcp({"Effect": "Deny", "Action": ["s3:DeleteBucket", "sqs:*"], "Resource": "*"})
    actions = granted(catalog, user(org=org((FULL,), rcps=(deny,))))
    assert "s3:DeleteBucket" not in actions and not actions & catalog.expand("sqs:*")
    assert "s3:GetObject" in actions
    tls = rcp(
        {
            "Effect": "Deny",
            "Action": "s3:*",
            "Resource": "*",
            "Condition": {"BoolIfExists": {"aws:SecureTransport": "false"}},
        }
    )
    assert "s3:GetObject" in granted(catalog, user(org=org((FULL,), rcps=(tls,))))


def test_rcps_without_scps_leave_scps_unconstrained(catalog):
    deny = rcp({"Effect": "Deny", "Action": "s3:DeleteBucket", "Resource": "*"})
    only_rcps = OrgPolicies(levels=(OrgLevel("root", rcps=(deny,)), OrgLevel(ACCOUNT)))
    assert granted(catalog, user(org=only_rcps)) == granted(catalog, user()) - {"s3:DeleteBucket"}


def test_an_scp_deny_of_assume_role_reaches_may_assume(catalog):
    deny = scp({"Effect": "Deny", "Action": "sts:AssumeRole", "Resource": "arn:aws:iam::*:role/admin"})
    grants = compute_grants(user(org=org((FULL, deny))), catalog)
    assert not may_assume(grants, "arn:aws:iam::222222222222:role/admin")
    assert may_assume(grants, "arn:aws:iam::222222222222:role/reader")


def test_principals_sharing_one_organisation_share_its_guards(catalog):
    shared = org((FULL,), (FULL,))
    a, b = user(org=shared), replace(user(org=shared), arn=f"arn:aws:iam::{ACCOUNT}:user/bob", name="bob")
    assert guards(a) is guards(b)
    assert compute_grants(a, catalog).actions is compute_grants(b, catalog).actions


def test_removals_name_the_policy_and_level_that_removed_each_action(catalog):
    from ctlint.orgexplain import removed_by_organization

    identity = doc(
        {"Effect": "Allow", "Action": ["s3:GetObject", "s3:DeleteBucket", "sqs:SendMessage"], "Resource": "*"}
    )
    deny = scp({"Effect": "Deny", "Action": "s3:DeleteBucket", "Resource": "*"})
    objects_only = scp({"Effect": "Allow", "Action": ["s3:*", "sqs:*"], "Resource": "arn:aws:s3:::b/*"})
    s3_only = scp({"Effect": "Allow", "Action": "s3:*", "Resource": "*"})
    levels = (
        OrgLevel("root", scps=(FULL, deny)),
        OrgLevel("ou-prod", scps=(s3_only,)),
        OrgLevel(ACCOUNT, scps=(objects_only,)),
    )
    removals = removed_by_organization(user(identity, org=OrgPolicies(levels=levels)), catalog)
    assert [(r.action, r.reason) for r in removals] == [
        ("s3:DeleteBucket", "denied by SCP 'scp' at root"),
        ("sqs:SendMessage", "no SCP at ou-prod allows it"),
    ]
    # s3:GetObject stays: objects under b/ are allowed at every level.
    bucket_only = scp({"Effect": "Allow", "Action": "s3:*", "Resource": "arn:aws:s3:::b"})
    scoped = OrgPolicies(levels=(OrgLevel("root", scps=(bucket_only,)),))
    assert [(r.action, r.reason) for r in removed_by_organization(user(identity, org=scoped), catalog)] == [
        ("s3:GetObject", "no resource its policies allow is allowed by the organisation policies too"),
        ("sqs:SendMessage", "no SCP at root allows it"),
    ]
    assert removed_by_organization(user(identity), catalog) == ()
