"""IaC patches (issue 18): the Action rewrite, CloudFormation edits in every style, and `ctlint fix`."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from ctlint.fixes import cloudformation as cfn
from ctlint.fixes.rewrite import rewrite_actions
from ctlint.fixes.textedit import apply_edits, span_edit, unified_diff

ROOT = Path(__file__).resolve().parents[1]
CATALOG = {
    "s3:GetObject",
    "s3:GetObjectAcl",
    "s3:GetBucketPolicy",
    "s3:PutObject",
    "s3:ListBucket",
    "sqs:SendMessage",
    "sqs:DeleteQueue",
}


def expand(pattern: str) -> frozenset[str]:
    if pattern.endswith("*"):
        return frozenset(a for a in CATALOG if a.lower().startswith(pattern[:-1].lower()))
    return frozenset(a for a in CATALOG if a.lower() == pattern.lower())


# ---------------------------------------------------------------- the rewrite


def test_patterns_whose_actions_are_all_wanted_stay_as_written():
    result = rewrite_actions(["s3:ListBucket", "s3:Get*", "sqs:SendMessage"], {"s3:GetBucketPolicy"}, expand)
    assert result.slots == (None, ("s3:GetObject", "s3:GetObjectAcl"), None)
    assert result.actions == ("s3:ListBucket", "s3:GetObject", "s3:GetObjectAcl", "sqs:SendMessage")
    assert result.removed == ("s3:GetBucketPolicy",)


def test_an_action_a_kept_pattern_covers_is_not_repeated():
    result = rewrite_actions(["s3:Get*", "s3:GetObject"], {"s3:GetObject"}, expand)
    # s3:GetObject is flagged: both entries go; the wildcard's other matches become explicit, once.
    assert result.actions == ("s3:GetBucketPolicy", "s3:GetObjectAcl")
    again = rewrite_actions(["s3:GetObject", "s3:Get*"], {"s3:GetBucketPolicy"}, expand)
    assert again.actions == ("s3:GetObject", "s3:GetObjectAcl")


def test_nothing_left_removes_the_statement():
    result = rewrite_actions(["sqs:DeleteQueue"], {"sqs:DeleteQueue"}, expand)
    assert result.removes_statement and result.removed == ("sqs:DeleteQueue",)


# ---------------------------------------------------------------- CloudFormation edits


def _template(policy_yaml: str) -> str:
    return (
        "Resources:\n"
        "  Role:\n"
        "    Type: AWS::IAM::Role\n"
        "    Properties:\n"
        "      RoleName: app  # the app\n"
        "      Policies:\n"
        "        - PolicyName: p\n"
        "          PolicyDocument:\n"
        "            Statement:\n" + policy_yaml
    )


def _fix(text: str, line: int, index: int, flagged: set[str]) -> str:
    located = cfn.read_template(text, "t.yaml")
    path = cfn.find_statement(located, line, index)
    _rewrite, edit = cfn.edit_statement(text, located, path, lambda p: rewrite_actions(p, flagged, expand))
    return cfn.apply_and_verify(text, located, [edit])


def _changed_lines(before: str, after: str) -> tuple[set[str], set[str]]:
    old, new = before.splitlines(), after.splitlines()
    return set(old) - set(new), set(new) - set(old)


def test_yaml_block_list_loses_only_the_lines_of_flagged_entries():
    text = _template(
        "              - Effect: Allow\n"
        "                Action:\n"
        "                  - s3:ListBucket   # listing\n"
        "                  - sqs:DeleteQueue\n"
        "                  - s3:Get*\n"
        '                Resource: !Sub "arn:aws:s3:::${Bucket}/*"\n'
    )
    after = _fix(text, 10, 1, {"sqs:DeleteQueue", "s3:GetBucketPolicy"})
    removed, added = _changed_lines(text, after)
    assert removed == {"                  - sqs:DeleteQueue", "                  - s3:Get*"}
    assert added == {"                  - s3:GetObject", "                  - s3:GetObjectAcl"}
    assert "# listing" in after and "# the app" in after and '!Sub "arn:aws:s3:::${Bucket}/*"' in after


def test_yaml_flow_list_and_scalar_keep_their_style():
    text = _template(
        "              - Effect: Allow\n"
        "                Action: [s3:ListBucket, 'sqs:DeleteQueue']\n"
        "                Resource: '*'\n"
        "              - Effect: Allow\n"
        "                Action: s3:Get*\n"
        "                Resource: '*'\n"
    )
    after = _fix(text, 10, 1, {"sqs:DeleteQueue"})
    assert "                Action: [s3:ListBucket]\n" in after
    after = _fix(after, 13, 2, {"s3:GetBucketPolicy"})
    assert "                Action: [s3:GetObject, s3:GetObjectAcl]\n" in after
    quoted = _template("              - Effect: Allow\n                Action: 's3:Get*'\n")
    assert "Action: s3:GetObject\n" in _fix(quoted, 10, 1, {"s3:GetBucketPolicy", "s3:GetObjectAcl"})


def test_yaml_statement_with_nothing_left_is_cut_as_whole_lines():
    text = _template(
        "              - Sid: Gone\n"
        "                Effect: Allow\n"
        "                Action: sqs:DeleteQueue\n"
        "                Resource: '*'\n"
        "              # keep me\n"
        "              - Effect: Allow\n"
        "                Action: s3:ListBucket\n"
    )
    after = _fix(text, 10, 1, {"sqs:DeleteQueue"})
    assert "Gone" not in after and "DeleteQueue" not in after and "# keep me" in after
    assert cfn.read_template(after, "t").value["Resources"]["Role"]["Properties"]["Policies"][0][
        "PolicyDocument"
    ]["Statement"] == [{"Effect": "Allow", "Action": "s3:ListBucket"}]


JSON_TEMPLATE = """{
  "Resources": {
    "Policy": {
      "Type": "AWS::IAM::ManagedPolicy",
      "Properties": {
        "PolicyDocument": {
          "Statement": [
            {
              "Effect": "Allow",
              "Action": [
                "s3:ListBucket",
                "sqs:DeleteQueue"
              ],
              "Resource": {"Fn::Sub": "arn:aws:s3:::${B}"}
            },
            {"Effect": "Allow", "Action": ["s3:GetObject", "sqs:SendMessage"], "Resource": "*"},
            {"Effect": "Allow", "Action": "s3:Get*", "Resource": "*"}
          ]
        }
      }
    }
  }
}
"""


def test_json_lists_keep_their_layout_and_strings_grow_into_lists():
    after = _fix(JSON_TEMPLATE, 8, 1, {"sqs:DeleteQueue"})
    removed, added = _changed_lines(JSON_TEMPLATE, after)
    assert removed == {'                "s3:ListBucket",', '                "sqs:DeleteQueue"'}
    assert added == {'                "s3:ListBucket"'}
    after = _fix(after, 15, 2, {"sqs:SendMessage"})
    assert '"Action": ["s3:GetObject"], "Resource": "*"}' in after
    after = _fix(after, 16, 3, {"s3:GetBucketPolicy"})
    assert '"Action": ["s3:GetObject", "s3:GetObjectAcl"], "Resource": "*"}' in after


def test_json_statement_removal_takes_its_comma():
    after = _fix(JSON_TEMPLATE, 16, 2, {"s3:GetObject", "sqs:SendMessage"})
    statements = json.loads(after)["Resources"]["Policy"]["Properties"]["PolicyDocument"]["Statement"]
    assert [s["Action"] for s in statements] == [["s3:ListBucket", "sqs:DeleteQueue"], "s3:Get*"]
    first = _fix(JSON_TEMPLATE, 8, 1, {"s3:ListBucket", "sqs:DeleteQueue"})
    assert len(json.loads(first)["Resources"]["Policy"]["Properties"]["PolicyDocument"]["Statement"]) == 2


@pytest.mark.parametrize(
    ("statement", "reason"),
    [
        ("              - Effect: Allow\n                NotAction: s3:Get*\n", "NotAction"),
        ("              - Effect: Allow\n                Action: !Ref Actions\n", "not a literal list"),
        ("              - Effect: Allow\n                Action: sqs:DeleteQueue\n", "nothing of the policy"),
        (
            "              - Effect: Allow\n                Action: [s3:ListBucket,\n"
            "                  sqs:DeleteQueue]\n",
            "spans lines",
        ),
    ],
)
def test_what_cannot_be_rewritten_exactly_says_why(statement, reason):
    text = _template(statement)
    with pytest.raises(cfn.Unfixable, match=reason):
        _fix(text, 10, 1, {"sqs:DeleteQueue", "s3:GetBucketPolicy"})


def test_a_location_that_no_longer_holds_the_statement_gives_no_patch():
    text = _template(
        "              - Effect: Allow\n                Action: [s3:ListBucket, sqs:DeleteQueue]\n"
    )
    with pytest.raises(cfn.Unfixable, match="no statement 1"):
        _fix(text, 11, 1, {"sqs:DeleteQueue"})  # the line of the Action, not of the statement
    with pytest.raises(cfn.Unfixable, match="no statement 2"):
        _fix(text, 10, 2, {"sqs:DeleteQueue"})


def test_an_alias_that_would_change_another_statement_is_refused():
    text = _template(
        "              - Effect: Allow\n"
        "                Action: &shared [s3:ListBucket, sqs:DeleteQueue]\n"
        "              - Effect: Allow\n"
        "                Action: *shared\n"
    )
    # The edit rewrites the anchor, which the second statement reads too: the re-read check refuses it.
    with pytest.raises(cfn.Unfixable):
        _fix(text, 10, 1, {"sqs:DeleteQueue"})


def test_line_edits_and_diff():
    text = "a\nb\nc\n"
    edit = span_edit(text, 2, 3, "B1\nB2")
    assert (edit.first_line, edit.last_line, edit.lines) == (2, 2, ("B1\n", "B2\n"))
    after = apply_edits(text, [edit])
    assert after == "a\nB1\nB2\nc\n"
    assert unified_diff("x.yaml", text, after).splitlines()[:2] == ["--- a/x.yaml", "+++ b/x.yaml"]


# ---------------------------------------------------------------- ctlint fix on the example


def _copy_example(tmp_path: Path, name: str) -> Path:
    target = tmp_path / "examples" / name
    shutil.copytree(ROOT / "examples" / name, target)
    return target


def _new_grant_unused(capsys, config: str) -> list[dict]:
    from ctlint.cli import main

    code = main(["check", "--config", config, "--format", "json", "--quiet"])
    assert code in (0, 1)
    report = json.loads(capsys.readouterr().out)
    return [s for s in report["statements"] if s["rule"] == "new-grant-unused"]


def test_fix_write_on_the_cloudformation_example(tmp_path, capsys, monkeypatch):
    from ctlint.cli import main

    folder = _copy_example(tmp_path, "cloudformation")
    monkeypatch.chdir(tmp_path)
    config = "examples/cloudformation/ctlint.yaml"
    before = (folder / "template.yaml").read_text()
    flagged = _new_grant_unused(capsys, config)
    assert (
        main(["fix", "--config", config, "--quiet"]) == 1
    )  # the deploy policy cannot lose its only statement
    captured = capsys.readouterr()
    assert captured.out.startswith("--- a/examples/cloudformation/template.yaml\n")
    assert "not rewritten: examples/cloudformation/template.yaml:62" in captured.err
    assert (folder / "template.yaml").read_text() == before  # no --write, no change

    assert main(["fix", "--config", config, "--write", "--quiet"]) == 1
    capsys.readouterr()
    after = (folder / "template.yaml").read_text()
    removed, added = _changed_lines(before, after)
    assert removed == {
        "                  - dynamodb:DescribeTable  # new in this change",
        "                Action: [s3:GetObject, s3:ListAllMyBuckets]",
    }
    assert added == {"                Action: [s3:GetObject]"}
    remaining = _new_grant_unused(capsys, config)

    def statements(found: list[dict]) -> set[tuple[str, int]]:
        return {
            (s["properties"]["statement"]["policy"], s["properties"]["statement"]["index"]) for s in found
        }

    assert statements(flagged) - statements(remaining) == {("data", 1), ("data", 2)}
    assert statements(remaining) == {("arn:aws:iam::111111111111:policy/deploy", 1)}
    # Nothing left to do for the rewritten statements: a second run changes nothing more.
    assert main(["fix", "--config", config, "--write", "--quiet"]) == 1
    assert capsys.readouterr().out == ""
    assert (folder / "template.yaml").read_text() == after


# ---------------------------------------------------------------- SARIF fixes and the Markdown diff

SCHEMA = ROOT.parent / "shared" / "schemas" / "sarif-schema-2.1.0.json"


@pytest.fixture(scope="module")
def example_result():
    import os

    from ctlint.options import CheckOptions, InputOptions
    from ctlint.pipeline import run_check

    here = os.getcwd()
    os.chdir(ROOT)
    try:
        yield run_check(CheckOptions(inputs=InputOptions(config="examples/cloudformation/ctlint.yaml")))
    finally:
        os.chdir(here)


def test_sarif_results_carry_the_patch_as_a_fix(example_result):
    from ctlint.report.sarif import render_sarif

    log = json.loads(render_sarif(example_result, repo_root=ROOT))
    with_fixes = [r for r in log["runs"][0]["results"] if "fixes" in r]
    assert {r["ruleId"].split("/")[0] for r in with_fixes} == {"granted-unused", "new-grant-unused"}
    text = (ROOT / "examples" / "cloudformation" / "template.yaml").read_text().splitlines(keepends=True)
    for sarif_result in with_fixes:
        (change,) = sarif_result["fixes"][0]["artifactChanges"]
        assert change["artifactLocation"]["uri"] == "examples/cloudformation/template.yaml"
        # Applying the replacements as SARIF describes them gives the file ctlint fix writes for it.
        lines = list(text)
        for replacement in reversed(change["replacements"]):
            region = replacement["deletedRegion"]
            assert region["startColumn"] == region["endColumn"] == 1
            lines[region["startLine"] - 1 : region["endLine"] - 1] = [replacement["insertedContent"]["text"]]
        patched = "".join(lines)
        assert patched != "".join(text) and "s3:ListAllMyBuckets" in "".join(text)
        assert ("DescribeTable" in patched) != ("ListAllMyBuckets" in patched)  # one statement per fix


def test_sarif_with_fixes_is_valid_sarif(example_result):
    if not SCHEMA.is_file():
        pytest.skip("../shared/schemas/sarif-schema-2.1.0.json is absent (shared validation data)")
    import jsonschema

    from ctlint.report.sarif import render_sarif

    log = json.loads(render_sarif(example_result, repo_root=ROOT))
    assert any("fixes" in r for r in log["runs"][0]["results"])
    jsonschema.validate(log, json.loads(SCHEMA.read_text()))


def test_markdown_shows_each_patch_in_a_fence_nothing_inside_can_close(example_result):
    import dataclasses

    from ctlint.report.grouped_markdown import render_grouped_markdown

    text = render_grouped_markdown(example_result, max_bytes=65_000)
    assert "```diff\n--- a/examples/cloudformation/template.yaml\n" in text
    assert "-                  - dynamodb:DescribeTable  # new in this change\n" in text
    assert "Not patched (1 statement(s))" in text and "nothing of the policy would be left" in text
    fix = next(f for f in example_result.fixes if f.edits)
    hostile = dataclasses.replace(
        fix, diff=fix.diff + "+#  ````` </details> [x](https://e.example) \x1b[31m \u202e\n"
    )
    hostile_text = render_grouped_markdown(
        dataclasses.replace(example_result, fixes=(hostile,)), max_bytes=65_000
    )
    block = hostile_text.split("``````diff\n", 1)[1]
    assert block.index("\n``````\n") > block.index("`````")  # the 5-backtick run stays inside the fence
    assert "\x1b" not in hostile_text and "\u202e" not in hostile_text and "\\x1b[31m" in hostile_text


def test_a_statement_a_principal_with_a_generated_name_also_holds_is_never_shrunk(
    tmp_path, capsys, monkeypatch
):
    from ctlint.cli import main

    folder = _copy_example(tmp_path, "cloudformation")
    template = folder / "template.yaml"
    text = template.read_text()
    # ExtraPolicy is attached to AppRole and to GeneratedRole, whose name (and so usage) is unknown.
    assert "            Action: sqs:SendMessage\n" in text
    template.write_text(
        text.replace(
            "            Action: sqs:SendMessage\n",
            "            Action: [sqs:SendMessage, sqs:DeleteQueue]\n",
        )
    )
    monkeypatch.chdir(tmp_path)
    config = "examples/cloudformation/ctlint.yaml"
    flagged = _new_grant_unused(capsys, config)
    assert any(s["properties"]["statement"]["policy"] == "extra" for s in flagged)
    assert main(["fix", "--config", config, "--quiet"]) == 1
    err = capsys.readouterr().err
    assert (
        "inline policy 'extra' statement 1: the statement also grants to a principal whose name is generated"
        in err
    )
    assert "sqs:DeleteQueue" not in err.split("inline policy 'extra'")[1].split("Suggested Action: ")[0]


def test_a_managed_policy_is_held_by_every_principal_it_is_attached_to():
    from ctlint.fixes.plan import statement_holders
    from ctlint.model import PolicyDocument, Principal, SourceLocation, Statement

    arn = "arn:aws:iam::111111111111:policy/deploy"
    written = Statement("Allow", actions=("s3:GetObject",), location=SourceLocation("t.yaml", 9))
    deployed = Statement("Allow", actions=("s3:GetObject",), location=SourceLocation("snapshot.json", 3))

    def principal(name: str, statement: Statement) -> Principal:
        return Principal(
            arn=f"arn:aws:iam::111111111111:role/{name}",
            name=name,
            type="role",
            account_id="111111111111",
            policies=(PolicyDocument(name=arn, kind="managed", statements=(statement,)),),
        )

    holders = statement_holders([principal("iac", written), principal("console", deployed)], ["t.yaml"])
    assert list(holders) == [("t.yaml", 9, 1)]
    assert holders[("t.yaml", 9, 1)].principals == (
        "arn:aws:iam::111111111111:role/console",
        "arn:aws:iam::111111111111:role/iac",
    )


@pytest.mark.parametrize(("folder", "code"), [("cloudformation", 1), ("terraform", 0)])
def test_example_readmes_show_the_real_fix_output(folder, code, capsys, monkeypatch):
    from ctlint.cli import main

    monkeypatch.chdir(ROOT)
    assert main(["fix", "--config", f"examples/{folder}/ctlint.yaml", "--quiet"]) == code
    out = capsys.readouterr().out
    readme = (ROOT / "examples" / folder / "README.md").read_text()
    command = f"$ ctlint fix --config examples/{folder}/ctlint.yaml 2>/dev/null\n"
    block = readme.split(command, 1)[1].split("$ echo $?\n", 1)
    assert block[0] == out
    assert block[1].startswith(f"{code}\n")


def test_crlf_line_endings_stay_crlf():
    text = _template(
        "              - Effect: Allow\n                Action:\n                  - s3:ListBucket\n"
        "                  - sqs:DeleteQueue\n"
    ).replace("\n", "\r\n")
    after = _fix(text, 10, 1, {"sqs:DeleteQueue"})
    assert "DeleteQueue" not in after and after.count("\r\n") == text.count("\r\n") - 1
    assert "\n" not in after.replace("\r\n", "")
