"""Every AWS managed policy the examples and fixtures attach resolves from the shipped data."""

import json
import re
from pathlib import Path

import pytest

from ctlint.iac.loader import load_iac
from ctlint.iac.managed import aws_managed_policy
from ctlint.model import Inventory, PolicyDocument, Principal, SourceLocation, Statement

ROOT = Path(__file__).resolve().parents[1]
ACCOUNT = "111111111111"
_ARN = re.compile(r"arn:aws:iam::aws:policy/[A-Za-z0-9_+=,.@/-]+")


def _attached_in(folder: Path) -> set[str]:
    return {
        m
        for path in folder.rglob("*")
        if path.is_file()
        for m in _ARN.findall(path.read_text(errors="ignore"))
    }


@pytest.mark.parametrize("example", ["terraform", "cloudformation", "demo"])
def test_every_aws_managed_policy_an_example_attaches_resolves(example):
    arns = _attached_in(ROOT / "examples" / example)
    if example != "demo":
        assert arns, f"examples/{example} attaches no AWS managed policy"
    assert [arn for arn in sorted(arns) if aws_managed_policy(arn) is None] == []


def test_an_unknown_arn_resolves_to_nothing():
    assert aws_managed_policy("arn:aws:iam::aws:policy/NoSuchPolicy") is None


def _template(tmp_path: Path, *arns: str) -> Path:
    template = {
        "Resources": {
            "R": {"Type": "AWS::IAM::Role", "Properties": {"RoleName": "r", "ManagedPolicyArns": list(arns)}}
        }
    }
    (tmp_path / "t.json").write_text(json.dumps(template, indent=2))
    return tmp_path


def _load(base: Path, snapshot=None):
    return load_iac(
        [{"cloudformation": "t.json"}], base_dir=base, account_id=ACCOUNT, account_name="t", snapshot=snapshot
    )


def test_a_template_attaching_any_aws_managed_policy_resolves_from_the_shipped_data(tmp_path):
    view_only = "arn:aws:iam::aws:policy/job-function/ViewOnlyAccess"
    ecs = "arn:aws:iam::aws:policy/AmazonECS_FullAccess"
    result = _load(_template(tmp_path, view_only, ecs))
    (role,) = result.inventory.principals
    assert [d.name for d in role.policies] == [view_only, ecs]
    assert role.policies[0].statements == aws_managed_policy(view_only).statements
    assert result.unresolved == ()
    # findings on these actions point at the line attaching the policy, not into the shipped data
    line = (tmp_path / "t.json").read_text().splitlines().index(f'          "{ecs}"') + 1
    assert result.action_locations[(role.arn, "ecs:*")] == SourceLocation("t.json", line)


def test_a_deprecated_aws_managed_policy_is_unresolved_unless_the_snapshot_has_it(tmp_path):
    deprecated = "arn:aws:iam::aws:policy/AWSLambdaFullAccess"
    result = _load(_template(tmp_path, deprecated))
    (role,) = result.inventory.principals
    assert role.policies == ()
    ((text, where),) = result.unresolved
    assert deprecated in text and "ctlint's data" in text and where.path == "t.json"

    own = PolicyDocument(
        name=deprecated, kind="managed", statements=(Statement(effect="Allow", actions=("lambda:*",)),)
    )
    snapshot_role = Principal(
        arn=f"arn:aws:iam::{ACCOUNT}:role/r", name="r", type="role", account_id=ACCOUNT, policies=(own,)
    )
    snapshot = Inventory(
        account_id=ACCOUNT, account_name="t", principals=(snapshot_role,), source="snap.json"
    )
    (role,) = _load(tmp_path, snapshot).inventory.principals
    assert [s.actions for d in role.policies for s in d.statements] == [("lambda:*",)]
