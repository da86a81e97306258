"""Wiring: config -> inventories and grants -> usage (an engine) -> findings -> RunResult.

This module does the I/O; `ctlint.evaluate` does the judging. `ctlint check`, `ctlint baseline` and
`ctlint show` all start from `analyse()`, so they agree on what was granted and what was used.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from ctlint import __version__
from ctlint.allowlist import apply_allowlist
from ctlint.catalog import Catalog
from ctlint.config import AccountConfig, Config, load_config, resolve_window
from ctlint.errors import ConfigError, InputError
from ctlint.evaluate import AccountState, EvaluationInput, evaluate, fingerprint
from ctlint.events import map_usage
from ctlint.inventory import read_snapshot
from ctlint.model import (
    DataVersions,
    Finding,
    Inventory,
    Principal,
    RawUsage,
    RuleSpec,
    RunResult,
    SourceLocation,
    Usage,
    Window,
)
from ctlint.policy import compute_grants
from ctlint.rulefiles import load_rules


@dataclass(frozen=True)
class Analysis:
    """Everything known after reading inputs, before rules run."""

    config: Config
    window: Window
    catalog: Catalog
    accounts: tuple[AccountState, ...]
    deployed: tuple[Inventory | None, ...]  # the IAM snapshots, parallel to `accounts` (None: IaC only)
    raw: RawUsage
    usage: Usage
    active: frozenset[str]
    warnings: tuple[str, ...] = ()
    iac: tuple[Any, ...] = ()  # ctlint.iac IacResult per account, or None


def _opt(args: Any, name: str, default: Any = None) -> Any:
    return getattr(args, name, default) if args is not None else default


def display_path(path: Path) -> str:
    """A path as reports show it: relative to the working directory when under it."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def make_engine(config: Config, args: Any = None):
    """The usage engine the config asks for; both return the same RawUsage shape."""
    if config.usage_source == "athena":
        from ctlint.usage.athena import AthenaEngine, AthenaSettings

        settings = AthenaSettings.from_mapping(config.athena or {}, where=f"{config.path}: athena")
        if _opt(args, "keep_results"):
            settings = replace(settings, keep_results=True)
        return AthenaEngine(settings, [a.id for a in config.accounts])
    from ctlint.usage.local import LocalEngine

    skip = _opt(args, "skip_bad_files") or config.skip_bad_files
    return LocalEngine(
        list(config.local_paths),
        skip_bad_files=bool(skip),
        skip_bad_records=bool(_opt(args, "skip_bad_records") or config.skip_bad_records),
        max_skipped_share=config.max_skipped_share,
        cache=config.cache and not _opt(args, "no_cache"),
    )


def _load_account(
    config: Config, account: AccountConfig, warnings: list[str]
) -> tuple[Inventory | None, Inventory, Any]:
    snapshot = None
    if account.iam is not None:
        read = read_snapshot(
            account.iam,
            account_id=account.id,
            account_name=account.name,
            display_path=display_path(account.iam),
        )
        snapshot = read.inventory
        warnings.extend(read.warnings)
    if not account.iac:
        return snapshot, snapshot, None
    from ctlint.iac.loader import load_iac

    result = load_iac(
        account.iac,
        base_dir=config.base_dir,
        account_id=account.id,
        account_name=account.name,
        snapshot=snapshot,
        display_root=Path.cwd(),
    )
    # The IaC is the proposed state: its principals replace the deployed ones of the same ARN.
    proposed = {p.arn: p for p in (snapshot.principals if snapshot else ())}
    proposed.update({p.arn: p for p in result.inventory.principals})
    merged = Inventory(
        account_id=account.id,
        account_name=account.name,
        principals=tuple(sorted(proposed.values(), key=lambda p: p.arn)),
        source=result.inventory.source,
    )
    return snapshot, merged, result


