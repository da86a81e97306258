"""Resource rows -> per (principal, IAM action) resource sets, bounded. Pure: no I/O.

A principal can touch millions of S3 objects in a window; a suggested policy cannot list them. Per
(principal, action) at most `limit` entries are kept. Beyond that, ARNs are collapsed to their longest
common prefix plus `*`, first within the narrowest scope (the same bucket for objects; the same account,
region and resource type otherwise), and only when that still leaves too many, within a wider one
(all buckets; the account and region; the service). A pattern therefore never spans two accounts or
regions while a narrower collapse fits the bound, and is never broader than the prefix the records
share. Derived ARNs never contain `*` (ctlint.usage.resource_arns refuses wildcards), so a trailing `*`
always means "collapsed".
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping
from types import MappingProxyType
from typing import Any

from ctlint.arnmatch import fits_format

RESOURCE_LIMIT = 64  # distinct resources kept per (principal, action)
COLLAPSED = "*"


def _service_scope(arn: str) -> str:
    """`arn:partition:service:`."""
    parts = arn.split(":", 3)
    return ":".join(parts[:3]) + ":" if len(parts) > 3 else arn


def _account_scope(arn: str) -> str:
    """`arn:partition:service:region:account:`; for S3 (no region or account) `arn:partition:s3:::`."""
    parts = arn.split(":", 5)
    return ":".join(parts[:5]) + ":" if len(parts) > 5 else arn


def _type_scope(arn: str) -> str:
    """The account scope plus the resource part up to its first separator: `table/`, `function:`,
    or, for an S3 object, its bucket (`arn:aws:s3:::bucket/`)."""
    head = _account_scope(arn)
    rest = arn[len(head) :]
    cut = min((i for i in (rest.find("/"), rest.find(":")) if i >= 0), default=-1)
    return head if cut < 0 else head + rest[: cut + 1]


SCOPES: tuple[Callable[[str], str], ...] = (_type_scope, _account_scope, _service_scope)


def _common_prefix(values: list[str]) -> str:
    return os.path.commonprefix(values)


def _collapse(arns: Iterable[str], scope: Callable[[str], str]) -> set[str]:
    groups: dict[str, list[str]] = {}
    for arn in arns:
        groups.setdefault(scope(arn), []).append(arn)
    out: set[str] = set()
    for members in groups.values():
        if len(members) == 1:
            out.add(members[0])
        else:
            prefix = _common_prefix(members).removesuffix(COLLAPSED)
            out.add(prefix + COLLAPSED)
    return out


def bounded(arns: Iterable[str], limit: int = RESOURCE_LIMIT) -> frozenset[str]:
    """At most `limit` entries standing for `arns` (ARNs, or collapsed `prefix*` patterns)."""
    current = set(arns)
    for scope in SCOPES:
        if len(current) <= limit:
            break
        current = _collapse(current, scope)
    return frozenset(current)


# A resource row standing for calls that named no ARN usable for some action of their event: that action's
# resources are then not known from usage at all (narrowing to the named ones would cut those calls off).
UNNAMED = "?"


def is_collapsed(entry: str) -> bool:
    """Whether a resource entry of `Usage.resources` stands for several ARNs."""
    return entry.endswith(COLLAPSED)


def bound_all(
    per_principal: Mapping[str, Mapping[str, Iterable[str]]], limit: int = RESOURCE_LIMIT
) -> Mapping[str, Mapping[str, frozenset[str]]]:
    """`bounded` for every (principal, action), as read-only mappings in sorted order."""
    return MappingProxyType(
        {
            arn: MappingProxyType(
                {action: bounded(values, limit) for action, values in sorted(actions.items())}
            )
            for arn, actions in sorted(per_principal.items())
        }
    )


def takes_resource(resource_types: Iterable[Any], arn: str) -> bool:
    """Whether `arn` is of one of `resource_types` (catalog ResourceType: name, arn_format); an action
    that takes only `*` (no types) takes no ARN."""
    partition = arn.split(":", 2)[1] if arn.count(":") >= 2 else "aws"
    return any(fits_format(rtype.arn_format, arn, partition) for rtype in resource_types)
