"""The `athena:` block of the config: `AthenaSettings`, checked once when read."""

from __future__ import annotations

import difflib
import json
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

from ctlint.config import SCHEMA_PATH
from ctlint.errors import ConfigError
from ctlint.usage import athena_ddl as ddl

# The `athena:` block's keys, types and defaults live in the config schema, and only there: the
# settings below take their key list and defaults from it. A key's setting is the field of the same
# name, or the one its "x-ctlint-setting" names (CloudTracker's output_s3_bucket is output_location;
# query_timeout, in seconds, is query_timeout_s). The canonical key wins over an alias.
SETTING_ANNOTATION = "x-ctlint-setting"
_SCHEMA_TYPES: dict[str, tuple[type, ...]] = {"string": (str,), "number": (int, float), "boolean": (bool,)}
_TYPE_WORDS = {"string": "a string", "number": "a number", "boolean": "true or false"}


def _athena_schema() -> Mapping[str, Any]:
    document = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    return document["properties"]["athena"]


_SCHEMA = _athena_schema()
PROPERTIES: Mapping[str, Mapping[str, Any]] = _SCHEMA["properties"]
REQUIRED: tuple[str, ...] = tuple(_SCHEMA.get("required", ()))
# Settings of the engine that are not config keys: tests and benchmarks set them, users do not.
INTERNAL_SETTINGS = frozenset({"poll_interval_s", "max_attempts"})


def setting_of(key: str) -> str:
    """The AthenaSettings field a config key sets."""
    return str(PROPERTIES[key].get(SETTING_ANNOTATION, key))


def schema_default(setting: str) -> Any:
    """A setting's default: the schema's, on the key that sets it (None when the schema gives none)."""
    defaults = [
        spec["default"]
        for key, spec in PROPERTIES.items()
        if setting_of(key) == setting and "default" in spec
    ]
    return defaults[0] if defaults else None


def _type_names(spec: Mapping[str, Any]) -> list[str]:
    kinds = spec.get("type", [])
    return [kinds] if isinstance(kinds, str) else list(kinds)


def _check_type(key: str, value: object, where: str) -> None:
    kinds = [k for k in _type_names(PROPERTIES[key]) if k != "null"]
    ok = any(
        isinstance(value, _SCHEMA_TYPES[kind]) and not (kind == "number" and isinstance(value, bool))
        for kind in kinds
    )
    if not ok:
        wanted = " or ".join(_TYPE_WORDS[kind] for kind in kinds)
        raise ConfigError(f"{where}.{key} must be {wanted}, not {type(value).__name__}.")


def normalize_output_location(value: str, *, key: str) -> str:
    """`s3://bucket/prefix/` from `s3://bucket`, `bucket`, `bucket/prefix` (CloudTracker's forms)."""
    text = value.strip()
    rest = text[len("s3://") :] if text.startswith("s3://") else text
    bucket, _, prefix = rest.partition("/")
    bucket = ddl.normalize_bucket(bucket, key=key)
    prefix = ddl.normalize_prefix(prefix, key=key)
    return f"s3://{bucket}/" + (f"{prefix}/" if prefix else "")


