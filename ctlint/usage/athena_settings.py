"""The `athena:` block of the config: `AthenaSettings`, checked once when read."""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass

from ctlint.errors import ConfigError
from ctlint.usage import athena_ddl as ddl

# Config keys of the `athena:` block, CloudTracker's included (output_s3_bucket).
_KEYS = (
    "s3_bucket",
    "path",
    "org_id",
    "region",
    "workgroup",
    "output_location",
    "output_s3_bucket",
    "database",
    "table",
    "query_timeout",
    "query_timeout_s",
    "keep_results",
    "aggregate_location",
    "aggregate_table",
)


def _text(block: Mapping[str, object], key: str, where: str) -> str | None:
    value = block.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise ConfigError(f"{where}.{key} must be a string, not {type(value).__name__}.")
    return value


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
    path: str = ""
    org_id: str | None = None
    region: str | None = None
    workgroup: str = "primary"
    output_location: str | None = None
    database: str = "ctlint"
    table: str | None = None
    query_timeout_s: float = 600.0
    keep_results: bool = False
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
        """Settings from a config's `athena:` block; `where` prefixes messages (e.g. 'ctlint.yaml: athena')."""
        if not isinstance(block, Mapping):
            raise ConfigError(f"{where} must be a mapping of settings.")
        for key in block:
            if key not in _KEYS:
                close = difflib.get_close_matches(str(key), _KEYS, n=1)
                hint = f"; did you mean {close[0]!r}?" if close else "."
                raise ConfigError(f"{where}: unknown key {key!r}{hint}")
        bucket = _text(block, "s3_bucket", where)
        if not bucket:
            raise ConfigError(f"{where}.s3_bucket is required: the bucket CloudTrail delivers to.")
        output = _text(block, "output_location", where) or _text(block, "output_s3_bucket", where)
        timeout = block.get("query_timeout_s", block.get("query_timeout"))
        if timeout is not None and (isinstance(timeout, bool) or not isinstance(timeout, (int, float))):
            raise ConfigError(f"{where}.query_timeout must be a number of seconds.")
        keep = block.get("keep_results")
        if keep is not None and not isinstance(keep, bool):
            raise ConfigError(f"{where}.keep_results must be true or false.")
        try:
            return cls(
                s3_bucket=bucket,
                path=_text(block, "path", where) or "",
                org_id=_text(block, "org_id", where),
                region=_text(block, "region", where),
                workgroup=_text(block, "workgroup", where) or "primary",
                output_location=output,
                database=_text(block, "database", where) or "ctlint",
                table=_text(block, "table", where),
                query_timeout_s=float(timeout) if timeout is not None else 600.0,
                keep_results=bool(keep),
                aggregate_location=_text(block, "aggregate_location", where),
                aggregate_table=_text(block, "aggregate_table", where),
            )
        except ConfigError as error:
            raise ConfigError(f"{where}: {error}") from None
