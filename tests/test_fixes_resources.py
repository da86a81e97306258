"""IaC patches narrow Resource lines (issue 18): `ctlint fix` writes the ARNs the records name, when one
right-sized statement holds every kept action; otherwise Resource stays as written, with the reason."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from cloudtrail_factory import assumed_role, event, write_s3_layout

from ctlint.catalog import Catalog
from ctlint.fixes import cloudformation as cfn
from ctlint.fixes.resources import narrow_resources
from ctlint.fixes.rewrite import rewrite_actions, rewrite_list
from ctlint.model import Statement
from ctlint.policy import statement_actions

ROOT = Path(__file__).resolve().parents[1]
ACCOUNT = "111111111111"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/service/app-prod"
TABLES = f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/*"
ORDERS = f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/orders"


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return Catalog.load()


def _expander(catalog: Catalog):
    return lambda pattern: statement_actions(Statement("Allow", actions=(pattern,)), catalog)


# ---------------------------------------------------------------- the pure parts


def test_a_list_rewrite_keeps_the_entries_it_keeps_and_puts_new_ones_in_the_first_freed_slot():
    rewrite = rewrite_list(["arn:a", "arn:b*", "arn:c"], ["arn:a", "arn:b1", "arn:b2"])
    assert rewrite.slots == (None, ("arn:b1", "arn:b2"), ())
    assert rewrite.actions == ("arn:a", "arn:b1", "arn:b2")
    assert rewrite_list(["*"], [ORDERS]).actions == (ORDERS,)


def test_one_principal_whose_usage_names_every_kept_action_gets_the_narrowed_list(catalog):
    statement = Statement(
        "Allow", actions=("dynamodb:DeleteItem", "dynamodb:DeleteTable"), resources=(TABLES,)
    )
    used = {ROLE: {"dynamodb:DeleteItem": frozenset({ORDERS})}}
    choice = narrow_resources(statement, ("dynamodb:DeleteItem",), (ROLE,), used, catalog, _expander(catalog))
    assert choice.resources == (ORDERS,) and choice.note is None
    # A used ARN outside the grant never widens it.
    outside = {ROLE: {"dynamodb:DeleteItem": frozenset({ORDERS.replace(ACCOUNT, "222222222222")})}}
    choice = narrow_resources(
        statement, ("dynamodb:DeleteItem",), (ROLE,), outside, catalog, _expander(catalog)
    )
    assert choice.resources is None and "on none of the resources it was used on" in (choice.note or "")


@pytest.mark.parametrize(
    ("actions", "principals", "used", "note"),
    [
        (  # each action on its own table: two statements, which a patch of one statement cannot write
            ("dynamodb:DeleteItem", "dynamodb:GetItem"),
            (ROLE,),
            {"dynamodb:DeleteItem": {ORDERS}, "dynamodb:GetItem": {ORDERS.replace("orders", "users")}},
            "Resource left as written: resources differ per action; see ctlint suggest.",
        ),
        (
            ("dynamodb:DeleteItem", "dynamodb:GetItem"),
            (ROLE,),
            {"dynamodb:DeleteItem": {ORDERS}},
            "Resource left as written: usage names no resource for dynamodb:GetItem.",
        ),
        (
            ("dynamodb:DeleteItem",),
            (ROLE, f"arn:aws:iam::{ACCOUNT}:role/other"),
            {"dynamodb:DeleteItem": {ORDERS}},
            "Resource left as written: the statement grants to several principals; see ctlint suggest for each.",
        ),
        (
            ("dynamodb:DeleteItem",),
            (ROLE,),
            {"dynamodb:DeleteItem": {TABLES}},  # collapsed past the bound to the statement's own pattern
            "Resource left as written: the actions kept need every resource it names.",
        ),
    ],
)
def test_otherwise_the_resource_stays_and_the_fix_says_why(catalog, actions, principals, used, note):
    statement = Statement("Allow", actions=actions, resources=(TABLES,))
    by_principal = {ROLE: {a: frozenset(r) for a, r in used.items()}}
    choice = narrow_resources(statement, actions, principals, by_principal, catalog, _expander(catalog))
    assert (choice.resources, choice.note) == (None, note)


def test_an_action_that_takes_only_star_keeps_it_so_one_list_cannot_serve_both(catalog):
    actions = ("dynamodb:DeleteItem", "dynamodb:ListTables")
    used = {ROLE: {"dynamodb:DeleteItem": frozenset({ORDERS})}}  # ListTables: no entry, it takes `*`
    choice = narrow_resources(
        Statement("Allow", actions=actions, resources=("*",)),
        actions,
        (ROLE,),
        used,
        catalog,
        _expander(catalog),
    )
    assert choice.note == "Resource left as written: resources differ per action; see ctlint suggest."
    # On a statement whose Resource cannot name `*`, ListTables is granted nowhere: that is said instead.
    choice = narrow_resources(
        Statement("Allow", actions=actions, resources=(TABLES,)),
        actions,
        (ROLE,),
        used,
        catalog,
        _expander(catalog),
    )
    assert choice.note == (
        "Resource left as written: the statement grants dynamodb:ListTables on none of the resources it was used on."
    )


def test_without_collected_resources_nothing_is_said(catalog):
    statement = Statement("Allow", actions=("dynamodb:DeleteItem",), resources=(TABLES,))
    choice = narrow_resources(statement, ("dynamodb:DeleteItem",), (ROLE,), None, catalog, _expander(catalog))
    assert (choice.resources, choice.note) == (None, None)


def test_action_and_resource_on_one_line_leave_the_resource_alone():
    text = json.dumps(
        {
            "Resources": {
                "R": {
                    "Type": "AWS::IAM::Role",
                    "Properties": {
                        "RoleName": "app",
                        "Policies": [
                            {
                                "PolicyName": "p",
                                "PolicyDocument": {
                                    "Statement": [
                                        {"Effect": "Allow", "Action": ["a:B", "a:C"], "Resource": "*"}
                                    ]
                                },
                            }
                        ],
                    },
                }
            }
        }
    )
    located = cfn.read_template(text, "t.json")
    path = ("Resources", "R", "Properties", "Policies", 0, "PolicyDocument", "Statement", 0)
    flagged = {"a:C"}

    def rewrite(patterns):
        return rewrite_actions(patterns, flagged, lambda p: frozenset({p}))

    with pytest.raises(cfn.ResourceUnfixable, match="share a line"):
        cfn.edit_statement(text, located, path, rewrite, ["arn:aws:s3:::b"])
    _rewrite, edit = cfn.edit_statement(text, located, path, rewrite)  # the Action part still works
    assert edit.resource is None and edit.edits


# ---------------------------------------------------------------- `ctlint fix` on the examples


def _changed(before: str, after: str) -> tuple[set[str], set[str]]:
    old, new = before.splitlines(), after.splitlines()
    return set(old) - set(new), set(new) - set(old)


def _statements(capsys, config: str) -> set[tuple[str, str]]:
    from ctlint.cli import main

    assert main(["check", "--config", config, "--format", "json", "--quiet"]) in (0, 1)
    report = json.loads(capsys.readouterr().out)
    return {
        (s["rule"], f"{s['properties']['statement']['policy']}#{s['properties']['statement']['index']}")
        for s in report["statements"]
        if "statement" in s["properties"]
    }


def test_cloudformation_resource_narrowed_to_the_table_the_records_name(tmp_path, capsys, monkeypatch):
    from ctlint.cli import main

    folder = tmp_path / "examples" / "cloudformation"
    shutil.copytree(ROOT / "examples" / "cloudformation", folder)
    name_in_logs(folder, "DeleteItem", {"tableName": "orders"})
    template = folder / "template.yaml"
    anchor = '                Resource: !Sub "arn:aws:s3:::${BucketName}/*"\n'
    text = template.read_text()
    assert anchor in text
    template.write_text(
        text.replace(
            anchor,
            anchor + "              - Sid: Tables\n"
            "                Effect: Allow\n"
            "                Action:\n"
            "                  - dynamodb:DeleteItem\n"
            "                  - dynamodb:DeleteTable  # new in this change\n"
            "                Resource:\n"
            f'                  - "{TABLES}"  # every table\n',
            1,
        )
    )
    role = assumed_role(ACCOUNT, "app-prod", "s1", "ASIAAPPPRODSESSION01", path="/service/")
    deleted = event(
        role,
        "dynamodb.amazonaws.com",
        "DeleteItem",
        "2026-10-20T08:00:00Z",
        request_parameters={"tableName": "orders", "key": {"id": {"S": "1"}}},
    )
    write_s3_layout(folder / "logs" / "narrow", [deleted])
    monkeypatch.chdir(tmp_path)
    config = "examples/cloudformation/ctlint.yaml"
    assert ("new-grant-unused", "data#3") in _statements(capsys, config)
    before = template.read_text()

    assert main(["fix", "--config", config, "--write", "--quiet"]) == 1  # the deploy policy, as before
    err = capsys.readouterr().err
    after = template.read_text()
    removed, added = _changed(before, after)
    assert removed == {
        "                  - dynamodb:DescribeTable  # new in this change",
        "                Action: [s3:GetObject, s3:ListAllMyBuckets]",
        "                  - dynamodb:DeleteTable  # new in this change",
        f'                  - "{TABLES}"  # every table',
    }
    assert added == {"                Action: [s3:GetObject]", f'                  - "{ORDERS}"'}
    # The statements whose Resource is an intrinsic keep it, and say so (the GetAtt is also unobserved).
    assert (
        "template.yaml:44 inline policy 'data' statement 2: Resource left as written: "
        "usage names no resource for s3:GetObject." in err
    )
    remaining = _statements(capsys, config)
    assert not {s for s in remaining if s[0] == "new-grant-unused" and s[1].startswith("data#")}
    assert ("new-grant-unused", f"arn:aws:iam::{ACCOUNT}:policy/deploy#1") in remaining


def test_check_stays_action_only(tmp_path, monkeypatch):
    """`check` collects no resources: its patches (SARIF, Markdown) never touch Resource lines."""
    from ctlint.options import CheckOptions, InputOptions
    from ctlint.pipeline import run_check

    folder = tmp_path / "examples" / "terraform"
    shutil.copytree(ROOT / "examples" / "terraform", folder)
    name_in_logs(folder, "ListObjects", {"bucketName": "app-bucket"})
    terraform_logs(folder)
    monkeypatch.chdir(tmp_path)
    config = "examples/terraform/ctlint.yaml"
    checked = run_check(CheckOptions(inputs=InputOptions(config=config)))
    assert checked.fixes and all(f.resources is None and f.resource_note is None for f in checked.fixes)
    fixing = run_check(CheckOptions(inputs=InputOptions(config=config, collect_resources=True)))
    assert [f.resources for f in fixing.fixes if f.resources] == [(LOG_STREAM,)]


def name_in_logs(folder: Path, event_name: str, parameters: dict) -> None:
    """The examples' generated records carry no requestParameters; real ones name their resource. A call
    naming none keeps its action from being narrowed at all, so the copies get the parameters here."""
    import gzip

    for path in (folder / "logs").rglob("*.json.gz"):
        document = json.loads(gzip.decompress(path.read_bytes()))
        for record in document["Records"]:
            if record["eventName"] == event_name and not record.get("requestParameters"):
                record["requestParameters"] = parameters
        path.write_bytes(gzip.compress(json.dumps(document).encode(), mtime=0))


LOG_STREAM = f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:/aws/lambda/app:log-stream:2026/10/20/abc"


def terraform_logs(folder: Path) -> None:
    role = assumed_role(ACCOUNT, "app", "s1", "ASIAAPPSESSION000001", path="/service/")
    put = event(
        role,
        "logs.amazonaws.com",
        "PutLogEvents",
        "2026-10-20T08:00:00Z",
        request_parameters={"logGroupName": "/aws/lambda/app", "logStreamName": "2026/10/20/abc"},
    )
    listed = event(
        role,
        "s3.amazonaws.com",
        "ListObjects",
        "2026-10-20T08:00:00Z",
        request_parameters={"bucketName": "app-bucket"},
    )
    write_s3_layout(folder / "logs" / "narrow", [put, listed])


def test_terraform_resource_narrowed_to_the_log_stream_the_records_name(tmp_path, capsys, monkeypatch):
    from ctlint.cli import main

    folder = tmp_path / "examples" / "terraform"
    shutil.copytree(ROOT / "examples" / "terraform", folder)
    name_in_logs(folder, "ListObjects", {"bucketName": "app-bucket"})
    terraform_logs(folder)
    monkeypatch.chdir(tmp_path)
    config = "examples/terraform/ctlint.yaml"
    before = (folder / "main.tf").read_text()
    assert main(["fix", "--config", config, "--write", "--quiet"]) == 0
    err = capsys.readouterr().err
    after = (folder / "main.tf").read_text()
    assert _changed(before, after) == (
        {
            '      "s3:PutBucketPolicy", # new in this change',
            '          Action   = ["logs:CreateLogStream", "logs:PutLogEvents"]',
            '          Resource = "*"',
        },
        {'          Action   = ["logs:PutLogEvents"]', f'          Resource = "{LOG_STREAM}"'},
    )
    # s3:ListBucket was used on the one bucket the statement names: nothing to narrow, and it says so.
    assert (
        "main.tf:13 inline policy 's3' statement 2 (Sid Bucket): Resource left as written: "
        "the actions kept need every resource it names." in err
    )
    # What the next plan holds for the rewritten statements (terraform renders the .tf literals as they
    # are now; test_fixes_terraform plans the Action-only fix with terraform itself): no new-grant-unused.
    plan_path = folder / "plan.json"
    plan_path.write_text(json.dumps(_replanned(json.loads(plan_path.read_text())), indent=4))
    remaining = _statements(capsys, config)
    assert not {s for s in remaining if s[0] == "new-grant-unused"}


def _replanned(value):
    """The plan's values with the two fixed statements as the fixed sources hold them."""
    if isinstance(value, dict):
        out = {k: _replanned(v) for k, v in value.items()}
        if out.get("Action") == ["logs:CreateLogStream", "logs:PutLogEvents"]:
            out.update(Action=["logs:PutLogEvents"], Resource=LOG_STREAM)
        return out
    if isinstance(value, list):
        return [_replanned(v) for v in value if v != "s3:PutBucketPolicy"]
    if isinstance(value, str) and value.lstrip().startswith("{"):
        try:
            return json.dumps(_replanned(json.loads(value)))
        except json.JSONDecodeError:
            return value
    return value


