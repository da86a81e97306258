"""Caller-decided condition keys: ctlint.conditions (one test), ctlint.callerfacts (what a principal's
requests hold) and their use in identity policies, boundaries and trust policies."""

from __future__ import annotations

from dataclasses import replace

import pytest

from ctlint.callerfacts import facts_of, session_tags_possible
from ctlint.conditions import decide
from ctlint.model import Principal
from ctlint.policy import compute_grants, may_assume, parse_policy_document, trust_admits
from tests.test_policy import FakeUniverse

ACCOUNT = "111111111111"
USER_ARN = f"arn:aws:iam::{ACCOUNT}:user/eng/alice"
ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/deploy"
USER_ID = "AIDAEXAMPLEUSERID0001"
ROLE_ID = "AROAEXAMPLEROLEID0001"
NO_TAG_SESSION = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"AWS": ACCOUNT}, "Action": "sts:AssumeRole"}],
}
WITH_TAG_SESSION = {
    "Version": "2012-10-17",
    "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": ACCOUNT}, "Action": ["sts:AssumeRole", "sts:TagSession"]}
    ],
}


def document(*statements: dict, kind: str = "inline", version: str = "2012-10-17"):
    return parse_policy_document(
        {"Version": version, "Statement": list(statements)}, name="p", kind=kind, where="test"
    )


def user(*statements: dict, tags=(("team", "blue"),), complete=True, boundary=None, **extra) -> Principal:
    return Principal(
        arn=USER_ARN,
        name="alice",
        type="user",
        account_id=ACCOUNT,
        path="/eng/",
        policies=(document(*statements),) if statements else (),
        boundary=boundary,
        tags=tags,
        tags_complete=complete,
        unique_id=USER_ID,
        **extra,
    )


def role(*statements: dict, trust=NO_TAG_SESSION, tags=(("team", "blue"),), **extra) -> Principal:
    return Principal(
        arn=ROLE_ARN,
        name="deploy",
        type="role",
        account_id=ACCOUNT,
        policies=(document(*statements),) if statements else (),
        trust_policy=parse_policy_document(trust, name="trust", kind="trust", where="trust")
        if trust
        else None,
        tags=tags,
        tags_complete=True,
        unique_id=ROLE_ID,
        **extra,
    )


def test(operator: str, key: str, *values: str) -> tuple[str, str, tuple[str, ...]]:
    return (operator, key, values)


test.__test__ = False  # a helper, not a pytest test


