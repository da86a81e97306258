"""Policy parsing and evaluation against a small fake action universe."""

from __future__ import annotations

import json
from collections.abc import Iterable
from urllib.parse import quote

import pytest

from ctlint.errors import InputError
from ctlint.model import Grants, Principal
from ctlint.policy import compute_grants, granting_statement, may_assume, parse_policy_document, trust_admits
from ctlint.wildcard import matches

ACTIONS = (
    "s3:GetObject",
    "s3:GetObjectAcl",
    "s3:PutObject",
    "s3:ListBucket",
    "s3:DeleteBucket",
    "ec2:DescribeInstances",
    "ec2:RunInstances",
    "iam:PassRole",
    "iam:CreateUser",
    "sts:AssumeRole",
    "sts:GetCallerIdentity",
    "logs:GetLogEvents",
)


class FakeUniverse:
    """The catalog's contract on a dozen actions; counts expansions to prove caching."""

    def __init__(self, actions: Iterable[str] = ACTIONS) -> None:
        self.all_actions = frozenset(actions)
        self.calls = 0

    def expand(self, pattern: str) -> frozenset[str]:
        self.calls += 1
        return frozenset(a for a in self.all_actions if matches(pattern, a))

    def expand_not(self, patterns: Iterable[str]) -> frozenset[str]:
        self.calls += 1
        patterns = list(patterns)
        return frozenset(a for a in self.all_actions if not any(matches(p, a) for p in patterns))


def doc(*statements: dict, kind: str = "inline", name: str = "p"):
    return parse_policy_document(
        {"Version": "2012-10-17", "Statement": list(statements)}, name=name, kind=kind, where=f"test {name}"
    )


def allow(action, **extra) -> dict:
    return {"Effect": "Allow", "Action": action, "Resource": "*", **extra}


def deny(action, **extra) -> dict:
    return {"Effect": "Deny", "Action": action, "Resource": "*", **extra}


def user(*policies, boundary=None, arn="arn:aws:iam::111111111111:user/alice") -> Principal:
    return Principal(
        arn=arn,
        name=arn.rsplit("/", 1)[-1],
        type="user",
        account_id="111111111111",
        policies=tuple(policies),
        boundary=boundary,
    )


def role(trust: dict | None, arn="arn:aws:iam::111111111111:role/target") -> Principal:
    trust_doc = None
    if trust is not None:
        trust_doc = parse_policy_document(trust, name="trust", kind="trust", where="test trust")
    return Principal(arn=arn, name="target", type="role", account_id="111111111111", trust_policy=trust_doc)


def grants(*policies, boundary=None, universe=None) -> frozenset[str]:
    return compute_grants(user(*policies, boundary=boundary), universe or FakeUniverse()).actions


# ---------------------------------------------------------------- parsing


