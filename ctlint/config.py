"""The config file: YAML, validated by a JSON Schema shipped in the package, paths relative to the file.

CloudTracker's `config.yaml` (top-level `athena:` block plus `accounts:` with `name`, `id`, `iam`) loads
unchanged: an `athena:` block without a `usage:` block selects the Athena engine.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta, timezone
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from ctlint.errors import ConfigError
from ctlint.isotime import fromisoformat
from ctlint.limits import check_size
from ctlint.model import EMPTY_MAPPING, AllowlistEntry, Window, is_account_id
from ctlint.orgload import LevelFiles, OrgSource
from ctlint.trailscope import (
    TrailScope,
    load_event_selectors,
    load_trail_description,
    management_selector,
)

SCHEMA_PATH = Path(__file__).resolve().parent / "schemas" / "config.schema.json"
DEFAULT_LOOKBACK_DAYS = 90


@dataclass(frozen=True)
class AccountConfig:
    name: str
    id: str
    iam: Path | None = None
    iac: tuple[Mapping[str, str], ...] = ()
    organization_id: str | None = None  # the account's organisation (aws:PrincipalOrgID); None: unknown
    organization: OrgSource | None = None  # accounts[].organization: its SCPs and RCPs


@dataclass(frozen=True)
class Config:
    path: Path
    base_dir: Path
    accounts: tuple[AccountConfig, ...]
    usage_source: str = "local"  # "local" | "athena"
    local_paths: tuple[Path, ...] = ()
    skip_bad_files: bool = False
    skip_bad_records: bool = False  # drop single unreadable records instead of failing on their file
    max_skipped_share: float = 0.0
    cache: bool = True
    data_events: frozenset[str] = frozenset()
    window_start: date | None = None
    window_end: date | None = None
    lookback_days: int = DEFAULT_LOOKBACK_DAYS
    rule_overrides: Mapping[str, Mapping[str, Any]] = field(default_factory=lambda: EMPTY_MAPPING)
    rule_files: tuple[Path, ...] = ()
    allowlist: tuple[AllowlistEntry, ...] = ()
    athena: Mapping[str, Any] | None = None
    fail_on: str | None = None
    raw: Mapping[str, Any] = field(default_factory=lambda: EMPTY_MAPPING, compare=False, repr=False)
    trail: TrailScope | None = None  # usage.trail: the trail's real scope; None: every region, all management

    @property
    def name(self) -> str:
        return self.path.stem

    def account(self, name_or_id: str) -> AccountConfig:
        for account in self.accounts:
            if name_or_id in (account.name, account.id):
                return account
        known = ", ".join(f"{a.name} ({a.id})" for a in self.accounts)
        raise ConfigError(f"{self.path}: no account named '{name_or_id}'; the config has: {known}.")


# ---------------------------------------------------------------- YAML


class _StrictLoader(yaml.SafeLoader):
    """Safe YAML that keeps dates as strings (the schema checks them) and rejects duplicate keys."""


_StrictLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _construct_mapping(loader: _StrictLoader, node: yaml.MappingNode) -> dict:
    seen: set = set()
    for key_node, _ in node.value:
        if key_node.tag == "tag:yaml.org,2002:merge":
            continue  # `<<: *defaults`: merged keys may be overridden; construct_mapping merges them
        key = loader.construct_object(key_node)
        if key in seen:
            raise ConfigError(f"duplicate key '{key}' at line {key_node.start_mark.line + 1}.")
        seen.add(key)
    return loader.construct_mapping(node)


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def _read_yaml(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"config file {path} does not exist.") from None
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(f"config file {path} cannot be read: {error}.") from None
    try:
        document = yaml.load(text, Loader=_StrictLoader)  # noqa: S506 - a SafeLoader subclass
        check_size(document, path)
        return document
    except ConfigError as error:
        if str(error).startswith(f"{path}: "):
            raise
        raise ConfigError(f"{path}: {error}") from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark else ""
        problem = getattr(error, "problem", None) or " ".join(str(error).split())  # one line
        raise ConfigError(f"{path} is not valid YAML{where}: {problem}.") from None


# ---------------------------------------------------------------- schema validation


@cache
def _validator() -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(json.loads(SCHEMA_PATH.read_text(encoding="utf-8")))


def _key_path(parts: Sequence[Any]) -> str:
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(top level)"


def _schema_message(error: jsonschema.ValidationError) -> str:
    where = _key_path(list(error.absolute_path))
    if error.validator == "additionalProperties":
        # Errors jsonschema yields carry their schema (a mapping here); only hand-made ones are unset.
        schema = error.schema if isinstance(error.schema, Mapping) else {}
        allowed = sorted(schema.get("properties", {}))
        unknown = sorted(set(error.instance) - set(allowed)) if isinstance(error.instance, dict) else []
        hints = []
        for key in unknown:
            close = difflib.get_close_matches(str(key), allowed, n=1)
            hints.append(f"'{key}'" + (f" (did you mean '{close[0]}'?)" if close else ""))
        return f"{where}: unknown key {', '.join(hints)}; allowed keys: {', '.join(allowed)}"
    if error.validator == "required":
        return f"{where}: {error.message.replace('is a required property', 'is required')}"
    if error.validator == "enum":
        # The value of an `enum` keyword is its list of choices (unset only on hand-made errors).
        values = error.validator_value if isinstance(error.validator_value, list) else []
        choices = ", ".join(str(c) for c in values)
        return f"{where}: {error.instance!r} is not one of: {choices}"
    if error.validator == "type":
        return f"{where}: {error.instance!r} should be of type {error.validator_value}"
    if error.validator == "pattern" and where.endswith("lookback"):
        return f"{where}: {error.instance!r} is not a number of days like '90d'"
    return f"{where}: {error.message}"


def _validate(document: Any, path: Path) -> None:
    if not isinstance(document, dict):
        raise ConfigError(f"{path}: the config must be a mapping with at least an 'accounts' list.")
    if "elasticsearch" in document:
        raise ConfigError(
            f"{path}: 'elasticsearch' is CloudTracker's Elasticsearch backend, which ctlint does not support; "
            "read the logs from files (usage.local.paths) or Athena (an 'athena' block) instead."
        )
    errors = sorted(_validator().iter_errors(document), key=lambda e: (list(e.absolute_path), e.validator))
    if errors:
        # Report the first error, naming its key path; one clear sentence beats a wall of schema noise.
        raise ConfigError(f"{path}: {_schema_message(errors[0])}.")


# ---------------------------------------------------------------- values


def parse_date(value: str, where: str) -> date:
    text = str(value).strip()
    try:
        if len(text) == 10:
            return date.fromisoformat(text)
        return fromisoformat(text.replace("Z", "+00:00")).date()
    except ValueError:
        raise ConfigError(f"{where}: {value!r} is not a date (YYYY-MM-DD).") from None


def _account_id(value: Any, where: str) -> str:
    text = str(value)
    if isinstance(value, bool) or not is_account_id(text):
        hint = " (quote it in YAML so leading zeros survive)" if isinstance(value, int) else ""
        raise ConfigError(f"{where}: {text!r} is not a 12-digit account id{hint}.")
    return text


def _resolve(base_dir: Path, value: str) -> Path:
    path = Path(value).expanduser()
    return path if path.is_absolute() else (base_dir / path)


def _accounts(raw: Sequence[Mapping[str, Any]], base_dir: Path, path: Path) -> tuple[AccountConfig, ...]:
    accounts = []
    seen_names: dict[str, int] = {}
    seen_ids: dict[str, int] = {}
    for index, item in enumerate(raw):
        where = f"{path}: accounts[{index}]"
        account_id = _account_id(item["id"], f"{where}.id")
        name = str(item["name"])
        if name in seen_names:
            raise ConfigError(f"{where}.name: '{name}' is already used by accounts[{seen_names[name]}].")
        if account_id in seen_ids:
            raise ConfigError(
                f"{where}.id: {account_id} is already used by accounts[{seen_ids[account_id]}]."
            )
        seen_names[name], seen_ids[account_id] = index, index
        iam = None
        if item.get("iam"):
            iam = _resolve(base_dir, item["iam"])
            if not iam.is_file():
                raise ConfigError(f"{where}.iam: the IAM snapshot {iam} does not exist.")
        iac = tuple(dict(entry) for entry in item.get("iac", ()))
        if iam is None and not iac:
            raise ConfigError(f"{where}: account '{name}' needs an 'iam' snapshot or an 'iac' source.")
        organization = (
            _organization(item["organization"], base_dir, where) if "organization" in item else None
        )
        accounts.append(AccountConfig(name=name, id=account_id, iam=iam, iac=iac, organization=organization))
    return tuple(accounts)


def _allowlist(raw: Sequence[Mapping[str, Any]], path: Path) -> tuple[AllowlistEntry, ...]:
    entries = []
    for index, item in enumerate(raw):
        where = f"{path}: allowlist[{index}]"
        if not str(item["reason"]).strip():
            raise ConfigError(f"{where}.reason: a reason is required for every allowlist entry.")
        expires = parse_date(item["expires"], f"{where}.expires") if "expires" in item else None
        entries.append(
            AllowlistEntry(
                index=index,
                principal=str(item["principal"]),
                reason=str(item["reason"]).strip(),
                rules=tuple(item.get("rules", ())),
                actions=tuple(item.get("actions", ())),
                expires=expires,
            )
        )
    return tuple(entries)


def load_config(path: Path | str) -> Config:
    """Read, validate and resolve a config file. Raises ConfigError with one sentence naming the key."""
    path = Path(path)
    document = _read_yaml(path)
    _validate(document, path)
    base_dir = path.resolve().parent

    usage = document.get("usage", {})
    source = usage.get("source") or (
        "athena" if "athena" in document and "usage" not in document else "local"
    )
    if source == "athena" and "athena" not in document:
        raise ConfigError(f"{path}: usage.source is 'athena' but the config has no 'athena' block.")
    local = usage.get("local", {})
    local_paths = tuple(_resolve(base_dir, p) for p in local.get("paths", ()))
    if source == "local" and not local_paths:
        raise ConfigError(
            f"{path}: usage.local.paths is required when usage.source is 'local' (the default)."
        )

    window = document.get("window", {})
    start = parse_date(window["start"], f"{path}: window.start") if "start" in window else None
    end = parse_date(window["end"], f"{path}: window.end") if "end" in window else None
    if start and end and start >= end:
        raise ConfigError(f"{path}: window.start {start} is not before window.end {end}.")
    if "lookback" in window and "start" in window:
        raise ConfigError(f"{path}: window has both 'start' and 'lookback'; give one.")
    lookback = int(window["lookback"][:-1]) if "lookback" in window else DEFAULT_LOOKBACK_DAYS

    return Config(
        path=path,
        base_dir=base_dir,
        accounts=_in_organization(_accounts(document["accounts"], base_dir, path), document),
        usage_source=source,
        local_paths=local_paths,
        skip_bad_files=bool(local.get("skip_bad_files", False)),
        skip_bad_records=bool(local.get("skip_bad_records", False)),
        max_skipped_share=float(local.get("max_skipped_share", 0.0)),
        cache=bool(local.get("cache", True)),
        data_events=frozenset(s.lower() for s in usage.get("data_events", ())),
        window_start=start,
        window_end=end,
        lookback_days=lookback,
        rule_overrides=dict(document.get("rules", {})),
        rule_files=tuple(_resolve(base_dir, p) for p in document.get("rule_files", ())),
        allowlist=_allowlist(document.get("allowlist", ()), path),
        athena=document.get("athena"),
        fail_on=document.get("fail_on"),
        raw=document,
        trail=_trail(usage, base_dir, path),
    )


def _in_organization(
    accounts: tuple[AccountConfig, ...], document: Mapping[str, Any]
) -> tuple[AccountConfig, ...]:
    """Each account's organisation id: its own `organization_id`, else the top-level one."""
    default = document.get("organization_id")
    raw = document["accounts"]
    return tuple(
        replace(account, organization_id=item.get("organization_id", default))
        for account, item in zip(accounts, raw, strict=True)
    )


