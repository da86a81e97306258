"""Principal tags, unique ids and the organisation id from the inputs (snapshot, Terraform, CloudFormation,
config), validated, and what they decide end to end."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from ctlint.callerfacts import in_organization
from ctlint.catalog import Catalog
from ctlint.cli import main
from ctlint.config import load_config
from ctlint.errors import ConfigError, InputError
from ctlint.iac.loader import load_iac
from ctlint.inventory import parse_snapshot
from ctlint.policy import compute_grants

ROOT = Path(__file__).resolve().parents[1]
ACCOUNT = "111111111111"
TEAM_POLICY = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Action": "s3:GetObject",
            "Resource": "*",
            "Condition": {"StringEquals": {"aws:PrincipalTag/team": "blue"}},
        },
        {
            "Effect": "Allow",
            "Action": "s3:PutObject",
            "Resource": "*",
            "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-abcdefghij"}},
        },
    ],
}


def snapshot(user: dict | None = None, role: dict | None = None) -> dict:
    base_user = {
        "UserName": "alice",
        "UserId": "AIDAEXAMPLEUSERID0001",
        "Arn": f"arn:aws:iam::{ACCOUNT}:user/alice",
        "Path": "/",
        "UserPolicyList": [{"PolicyName": "team", "PolicyDocument": TEAM_POLICY}],
        "GroupList": [],
        "AttachedManagedPolicies": [],
        "Tags": [{"Key": "team", "Value": "blue"}],
    }
    base_role = {
        "RoleName": "deploy",
        "RoleId": "AROAEXAMPLEROLEID0001",
        "Arn": f"arn:aws:iam::{ACCOUNT}:role/deploy",
        "Path": "/",
        "AssumeRolePolicyDocument": {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Principal": {"AWS": ACCOUNT}, "Action": "sts:AssumeRole"}],
        },
        "RolePolicyList": [{"PolicyName": "team", "PolicyDocument": TEAM_POLICY}],
        "AttachedManagedPolicies": [],
        "Tags": [{"Key": "team", "Value": "red"}],
    }
    return {
        "UserDetailList": [{**base_user, **(user or {})}],
        "RoleDetailList": [{**base_role, **(role or {})}],
        "GroupDetailList": [],
        "Policies": [],
    }


def read(document: dict):
    return parse_snapshot(json.dumps(document), account_id=ACCOUNT, account_name="t", shown="iam/t.json")


def test_snapshot_tags_and_ids_are_read():
    alice, deploy = sorted(read(snapshot()).inventory.principals, key=lambda p: p.type != "user")
    assert alice.tags == (("team", "blue"),) and alice.tags_complete
    assert alice.unique_id == "AIDAEXAMPLEUSERID0001"
    assert deploy.tags == (("team", "red"),) and deploy.unique_id == "AROAEXAMPLEROLEID0001"


def test_a_record_without_tags_has_unknown_tags_not_none():
    record = snapshot()["UserDetailList"][0]
    del record["Tags"]
    (alice,) = [
        p for p in read({**snapshot(), "UserDetailList": [record]}).inventory.principals if p.type == "user"
    ]
    assert alice.tags == () and not alice.tags_complete


@pytest.mark.parametrize(
    ("tags", "message"),
    [
        ({"team": "blue"}, "Tags must be a list"),
        (None, "Tags must be a list"),
        ([{"Key": "team"}], "Tags[0] must be an object with exactly Key and Value"),
        ([{"Key": "team", "Value": 7}], "the tag value is a int"),
        ([{"Key": "", "Value": "x"}], "a tag key has 0 characters"),
        ([{"Key": "k" * 129, "Value": "x"}], "a tag key has 129 characters"),
        ([{"Key": "team", "Value": "v" * 257}], "a tag value has 257 characters"),
        ([{"Key": "team\n", "Value": "x"}], "a character IAM does not allow"),
        ([{"Key": "team", "Value": "\u202eevil"}], "a character IAM does not allow"),
        ([{"Key": "Team", "Value": "a"}, {"Key": "team", "Value": "b"}], "two tags have the same key"),
        ([{"Key": f"k{i}", "Value": "x"} for i in range(51)], "51 tags; IAM allows at most 50"),
    ],
)
def test_a_bad_tags_shape_is_an_input_error_naming_file_record_and_key(tags, message):
    with pytest.raises(InputError) as caught:
        read(snapshot(user={"Tags": tags}))
    assert str(caught.value).startswith("iam/t.json: user alice, Tags: ")
    assert message in str(caught.value)
    assert "\u202e" not in str(caught.value) and "\n" not in str(caught.value)  # the text stays out


def test_a_bad_unique_id_is_an_input_error():
    with pytest.raises(InputError, match=r"iam/t.json: role deploy, RoleId: not an IAM unique id"):
        read(snapshot(role={"RoleId": "AROA;DROP"}))


def test_tags_decide_grants_and_the_organisation_too():
    catalog = Catalog.load()
    inventory = read(snapshot()).inventory
    _, placed = in_organization("o-abcdefghij", None, inventory)
    by_type = {p.type: compute_grants(p, catalog) for p in placed.principals}
    assert "s3:GetObject" in by_type["user"].actions and "s3:GetObject" not in by_type["user"].conditional
    assert "s3:GetObject" not in by_type["role"].actions  # its tag is red
    assert "s3:PutObject" in by_type["role"].actions and not by_type["role"].conditional
    unplaced = {p.type: compute_grants(p, catalog) for p in inventory.principals}
    assert "s3:PutObject" in unplaced["user"].conditional  # no organisation configured: undecided


def test_check_exits_2_on_a_bad_tags_shape(tmp_path, capsys):
    shutil.copytree(ROOT / "examples" / "demo", tmp_path / "demo")
    path = tmp_path / "demo" / "iam" / "demo.json"
    data = json.loads(path.read_text())
    data["UserDetailList"][0]["Tags"] = [{"Key": "team", "Value": ["blue"]}]
    path.write_text(json.dumps(data))
    code = main(["check", "--config", str(tmp_path / "demo" / "ctlint.yaml")])
    err = capsys.readouterr().err
    assert code == 2
    assert "iam/demo.json: user" in err and "Tags: the tag value is a list, not a string." in err
    assert "Traceback" not in err


# ---------------------------------------------------------------- config


CONFIG = """
accounts:
  - name: a
    id: "111111111111"
    iam: iam.json
  - name: b
    id: "222222222222"
    iam: iam.json
    organization_id: o-zyxwvutsrq
{top}
usage:
  local:
    paths: [logs]