# ---------------------------------------------------------------- one test


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        (test("StringEquals", "aws:PrincipalTag/team", "blue"), True),
        (test("StringEquals", "AWS:PRINCIPALTAG/TEAM", "blue"), True),  # keys are case-insensitive
        (test("StringEquals", "aws:PrincipalTag/team", "Blue"), False),  # values are not
        (test("StringEqualsIgnoreCase", "aws:PrincipalTag/team", "BLUE"), True),
        (test("StringNotEqualsIgnoreCase", "aws:PrincipalTag/team", "BLUE"), False),
        (test("StringEquals", "aws:PrincipalTag/team", "red", "blue"), True),
        (test("StringNotEquals", "aws:PrincipalTag/team", "red", "blue"), False),
        (test("StringEquals", "aws:PrincipalTag/team", "bl*"), False),  # Equals reads * literally
        (test("StringLike", "aws:PrincipalTag/team", "bl*"), True),
        (test("StringLike", "aws:PrincipalTag/team", "b?ue"), True),
        (test("StringNotLike", "aws:PrincipalTag/team", "r*"), True),
        (test("ForAnyValue:StringEquals", "aws:PrincipalTag/team", "blue"), True),
        (test("ForAllValues:StringEquals", "aws:PrincipalTag/team", "red"), False),
        # A missing tag is a missing key.
        (test("StringEquals", "aws:PrincipalTag/cost", "x"), False),
        (test("StringNotEquals", "aws:PrincipalTag/cost", "x"), True),
        (test("StringEqualsIfExists", "aws:PrincipalTag/cost", "x"), True),
        (test("ForAnyValue:StringEquals", "aws:PrincipalTag/cost", "x"), False),
        (test("ForAllValues:StringEquals", "aws:PrincipalTag/cost", "x"), True),
        (test("ForAnyValue:StringEqualsIfExists", "aws:PrincipalTag/cost", "x"), None),
        (test("Null", "aws:PrincipalTag/cost", "true"), True),
        (test("Null", "aws:PrincipalTag/team", "true"), False),
        (test("Null", "aws:PrincipalTag/team", "false"), True),
        (test("Null", "aws:PrincipalTag/team", "maybe"), None),
        # ARN operators match each ARN part on its own.
        (test("ArnLike", "aws:PrincipalArn", f"arn:aws:iam::{ACCOUNT}:user/*"), True),
        (test("ArnEquals", "aws:PrincipalArn", "arn:aws:iam::*:user/eng/alice"), True),
        (test("ArnLike", "aws:PrincipalArn", "arn:aws:iam::*:role/*"), False),
        (test("ArnNotLike", "aws:PrincipalArn", "arn:aws:iam::*:role/*"), True),
        (test("ArnLike", "aws:PrincipalArn", "arn:aws:*"), None),  # not six parts
        (test("ArnLike", "aws:PrincipalTag/team", "arn:aws:*:*:*:*"), None),  # not an ARN key
        (test("StringLike", "aws:PrincipalArn", "arn:aws:iam::*:user/eng/*"), True),
        (test("StringEquals", "aws:PrincipalType", "User"), True),
        (test("StringEquals", "aws:PrincipalAccount", "222222222222"), False),
        (test("Bool", "aws:PrincipalIsAWSService", "false"), True),
        (test("Bool", "aws:PrincipalIsAWSService", "TRUE"), False),
        (test("Bool", "aws:PrincipalTag/team", "true"), None),
        (test("StringEquals", "aws:username", "alice"), True),
        (test("StringEquals", "aws:userid", USER_ID), True),
        (test("StringEquals", "aws:PrincipalOrgID", "o-abc"), None),  # no organisation configured
        # Policy variables, where the value is known.
        (test("StringEquals", "aws:PrincipalTag/team", "${aws:PrincipalTag/team}"), True),
        (test("StringLike", "aws:PrincipalArn", "*:user/eng/${aws:username}"), True),
        (test("StringEquals", "aws:PrincipalTag/team", "${aws:PrincipalTag/cost, 'blue'}"), True),
        (test("StringEquals", "aws:PrincipalTag/team", "${aws:RequestedRegion}"), None),
        (test("StringEquals", "aws:PrincipalTag/team", "${aws:PrincipalTag/cost}"), None),
        (test("StringEquals", "aws:username", "al${?}ce"), False),  # ${?} is a literal '?'
        # Unknown keys and operators stay undecided.
        (test("StringEquals", "aws:RequestedRegion", "us-east-1"), None),
        (test("NumericEquals", "aws:PrincipalTag/team", "1"), None),
        (test("stringequals", "aws:PrincipalTag/team", "blue"), None),
    ],
)
def test_user_condition_tests(condition, expected):
    assert decide(condition, facts_of(user())) is expected


def test_policy_variables_are_literal_before_the_2012_version():
    facts = facts_of(user())
    condition = test("StringEquals", "aws:username", "${aws:username}")
    assert decide(condition, facts) is True
    assert decide(condition, facts, variables=False) is False


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        # aws:userid of a role session is "RoleId:<session name>": decided only where every name agrees.
        (test("StringLike", "aws:userid", f"{ROLE_ID}:*"), True),
        (test("StringLike", "aws:userid", "AROAEXAMPLE*"), True),
        (test("StringLike", "aws:userid", f"{ROLE_ID}:ci-*"), None),
        (test("StringEquals", "aws:userid", f"{ROLE_ID}:ci"), None),
        (test("StringEquals", "aws:userid", ROLE_ID), False),
        (test("StringLike", "aws:userid", "AIDA*"), False),
        (test("StringNotLike", "aws:userid", f"{ROLE_ID}:*"), False),
        (test("StringEquals", "aws:username", "deploy"), False),  # roles have no aws:username
        (test("Null", "aws:username", "true"), True),
        (test("StringEquals", "aws:PrincipalType", "AssumedRole"), True),
        (test("StringEquals", "aws:PrincipalTag/team", "blue"), True),
    ],
)
def test_role_condition_tests(condition, expected):
    assert decide(condition, facts_of(role())) is expected


