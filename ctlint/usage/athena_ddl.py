"""DDL for ctlint's Athena objects: one database, one CloudTrail table per trail location.

The table uses partition projection (account, region, day), so no partition is ever added by hand
and any window works; a filter on the partition columns makes Athena read only the days asked for.
DDL cannot take query parameters, so every value placed in it is validated against a strict
pattern first (account ids, regions, bucket, prefix, organisation id, identifiers).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache

from ctlint.errors import ConfigError
from ctlint.model import is_account_id

# The CloudTrail record shape of the AWS documentation's CloudTrail table (lower-case names, as
# Athena stores them). JSON objects whose shape varies per event stay strings.
COLUMNS: tuple[tuple[str, str], ...] = (
    ("eventversion", "string"),
    (
        "useridentity",
        "struct<type:string,principalid:string,arn:string,accountid:string,invokedby:string,"
        "accesskeyid:string,username:string,onbehalfof:struct<userid:string,identitystorearn:string>,"
        "sessioncontext:struct<attributes:struct<mfaauthenticated:string,creationdate:string>,"
        "sessionissuer:struct<type:string,principalid:string,arn:string,accountid:string,username:string>,"
        "ec2roledelivery:string,webidfederationdata:struct<federatedprovider:string,"
        "attributes:map<string,string>>,sourceidentity:string>>",
    ),
    ("eventtime", "string"),
    ("eventsource", "string"),
    ("eventname", "string"),
    ("awsregion", "string"),
    ("sourceipaddress", "string"),
    ("useragent", "string"),
    ("errorcode", "string"),
    ("errormessage", "string"),
    ("requestparameters", "string"),
    ("responseelements", "string"),
    ("additionaleventdata", "string"),
    ("requestid", "string"),
    ("eventid", "string"),
    ("readonly", "string"),
    ("resources", "array<struct<arn:string,accountid:string,type:string>>"),
    ("eventtype", "string"),
    ("apiversion", "string"),
    ("managementevent", "boolean"),
    ("recipientaccountid", "string"),
    ("serviceeventdetails", "string"),
    ("sharedeventid", "string"),
    ("vpcendpointid", "string"),
    ("eventcategory", "string"),
)
# Partition columns, all projected; `timestamp` is the delivery day `yyyy/MM/dd` (a reserved word:
# backticks in DDL, double quotes in queries).
PARTITION_COLUMNS: tuple[tuple[str, str], ...] = (
    ("account", "string"),
    ("region", "string"),
    ("timestamp", "string"),
)
SERDE = "org.apache.hive.hcatalog.data.JsonSerDe"
INPUT_FORMAT = "com.amazon.emr.cloudtrail.CloudTrailInputFormat"
OUTPUT_FORMAT = "org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat"
CREATOR_PROPERTY = "ctlint.creator"  # marks the objects ctlint made, so teardown drops only those
PROJECTION_START = "2013/01/01"  # CloudTrail's first year

_IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]{0,127}$")
_REGION = re.compile(r"^[a-z]{2,5}(-[a-z]+)+-\d{1,2}$")
_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.\-]{1,61}[a-z0-9]$")
# Buckets made in us-east-1 before March 2018 may have upper case and underscores, up to 255 characters
# (CloudTracker's README uses `my_log_bucket`); the charset stays one that needs no quoting in a LOCATION.
_LEGACY_BUCKET = re.compile(r"^[A-Za-z0-9._\-]{3,255}\Z")
_PREFIX = re.compile(r"^[A-Za-z0-9._\-=+,@!*()]+(/[A-Za-z0-9._\-=+,@!*()]+)*$")
# AWS issues 10 to 32 characters after `o-`; shorter ones are accepted for CloudTracker's README example.
_ORG = re.compile(r"^o-[a-z0-9]{1,32}$")


def check_identifier(name: str, *, key: str) -> str:
    """A database or table name Athena takes unquoted: lower-case letters, digits, underscores."""
    if not isinstance(name, str) or not _IDENTIFIER.match(name):
        raise ConfigError(
            f"{key} {name!r} is not a valid Athena name: use lower-case letters, digits and underscores, "
            "starting with a letter or underscore."
        )
    return name


def check_account(account: str, *, key: str = "account id") -> str:
    if not is_account_id(account):
        raise ConfigError(f"{key} {account!r} is not a 12-digit AWS account id.")
    return account


def check_region(region: str, *, key: str = "athena.region") -> str:
    if not isinstance(region, str) or not _REGION.match(region):
        raise ConfigError(f"{key} {region!r} is not an AWS region name such as 'us-east-1'.")
    return region


def normalize_bucket(bucket: str, *, key: str = "athena.s3_bucket") -> str:
    """The bucket name; accepts `s3://name` and a trailing slash as CloudTracker users wrote it."""
    name = bucket.strip()
    if name.startswith("s3://"):
        name = name[len("s3://") :]
    name = name.rstrip("/")
    if not (_BUCKET.match(name) or _LEGACY_BUCKET.match(name)) or ".." in name:
        raise ConfigError(f"{key} {bucket!r} is not a valid S3 bucket name.")
    return name


def normalize_prefix(path: str, *, key: str = "athena.path") -> str:
    """The key prefix without leading or trailing slashes; '' when there is none (CloudTracker #85)."""
    stripped = path.strip().strip("/")
    if stripped and not _PREFIX.match(stripped):
        raise ConfigError(
            f"{key} {path!r} is not a usable S3 prefix: use letters, digits and . _ - = + , @ ! * ( ) "
            "separated by single slashes."
        )
    return stripped


def check_org_id(org_id: str, *, key: str = "athena.org_id") -> str:
    if not isinstance(org_id, str) or not _ORG.match(org_id):
        raise ConfigError(f"{key} {org_id!r} is not an AWS Organizations id such as 'o-a1b2c3d4e5'.")
    return org_id


@dataclass(frozen=True)
class TrailLocation:
    """Where one trail delivers: s3://bucket/<prefix/>AWSLogs/<o-org/>ACCOUNT/CloudTrail/REGION/Y/M/D/."""

    bucket: str
    prefix: str = ""
    org_id: str | None = None

    @property
    def base(self) -> str:
        """The table LOCATION: everything up to and including `AWSLogs/<o-org/>`."""
        parts = [self.bucket, *([self.prefix] if self.prefix else []), "AWSLogs"]
        if self.org_id:
            parts.append(self.org_id)
        return "s3://" + "/".join(parts) + "/"

    @property
    def template(self) -> str:
        """The projection's storage.location.template; never a double slash."""
        return self.base + "${account}/CloudTrail/${region}/${timestamp}"

    def default_table_name(self) -> str:
        """A readable, stable table name per location: the bucket plus a short hash of the location."""
        slug = re.sub(r"[^a-z0-9]+", "_", self.bucket.lower()).strip("_")[:40]
        digest = hashlib.sha256(self.base.encode()).hexdigest()[:8]
        return f"cloudtrail_{slug}_{digest}"


@cache
def _endpoint_partitions() -> tuple[tuple[str, str, tuple[str, ...]], ...]:
    """(partition id, region regex, regions) from botocore's endpoints data."""
    import botocore.loaders  # botocore comes with boto3; imported lazily to keep the CLI start fast

    data = botocore.loaders.Loader().load_data("endpoints")
    return tuple(
        (p["partition"], p.get("regionRegex", ""), tuple(sorted(p.get("regions", {}))))
        for p in data["partitions"]
    )


def partition_of(region: str) -> str:
    """The AWS partition ('aws', 'aws-cn', 'aws-us-gov', ...) a region belongs to."""
    for name, _regex, regions in _endpoint_partitions():
        if region in regions:
            return name
    for name, regex, _regions in _endpoint_partitions():
        if regex and re.match(regex, region):
            return name
    return "aws"


def regions_for(region: str) -> tuple[str, ...]:
    """Every region of the partition of `region`: a trail's bucket only ever holds its partition's regions.

    Taken from botocore's endpoints data, so a GovCloud or China table projects GovCloud or China
    regions. A region newer than the installed botocore is added by re-running setup after upgrading.
    """
    partition = partition_of(region)
    for name, _regex, regions in _endpoint_partitions():
        if name == partition:
            found = tuple(r for r in regions if _REGION.match(r))
            return tuple(sorted(set(found) | {region}))
    return (region,)


def table_properties(
    location: TrailLocation, accounts: Sequence[str], regions: Sequence[str]
) -> dict[str, str]:
    """The TBLPROPERTIES of the projected table (also compared by setup to decide whether to update)."""
    for account in accounts:
        check_account(account)
    for region in regions:
        check_region(region, key="region")
    if not accounts:
        raise ConfigError("athena: no account ids to project; list the accounts in the config.")
    return {
        "projection.enabled": "true",
        "projection.account.type": "enum",
        "projection.account.values": ",".join(sorted(set(accounts))),
        "projection.region.type": "enum",
        "projection.region.values": ",".join(sorted(set(regions))),
        "projection.timestamp.type": "date",
        "projection.timestamp.format": "yyyy/MM/dd",
        "projection.timestamp.range": f"{PROJECTION_START},NOW",
        "projection.timestamp.interval": "1",
        "projection.timestamp.interval.unit": "DAYS",
        "storage.location.template": location.template,
        "classification": "cloudtrail",
        CREATOR_PROPERTY: "ctlint",
    }


def _properties_sql(properties: dict[str, str]) -> str:
    # Keys and values were validated above; none can hold a quote.
    for key, value in properties.items():
        if "'" in key or "'" in value or "\\" in value:
            raise ConfigError(f"athena: table property {key!r} holds a quote or backslash.")
    return ",\n  ".join(f"'{key}'='{value}'" for key, value in properties.items())


def create_database_sql(database: str) -> str:
    check_identifier(database, key="athena.database")
    return (
        f"CREATE DATABASE IF NOT EXISTS `{database}`\n"
        "COMMENT 'CloudTrail tables of ctlint'\n"
        f"WITH DBPROPERTIES ('{CREATOR_PROPERTY}'='ctlint')"
    )


def create_table_sql(
    database: str, table: str, location: TrailLocation, accounts: Sequence[str], regions: Sequence[str]
) -> str:
    check_identifier(database, key="athena.database")
    check_identifier(table, key="athena.table")
    columns = ",\n  ".join(f"`{name}` {kind}" for name, kind in COLUMNS)
    partitions = ", ".join(f"`{name}` {kind}" for name, kind in PARTITION_COLUMNS)
    properties = _properties_sql(table_properties(location, accounts, regions))
    return (
        f"CREATE EXTERNAL TABLE IF NOT EXISTS `{database}`.`{table}` (\n  {columns}\n)\n"
        "COMMENT 'CloudTrail logs, partition projection by account, region and day (created by ctlint)'\n"
        f"PARTITIONED BY ({partitions})\n"
        f"ROW FORMAT SERDE '{SERDE}'\n"
        f"STORED AS INPUTFORMAT '{INPUT_FORMAT}'\n"
        f"OUTPUTFORMAT '{OUTPUT_FORMAT}'\n"
        f"LOCATION '{location.base}'\n"
        f"TBLPROPERTIES (\n  {properties}\n)"
    )


def alter_table_properties_sql(
    database: str, table: str, location: TrailLocation, accounts: Sequence[str], regions: Sequence[str]
) -> str:
    """Bring an existing table's projection up to date (new accounts, new regions, moved location)."""
    check_identifier(database, key="athena.database")
    check_identifier(table, key="athena.table")
    properties = _properties_sql(table_properties(location, accounts, regions))
    return f"ALTER TABLE `{database}`.`{table}` SET TBLPROPERTIES (\n  {properties}\n)"


def drop_table_sql(database: str, table: str) -> str:
    check_identifier(database, key="athena.database")
    check_identifier(table, key="athena.table")
    return f"DROP TABLE IF EXISTS `{database}`.`{table}`"


def drop_database_sql(database: str) -> str:
    # Never CASCADE: a database that still holds someone else's tables stays.
    check_identifier(database, key="athena.database")
    return f"DROP DATABASE IF EXISTS `{database}`"


# ---------------------------------------------------------------- the daily aggregate table

AGGREGATE_PROJECTION_START = "2013-01-01"


def aggregate_table_properties(location: str) -> dict[str, str]:
    """TBLPROPERTIES of the aggregate table: `day` projected as a date, one prefix per day.

    `location` is a normalised `s3://bucket/prefix/` (see AthenaSettings); markers live under its
    `_ctlint/` prefix, which no projected partition location includes.
    """
    return {
        "projection.enabled": "true",
        "projection.day.type": "date",
        "projection.day.format": "yyyy-MM-dd",
        "projection.day.range": f"{AGGREGATE_PROJECTION_START},NOW",
        "projection.day.interval": "1",
        "projection.day.interval.unit": "DAYS",
        "storage.location.template": location + "day=${day}/",
        "classification": "parquet",
        "parquet.compression": "SNAPPY",
        CREATOR_PROPERTY: "ctlint",
    }


def create_aggregate_table_sql(
    database: str, table: str, location: str, columns: Sequence[tuple[str, str]]
) -> str:
    check_identifier(database, key="athena.database")
    check_identifier(table, key="athena.aggregate_table")
    for name, kind in columns:
        check_identifier(name, key="aggregate column")
        if kind not in ("string", "bigint"):
            raise ConfigError(f"aggregate column {name} has an unexpected type {kind!r}.")
    body = ",\n  ".join(f"`{name}` {kind}" for name, kind in columns)
    properties = _properties_sql(aggregate_table_properties(location))
    return (
        f"CREATE EXTERNAL TABLE IF NOT EXISTS `{database}`.`{table}` (\n  {body}\n)\n"
        "COMMENT 'Daily usage aggregate of ctlint (one row per usage-query result row and day)'\n"
        "PARTITIONED BY (`day` string)\n"
        "STORED AS PARQUET\n"
        f"LOCATION '{location}'\n"
        f"TBLPROPERTIES (\n  {properties}\n)"
    )


def alter_aggregate_table_sql(database: str, table: str, location: str) -> str:
    check_identifier(database, key="athena.database")
    check_identifier(table, key="athena.aggregate_table")
    properties = _properties_sql(aggregate_table_properties(location))
    return f"ALTER TABLE `{database}`.`{table}` SET TBLPROPERTIES (\n  {properties}\n)"
