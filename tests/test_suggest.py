"""`ctlint suggest`'s core on a scenario with known usage (actions and resources) and on the demo: every
suggested document, evaluated by ctlint's own policy engine, allows each granted (action, resource) the
principal used and no granted action it never used; it is never broader than today's grant, valid IAM
grammar, and within IAM's size limits."""

from __future__ import annotations

import random
from dataclasses import replace as change
from datetime import date, datetime, timezone
from pathlib import Path

import pytest
from suggest_proof import allows, at_most, check_documents, sample_arns, suggested_principal

from ctlint.catalog import Catalog
from ctlint.model import (
    ActionUse,
    AllowlistEntry,
    PolicyDocument,
    Principal,
    PrincipalUsage,
    Statement,
    Usage,
    Window,
)
from ctlint.observability import visibility
from ctlint.options import InputOptions
from ctlint.pipeline import analyse
from ctlint.policy import compute_grants, parse_policy_document
from ctlint.suggest import PrincipalInput, SuggestOptions, rightsize_statement, suggest_policy
from ctlint.suggest.actions import compress_actions
from ctlint.suggest.limits import ATTACHED_POLICIES_DEFAULT, MANAGED_POLICY_CHARS
from ctlint.suggest.run import allowlisted_actions, suggest_all

ROOT = Path(__file__).resolve().parents[1]
ACCOUNT = "111111111111"
ARN = f"arn:aws:iam::{ACCOUNT}:role/app"
WINDOW = Window(datetime(2026, 6, 1, tzinfo=timezone.utc), datetime(2026, 11, 1, tzinfo=timezone.utc))
SEEN = datetime(2026, 7, 1, tzinfo=timezone.utc)