# ---------------------------------------------------------------- the editors, Resource part

DOCUMENT = """data "aws_iam_policy_document" "d" {
  statement {
    actions = ["s3:GetObject", "s3:PutObject"]
    resources = [
      "arn:aws:s3:::app/*", # objects
    ]
  }
  statement {
    actions   = ["s3:ListBucket", "s3:GetObject"]
    resources = [aws_s3_bucket.b.arn]
  }
}
"""
HEREDOC = """resource "aws_iam_policy" "p" {
  policy = <<EOF
{
  "Statement": [
    {
      "Effect": "Allow",
      "Action": ["s3:GetObject", "s3:PutObject"],
      "Resource": "*"
    }
  ]
}
EOF
}
"""


def _tf_edit(text: str, site, resources: list[str], before: tuple[str, ...]):
    from ctlint.fixes import terraform as tf

    def rewrite(patterns):
        return rewrite_actions(patterns, {"s3:PutObject", "s3:ListBucket"}, lambda p: frozenset({p}))

    return tf.edit_tf({"main.tf": text}, site, rewrite, resources=resources, resources_before=before)


def test_terraform_document_and_heredoc_resources_keep_their_layout():
    from ctlint.fixes import terraform as tf

    document = tf.PlanSite((), "data", "aws_iam_policy_document", "d", ("statement", 0), 0)
    edit = _tf_edit(DOCUMENT, document, ["arn:aws:s3:::app/logs/a"], ("arn:aws:s3:::app/*",))
    assert _changed(DOCUMENT, edit.after) == (
        {'    actions = ["s3:GetObject", "s3:PutObject"]', '      "arn:aws:s3:::app/*", # objects'},
        {'    actions = ["s3:GetObject"]', '      "arn:aws:s3:::app/logs/a",'},
    )
    heredoc = tf.PlanSite((), "managed", "aws_iam_policy", "p", ("policy",), 0)
    edit = _tf_edit(HEREDOC, heredoc, ["arn:aws:s3:::app/a"], ("*",))
    assert _changed(HEREDOC, edit.after) == (
        {'      "Action": ["s3:GetObject", "s3:PutObject"],', '      "Resource": "*"'},
        {'      "Action": ["s3:GetObject"],', '      "Resource": "arn:aws:s3:::app/a"'},
    )


