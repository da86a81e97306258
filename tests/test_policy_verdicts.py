"""Resource-type-aware verdicts against the real catalog: granted, conditional, not granted."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from ctlint.catalog import Catalog
from ctlint.evaluate import AccountState, EvaluationInput, evaluate
from ctlint.model import Inventory, Level, Principal, RuleFilters, RuleSpec, Usage, Window
from ctlint.policy import compute_grants, may_assume, parse_policy_document

ACCOUNT = "111111111111"
MFA = {"Bool": {"aws:MultiFactorAuthPresent": "true"}}
IP = {"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return Catalog.load()


def doc(*statements: dict, kind: str = "inline"):
    return parse_policy_document({"Statement": list(statements)}, name="p", kind=kind, where="test")


def allow(action, resource="*", **extra) -> dict:
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


def deny(action, resource="*", **extra) -> dict:
    return {"Effect": "Deny", "Action": action, "Resource": resource, **extra}


def principal(*statements: dict, boundary: tuple[dict, ...] | None = None) -> Principal:
    return Principal(
        arn=f"arn:aws:iam::{ACCOUNT}:user/alice",
        name="alice",
        type="user",
        account_id=ACCOUNT,
        policies=(doc(*statements),),
        boundary=doc(*boundary, kind="boundary") if boundary is not None else None,
    )


def verdict(catalog, action: str, *statements: dict, boundary=None) -> str:
    grants = compute_grants(principal(*statements, boundary=boundary), catalog)
    if action in grants.conditional:
        assert action in grants.actions  # conditional grants stay in actions for the other rules
        return "conditional"
    return "granted" if action in grants.actions else "not granted"


@pytest.mark.parametrize(
    ("action", "statements", "boundary", "expected"),
    [
        # The examples.
        ("s3:GetObject", [allow("s3:*"), deny("s3:GetObject", "arn:aws:s3:::*")], None, "granted"),
        (
            "s3:GetObject",
            [allow("s3:*"), deny("s3:GetObject", ["arn:aws:s3:::*", "arn:aws:s3:*:*:accesspoint/*"])],
            None,
            "not granted",
        ),
        (
            "cloudtrail:StopLogging",
            [allow("*"), deny("cloudtrail:StopLogging", "arn:aws:cloudtrail:*:*:trail/*")],
            None,
            "not granted",
        ),
        ("s3:ListAllMyBuckets", [allow("s3:ListAllMyBuckets", "arn:aws:s3:::b/*")], None, "not granted"),
        ("s3:ListAllMyBuckets", [allow("s3:ListAllMyBuckets")], None, "granted"),
        ("iam:TagInstanceProfile", [allow("iam:Tag*", "arn:aws:iam::*:user/*")], None, "not granted"),
        ("iam:TagUser", [allow("iam:Tag*", "arn:aws:iam::*:user/*")], None, "granted"),
        (
            "s3:ListBucket",
            [allow("*"), {"Effect": "Deny", "Action": "s3:*", "NotResource": "arn:aws:s3:::safe/*"}],
            None,
            "not granted",
        ),
        (
            "s3:PutObject",
            [allow("*"), {"Effect": "Deny", "Action": "s3:*", "NotResource": "arn:aws:s3:::safe/*"}],
            None,
            "granted",
        ),
        ("s3:CreateBucket", [allow("*")], [allow("s3:*", "arn:aws:s3:::b/*")], "not granted"),
        ("s3:PutObject", [allow("*")], [allow("s3:*", "arn:aws:s3:::b/*")], "granted"),
        # Identity and boundary must meet on one resource.
        (
            "s3:PutObject",
            [allow("s3:PutObject", "arn:aws:s3:::a/*")],
            [allow("s3:*", "arn:aws:s3:::b/*")],
            "not granted",
        ),
        (
            "s3:PutObject",
            [allow("s3:PutObject", "arn:aws:s3:::a/*")],
            [allow("s3:*", "arn:aws:s3:::a/x/*")],
            "granted",
        ),
        # An Allow inside a wider Deny.
        (
            "s3:PutObject",
            [allow("s3:PutObject", "arn:aws:s3:::b/x*"), deny("s3:*", "arn:aws:s3:::b/*")],
            None,
            "not granted",
        ),
        (
            "s3:PutObject",
            [allow("s3:PutObject", "arn:aws:s3:::b/*"), deny("s3:*", "arn:aws:s3:::b/x*")],
            None,
            "granted",
        ),
        # Conditions.
        ("s3:PutObject", [allow("s3:PutObject", Condition=IP)], None, "conditional"),
        (
            "s3:PutObject",
            [allow("s3:PutObject", Condition=IP), deny("s3:PutObject", Condition=IP)],
            None,
            "not granted",
        ),
        (
            "s3:PutObject",
            [allow("s3:PutObject", Condition={**IP, **MFA}), deny("s3:PutObject", Condition=IP)],
            None,
            "not granted",
        ),
        (
            "s3:PutObject",
            [allow("s3:PutObject", Condition=IP), deny("s3:PutObject", Condition=MFA)],
            None,
            "conditional",
        ),
        ("s3:PutObject", [allow("s3:PutObject"), deny("s3:PutObject", Condition=MFA)], None, "granted"),
        ("s3:PutObject", [allow("s3:PutObject", Condition=IP), deny("s3:PutObject")], None, "not granted"),
        ("s3:PutObject", [allow("s3:PutObject")], [allow("s3:*", Condition=IP)], "conditional"),
        (
            "s3:PutObject",
            [
                allow("s3:PutObject", "arn:aws:s3:::b/*", Condition=IP),
                allow("s3:PutObject", "arn:aws:s3:::c/*"),
            ],
            None,
            "granted",
        ),
    ],
)
def test_verdicts(catalog, action, statements, boundary, expected):
    assert verdict(catalog, action, *statements, boundary=boundary) == expected


def test_a_deny_of_assume_role_on_one_role_stops_may_assume(catalog):
    grants = compute_grants(
        principal(allow("sts:AssumeRole"), deny("sts:AssumeRole", f"arn:aws:iam::{ACCOUNT}:role/admin")),
        catalog,
    )
    assert may_assume(grants, f"arn:aws:iam::{ACCOUNT}:role/dev")
    assert not may_assume(grants, f"arn:aws:iam::{ACCOUNT}:role/admin")
    only = compute_grants(
        principal(
            allow("sts:AssumeRole"),
            {"Effect": "Deny", "Action": "sts:*", "NotResource": f"arn:aws:iam::{ACCOUNT}:role/dev"},
        ),
        catalog,
    )
    assert may_assume(only, f"arn:aws:iam::{ACCOUNT}:role/dev")
    assert not may_assume(only, f"arn:aws:iam::{ACCOUNT}:role/admin")
    guarded = compute_grants(
        principal(allow("sts:AssumeRole"), deny("sts:AssumeRole", Condition=MFA)), catalog
    )
    assert may_assume(guarded, f"arn:aws:iam::{ACCOUNT}:role/admin")  # a conditional Deny may not apply


def test_unresolved_iac_values_never_understate_a_grant(catalog):
    stand_in = '{"Fn::GetAtt": ["Table", "Arn"]}'
    assert verdict(catalog, "dynamodb:GetItem", allow("dynamodb:GetItem", stand_in)) == "granted"
    assert (
        verdict(catalog, "dynamodb:GetItem", allow("dynamodb:*"), deny("dynamodb:GetItem", stand_in))
        == "granted"
    )


def _rule(kind: str, level: Level = Level.WARNING) -> RuleSpec:
    return RuleSpec(
        id=kind, kind=kind, level=level, title=kind, description="", help="", filters=RuleFilters()
    )


def test_findings_say_which_verdict_they_rest_on(catalog):
    p = principal(allow("s3:CreateBucket"), allow("s3:DeleteBucket", Condition=IP))
    grants = compute_grants(p, catalog)
    window = Window(datetime(2026, 6, 1, tzinfo=UTC), datetime(2026, 9, 1, tzinfo=UTC))
    data = EvaluationInput(
        accounts=(
            AccountState(
                inventory=Inventory(account_id=ACCOUNT, account_name="a", principals=(p,), source="t"),
                grants={p.arn: grants},
            ),
        ),
        usage=Usage(window=window, principals={}),
        active=frozenset({p.arn}),
        rules=(
            _rule("granted-unused"),
            _rule("granted-unused-conditional", Level.NOTE),
            _rule("used-not-granted"),
        ),
    )
    found = {(f.rule, f.action, f.properties.get("verdict")) for f in evaluate(data, catalog)}
    assert found == {
        ("granted-unused", "s3:CreateBucket", "granted"),
        ("granted-unused-conditional", "s3:DeleteBucket", "conditional"),
    }


def _role_trusting(statement: dict) -> Principal:
    trust = parse_policy_document({"Statement": [statement]}, name="trust", kind="trust", where="trust")
    return Principal(
        arn=f"arn:aws:iam::{ACCOUNT}:role/target",
        name="target",
        type="role",
        account_id=ACCOUNT,
        trust_policy=trust,
    )


def test_a_trust_policy_admitting_the_account_for_one_principal_arn_admits_only_that_role():
    from ctlint.policy import trust_admits

    deployer = f"arn:aws:iam::{ACCOUNT}:role/deployer"
    other = f"arn:aws:iam::{ACCOUNT}:role/other"
    base = {
        "Effect": "Allow",
        "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
        "Action": "sts:AssumeRole",
    }
    for operator in ("ArnEquals", "StringEquals", "ArnLike", "StringLike"):
        role = _role_trusting({**base, "Condition": {operator: {"aws:PrincipalArn": deployer}}})
        assert trust_admits(role, deployer) and not trust_admits(role, other), operator
    wildcard = _role_trusting(
        {**base, "Condition": {"ArnLike": {"aws:PrincipalArn": f"arn:aws:iam::{ACCOUNT}:role/dep*"}}}
    )
    assert trust_admits(wildcard, deployer) and not trust_admits(wildcard, other)
    not_equals = _role_trusting({**base, "Condition": {"ArnNotEquals": {"aws:PrincipalArn": deployer}}})
    assert not trust_admits(not_equals, deployer) and trust_admits(not_equals, other)
    users_only = _role_trusting({**base, "Condition": {"StringEquals": {"aws:PrincipalType": "User"}}})
    assert not trust_admits(users_only, deployer) and trust_admits(
        users_only, f"arn:aws:iam::{ACCOUNT}:user/u"
    )
    # A condition ctlint cannot decide leaves the Allow in place, as before.
    external = _role_trusting({**base, "Condition": {"StringEquals": {"sts:ExternalId": "x"}}})
    assert trust_admits(external, deployer)
    denied = parse_policy_document(
        {
            "Statement": [
                base,
                {
                    "Effect": "Deny",
                    "Principal": "*",
                    "Action": "sts:AssumeRole",
                    "Condition": {"StringEquals": {"aws:PrincipalArn": other}},
                },
            ]
        },
        name="trust",
        kind="trust",
        where="trust",
    )
    role = Principal(
        arn=f"arn:aws:iam::{ACCOUNT}:role/t", name="t", type="role", account_id=ACCOUNT, trust_policy=denied
    )
    assert trust_admits(role, deployer) and not trust_admits(role, other)


def test_unused_assume_role_skips_a_role_an_unconditional_deny_covers(catalog):
    trust = {"Effect": "Allow", "Principal": {"AWS": ACCOUNT}, "Action": "sts:AssumeRole"}
    roles = tuple(
        Principal(
            arn=f"arn:aws:iam::{ACCOUNT}:role/{name}",
            name=name,
            type="role",
            account_id=ACCOUNT,
            trust_policy=parse_policy_document({"Statement": [trust]}, name="t", kind="trust", where="t"),
        )
        for name in ("admin", "dev")
    )
    alice = principal(allow("sts:AssumeRole"), deny("sts:AssumeRole", f"arn:aws:iam::{ACCOUNT}:role/admin"))
    everyone = (alice, *roles)
    window = Window(datetime(2026, 6, 1, tzinfo=UTC), datetime(2026, 9, 1, tzinfo=UTC))
    data = EvaluationInput(
        accounts=(
            AccountState(
                inventory=Inventory(account_id=ACCOUNT, account_name="a", principals=everyone, source="t"),
                grants={p.arn: compute_grants(p, catalog) for p in everyone},
            ),
        ),
        usage=Usage(window=window, principals={}),
        active=frozenset(p.arn for p in everyone),
        rules=(_rule("unused-assume-role"),),
    )
    found = [(f.principal, f.role) for f in evaluate(data, catalog)]
    assert found == [(alice.arn, f"arn:aws:iam::{ACCOUNT}:role/dev")]