def _require_events(config: Config, raw: RawUsage, window: Window) -> None:
    for account in config.accounts:
        if raw.events_per_account.get(account.id, 0) == 0:
            raise InputError(
                f"account {account.name} ({account.id}) has no CloudTrail events between "
                f"{window.start:%Y-%m-%d} and {window.end:%Y-%m-%d} in the configured logs; refusing to call "
                "every permission unused (check usage paths, the trail and the window)."
            )


def analyse(args: Any, *, config: Config | None = None, now: datetime | None = None) -> Analysis:
    config = config or load_config(_opt(args, "config") or "ctlint.yaml")
    window = resolve_window(config, _opt(args, "start"), _opt(args, "end"), now=now)
    catalog = Catalog.load()

    deployed: list[Inventory | None] = []
    states: list[AccountState] = []
    iac_results: list[Any] = []
    warnings: list[str] = []
    for account in config.accounts:
        snapshot, inventory, iac = _load_account(config, account, warnings)
        grants = {p.arn: compute_grants(p, catalog) for p in inventory.principals}
        states.append(AccountState(inventory=inventory, grants=grants))
        deployed.append(snapshot)
        iac_results.append(iac)

    engine = make_engine(config, args)
    raw = engine.collect(window, [a.id for a in config.accounts])
    _require_events(config, raw, window)
    dropped = getattr(engine, "records_skipped", 0)
    if dropped:
        warnings.append(
            f"dropped {dropped} CloudTrail record(s) without eventSource, eventName or a readable eventTime "
            "(skip_bad_records); their calls are not counted."
        )
    usage = map_usage(raw)
    # A role counts as active when anyone assumed it in the window, even if the session made no call.
    active = (
        frozenset(row.principal_arn for row in raw.rows)
        | frozenset(s.role_arn for s in raw.sessions)
        | frozenset(a.role_arn for a in raw.assumptions if a.last_seen >= window.start)
    )
    warnings.extend(f"skipped unreadable file {path}" for path in raw.skipped_files)
    for result in iac_results:
        warnings.extend(
            f"{where.path}:{where.line}: {text} could not be resolved offline"
            for text, where in (result.unresolved if result is not None else ())
        )
    warnings.extend(
        f"{u.count} event(s) {u.event_source} {u.event_name} map to no IAM action ctlint knows; they are ignored."
        for u in usage.unmapped
    )
    return Analysis(
        config=config,
        window=window,
        catalog=catalog,
        accounts=tuple(states),
        deployed=tuple(deployed),
        raw=raw,
        usage=usage,
        active=active,
        warnings=tuple(warnings),
        iac=tuple(iac_results),
    )


def _locator(analysis: Analysis):
    """Snapshot principals point at their definition; IaC principals at the action string that grants."""
    from ctlint.iac.compare import make_locator

    iac_locators = {
        principal.arn: make_locator(result)
        for result in analysis.iac
        if result is not None
        for principal in result.inventory.principals
    }

    def locate(principal: Principal, action: str | None) -> SourceLocation | None:
        locator = iac_locators.get(principal.arn)
        return locator(principal, action) if locator else principal.location

    return locate


