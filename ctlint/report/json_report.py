"""The JSON report: a public contract. Sorted keys, sorted findings, byte-identical for identical inputs."""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterable, Iterator
from json.encoder import encode_basestring  # what json.dumps(ensure_ascii=False) uses for every str
from typing import Any

from ctlint.gating import tally
from ctlint.model import Finding, GroupedFinding, Level, PrincipalSummary, RunResult
from ctlint.report import RenderOptions


def finding_dict(finding: Finding) -> dict[str, Any]:
    data: dict[str, Any] = {
        "rule": finding.rule,
        "level": finding.level.value,
        "account": finding.account,
        "account_name": finding.account_name,
        "principal": finding.principal,
        "principal_type": finding.principal_type,
        "action": finding.action,
        "access_level": finding.access_level,
        "role": finding.role,
        "message": finding.message,
        "fingerprint": finding.fingerprint,
        "location": (
            {"path": finding.location.path, "line": finding.location.line} if finding.location else None
        ),
    }
    if finding.baseline is not None:
        data["baseline"] = finding.baseline
    if finding.suppressed_reason is not None:
        data["reason"] = finding.suppressed_reason
    if finding.properties:
        data["properties"] = dict(finding.properties)
    return data


def summary(result: RunResult) -> dict[str, Any]:
    counts = tally(result)  # one pass over the findings, shared with the gate and the other reports
    by_rule, by_level = counts.by_rule, counts.by_level
    return {
        "findings": len(result.findings),
        "suppressed": len(result.suppressed),
        "by_level": {level: by_level.get(Level(level), 0) for level in ("error", "warning", "note")},
        "by_rule": {rule.id: by_rule.get(rule.id, 0) for rule in result.rules},
        "new": counts.new,
        "fixed": len(result.fixed),
        "unchanged": counts.unchanged,
        "gating": {
            "fail_on": counts.fail_on,
            "findings": counts.gating,
        },  # what decided the exit
        "statements": len(result.groups),
    }


def _compact(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False)


_BATCH = 2048


def _text(value: str | None) -> str:
    return "null" if value is None else encode_basestring(value)


def finding_line(finding: Finding) -> str:
    """`_compact(finding_dict(finding))`, byte for byte, without building a dict and running the encoder.

    A report can hold millions of findings; the generic encoder took two thirds of the report's time.
    The keys are written here in sorted order; a test compares this with the generic path.
    """
    location = finding.location
    where = (
        "null"
        if location is None
        else f'{{"line": {location.line:d}, "path": {encode_basestring(location.path)}}}'
    )
    baseline = "" if finding.baseline is None else f', "baseline": {encode_basestring(finding.baseline)}'
    extra = ""
    if finding.properties:
        extra += f', "properties": {_compact(dict(finding.properties))}'
    if finding.suppressed_reason is not None:
        extra += f', "reason": {encode_basestring(finding.suppressed_reason)}'
    return (
        f'{{"access_level": {_text(finding.access_level)}, "account": {encode_basestring(finding.account)}, '
        f'"account_name": {encode_basestring(finding.account_name)}, "action": {_text(finding.action)}{baseline}, '
        f'"fingerprint": {encode_basestring(finding.fingerprint)}, "level": "{finding.level.value}", '
        f'"location": {where}, "message": {encode_basestring(finding.message)}, '
        f'"principal": {encode_basestring(finding.principal)}, '
        f'"principal_type": {encode_basestring(finding.principal_type)}{extra}, '
        f'"role": {_text(finding.role)}, "rule": {encode_basestring(finding.rule)}}}'
    )


