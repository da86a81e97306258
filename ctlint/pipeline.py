"""Wiring: config -> inventories and grants -> usage (an engine) -> findings -> RunResult.

This module does the I/O; `ctlint.evaluate` does the judging. `ctlint check`, `ctlint baseline` and
`ctlint show` all start from `analyse()`, so they agree on what was granted and what was used.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ctlint import __version__, progress
from ctlint.allowlist import apply_allowlist
from ctlint.callerfacts import in_organization
from ctlint.catalog import Catalog
from ctlint.config import AccountConfig, Config, load_config, resolve_window
from ctlint.conventions import discover_config
from ctlint.errors import ConfigError, InputError
from ctlint.evaluate import VARIES, AccountState, EvaluationInput, evaluate
from ctlint.events import map_usage
from ctlint.gating import effective_fail_on
from ctlint.grants_cache import account_grants
from ctlint.inventory import read_snapshot
from ctlint.model import (
    DataVersions,
    Inventory,
    Principal,
    RawUsage,
    RunResult,
    SourceLocation,
    Usage,
    Window,
)
from ctlint.observability import visibility
from ctlint.options import CheckOptions, InputOptions
from ctlint.policy import compute_grants
from ctlint.rulefiles import load_rules
from ctlint.usage.filekind import not_event_logs_note

if TYPE_CHECKING:  # sqlglot and DuckDB load only when an engine is built
    from ctlint.usage.base import UsageEngine


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

    @property
    def has_iac(self) -> bool:
        """Whether any account reads IaC: the IaC locator and the fix stage load only then."""
        return any(result is not None for result in self.iac)


def display_path(path: Path) -> str:
    """A path as reports show it: relative to the working directory when under it."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def make_engine(config: Config, options: InputOptions | None = None) -> UsageEngine:
    """The usage engine the config asks for (ctlint.usage.factory.make_engine, with the CLI's flags)."""
    from ctlint.usage.factory import make_engine as engine_for  # the engines' libraries load on use

    options = options or InputOptions()
    return engine_for(
        config,
        keep_results=options.keep_results,
        skip_bad_files=options.skip_bad_files,
        skip_bad_records=options.skip_bad_records,
        no_cache=options.no_cache,
        identities=options.collect_identities,
        progress=progress.current(),
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
        if snapshot is None:  # the config schema requires iam or iac; never evaluate an empty account
            raise ConfigError(f"accounts: {account.name} has neither iam nor iac.")
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


def _bind_organization(
    account: AccountConfig, snapshot: Inventory | None, inventory: Inventory
) -> tuple[Inventory | None, Inventory]:
    """Both views of the account (deployed and proposed) under its SCPs and RCPs (ctlint.orgpolicy)."""
    from ctlint.orgload import load_organization
    from ctlint.orgpolicy import with_organization

    assert account.organization is not None
    org = load_organization(account.organization, account.id, display_path)
    return (with_organization(snapshot, org) if snapshot is not None else None), with_organization(
        inventory, org
    )


def _require_events(config: Config, raw: RawUsage, window: Window) -> None:
    for account in config.accounts:
        if raw.events_per_account.get(account.id, 0) == 0:
            raise InputError(
                f"account {account.name} ({account.id}) has no CloudTrail events between "
                f"{window.start:%Y-%m-%d} and {window.end:%Y-%m-%d} in the configured logs; refusing to call "
                "every permission unused (check usage paths, the trail and the window)."
            )


def analyse(options: InputOptions, *, config: Config | None = None, now: datetime | None = None) -> Analysis:
    config = config or load_config(options.config or "ctlint.yaml")
    window = resolve_window(config, options.start, options.end, now=now)
    catalog = Catalog.load()

    deployed: list[Inventory | None] = []
    states: list[AccountState] = []
    iac_results: list[Any] = []
    warnings: list[str] = []
    for index, account in enumerate(config.accounts):
        snapshot, inventory, iac = _load_account(config, account, warnings)
        snapshot, inventory = in_organization(account.organization_id, snapshot, inventory)
        if account.organization is not None:
            snapshot, inventory = _bind_organization(account, snapshot, inventory)
        redefined = None
        if iac is not None and snapshot is not None:
            # The deployed grants of the principals the IaC redefines, for the pull-request rules.
            names = {p.arn for p in iac.inventory.principals}
            redefined = tuple(p for p in snapshot.principals if p.arn in names)
        grants, deployed_grants = account_grants(
            config,
            index,
            inventory,
            redefined,
            catalog,
            compute=lambda principal: compute_grants(principal, catalog),  # what the cache stands for
            use_cache=config.cache and not options.no_cache,
        )
        unlinked = None
        unresolved = None
        if iac is not None:
            unlinked, unresolved = iac.unlinked, iac.unresolved
        states.append(
            AccountState(
                inventory=inventory,
                grants=grants,
                deployed_grants=deployed_grants,
                unlinked=unlinked or (),
                unresolved=unresolved or (),
            )
        )
        deployed.append(snapshot)
        iac_results.append(iac)

    engine = make_engine(config, options)
    raw = engine.collect(window, [a.id for a in config.accounts], resources=options.collect_resources)
    if not options.collect_identities:  # the same value whichever engine ran and whether it was cached
        raw = replace(raw, identities=())
    _require_events(config, raw, window)
    dropped = engine.records_skipped
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
    not_event_logs = not_event_logs_note(getattr(engine, "not_event_logs", {}))
    if not_event_logs:
        warnings.append(not_event_logs)
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
    iac_locators: dict[str, Any] = {}
    if analysis.has_iac:
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

    def for_principal(principal: Principal) -> object:
        """Snapshot principals have one location for every action (evaluate asks once per principal)."""
        return VARIES if principal.arn in iac_locators else principal.location

    locate.for_principal = for_principal  # type: ignore[attr-defined]
    return locate


def _data_versions(analysis: Analysis) -> dict[str, str]:
    from ctlint.iac.managed import data_version

    # Always: snapshots taken without AWSManagedPolicy are resolved from the shipped documents too.
    return {**analysis.catalog.versions, "aws_managed_policies": data_version()}


def run_check(options: CheckOptions, *, now: datetime | None = None) -> RunResult:
    """Run the whole check and return what reporters render (warnings included: the caller prints them).
    Raises CtlintError on bad input."""
    now = now or datetime.now(timezone.utc)
    analysis = analyse(replace(options.inputs, collect_identities=False), now=now)  # no rule reads them
    config = analysis.config
    rules = load_rules(config.rule_overrides, config.rule_files)
    data = EvaluationInput(
        accounts=analysis.accounts,
        usage=analysis.usage,
        active=analysis.active,
        rules=rules,
        data_events=config.data_events,
        visibility=visibility(analysis.catalog, config.data_events, config.trail),
    )
    locate = _locator(analysis)
    with progress.current().stage(f"evaluating {sum(len(s.grants) for s in analysis.accounts):,} principals"):
        findings = evaluate(data, analysis.catalog, locate)  # sorted
    outcome = apply_allowlist(findings, config.allowlist, now.date())
    kept = outcome.findings
    fixed: tuple[Mapping[str, object], ...] = ()
    baseline_path = options.baseline
    if baseline_path and not options.update_baseline:
        from ctlint.baseline import apply_baseline, load_baseline

        kept, fixed_entries = apply_baseline(kept, load_baseline(Path(baseline_path)))
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
    fixes: tuple[Any, ...] = ()  # ctlint.fixes.values.StatementFix: patches are made for IaC files only
    if analysis.has_iac:
        from ctlint.fixes.run import run_fixes

        fixes = run_fixes(
            (p for state in analysis.accounts for p in state.inventory.principals),
            analysis.iac,
            grouped.groups,
            rules,
            analysis.catalog,
            analysis.usage.resources if options.inputs.collect_resources else None,
        )
    warnings = (*analysis.warnings, *outcome.warnings)
    return RunResult(
        tool_version=__version__,
        window=analysis.window,
        data=DataVersions(catalog=_data_versions(analysis)),
        accounts=tuple((a.name, a.id) for a in config.accounts),
        rules=rules,
        findings=kept,
        suppressed=outcome.suppressed,
        warnings=tuple(warnings),
        skipped_files=analysis.raw.skipped_files,
        fixed=fixed,
        config_path=display_path(config.path),
        fail_on=config.fail_on,
        effective_fail_on=effective_fail_on(options.fail_on, config.fail_on),
        groups=grouped.groups,
        suppressed_groups=grouped.suppressed_groups,
        principals=grouped.principals,
        fixes=fixes,
    )


def config_or_error(path: str | None, candidates: Sequence[str] = ("ctlint.yaml", "config.yaml")) -> str:
    """The config path to use: the given one, else ctlint.yaml, else CloudTracker's config.yaml."""
    if path:
        return path
    found = discover_config(candidates)
    if found:
        return found
    raise ConfigError(
        "no config file given and neither ctlint.yaml nor config.yaml exists here or in a parent folder up "
        "to the repository root; use --config or set CTLINT_CONFIG."
    )
