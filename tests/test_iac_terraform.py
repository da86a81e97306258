import json
from pathlib import Path

import pytest

from ctlint.errors import ConfigError, InputError
from ctlint.iac.loader import load_iac

FIXTURES = Path(__file__).parent / "fixtures" / "iac"
ACCOUNT = "111111111111"


def _line_of(text: str, needle: str, after: str | None = None) -> int:
    lines = text.splitlines()
    start = 0
    if after is not None:
        start = next(i for i, line in enumerate(lines) if after in line)
    return next(i for i, line in enumerate(lines[start:], start) if needle in line) + 1


@pytest.fixture(scope="module")
def result():
    return load_iac(
        [{"terraform_plan": "plan.json"}],
        base_dir=FIXTURES,
        account_id=ACCOUNT,
        account_name="test",
        snapshot=None,
    )


@pytest.fixture(scope="module")
def plan_text():
    return (FIXTURES / "plan.json").read_text()


def _actions(principal):
    return {a for d in principal.policies for s in d.statements for a in (*s.actions, *(s.not_actions or ()))}


def test_principals_arns_and_origin(result):
    arns = [p.arn for p in result.inventory.principals]
    assert arns == [
        f"arn:aws:iam::{ACCOUNT}:role/batch-runner",
        f"arn:aws:iam::{ACCOUNT}:role/service/app",
        f"arn:aws:iam::{ACCOUNT}:role/worker-a",
        f"arn:aws:iam::{ACCOUNT}:role/worker-b",
        f"arn:aws:iam::{ACCOUNT}:user/ci",
    ]
    assert {p.origin for p in result.inventory.principals} == {"terraform"}
    assert result.inventory.groups == {"devs": ("ci",)}


def test_generated_name_is_unlinked(result, plan_text):
    assert result.unlinked == (("aws_iam_role.generated", result.unlinked[0][1], "role"),)
    assert result.unlinked[0][1].line == _line_of(plan_text, '"address": "aws_iam_role.generated"')


def test_role_inline_block_managed_arn_and_data_source_policy(result):
    app = result.inventory.by_arn()[f"arn:aws:iam::{ACCOUNT}:role/service/app"]
    assert [(d.kind, d.name) for d in app.policies] == [
        ("inline", "logs"),
        ("inline", "s3"),
        ("managed", "arn:aws:iam::aws:policy/AmazonSQSReadOnlyAccess"),
    ]
    assert {"s3:PutBucketPolicy", "logs:PutLogEvents", "sqs:ListQueues"} <= _actions(app)
    assert app.trust_policy is not None
    assert app.trust_policy.statements[0].principals == (("Service", "lambda.amazonaws.com"),)


def test_for_each_instances_pair_by_key(result):
    by_arn = result.inventory.by_arn()
    # The role policy's role name is unknown until apply; configuration + each.key pairs the instances.
    assert _actions(by_arn[f"arn:aws:iam::{ACCOUNT}:role/worker-a"]) == {"sqs:SendMessage"}
    assert _actions(by_arn[f"arn:aws:iam::{ACCOUNT}:role/worker-b"]) == {"sqs:ReceiveMessage"}


def test_unknown_policy_arn_resolves_through_configuration(result):
    ci = result.inventory.by_arn()[f"arn:aws:iam::{ACCOUNT}:user/ci"]
    names = [(d.kind, d.name, d.via_group) for d in ci.policies]
    assert ("managed", f"arn:aws:iam::{ACCOUNT}:policy/deploy", None) in names  # count index [0]
    assert ("group-inline", "describe", "devs") in names
    assert ci.groups == ("devs",)


def test_deferred_data_source_rebuilt_from_configuration(result, plan_text):
    batch = result.inventory.by_arn()[f"arn:aws:iam::{ACCOUNT}:role/batch-runner"]
    assert _actions(batch) == {"batch:SubmitJob", "batch:DescribeJobs"}
    where = result.action_locations[(batch.arn, "batch:DescribeJobs")]
    assert where.line == _line_of(
        plan_text, '"batch:DescribeJobs"', after="data.aws_iam_policy_document.batch"
    )
    assert result.unresolved == ()


def test_action_lines_point_into_the_data_source_statement(result, plan_text):
    app = f"arn:aws:iam::{ACCOUNT}:role/service/app"
    where = result.action_locations[(app, "s3:PutBucketPolicy")]
    block = '"address": "data.aws_iam_policy_document.app_s3"'
    assert where.path == "plan.json"
    assert where.line == _line_of(plan_text, '"s3:PutBucketPolicy"', after=block)
    # A policy string not from a data source points at its attribute line.
    assert result.action_locations[(app, "logs:PutLogEvents")].line == _line_of(
        plan_text, '"policy": "{\\"Version'
    )
    # AWS managed policies point at the managed_policy_arns entry that attaches them.
    assert result.action_locations[(app, "sqs:ListQueues")].line == _line_of(
        plan_text, '"arn:aws:iam::aws:policy/AmazonSQSReadOnlyAccess"'
    )


