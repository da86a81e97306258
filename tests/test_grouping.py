"""Attribution (which statements grant an action) and grouping (one finding per statement and rule)."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timezone

import pytest

from ctlint.attribution import attribute
from ctlint.catalog import Catalog
from ctlint.evaluate import AccountState, EvaluationInput, evaluate
from ctlint.grouped_run import group_run
from ctlint.model import (
    ActionUse,
    Inventory,
    Level,
    Principal,
    PrincipalUsage,
    RuleSpec,
    SourceLocation,
    Usage,
    Window,
)
from ctlint.policy import compute_grants, parse_policy_document, statement_actions

ACCOUNT = "111111111111"
WINDOW = Window(datetime(2026, 6, 1, tzinfo=timezone.utc), datetime(2026, 11, 1, tzinfo=timezone.utc))
RULES = (
    RuleSpec("granted-unused", "granted-unused", Level.WARNING, "t", "d", "h"),
    RuleSpec("granted-unknown", "granted-unknown", Level.NOTE, "t", "d", "h"),
    RuleSpec("unused-actor", "unused-actor", Level.WARNING, "t", "d", "h"),
)


@pytest.fixture(scope="module")
def catalog():
    return Catalog.load()


def _doc(name, statements, *, kind="inline", line=10, via_group=None):
    return parse_policy_document(
        {"Version": "2012-10-17", "Statement": statements},
        name=name,
        kind=kind,
        where=name,
        location=SourceLocation("iam.json", line),
        via_group=via_group,
    )


def _principal(*docs, boundary=None, name="deployer"):
    return Principal(
        arn=f"arn:aws:iam::{ACCOUNT}:role/{name}",
        name=name,
        type="role",
        account_id=ACCOUNT,
        policies=docs,
        boundary=boundary,
        location=SourceLocation("iam.json", 1),
    )


def _run(catalog, principal, used=()):
    grants = {principal.arn: compute_grants(principal, catalog)}
    inventory = Inventory(ACCOUNT, "demo", (principal,), "iam.json")
    accounts = (AccountState(inventory, grants),)
    use = ActionUse(3, WINDOW.start, datetime(2026, 7, 4, tzinfo=timezone.utc))
    usage = Usage(WINDOW, {principal.arn: PrincipalUsage(principal.arn, "role", dict.fromkeys(used, use))})
    active = frozenset({principal.arn}) if used else frozenset()
    data = EvaluationInput(accounts, usage, active, RULES)
    findings = evaluate(data, catalog)
    return findings, group_run(accounts, usage, active, WINDOW, catalog, (), RULES, findings, ())


def test_statement_actions_expands_action_and_not_action(catalog):
    doc = _doc("p", [{"Effect": "Allow", "Action": "s3:Get*", "Resource": "*"}])
    actions = statement_actions(doc.statements[0], catalog)
    assert "s3:GetObject" in actions and all(a.startswith("s3:Get") for a in actions)


def test_an_action_granted_by_two_statements_belongs_to_each_and_says_so(catalog):
    doc = _doc(
        "deploy",
        [
            {
                "Sid": "Buckets",
                "Effect": "Allow",
                "Action": ["s3:CreateBucket", "s3:DeleteBucket"],
                "Resource": "*",
            },
            {"Effect": "Allow", "Action": ["s3:DeleteBucket", "iam:CreateUser"], "Resource": "*"},
        ],
    )
    principal = _principal(doc)
    findings, grouped = _run(catalog, principal, used=["iam:CreateUser"])
    unused = [g for g in grouped.groups if g.rule == "granted-unused"]
    assert [(g.statement.index, g.actions) for g in unused] == [
        (1, ("s3:CreateBucket", "s3:DeleteBucket")),
        (2, ("s3:DeleteBucket",)),
    ]
    first, second = unused
    assert first.statement.sid == "Buckets"
    assert (
        "(Sid Buckets)" in first.message and "1 of them is also granted by another statement" in first.message
    )
    assert first.properties["also_granted_by"] == {"s3:DeleteBucket": ["inline policy 'deploy' statement 2"]}
    assert second.properties["statement_used"] == {"iam:CreateUser": "2026-07-04T00:00:00+00:00"}
    assert "1 used in the window (iam:CreateUser); 1 never used (s3:DeleteBucket)" in second.message
    # The atoms are the evaluator's own findings, fingerprints untouched.
    assert {f.fingerprint for g in unused for f in g.findings} == {
        f.fingerprint for f in findings if f.rule == "granted-unused"
    }


def test_deny_and_boundary_narrow_what_a_statement_is_blamed_for(catalog):
    allow = _doc("all-s3", [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}])
    deny = _doc("no-delete", [{"Effect": "Deny", "Action": "s3:Delete*", "Resource": "*"}])
    boundary = _doc("fence", [{"Effect": "Allow", "Action": ["s3:Get*", "s3:Delete*"], "Resource": "*"}])
    principal = _principal(allow, deny, boundary=boundary)
    attribution = attribute(
        principal, compute_grants(principal, catalog).actions, lambda s: statement_actions(s, catalog)
    )
    (grant,) = attribution.grants  # the Deny statement grants nothing
    assert grant.statement.policy == "all-s3"
    assert grant.actions and all(a.startswith("s3:Get") for a in grant.actions)


def test_grouped_counts_add_up_and_the_location_is_the_statement(catalog):
    doc = _doc("wide", [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}], kind="managed", line=42)
    findings, grouped = _run(catalog, _principal(doc), used=["s3:CreateBucket"])
    by_rule = {g.rule: g for g in grouped.groups}
    unused, unknown = by_rule["granted-unused"], by_rule["granted-unknown"]
    p = unused.properties
    assert p["statement_granted"] == 1 + p["statement_unused"] + p["statement_unobservable"]
    assert p["statement_unused"] == len(unused.findings) == sum(p["by_access_level"].values())
    assert p["statement_unobservable"] == len(unknown.findings)
    assert unused.location == SourceLocation("iam.json", 42)
    assert len(findings) == len(unused.findings) + len(unknown.findings)
    (summary,) = grouped.principals
    assert (summary.granted, summary.used) == (p["statement_granted"], 1)
    assert (summary.unused, summary.unobservable) == (p["statement_unused"], p["statement_unobservable"])
    assert 0.9 < summary.weighted_share < 1.0


def test_group_fingerprint_ignores_lines_and_baseline_state_is_new_if_any_atom_is(catalog):
    doc = _doc("p", [{"Effect": "Allow", "Action": ["s3:CreateBucket", "s3:DeleteBucket"], "Resource": "*"}])
    moved = _doc(
        "p", [{"Effect": "Allow", "Action": ["s3:CreateBucket", "s3:DeleteBucket"], "Resource": "*"}], line=99
    )
    findings, grouped = _run(catalog, _principal(doc), used=["iam:CreateUser"])
    _, regrouped = _run(catalog, _principal(moved), used=["iam:CreateUser"])
    assert [g.fingerprint for g in grouped.groups] == [g.fingerprint for g in regrouped.groups]
    assert grouped.groups[0].location != regrouped.groups[0].location
    principal = _principal(doc)
    marked = [dataclasses.replace(f, baseline="unchanged") for f in findings]
    marked[-1] = dataclasses.replace(marked[-1], baseline="new")
    accounts = (
        AccountState(
            Inventory(ACCOUNT, "demo", (principal,), "x"), {principal.arn: compute_grants(principal, catalog)}
        ),
    )
    usage = Usage(WINDOW, {})
    again = group_run(accounts, usage, frozenset({principal.arn}), WINDOW, catalog, (), RULES, marked, ())
    assert [g.baseline for g in again.groups] == ["new"]
    unchanged = group_run(accounts, usage, frozenset(), WINDOW, catalog, (), RULES, marked[:-1], ())
    assert [g.baseline for g in unchanged.groups] == ["unchanged"]


def test_principal_level_findings_stay_single(catalog):
    doc = _doc("p", [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}])
    findings, grouped = _run(catalog, _principal(doc), used=())
    assert [f.rule for f in findings] == ["unused-actor"]
    (group,) = grouped.groups
    assert (
        group.statement is None and group.findings == tuple(findings) and group.message == findings[0].message
    )
    assert grouped.principals[0].active is False
