"""Every report on the demo's grouped findings (issue 17): the statement is the unit, the atoms remain."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from ctlint.options import CheckOptions, InputOptions
from ctlint.pipeline import run_check
from ctlint.report.json_report import render_json
from ctlint.report.junit import render_junit
from ctlint.report.markdown import render_markdown
from ctlint.report.sarif import render_sarif
from ctlint.report.text import render_text

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def result():
    import os

    old = os.getcwd()
    os.chdir(ROOT)
    try:
        return run_check(CheckOptions(InputOptions(config="examples/demo/ctlint.yaml")))
    finally:
        os.chdir(old)


def test_groups_partition_the_findings_of_each_statement(result):
    atoms = {f.fingerprint for f in result.findings}
    grouped = {f.fingerprint for g in result.groups for f in g.findings}
    assert grouped == atoms  # every per-action finding is in some group, no group invents one
    assert len(result.groups) < len(result.findings)
    admin = [g for g in result.groups if g.principal.endswith(":role/admin") and g.rule == "granted-unused"]
    assert {g.statement.policy for g in admin} == {"admin"}


def test_text_report_is_one_line_per_group_after_the_summary(result):
    text = render_text(result)
    body = [line for line in text.split("\naccount ", 1)[1].splitlines() if line.startswith("    ")]
    assert len(body) == len(result.groups)
    summary_at = text.index("principals (")
    assert summary_at < text.index("account demo")
    for principal in result.principals:
        assert f"/{principal.name} ({principal.principal_type})" in text


def test_markdown_lists_every_principal_then_folds_findings_per_principal(result):
    text = render_markdown(result)
    assert text.index("### Principals") < text.index("### Findings")
    assert all(f"`{p.principal}`" in text for p in result.principals)
    assert text.count("<details><summary>") == len({g.principal for g in result.groups}) + 1  # + suppressed
    small = render_markdown(result, max_bytes=5000)
    assert len(small.encode()) <= 5000 and "Truncated" in small


def test_sarif_has_one_result_per_statement_and_rule_at_its_region(result, tmp_path):
    log = json.loads(render_sarif(result, repo_root=ROOT))
    results = log["runs"][0]["results"]
    assert len(results) == len(result.groups) + len(result.suppressed_groups)
    hashes = [r["partialFingerprints"]["primaryLocationLineHash"] for r in results]
    assert len(set(hashes)) == len(hashes)
    by_hash = {g.fingerprint: g for g in (*result.groups, *result.suppressed_groups)}
    for r in results:
        group = by_hash[r["partialFingerprints"]["primaryLocationLineHash"]]
        region = r["locations"][0]["physicalLocation"]
        assert (region["artifactLocation"]["uri"], region["region"]["startLine"]) == (
            group.location.path,
            group.location.line,
        )
        assert r["message"]["text"].startswith(group.message.rstrip("."))


def test_junit_failure_bodies_list_statements(result):
    root = ET.fromstring(render_junit(result))
    admin = root.find(
        "testsuite[@name='granted-unused']/testcase[@name='arn:aws:iam::111111111111:role/admin']"
    )
    (failure,) = admin.findall("failure")
    assert failure.text.count("\n") == 0 and "inline policy 'admin' statement 1" in failure.text
    assert "2 per action" in failure.get("message")


def test_json_keeps_per_action_findings_and_adds_statements_and_principals(result):
    report = json.loads(render_json(result))
    assert len(report["findings"]) == len(result.findings)
    assert {f["fingerprint"] for f in report["findings"]} == {
        fp for s in report["statements"] for fp in s["findings"]
    }
    assert report["summary"]["statements"] == len(report["statements"]) == len(result.groups)
    assert [p["principal"] for p in report["principals"]] == [p.principal for p in result.principals]