def test_parse_accepts_mapping_json_text_and_url_encoded_text():
    raw = {
        "Version": "2012-10-17",
        "Statement": {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"},
    }
    as_text = json.dumps(raw)
    for value in (raw, as_text, quote(as_text, safe="")):
        parsed = parse_policy_document(value, name="n", kind="inline", where="w")
        assert parsed.statements[0].actions == ("s3:GetObject",)
        assert parsed.statements[0].resources == ("*",)
        assert parsed.name == "n" and parsed.kind == "inline"


def test_url_encoded_plus_stays_a_plus():
    text = quote(json.dumps({"Statement": [allow("s3:GetObject", Sid="a+b")]}), safe="")
    assert parse_policy_document(text, name="n", kind="inline", where="w").statements[0].sid == "a+b"


def test_parse_lists_conditions_and_not_fields():
    parsed = doc(
        {
            "Effect": "Deny",
            "NotAction": ["iam:*", "sts:*"],
            "NotResource": "arn:aws:s3:::x",
            "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "false"}},
            "Sid": "NoMfa",
        },
    )
    (stmt,) = parsed.statements
    assert stmt.effect == "Deny" and stmt.actions == () and stmt.not_actions == ("iam:*", "sts:*")
    assert stmt.not_resources == ("arn:aws:s3:::x",) and stmt.resources == ()
    assert stmt.has_condition and stmt.sid == "NoMfa"


def test_parse_trust_principals():
    parsed = parse_policy_document(
        {
            "Statement": [
                {"Effect": "Allow", "Principal": "*", "Action": "sts:AssumeRole"},
                {
                    "Effect": "Allow",
                    "Principal": {
                        "AWS": ["111111111111", "arn:aws:iam::2:root"],
                        "Service": "ec2.amazonaws.com",
                    },
                    "Action": "sts:AssumeRole",
                },
                {
                    "Effect": "Allow",
                    "Principal": {"Federated": "cognito-identity.amazonaws.com"},
                    "Action": "sts:AssumeRoleWithWebIdentity",
                },
            ]
        },
        name="t",
        kind="trust",
        where="w",
    )
    assert [s.principals for s in parsed.statements] == [
        (("*", "*"),),
        (("AWS", "111111111111"), ("AWS", "arn:aws:iam::2:root"), ("Service", "ec2.amazonaws.com")),
        (("Federated", "cognito-identity.amazonaws.com"),),
    ]


@pytest.mark.parametrize(
    ("raw", "fragment"),
    [
        (
            {"Statement": [{"Effect": "Alow", "Action": "*", "Resource": "*"}]},
            "Effect 'Alow' is not Allow or Deny",
        ),
        ({"Statement": [{"Action": "*", "Resource": "*"}]}, "Effect None is not Allow or Deny"),
        ({"Statement": []}, "empty Statement"),
        ({"Version": "2012-10-17"}, "has no Statement"),
        ({"Statement": "Allow everything"}, "Statement must be an object or a list"),
        ({"Statement": ["x"]}, "statement 1 is not an object"),
        ({"Statement": [{"Effect": "Allow", "Resource": "*"}]}, "neither Action nor NotAction"),
        (
            {"Statement": [{"Effect": "Allow", "Action": "*", "NotAction": "s3:*"}]},
            "both Action and NotAction",
        ),
        (
            {"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*", "NotResource": "*"}]},
            "both Resource and NotResource",
        ),
        ({"Statement": [{"Effect": "Allow", "Action": 3}]}, "Action must be a string or a list of strings"),
        ({"Statement": [{"Effect": "Allow", "Action": []}]}, "Action is an empty list"),
        (
            {"Statement": [{"Effect": "Allow", "Action": "*", "Condition": "yes"}]},
            "Condition must be an object",
        ),
        (
            {"Statement": [{"Effect": "Allow", "Action": "*", "Principal": {"Robot": "x"}}]},
            "unknown principal type",
        ),
        ('{"Statement": [', "not valid JSON"),
        ("%7B%22Statement%22%3A%ff%7D", "not valid URL-encoded UTF-8"),
        ("[1, 2]", "JSON list, not an object"),
        (42, "int, not an object or a string"),
    ],
)
def test_parse_errors_name_the_document(raw, fragment):
    with pytest.raises(InputError) as info:
        parse_policy_document(
            raw, name="x", kind="inline", where="iam/demo.json: role admin, inline policy 'x'"
        )
    assert str(info.value).startswith("iam/demo.json: role admin, inline policy 'x': ")
    assert fragment in str(info.value)


def test_statement_sid_appears_in_errors():
    with pytest.raises(InputError, match=r"statement 2 \(Second\): Effect 'allow'"):
        doc(allow("*"), {"Sid": "Second", "Effect": "allow", "Action": "*"})


# ---------------------------------------------------------------- grants


def test_star_and_service_wildcards_case_insensitive():
    assert grants(doc(allow("*"))) == frozenset(ACTIONS)
    assert grants(doc(allow("S3:get*"))) == {"s3:GetObject", "s3:GetObjectAcl"}
    assert grants(doc(allow("s3:GetObject???"))) == {"s3:GetObjectAcl"}
    assert grants(doc(allow(["ec2:*", "iam:PassRole"]))) == {
        "ec2:DescribeInstances",
        "ec2:RunInstances",
        "iam:PassRole",
    }


def test_not_action_is_complement_within_universe():
    assert grants(doc({"Effect": "Allow", "NotAction": ["iam:*", "sts:*"], "Resource": "*"})) == {
        a for a in ACTIONS if not a.startswith(("iam:", "sts:"))
    }


def test_unconditional_star_deny_subtracts():
    assert grants(doc(allow("s3:*"), deny("s3:Delete*"))) == {
        "s3:GetObject",
        "s3:GetObjectAcl",
        "s3:PutObject",
        "s3:ListBucket",
    }
    # A Resource list containing "*" covers everything, too.
    assert "s3:PutObject" not in grants(
        doc(allow("s3:*")), doc(deny("s3:PutObject", Resource=["arn:aws:s3:::a", "*"]))
    )


def test_not_action_deny_subtracts_everything_else():
    got = grants(doc(allow("*"), {"Effect": "Deny", "NotAction": "s3:*", "Resource": "*"}))
    assert got == {a for a in ACTIONS if a.startswith("s3:")}


@pytest.mark.parametrize(
    "scoped_deny",
    [
        deny("s3:PutObject", Condition={"Bool": {"aws:SecureTransport": "false"}}),
        deny("s3:PutObject", Resource="arn:aws:s3:::bucket/*"),
        {"Effect": "Deny", "Action": "s3:PutObject", "NotResource": "arn:aws:s3:::bucket/*"},
    ],
)
def test_scoped_deny_does_not_remove_grant(scoped_deny):
    assert "s3:PutObject" in grants(doc(allow("s3:*"), scoped_deny))