def test_policy_as_object_and_unknown_values(tmp_path):
    plan = {
        "planned_values": {
            "root_module": {
                "resources": [
                    {
                        "address": "aws_iam_user.u",
                        "mode": "managed",
                        "type": "aws_iam_user",
                        "name": "u",
                        "values": {"name": "u", "path": "/"},
                    },
                    {
                        "address": "aws_iam_user_policy.p",
                        "mode": "managed",
                        "type": "aws_iam_user_policy",
                        "name": "p",
                        "values": {
                            "user": "u",
                            "name": "p",
                            "policy": {
                                "Statement": [{"Effect": "Allow", "Action": "kms:Decrypt", "Resource": "*"}]
                            },
                        },
                    },
                    {
                        "address": "aws_iam_role_policy.x",
                        "mode": "managed",
                        "type": "aws_iam_role_policy",
                        "name": "x",
                        "values": {"name": "x"},
                    },
                ]
            }
        },
    }
    (tmp_path / "plan.json").write_text(json.dumps(plan, indent=2))
    result = load_iac(
        [{"terraform_plan": "plan.json"}],
        base_dir=tmp_path,
        account_id=ACCOUNT,
        account_name="t",
        snapshot=None,
    )
    (user,) = result.inventory.principals
    assert _actions(user) == {"kms:Decrypt"}
    text = (tmp_path / "plan.json").read_text()
    assert result.action_locations[(user.arn, "kms:Decrypt")].line == _line_of(
        text, '"Action": "kms:Decrypt"'
    )
    assert [text for text, _ in result.unresolved] == [
        "aws_iam_role_policy.x: role name known only after apply"
    ]


def test_snapshot_resolves_customer_managed_policy(tmp_path):
    from ctlint.model import Inventory, PolicyDocument, Principal, Statement

    shared = PolicyDocument(
        f"arn:aws:iam::{ACCOUNT}:policy/shared",
        "managed",
        (Statement("Allow", ("rds:DescribeDBInstances",)),),
    )
    snapshot = Inventory(
        ACCOUNT,
        "t",
        (Principal(f"arn:aws:iam::{ACCOUNT}:user/x", "x", "user", ACCOUNT, policies=(shared,)),),
        "snap.json",
    )
    plan = {
        "planned_values": {
            "root_module": {
                "resources": [
                    {
                        "address": "aws_iam_role.r",
                        "mode": "managed",
                        "type": "aws_iam_role",
                        "name": "r",
                        "values": {
                            "name": "r",
                            "path": "/",
                            "managed_policy_arns": [shared.name, "arn:aws:iam::aws:policy/Nope"],
                        },
                    },
                ]
            }
        }
    }
    (tmp_path / "plan.json").write_text(json.dumps(plan, indent=2))
    result = load_iac(
        [{"terraform_plan": "*.json"}],
        base_dir=tmp_path,
        account_id=ACCOUNT,
        account_name="t",
        snapshot=snapshot,
    )
    (role,) = result.inventory.principals
    assert _actions(role) == {"rds:DescribeDBInstances"}
    assert len(result.unresolved) == 1 and "arn:aws:iam::aws:policy/Nope" in result.unresolved[0][0]


def test_bad_inputs_fail_closed(tmp_path):
    with pytest.raises(InputError, match="no file matches"):
        load_iac(
            [{"terraform_plan": "missing.json"}],
            base_dir=tmp_path,
            account_id=ACCOUNT,
            account_name="t",
            snapshot=None,
        )
    with pytest.raises(ConfigError, match=r"iac\[0\]"):
        load_iac([{"pulumi": "x"}], base_dir=tmp_path, account_id=ACCOUNT, account_name="t", snapshot=None)
    (tmp_path / "state.json").write_text('{"values": {}}')
    with pytest.raises(InputError, match=r"state\.json: not a Terraform plan"):
        load_iac(
            [{"terraform_plan": "state.json"}],
            base_dir=tmp_path,
            account_id=ACCOUNT,
            account_name="t",
            snapshot=None,
        )
    bad = {
        "planned_values": {
            "root_module": {
                "resources": [
                    {
                        "address": "aws_iam_policy.p",
                        "mode": "managed",
                        "type": "aws_iam_policy",
                        "name": "p",
                        "values": {"name": "p", "policy": "{not json"},
                    }
                ]
            }
        }
    }
    (tmp_path / "bad.json").write_text(json.dumps(bad))
    with pytest.raises(InputError, match=r"bad\.json: aws_iam_policy\.p: the policy is not valid JSON"):
        load_iac(
            [{"terraform_plan": "bad.json"}],
            base_dir=tmp_path,
            account_id=ACCOUNT,
            account_name="t",
            snapshot=None,
        )
