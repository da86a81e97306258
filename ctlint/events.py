"""CloudTrail (eventSource, eventName) -> IAM action(s), and raw engine rows -> usage per principal.

The tables come from the generated `data/cloudtrail_events.json` (see scripts/datagen.py, docs/data.md).
Lookup order for one event: no-IAM list, name override, `prefix:name` in the catalog, the HTTP verb
of the operation in botocore's model (API Gateway), a verb rule by name prefix (names botocore does not
know), then the same after stripping an anchored version suffix (`CreateFunction20150331`,
`UpdateFunctionCode20150331v2`, `CreateDistribution2016_11_25`). The real name is always tried first, so
names that genuinely end in digits or `V2` (`kafka:CreateClusterV2`) are never mangled.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import cache, lru_cache
from types import MappingProxyType

from ctlint.catalog import Catalog
from ctlint.dataformat import EVENTS_FILE
from ctlint.errors import InputError
from ctlint.model import ActionUse, PrincipalUsage, RawUsage, UnmappedEvent, Usage
from ctlint.resources import data_path

# Anchored on the date forms only; a generic "trailing [0-9v_]+" rule breaks 75 real action names.
VERSION_SUFFIX = re.compile(r"(?:\d{8}(?:v\d+)?|\d{4}_\d{2}_\d{2})$")

MAPPED = "mapped"
NO_IAM_ACTION = "no_iam_action"
UNMAPPED = "unmapped"


@dataclass(frozen=True)
class EventMapping:
    kind: str  # "mapped" | "no_iam_action" | "unmapped"
    actions: tuple[str, ...] = ()  # canonical catalog names (empty unless mapped)


_NO_IAM = EventMapping(NO_IAM_ACTION)
_UNMAPPED = EventMapping(UNMAPPED)


@dataclass(frozen=True)
class EventTables:
    """The generated mapping tables, with lower-case keys for case-insensitive lookup."""

    sources: Mapping[str, str]  # eventSource -> IAM prefix, where they differ
    overrides: Mapping[str, Mapping[str, tuple[str, ...]]]  # eventSource -> eventName -> actions
    name_prefix_rules: Mapping[
        str, tuple[tuple[str, str], ...]
    ]  # eventSource -> (prefix, action), longest first
    no_iam_action: Mapping[str, frozenset[str]]  # eventSource -> event names
    versions: Mapping[str, str]
    verb_actions: Mapping[str, Mapping[str, tuple[str, ...]]]  # from http.method
    uncontrolled_actions: frozenset[str]  # no policy grants or denies them
    global_services: Mapping[str, str]  # IAM prefix -> region of its events
    data_resource_types: Mapping[str, tuple[str, ...]]  # data action -> types
    read_only_unreliable: frozenset[str]  # IAM prefixes logging some Write-level actions as readOnly


@cache
def load_tables() -> EventTables:
    path = data_path(EVENTS_FILE)
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
        return EventTables(
            sources=MappingProxyType({k.lower(): v for k, v in doc["sources"].items()}),
            overrides=MappingProxyType(
                {
                    src.lower(): {name.lower(): tuple(actions) for name, actions in events.items()}
                    for src, events in doc["overrides"].items()
                }
            ),
            name_prefix_rules=MappingProxyType(
                {
                    src.lower(): tuple(sorted(rules.items(), key=lambda kv: -len(kv[0])))
                    for src, rules in doc["name_prefix_rules"].items()
                }
            ),
            no_iam_action=MappingProxyType(
                {
                    src.lower(): frozenset(n.lower() for n in names)
                    for src, names in doc["no_iam_action"].items()
                }
            ),
            versions=MappingProxyType(doc["versions"]),
            verb_actions=MappingProxyType(
                {
                    src.lower(): {name.lower(): tuple(actions) for name, actions in events.items()}
                    for src, events in doc["http_verb_actions"].items()
                }
            ),
            uncontrolled_actions=frozenset(doc["uncontrolled_actions"]),
            global_services=MappingProxyType(
                {str(prefix): str(region) for prefix, region in doc["global_services"].items()}
            ),
            data_resource_types=MappingProxyType(
                {action: tuple(types) for action, types in doc["data_resource_types"].items()}
            ),
            read_only_unreliable=frozenset(doc["read_only_unreliable"]),
        )
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise InputError(
            f"The CloudTrail mapping table {path} is corrupt ({exc}); reinstall ctlint."
        ) from exc


def uncontrolled_actions() -> frozenset[str]:
    """Catalog actions that no policy grants or denies (`sts:GetCallerIdentity`, `sts:GetSessionToken`)."""
    return load_tables().uncontrolled_actions


def iam_prefix(event_source: str) -> str:
    """The IAM service prefix for a CloudTrail eventSource (`monitoring.amazonaws.com` -> `cloudwatch`)."""
    source = event_source.strip().lower()
    mapped = load_tables().sources.get(source)
    if mapped is not None:
        return mapped
    return source.removesuffix(".amazonaws.com")


def _lookup(
    source: str, name: str, prefix: str, tables: EventTables, catalog: Catalog
) -> EventMapping | None:
    lower = name.lower()
    if lower in tables.no_iam_action.get(source, ()):
        return _NO_IAM
    override = tables.overrides.get(source, {}).get(lower)
    if override is not None:
        return EventMapping(MAPPED, override)
    canonical = catalog.canonical(f"{prefix}:{name}")
    if canonical is not None:
        return EventMapping(MAPPED, (canonical,))
    # After the exact name: API Gateway's newer APIs (apigateway:GetPortal) are real named actions.
    verb = tables.verb_actions.get(source, {}).get(lower)
    if verb is not None:
        return EventMapping(MAPPED, verb)
    for rule_prefix, action in tables.name_prefix_rules.get(source, ()):
        if name.startswith(rule_prefix):
            return EventMapping(MAPPED, (action,))
    return None


@lru_cache(maxsize=65536)
def map_event(event_source: str, event_name: str) -> EventMapping:
    """Map one CloudTrail event to the IAM action(s) that authorise it."""
    source = (event_source or "").strip().lower()
    name = (event_name or "").strip()
    if not source or not name:
        return _UNMAPPED
    tables, catalog = load_tables(), Catalog.load()
    prefix = iam_prefix(source)
    found = _lookup(source, name, prefix, tables, catalog)
    if found is None:
        stripped = VERSION_SUFFIX.sub("", name)
        if stripped and stripped != name:
            found = _lookup(source, stripped, prefix, tables, catalog)
    return found or _UNMAPPED


def map_usage(raw: RawUsage) -> Usage:
    """Aggregate engine rows into IAM-action usage per principal; collect no-IAM and unmapped events."""
    actions: dict[str, dict[str, list]] = {}  # arn -> action -> [count, first, last]
    types: dict[str, str] = {}
    no_iam: dict[tuple[str, str], int] = {}
    unmapped: dict[tuple[str, str], int] = {}
    for row in raw.rows:
        types.setdefault(row.principal_arn, row.principal_type)
        per_principal = actions.setdefault(row.principal_arn, {})
        mapping = map_event(row.event_source, row.event_name)
        if mapping.kind != MAPPED:
            bucket = no_iam if mapping.kind == NO_IAM_ACTION else unmapped
            key = (row.event_source, row.event_name)
            bucket[key] = bucket.get(key, 0) + row.count
            continue
        for action in mapping.actions:
            use = per_principal.get(action)
            if use is None:
                per_principal[action] = [row.count, row.first_seen, row.last_seen]
            else:
                use[0] += row.count
                use[1] = _min(use[1], row.first_seen)
                use[2] = _max(use[2], row.last_seen)
    principals = {
        arn: PrincipalUsage(
            arn=arn,
            type=types[arn],
            actions=MappingProxyType(
                {
                    a: ActionUse(count=c, first_seen=f, last_seen=last)
                    for a, (c, f, last) in sorted(uses.items())
                }
            ),
        )
        for arn, uses in sorted(actions.items())
    }
    resources = _resources(raw)
    return Usage(
        window=raw.window,
        principals=MappingProxyType(principals),
        assumptions=raw.assumptions,
        sessions=raw.sessions,
        events_per_account=raw.events_per_account,
        stats=raw.stats,
        no_iam_action=_events(no_iam),
        unmapped=_events(unmapped),
        skipped_files=raw.skipped_files,
        identities=raw.identities,
        resources=resources,
    )


def _resources(raw: RawUsage) -> Mapping[str, Mapping[str, frozenset[str]]]:
    """Resource rows mapped to IAM actions per principal, bounded (ctlint.usage.resource_bound)."""
    from ctlint.usage.resource_bound import UNNAMED, bound_all, takes_resource

    if not raw.resources:
        return MappingProxyType({})
    catalog = Catalog.load()
    found: dict[str, dict[str, set[str]]] = {}
    unnamed: set[tuple[str, str]] = set()
    for row in raw.resources:
        mapping = map_event(row.event_source, row.event_name)
        if mapping.kind != MAPPED:
            continue
        if row.resource == UNNAMED:
            unnamed.update((row.principal_arn, action) for action in mapping.actions)
            continue
        for action in mapping.actions:
            # Only ARNs of a resource type the action takes: a GetObject record also names its bucket.
            if takes_resource(catalog.resource_types(action), row.resource):
                found.setdefault(row.principal_arn, {}).setdefault(action, set()).add(row.resource)
    for principal, action in unnamed:  # some calls named no resource of the action: none is known
        found.get(principal, {}).pop(action, None)
    return bound_all({principal: actions for principal, actions in found.items() if actions})


def names_every_action(event_source: str, event_name: str, arns: list[str]) -> bool:
    """Whether `arns` (one call group's) hold an ARN of a type each action of the event takes; actions that
    take only `*` need none."""
    from ctlint.usage.resource_bound import takes_resource

    mapping = map_event(event_source, event_name)
    if mapping.kind != MAPPED:
        return True
    catalog = Catalog.load()
    for action in mapping.actions:
        types = catalog.resource_types(action)
        if types and not any(takes_resource(types, arn) for arn in arns):
            return False
    return True


def _events(counts: Mapping[tuple[str, str], int]) -> tuple[UnmappedEvent, ...]:
    return tuple(UnmappedEvent(src, name, count) for (src, name), count in sorted(counts.items()))


def _min(a: datetime, b: datetime) -> datetime:
    return b if b < a else a


def _max(a: datetime, b: datetime) -> datetime:
    return b if b > a else a