def test_allow_counts_whatever_its_resource_or_condition():
    got = grants(
        doc(
            allow(
                "s3:GetObject",
                Resource="arn:aws:s3:::b/*",
                Condition={"IpAddress": {"aws:SourceIp": "1.2.3.4"}},
            )
        )
    )
    assert got == {"s3:GetObject"}


def test_boundary_intersects_and_its_deny_subtracts():
    identity = doc(allow(["s3:*", "ec2:*"]))
    boundary = doc(allow(["s3:*", "logs:*"]), deny("s3:DeleteBucket"), kind="boundary", name="b")
    assert grants(identity, boundary=boundary) == {
        "s3:GetObject",
        "s3:GetObjectAcl",
        "s3:PutObject",
        "s3:ListBucket",
    }
    # A boundary alone grants nothing.
    assert grants(boundary=boundary) == frozenset()


def test_deny_in_any_policy_wins_over_allow_in_another():
    assert grants(doc(allow("*"), name="a"), doc(deny("iam:*"), name="b")) == {
        a for a in ACTIONS if not a.startswith("iam:")
    }


def test_unknown_patterns_only_from_allow_action():
    p = user(
        doc(allow(["s3:GetObjet", "s3:GetObject", "nosuch:*"])),
        doc(deny("s3:Typo"), {"Effect": "Allow", "NotAction": "ec2:Nothing", "Resource": "*"}, name="q"),
    )
    g = compute_grants(p, FakeUniverse())
    assert g.unknown_patterns == ("nosuch:*", "s3:GetObjet")


def test_assume_role_resources_and_may_assume():
    p = user(
        doc(
            allow("sts:AssumeRole", Resource=["arn:aws:iam::111111111111:role/deploy-*"]),
            allow("s3:GetObject"),
        )
    )
    g = compute_grants(p, FakeUniverse())
    assert g.assume_role_resources == ("arn:aws:iam::111111111111:role/deploy-*",)
    assert may_assume(g, "arn:aws:iam::111111111111:role/deploy-prod")
    assert not may_assume(g, "arn:aws:iam::111111111111:role/admin")
    # sts:* and * grant sts:AssumeRole too.
    assert compute_grants(user(doc(allow("sts:*"))), FakeUniverse()).assume_role_resources == ("*",)
    # Denied everywhere: no assumable resources.
    denied = compute_grants(user(doc(allow("*"), deny("sts:AssumeRole"))), FakeUniverse())
    assert denied.assume_role_resources == ()
    assert not may_assume(denied, "arn:aws:iam::111111111111:role/deploy-prod")


def test_may_assume_on_plain_grants():
    g = Grants(principal_arn="a", actions=frozenset(), assume_role_resources=("arn:aws:iam::1:role/a?",))
    assert may_assume(g, "arn:aws:iam::1:role/ab") and not may_assume(g, "arn:aws:iam::1:role/abc")


def test_expansion_cached_per_pattern_and_document():
    universe = FakeUniverse()
    shared = doc(allow(["s3:*", "ec2:Describe*"]), deny("s3:DeleteBucket"), name="shared")
    principals = [
        user(shared, doc(allow("logs:*"), name=f"own{i}"), arn=f"arn:aws:iam::1:user/u{i}") for i in range(50)
    ]
    results = [compute_grants(principals[0], universe)]
    calls_for_one = universe.calls
    results += [compute_grants(p, universe) for p in principals[1:]]
    # Every pattern is expanded once, whatever the number of principals holding it.
    assert universe.calls == calls_for_one <= 5
    assert all(r.actions == results[0].actions for r in results)
    assert [r.principal_arn for r in results] == [p.arn for p in principals]


def test_distinct_universes_do_not_share_caches():
    small = FakeUniverse(("s3:GetObject",))
    p = user(doc(allow("s3:*")))
    assert compute_grants(p, FakeUniverse()).actions != compute_grants(p, small).actions
    assert compute_grants(p, small).actions == {"s3:GetObject"}


def test_granting_statement():
    first = doc(allow("ec2:*"), name="first")
    second = doc(deny("s3:*"), allow("s3:Get*"), name="second")
    p = user(first, second)
    found = granting_statement(p, "s3:GetObject", FakeUniverse())
    assert found is not None
    assert found[0] is second and found[1] is second.statements[1]
    assert granting_statement(p, "iam:PassRole", FakeUniverse()) is None


# ---------------------------------------------------------------- trust policies

SOURCE = "arn:aws:iam::111111111111:user/alice"


def trust(principal, action="sts:AssumeRole", effect="Allow", **extra) -> dict:
    return {
        "Version": "2012-10-17",
        "Statement": [{"Effect": effect, "Principal": principal, "Action": action, **extra}],
    }


