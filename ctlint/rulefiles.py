"""Rule files: each YAML file under rules/ (and any the config adds) declares one rule of a known kind."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from ctlint.errors import ConfigError
from ctlint.limits import check_size
from ctlint.model import Level, RuleFilters, RuleSpec
from ctlint.resources import rules_dir
from ctlint.rulekinds import KINDS

_REQUIRED = ("id", "kind", "title", "description", "help")
_ALLOWED = set(_REQUIRED) | {"level", "tags", "filters", "enabled", "why"}
_FILTER_KEYS = {"principals", "principal_types", "actions", "access_levels", "include_service_linked"}


def _filters(raw: Any, where: str) -> RuleFilters:
    if raw is None:
        return RuleFilters()
    if not isinstance(raw, Mapping):
        raise ConfigError(f"{where}.filters: must be a mapping.")
    unknown = sorted(set(raw) - _FILTER_KEYS)
    if unknown:
        raise ConfigError(
            f"{where}.filters: unknown key '{unknown[0]}'; allowed: {', '.join(sorted(_FILTER_KEYS))}."
        )

    def strings(key: str) -> tuple[str, ...]:
        value = raw.get(key, ())
        if isinstance(value, str) or not all(isinstance(v, str) for v in value):
            raise ConfigError(f"{where}.filters.{key}: must be a list of strings.")
        return tuple(value)

    return RuleFilters(
        principals=strings("principals"),
        principal_types=strings("principal_types"),
        actions=strings("actions"),
        access_levels=strings("access_levels"),
        include_service_linked=bool(raw.get("include_service_linked", False)),
    )


def _level(value: Any, where: str) -> Level:
    try:
        return Level(value)
    except ValueError:
        raise ConfigError(f"{where}.level: {value!r} is not one of error, warning, note.") from None


def parse_rule(raw: Any, source: str) -> RuleSpec:
    if not isinstance(raw, Mapping):
        raise ConfigError(f"rule file {source}: must be a mapping with {', '.join(_REQUIRED)}.")
    missing = [key for key in _REQUIRED if key not in raw]
    if missing:
        raise ConfigError(f"rule file {source}: missing key '{missing[0]}'.")
    unknown = sorted(set(raw) - _ALLOWED)
    if unknown:
        raise ConfigError(f"rule file {source}: unknown key '{unknown[0]}'.")
    if not isinstance(raw["kind"], str) or raw["kind"] not in KINDS:
        raise ConfigError(f"rule file {source}: kind {raw['kind']!r} is not one of {', '.join(KINDS)}.")
    kind = KINDS[raw["kind"]]
    return RuleSpec(
        id=str(raw["id"]),
        kind=kind.name,
        level=_level(raw["level"], f"rule file {source}") if "level" in raw else kind.default_level,
        title=str(raw["title"]).strip(),
        description=str(raw["description"]).strip(),
        help=str(raw["help"]).strip(),
        why=str(raw.get("why", "")).strip(),
        enabled=bool(raw.get("enabled", True)),
        filters=_filters(raw.get("filters"), f"rule file {source}"),
        tags=tuple(raw.get("tags", ())),
        source=source,
    )


def _read_rule_file(path: Path) -> RuleSpec:
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"rule file {path} does not exist.") from None
    except (OSError, yaml.YAMLError) as error:
        raise ConfigError(f"rule file {path} cannot be read: {error}.") from None
    check_size(raw, f"rule file {path}", "rule file")
    return parse_rule(raw, str(path))


def _rule_paths(paths: Iterable[Path]) -> list[Path]:
    found: list[Path] = []
    for path in paths:
        found.extend(sorted(path.glob("*.y*ml")) if path.is_dir() else [path])
    return found


@lru_cache(maxsize=1)  # shipped files, fixed for the process: every check of one process reads them once
def builtin_rules() -> tuple[RuleSpec, ...]:
    return tuple(_read_rule_file(path) for path in _rule_paths([rules_dir()]))


def load_rules(
    overrides: Mapping[str, Mapping[str, Any]] | None = None, extra_files: Sequence[Path] = ()
) -> tuple[RuleSpec, ...]:
    """Built-in rules plus the config's rule files, with per-id overrides (enabled, level, filters)."""
    rules: dict[str, RuleSpec] = {}
    for rule in (*builtin_rules(), *(_read_rule_file(p) for p in _rule_paths(extra_files))):
        if rule.id in rules:
            raise ConfigError(
                f"rule file {rule.source}: rule id '{rule.id}' is already defined by {rules[rule.id].source}."
            )
        rules[rule.id] = rule
    for rule_id, override in (overrides or {}).items():
        if rule_id not in rules:
            raise ConfigError(f"rules.{rule_id}: no such rule; known rules: {', '.join(sorted(rules))}.")
        rule = rules[rule_id]
        changes: dict[str, Any] = {}
        if "enabled" in override:
            changes["enabled"] = bool(override["enabled"])
        if "level" in override:
            changes["level"] = _level(override["level"], f"rules.{rule_id}")
        if "filters" in override:
            changes["filters"] = _filters(override["filters"], f"rules.{rule_id}")
        rules[rule_id] = replace(rule, **changes)
    return tuple(sorted(rules.values(), key=lambda r: r.id))
