"""The JSON report: a public contract. Sorted keys, sorted findings, byte-identical for identical inputs."""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterable, Iterator
from json.encoder import encode_basestring  # what json.dumps(ensure_ascii=False) uses for every str
from typing import Any

from ctlint.gating import tally
from ctlint.model import Finding, FindingRun, GroupedFinding, Level, PrincipalSummary, RunResult, runs_of
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
    """`finding_line`, byte for byte, for findings held as runs (one principal and rule, many actions).

    A run's lines differ only in the access level, the action, the fingerprint and the message; the rest
    of the line is escaped once per run, action names once per report, and a run's message text around
    the action once per run (JSON escaping is per character, so escaped parts concatenate). One writer
    per report: it keeps the escaped names it has seen."""

    def __init__(self) -> None:
        self._texts: dict[str | None, str] = {None: "null"}

    def _text(self, value: str | None) -> str:
        text = self._texts.get(value)
        if text is None:
            text = self._texts[value] = "null" if value is None else encode_basestring(value)
        return text

    def lines(self, findings: Iterable[Finding]) -> Iterator[str]:
        for run in runs_of(findings):
            yield from self.run_lines(run)

    def run_lines(self, run: FindingRun) -> Iterator[str]:
        location = run.location
        where = (
            "null"
            if location is None
            else f'{{"line": {location.line:d}, "path": {encode_basestring(location.path)}}}'
        )
        extra = ""
        if run.properties:
            extra += f', "properties": {_compact(dict(run.properties))}'
        if run.suppressed_reason is not None:
            extra += f', "reason": {encode_basestring(run.suppressed_reason)}'
        state = "" if run.baseline is None else f', "baseline": {self._text(run.baseline)}'
        account = (
            f', "account": {encode_basestring(run.account)}, '
            f'"account_name": {encode_basestring(run.account_name)}, "action": '
        )
        middle = f', "level": "{run.level.value}", "location": {where}, "message": '
        tail = (
            f', "principal": {encode_basestring(run.principal)}, '
            f'"principal_type": {encode_basestring(run.principal_type)}{extra}, '
            f'"role": {_text(run.role)}, "rule": {encode_basestring(run.rule)}}}'
        )
        texts, text, levels = self._texts, self._text, run.access_levels
        if run.message_after is None or run.prefix is None:
            for action, fingerprint in zip(run.actions, run.fingerprints(), strict=True):
                level = levels.get(action)
                yield (
                    f'{{"access_level": {text(level)}{account}{text(action)}{state}, '
                    f'"fingerprint": {encode_basestring(fingerprint)}{middle}{encode_basestring(run.message_of(action))}{tail}'
                )
            return
        # The tight loop: a hash continuation and one string per action.
        before = encode_basestring(run.message)[:-1]
        after = encode_basestring(run.message_after)[1:]
        prefix = run.prefix
        for action in run.actions:
            digest = prefix.copy()
            digest.update(f"{action}|".encode())
            name = texts.get(action) or text(action)
            yield (
                f'{{"access_level": {texts.get(levels[action]) or text(levels[action])}{account}{name}'
                f'{state}, "fingerprint": "{digest.hexdigest()[:32]}"{middle}{before}{name[1:-1]}{after}{tail}'
            )

    def __call__(self, finding: Finding) -> str:
        return next(self.run_lines(FindingRun.of(finding)))


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
            separator = "\n    "
            texts = (
                map(statement_line, sections[key])
                if key == "statements"
                else FindingLines().lines(sections[key])
            )
            # A batch of lines per write: one write per line cost 15% more.
            while lines := list(itertools.islice(texts, _BATCH)):
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
        "findings": list(group.fingerprints()),
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
