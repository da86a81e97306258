"""`iac-unresolved`: a grant ctlint cannot evaluate offline is an error finding at its line, not a warning."""

from __future__ import annotations

import json
from pathlib import Path

from ctlint.cli import main

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "terraform"

ROLE = {
    "address": "aws_iam_role.app",
    "mode": "managed",
    "type": "aws_iam_role",
    "name": "app",
    "values": {
        "name": "app",
        "path": "/service/",
        "assume_role_policy": json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"Service": "lambda.amazonaws.com"},
                        "Action": "sts:AssumeRole",
                    }
                ],
            }
        ),
    },
}
HIDDEN = {
    "address": "aws_iam_role_policy.hidden",
    "mode": "managed",
    "type": "aws_iam_role_policy",
    "name": "hidden",
    "values": {"name": "hidden", "role": "app"},
}


def _plan() -> dict:
    return {
        "format_version": "1.2",
        "planned_values": {"root_module": {"resources": [ROLE, HIDDEN]}},
        "resource_changes": [
            {"address": "aws_iam_role.app", "change": {"after_unknown": {}}},
            {"address": "aws_iam_role_policy.hidden", "change": {"after_unknown": {"policy": True}}},
        ],
    }


CFN = """\
Conditions:
  IsProd: !Equals [!Ref "AWS::AccountId", "111111111111"]
Resources:
  AppRole:
    Type: AWS::IAM::Role
    Properties:
      RoleName: app
      Path: /service/
      AssumeRolePolicyDocument:
        Statement:
          - Effect: Allow
            Principal: {Service: lambda.amazonaws.com}
            Action: sts:AssumeRole
      Policies:
        - PolicyName: sneaky
          PolicyDocument:
            Version: "2012-10-17"
            Statement:
              - !If
                - IsProd
                - Effect: Allow
                  Action: "iam:*"
                  Resource: "*"
                - !Ref AWS::NoValue
"""


def _config(tmp_path: Path, kind: str, iac_file: Path) -> Path:
    config = tmp_path / "ctlint.yaml"
    config.write_text(
        f"""accounts:
  - name: demo
    id: "111111111111"
    iam: {EXAMPLE / "snapshot.json"}
    iac:
      - {kind}: {iac_file.name}
usage:
  local:
    paths: [{EXAMPLE / "logs"}]
  data_events: []
window:
  start: 2026-08-01
  end: 2026-11-01
fail_on: error
"""
    )
    return config


def _check(capsys, config: Path, tmp_path: Path) -> tuple[int, list[dict]]:
    report = tmp_path / "r.json"
    code = main(["check", "--config", str(config), "--fail-on", "error", "--json", str(report)])
    capsys.readouterr()
    findings = json.loads(report.read_text())["findings"]
    return code, [f for f in findings if f["rule"] == "iac-unresolved"]


def test_a_terraform_policy_unknown_until_apply_fails_the_gate(capsys, tmp_path):
    plan = tmp_path / "plan.json"
    plan.write_text(json.dumps(_plan(), indent=1))
    code, unresolved = _check(capsys, _config(tmp_path, "terraform_plan", plan), tmp_path)
    assert code == 1
    assert [(f["principal"], f["level"]) for f in unresolved] == [("aws_iam_role_policy.hidden", "error")]
    (finding,) = unresolved
    assert "known only after apply" in finding["message"]
    line = next(
        i for i, text in enumerate(plan.read_text().splitlines(), 1) if '"aws_iam_role_policy.hidden"' in text
    )
    assert finding["location"]["line"] == line


def test_a_cloudformation_statement_behind_fn_if_fails_the_gate(capsys, tmp_path):
    template = tmp_path / "template.yaml"
    template.write_text(CFN)
    code, unresolved = _check(capsys, _config(tmp_path, "cloudformation", template), tmp_path)
    assert code == 1
    assert len(unresolved) == 1
    (finding,) = unresolved
    assert (
        finding["principal"] == "AppRole" and "Fn::If" in finding["message"] and "iam:*" in finding["message"]
    )
    # The policy document that holds the statement (documents do not keep their statements' lines yet).
    assert finding["location"]["line"] == CFN.splitlines().index("          PolicyDocument:") + 1


def test_the_fingerprint_is_stable_and_names_the_unresolved_thing(capsys, tmp_path):
    from ctlint.evaluate import fingerprint

    plan = tmp_path / "plan.json"
    plan.write_text(json.dumps(_plan()))
    _, first = _check(capsys, _config(tmp_path, "terraform_plan", plan), tmp_path)
    plan.write_text(json.dumps(_plan(), indent=4))  # lines move; the fingerprint must not
    _, second = _check(capsys, _config(tmp_path, "terraform_plan", plan), tmp_path)
    assert (
        first[0]["fingerprint"]
        == second[0]["fingerprint"]
        == fingerprint(
            "111111111111",
            "aws_iam_role_policy.hidden",
            "iac-unresolved",
            "aws_iam_role_policy.hidden: policy document known only after apply",
            None,
        )
    )
