"""Markdown summary for pull requests and `$GITHUB_STEP_SUMMARY`.

Counts per rule first, then the new findings (all findings when no baseline is in use), then
collapsible lists of unchanged, suppressed and fixed findings. GitHub caps a step summary at 1 MiB
and pull-request comments at 65,536 characters: stay under MAX_BYTES and say what was left out.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence

from ctlint.gating import gate_line, gating_count
from ctlint.inert import markdown_code, markdown_text
from ctlint.model import Finding, Level, RunResult, runs_of
from ctlint.report import RenderOptions

MAX_BYTES = 60_000
_LEVEL_ICON = {Level.ERROR: "🔴 error", Level.WARNING: "🟠 warning", Level.NOTE: "🔵 note"}


def markdown_chunks(result: RunResult, options: RenderOptions) -> Iterable[str]:
    return (render_markdown(result),)


def render_markdown(result: RunResult, *, max_bytes: int = MAX_BYTES) -> str:
    """Return the summary; never longer than `max_bytes` UTF-8 bytes (a truncation note says so)."""
    if result.groups or result.principals:
        from ctlint.report.grouped_markdown import render_grouped_markdown

        return render_grouped_markdown(result, max_bytes=max_bytes)
    out = _Budget(max_bytes)
    new = [f for f in result.findings if f.baseline != "unchanged"]
    unchanged = [f for f in result.findings if f.baseline == "unchanged"]
    baseline_in_use = any(f.baseline for f in result.findings) or bool(result.fixed)

    out.head(_header(result, len(new), len(unchanged), baseline_in_use))
    out.head(_rule_table(result))
    if result.warnings:
        out.head("**Warnings**\n\n" + "".join(f"- {_inline(w)}\n" for w in result.warnings) + "\n")

    title = "New findings" if baseline_in_use else "Findings"
    if new:
        out.section(
            f"### {title} ({len(new)})\n\n", _finding_table_rows(_by_severity(new)), open_details=False
        )
    else:
        out.head(f"### {title}\n\nNone.\n\n")
    if unchanged:
        out.section(
            f"<details><summary>Unchanged findings from the baseline ({len(unchanged)})</summary>\n\n",
            _finding_table_rows(_by_severity(unchanged)),
            open_details=True,
        )
    if result.suppressed:
        out.section(
            f"<details><summary>Suppressed findings ({len(result.suppressed)})</summary>\n\n",
            _finding_table_rows(result.suppressed, reasons=True),
            open_details=True,
        )
    if result.fixed:
        out.section(
            f"<details><summary>Fixed since the baseline ({len(result.fixed)})</summary>\n\n",
            _fixed_rows(result.fixed),
            open_details=True,
        )
    return out.text()


# ---------------------------------------------------------------- sections


def _header(result: RunResult, new: int, unchanged: int, baseline_in_use: bool) -> str:
    total = len(result.findings)
    gating = gating_count(result)
    if total == 0:
        verdict = "✅ no findings"
    elif gating:
        verdict = f"❌ {gating} finding{'s' if gating != 1 else ''} fail{'' if gating != 1 else 's'} the gate"
    else:
        verdict = f"✅ passes: {total} finding{'s' if total != 1 else ''}, none failing the gate"
    if baseline_in_use:
        verdict += f" ({new} new, {unchanged} unchanged, {len(result.fixed)} fixed)"
    accounts = ", ".join(f"{_inline(name)} ({account_id})" for name, account_id in result.accounts) or "none"
    data = (
        ", ".join(f"{_inline(k)} {_inline(v)}" for k, v in sorted(result.data.catalog.items())) or "unknown"
    )
    return (
        f"## ctlint: {verdict}\n\n"
        f"Window {result.window.start.date().isoformat()} to {result.window.end.date().isoformat()} (end exclusive)"
        f" · accounts: {accounts} · data: {data} · ctlint {_inline(result.tool_version)}\n\n"
        f"{gate_line(result)}\n\n"
    )


def _rule_table(result: RunResult) -> str:
    active: Counter[str] = Counter()
    new: Counter[str] = Counter()
    quiet: Counter[str] = Counter()
    for run in runs_of(result.findings):  # counted per run of findings, not per finding
        active[run.rule] += len(run.actions)
        new[run.rule] += len(run.actions) if run.baseline != "unchanged" else 0
    for run in runs_of(result.suppressed):
        quiet[run.rule] += len(run.actions)
    levels = {rule.id: rule.level for rule in result.rules}
    ids = sorted({rule.id for rule in result.rules if rule.enabled} | set(active) | set(quiet))
    lines = ["| rule | level | findings | new | suppressed |", "|---|---|---:|---:|---:|"]
    for rule_id in ids:
        level = levels.get(rule_id)
        lines.append(
            f"| `{rule_id}` | {_LEVEL_ICON[level] if level else ''} | {active[rule_id]} | {new[rule_id]} | {quiet[rule_id]} |"
        )
    return "\n".join(lines) + "\n\n"


_TABLE_HEAD = "| level | rule | principal | action / role | message |\n|---|---|---|---|---|\n"


def _finding_table_rows(
    findings: Sequence[Finding], *, reasons: bool = False
) -> tuple[str, int, Iterator[str]]:
    """The table head, the number of rows and the rows, made only as far as they are read: a run can
    have millions of findings, of which the summary shows a few hundred."""
    head = _TABLE_HEAD.replace("| message |", "| reason |") if reasons else _TABLE_HEAD

    def rows() -> Iterator[str]:
        for f in findings:
            last = (f.suppressed_reason or "") if reasons else f.message
            yield f"| {_LEVEL_ICON[f.level]} | `{f.rule}` | `{_code(f.principal)}` | {_target(f)} | {_inline(last)} |\n"

    return head, len(findings), rows()


def _fixed_rows(entries: Iterable[Mapping[str, object]]) -> tuple[str, int, Iterator[str]]:
    head = "| rule | principal | action / role | first seen |\n|---|---|---|---|\n"
    rows = []
    for e in sorted(
        entries, key=lambda e: tuple(str(e.get(k) or "") for k in ("rule", "principal", "action"))
    ):
        target = e.get("action") or e.get("role") or ""
        rows.append(
            f"| `{_code(str(e.get('rule', '')))}` | `{_code(str(e.get('principal', '')))}` | "
            f"{f'`{_code(str(target))}`' if target else '—'} | {_inline(str(e.get('first_seen', '')))} |\n"
        )
    return head, len(rows), iter(rows)


def _by_severity(findings: Sequence[Finding]) -> list[Finding]:
    """Most severe first; within a level in the findings' own order (a RunResult's findings are sorted)."""
    return [f for level in sorted(Level, key=lambda v: -v.rank) for f in findings if f.level is level]


def _target(f: Finding) -> str:
    value = f.action or f.role
    return f"`{_code(value)}`" if value else "—"


def _inline(text: str) -> str:
    """One table cell: no line breaks, pipes, raw HTML, links, images or mentions; capped."""
    return markdown_text(" ".join(str(text).split()))


def _code(text: str) -> str:
    return markdown_code(" ".join(text.split()))


# ---------------------------------------------------------------- size budget


class _Budget:
    """Collects text up to a byte budget; sections drop their tail rows with a note when it runs out."""

    _NOTE = "\n> ⚠️ Truncated: {n} more rows are not shown here; see the SARIF, JUnit or JSON report.\n"

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.parts: list[str] = []
        self.used = 0
        self.truncated = 0

    def head(self, text: str) -> None:
        if self._fits(text, reserve=0):
            self._add(text)
        else:
            self.truncated += 1

    def section(self, opening: str, table: tuple[str, int, Iterator[str]], *, open_details: bool) -> None:
        head, count, rows = table
        closing = "\n</details>\n\n" if open_details else "\n"
        note_reserve = len(self._NOTE.format(n=10**9).encode()) + len(closing.encode())
        if not self._fits(opening + head, reserve=note_reserve):
            self.truncated += count
            return
        self._add(opening + head)
        for i, row in enumerate(rows):
            if not self._fits(row, reserve=note_reserve):
                self.truncated += count - i
                break
            self._add(row)
        self._add(closing)

    def text(self) -> str:
        body = "".join(self.parts)
        if self.truncated:
            body += self._NOTE.format(n=self.truncated)
        return body

    def _fits(self, text: str, *, reserve: int) -> bool:
        note = len(self._NOTE.format(n=10**9).encode())
        return self.used + len(text.encode()) + reserve + note <= self.max_bytes

    def _add(self, text: str) -> None:
        self.parts.append(text)
        self.used += len(text.encode())
