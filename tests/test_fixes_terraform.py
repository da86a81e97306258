"""IaC patches in Terraform sources (issue 18): the HCL reader, the three policy styles, the plan trace."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from ctlint.fixes import terraform as tf
from ctlint.fixes.cloudformation import Unfixable
from ctlint.fixes.hcl import HclError, literal_at, parse_hcl
from ctlint.fixes.rewrite import rewrite_actions
from ctlint.iac.lines import parse_json_located

ROOT = Path(__file__).resolve().parents[1]
CATALOG = {
    "s3:GetBucketAcl",
    "s3:GetObject",
    "s3:GetObjectAcl",
    "s3:PutObject",
    "s3:ListBucket",
    "s3:PutBucketPolicy",
}


def expand(pattern: str) -> frozenset[str]:
    if pattern.endswith("*"):
        return frozenset(a for a in CATALOG if a.startswith(pattern[:-1]))
    return frozenset({pattern} & CATALOG)


def site(mode: str, rtype: str, name: str, attribute: tuple, index: int = 0) -> tf.PlanSite:
    return tf.PlanSite((), mode, rtype, name, attribute, index)


def fix(text: str, at: tf.PlanSite, flagged: set[str]) -> str:
    edit = tf.edit_tf({"main.tf": text}, at, lambda p: rewrite_actions(p, flagged, expand))
    return edit.after


def changed(before: str, after: str) -> tuple[set[str], set[str]]:
    old, new = before.splitlines(), after.splitlines()
    return set(old) - set(new), set(new) - set(old)


# ---------------------------------------------------------------- the HCL reader


def test_hcl_reader_skips_strings_comments_and_heredocs_exactly():
    text = (
        '# a { in a comment\nresource "aws_iam_policy" "p" {\n'
        '  name = "p-${var.env}-}" // a } here too\n'
        "  /* { */ description = <<EOT\n  } not a brace\n  EOT\n"
        '  tags = { for k, v in var.tags : k => "${v}}" }\n}\n'
        'data "aws_iam_policy_document" "d" {\n  statement {\n    actions = ["s3:GetObject"]\n  }\n}\n'
    )
    blocks = parse_hcl(text)
    assert [(b.type, b.labels) for b in blocks] == [
        ("resource", ("aws_iam_policy", "p")),
        ("data", ("aws_iam_policy_document", "d")),
    ]
    assert [a.name for a in blocks[0].attributes] == ["name", "description", "tags"]
    actions = blocks[1].children("statement")[0].attribute("actions")
    assert literal_at(text, actions.value_start, actions.value_end).plain() == ["s3:GetObject"]


@pytest.mark.parametrize(
    "text",
    ['resource "a" "b" {\n  x = "unclosed\n}\n', 'resource "a" "b" {\n  x = [1, 2\n', "x = 1\n", "{" * 300],
)
def test_hcl_reader_refuses_what_it_cannot_follow(text):
    with pytest.raises(HclError):
        parse_hcl(text)


# ---------------------------------------------------------------- the three policy styles

DOCUMENT = """data "aws_iam_policy_document" "s3" {
  statement {
    sid     = "Objects"
    actions = ["s3:PutObject", "s3:GetObject"]
  }

  statement {
    actions = [
      "s3:PutBucketPolicy", # new
      "s3:ListBucket",
    ]
    resources = [var.bucket_arn]
  }
}
"""


def test_policy_document_statement_blocks_keep_their_layout():
    after = fix(
        DOCUMENT, site("data", "aws_iam_policy_document", "s3", ("statement", 1), 1), {"s3:PutBucketPolicy"}
    )
    assert changed(DOCUMENT, after) == ({'      "s3:PutBucketPolicy", # new'}, set())
    after = fix(
        DOCUMENT, site("data", "aws_iam_policy_document", "s3", ("statement", 0), 0), {"s3:PutObject"}
    )
    assert changed(DOCUMENT, after) == (
        {'    actions = ["s3:PutObject", "s3:GetObject"]'},
        {'    actions = ["s3:GetObject"]'},
    )


JSONENCODE = """resource "aws_iam_role_policy" "p" {
  name = "p"
  role = aws_iam_role.app.name
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Effect   = "Allow"
        Action   = ["s3:ListBucket", "s3:PutBucketPolicy"] # bucket
        Resource = "arn:aws:s3:::${var.bucket}"
      },
      {
        "Effect" : "Allow",
        "Action" : "s3:Get*",
        "Resource" : "*",
      },
    ]
  })
}
"""


def test_jsonencode_literals_are_edited_in_place():
    at = site("managed", "aws_iam_role_policy", "p", ("policy",), 0)
    after = fix(JSONENCODE, at, {"s3:PutBucketPolicy"})
    assert changed(JSONENCODE, after) == (
        {'        Action   = ["s3:ListBucket", "s3:PutBucketPolicy"] # bucket'},
        {'        Action   = ["s3:ListBucket"] # bucket'},
    )
    second = site("managed", "aws_iam_role_policy", "p", ("policy",), 1)
    after = fix(JSONENCODE, second, {"s3:GetObjectAcl", "s3:GetBucketAcl"})
    assert '        "Action" : "s3:GetObject",\n' in after
    after = fix(JSONENCODE, second, {"s3:GetObject"})
    assert '        "Action" : ["s3:GetBucketAcl", "s3:GetObjectAcl"],\n' in after


HEREDOC = """resource "aws_iam_policy" "deploy" {
  name   = "deploy"
  policy = <<-EOF
    {
      "Statement": [
        {"Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject"], "Resource": "*"}
      ]
    }
  EOF
}
"""


def test_heredoc_json_is_edited_as_json():
    after = fix(HEREDOC, site("managed", "aws_iam_policy", "deploy", ("policy",), 0), {"s3:PutObject"})
    assert changed(HEREDOC, after)[1] == {
        '        {"Effect": "Allow", "Action": ["s3:GetObject"], "Resource": "*"}'
    }


@pytest.mark.parametrize(
    ("text", "attribute", "reason"),
    [
        ('resource "aws_iam_policy" "p" {\n  policy = var.policy\n}\n', ("policy",), "not a literal"),
        ('resource "aws_iam_policy" "p" {\n  policy = file("p.json")\n}\n', ("policy",), "not a literal"),
        (
            'resource "aws_iam_policy" "p" {\n  policy = jsonencode({\n'
            '    Statement = [for a in var.actions : { Effect = "Allow", Action = a }]\n  })\n}\n',
            ("policy",),
            "no literal statement",
        ),
        (
            'resource "aws_iam_policy" "p" {\n  policy = <<EOF\n{"Statement": [{"Effect": "Allow", '
            '"Action": "${var.a}"}]}\nEOF\n}\n',
            ("policy",),
            "template",
        ),
        (
            'resource "aws_iam_policy" "p" {\n  policy = jsonencode({ Statement = [{ Effect = "Allow", '
            "Action = local.actions }] })\n}\n",
            ("policy",),
            "not a literal list",
        ),
        (
            'data "aws_iam_policy_document" "p" {\n  dynamic "statement" {\n    for_each = var.s\n'
            "    content {\n      actions = statement.value\n    }\n  }\n}\n",
            ("statement", 0),
            "dynamic",
        ),
        (
            'data "aws_iam_policy_document" "p" {\n  statement {\n    not_actions = ["s3:GetObject"]\n  }\n}\n',
            ("statement", 0),
            "not_actions",
        ),
        (
            'data "aws_iam_policy_document" "p" {\n  source_policy_documents = [x]\n  statement {\n'
            '    actions = ["s3:GetObject", "s3:PutObject"]\n  }\n}\n',
            ("statement", 0),
            "merges",
        ),
    ],
)
def test_what_cannot_be_rewritten_exactly_says_why(text, attribute, reason):
    mode = "data" if text.startswith("data") else "managed"
    rtype = "aws_iam_policy_document" if mode == "data" else "aws_iam_policy"
    with pytest.raises(Unfixable, match=reason):
        fix(text, site(mode, rtype, "p", attribute, 0), {"s3:PutObject"})


def test_the_block_must_be_defined_exactly_once():
    at = site("managed", "aws_iam_policy", "deploy", ("policy",), 0)
    with pytest.raises(Unfixable, match="defined 2 times"):
        tf.edit_tf(
            {"a.tf": HEREDOC, "b.tf": HEREDOC}, at, lambda p: rewrite_actions(p, {"s3:PutObject"}, expand)
        )
    with pytest.raises(Unfixable, match="defined 0 times"):
        tf.edit_tf({"a.tf": DOCUMENT}, at, lambda p: rewrite_actions(p, {"s3:PutObject"}, expand))


# ---------------------------------------------------------------- from the plan back to the source


def test_plan_lines_lead_back_to_the_configuration_site():
    plan = {
        "planned_values": {
            "root_module": {
                "resources": [
                    {
                        "address": "aws_iam_policy.p",
                        "mode": "managed",
                        "type": "aws_iam_policy",
                        "name": "p",
                        "values": {"policy": "{}"},
                    },
                    {
                        "address": "aws_iam_policy.n[0]",
                        "mode": "managed",
                        "type": "aws_iam_policy",
                        "name": "n",
                        "index": 0,
                        "values": {"policy": "{}"},
                    },
                ],
                "child_modules": [
                    {
                        "address": "module.m",
                        "resources": [
                            {
                                "address": "module.m.data.aws_iam_policy_document.d",
                                "mode": "data",
                                "type": "aws_iam_policy_document",
                                "name": "d",
                                "values": {"statement": [{}, {}]},
                            },
                        ],
                    },
                ],
            }
        },
        "configuration": {"root_module": {"module_calls": {"m": {"source": "./modules/m", "module": {}}}}},
    }
    text = json.dumps(plan, indent=2)
    located = parse_json_located(text, "plan.json")

    def line_of(*path):
        return located.lines[path]

    root = ("planned_values", "root_module")
    policy = tf.plan_site(located, line_of(*root, "resources", 0, "values", "policy"), 1)
    assert (policy.modules, policy.type, policy.name, policy.attribute) == (
        (),
        "aws_iam_policy",
        "p",
        ("policy",),
    )
    statement = tf.plan_site(
        located, line_of(*root, "child_modules", 0, "resources", 0, "values", "statement", 1), 2
    )
    assert (statement.modules, statement.mode, statement.attribute) == (("m",), "data", ("statement", 1))
    assert tf.module_folder(plan, "infra", statement.modules) == "infra/modules/m"
    with pytest.raises(Unfixable, match="count/for_each"):
        tf.plan_site(located, line_of(*root, "resources", 1, "values", "policy"), 1)


# ---------------------------------------------------------------- ctlint fix on the Terraform example


def _example(tmp_path: Path) -> Path:
    target = tmp_path / "examples" / "terraform"
    shutil.copytree(ROOT / "examples" / "terraform", target)
    return target


def test_fix_on_the_terraform_example_touches_only_action_lines(tmp_path, capsys, monkeypatch):
    from ctlint.cli import main

    folder = _example(tmp_path)
    monkeypatch.chdir(tmp_path)
    config = "examples/terraform/ctlint.yaml"
    before = (folder / "main.tf").read_text()
    assert main(["fix", "--config", config, "--write", "--quiet"]) == 0
    captured = capsys.readouterr()
    assert captured.out.startswith("--- a/examples/terraform/main.tf\n+++ b/examples/terraform/main.tf\n")
    after = (folder / "main.tf").read_text()
    assert changed(before, after) == (
        {
            '      "s3:PutBucketPolicy", # new in this change',
            '          Action   = ["logs:CreateLogStream", "logs:PutLogEvents"]',
        },
        {'          Action   = ["logs:PutLogEvents"]'},
    )
    assert (folder / "plan.json").read_text() == (ROOT / "examples/terraform/plan.json").read_text()
    # The plan still holds the old statements: a second run finds the sources changed and patches nothing.
    assert main(["fix", "--config", config, "--quiet"]) == 1
    assert "not the one the plan holds" in capsys.readouterr().err


def _provider_dir() -> Path | None:
    configured = os.environ.get("CTLINT_TF_PROVIDER_DIR")
    if configured:
        return Path(configured)
    found = sorted(Path("/opt/tf-plugins").glob("registry.terraform.io/hashicorp/aws/*/linux_amd64"))
    return found[-1] if found else None


def test_fix_write_then_a_new_plan_has_no_new_grant_unused(tmp_path, capsys, monkeypatch):
    """The issue's proof, with Terraform itself: fix the sources, plan them again, check the new plan."""
    from ctlint.cli import main

    terraform, provider = shutil.which("terraform"), _provider_dir()
    if terraform is None or provider is None or not provider.is_dir():
        pytest.skip(
            "needs terraform and a local hashicorp/aws provider (CTLINT_TF_PROVIDER_DIR) to plan offline"
        )
    from test_fixes_resources import LOG_STREAM, terraform_logs

    folder = _example(tmp_path)
    terraform_logs(folder)  # records that name the log stream: the fix also narrows the logs Resource
    monkeypatch.chdir(tmp_path)
    config = "examples/terraform/ctlint.yaml"
    assert main(["fix", "--config", config, "--write", "--quiet"]) == 0
    capsys.readouterr()
    assert f'Resource = "{LOG_STREAM}"' in (folder / "main.tf").read_text()
    rc = tmp_path / "terraform.rc"
    rc.write_text(
        f'provider_installation {{\n  dev_overrides {{ "hashicorp/aws" = "{provider}" }}\n'
        '  direct { exclude = ["registry.terraform.io/*/*"] }\n}\n'
    )
    (folder / "offline.tf").write_text(
        'provider "aws" {\n  region = "us-east-1"\n  access_key = "offline"\n  secret_key = "offline"\n'
        "  skip_credentials_validation = true\n  skip_requesting_account_id = true\n"
        "  skip_metadata_api_check = true\n}\n"
    )
    env = {**os.environ, "TF_CLI_CONFIG_FILE": str(rc), "TF_IN_AUTOMATION": "1", "CHECKPOINT_DISABLE": "1"}

    def terraform_run(*args: str) -> str:
        done = subprocess.run(
            [terraform, *args], cwd=folder, env=env, capture_output=True, text=True, timeout=300, check=False
        )
        assert done.returncode == 0, done.stderr[-2000:]
        return done.stdout

    terraform_run("get", "-no-color")
    terraform_run("plan", "-input=false", "-no-color", "-refresh=false", "-out=plan.out")
    plan = json.loads(terraform_run("show", "-json", "plan.out"))
    (folder / "plan.json").write_text(json.dumps(plan, indent=4) + "\n")
    policies = [
        json.loads(p["policy"])
        for r in plan["planned_values"]["root_module"]["resources"]
        for p in r["values"].get("inline_policy") or []
    ]
    assert [s["Resource"] for p in policies for s in p["Statement"]] == [LOG_STREAM]
    assert main(["check", "--config", config, "--format", "json", "--quiet"]) == 1
    report = json.loads(capsys.readouterr().out)
    rules = {(s["rule"], s["properties"].get("statement", {}).get("policy")) for s in report["statements"]}
    assert ("new-grant-unused", "s3") not in rules
    assert ("removed-grant-used", None) in rules  # the rest of the change is still judged
    unused = {f["action"] for f in report["findings"] if f["rule"] in ("new-grant-unused", "granted-unused")}
    assert not unused & {"s3:PutBucketPolicy", "logs:CreateLogStream"}
