"""Role assumption end to end: CloudTrail in the S3 layout + IAM snapshots -> sessions, findings, `show`.

One story covers: role chaining (alice -> ops -> readonly), a cross-account session (alice -> B's deploy,
AssumeRole logged in both accounts with one requestID, the session's calls in B), a session that began
before the window, SAML and web-identity assumptions, a user who may assume a role but never did
(`unused-assume-role`), and role activity that counts for `unused-actor` whoever assumed the role.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cloudtrail_factory import (
    assume_role_event,
    assumed_role,
    event,
    iam_user,
    role_arn,
    saml_user,
    web_identity_user,
    write_s3_layout,
)

from ctlint.cli import main
from ctlint.options import CheckOptions, InputOptions
from ctlint.pipeline import analyse, run_check

A, B = "111111111111", "222222222222"
ALICE, DAVE = f"arn:aws:iam::{A}:user/alice", f"arn:aws:iam::{A}:user/dave"
OPS, READONLY, EARLY, IDLE = (role_arn(A, n) for n in ("ops", "readonly", "early", "idle"))
SAML_ADMIN, WEB_APP, DEPLOY = role_arn(A, "saml-admin"), role_arn(A, "web-app"), role_arn(B, "deploy")
SAML_PROVIDER = f"arn:aws:iam::{A}:saml-provider/corp"
OIDC = "accounts.google.com"
KEYS = {name: f"ASIA{name.upper():0<16}"[:20] for name in ("ops", "ro", "deploy", "early", "saml", "web")}


def _policy(*statements):
    return {"Version": "2012-10-17", "Statement": list(statements)}


def _allow(actions, resource="*"):
    return {"Effect": "Allow", "Action": actions, "Resource": resource}


def _trust(kind, value, action="sts:AssumeRole"):
    return _policy({"Effect": "Allow", "Principal": {kind: value}, "Action": action})


def _user(account, name, *statements):
    return {
        "UserName": name,
        "UserId": f"AIDA{name.upper()}",
        "Arn": f"arn:aws:iam::{account}:user/{name}",
        "Path": "/",
        "CreateDate": "2020-01-01T00:00:00Z",
        "GroupList": [],
        "AttachedManagedPolicies": [],
        "UserPolicyList": [{"PolicyName": "p", "PolicyDocument": _policy(*statements)}],
    }


def _role(account, name, trust, actions, *extra):
    return {
        "RoleName": name,
        "RoleId": f"AROA{name.upper()}",
        "Arn": role_arn(account, name),
        "Path": "/",
        "CreateDate": "2020-01-01T00:00:00Z",
        "AssumeRolePolicyDocument": trust,
        "AttachedManagedPolicies": [],
        "RolePolicyList": [{"PolicyName": "p", "PolicyDocument": _policy(_allow(actions), *extra)}],
    }


def snapshots() -> dict[str, dict]:
    root_a = ("AWS", f"arn:aws:iam::{A}:root")
    account_a = {
        "UserDetailList": [
            _user(A, "alice", _allow("sts:AssumeRole", [f"arn:aws:iam::{A}:role/*", DEPLOY])),
            _user(A, "dave", _allow("sts:AssumeRole", OPS), _allow("s3:ListAllMyBuckets")),
        ],
        "RoleDetailList": [
            _role(
                A,
                "ops",
                _trust(*root_a),
                ["ec2:DescribeInstances", "s3:CreateBucket"],
                _allow("sts:AssumeRole", READONLY),
            ),
            _role(A, "readonly", _trust("AWS", OPS), ["s3:ListAllMyBuckets", "s3:GetBucketLocation"]),
            _role(A, "early", _trust(*root_a), ["cloudwatch:DescribeAlarms"]),
            _role(A, "idle", _trust(*root_a), ["s3:CreateBucket"]),
            _role(
                A,
                "saml-admin",
                _trust("Federated", SAML_PROVIDER, "sts:AssumeRoleWithSAML"),
                ["iam:ListUsers"],
            ),
            _role(
                A, "web-app", _trust("Federated", OIDC, "sts:AssumeRoleWithWebIdentity"), ["dynamodb:Scan"]
            ),
        ],
        "GroupDetailList": [],
        "Policies": [],
    }
    account_b = {
        "UserDetailList": [],
        "GroupDetailList": [],
        "Policies": [],
        "RoleDetailList": [
            _role(B, "deploy", _trust(*root_a), ["cloudformation:CreateStack", "s3:CreateBucket"])
        ],
    }
    return {A: account_a, B: account_b}


def records() -> list[dict]:
    alice, dave = iam_user(A, "alice"), iam_user(A, "dave")
    as_ops = assumed_role(A, "ops", "alice", KEYS["ops"])
    recs = [
        event(dave, "s3.amazonaws.com", "ListBuckets", "2026-06-02T08:00:00Z"),
        # Chaining: alice -> ops, then ops -> readonly.
        assume_role_event(alice, OPS, KEYS["ops"], "2026-06-02T09:00:00Z", session_name="alice"),
        event(as_ops, "ec2.amazonaws.com", "DescribeInstances", "2026-06-02T09:01:00Z"),
        assume_role_event(as_ops, READONLY, KEYS["ro"], "2026-06-02T09:02:00Z", session_name="alice"),
        event(
            assumed_role(A, "readonly", "alice", KEYS["ro"]),
            "s3.amazonaws.com",
            "ListBuckets",
            "2026-06-02T09:03:00Z",
        ),
        # Began 4 hours before the window; used inside it.
        assume_role_event(alice, EARLY, KEYS["early"], "2026-05-31T20:00:00Z", session_name="alice"),
        event(
            assumed_role(A, "early", "alice", KEYS["early"]),
            "monitoring.amazonaws.com",
            "DescribeAlarms",
            "2026-06-01T00:30:00Z",
        ),
        # SAML and web identity.
        assume_role_event(
            saml_user("jdoe"),
            SAML_ADMIN,
            KEYS["saml"],
            "2026-06-05T10:00:00Z",
            event_name="AssumeRoleWithSAML",
            principal_arn=SAML_PROVIDER,
            account=A,
        ),
        event(
            assumed_role(A, "saml-admin", "jdoe", KEYS["saml"]),
            "iam.amazonaws.com",
            "ListUsers",
            "2026-06-05T10:01:00Z",
        ),
        assume_role_event(
            web_identity_user(OIDC),
            WEB_APP,
            KEYS["web"],
            "2026-06-06T10:00:00Z",
            event_name="AssumeRoleWithWebIdentity",
            provider=OIDC,
            account=A,
        ),
        event(
            assumed_role(A, "web-app", "app", KEYS["web"]),
            "dynamodb.amazonaws.com",
            "Scan",
            "2026-06-06T10:01:00Z",
        ),
    ]
    # Cross-account: the call is logged in the caller's and in the role's account, with one requestID.
    in_a = assume_role_event(
        alice, DEPLOY, KEYS["deploy"], "2026-06-10T12:00:00Z", account=A, session_name="alice"
    )
    in_b = dict(in_a, recipientAccountId=B, eventID="0c6a3f2e-0000-4000-8000-00000000000b")
    recs += [
        in_a,
        in_b,
        event(
            assumed_role(B, "deploy", "alice", KEYS["deploy"]),
            "cloudformation.amazonaws.com",
            "CreateStack",
            "2026-06-10T12:05:00Z",
            account=B,
            region="eu-west-1",
        ),
    ]
    return recs


@pytest.fixture(scope="module")
def config_path(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("roles")
    for account, snapshot in snapshots().items():
        (root / f"{account}.json").write_text(json.dumps(snapshot), encoding="utf-8")
    write_s3_layout(root / "logs", records())
    path = root / "ctlint.yaml"
    path.write_text(
        "accounts:\n"
        f"  - {{name: main, id: '{A}', iam: {A}.json}}\n"
        f"  - {{name: other, id: '{B}', iam: {B}.json}}\n"
        "usage:\n  local: {paths: [logs]}\n  data_events: []\n"
        "window: {start: 2026-06-01, end: 2026-07-01}\n",
        encoding="utf-8",
    )
    return path


@pytest.fixture(scope="module")
def analysis(config_path):
    return analyse(InputOptions(config=str(config_path)))


def _assumed(analysis):
    return {(row.source_arn, row.role_arn): row for row in analysis.raw.assumptions}


def _session_events(analysis, source, role):
    return {
        (s.account_id, s.event_name)
        for s in analysis.raw.sessions
        if (s.source_arn, s.role_arn) == (source, role)
    }


def test_chained_roles_attribute_the_second_hop_to_the_first_role(analysis):
    assumed = _assumed(analysis)
    assert (ALICE, OPS) in assumed
    assert (OPS, READONLY) in assumed  # source of a chained AssumeRole is the calling role
    assert _session_events(analysis, ALICE, OPS) == {(A, "DescribeInstances"), (A, "AssumeRole")}
    assert _session_events(analysis, OPS, READONLY) == {(A, "ListBuckets")}
    assert _session_events(analysis, ALICE, READONLY) == set()


def test_cross_account_session_counts_once_and_acts_in_the_role_account(analysis):
    row = _assumed(analysis)[(ALICE, DEPLOY)]
    assert row.count == 1  # logged in both accounts, one call
    assert row.access_key_id == KEYS["deploy"]
    assert _session_events(analysis, ALICE, DEPLOY) == {(B, "CreateStack")}


def test_session_that_began_before_the_window_is_attributed(analysis):
    assert (ALICE, EARLY) in _assumed(analysis)
    assert _session_events(analysis, ALICE, EARLY) == {(A, "DescribeAlarms")}


def test_saml_and_web_identity_sources_are_the_providers(analysis):
    assumed = _assumed(analysis)
    assert assumed[(SAML_PROVIDER, SAML_ADMIN)].event_name == "AssumeRoleWithSAML"
    assert assumed[(OIDC, WEB_APP)].event_name == "AssumeRoleWithWebIdentity"
    assert _session_events(analysis, SAML_PROVIDER, SAML_ADMIN) == {(A, "ListUsers")}
    assert _session_events(analysis, OIDC, WEB_APP) == {(A, "Scan")}


def test_findings_unused_assume_role_and_unused_actor(config_path):
    result = run_check(CheckOptions(InputOptions(config=str(config_path))))
    pairs = {(f.principal, f.role) for f in result.findings if f.rule == "unused-assume-role"}
    # dave may assume ops (his policy names it, ops trusts the account root) but never did;
    # alice may assume idle (role/* and a root trust) and never did. Nothing else:
    # readonly trusts only ops, saml-admin/web-app trust only federated providers, the rest were assumed.
    assert pairs == {(DAVE, OPS), (ALICE, IDLE)}
    finding = next(f for f in result.findings if f.rule == "unused-assume-role" and f.principal == DAVE)
    assert finding.principal_type == "user" and finding.action is None
    assert "dave (user) may assume role ops" in finding.message
    # Role activity counts whoever assumed the role: only the never-assumed role is an unused actor.
    actors = {f.principal for f in result.findings if f.rule == "unused-actor"}
    assert actors == {IDLE}


def show(capsys, config_path, *args):
    code = main(["show", "--config", str(config_path), "--account", "main", *args])
    out, err = capsys.readouterr()
    assert code == 0, err
    return out, err


def test_show_destrole_for_a_user_a_chained_role_and_another_account(capsys, config_path):
    out, _ = show(capsys, config_path, "--user", "alice", "--destrole", "ops")
    assert out == "  ec2:DescribeInstances\n- s3:CreateBucket\n  sts:AssumeRole\n"
    out, err = show(capsys, config_path, "--role", "ops", "--destrole", "readonly")
    assert err.splitlines()[0] == "Getting info for role ops"
    assert out == "- s3:GetBucketLocation\n  s3:ListAllMyBuckets\n"
    out, _ = show(capsys, config_path, "--user", "alice", "--destaccount", "other", "--destrole", "deploy")
    assert out == "  cloudformation:CreateStack\n- s3:CreateBucket\n"
    out, _ = show(capsys, config_path, "--user", "alice", "--destrole", "early", "--show-used")
    assert out == "  cloudwatch:DescribeAlarms\n"


def test_show_lists_roles_active_through_any_session(capsys, config_path):
    out, _ = show(capsys, config_path, "--list", "roles")
    assert out == "  early\n- idle\n  ops\n  readonly\n  saml-admin\n  web-app\n"
    out, _ = show(capsys, config_path, "--list", "users")
    assert out == "  alice\n  dave\n"
