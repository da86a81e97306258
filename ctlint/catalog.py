"""The IAM action catalog: every action with canonical casing, access level, CloudTrail observability and
the resource types it takes (with their ARN formats).

Loaded once per process from the generated `data/iam_catalog.json.gz` (see scripts/datagen.py and
docs/data.md). Lookups are case-insensitive; wildcard expansion is indexed by service prefix and cached.
"""

from __future__ import annotations

import gzip
import json
import threading
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from types import MappingProxyType
from typing import Any

from ctlint.dataformat import CATALOG_FILE, LEVELS_BY_CODE
from ctlint.errors import InputError
from ctlint.model import Observability
from ctlint.resources import data_path
from ctlint.wildcard import compile_pattern, has_wildcard

# Most privileged first: the access level of an action with several is the first of these it has.
LEVEL_RANK = ("Permissions management", "Write", "Tagging", "Read", "List")
# Compact catalog row: (canonical name, service, level codes, observability code, data_event_service).
_Row = tuple[str, str, str, str, "str | None"]
OBS_BY_CODE = {
    "m": Observability.MANAGEMENT,
    "d": Observability.DATA,
    "n": Observability.NEVER,
    "u": Observability.UNKNOWN,
}


@dataclass(frozen=True, slots=True)
class ResourceType:
    name: str  # e.g. "object"
    arn_format: str  # e.g. "arn:${Partition}:s3:::${BucketName}/${ObjectName}"


@dataclass(frozen=True)
class ActionInfo:
    name: str  # canonical, e.g. "s3:GetObject"
    service: str  # "s3"
    access_levels: tuple[str, ...]  # e.g. ("Tagging", "Write"), alphabetical
    access_level: str  # the most privileged: Permissions management > Write > Tagging > Read > List
    observability: Observability
    data_event_service: str | None  # for DATA actions: the usage.data_events name that makes it observable


def _level_combinations() -> dict[str, tuple[str, ...]]:
    """Every sorted combination of level codes -> alphabetical level names ("TW" -> ("Tagging", "Write"))."""
    from itertools import combinations

    codes = sorted(LEVELS_BY_CODE)
    return {
        "".join(combo): tuple(sorted(LEVELS_BY_CODE[c] for c in combo))
        for size in range(1, len(codes) + 1)
        for combo in combinations(codes, size)
    }


_LEVELS = _level_combinations()


