import json
from pathlib import Path

import pytest

from ctlint.errors import InputError
from ctlint.iac.loader import load_iac

FIXTURES = Path(__file__).parent / "fixtures" / "iac"
ACCOUNT = "111111111111"


def _line_of(text: str, needle: str, after: str | None = None) -> int:
    lines = text.splitlines()
    start = 0 if after is None else next(i for i, line in enumerate(lines) if after in line)
    return next(i for i, line in enumerate(lines[start:], start) if needle in line) + 1


def _actions(principal):
    return {a for d in principal.policies for s in d.statements for a in (*s.actions, *(s.not_actions or ()))}


@pytest.fixture(scope="module")
def result():
    return load_iac(
        [{"cloudformation": "template.*"}],
        base_dir=FIXTURES,
        account_id=ACCOUNT,
        account_name="test",
        snapshot=None,
    )


@pytest.fixture(scope="module")
def yaml_text():
    return (FIXTURES / "template.yaml").read_text()


def test_names_resolve_from_sub_parameters_and_paths(result):
    assert [p.arn for p in result.inventory.principals] == [
        f"arn:aws:iam::{ACCOUNT}:role/service/app-prod",  # !Sub "app-${Env}" with Env's Default
        f"arn:aws:iam::{ACCOUNT}:user/ci",
        f"arn:aws:iam::{ACCOUNT}:user/people/reader",
    ]
    assert {p.origin for p in result.inventory.principals} == {"cloudformation"}


def test_generated_role_is_unlinked(result, yaml_text):
    assert [(key, where.path, where.line) for key, where, _kind in result.unlinked] == [
        ("GeneratedRole", "template.yaml", _line_of(yaml_text, "  GeneratedRole:")),
    ]


def test_role_policies_from_every_source(result):
    app = result.inventory.by_arn()[f"arn:aws:iam::{ACCOUNT}:role/service/app-prod"]
    assert [(d.kind, d.name) for d in app.policies] == [
        ("inline", "data"),
        ("inline", "extra"),  # AWS::IAM::Policy with Roles: [!Ref AppRole]
        ("managed", "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"),  # !Sub partition
        ("managed", f"arn:aws:iam::{ACCOUNT}:policy/deploy"),  # !Ref of an AWS::IAM::ManagedPolicy
    ]
    assert _actions(app) == {
        "dynamodb:GetItem",
        "dynamodb:Query",
        "s3:GetObject",
        "sqs:SendMessage",
        "logs:CreateLogGroup",
        "logs:CreateLogStream",
        "logs:PutLogEvents",
        "lambda:UpdateFunctionCode",
    }
    # !GetAtt / !Sub in Resource do not block the grant; they are kept readable.
    read = app.policies[0].statements[0]
    assert read.sid == "Read" and read.resources == ('{"Fn::GetAtt": ["Table", "Arn"]}',)


def test_groups_by_ref_and_user_to_group_addition(result):
    ci = result.inventory.by_arn()[f"arn:aws:iam::{ACCOUNT}:user/ci"]
    assert ci.groups == ("devs", "<Auditors>")  # the second group has a generated name
    assert ("group-inline", "describe", "devs") in [(d.kind, d.name, d.via_group) for d in ci.policies]
    assert "iam:Get*" in _actions(ci)  # !Join-built AWS managed policy ARN on the generated-name group


def test_unresolved_are_reported_with_lines(result, yaml_text):
    found = {(text.split(":")[0], where.path, where.line) for text, where in result.unresolved}
    assert ("AppRole", "template.yaml", _line_of(yaml_text, "!If [IsProd")) in found
    assert ("OpsPolicy", "template.json", 38) in found  # Ref to a parameter without Default
    assert any("policy/shared" in text for text, _ in result.unresolved)  # Join resolved, policy unknown


def test_action_lines_yaml_and_json(result, yaml_text):
    app = f"arn:aws:iam::{ACCOUNT}:role/service/app-prod"
    assert result.action_locations[(app, "dynamodb:Query")].line == _line_of(yaml_text, "- dynamodb:Query")
    assert result.action_locations[(app, "s3:GetObject")].line == _line_of(yaml_text, "Action: s3:GetObject")
    assert result.action_locations[(app, "lambda:UpdateFunctionCode")].line == _line_of(
        yaml_text, "Action: [lambda:UpdateFunctionCode]"
    )
    # AWS managed policy actions point at the ManagedPolicyArns entry.
    assert result.action_locations[(app, "logs:CreateLogGroup")].line == _line_of(
        yaml_text, "AWSLambdaBasicExecutionRole"
    )
    reader = f"arn:aws:iam::{ACCOUNT}:user/people/reader"
    json_text = (FIXTURES / "template.json").read_text()
    assert result.action_locations[(reader, "s3:Get*")].line == _line_of(json_text, '"s3:Get*"')
    assert result.action_locations[(reader, "s3:GetObject")].line == _line_of(json_text, '"NotAction"')


def test_deny_with_condition_and_not_action_kept(result):
    reader = result.inventory.by_arn()[f"arn:aws:iam::{ACCOUNT}:user/people/reader"]
    deny = reader.policies[0].statements[1]
    assert deny.effect == "Deny" and deny.not_actions == ("s3:GetObject",) and deny.has_condition


def test_policy_document_as_json_string_and_if_statement(tmp_path):
    template = {
        "Resources": {
            "R": {
                "Type": "AWS::IAM::Role",
                "Properties": {
                    "RoleName": "r",
                    "Policies": [
                        {
                            "PolicyName": "p",
                            "PolicyDocument": json.dumps(
                                {"Statement": [{"Effect": "Allow", "Action": "sns:Publish", "Resource": "*"}]}
                            ),
                        }
                    ],
                },
            },
            "P": {
                "Type": "AWS::IAM::RolePolicy",
                "Properties": {
                    "RoleName": {"Ref": "R"},
                    "PolicyName": "q",
                    "PolicyDocument": {
                        "Statement": [
                            {
                                "Fn::If": [
                                    "C",
                                    {"Effect": "Allow", "Action": "sns:Subscribe", "Resource": "*"},
                                    {"Ref": "AWS::NoValue"},
                                ]
                            },
                            {"Effect": "Allow", "Action": "sns:ListTopics", "Resource": "*"},
                        ]
                    },
                },
            },
        }
    }
    (tmp_path / "t.json").write_text(json.dumps(template, indent=2))
    result = load_iac(
        [{"cloudformation": "t.json"}], base_dir=tmp_path, account_id=ACCOUNT, account_name="t", snapshot=None
    )
    (role,) = result.inventory.principals
    assert _actions(role) == {"sns:Publish", "sns:ListTopics"}
    assert any("Fn::If" in text for text, _ in result.unresolved)


def test_not_a_template(tmp_path):
    (tmp_path / "x.yaml").write_text("foo: bar\n")
    with pytest.raises(InputError, match=r"x\.yaml: not a CloudFormation template"):
        load_iac(
            [{"cloudformation": "x.yaml"}],
            base_dir=tmp_path,
            account_id=ACCOUNT,
            account_name="t",
            snapshot=None,
        )