def _iac_findings(analysis: Analysis, rules: Sequence[RuleSpec], locate) -> list[Finding]:
    """The pull-request rules (proposed IaC vs deployed snapshot) and IaC principals nobody can link."""
    if not any(analysis.iac):
        return []
    from ctlint.iac.compare import pr_findings

    enabled = {r.kind: r for r in rules if r.enabled}
    findings: list[Finding] = []
    for state, snapshot, result in zip(analysis.accounts, analysis.deployed, analysis.iac, strict=True):
        if result is None:
            continue
        inventory = state.inventory
        unlinked = enabled.get("iac-unlinked")
        for address, where, kind in result.unlinked if unlinked else ():
            findings.append(
                Finding(
                    rule=unlinked.id,
                    level=unlinked.level,
                    account=inventory.account_id,
                    account_name=inventory.account_name,
                    principal=address,
                    principal_type=kind,
                    action=None,
                    role=None,
                    message=f"{address} has a name generated at deployment, so ctlint cannot link it to usage; "
                    "its grants are not checked.",
                    fingerprint=fingerprint(inventory.account_id, address, unlinked.id, None, None),
                    location=where,
                )
            )
        if snapshot is None:
            continue
        pr_rules = {
            kind: enabled[kind] for kind in ("new-grant-unused", "removed-grant-used") if kind in enabled
        }
        for finding in pr_findings(
            inventory,
            snapshot,
            analysis.usage,
            analysis.catalog,
            account_name=inventory.account_name,
            locate=locate,
            data_events=analysis.config.data_events,
            levels={kind: rule.level for kind, rule in pr_rules.items()},
        ):
            if finding.rule in pr_rules:
                findings.append(finding)
    return findings


def _data_versions(analysis: Analysis) -> dict[str, str]:
    versions = dict(analysis.catalog.versions)
    if any(analysis.iac):
        from ctlint.iac.managed import data_version

        versions["aws_managed_policies"] = data_version()
    return versions


def run_check(args: Any, *, now: datetime | None = None) -> RunResult:
    """Run the whole check and return what reporters render. Raises CtlintError on bad input."""
    now = now or datetime.now(timezone.utc)
    analysis = analyse(args, now=now)
    config = analysis.config
    rules = load_rules(config.rule_overrides, config.rule_files)
    data = EvaluationInput(
        accounts=analysis.accounts,
        usage=analysis.usage,
        active=analysis.active,
        rules=rules,
        data_events=config.data_events,
    )
    locate = _locator(analysis)
    findings = evaluate(data, analysis.catalog, locate)  # sorted
    iac_findings = _iac_findings(analysis, rules, locate)
    if iac_findings:
        findings = sorted([*findings, *iac_findings], key=Finding.sort_key)
    outcome = apply_allowlist(findings, config.allowlist, now.date())
    kept, fixed = list(outcome.findings), ()
    baseline_path = _opt(args, "baseline")
    if baseline_path and not _opt(args, "update_baseline"):
        from ctlint.baseline import apply_baseline, load_baseline

        baseline_findings, fixed_entries = apply_baseline(kept, load_baseline(Path(baseline_path)))
        kept = list(baseline_findings)
        fixed = tuple(asdict(entry) for entry in fixed_entries)
    from ctlint.grouped_run import group_run

    grouped = group_run(
        analysis.accounts,
        analysis.usage,
        analysis.active,
        analysis.window,
        analysis.catalog,
        config.data_events,
        rules,
        kept,
        outcome.suppressed,
    )
    warnings = (*analysis.warnings, *outcome.warnings)
    for warning in warnings:
        print(f"ctlint: warning: {warning}", file=sys.stderr)
    return RunResult(
        tool_version=__version__,
        window=analysis.window,
        data=DataVersions(catalog=_data_versions(analysis)),
        accounts=tuple((a.name, a.id) for a in config.accounts),
        rules=rules,
        findings=tuple(kept),
        suppressed=outcome.suppressed,
        warnings=tuple(warnings),
        skipped_files=analysis.raw.skipped_files,
        fixed=fixed,
        config_path=display_path(config.path),
        fail_on=config.fail_on,
        groups=grouped.groups,
        suppressed_groups=grouped.suppressed_groups,
        principals=grouped.principals,
    )


def config_or_error(path: str | None, candidates: Sequence[str] = ("ctlint.yaml", "config.yaml")) -> str:
    """The config path to use: the given one, else ctlint.yaml, else CloudTracker's config.yaml."""
    if path:
        return path
    for candidate in candidates:
        if Path(candidate).is_file():
            return candidate
    raise ConfigError(
        "no config file given and neither ctlint.yaml nor config.yaml exists here; use --config."
    )
