"""Reading SCPs and RCPs (ctlint.orgload) and the `accounts[].organization` config block: both layouts,
every accepted file form, and one sentence naming the file, entry or key for everything else."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ctlint.config import load_config
from ctlint.errors import ConfigError, InputError
from ctlint.orgload import LevelFiles, OrgSource, load_organization, read_policy_file

ACCOUNT = "111111111111"
FULL_ACCESS = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
DENY_LEAVE = {
    "Version": "2012-10-17",
    "Statement": [
        {"Sid": "NoLeaving", "Effect": "Deny", "Action": "organizations:LeaveOrganization", "Resource": "*"}
    ],
}
RCP_TLS = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Deny",
            "Principal": "*",
            "Action": ["s3:*", "sqs:*"],
            "Resource": "*",
            "Condition": {"BoolIfExists": {"aws:SecureTransport": "false"}},
        }
    ],
}


def described(
    name: str, document: dict, policy_type: str = "SERVICE_CONTROL_POLICY", policy_id: str = "p-1"
) -> dict:
    """What `aws organizations describe-policy --policy-id ID` prints."""
    return {
        "Policy": {
            "PolicySummary": {
                "Id": policy_id,
                "Arn": f"arn:aws:organizations::999999999999:policy/o-abc/service_control_policy/{policy_id}",
                "Name": name,
                "Description": "",
                "Type": policy_type,
                "AwsManaged": False,
            },
            "Content": json.dumps(document),
        }
    }


def write(path: Path, value: object) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(value if isinstance(value, str) else json.dumps(value), encoding="utf-8")
    return path


def test_a_describe_policy_output_a_list_of_them_and_bare_documents(tmp_path):
    one = read_policy_file(write(tmp_path / "full.json", described("FullAWSAccess", FULL_ACCESS)), "scp")
    assert [(d.name, d.kind) for d in one] == [("FullAWSAccess", "scp")]
    assert one[0].statements[0].actions == ("*",)
    many = read_policy_file(
        write(
            tmp_path / "many.json", [described("A", FULL_ACCESS), described("B", DENY_LEAVE, policy_id="p-2")]
        ),
        "scp",
    )
    assert [d.name for d in many] == ["A", "B"] and many[1].statements[0].sid == "NoLeaving"
    bare = read_policy_file(write(tmp_path / "docs.json", [FULL_ACCESS, DENY_LEAVE]), "scp")
    assert [len(d.statements) for d in bare] == [1, 1] and bare[1].statements[0].effect == "Deny"
    rcps = read_policy_file(
        write(tmp_path / "rcp.json", described("tls", RCP_TLS, "RESOURCE_CONTROL_POLICY")), "rcp"
    )
    assert rcps[0].kind == "rcp" and rcps[0].statements[0].has_condition


def test_levels_in_order_root_first(tmp_path):
    full = write(tmp_path / "org" / "full.json", described("FullAWSAccess", FULL_ACCESS))
    deny = write(tmp_path / "org" / "deny.json", described("NoLeaving", DENY_LEAVE))
    tls = write(tmp_path / "org" / "tls.json", described("tls", RCP_TLS, "RESOURCE_CONTROL_POLICY"))
    source = OrgSource(
        shown="cfg: accounts[0].organization",
        levels=(
            LevelFiles("root", scps=(full,), rcps=(tls,)),
            LevelFiles("ou-prod", scps=(full, deny)),
            LevelFiles(ACCOUNT, scps=(full,)),
        ),
    )
    org = load_organization(source, ACCOUNT)
    assert [(lv.name, [d.name for d in lv.scps], [d.name for d in lv.rcps]) for lv in org.levels] == [
        ("root", ["FullAWSAccess"], ["tls"]),
        ("ou-prod", ["FullAWSAccess", "NoLeaving"], []),
        (ACCOUNT, ["FullAWSAccess"], []),
    ]


def make_tree(tmp_path: Path) -> Path:
    root = tmp_path / "org" / "root"
    write(root / "p-FullAWSAccess.json", described("FullAWSAccess", FULL_ACCESS))
    write(root / "data-perimeter.json", described("tls", RCP_TLS, "RESOURCE_CONTROL_POLICY"))
    write(root / "README.md", "not a policy: ignored")
    write(root / "ou-prod" / "full.scp.json", FULL_ACCESS)
    write(root / "ou-prod" / "no-leaving.scp.json", DENY_LEAVE)
    write(root / "ou-prod" / ACCOUNT / "p-FullAWSAccess.json", described("FullAWSAccess", FULL_ACCESS))
    write(root / "ou-prod" / "222222222222" / "other.json", described("Other", DENY_LEAVE))
    write(root / "ou-dev" / "full.scp.json", FULL_ACCESS)
    return root


def test_the_tree_layout_finds_the_account_folder_and_its_path(tmp_path):
    org = load_organization(OrgSource(shown="cfg", tree=make_tree(tmp_path)), ACCOUNT)
    assert [(lv.name, len(lv.scps), len(lv.rcps)) for lv in org.levels] == [
        ("root", 1, 1),
        ("root/ou-prod", 2, 0),
        (f"root/ou-prod/{ACCOUNT}", 1, 0),
    ]


def test_the_config_block_in_both_forms(tmp_path):
    make_tree(tmp_path)
    write(tmp_path / "iam.json", {})
    write(tmp_path / "full.json", described("FullAWSAccess", FULL_ACCESS))
    text = f"""