class FindingLines:
    """`finding_line`, byte for byte, for findings that come in runs (one principal and rule, many actions).

    A run's lines differ only in the access level, the action, the baseline state, the fingerprint and
    the message; the rest of the line is escaped once per run, and action names once per report. One
    writer per report: it keeps the last run's parts and the escaped names it has seen."""

    def __init__(self) -> None:
        self._run: tuple[object, ...] | None = None
        self._account = self._middle = self._tail = ""
        self._texts: dict[str | None, str] = {None: "null"}

    def _text(self, value: str | None) -> str:
        text = self._texts.get(value)
        if text is None:
            text = self._texts[value] = "null" if value is None else encode_basestring(value)
        return text

    def _start_run(self, finding: Finding, run: tuple[object, ...]) -> None:
        self._run = run
        self._account = (
            f', "account": {encode_basestring(finding.account)}, '
            f'"account_name": {encode_basestring(finding.account_name)}, "action": '
        )
        location = finding.location
        where = (
            "null"
            if location is None
            else f'{{"line": {location.line:d}, "path": {encode_basestring(location.path)}}}'
        )
        self._middle = f', "level": "{finding.level.value}", "location": {where}, "message": '
        extra = ""
        if finding.properties:
            extra += f', "properties": {_compact(dict(finding.properties))}'
        if finding.suppressed_reason is not None:
            extra += f', "reason": {encode_basestring(finding.suppressed_reason)}'
        self._tail = (
            f', "principal": {encode_basestring(finding.principal)}, '
            f'"principal_type": {encode_basestring(finding.principal_type)}{extra}, '
            f'"role": {_text(finding.role)}, "rule": {encode_basestring(finding.rule)}}}'
        )

    def __call__(self, finding: Finding) -> str:
        run = (
            finding.account,
            finding.account_name,
            finding.level,
            finding.location,
            finding.principal,
            finding.principal_type,
            finding.properties,
            finding.suppressed_reason,
            finding.role,
            finding.rule,
        )
        if run != self._run:
            self._start_run(finding, run)
        texts = self._texts
        access_level = texts.get(finding.access_level) or self._text(finding.access_level)
        action = texts.get(finding.action) or self._text(finding.action)
        baseline = finding.baseline
        state = "" if baseline is None else f', "baseline": {self._text(baseline)}'
        return (
            f'{{"access_level": {access_level}{self._account}{action}{state}, '
            f'"fingerprint": {encode_basestring(finding.fingerprint)}{self._middle}'
            f"{encode_basestring(finding.message)}{self._tail}"
        )


def iter_json(result: RunResult) -> Iterator[str]:
    """The JSON report in chunks: sorted keys, one finding per line, nothing held whole in memory.

    Runs can carry millions of findings (principals granted `*`); a compact line per finding keeps the
    report greppable and diffable and lets it stream to disk.
    """
    sections: dict[str, Any] = {
        "tool": {"name": "ctlint", "version": result.tool_version},
        "window": {"start": result.window.start.isoformat(), "end": result.window.end.isoformat()},
        "data": dict(result.data.catalog),
        "accounts": [{"name": name, "id": account_id} for name, account_id in result.accounts],
        "findings": result.findings,
        "suppressed": result.suppressed,
        "fixed": [dict(entry) for entry in result.fixed],
        "warnings": list(result.warnings),
        "skipped_files": list(result.skipped_files),
        "summary": summary(result),
        "statements": result.groups,
        "principals": [principal_dict(p) for p in result.principals],
    }
    keys = sorted(sections)
    yield "{\n"
    for index, key in enumerate(keys):
        end = ",\n" if index < len(keys) - 1 else "\n"
        if key in ("findings", "suppressed", "statements"):
            yield f'  "{key}": ['
            findings = iter(sections[key])
            separator = "\n    "
            line = statement_line if key == "statements" else FindingLines()
            # A batch of lines per write: one write per line cost 15% more.
            while lines := [line(finding) for finding in itertools.islice(findings, _BATCH)]:
                yield separator + ",\n    ".join(lines)
                separator = ",\n    "
            yield ("]" if separator == "\n    " else "\n  ]") + end
        else:
            yield f'  "{key}": {_compact(sections[key])}{end}'
    yield "}\n"


def json_chunks(result: RunResult, options: RenderOptions) -> Iterable[str]:
    return iter_json(result)


def render_json(result: RunResult) -> str:
    return "".join(iter_json(result))


def statement_dict(group: GroupedFinding) -> dict[str, Any]:
    """A grouped finding (issue 17): the atoms by fingerprint, the statement and its counts."""
    data: dict[str, Any] = {
        "rule": group.rule,
        "level": group.level.value,
        "account": group.account,
        "account_name": group.account_name,
        "principal": group.principal,
        "principal_type": group.principal_type,
        "message": group.message,
        "fingerprint": group.fingerprint,
        "location": ({"path": group.location.path, "line": group.location.line} if group.location else None),
        "findings": [f.fingerprint for f in group.findings],
        "properties": dict(group.properties),
    }
    if group.baseline is not None:
        data["baseline"] = group.baseline
    if group.suppressed_reason is not None:
        data["reason"] = group.suppressed_reason
    return data


def statement_line(group: GroupedFinding) -> str:
    return _compact(statement_dict(group))


def principal_dict(summary: PrincipalSummary) -> dict[str, Any]:
    return {
        "account": summary.account,
        "principal": summary.principal,
        "principal_type": summary.principal_type,
        "name": summary.name,
        "granted": summary.granted,
        "used": summary.used,
        "unused": summary.unused,
        "unobservable": summary.unobservable,
        "used_not_granted": summary.used_not_granted,
        "weighted_unused": summary.weighted_unused,
        "weighted_share": round(summary.weighted_share, 4),
        "unused_by_level": dict(summary.unused_by_level),
        "active": summary.active,
        "service_linked": summary.service_linked,
    }