"""


def test_organization_id_top_level_and_per_account(tmp_path):
    (tmp_path / "iam.json").write_text("{}")
    (tmp_path / "c.yaml").write_text(CONFIG.format(top="organization_id: o-abcdefghij"))
    config = load_config(tmp_path / "c.yaml")
    assert [a.organization_id for a in config.accounts] == ["o-abcdefghij", "o-zyxwvutsrq"]
    (tmp_path / "c.yaml").write_text(CONFIG.format(top=""))
    assert [a.organization_id for a in load_config(tmp_path / "c.yaml").accounts] == [None, "o-zyxwvutsrq"]


def test_a_malformed_organization_id_is_a_config_error(tmp_path):
    (tmp_path / "iam.json").write_text("{}")
    (tmp_path / "c.yaml").write_text(CONFIG.format(top="organization_id: abc"))
    with pytest.raises(ConfigError, match="organization_id"):
        load_config(tmp_path / "c.yaml")


# ---------------------------------------------------------------- IaC


def _plan(values: dict, unknown: dict | None = None) -> dict:
    resource = {
        "address": "aws_iam_user.u",
        "mode": "managed",
        "type": "aws_iam_user",
        "name": "u",
        "values": {"name": "u", "path": "/", **values},
    }
    return {
        "format_version": "1.2",
        "planned_values": {"root_module": {"resources": [resource]}},
        "resource_changes": [{"address": "aws_iam_user.u", "change": {"after_unknown": unknown or {}}}],
    }


def _terraform(tmp_path: Path, plan: dict):
    (tmp_path / "plan.json").write_text(json.dumps(plan, indent=2))
    result = load_iac(
        [{"terraform_plan": "plan.json"}],
        base_dir=tmp_path,
        account_id=ACCOUNT,
        account_name="t",
        snapshot=None,
    )
    (user,) = result.inventory.principals
    return user


def test_terraform_tags_all_is_complete_and_tags_alone_is_not(tmp_path):
    user = _terraform(
        tmp_path, _plan({"tags": {"team": "blue"}, "tags_all": {"team": "blue", "env": "prod"}})
    )
    assert user.tags == (("env", "prod"), ("team", "blue")) and user.tags_complete
    user = _terraform(tmp_path, _plan({"tags": {"team": "blue"}}, {"tags_all": True}))
    assert user.tags == (("team", "blue"),) and not user.tags_complete
    user = _terraform(
        tmp_path, _plan({"tags_all": {"team": "blue"}, "unique_id": "AIDAX1"}, {"tags_all": {"owner": True}})
    )
    assert user.tags == (("owner", None), ("team", "blue")) and user.tags_complete
    assert user.unique_id == "AIDAX1"


def test_terraform_bad_tags_are_an_input_error(tmp_path):
    with pytest.raises(InputError, match=r"plan.json: aws_iam_user.u: tags_all must be a map of tag keys"):
        _terraform(tmp_path, _plan({"tags_all": ["team"]}))


def _cloudformation(tmp_path: Path, tags: object):
    template = {
        "Parameters": {"Owner": {"Type": "String"}},
        "Resources": {"U": {"Type": "AWS::IAM::User", "Properties": {"UserName": "u", "Tags": tags}}},
    }
    (tmp_path / "t.json").write_text(json.dumps(template, indent=2))
    result = load_iac(
        [{"cloudformation": "t.json"}], base_dir=tmp_path, account_id=ACCOUNT, account_name="t", snapshot=None
    )
    (user,) = result.inventory.principals
    return user


def test_cloudformation_tags_are_never_complete_and_unresolved_values_unknown(tmp_path):
    user = _cloudformation(
        tmp_path,
        [{"Key": "team", "Value": "blue"}, {"Key": "owner", "Value": {"Ref": "Owner"}}],
    )
    assert user.tags == (("owner", None), ("team", "blue")) and not user.tags_complete
    assert _cloudformation(tmp_path, {"Fn::If": ["C", [], []]}).tags == ()
    with pytest.raises(InputError, match=r"t.json: U: Tags must be a list"):
        _cloudformation(tmp_path, "team=blue")
