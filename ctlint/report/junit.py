"""JUnit XML for Jenkins and GitLab: a test suite per rule, a test case per principal.

A principal with unsuppressed findings of a rule fails that rule's test case (the failure lists its
findings); a principal whose findings are all suppressed is skipped (with the justifications); a rule
without any finding gets one passing case so that it still shows up as checked.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections import defaultdict
from collections.abc import Iterable
from itertools import chain, islice

from ctlint.gating import is_gating, result_fail_on
from ctlint.inert import sanitise_line
from ctlint.model import FindingRun, GroupedFinding, RunResult, runs_of
from ctlint.report import RenderOptions

# XML 1.0 forbids most C0 controls, lone surrogates and U+FFFE/U+FFFF even as character references.
_INVALID_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def junit_chunks(result: RunResult, options: RenderOptions) -> Iterable[str]:
    return (render_junit(result),)


def render_junit(result: RunResult) -> str:
    """Return the JUnit XML document of `result` (deterministic: sorted rules, principals, findings)."""
    # Runs of findings, never all findings at once: a case's counts and its first lines come from runs.
    by_rule: dict[str, dict[tuple[str, str], list[FindingRun]]] = defaultdict(lambda: defaultdict(list))
    for findings in (result.findings, result.suppressed):
        for run in runs_of(findings):
            by_rule[run.rule][(run.account_name or run.account, run.principal)].append(run)
    rule_ids = sorted({rule.id for rule in result.rules if rule.enabled} | set(by_rule))
    grouped = _grouped_cases(result)

    root = ET.Element("testsuites", name="ctlint")
    totals = {"tests": 0, "failures": 0, "skipped": 0}
    for rule_id in rule_ids:
        suite = _suite(rule_id, by_rule.get(rule_id, {}), result, grouped)
        root.append(suite)
        for key in totals:
            totals[key] += int(suite.get(key, "0"))
    _set_counts(root, **totals)
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def _suite(
    rule_id: str,
    cases: dict[tuple[str, str], list[FindingRun]],
    result: RunResult,
    grouped: dict[tuple[str, str], tuple[list[GroupedFinding], list[GroupedFinding]]] | None = None,
) -> ET.Element:
    suite = ET.Element("testsuite", name=_clean(rule_id))
    properties = ET.SubElement(suite, "properties")
    for name, value in (
        ("window.start", result.window.start.isoformat()),
        ("window.end", result.window.end.isoformat()),
        *sorted((f"data.{k}", v) for k, v in result.data.catalog.items()),
        *(("skipped_file", name) for name in sorted(result.skipped_files)),
    ):
        ET.SubElement(properties, "property", name=_clean(name), value=_clean(str(value)))
    failures = skipped = 0
    fail_on = result_fail_on(result)
    if not cases:
        ET.SubElement(suite, "testcase", classname="ctlint", name=f"{_clean(rule_id)}: no findings", time="0")
    for (account, principal), runs in sorted(cases.items()):
        case = ET.SubElement(suite, "testcase", classname=_clean(account), name=_clean(principal), time="0")
        unsuppressed = _in_order(r for r in runs if not r.suppressed)
        quiet = _in_order(r for r in runs if r.suppressed)
        # Only what fails the gate is a <failure>; the rest (below --fail-on, in the baseline) is output.
        active = [r for r in unsuppressed if is_gating(r, fail_on)]
        passing = [r for r in unsuppressed if not is_gating(r, fail_on)]
        if passing:
            below = ET.SubElement(case, "system-out")
            below.text = _clean(f"Not failing the gate (--fail-on {fail_on}, baseline):\n" + _lines(passing))
        groups, quiet_groups = (grouped or {}).get((rule_id, principal), ([], []))
        if active:
            failures += 1
            level = max((f.level for f in active), key=lambda lv: lv.rank).value
            summary = _group_summary(groups, active) if groups else _summary(active)
            failure = ET.SubElement(
                case, "failure", message=_clean(summary), type=_clean(f"{rule_id}/{level}")
            )
            failing = [g for g in groups if g.baseline != "unchanged"] or groups
            failure.text = _clean(_group_lines(failing) if groups else _lines(active))
            if quiet:
                out = ET.SubElement(case, "system-out")
                out.text = _clean(
                    "Suppressed:\n"
                    + (
                        _group_lines(quiet_groups, with_reason=True)
                        if quiet_groups
                        else _lines(quiet, with_reason=True)
                    )
                )
        elif passing:
            pass  # a passing case: its findings are notes of the run, listed in system-out
        else:
            skipped += 1
            reasons = sorted({f.suppressed_reason or "" for f in quiet})
            skip = ET.SubElement(case, "skipped", message=_clean("suppressed: " + "; ".join(reasons)))
            skip.text = _clean(_lines(quiet, with_reason=True))
    _set_counts(suite, tests=max(1, len(cases)), failures=failures, skipped=skipped)
    return suite


def _set_counts(element: ET.Element, *, tests: int, failures: int, skipped: int) -> None:
    element.set("tests", str(tests))
    element.set("failures", str(failures))
    element.set("errors", "0")
    element.set("skipped", str(skipped))
    element.set("time", "0")


def _in_order(runs: Iterable[FindingRun]) -> list[FindingRun]:
    """Runs in `Finding.sort_key` order (a run's findings are in order; the pipeline's runs do not
    interleave, and a result built from single findings has runs of one)."""
    return sorted(runs, key=FindingRun.sort_key)


def _count(runs: list[FindingRun]) -> int:
    return sum(len(run.actions) for run in runs)


def _summary(runs: list[FindingRun]) -> str:
    first = runs[0].message_of(runs[0].actions[0]).strip()
    count = _count(runs)
    return first if count == 1 else f"{count} findings; first: {first}"


MAX_LINES_PER_CASE = 500  # a principal granted `*` has ~20,000 findings; CI viewers choke on such bodies


def _lines(runs: list[FindingRun], *, with_reason: bool = False) -> str:
    lines = []
    for f in islice(chain.from_iterable(runs), MAX_LINES_PER_CASE):
        target = f.action or f.role or "(principal)"
        line = f"[{f.level.value}] {target}: {f.message.strip()} (fingerprint {f.fingerprint})"
        if with_reason and f.suppressed_reason:
            line += f" — suppressed: {f.suppressed_reason}"
        if f.baseline:
            line += f" [{f.baseline}]"
        lines.append(sanitise_line(line))  # one line each: a name's newline must not start a `::` command
    count = _count(runs)
    if count > MAX_LINES_PER_CASE:
        lines.append(f"... and {count - MAX_LINES_PER_CASE} more (the JSON report lists every finding)")
    return "\n".join(lines)


def _grouped_cases(
    result: RunResult,
) -> dict[tuple[str, str], tuple[list[GroupedFinding], list[GroupedFinding]]]:
    """Grouped findings (issue 17) by (rule, principal): the unit of a failure's body when present."""
    cases: dict[tuple[str, str], tuple[list[GroupedFinding], list[GroupedFinding]]] = defaultdict(
        lambda: ([], [])
    )
    for group in result.groups:
        cases[(group.rule, group.principal)][0].append(group)
    for group in result.suppressed_groups:
        cases[(group.rule, group.principal)][1].append(group)
    return cases


def _group_summary(groups: list[GroupedFinding], runs: list[FindingRun]) -> str:
    first = groups[0].message.strip()
    count = _count(runs)
    if len(groups) == 1 and count == 1:
        return first
    return f"{len(groups)} finding(s) per statement, {count} per action; first: {first}"


def _group_lines(groups: Iterable[GroupedFinding], *, with_reason: bool = False) -> str:
    lines = []
    for g in groups:
        where = f" ({g.location.path}:{g.location.line})" if g.location else ""
        line = f"[{g.level.value}] {g.message.strip()}{where} (fingerprint {g.fingerprint})"
        if with_reason and g.suppressed_reason:
            line += f" — suppressed: {g.suppressed_reason}"
        if g.baseline:
            line += f" [{g.baseline}]"
        lines.append(sanitise_line(line))
    return "\n".join(lines)


def _clean(text: str) -> str:
    """Drop characters XML 1.0 cannot carry at all (escaping cannot save them)."""
    return _INVALID_XML.sub("\ufffd", text)
