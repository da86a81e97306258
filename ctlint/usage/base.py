"""What every usage engine offers, and the row conversion they share.

An engine reads CloudTrail (local files through DuckDB, or Athena) and returns `RawUsage`: rows
aggregated per principal and event, role assumptions, session usage and counts. Both engines run the
same SQL text (`ctlint.usage.sql.usage_queries`) and convert its plain rows with `rows_to_raw_usage`,
so rules never know which engine ran.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

from ctlint.model import RawUsage, Window
from ctlint.usage.sql import Query, rows_to_raw_usage, usage_queries

__all__ = ["Query", "UsageEngine", "rows_to_raw_usage", "usage_queries"]


@runtime_checkable
class UsageEngine(Protocol):
    @property
    def records_skipped(self) -> int:
        """CloudTrail records dropped by the last `collect` (skip_bad_records); the pipeline warns of them."""
        ...

    def collect(self, window: Window, accounts: Sequence[str] | None, *, resources: bool = False) -> RawUsage:
        """Usage in `window` (start inclusive, end exclusive), limited to `accounts` when given.

        `resources=True` also returns `RawUsage.resources`: the resource ARNs each (principal, event) was
        used on. Off for `check`, which never pays for them; `suggest` and `fix` ask for them.

        Raises InputError for unreadable input and EngineError when the engine fails; never returns
        partial results.
        """
        ...
