"""The one decision of which findings fail the run: every report, the summary file and the exit code use it.

A finding *gates* when it is unsuppressed (not allowlisted), not already in the baseline
(`baseline` is None or "new"), and at or above the effective `--fail-on` level. `never` gates nothing.
Findings below the threshold are still reported, as notes of the run, never as failures.
"""

from __future__ import annotations

from typing import Any

from ctlint.model import Finding, Level, RunResult

DEFAULT_FAIL_ON = "warning"
FAIL_ON_LEVELS = ("error", "warning", "note", "never")


def effective_fail_on(cli: str | None, config: str | None) -> str:
    """--fail-on, else the config's fail_on, else warning."""
    return cli or config or DEFAULT_FAIL_ON


def result_fail_on(result: RunResult) -> str:
    """The fail-on level a result was gated with (older callers that did not set it: the config's, else warning)."""
    return getattr(result, "effective_fail_on", None) or effective_fail_on(None, result.fail_on)


def is_gating(finding: Finding, fail_on: str) -> bool:
    if fail_on == "never" or finding.suppressed or finding.baseline == "unchanged":
        return False
    return finding.level.rank >= Level(fail_on).rank


def gating_count(result: RunResult) -> int:
    fail_on = result_fail_on(result)
    return sum(1 for f in result.findings if is_gating(f, fail_on))


def exit_code_for(result: RunResult) -> int:
    """1 when any finding gates, else 0 (errors are exit 2 before a result exists)."""
    return 1 if gating_count(result) else 0


def summary_counts(result: RunResult) -> dict[str, Any]:
    """The counts every consumer gates on: the JSON summary's `gating` block and `--summary FILE`."""
    fail_on = result_fail_on(result)
    gating = gating_count(result)
    return {
        "fail_on": fail_on,
        "gating": gating,
        "findings": len(result.findings),
        "below_threshold": sum(
            1 for f in result.findings if f.baseline != "unchanged" and not is_gating(f, fail_on)
        ),
        "new": sum(1 for f in result.findings if f.baseline == "new"),
        "unchanged": sum(1 for f in result.findings if f.baseline == "unchanged"),
        "fixed": len(result.fixed),
        "suppressed": len(result.suppressed),
        "exit_code": 1 if gating else 0,
    }


def baseline_in_use(result: RunResult) -> bool:
    return bool(result.fixed) or any(f.baseline for f in result.findings)


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