APP_POLICY = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "data-buckets",
            "Effect": "Allow",
            "Action": "s3:*",
            "Resource": ["arn:aws:s3:::data-*", "arn:aws:s3:::data-*/*"],
        },
        {
            "Sid": "Tables",
            "Effect": "Allow",
            "Action": ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query"],
            "Resource": f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/*",
            "Condition": {"StringEquals": {"aws:RequestedRegion": "us-east-1"}},
        },
        {"Effect": "Allow", "Action": ["s3:ListAllMyBuckets", "ec2:DescribeInstances"], "Resource": "*"},
        {"Effect": "Allow", "Action": ["sqs:SendMessage", "sqs:ReceiveMessage"], "Resource": "*"},
        {"Effect": "Deny", "Action": "s3:DeleteObject", "Resource": "arn:aws:s3:::data-prod/*"},
        {"Effect": "Allow", "Action": "iam:PassRole", "Resource": f"arn:aws:iam::{ACCOUNT}:role/app-*"},
    ],
}
# What the records show: action -> resources (some collapsed with `*`; one outside the grant).
USED = {
    "s3:GetObject": {
        "arn:aws:s3:::data-prod/reports/2026.csv",
        "arn:aws:s3:::data-dev/x",
        "arn:aws:s3:::other/y",
    },
    "s3:PutObject": {"arn:aws:s3:::data-dev/out/*"},
    "s3:ListBucket": {"arn:aws:s3:::data-prod"},
    "s3:DeleteObject": {"arn:aws:s3:::data-dev/tmp/1"},
    "dynamodb:GetItem": {f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/orders"},
    "dynamodb:Query": set(),
    "s3:ListAllMyBuckets": set(),
    "sqs:SendMessage": {f"arn:aws:sqs:us-east-1:{ACCOUNT}:jobs"},
    "ec2:RunInstances": set(),  # used, never granted
}
DATA_EVENTS = frozenset({"s3", "dynamodb", "sqs"})


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return Catalog.load()


def app_principal(policy=APP_POLICY) -> Principal:
    document = parse_policy_document(policy, name="app", kind="inline", where="test")
    return Principal(arn=ARN, name="app", type="role", account_id=ACCOUNT, policies=(document,))


def scenario(catalog, *, used=USED, options=None, allowlisted=frozenset(), principal=None):
    principal = principal or app_principal()
    facts = PrincipalInput(
        principal=principal,
        account_name="prod",
        grants=compute_grants(principal, catalog),
        used=frozenset(used),
        resources={a: frozenset(r) for a, r in used.items() if r},
        allowlisted=allowlisted,
    )
    seen = visibility(catalog, DATA_EVENTS)
    return principal, suggest_policy(facts, seen, catalog, options)


def statement_for(suggestion, action):
    return [
        s
        for d in suggestion.documents
        for s in d["Statement"]
        if s["Effect"] == "Allow" and any(a == action or a.endswith("*") for a in s["Action"])
    ]


# ---------------------------------------------------------------- the scenario, point by point


def test_actions_sort_into_kept_removed_and_review(catalog):
    _, s = scenario(catalog)
    assert set(s.used) == set(USED) - {"ec2:RunInstances"}
    assert s.review == ("ec2:RunInstances",)
    # Never recorded (iam:PassRole, a few s3 actions): kept, in statements that say so.
    seen = visibility(catalog, DATA_EVENTS)
    assert "iam:PassRole" in s.unobservable and not set(s.unobservable) & seen.observable
    assert {"dynamodb:PutItem", "sqs:ReceiveMessage", "ec2:DescribeInstances", "s3:DeleteBucket"} <= set(
        s.removed
    )
    kinds = {st.purpose for st in s.statements}
    assert kinds == {"used", "unobservable", "deny"}
    sids = [st["Sid"] for d in s.documents for st in d["Statement"]]
    assert any(sid.endswith("NotRecordedByCloudTrail") for sid in sids)
    check_documents(s)


def test_resources_are_narrowed_to_what_the_records_show_within_the_grant(catalog):
    _, s = scenario(catalog)
    (get,) = [st for d in s.documents for st in d["Statement"] if "s3:GetObject" in st.get("Action", ())]
    # The used objects the statement covers; the one outside the grant is not added (a note says so);
    # the access-point type the records never show keeps the statement's own patterns for it.
    assert "arn:aws:s3:::data-prod/reports/2026.csv" in get["Resource"]
    assert "arn:aws:s3:::data-dev/x" in get["Resource"]
    assert not any("other" in r for r in get["Resource"])
    assert any("other/y" in note for note in s.notes)
    (put,) = [st for d in s.documents for st in d["Statement"] if "s3:PutObject" in st.get("Action", ())]
    assert put["Resource"] == ["arn:aws:s3:::data-dev/out/*"]
    (send,) = [st for d in s.documents for st in d["Statement"] if "sqs:SendMessage" in st.get("Action", ())]
    assert send["Resource"] == [f"arn:aws:sqs:us-east-1:{ACCOUNT}:jobs"]
    (listing,) = [
        st for d in s.documents for st in d["Statement"] if "s3:ListAllMyBuckets" in st.get("Action", ())
    ]
    assert listing["Resource"] == ["*"]  # it takes only `*`


def test_conditions_stay_with_the_actions_they_guarded_and_denies_come_along(catalog):
    _, s = scenario(catalog)
    tables = [st for d in s.documents for st in d["Statement"] if "dynamodb:GetItem" in st.get("Action", ())]
    assert tables and all(
        st["Condition"] == {"StringEquals": {"aws:RequestedRegion": ["us-east-1"]}} for st in tables
    )
    query = [st for d in s.documents for st in d["Statement"] if "dynamodb:Query" in st.get("Action", ())]
    assert query[0]["Resource"] == [f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/*"]  # no ARN known
    (deny,) = [st for d in s.documents for st in d["Statement"] if st["Effect"] == "Deny"]
    assert deny["Action"] == ["s3:DeleteObject"] and deny["Resource"] == ["arn:aws:s3:::data-prod/*"]


def test_suggestion_allows_every_used_granted_resource_and_nothing_unused(catalog):
    principal, s = scenario(catalog)
    check_documents(s)
    suggested = suggested_principal(principal, s)
    for action, resources in USED.items():
        for resource in sorted(resources) or sample_arns(action, catalog, ACCOUNT):
            concrete = resource.replace("*", "file.txt")
            today = allows(principal, action, concrete, catalog)
            if today != "no":
                assert allows(suggested, action, concrete, catalog) == today, (action, concrete)
    granted = compute_grants(suggested, catalog).actions
    assert granted == set(s.used) | set(s.unobservable)
    _, dropped = scenario(catalog, options=SuggestOptions(drop_unobservable=True))
    assert compute_grants(suggested_principal(principal, dropped), catalog).actions == set(dropped.used)


def test_suggestion_is_never_broader_than_todays_grant(catalog):
    principal, s = scenario(catalog)
    suggested = suggested_principal(principal, s)
    extra = ["arn:aws:s3:::data-dev/out/file.txt", "arn:aws:s3:::data-prod/a", "arn:aws:s3:::other/y"]
    for action in sorted(compute_grants(suggested, catalog).actions):
        for arn in [*sample_arns(action, catalog, ACCOUNT), *extra]:
            assert at_most(
                allows(suggested, action, arn, catalog), allows(principal, action, arn, catalog)
            ), (
                action,
                arn,
            )


def test_allowlisted_actions_are_kept_with_their_statements_resources(catalog):
    principal = app_principal()
    entries = (AllowlistEntry(0, "arn:aws:iam::*:role/app", "quarterly job", actions=("sqs:Receive*",)),)
    kept = allowlisted_actions(
        principal, compute_grants(principal, catalog).actions, entries, {"granted-unused"}, date(2026, 12, 1)
    )
    assert kept == {"sqs:ReceiveMessage"}
    _, s = scenario(catalog, allowlisted=kept)
    assert s.allowlisted == ("sqs:ReceiveMessage",)
    (receive,) = [st for d in s.documents for st in d["Statement"] if "sqs:ReceiveMessage" in st["Action"]]
    assert receive["Resource"] == ["*"] and receive["Sid"].endswith("KeptByAllowlist")
    # An expired entry, or one for other rules, keeps nothing.
    expired = (AllowlistEntry(0, "*", "old", actions=("*",), expires=date(2026, 1, 1)),)
    other_rule = (AllowlistEntry(0, "*", "actor", rules=("unused-actor",)),)
    for entry in (expired, other_rule):
        assert not allowlisted_actions(
            principal, frozenset({"sqs:ReceiveMessage"}), entry, {"granted-unused"}, date(2026, 12, 1)
        )


def test_hostile_resources_from_the_logs_never_reach_a_document(catalog):
    hostile = {
        "s3:GetObject": {
            "arn:aws:s3:::data-dev/a\nb",
            "arn:aws:s3:::data-dev/\u202eevil",
            "not-an-arn",
            "arn:aws:s3:::data-dev/ok",
        }
    }
    _, s = scenario(catalog, used=hostile)
    check_documents(s)
    resources = [r for d in s.documents for st in d["Statement"] for r in st.get("Resource", ())]
    assert "arn:aws:s3:::data-dev/ok" in resources
    assert not any("\n" in r or "\u202e" in r or r == "not-an-arn" for r in resources)


# ---------------------------------------------------------------- the per-statement function


def test_rightsize_statement_keeps_only_used_actions_on_covered_resources(catalog):
    (stmt,) = parse_policy_document(
        {"Statement": {"Effect": "Allow", "NotAction": "iam:*", "NotResource": "arn:aws:s3:::secret/*"}},
        name="p",
        kind="inline",
        where="t",
    ).statements
    used = {
        "s3:GetObject": frozenset({"arn:aws:s3:::public/a", "arn:aws:s3:::secret/b"}),
        "iam:GetUser": frozenset(),
    }
    sized = rightsize_statement(stmt, used, catalog)
    assert sized.placed == {"s3:GetObject"}
    (only,) = sized.statements
    # The object outside the NotResource is kept; the unseen access-point type keeps the NotResource
    # whole (it cannot be cut to a type), which is exactly today's grant for it.
    assert only.to_json()["NotResource"] == ["arn:aws:s3:::secret/*"]
    with pytest.raises(ValueError):
        rightsize_statement(
            parse_policy_document(
                {"Statement": {"Effect": "Deny", "Action": "*", "Resource": "*"}},
                name="d",
                kind="inline",
                where="t",
            ).statements[0],
            used,
            catalog,
        )


def test_rightsize_statement_reports_actions_it_cannot_place(catalog):
    (stmt,) = parse_policy_document(
        {"Statement": {"Effect": "Allow", "Action": "s3:*", "Resource": "arn:aws:s3:::b/*"}},
        name="p",
        kind="inline",
        where="t",
    ).statements
    used = {"s3:ListAllMyBuckets": frozenset(), "s3:GetObject": frozenset({"arn:aws:s3:::c/k"})}
    sized = rightsize_statement(stmt, used, catalog)
    # ListAllMyBuckets takes only `*`, which `b/*` never matches; c/k is outside b/* entirely.
    assert sized.unplaced == {"s3:ListAllMyBuckets", "s3:GetObject"} and not sized.statements


# ---------------------------------------------------------------- wildcards and size limits


def test_wildcards_name_exactly_the_wanted_actions(catalog):
    rng = random.Random(18)
    for service in ("s3", "ec2", "iam", "kms"):
        names = sorted(catalog.service_actions(service))
        for _ in range(5):
            wanted = set(rng.sample(names, rng.randint(1, len(names))))
            if rng.random() < 0.5:
                wanted |= set(catalog.expand(f"{service}:Get*"))
            patterns = compress_actions(wanted, catalog)
            named = set().union(*(catalog.expand(p) for p in patterns))
            assert named == wanted, service
    assert compress_actions(catalog.expand("s3:Get*"), catalog) == ("s3:Get*",)
    assert compress_actions({"s3:GetObject"}, catalog) == ("s3:GetObject",)
    assert compress_actions(catalog.all_actions, catalog) == ("*",)


def test_large_suggestions_are_split_within_the_size_limit_and_the_count_is_noted(catalog):
    rng = random.Random(7)
    admin = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
    principal = app_principal(admin)
    seen = visibility(catalog, DATA_EVENTS)
    used = {a: set() for a in rng.sample(sorted(seen.observable), 3000)}
    _, s = scenario(catalog, used=used, principal=principal, options=SuggestOptions(drop_unobservable=True))
    assert len(s.documents) > ATTACHED_POLICIES_DEFAULT
    assert all(chars <= MANAGED_POLICY_CHARS for chars in s.document_chars)
    assert all(chars > 0.95 * MANAGED_POLICY_CHARS for chars in s.document_chars[:-1])  # filled up
    assert any("managed policies" in note for note in s.notes)
    check_documents(s)
    assert compute_grants(suggested_principal(principal, s), catalog).actions == set(used)


# ---------------------------------------------------------------- the demo


def test_demo_suggestions_allow_what_was_used_and_nothing_unused(catalog, monkeypatch):
    monkeypatch.chdir(ROOT)
    analysis = analyse(
        InputOptions(config="examples/demo/ctlint.yaml", collect_resources=True),
        now=datetime(2026, 12, 1, tzinfo=timezone.utc),
    )
    config = analysis.config
    seen = visibility(catalog, config.data_events, config.trail)
    suggestions = suggest_all(
        analysis.accounts,
        analysis.usage,
        analysis.active,
        analysis.window,
        seen,
        catalog,
        allowlist=config.allowlist,
        grant_rule_ids={"granted-unused"},
        today=date(2026, 12, 1),
        options=SuggestOptions(drop_unobservable=True),
    )
    principals = {p.arn: p for state in analysis.accounts for p in state.inventory.principals}
    assert len(suggestions) >= 8
    used_somewhere = narrowed = 0
    for s in suggestions:
        check_documents(s)
        original = principals[s.principal]
        suggested = suggested_principal(original, s)
        own = analysis.usage.principals.get(s.principal)
        used = set(own.actions) if own else set()
        granted_today = compute_grants(original, catalog).actions
        assert compute_grants(suggested, catalog).actions == used & granted_today - seen.uncontrolled
        logged = analysis.usage.resources.get(s.principal, {})
        for action in used & granted_today:
            # The resources the records name where they name any (the suggestion narrows to those), else
            # a sample of every resource type the action takes.
            named = sorted(r for r in logged.get(action, ()) if "*" not in r)
            narrowed += bool(named)
            for arn in named or sample_arns(action, catalog, s.account):
                if allows(original, action, arn, catalog) != "no":
                    used_somewhere += 1
                    assert allows(suggested, action, arn, catalog) != "no", (s.principal, action, arn)
    assert used_somewhere >= 5
    assert narrowed >= 3  # the demo's records name resources, and the proof covers them
    by_name = {s.name: s for s in suggestions if s.account == ACCOUNT}
    assert by_name["alice"].review == ("s3:CreateBucket",)  # used, never granted: not added
    assert "iam:DeleteUser" in by_name["admin"].removed


def test_usage_field_defaults_to_no_resources():
    usage = Usage(
        window=WINDOW,
        principals={ARN: PrincipalUsage(ARN, "role", {"s3:GetObject": ActionUse(1, SEEN, SEEN)})},
    )
    assert usage.resources == {}


def test_iac_values_ctlint_cannot_read_are_never_guessed(catalog):
    """IaC statements whose Resource is only known at deployment, or whose Condition could not be read,
    are left out with a note naming them: a guess could only widen or drop what they guard."""
    unresolved = Statement(
        "Allow", actions=("dynamodb:GetItem",), resources=('{"Fn::GetAtt": ["Table", "Arn"]}',)
    )
    guarded = Statement("Allow", actions=("sqs:SendMessage",), resources=("*",), has_condition=True)
    plain = Statement("Allow", actions=("s3:ListAllMyBuckets",), resources=("*",))
    document = PolicyDocument(name="iac", kind="inline", statements=(unresolved, guarded, plain))
    principal = change(app_principal(), policies=(document,))
    used = {"dynamodb:GetItem": set(), "sqs:SendMessage": set(), "s3:ListAllMyBuckets": set()}
    _, s = scenario(catalog, used=used, principal=principal)
    check_documents(s)
    kept = {a for d in s.documents for st in d["Statement"] for a in st["Action"]}
    assert kept == {"s3:ListAllMyBuckets"}
    assert any("only known at deployment" in n and "statement 1" in n for n in s.notes)
    assert any("Condition could not be read" in n and "statement 2" in n for n in s.notes)
    assert not any("could not be placed" in n for n in s.notes)


def test_boundary_stays_and_the_suggestion_stays_within_it(catalog):
    boundary = parse_policy_document(
        {"Statement": [{"Effect": "Allow", "Action": ["s3:*", "sqs:*"], "Resource": "*"}]},
        name="b",
        kind="boundary",
        where="test",
    )
    principal = change(app_principal(), boundary=boundary)
    _, s = scenario(catalog, principal=principal)
    check_documents(s)
    suggested = suggested_principal(principal, s)
    assert suggested.boundary is boundary
    granted = compute_grants(suggested, catalog).actions
    assert not any(a.startswith("dynamodb:") for a in granted)  # outside the boundary today, and still
    assert "s3:GetObject" in granted and granted <= set(s.used) | set(s.unobservable)
    assert allows(suggested, "s3:GetObject", "arn:aws:s3:::data-dev/x", catalog) == "granted"


def test_sids_from_hostile_data_are_alphanumeric_and_unique(catalog):
    hostile = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "ünï-côde\n::warning::x",
                "Effect": "Allow",
                "Action": "sqs:SendMessage",
                "Resource": "*",
            },
            {"Sid": "ünï côde", "Effect": "Allow", "Action": "s3:ListAllMyBuckets", "Resource": "*"},
            {"Effect": "Allow", "Action": "iam:PassRole", "Resource": "*"},
        ],
    }
    _, s = scenario(
        catalog,
        principal=app_principal(hostile),
        used={"sqs:SendMessage": set(), "s3:ListAllMyBuckets": set()},
    )
    check_documents(s)  # the schema requires [A-Za-z0-9]+ Sids, unique per document
    sids = [st["Sid"] for d in s.documents for st in d["Statement"]]
    assert sids == ["NCDeWarningXUsed", "NCDeUsed", "App3NotRecordedByCloudTrail"]


def test_a_resource_of_another_type_tells_nothing_and_keeps_the_patterns(catalog):
    used = {"sqs:SendMessage": {"arn:aws:s3:::not-a-queue"}}
    _, s = scenario(catalog, used=used)
    (send,) = [st for d in s.documents for st in d["Statement"] if "sqs:SendMessage" in st["Action"]]
    assert send["Resource"] == ["*"] and not s.notes