def _trail(usage: Mapping[str, Any], base_dir: Path, path: Path) -> TrailScope | None:
    """The `usage.trail` block: regions, management events and the get-event-selectors output."""
    block = usage.get("trail")
    if block is None:
        return None
    data_events = frozenset(s.lower() for s in usage.get("data_events", ()))
    regions = frozenset(block["regions"]) if "regions" in block else None
    include_global = bool(block.get("include_global_service_events", True))
    if "trail_description" in block:
        if "regions" in block or "include_global_service_events" in block:
            raise ConfigError(
                f"{path}: usage.trail has 'trail_description' and 'regions' or "
                "'include_global_service_events'; the description already says which regions it covers."
            )
        shown = f"{path}: usage.trail.trail_description ({block['trail_description']})"
        described = load_trail_description(_resolve(base_dir, block["trail_description"]), shown)
        regions, include_global = described.regions, described.include_global_service_events
    if regions is None and not include_global:
        raise ConfigError(
            f"{path}: usage.trail.include_global_service_events is false without 'regions'; a multi-region "
            "trail always logs global service events, so list the regions of the single-region trail."
        )
    if "event_selectors" in block and "management_events" in block:
        raise ConfigError(
            f"{path}: usage.trail has both 'event_selectors' and 'management_events'; the selectors file "
            "already says which management events the trail logs."
        )
    if "event_selectors" in block:
        shown = f"{path}: usage.trail.event_selectors ({block['event_selectors']})"
        selectors = load_event_selectors(_resolve(base_dir, block["event_selectors"]), shown)
    else:
        management = block.get("management_events", {})
        selectors = management_selector(management.get("log", "All"), management.get("exclude_sources", ()))
    return TrailScope(selectors, regions, include_global, data_events)


