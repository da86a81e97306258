"""The one decision of which findings fail the run: every report, the summary file and the exit code use it.

A finding *gates* when it is unsuppressed (not allowlisted), not already in the baseline
(`baseline` is None or "new"), and at or above the effective `--fail-on` level. `never` gates nothing.
Findings below the threshold are still reported, as notes of the run, never as failures.
"""

from __future__ import annotations

import weakref
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from operator import attrgetter
from typing import Any

from ctlint.model import Finding, FindingRun, Level, RunResult, runs_of

DEFAULT_FAIL_ON = "warning"
FAIL_ON_LEVELS = ("error", "warning", "note", "never")


def effective_fail_on(cli: str | None, config: str | None) -> str:
    """--fail-on, else the config's fail_on, else warning."""
    return cli or config or DEFAULT_FAIL_ON


def result_fail_on(result: RunResult) -> str:
    """The fail-on level a result was gated with (older callers that did not set it: the config's, else warning)."""
    return getattr(result, "effective_fail_on", None) or effective_fail_on(None, result.fail_on)


def is_gating(finding: Finding | FindingRun, fail_on: str) -> bool:
    """Whether `finding` (or every finding of a run: they share these fields) fails the gate."""
    if fail_on == "never" or finding.suppressed or finding.baseline == "unchanged":
        return False
    return finding.level.rank >= Level(fail_on).rank


def gating_count(result: RunResult) -> int:
    return tally(result).gating


def exit_code_for(result: RunResult) -> int:
    """1 when any finding gates, else 0 (errors are exit 2 before a result exists)."""
    return 1 if gating_count(result) else 0


def summary_counts(result: RunResult) -> dict[str, Any]:
    """The counts every consumer gates on: the JSON summary's `gating` block and `--summary FILE`."""
    counts = tally(result)
    gating = counts.gating
    return {
        "fail_on": counts.fail_on,
        "gating": gating,
        "findings": len(result.findings),
        "below_threshold": counts.below_threshold,
        "new": counts.new,
        "unchanged": counts.unchanged,
        "fixed": len(result.fixed),
        "suppressed": len(result.suppressed),
        "exit_code": 1 if gating else 0,
    }


def baseline_in_use(result: RunResult) -> bool:
    return bool(result.fixed) or tally(result).new + tally(result).unchanged > 0


def gate_line(result: RunResult) -> str:
    """One sentence: how many findings fail the run at which level, and the baseline's states."""
    counts = summary_counts(result)
    fail_on, gating = counts["fail_on"], counts["gating"]
    if fail_on == "never":
        line = "--fail-on never: no finding fails the run."
    elif gating:
        line = f"{gating} finding(s) at or above --fail-on {fail_on} fail the run."
    else:
        line = f"no finding at or above --fail-on {fail_on}: the run passes."
    if counts["below_threshold"] and fail_on != "never":
        line += f" {counts['below_threshold']} below it do not."
    if baseline_in_use(result):
        line += f" Baseline: {counts['new']} new, {counts['unchanged']} unchanged, {counts['fixed']} fixed."
    return line


@dataclass(frozen=True)
class Tally:
    """Every count the gate and the reports' summaries read, from one pass over a result's findings."""

    fail_on: str
    gating: int
    below_threshold: int  # not gating and not unchanged in the baseline
    new: int
    unchanged: int
    by_rule: Mapping[str, int]
    by_level: Mapping[Level, int]


_TALLIES: dict[int, Tally] = {}
# (rule, level, baseline, suppressed_reason): a check's millions of findings fall into a few dozen of these.
_CLASS_OF = attrgetter("rule", "level", "baseline", "suppressed_reason")


def tally(result: RunResult) -> Tally:
    """The counts of `result`, computed once per result (a report asks for them many times).

    Each run of findings is one class, counted by its length; every count follows from the classes, by
    the same predicate as `is_gating`."""
    key = id(result)
    found = _TALLIES.get(key)
    if found is not None and found.fail_on == result_fail_on(result):
        return found
    fail_on = result_fail_on(result)
    classes: Counter[tuple[str, Level, str | None, str | None]] = Counter()
    for run in runs_of(result.findings):  # a run is one class: count its length, not its findings
        classes[_CLASS_OF(run)] += len(run.actions)
    threshold = Level(fail_on).rank if fail_on != "never" else None
    gating = below = new = unchanged = 0
    by_rule: Counter[str] = Counter()
    by_level: Counter[Level] = Counter()
    for (rule, level, baseline, reason), count in classes.items():
        by_rule[rule] += count
        by_level[level] += count
        new += count if baseline == "new" else 0
        unchanged += count if baseline == "unchanged" else 0
        gates = (
            threshold is not None and reason is None and baseline != "unchanged" and level.rank >= threshold
        )
        gating += count if gates else 0
        below += count if baseline != "unchanged" and not gates else 0
    found = Tally(fail_on, gating, below, new, unchanged, dict(by_rule), dict(by_level))
    if key not in _TALLIES:
        weakref.finalize(result, _TALLIES.pop, key, None)  # ids are reused once a result is gone
    _TALLIES[key] = found
    return found