@dataclass(frozen=True)
class AthenaSettings:
    s3_bucket: str
    path: str = schema_default("path")
    org_id: str | None = None
    region: str | None = None
    workgroup: str = schema_default("workgroup")
    output_location: str | None = None
    database: str = schema_default("database")
    table: str | None = None
    query_timeout_s: float = float(schema_default("query_timeout_s"))
    keep_results: bool = schema_default("keep_results")
    aggregate_location: str | None = None  # s3://bucket/prefix/ of the daily aggregate table
    aggregate_table: str | None = None  # default: <table>_daily
    poll_interval_s: float = 1.0
    max_attempts: int = 6  # API calls per request under throttling / 5xx, the first included

    def __post_init__(self) -> None:
        object.__setattr__(self, "s3_bucket", ddl.normalize_bucket(self.s3_bucket))
        object.__setattr__(self, "path", ddl.normalize_prefix(self.path or ""))
        if self.org_id is not None:
            ddl.check_org_id(self.org_id)
        if self.region is not None:
            ddl.check_region(self.region)
        if self.output_location is not None:
            object.__setattr__(
                self,
                "output_location",
                normalize_output_location(self.output_location, key="athena.output_location"),
            )
        ddl.check_identifier(self.database, key="athena.database")
        if self.table is not None:
            ddl.check_identifier(self.table, key="athena.table")
        if not self.workgroup or any(c in self.workgroup for c in "'\"`;\n") or len(self.workgroup) > 128:
            raise ConfigError(f"athena.workgroup {self.workgroup!r} is not a valid Athena workgroup name.")
        if not self.query_timeout_s > 0:
            raise ConfigError("athena.query_timeout must be a positive number of seconds.")
        if self.aggregate_location is not None:
            location = normalize_output_location(self.aggregate_location, key="athena.aggregate_location")
            object.__setattr__(self, "aggregate_location", location)
            # The aggregate command deletes objects under its day prefixes: never inside the trail's logs.
            if location.startswith(self.location.base) or self.location.base.startswith(
                location + "AWSLogs/"
            ):
                raise ConfigError(
                    f"athena.aggregate_location {location} lies in the trail's logs ({self.location.base}); "
                    "choose a prefix of its own."
                )
        if self.aggregate_table is not None:
            if self.aggregate_location is None:
                raise ConfigError("athena.aggregate_table needs athena.aggregate_location.")
            ddl.check_identifier(self.aggregate_table, key="athena.aggregate_table")

    @property
    def location(self) -> ddl.TrailLocation:
        return ddl.TrailLocation(self.s3_bucket, self.path, self.org_id)

    @property
    def table_name(self) -> str:
        return self.table or self.location.default_table_name()

    @property
    def qualified_table(self) -> str:
        return f"{self.database}.{self.table_name}"

    @property
    def aggregate_table_name(self) -> str | None:
        if self.aggregate_location is None:
            return None
        return self.aggregate_table or ddl.check_identifier(
            f"{self.table_name}_daily", key="athena.aggregate_table (derived from the table name)"
        )

    @classmethod
    def from_mapping(cls, block: Mapping[str, object], *, where: str) -> AthenaSettings:
        """Settings from a config's `athena:` block; `where` prefixes messages (e.g. 'ctlint.yaml: athena').

        Keys, types and defaults are the schema's; a key set to null (or an empty string where the
        schema has a default) takes the default.
        """
        if not isinstance(block, Mapping):
            raise ConfigError(f"{where} must be a mapping of settings.")
        values: dict[str, object] = {}
        for key, value in block.items():
            if key not in PROPERTIES:
                close = difflib.get_close_matches(str(key), list(PROPERTIES), n=1)
                hint = f"; did you mean {close[0]!r}?" if close else "."
                raise ConfigError(f"{where}: unknown key {key!r}{hint}")
            if value is None or (value == "" and "default" in PROPERTIES[key]):
                continue
            _check_type(key, value, where)
            setting = setting_of(key)
            if setting in values and (value == "" or (key != setting and values[setting] != "")):
                continue  # the canonical key wins over an alias; an empty value wins over nothing
            values[setting] = value
        for key in REQUIRED:
            if not values.get(setting_of(key)):
                why = PROPERTIES[key].get("description")
                raise ConfigError(f"{where}.{key} is required" + (f": {why}." if why else "."))
        if "query_timeout_s" in values:
            values["query_timeout_s"] = float(values["query_timeout_s"])  # type: ignore[arg-type]
        try:
            return cls(**values)  # type: ignore[arg-type]
        except ConfigError as error:
            raise ConfigError(f"{where}: {error}") from None


def config_settings() -> frozenset[str]:
    """The AthenaSettings fields a config file can set (every field but the internal ones)."""
    return frozenset(f.name for f in fields(AthenaSettings)) - INTERNAL_SETTINGS