def _midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=timezone.utc)


def resolve_window(
    config: Config, start: str | None = None, end: str | None = None, *, now: datetime | None = None
) -> Window:
    """The analysis window: CLI dates override the config; default is `lookback` days ending now."""
    now = now or datetime.now(timezone.utc)
    end_day = parse_date(end, "--end") if end else config.window_end
    start_day = parse_date(start, "--start") if start else config.window_start
    # Name where each bound came from: the option, the config key, or the default.
    start_from = (
        "--start" if start else (f"{config.path}: window.start" if start_day else "the default window start")
    )
    end_from = "--end" if end else (f"{config.path}: window.end" if end_day else "the window end (now)")
    window_end = _midnight(end_day) if end_day else now
    window_start = _midnight(start_day) if start_day else window_end - timedelta(days=config.lookback_days)
    if window_start > now:
        raise ConfigError(f"{start_from} {window_start:%Y-%m-%d} is in the future.")
    if window_end > now + timedelta(days=1):
        raise ConfigError(f"{end_from} {window_end:%Y-%m-%d} is in the future.")
    if window_start >= window_end:
        raise ConfigError(
            f"the window start {window_start:%Y-%m-%d} ({start_from}) is not before its end "
            f"{window_end:%Y-%m-%d} ({end_from})."
        )
    return Window(start=window_start, end=window_end)


