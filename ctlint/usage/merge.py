"""Merge the usage of disjoint pieces of a window into the usage of the whole window. Pure.

Every part of RawUsage is mergeable: per key the counts add up, first_seen is the earliest and
last_seen the latest; events per account and event statistics add up. The pieces must not overlap
(the Athena engine's plan guarantees it) and each piece's assume_role count must cover only its own
time (all pieces but the first count from their start; see ctlint.usage.sql.usage_queries).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import replace
from typing import TypeVar

from ctlint.model import (
    AssumeRoleRow,
    EventStats,
    IdentityUsageRow,
    RawUsage,
    SessionUsageRow,
    UsageRow,
    Window,
)

Row = TypeVar("Row", UsageRow, AssumeRoleRow, SessionUsageRow, IdentityUsageRow)


def _merge_rows(
    rows: Iterable[Row], key: Callable[[Row], Hashable], order: Callable[[Row], tuple]
) -> tuple[Row, ...]:
    merged: dict[Hashable, Row] = {}
    for row in rows:
        k = key(row)
        seen = merged.get(k)
        if seen is None:
            merged[k] = row
        else:
            merged[k] = replace(
                seen,
                count=seen.count + row.count,
                first_seen=min(seen.first_seen, row.first_seen),
                last_seen=max(seen.last_seen, row.last_seen),
            )
    # The same order rows_to_raw_usage gives a single piece, so merged and single results compare equal.
    return tuple(sorted(merged.values(), key=order))


def merge_usage(window: Window, parts: Sequence[RawUsage], *, engine: str) -> RawUsage:
    """One RawUsage for `window` from the RawUsage of its disjoint pieces."""
    rows = _merge_rows(
        (row for part in parts for row in part.rows),
        key=lambda r: (r.account_id, r.principal_arn, r.principal_type, r.event_source, r.event_name),
        order=lambda r: (r.account_id, r.principal_arn, r.event_source, r.event_name),
    )
    assumptions = _merge_rows(
        (row for part in parts for row in part.assumptions),
        key=lambda r: (r.source_arn, r.role_arn, r.event_name, r.access_key_id),
        order=lambda r: (r.source_arn, r.role_arn, r.event_name, r.access_key_id or ""),
    )
    sessions = _merge_rows(
        (row for part in parts for row in part.sessions),
        key=lambda r: (r.source_arn, r.role_arn, r.account_id, r.event_source, r.event_name),
        order=lambda r: (r.source_arn, r.role_arn, r.account_id, r.event_source, r.event_name),
    )
    identities = _merge_rows(
        (row for part in parts for row in part.identities),
        key=lambda r: (r.role_arn, r.session, r.account_id, r.event_source, r.event_name),
        order=lambda r: (r.role_arn, r.session, r.account_id, r.event_source, r.event_name),
    )
    per_account: dict[str, int] = {}
    for part in parts:
        for account, count in part.events_per_account.items():
            per_account[account] = per_account.get(account, 0) + count
    stats = EventStats(
        read=sum(p.stats.read for p in parts),
        counted=sum(p.stats.counted for p in parts),
        errors=sum(p.stats.errors for p in parts),
    )
    return RawUsage(
        window=window,
        rows=rows,
        assumptions=assumptions,
        sessions=sessions,
        events_per_account=dict(sorted(per_account.items())),
        stats=stats,
        skipped_files=tuple(path for part in parts for path in part.skipped_files),
        engine=engine,
        identities=identities,
    )
