"""Hostile sources for the fix stage (issue 18): random text and mutated files never crash it, and a patch
is only ever made when the patched file re-reads to the intended statement."""

from __future__ import annotations

import contextlib

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ctlint.fixes import cloudformation as cfn
from ctlint.fixes import terraform as tf
from ctlint.fixes.hcl import HclError, literal_at, parse_hcl
from ctlint.fixes.rewrite import rewrite_actions

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
HCL_ALPHABET = st.sampled_from(
    list('{}[]()"=#/*<-\\$%,:\n \tabcEOF01"') + ["${", "<<EOF\n", "\nEOF\n", "\u202e"]
)
TF = """data "aws_iam_policy_document" "d" {
  statement {
    actions = [
      "s3:GetObject", # read
      "s3:PutObject",
    ]
  }
}
resource "aws_iam_policy" "p" {
  policy = jsonencode({ Statement = [{ Effect = "Allow", Action = ["s3:GetObject", "s3:PutObject"] }] })
}
"""
YAML = """Resources:
  P:
    Type: AWS::IAM::ManagedPolicy
    Properties:
      PolicyDocument:
        Statement:
          - Effect: Allow
            Action:
              - s3:GetObject
              - s3:PutObject
          - Effect: Allow
            Action: [s3:GetObject, s3:PutObject]
"""


def expand(pattern: str) -> frozenset[str]:
    return frozenset({pattern})


@SETTINGS
@given(st.lists(HCL_ALPHABET, max_size=60).map("".join))
def test_the_hcl_reader_only_ever_refuses_with_its_own_error(text):
    try:
        blocks = parse_hcl(text)
    except HclError:
        return
    for block in blocks:
        for attribute in block.attributes:
            with contextlib.suppress(HclError):
                literal_at(text, attribute.value_start, attribute.value_end)


@SETTINGS
@given(st.integers(0, len(TF)), st.integers(0, 6), st.text(alphabet='{}[]"#,=\n $<s3:Pu', max_size=6))
def test_a_mutated_tf_file_gives_a_checked_patch_or_a_reason(at, cut, insert):
    text = TF[:at] + insert + TF[at + cut :]
    for site in (
        tf.PlanSite((), "data", "aws_iam_policy_document", "d", ("statement", 0), 0),
        tf.PlanSite((), "managed", "aws_iam_policy", "p", ("policy",), 0),
    ):
        try:
            edit = tf.edit_tf({"main.tf": text}, site, lambda p: rewrite_actions(p, {"s3:PutObject"}, expand))
        except (cfn.Unfixable, HclError):
            continue
        assert "s3:PutObject" not in edit.rewrite.actions
        kind = "data" if site.mode == "data" else "resource"
        block = next(
            b for b in parse_hcl(edit.after) if b.type == kind and b.labels == (site.type, site.name)
        )
        assert block is not None


@SETTINGS
@given(st.integers(0, len(YAML)), st.integers(0, 6), st.text(alphabet="[]{}-:#&*!\n 's3Pu", max_size=6))
def test_a_mutated_template_gives_a_checked_patch_or_a_reason(at, cut, insert):
    text = YAML[:at] + insert + YAML[at + cut :]
    for line, index in ((7, 1), (11, 2)):
        try:
            located = cfn.read_template(text, "t.yaml")
            path = cfn.find_statement(located, line, index)
            _rewrite, edit = cfn.edit_statement(
                text, located, path, lambda p: rewrite_actions(p, {"s3:PutObject"}, expand)
            )
            after = cfn.apply_and_verify(text, located, [edit])
        except cfn.Unfixable:
            continue
        reread = cfn.read_template(after, "t.yaml").value
        before = located.value
        for key in path[:-1]:
            reread, before = reread[key], before[key]
        if edit.remove:  # the statement went, and only it
            assert reread == before[: path[-1]] + before[path[-1] + 1 :]
            continue
        actions = reread[path[-1]]["Action"]
        assert "s3:PutObject" not in (actions if isinstance(actions, list) else [actions])