@pytest.mark.parametrize(
    ("index", "resources", "before", "reason"),
    [
        (1, ["arn:aws:s3:::b"], ("arn:aws:s3:::b",), "resources is not a literal list of strings"),
        (
            0,
            ["arn:aws:s3:::app/%{if true}x%{endif}"],
            ("arn:aws:s3:::app/*",),
            "would read as a Terraform template",
        ),
        (0, ["arn:aws:s3:::app/a"], ("arn:aws:s3:::other/*",), "not the one the plan holds"),
    ],
)
def test_terraform_resources_it_cannot_write_exactly_say_why(index, resources, before, reason):
    from ctlint.fixes import terraform as tf

    at = tf.PlanSite((), "data", "aws_iam_policy_document", "d", ("statement", index), index)
    with pytest.raises(cfn.ResourceUnfixable, match=reason):
        _tf_edit(DOCUMENT, at, resources, before)


def test_an_intrinsic_resource_is_never_narrowed(catalog):
    statement = Statement(
        "Allow", actions=("dynamodb:DeleteItem",), resources=('{"Fn::GetAtt": ["T", "Arn"]}',)
    )
    used = {ROLE: {"dynamodb:DeleteItem": frozenset({ORDERS})}}
    choice = narrow_resources(statement, ("dynamodb:DeleteItem",), (ROLE,), used, catalog, _expander(catalog))
    assert choice.resources is None
    assert choice.note == (
        'Resource left as written: its resource {"Fn::GetAtt": ["T", "Arn"]} is only known at deployment.'
    )
    text = "Resources:\n  R:\n    Properties:\n      PolicyDocument:\n        Statement:\n"
    text += "          - Effect: Allow\n            Action: [a:B, a:C]\n            Resource: !GetAtt T.Arn\n"
    located = cfn.read_template(text, "t.yaml")
    path = ("Resources", "R", "Properties", "PolicyDocument", "Statement", 0)
    with pytest.raises(cfn.ResourceUnfixable, match="Resource is not a literal list of strings"):
        cfn.edit_statement(
            text, located, path, lambda p: rewrite_actions(p, {"a:C"}, lambda x: frozenset({x})), [ORDERS]
        )


