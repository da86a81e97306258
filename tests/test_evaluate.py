"""The rules engine over hand-built inventories and usage, with a small fake catalog."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import date, datetime, timezone

from ctlint.allowlist import apply_allowlist
from ctlint.evaluate import AccountState, EvaluationInput, evaluate, fingerprint
from ctlint.model import (
    ActionUse,
    AllowlistEntry,
    AssumeRoleRow,
    Grants,
    Inventory,
    Level,
    PolicyDocument,
    Principal,
    PrincipalUsage,
    RuleFilters,
    RuleSpec,
    SourceLocation,
    Statement,
    Usage,
    Window,
)

START = datetime(2026, 6, 1, tzinfo=timezone.utc)
END = datetime(2026, 11, 1, tzinfo=timezone.utc)
WINDOW = Window(START, END)
ACCOUNT = "111111111111"


@dataclass(frozen=True)
class Info:
    access_level: str


class FakeCatalog:
    levels = {
        "s3:CreateBucket": "Write",
        "s3:ListAllMyBuckets": "List",
        "s3:GetObject": "Read",
        "iam:PassRole": "Write",
        "iam:CreateUser": "Write",
        "sts:AssumeRole": "Write",
    }
    all_actions = frozenset(levels)
    data = {"s3:GetObject": "s3"}
    never = {"iam:PassRole"}

    def info(self, action):
        return Info(self.levels[action]) if action in self.levels else None

    def is_observable(self, action, data_events):
        if action in self.never:
            return False
        return action not in self.data or self.data[action] in data_events


def rule(kind: str, level: Level = Level.WARNING, **filters) -> RuleSpec:
    return RuleSpec(
        id=kind, kind=kind, level=level, title=kind, description="d", help="h", filters=RuleFilters(**filters)
    )


ALL_RULES = tuple(
    rule(k)
    for k in (
        "granted-unused",
        "granted-unknown",
        "used-not-granted",
        "unused-actor",
        "unused-assume-role",
        "unknown-action",
    )
)


def principal(name: str, kind: str = "user", **extra) -> Principal:
    arn = f"arn:aws:iam::{ACCOUNT}:{kind}/{extra.pop('path', '')}{name}"
    return Principal(
        arn=arn, name=name, type=kind, account_id=ACCOUNT, location=SourceLocation("iam.json", 7), **extra
    )


def trust_account() -> PolicyDocument:
    return PolicyDocument(
        name="trust",
        kind="trust",
        statements=(
            Statement(
                effect="Allow",
                actions=("sts:AssumeRole",),
                principals=(("AWS", f"arn:aws:iam::{ACCOUNT}:root"),),
            ),
        ),
    )


def use(count: int = 1) -> ActionUse:
    moment = datetime(2026, 7, 1, tzinfo=timezone.utc)
    return ActionUse(count, moment, moment)


def run(principals, grants, used, *, rules=ALL_RULES, active=None, assumptions=(), data_events=frozenset()):
    inventory = Inventory(ACCOUNT, "demo", tuple(principals), "iam.json")
    usage = Usage(
        window=WINDOW,
        principals={arn: PrincipalUsage(arn, "user", actions) for arn, actions in used.items()},
        assumptions=tuple(assumptions),
    )
    data = EvaluationInput(
        accounts=(AccountState(inventory, grants),),
        usage=usage,
        active=frozenset(used) if active is None else active,
        rules=tuple(rules),
        data_events=data_events,
    )
    return evaluate(data, FakeCatalog())


def kinds(findings):
    return sorted((f.rule, f.principal.rsplit("/", 1)[1], f.action or f.role or "") for f in findings)


def test_three_verdicts_and_used_not_granted():
    alice = principal("alice")
    grants = {
        alice.arn: Grants(
            alice.arn, frozenset({"s3:ListAllMyBuckets", "s3:CreateBucket", "s3:GetObject", "iam:PassRole"})
        )
    }
    used = {alice.arn: {"s3:ListAllMyBuckets": use(), "iam:CreateUser": use(3)}}
    assert kinds(run([alice], grants, used)) == [
        ("granted-unknown", "alice", "iam:PassRole"),
        ("granted-unknown", "alice", "s3:GetObject"),
        ("granted-unused", "alice", "s3:CreateBucket"),
        ("used-not-granted", "alice", "iam:CreateUser"),
    ]


def test_data_events_make_data_actions_judgeable():
    alice = principal("alice")
    grants = {alice.arn: Grants(alice.arn, frozenset({"s3:GetObject", "s3:ListAllMyBuckets"}))}
    used = {alice.arn: {"s3:ListAllMyBuckets": use()}}
    findings = run([alice], grants, used, data_events=frozenset({"s3"}))
    assert kinds(findings) == [("granted-unused", "alice", "s3:GetObject")]


def test_inactive_principal_gets_one_unused_actor_finding():
    bob = principal("bob")
    grants = {bob.arn: Grants(bob.arn, frozenset({"s3:CreateBucket", "iam:PassRole"}))}
    assert kinds(run([bob], grants, {})) == [("unused-actor", "bob", "")]
    # Without the unused-actor rule, the per-action findings come back.
    rules = [r for r in ALL_RULES if r.kind != "unused-actor"]
    assert kinds(run([bob], grants, {}, rules=rules)) == [
        ("granted-unknown", "bob", "iam:PassRole"),
        ("granted-unused", "bob", "s3:CreateBucket"),
    ]


def test_role_last_used_in_window_makes_a_role_active_and_service_linked_roles_are_skipped():
    job = principal("job", "role", role_last_used=datetime(2026, 10, 1, tzinfo=timezone.utc))
    old = principal("old", "role", role_last_used=datetime(2025, 1, 1, tzinfo=timezone.utc))
    linked = principal("AWSServiceRoleForSupport", "role", path="aws-service-role/support.amazonaws.com/")
    linked = dataclasses.replace(linked, path="/aws-service-role/support.amazonaws.com/")
    grants = {p.arn: Grants(p.arn, frozenset()) for p in (job, old, linked)}
    assert kinds(run([job, old, linked], grants, {})) == [("unused-actor", "old", "")]


def test_unused_assume_role_needs_both_policy_and_trust():
    charlie = principal("charlie")
    admin = principal("admin", "role", trust_policy=trust_account())
    lambda_role = principal(
        "fn",
        "role",
        trust_policy=PolicyDocument(
            "trust",
            "trust",
            (
                Statement(
                    effect="Allow",
                    actions=("sts:AssumeRole",),
                    principals=(("Service", "lambda.amazonaws.com"),),
                ),
            ),
        ),
    )
    auditor = principal("auditor", "role", trust_policy=trust_account())
    grants = {
        charlie.arn: Grants(
            charlie.arn,
            frozenset({"sts:AssumeRole"}),
            assume_role_resources=(f"arn:aws:iam::{ACCOUNT}:role/*",),
        ),
        admin.arn: Grants(admin.arn, frozenset()),
        lambda_role.arn: Grants(lambda_role.arn, frozenset()),
        auditor.arn: Grants(auditor.arn, frozenset()),
    }
    used = {charlie.arn: {"sts:AssumeRole": use()}}
    assumed = [AssumeRoleRow(charlie.arn, admin.arn, "AssumeRole", None, 1, START, START)]
    only = [rule("unused-assume-role")]
    findings = run(
        [charlie, admin, lambda_role, auditor],
        grants,
        used,
        rules=only,
        assumptions=assumed,
        active=frozenset({charlie.arn, admin.arn, lambda_role.arn, auditor.arn}),
    )
    assert [(f.principal, f.role) for f in findings] == [(charlie.arn, auditor.arn)]
    assert findings[0].action is None


def test_filters_and_levels_come_from_the_rule():
    alice = principal("alice")
    grants = {alice.arn: Grants(alice.arn, frozenset({"s3:ListAllMyBuckets", "s3:CreateBucket"}))}
    used = {alice.arn: {"iam:CreateUser": use()}}
    writes = rule("granted-unused", Level.ERROR, access_levels=("Write",))
    findings = run([alice], grants, used, rules=[writes])
    assert [(f.action, f.level) for f in findings] == [("s3:CreateBucket", Level.ERROR)]
    assert findings[0].access_level == "Write"
    assert findings[0].location == SourceLocation("iam.json", 7)
    no_users = rule("granted-unused", principal_types=("role",))
    assert run([alice], grants, used, rules=[no_users]) == []


def test_unknown_action_patterns_are_reported():
    alice = principal("alice")
    grants = {alice.arn: Grants(alice.arn, frozenset(), unknown_patterns=("s3:GetObjet",))}
    findings = run([alice], grants, {alice.arn: {}}, rules=[rule("unknown-action", Level.NOTE)])
    assert [(f.action, f.level) for f in findings] == [("s3:GetObjet", Level.NOTE)]


def test_fingerprints_are_stable_and_depend_on_identity_only():
    a = fingerprint(
        ACCOUNT, "arn:aws:iam::111111111111:user/alice", "granted-unused", "s3:CreateBucket", None
    )
    assert a == fingerprint(
        ACCOUNT, "arn:aws:iam::111111111111:user/alice", "granted-unused", "s3:CreateBucket", None
    )
    assert a != fingerprint(
        "222222222222", "arn:aws:iam::111111111111:user/alice", "granted-unused", "s3:CreateBucket", None
    )
    assert len(a) == 32


def test_output_is_sorted_and_deterministic():
    people = [principal(n) for n in ("zed", "amy")]
    grants = {p.arn: Grants(p.arn, frozenset({"s3:CreateBucket", "iam:CreateUser"})) for p in people}
    used = {p.arn: {"s3:ListAllMyBuckets": use()} for p in people}
    first, second = run(people, grants, used), run(list(reversed(people)), grants, used)
    assert first == second
    assert [f.principal for f in first] == sorted(f.principal for f in first)


def test_allowlist_suppresses_with_reason_and_expired_entries_warn():
    alice, bob = principal("alice"), principal("bob")
    grants = {p.arn: Grants(p.arn, frozenset({"s3:CreateBucket"})) for p in (alice, bob)}
    findings = run([alice, bob], grants, {alice.arn: {"s3:ListAllMyBuckets": use()}})
    entries = [
        AllowlistEntry(0, "arn:aws:iam::*:user/b*", "yearly job", rules=("unused-actor",)),
        AllowlistEntry(1, "arn:aws:iam::*:user/alice", "old", actions=("s3:*",), expires=date(2026, 1, 1)),
    ]
    outcome = apply_allowlist(findings, entries, date(2026, 11, 29))
    assert [(f.rule, f.principal.rsplit("/", 1)[1]) for f in outcome.suppressed] == [("unused-actor", "bob")]
    assert outcome.suppressed[0].suppressed_reason.startswith("yearly job")
    assert [(f.rule, f.action) for f in outcome.findings] == [
        ("granted-unused", "s3:CreateBucket"),
        ("used-not-granted", "s3:ListAllMyBuckets"),
    ]
    assert any("allowlist[1]" in w and "expired on 2026-01-01" in w for w in outcome.warnings)


def test_allowlist_action_globs_do_not_cover_principal_level_findings_unless_star():
    bob = principal("bob")
    findings = run([bob], {bob.arn: Grants(bob.arn, frozenset())}, {})
    narrow = [AllowlistEntry(0, bob.arn, "r", actions=("s3:*",))]
    assert len(apply_allowlist(findings, narrow, date(2026, 11, 29)).findings) == 1
    star = [AllowlistEntry(0, bob.arn, "r", actions=("*",))]
    assert len(apply_allowlist(findings, star, date(2026, 11, 29)).suppressed) == 1


def test_allowlist_principal_glob_also_matches_the_target_role_of_unused_assume_role():
    charlie = principal("charlie")
    yearly = principal("annual-audit", "role", trust_policy=trust_account())
    grants = {
        charlie.arn: Grants(charlie.arn, frozenset(), assume_role_resources=("*",)),
        yearly.arn: Grants(yearly.arn, frozenset()),
    }
    findings = run(
        [charlie, yearly],
        grants,
        {},
        rules=[rule("unused-assume-role")],
        active=frozenset({charlie.arn, yearly.arn}),
    )
    assert [f.role for f in findings] == [yearly.arn]
    entries = [AllowlistEntry(0, "arn:aws:iam::*:role/annual-*", "yearly", rules=("unused-assume-role",))]
    assert len(apply_allowlist(findings, entries, date(2026, 11, 29)).suppressed) == 1


def test_findings_carry_the_public_fingerprint_of_their_identity():
    alice = principal("alice")
    grants = {alice.arn: Grants(alice.arn, frozenset({"s3:CreateBucket", "iam:PassRole"}))}
    for f in run([alice], grants, {alice.arn: {"iam:CreateUser": use()}}):
        assert f.fingerprint == fingerprint(f.account, f.principal, f.rule, f.action, f.role)


def test_the_fast_finding_constructor_builds_an_equal_immutable_finding():
    import dataclasses

    import pytest

    from ctlint.model import EMPTY_MAPPING, Finding, Level, SourceLocation, new_finding

    values = (
        "granted-unused",
        Level.WARNING,
        "111111111111",
        "demo",
        "arn:aws:iam::111111111111:user/a",
        "user",
        "s3:GetObject",
        None,
        "m",
        "f" * 32,
        "Read",
        SourceLocation("iam.json", 3),
        None,
        "new",
        EMPTY_MAPPING,
    )
    fast = new_finding(*values)
    slow = Finding(*values)
    assert type(fast) is Finding and fast == slow and hash(fast) == hash(slow)
    assert [getattr(fast, f.name) for f in dataclasses.fields(Finding)] == list(values)
    with pytest.raises(dataclasses.FrozenInstanceError):
        fast.rule = "other"  # type: ignore[misc]