accounts:
  - name: prod
    id: "{ACCOUNT}"
    iam: iam.json
    organization: {{tree: org/root}}
  - name: dev
    id: "222222222222"
    iam: iam.json
    organization:
      levels:
        - {{name: root, scps: [full.json]}}
        - {{name: "222222222222", scps: [full.json]}}
  - name: management
    id: "999999999999"
    iam: iam.json
    organization: {{management_account: true}}
usage: {{local: {{paths: [logs]}}}}
"""
    config = load_config(write(tmp_path / "ctlint.yaml", text))
    prod, dev, management = (a.organization for a in config.accounts)
    assert prod is not None and prod.tree == tmp_path / "org" / "root"
    assert dev is not None and [lv.name for lv in dev.levels] == ["root", "222222222222"]
    assert management is not None and management.management_account and not management.levels


@pytest.mark.parametrize(
    "block, message",
    [
        ("{tree: org/root, levels: [{name: root}]}", r"organization: has both 'tree' and 'levels'"),
        ("{}", r"organization: needs 'tree'"),
        ("{tree: nowhere}", r"organization.tree: the folder .*nowhere does not exist"),
        (
            "{levels: [{name: root, scps: [missing.json]}]}",
            r"organization.levels\[0\].scps: the policy file .*missing.json does not exist",
        ),
        ("{levels: [{name: root, scp: [x.json]}]}", r"unknown key 'scp' \(did you mean 'scps'\?\)"),
        ("{level: []}", r"unknown key 'level' \(did you mean 'levels'\?\)"),
    ],
)
def test_config_mistakes_name_the_key(tmp_path, block, message):
    (tmp_path / "org" / "root").mkdir(parents=True)
    write(tmp_path / "iam.json", {})
    text = f'accounts:\n  - {{name: a, id: "{ACCOUNT}", iam: iam.json, organization: {block}}}\nusage: {{local: {{paths: [l]}}}}\n'
    with pytest.raises(ConfigError, match=message):
        load_config(write(tmp_path / "ctlint.yaml", text))


LIST_FOR_TARGET = {
    "Policies": [
        {
            "Id": "p-FullAWSAccess",
            "Arn": "arn:aws:organizations::aws:policy/service_control_policy/p-FullAWSAccess",
            "Name": "FullAWSAccess",
            "Description": "",
            "Type": "SERVICE_CONTROL_POLICY",
            "AwsManaged": True,
        }
    ]
}


@pytest.mark.parametrize(
    "content, kind, message",
    [
        (
            LIST_FOR_TARGET,
            "scp",
            r"p.json: this is the output of `aws organizations list-policies-for-target`.*describe-policy",
        ),
        ("{not json", "scp", r"p.json: not valid JSON"),
        ([], "scp", r"p.json: an empty list"),
        (["x"], "scp", r"p.json: entry 1: a JSON str, not a policy"),
        (
            {"Version": "2012-10-17"},
            "scp",
            r"p.json: expected the output of `aws organizations describe-policy`",
        ),
        (
            described("tags", FULL_ACCESS, "TAG_POLICY"),
            "scp",
            r"p.json: policy 'tags' \(p-1\): Policy.PolicySummary.Type is 'TAG_POLICY'",
        ),
        (
            described("tls", RCP_TLS, "RESOURCE_CONTROL_POLICY"),
            "scp",
            r"policy 'tls' \(p-1\): is a resource control policy, but the file is listed under 'scps'",
        ),
        (
            {
                "Policy": {
                    "PolicySummary": {"Name": "x", "Type": "SERVICE_CONTROL_POLICY"},
                    "Content": {"Statement": []},
                }
            },
            "scp",
            r"policy 'x': Policy.Content must be the policy document as a JSON string",
        ),
        (
            {
                "Policy": {
                    "PolicySummary": {"Name": "x", "Type": "SERVICE_CONTROL_POLICY"},
                    "Content": "{oops",
                }
            },
            "scp",
            r"policy 'x': the policy document is not valid JSON",
        ),
        ({"Policy": {"Content": "{}"}}, "scp", r"p.json: Policy.PolicySummary is missing"),
        (
            described(
                "x", {"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*", "Principal": "*"}]}
            ),
            "scp",
            r"policy 'x' \(p-1\): statement 1: an SCP statement cannot name a Principal",
        ),
        (
            described(
                "x",
                {"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "s3:*", "Resource": "*"}]},
                "RESOURCE_CONTROL_POLICY",
            ),
            "rcp",
            r"statement 1: an RCP can only Deny",
        ),
        (FULL_ACCESS, None, r"p.json: a bare policy document does not say whether it is an SCP or an RCP"),
    ],
)
def test_bad_policy_files_are_refused_by_name(tmp_path, content, kind, message):
    path = write(tmp_path / "p.json", content)
    with pytest.raises(InputError, match=message):
        read_policy_file(path, kind)


def test_an_oversized_file_is_refused_before_it_is_read(tmp_path):
    path = tmp_path / "huge.json"
    with path.open("wb") as handle:
        handle.truncate(5 * 1024 * 1024)
    with pytest.raises(
        InputError, match=r"huge.json: the organisation policy file is 5.0 MiB, over ctlint's limit"
    ):
        read_policy_file(path, "scp")


def test_a_level_without_scps_while_others_have_them_is_refused(tmp_path):
    full = write(tmp_path / "full.json", described("FullAWSAccess", FULL_ACCESS))
    source = OrgSource(
        shown="cfg: accounts[0].organization",
        levels=(LevelFiles("root", scps=(full,)), LevelFiles("ou-prod")),
    )
    with pytest.raises(
        InputError, match=r"SCPs are given for root but not for ou-prod; AWS keeps at least one SCP attached"
    ):
        load_organization(source, ACCOUNT)


def test_too_many_levels_are_refused(tmp_path):
    full = write(tmp_path / "full.json", described("FullAWSAccess", FULL_ACCESS))
    source = OrgSource(shown="cfg", levels=tuple(LevelFiles(f"l{i}", scps=(full,)) for i in range(8)))
    with pytest.raises(InputError, match=r"cfg.levels: 8 levels"):
        load_organization(source, ACCOUNT)


def test_tree_without_or_with_two_account_folders(tmp_path):
    root = make_tree(tmp_path)
    with pytest.raises(InputError, match=r"cfg.tree: no folder named 333333333333 under"):
        load_organization(OrgSource(shown="cfg", tree=root), "333333333333")
    write(root / "ou-dev" / ACCOUNT / "full.scp.json", FULL_ACCESS)
    with pytest.raises(InputError, match=rf"cfg.tree: 2 folders named {ACCOUNT}"):
        load_organization(OrgSource(shown="cfg", tree=root), ACCOUNT)


def test_tree_files_may_hold_both_kinds_of_describe_policy_output(tmp_path):
    root = make_tree(tmp_path)
    write(
        root / "mixed.json", [described("a", FULL_ACCESS), described("b", RCP_TLS, "RESOURCE_CONTROL_POLICY")]
    )
    org = load_organization(OrgSource(shown="cfg", tree=root), ACCOUNT)
    # Each describe-policy output says its own type: one file may hold both.
    assert [d.name for d in org.levels[0].scps] == ["a", "FullAWSAccess"]
    assert [d.name for d in org.levels[0].rcps] == ["tls", "b"]
