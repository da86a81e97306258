"""Text rendering of the grouped findings and the per-principal summary (issue 17).

One line per (principal, granting statement, rule), under a header per account and principal; the
summary table leads. `ctlint.report.text` uses these when the RunResult carries groups.
"""

from __future__ import annotations

from collections.abc import Iterable
from itertools import groupby

from ctlint.inert import visible
from ctlint.model import GroupedFinding, PrincipalSummary, RunResult
from ctlint.summary import ACCESS_LEVEL_WEIGHTS, UNKNOWN_WEIGHT

WEIGHTS_NOTE = (
    ", ".join(f"{level} {weight:g}" for level, weight in ACCESS_LEVEL_WEIGHTS.items())
    + f", other {UNKNOWN_WEIGHT:g}"
)


def summary_lines(principals: Iterable[PrincipalSummary]) -> list[str]:
    """The per-principal table: counts, then the weighted share of observable privilege left unused."""
    rows = list(principals)
    if not rows:
        return []
    lines = [
        f"principals ({len(rows)}), most unused privilege first (unused weighted by access level: {WEIGHTS_NOTE}):",
        f"  {'granted':>7} {'used':>6} {'unused':>7} {'unobs.':>7} {'weighted':>8}  principal",
    ]
    for s in rows:
        notes = [n for n, on in (("inactive", not s.active), ("service-linked", s.service_linked)) if on]
        if s.used_not_granted:
            notes.append(f"+{s.used_not_granted} used but not granted")
        tail = f"  [{', '.join(notes)}]" if notes else ""
        lines.append(
            f"  {s.granted:>7} {s.used:>6} {s.unused:>7} {s.unobservable:>7} {s.weighted_share:>8.0%}  "
            f"{visible(s.account_name)}/{visible(s.name)} ({visible(s.principal_type)}){tail}"
        )
    return lines


def group_lines(
    result: RunResult, symbols: dict[str, str], colours: dict[str, str], reset: str, colour: bool
) -> list[str]:
    lines: list[str] = []
    names = {account_id: name for name, account_id in result.accounts}
    kinds = {rule.id: rule.kind for rule in result.rules}
    for account, account_groups in groupby(result.groups, key=lambda g: g.account):
        lines.append("")
        lines.append(f"account {visible(names.get(account, account))} ({visible(account)})")
        for principal, members in groupby(account_groups, key=lambda g: g.principal):
            items = list(members)
            lines.append(f"  {visible(items[0].principal_type)} {visible(principal)}")
            for group in sorted(items, key=_order):
                lines.append(f"    {_line(group, symbols, colours, reset, colour, kinds)}")
    return lines


def _order(group: GroupedFinding) -> tuple:
    # Principal-level findings first, then the statements in policy order, then what no statement grants.
    principal_level = group.runs[0].actions[0] is None
    return (not principal_level, group.statement is None, group.sort_key())


def _line(
    group: GroupedFinding,
    symbols: dict[str, str],
    colours: dict[str, str],
    reset: str,
    colour: bool,
    kinds: dict[str, str],
) -> str:
    kind = kinds.get(group.rule, group.rule)
    symbol = symbols.get(kind, "*") if group.runs[0].actions[0] is not None else "*"
    mark = f"{colours[symbol]}{symbol}{reset}" if colour and symbol in colours else symbol
    where = f"  ({visible(group.location.path)}:{group.location.line})" if group.location else ""
    marker = f"  ({group.baseline})" if group.baseline else ""
    return f"{mark} {visible(group.message)}  [{visible(group.rule)}]{marker}{where}"