def test_session_tags_make_a_roles_tags_unknown():
    tagged = role(trust=WITH_TAG_SESSION)
    assert session_tags_possible(tagged)
    assert session_tags_possible(role(trust=None))
    assert not session_tags_possible(role())
    for condition in (
        test("StringEquals", "aws:PrincipalTag/team", "blue"),
        test("Null", "aws:PrincipalTag/cost", "true"),
    ):
        assert decide(condition, facts_of(tagged)) is None


def test_incomplete_or_unresolved_tags_are_unknown():
    partial = facts_of(user(tags=(("team", "blue"), ("owner", None)), complete=False))
    assert decide(test("StringEquals", "aws:PrincipalTag/team", "blue"), partial) is True
    assert decide(test("StringEquals", "aws:PrincipalTag/owner", "x"), partial) is None
    assert decide(test("Null", "aws:PrincipalTag/cost", "true"), partial) is None
    complete = facts_of(user(tags=(("owner", None),)))
    assert decide(test("Null", "aws:PrincipalTag/owner", "true"), complete) is None
    assert decide(test("Null", "aws:PrincipalTag/cost", "true"), complete) is True


def test_the_configured_organisation_decides_principal_org_id():
    facts = facts_of(user(organization_id="o-abc123"))
    assert decide(test("StringEquals", "aws:PrincipalOrgID", "o-abc123"), facts) is True
    assert decide(test("StringNotEquals", "aws:PrincipalOrgID", "o-abc123"), facts) is False


# ---------------------------------------------------------------- in policies

U = FakeUniverse()
TEAM_BLUE = {"StringEquals": {"aws:PrincipalTag/team": "blue"}}
TEAM_RED = {"StringEquals": {"aws:PrincipalTag/team": "red"}}
MFA = {"Bool": {"aws:MultiFactorAuthPresent": "true"}}


def allow(action: str, condition: dict | None = None) -> dict:
    stmt = {"Effect": "Allow", "Action": action, "Resource": "*"}
    return {**stmt, "Condition": condition} if condition else stmt


def deny(action: str, condition: dict | None = None) -> dict:
    stmt = {"Effect": "Deny", "Action": action, "Resource": "*"}
    return {**stmt, "Condition": condition} if condition else stmt


def test_an_allow_decided_true_grants_for_certain_and_decided_false_not_at_all():
    grants = compute_grants(user(allow("s3:GetObject", TEAM_BLUE), allow("s3:PutObject", TEAM_RED)), U)
    assert "s3:GetObject" in grants.actions and "s3:GetObject" not in grants.conditional
    assert "s3:PutObject" not in grants.actions


def test_an_undecided_test_keeps_the_allow_conditional():
    both = {**TEAM_BLUE, **MFA}
    grants = compute_grants(user(allow("s3:GetObject", both)), U)
    assert grants.conditional == {"s3:GetObject"}
    # Unknown tags: the same policy stays conditional, never a certain grant.
    unknown = compute_grants(user(allow("s3:GetObject", TEAM_BLUE), tags=(), complete=False), U)
    assert unknown.conditional == {"s3:GetObject"}


def test_a_deny_decided_true_removes_the_grant_and_decided_false_does_not_apply():
    held = user(allow("s3:*"), deny("s3:GetObject", TEAM_BLUE), deny("s3:PutObject", TEAM_RED))
    grants = compute_grants(held, U)
    assert "s3:GetObject" not in grants.actions
    assert "s3:PutObject" in grants.actions and not grants.conditional


def test_an_undecided_deny_still_leaves_the_grant():
    grants = compute_grants(user(allow("s3:GetObject"), deny("s3:GetObject", {**TEAM_BLUE, **MFA})), U)
    assert "s3:GetObject" in grants.actions and not grants.conditional


def test_a_deny_under_the_allows_remaining_condition_never_allows():
    # After the caller's tests are decided both are "under MFA": the Deny holds whenever the Allow does.
    held = user(allow("s3:GetObject", {**TEAM_BLUE, **MFA}), deny("s3:GetObject", MFA))
    assert "s3:GetObject" not in compute_grants(held, U).actions


def test_boundaries_decide_the_caller_too():
    blue = document(allow("s3:*", TEAM_BLUE), kind="boundary")
    red = document(allow("s3:*", TEAM_RED), kind="boundary")
    assert "s3:GetObject" not in compute_grants(user(allow("s3:GetObject"), boundary=red), U).actions
    grants = compute_grants(user(allow("s3:GetObject"), boundary=blue), U)
    assert "s3:GetObject" in grants.actions and not grants.conditional


