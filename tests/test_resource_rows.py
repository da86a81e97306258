"""The resource_usage groups -> ResourceUsageRow conversion both engines share (ctlint.usage.resource_rows)."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from ctlint.errors import EngineError
from ctlint.usage.resource_arns import MAX_PER_RECORD, PARAMETERS
from ctlint.usage.resource_rows import resource_rows

A = "111122223333"
ALICE = f"arn:aws:iam::{A}:user/alice"


def group(source: str, name: str, params: dict[str, str], arns=(), calls="2", first="2026-06-01T00:00:00Z"):
    values = [params.get(key) for key in PARAMETERS]
    resources = [*arns, *([None] * (MAX_PER_RECORD - len(arns)))]
    return (A, ALICE, source, name, "eu-west-1", *values, *resources, calls, first, "2026-06-02T00:00:00Z")


def test_groups_spelt_differently_by_the_engines_add_up() -> None:
    rows = resource_rows(
        [
            group("dynamodb.amazonaws.com", "GetItem", {"tableName": '"orders"'}, calls="2"),  # Athena: text
            group("dynamodb.amazonaws.com", "GetItem", {"tableName": '"\\u006frders"'}, calls=3),  # an escape
            group("dynamodb.amazonaws.com", "GetItem", {"tableName": "not json"}),  # ignored
            group("dynamodb.amazonaws.com", "GetItem", {"tableName": '["orders"]'}),  # not a string
        ]
    )
    june = datetime(2026, 6, 1, tzinfo=timezone.utc)
    # The two unreadable groups are calls that named no table: they count under UNNAMED ("?").
    assert [(r.resource, r.count, r.first_seen) for r in rows] == [
        ("?", 4, june),
        (f"arn:aws:dynamodb:eu-west-1:{A}:table/orders", 5, june),
    ]


def test_resources_field_values_and_a_wrong_shape() -> None:
    (row,) = resource_rows([group("s3.amazonaws.com", "GetObject", {}, arns=["arn:aws:s3:::b/k"])])
    assert row.resource == "arn:aws:s3:::b/k" and row.principal_arn == ALICE and row.count == 2
    with pytest.raises(EngineError, match="columns instead of"):
        resource_rows([group("s3.amazonaws.com", "GetObject", {})[:-1]])