class Catalog:
    """Immutable after construction; use `Catalog.load()` for the shared, cached instance."""

    _instance: Catalog | None = None
    _lock = threading.Lock()

    def __init__(self, versions: Mapping[str, str], infos: Iterable[ActionInfo]) -> None:
        self._setup(versions, {i.name.lower(): i for i in infos})

    def _setup(self, versions: Mapping[str, str], by_lower: dict[str, ActionInfo | _Row]) -> None:
        self.versions: Mapping[str, str] = MappingProxyType(dict(versions))
        # Values are ActionInfo, or compact rows turned into ActionInfo on first lookup: building 22k frozen
        # dataclasses up front would double the load time.
        self._by_lower = by_lower
        by_service: dict[str, list[str]] = {}
        names = []
        for value in by_lower.values():
            name = value.name if isinstance(value, ActionInfo) else value[0]
            names.append(name)
            by_service.setdefault(name.partition(":")[0].lower(), []).append(name)
        self._by_service = {svc: tuple(sorted(n)) for svc, n in by_service.items()}
        self.all_actions: frozenset[str] = frozenset(names)
        self.services: frozenset[str] = frozenset(self._by_service)
        # Per-instance cache (an lru_cache on the method would keep every instance alive).
        self._expand_cached = lru_cache(maxsize=16384)(self._expand)
        # The generated file's per-service resource tables, decoded per service on first use.
        self._resource_tables: tuple[Mapping[str, Any], Mapping[str, Any]] = ({}, {})
        self._resources_by_lower: dict[str, tuple[ResourceType, ...]] = {}
        self._decoded_services: set[str] = set()

    # ------------------------------------------------------------ construction

    @classmethod
    def load(cls) -> Catalog:
        """The catalog shipped with ctlint, read once per process."""
        if cls._instance is None:
            with cls._lock:
                if cls._instance is None:
                    cls._instance = cls.from_bytes(data_path(CATALOG_FILE).read_bytes(), CATALOG_FILE)
        return cls._instance

    @classmethod
    def from_bytes(cls, content: bytes, source: str = CATALOG_FILE) -> Catalog:
        try:
            doc = json.loads(gzip.decompress(content))
            versions = doc["versions"]
            data_service = doc["data_event_service"]
            resource_types = doc["resource_types"]
            action_resources = doc["action_resources"]
            rows: dict[str, ActionInfo | _Row] = {}
            for service, (names, levels, obs) in doc["services"].items():
                for name, level_code, obs_code in zip(names, levels, obs, strict=True):
                    if level_code not in _LEVELS or obs_code not in OBS_BY_CODE:
                        raise ValueError(f"bad codes for {service}:{name}")
                    full = f"{service}:{name}"
                    rows[full.lower()] = (full, service, level_code, obs_code, data_service.get(full))
        except (OSError, EOFError, ValueError, KeyError, TypeError) as exc:
            raise InputError(f"The IAM catalog {source} is corrupt ({exc}); reinstall ctlint.") from exc
        catalog = cls.__new__(cls)
        catalog._setup(versions, rows)
        catalog._resource_tables = (resource_types, action_resources)
        return catalog

    # ------------------------------------------------------------ lookups

    def info(self, action: str) -> ActionInfo | None:
        key = action.lower()
        value = self._by_lower.get(key)
        if value is None or isinstance(value, ActionInfo):
            return value
        name, service, level_code, obs_code, data_service = value
        access_levels = _LEVELS[level_code]
        info = ActionInfo(
            name=name,
            service=service,
            access_levels=access_levels,
            access_level=next(lv for lv in LEVEL_RANK if lv in access_levels),
            observability=OBS_BY_CODE[obs_code],
            data_event_service=data_service,
        )
        self._by_lower[key] = info  # benign race: every thread computes the same value
        return info

    def canonical(self, action: str) -> str | None:
        value = self._by_lower.get(action.lower())
        if value is None:
            return None
        return value.name if isinstance(value, ActionInfo) else value[0]

    def resource_types(self, action: str) -> tuple[ResourceType, ...]:
        """The resource types `action` takes, with their ARN formats; () when it takes only `*`
        (and for an action the catalog does not know: nothing to match against but `*`)."""
        service = action.partition(":")[0].lower()
        if service not in self._decoded_services:
            self._decode_resources(service)
        return self._resources_by_lower.get(action.lower(), ())

    def _decode_resources(self, service: str) -> None:
        tables, indexes = self._resource_tables
        names = self._by_service.get(service, ())
        table = tables.get(service)
        rows = indexes.get(service)
        if table is not None and rows is not None:
            try:
                types = [ResourceType(str(name), str(arn)) for name, arn in table]
                # Generated rows follow the service's names sorted case-insensitively; _by_service is
                # sorted by code point, so align them by that order.
                ordered = sorted(names, key=str.lower)
                cells = str(rows).split("|")
                if len(cells) != len(ordered):
                    raise ValueError(f"{len(cells)} resource rows for {len(ordered)} actions")
                for name, cell in zip(ordered, cells, strict=True):
                    if cell:
                        self._resources_by_lower[name.lower()] = tuple(types[int(i)] for i in cell.split(","))
            except (ValueError, TypeError, IndexError) as exc:
                raise InputError(
                    f"The IAM catalog {CATALOG_FILE} is corrupt (resource types of {service}: {exc}); "
                    "reinstall ctlint."
                ) from exc
        self._decoded_services.add(service)

    def service_actions(self, service: str) -> tuple[str, ...]:
        return self._by_service.get(service.lower(), ())

    def expand(self, pattern: str) -> frozenset[str]:
        """Canonical names matching an IAM action pattern ("s3:Get*", "ec2:*", "*", "s3:getobject")."""
        return self._expand_cached(pattern)

    def _expand(self, pattern: str) -> frozenset[str]:
        if not has_wildcard(pattern):
            name = self.canonical(pattern)
            return frozenset((name,)) if name else frozenset()
        if pattern.strip("*") == "":
            return self.all_actions
        service, sep, _ = pattern.partition(":")
        if sep and not has_wildcard(service):
            candidates: Iterable[str] = self._by_service.get(service.lower(), ())
        else:
            candidates = self.all_actions
        regex = compile_pattern(pattern)
        return frozenset(name for name in candidates if regex.match(name))

    def expand_not(self, patterns: Iterable[str]) -> frozenset[str]:
        """NotAction: every catalog action that matches none of `patterns`."""
        excluded: set[str] = set()
        for pattern in patterns:
            excluded |= self.expand(pattern)
        return self.all_actions - excluded

    def is_observable(self, action: str, data_events: Collection[str]) -> bool:
        """True when CloudTrail would record a use: MANAGEMENT, or DATA whose data events are logged."""
        info = self.info(action)
        if info is None:
            return False
        if info.observability is Observability.MANAGEMENT:
            return True
        if info.observability is Observability.DATA and info.data_event_service is not None:
            wanted = info.data_event_service.lower()
            return any(d.lower() == wanted or d == "*" for d in data_events)
        return False