@pytest.mark.parametrize(
    "principal",
    [
        {"AWS": SOURCE},
        {"AWS": ["arn:aws:iam::999999999999:root", SOURCE]},
        {"AWS": "arn:aws:iam::111111111111:root"},
        {"AWS": "111111111111"},
        {"AWS": "*"},
        "*",
    ],
)
def test_trust_admits_source_its_account_or_anyone(principal):
    assert trust_admits(role(trust(principal)), SOURCE)


@pytest.mark.parametrize(
    "action", ["sts:AssumeRole", "sts:AssumeRole*", "sts:*", "*", ["s3:x", "STS:assumerole"]]
)
def test_trust_action_forms(action):
    assert trust_admits(role(trust({"AWS": SOURCE}, action=action)), SOURCE)


@pytest.mark.parametrize(
    "policy",
    [
        trust({"Service": "ec2.amazonaws.com"}),
        trust({"Federated": "arn:aws:iam::111111111111:saml-provider/okta"}, action="sts:AssumeRoleWithSAML"),
        trust({"AWS": "arn:aws:iam::222222222222:root"}),
        trust({"AWS": "222222222222"}),
        trust({"AWS": "arn:aws:iam::111111111111:user/bob"}),
        trust({"AWS": SOURCE}, action="sts:AssumeRoleWithWebIdentity"),
        trust({"AWS": SOURCE}, action="sts:TagSession"),
        None,
    ],
)
def test_trust_does_not_admit(policy):
    assert not trust_admits(role(policy), SOURCE)


def test_trust_unconditional_deny_wins_conditional_does_not():
    base = trust({"AWS": "111111111111"})
    base["Statement"].append({"Effect": "Deny", "Principal": {"AWS": SOURCE}, "Action": "sts:AssumeRole"})
    assert not trust_admits(role(base), SOURCE)
    assert trust_admits(role(base), "arn:aws:iam::111111111111:user/bob")
    base["Statement"][1]["Condition"] = {"Bool": {"aws:MultiFactorAuthPresent": "false"}}
    assert trust_admits(role(base), SOURCE)


def test_trust_allow_with_condition_still_admits():
    policy = trust({"AWS": SOURCE}, Condition={"StringEquals": {"sts:ExternalId": "x"}})
    assert trust_admits(role(policy), SOURCE)


def test_trust_not_action():
    policy = {"Statement": [{"Effect": "Allow", "Principal": {"AWS": SOURCE}, "NotAction": "sts:TagSession"}]}
    assert trust_admits(role(policy), SOURCE)
    policy["Statement"][0]["NotAction"] = "sts:Assume*"
    assert not trust_admits(role(policy), SOURCE)


def test_trust_for_role_source():
    source_role = "arn:aws:iam::111111111111:role/ci"
    assert trust_admits(role(trust({"AWS": source_role})), source_role)
    assert trust_admits(role(trust({"AWS": "111111111111"})), source_role)
    assert not trust_admits(role(trust({"AWS": source_role})), SOURCE)


def test_large_universe_results_match_plain_set_algebra():
    # > 64 actions exercises the dense bitset paths (the small universes above stay sparse).
    universe = FakeUniverse([f"svc{i % 7}:Action{i}" for i in range(300)])
    everything = universe.all_actions
    svc1 = {a for a in everything if a.startswith("svc1:")}
    cases = [
        ([doc(allow("*"), deny("svc1:*"))], None, everything - svc1),
        (
            [
                doc({"Effect": "Allow", "NotAction": "svc2:*", "Resource": "*"}),
                doc(allow("svc2:Action2"), name="q"),
            ],
            None,
            {a for a in everything if not a.startswith("svc2:")} | {"svc2:Action2"},
        ),
        (
            [doc(allow("*"))],
            doc(allow(["svc1:*", "svc3:*"]), kind="boundary", name="b"),
            {a for a in everything if a.startswith(("svc1:", "svc3:"))},
        ),
        (
            [doc(allow("svc0:*"), allow("svc4:Action1?"))],
            None,
            {a for a in everything if a.startswith("svc0:") or a.startswith("svc4:Action1") and len(a) == 13},
        ),
    ]
    for policies, boundary, expected in cases:
        assert compute_grants(user(*policies, boundary=boundary), universe).actions == expected


def test_action_outside_all_actions_is_not_lost():
    class Leaky(FakeUniverse):
        def expand(self, pattern):
            extra = {"new:Action"} if matches(pattern, "new:Action") else set()
            return super().expand(pattern) | extra

    got = compute_grants(user(doc(allow(["s3:GetObject", "new:*"]))), Leaky()).actions
    assert got == {"s3:GetObject", "new:Action"}