def test_json_resource_list_keeps_its_layout_and_re_reads_exactly():
    document = {"Statement": [{"Effect": "Allow", "Action": ["a:B", "a:C"], "Resource": [TABLES, "arn:x"]}]}
    text = json.dumps({"Resources": {"R": {"Properties": {"PolicyDocument": document}}}}, indent=2) + "\n"
    located = cfn.read_template(text, "t.json")
    path = ("Resources", "R", "Properties", "PolicyDocument", "Statement", 0)
    _rewrite, edit = cfn.edit_statement(
        text, located, path, lambda p: rewrite_actions(p, {"a:C"}, lambda x: frozenset({x})), [ORDERS]
    )
    after = cfn.apply_and_verify(text, located, [edit])
    statement = json.loads(after)["Resources"]["R"]["Properties"]["PolicyDocument"]["Statement"][0]
    assert statement["Resource"] == [ORDERS] and statement["Action"] == ["a:B"]
    removed, added = _changed(text, after)
    assert {line.strip() for line in removed} == {f'"{TABLES}",', '"arn:x"', '"a:C"', '"a:B",'}
    assert {line.strip() for line in added} == {f'"{ORDERS}"', '"a:B"'}
    # The re-read must hold the intended Resource: a patch claiming another value is refused.
    wrong = cfn.StatementEdit(edit.path, edit.edits, edit.action, resource=[TABLES])
    with pytest.raises(cfn.Unfixable, match="would not re-read"):
        cfn.apply_and_verify(text, located, [wrong])
