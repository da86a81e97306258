"""AWS managed policy documents shipped in data/aws_managed_policies.json.gz (see its generator)."""

from __future__ import annotations

import gzip
import json
from collections.abc import Mapping
from dataclasses import replace
from functools import cache
from typing import Any

from ctlint.errors import InputError
from ctlint.iac.documents import build_document
from ctlint.model import PolicyDocument
from ctlint.resources import data_path

FILENAME = "aws_managed_policies.json.gz"


@cache
def _payload() -> Mapping[str, Any]:
    path = data_path(FILENAME)
    try:
        with gzip.open(path, "rt", encoding="utf-8") as handle:
            payload = json.load(handle)
    except (OSError, ValueError) as exc:
        raise InputError(f"{path}: cannot read ctlint's AWS managed policy data ({exc}).") from None
    if payload.get("format") != 1 or not isinstance(payload.get("policies"), Mapping):
        raise InputError(f"{path}: unexpected format of ctlint's AWS managed policy data.")
    return payload


def data_version() -> str:
    """E.g. 'curated:curated-2026-11'; reports carry it next to the catalog version."""
    payload = _payload()
    return f"{payload['provenance']}:{payload['version']}"


@cache
def aws_managed_policy(arn: str) -> PolicyDocument | None:
    """The default version of an AWS managed policy, or None when the shipped data lacks it."""
    entry = _payload()["policies"].get(arn)
    if entry is None:
        return None
    located = build_document(
        entry["document"],
        name=arn,
        kind="managed",
        where=f"{FILENAME}: {arn}",
        path=FILENAME,
        line_at=lambda _path: 1,
    )
    # Locations inside the shipped data mean nothing to a user; the attachment line is used instead.
    statements = tuple(replace(s, location=None) for s in located.document.statements)
    return PolicyDocument(name=arn, kind="managed", statements=statements)
