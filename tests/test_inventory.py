"""The IAM snapshot loader on small hand-written snapshots, good and malformed (tests/fixtures/iam/)."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

import pytest

from ctlint.errors import InputError
from ctlint.inventory import load_snapshot, read_snapshot

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "iam"
ACCOUNT = "111111111111"


def load(name: str, account: str = ACCOUNT):
    return load_snapshot(FIXTURES / name, account_id=account, account_name="demo", display_path=f"iam/{name}")


@pytest.fixture(scope="module")
def demo():
    return load("demo.json").by_arn()


def test_principals_sorted_by_arn_with_account():
    inv = load("demo.json")
    arns = [p.arn for p in inv.principals]
    assert arns == sorted(arns)
    assert len(arns) == 4  # groups are not principals
    assert {p.account_id for p in inv.principals} == {ACCOUNT}
    assert inv.account_name == "demo" and inv.source == "iam/demo.json"
    assert inv.groups == {"devs": ("alice",)}


def test_user_policies_resolved_in_order_with_groups(demo):
    alice = demo["arn:aws:iam::111111111111:user/alice"]
    assert [(d.name, d.kind, d.via_group) for d in alice.policies] == [
        ("alice-s3", "inline", None),
        ("alice-encoded", "inline", None),
        ("devs-logs", "group-inline", "devs"),
        ("arn:aws:iam::111111111111:policy/ReadOnlyish", "group-managed", "devs"),
    ]
    assert alice.groups == ("devs",)
    # A list Statement in a user inline policy is kept whole (CloudTracker dropped it).
    assert len(alice.policies[0].statements) == 2
    # URL-encoded document, single Statement object, single Action string.
    assert alice.policies[1].statements[0].actions == ("ec2:Describe*",)


def test_only_default_managed_version_counts(demo):
    bob = demo["arn:aws:iam::111111111111:user/ops/bob"]
    (managed,) = bob.policies
    assert managed.statements[0].actions == ("s3:List*", "s3:GetObjet")  # v2, not v1's "*"
    assert bob.boundary is not None and bob.boundary.kind == "boundary"
    assert bob.path == "/ops/"


def test_managed_policy_shares_statements_between_attachments(demo):
    alice = demo["arn:aws:iam::111111111111:user/alice"]
    bob = demo["arn:aws:iam::111111111111:user/ops/bob"]
    # Evaluation caches by the statements tuple: one parse per managed policy.
    assert alice.policies[3].statements is bob.policies[0].statements


def test_role_trust_last_used_and_service_linked(demo):
    role = demo["arn:aws:iam::111111111111:role/deploy-prod"]
    assert role.type == "role"
    assert role.trust_policy is not None and role.trust_policy.kind == "trust"
    assert role.trust_policy.statements[0].principals == (("AWS", "arn:aws:iam::111111111111:root"),)
    assert role.role_last_used == datetime(2026, 9, 1, 12, tzinfo=timezone.utc)
    assert not role.is_service_linked
    slr = demo["arn:aws:iam::111111111111:role/aws-service-role/ec2.amazonaws.com/AWSServiceRoleForEC2"]
    assert slr.is_service_linked
    assert slr.role_last_used is None
    assert slr.trust_policy.statements[0].principals == (("Service", "ec2.amazonaws.com"),)


def test_location_is_line_of_principal_arn(demo):
    text = (FIXTURES / "demo.json").read_text().splitlines()
    for p in demo.values():
        assert p.location.path == "iam/demo.json"
        assert f'"Arn": "{p.arn}"' in text[p.location.line - 1]


def test_attached_managed_policies_as_object_is_one_item():
    inv = load("attached-as-object.json")
    (user,) = inv.principals
    assert [d.name for d in user.policies] == ["arn:aws:iam::aws:policy/AdministratorAccess"]
    assert user.policies[0].via_group == "admins"


def test_airiam_cache_keys_are_read():
    (user,) = load("airiam-cache.json").principals
    assert user.name == "carol" and user.policies[0].statements[0].actions == ("s3:GetObject",)


def test_missing_aws_managed_policy_is_a_warning_not_an_error():
    snap = read_snapshot(FIXTURES / "missing-aws-managed.json", account_id=ACCOUNT, account_name="demo")
    (user,) = snap.inventory.principals
    admin = "arn:aws:iam::aws:policy/AdministratorAccess"
    dynamo = "arn:aws:iam::aws:policy/AmazonDynamoDBFullAccess"
    # Resolved from ctlint's shipped copy (own attachments and the group's).
    assert [(d.name, d.kind, d.via_group) for d in user.policies] == [
        ("p", "inline", None),
        (admin, "managed", None),
        (dynamo, "managed", None),
        (admin, "group-managed", "g"),
    ]
    assert user.policies[1].statements is user.policies[3].statements
    assert user.policies[1].statements[0].actions == ("*",)
    assert any("IsTruncated" in w for w in snap.warnings)
    (admin_warning,) = [w for w in snap.warnings if admin in w]
    assert "group g, user u" in admin_warning or "user u, group g" in admin_warning
    assert "shipped copy" in admin_warning
    (dynamo_warning,) = [w for w in snap.warnings if "AmazonDynamoDBFullAccess" in w]
    assert "shipped copy" in dynamo_warning and "user u" in dynamo_warning


@pytest.mark.parametrize(
    ("name", "fragments"),
    [
        ("bad-not-json.json", ["iam/bad-not-json.json", "not valid JSON", "line 1"]),
        ("bad-truncated.json", ["iam/bad-truncated.json", "is truncated", "ends before it is complete"]),
        ("bad-empty.json", ["iam/bad-empty.json", "empty"]),
        (
            "bad-json-array.json",
            ["iam/bad-json-array.json", "not the output of aws iam get-account-authorization-details"],
        ),
        ("bad-not-authz.json", ["iam/bad-not-authz.json", "no UserDetailList"]),
        ("bad-missing-managed.json", ["user u", "arn:aws:iam::111111111111:policy/gone", "Policies"]),
        ("bad-missing-group.json", ["user u", "'ghosts'", "GroupDetailList"]),
        ("bad-policy-json.json", ["user u, inline policy 'broken'", "not valid JSON"]),
        ("bad-url-encoding.json", ["user u, inline policy 'latin'", "URL-encoded"]),
        ("bad-effect.json", ["role admin, inline policy 'x'", "Effect 'Alow' is not Allow or Deny"]),
        ("bad-empty-statement.json", ["arn:aws:iam::111111111111:policy/empty", "empty Statement"]),
        ("bad-no-default-version.json", ["arn:aws:iam::111111111111:policy/nov", "IsDefaultVersion"]),
        ("bad-wrong-account.json", ["222222222222", "111111111111", "config"]),
    ],
)
def test_malformed_snapshots_raise_one_clear_sentence(name, fragments):
    with pytest.raises(InputError) as info:
        load(name)
    message = str(info.value)
    assert message.startswith(f"iam/{name}: ")
    for fragment in fragments:
        assert fragment in message
    assert "\n" not in message


def test_missing_file_is_input_error(tmp_path):
    with pytest.raises(InputError, match="does not exist"):
        load_snapshot(tmp_path / "nope.json", account_id=ACCOUNT, account_name="demo")


def test_non_utf8_file_is_input_error(tmp_path):
    path = tmp_path / "latin1.json"
    path.write_bytes(b'{"UserDetailList": [{"UserName": "\xe9"}]}')
    with pytest.raises(InputError, match="not UTF-8"):
        load_snapshot(path, account_id=ACCOUNT, account_name="demo")


def test_duplicate_principal_is_input_error(tmp_path):
    data = json.loads((FIXTURES / "airiam-cache.json").read_text())
    data["AccountUsers"].append(data["AccountUsers"][0])
    path = tmp_path / "dup.json"
    path.write_text(json.dumps(data))
    with pytest.raises(InputError, match="appears twice"):
        load_snapshot(path, account_id=ACCOUNT, account_name="demo")