def test_principals_with_different_tags_share_a_policy_but_not_its_answers():
    shared = document(allow("s3:GetObject", TEAM_BLUE))
    blue = replace(user(), policies=(shared,))
    red = replace(user(), arn=USER_ARN.replace("alice", "bob"), policies=(shared,), tags=(("team", "red"),))
    assert "s3:GetObject" in compute_grants(blue, U).actions
    assert "s3:GetObject" not in compute_grants(red, U).actions


def test_a_deny_of_assume_role_decided_true_counts_for_may_assume():
    held = user(allow("sts:AssumeRole"), deny("sts:AssumeRole", TEAM_BLUE))
    assert not may_assume(compute_grants(held, U), ROLE_ARN)
    other = user(allow("sts:AssumeRole"), deny("sts:AssumeRole", TEAM_RED))
    assert may_assume(compute_grants(other, U), ROLE_ARN)


def test_trust_policies_decide_the_callers_tags_when_the_caller_is_known():
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": ACCOUNT},
                "Action": "sts:AssumeRole",
                "Condition": {"StringEquals": {"aws:PrincipalTag/team": "red"}},
            }
        ],
    }
    target = role(trust=trust)
    caller = user()
    assert not trust_admits(target, caller.arn, caller)
    assert trust_admits(target, caller.arn)  # without the caller: the tag is not known, the Allow admits


def test_a_statement_ruled_out_for_the_caller_is_not_blamed_for_a_grant():
    from ctlint.attribution import attribute
    from ctlint.policy import statement_actions

    held = user(allow("s3:GetObject", TEAM_RED), allow("s3:GetObject"))
    grants = compute_grants(held, U)
    attribution = attribute(held, grants.actions, lambda stmt: statement_actions(stmt, U))
    assert [ref.index for ref in attribution.statements_of("s3:GetObject")] == [2]


def test_knowing_less_never_changes_a_decided_answer():
    """Partial facts (unknown tags, no organisation, a role that admits session tags, no unique id) may
    only turn answers into "conditional": every granted / not granted answer must be the one the full
    facts give. Seeded random policies with the differential test's caller conditions."""
    import random

    from tests.test_policy_oracle import random_caller_test

    rng = random.Random(1515)
    actions = ["s3:GetObject", "s3:PutObject", "iam:PassRole", "sts:AssumeRole"]
    checked = decided_by_full = 0
    for _ in range(300):
        statements = []
        for _ in range(rng.randint(1, 4)):
            stmt = {
                "Effect": rng.choice(("Allow", "Allow", "Deny")),
                "Action": rng.choice(actions),
                "Resource": "*",
            }
            if rng.random() < 0.8:
                stmt["Condition"] = random_caller_test(rng)
            statements.append(stmt)
        tags = tuple((k, rng.choice(("blue", "red", "Blue"))) for k in ("team", "cost") if rng.random() < 0.6)
        full = (user if rng.random() < 0.5 else role)(*statements, tags=tags, organization_id="o-abc123")
        partials = [
            replace(full, tags_complete=False),
            replace(full, tags=tags[:1], tags_complete=False),
            replace(full, organization_id=None),
            replace(full, unique_id=None),
        ]
        if full.type == "role":
            partials.append(
                replace(
                    full,
                    trust_policy=parse_policy_document(WITH_TAG_SESSION, name="t", kind="trust", where="t"),
                )
            )
        truth = compute_grants(full, U)
        for partial in partials:
            grants = compute_grants(partial, U)
            for action in actions:
                checked += 1
                if action in grants.conditional:
                    continue
                decided_by_full += 1
                assert (action in grants.actions) == (action in truth.actions), (statements, partial, action)
                assert action not in truth.conditional, (statements, partial, action)
    assert checked > 4000 and decided_by_full > checked // 2


def test_a_deny_on_an_unknown_fact_of_the_caller_leaves_the_grant_conditional():
    # No request gets past a Deny on a fact the principal has: unknown, it keeps the grant uncertain.
    held = user(allow("s3:GetObject"), deny("s3:GetObject", {"Null": {"aws:PrincipalTag/cost": "true"}}))
    assert "s3:GetObject" not in compute_grants(held, U).actions  # tags complete: no cost tag, denied
    partial = compute_grants(replace(held, tags_complete=False), U)
    assert partial.conditional == {"s3:GetObject"}
