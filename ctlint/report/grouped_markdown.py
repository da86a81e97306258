"""Markdown on grouped findings (issue 17): the per-principal summary first, then per principal a folded
table of its statement findings, most unused privilege first, within the byte budget of
`ctlint.report.markdown` (GitHub's 65,536-character comment limit).
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterator, Sequence

from ctlint.gating import tally
from ctlint.inert import visible
from ctlint.model import GroupedFinding, Level, PrincipalSummary, RunResult
from ctlint.report import markdown as md
from ctlint.summary import ACCESS_LEVEL_WEIGHTS, UNKNOWN_WEIGHT

_WEIGHTS = (
    ", ".join(f"{level} {w:g}" for level, w in ACCESS_LEVEL_WEIGHTS.items()) + f", other {UNKNOWN_WEIGHT:g}"
)
_SUMMARY_HEAD = (
    "| principal | granted | used | unused | not observable | unused, weighted | findings |\n"
    "|---|---:|---:|---:|---:|---:|---:|\n"
)
_GROUP_HEAD = "| level | rule | statement | message |\n|---|---|---|---|\n"


def render_grouped_markdown(result: RunResult, *, max_bytes: int) -> str:
    out = md._Budget(max_bytes)
    new = [g for g in result.groups if g.baseline != "unchanged"]
    unchanged = [g for g in result.groups if g.baseline == "unchanged"]
    baseline_in_use = any(g.baseline for g in result.groups) or bool(result.fixed)
    old_atoms = tally(result).unchanged  # the per-action counts, from the runs
    new_atoms = len(result.findings) - old_atoms
    out.head(md._header(result, new_atoms, old_atoms, baseline_in_use))
    out.head(md._rule_table(result))
    if result.warnings:
        out.head("**Warnings**\n\n" + "".join(f"- {md._inline(w)}\n" for w in result.warnings) + "\n")
    counts: dict[str, int] = defaultdict(int)
    for group in result.groups:
        counts[group.principal] += 1
    if result.principals:
        out.section(
            f"### Principals ({len(result.principals)}), most unused privilege first\n\n"
            f"Unused actions weighted by access level ({_WEIGHTS}), as a share of the observable grant.\n\n",
            _summary_rows(result.principals, counts),
            open_details=False,
        )
    title = "New findings" if baseline_in_use else "Findings"
    order = {s.principal: i for i, s in enumerate(result.principals)}
    if new:
        out.head(f"### {title} ({len(new)} per statement, {new_atoms} per action)\n\n")
        for principal, groups in _per_principal(new, order):
            out.section(_summary_line(principal, groups), _group_rows(groups), open_details=True)
    else:
        out.head(f"### {title}\n\nNone.\n\n")
    if unchanged:
        out.section(
            f"<details><summary>Unchanged findings from the baseline ({len(unchanged)} per statement)</summary>\n\n",
            _group_rows(_by_severity(unchanged), principal_column=True),
            open_details=True,
        )
    if result.suppressed_groups:
        out.section(
            f"<details><summary>Suppressed findings ({len(result.suppressed_groups)} per statement, "
            f"{len(result.suppressed)} per action)</summary>\n\n",
            _group_rows(result.suppressed_groups, principal_column=True, reasons=True),
            open_details=True,
        )
    if result.fixed:
        out.section(
            f"<details><summary>Fixed since the baseline ({len(result.fixed)})</summary>\n\n",
            md._fixed_rows(result.fixed),
            open_details=True,
        )
    for part in _patches(result):
        out.head(part)
    return out.text()


def _summary_rows(
    principals: Sequence[PrincipalSummary], counts: dict[str, int]
) -> tuple[str, int, Iterator[str]]:
    def rows() -> Iterator[str]:
        for s in principals:
            notes = [n for n, on in (("inactive", not s.active), ("service-linked", s.service_linked)) if on]
            label = f"`{md._code(s.principal)}`" + (f" ({', '.join(notes)})" if notes else "")
            yield (
                f"| {label} | {s.granted} | {s.used} | {s.unused} | {s.unobservable} | "
                f"{s.weighted_share:.0%} | {counts.get(s.principal, 0)} |\n"
            )

    return _SUMMARY_HEAD, len(principals), rows()


def _per_principal(
    groups: Sequence[GroupedFinding], order: dict[str, int]
) -> list[tuple[str, list[GroupedFinding]]]:
    by_principal: dict[str, list[GroupedFinding]] = defaultdict(list)
    for group in groups:
        by_principal[group.principal].append(group)
    return sorted(by_principal.items(), key=lambda item: (order.get(item[0], len(order)), item[0]))


def _summary_line(principal: str, groups: list[GroupedFinding]) -> str:
    worst = max((g.level for g in groups), key=lambda level: level.rank)
    actions = sum(g.action_count for g in groups)
    return (
        f"<details><summary>{md._LEVEL_ICON[worst]} <code>{md._inline(principal)}</code>: "
        f"{len(groups)} finding(s) per statement, {actions} per action</summary>\n\n"
    )


def _group_rows(
    groups: Sequence[GroupedFinding], *, principal_column: bool = False, reasons: bool = False
) -> tuple[str, int, Iterator[str]]:
    head = _GROUP_HEAD
    if principal_column:
        head = "| level | rule | principal | statement | message |\n|---|---|---|---|---|\n"
    if reasons:
        head = head.replace("| message |", "| reason |")

    def rows() -> Iterator[str]:
        for g in groups:
            where = md._inline(g.statement.label()) if g.statement else "—"
            if g.location is not None:
                where += f" ({md._inline(g.location.path)}:{g.location.line})"
            message = g.message.removeprefix(g.statement.label() + " ") if g.statement else g.message
            last = (g.suppressed_reason or "") if reasons else message
            who = f" `{md._code(g.principal)}` |" if principal_column else ""
            yield f"| {md._LEVEL_ICON[g.level]} | `{g.rule}` |{who} {where} | {md._inline(last)} |\n"

    return head, len(groups), rows()


def _by_severity(groups: Sequence[GroupedFinding]) -> list[GroupedFinding]:
    return [g for level in sorted(Level, key=lambda v: -v.rank) for g in groups if g.level is level]


def _patches(result: RunResult) -> Iterator[str]:
    """Issue 18: each IaC patch as a fenced diff, and what could not be patched, with the suggested list;
    each section whole (it fits the budget or is left out, never cut inside a fence or a <details>).

    The diff holds text from the pull request: control and format characters are shown as escapes, and
    the fence is longer than any backtick run inside, so nothing in the file can close it."""
    patched = [fix for fix in result.fixes if fix.edits]
    if patched:
        parts = [f"<details><summary>Suggested patches ({len(patched)} statement(s))</summary>\n\n"]
        for fix in patched:
            body = "".join(visible(line.rstrip("\r\n")) + "\n" for line in fix.diff.splitlines())
            fence = "`" * max(3, _longest_backtick_run(body) + 1)
            parts.append(
                f"{md._inline(fix.statement.label())} ({md._inline(fix.path)}:{fix.line}): removes "
                f"{md._inline(', '.join(fix.removed))}\n\n{fence}diff\n{body}{fence}\n\n"
            )
        yield "".join(parts) + "</details>\n\n"
    unpatched = [fix for fix in result.fixes if not fix.edits]
    if unpatched:
        parts = [f"<details><summary>Not patched ({len(unpatched)} statement(s))</summary>\n\n"]
        for fix in unpatched:
            suggested = ", ".join(fix.actions) if fix.actions else "none: remove the statement"
            parts.append(
                f"- {md._inline(fix.statement.label())} ({md._inline(fix.path)}:{fix.line}): "
                f"{md._inline(fix.reason or '')} Suggested Action: {md._inline(suggested)}\n"
            )
        yield "".join(parts) + "\n</details>\n\n"


def _longest_backtick_run(text: str) -> int:
    return max((len(run) for run in re.findall("`+", text)), default=0)