def _organization(block: Mapping[str, Any], base_dir: Path, where: str) -> OrgSource:
    """`accounts[].organization`: a `tree` folder or a `levels` list (exactly one, unless the account is
    the management account, which no SCP or RCP binds)."""
    shown = f"{where}.organization"
    management = bool(block.get("management_account", False))
    if "tree" in block and "levels" in block:
        raise ConfigError(f"{shown}: has both 'tree' and 'levels'; give one.")
    if "tree" not in block and "levels" not in block and not management:
        raise ConfigError(
            f"{shown}: needs 'tree' (a folder per OU path) or 'levels' (the policy files per level), or "
            "management_account: true."
        )
    if "tree" in block:
        tree = _resolve(base_dir, block["tree"])
        if not tree.is_dir():
            raise ConfigError(f"{shown}.tree: the folder {tree} does not exist.")
        return OrgSource(shown=shown, management_account=management, tree=tree)
    levels = []
    for index, level in enumerate(block.get("levels", ())):
        files = {}
        for key in ("scps", "rcps"):
            files[key] = tuple(_resolve(base_dir, p) for p in level.get(key, ()))
            for path in files[key]:
                if not path.is_file():
                    raise ConfigError(
                        f"{shown}.levels[{index}].{key}: the policy file {path} does not exist."
                    )
        levels.append(LevelFiles(name=str(level["name"]), scps=files["scps"], rcps=files["rcps"]))
    return OrgSource(shown=shown, management_account=management, levels=tuple(levels))
