"""The local engine behind its answer cache: a rerun on unchanged logs without DuckDB, sqlglot or pyarrow.

`LocalEngine` (ctlint.usage.local) answers a question it was asked before on the same files from the
answer cache (ctlint.usage.answers), but importing it loads DuckDB, numpy, pyarrow and sqlglot, which
cost a warm run more than reading the answer. `AnsweredEngine` asks the answer cache first, with the
same file scan, key and checks; only a miss builds the `LocalEngine`, which reuses the scan, runs the
queries and records the answer as it always does. A hit and a miss return the same `RawUsage`: the
answer is the `LocalEngine`'s own, stored under a key of everything it depends on.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from ctlint.model import RawUsage, Window
from ctlint.progress import Progress
from ctlint.usage.answers import Answer, AnswerStore, answer_options, file_set_key
from ctlint.usage.files import ScannedFile, scan

if TYPE_CHECKING:
    from ctlint.usage.local import LocalEngine

CACHE_MIN_BYTES = 1 << 20  # below this, reading the logs is cheaper than any cache (the engine's too)


class AnsweredEngine:
    """A `UsageEngine` over local files: the answer cache, else a `LocalEngine` with these settings."""

    def __init__(
        self,
        paths: Sequence[Path],
        *,
        skip_bad_files: bool = False,
        max_skipped_share: float = 0.0,
        skip_bad_records: bool = False,
        cache: bool = True,
        identities: bool = True,  # False: RawUsage.identities is not read; an answer leaves it empty
        progress: Progress | None = None,
    ) -> None:
        self.paths = tuple(paths)
        self.skip_bad_files = skip_bad_files
        self.max_skipped_share = max_skipped_share
        self.skip_bad_records = skip_bad_records
        self.cache = cache
        self.identities = identities
        self.progress = progress
        self.engine: LocalEngine | None = None  # built on the first question the cache cannot answer
        self._scanned: tuple[ScannedFile, ...] | None = None
        self._hit: Answer | None = None  # the cached answer that replaced the engine

    # What the pipeline and commands read after `collect`: the engine's, or what the answer recorded of it.
    @property
    def records_skipped(self) -> int:
        return self.engine.records_skipped if self.engine else self._hit.records_skipped if self._hit else 0

    @property
    def records_loaded(self) -> int:
        return self.engine.records_loaded if self.engine else self._hit.records_loaded if self._hit else 0

    @property
    def skip_messages(self) -> tuple[str, ...]:
        return self.engine.skip_messages if self.engine else self._hit.skip_messages if self._hit else ()

    @property
    def skipped_files(self) -> tuple[str, ...]:
        return (
            self.engine.skipped_files if self.engine else self._hit.usage.skipped_files if self._hit else ()
        )

    @property
    def not_event_logs(self) -> dict[str, int]:
        if self.engine:
            return self.engine.not_event_logs
        return dict(self._hit.not_event_logs) if self._hit else {}

    @property
    def files(self) -> tuple[Path, ...]:
        return self.engine.files if self.engine else tuple(f.path for f in self._scanned or ())

    def collect(self, window: Window, accounts: Sequence[str] | None, *, resources: bool = False) -> RawUsage:
        if self.engine is None:
            usage = self._from_cache(window, accounts, resources)
            if usage is not None:
                return usage
        return self.local().collect(window, accounts, resources=resources)

    def close(self) -> None:
        if self.engine is not None:
            self.engine.close()

    def _from_cache(self, window: Window, accounts: Sequence[str] | None, resources: bool) -> RawUsage | None:
        """LocalEngine's answer lookup (`_answers`, `_answer`), without building the engine."""
        if not self.cache:
            return None
        scanned = self._scan()
        if any(f.error is not None for f in scanned) or sum(f.size for f in scanned) < CACHE_MIN_BYTES:
            return None  # the engine names unreadable files; small inputs are never cached
        store = AnswerStore(None, [str(Path(p)) for p in self.paths])
        file_set = file_set_key((f.key, f.size, f.mtime_ns) for f in scanned)
        options = answer_options(
            self.skip_bad_files, self.max_skipped_share, self.skip_bad_records, resources=resources
        )
        hit = store.answer(file_set, window, accounts, options, identities=self.identities)
        if hit is None:
            return None
        self._hit = hit
        return hit.usage

    def _scan(self) -> tuple[ScannedFile, ...]:
        if self._scanned is None:
            self._scanned = scan(self.paths)
        return self._scanned

    def local(self) -> LocalEngine:
        """The LocalEngine with these settings (built on first use; `collect` builds it on a cache miss)."""
        if self.engine is None:
            from ctlint.usage.local import LocalEngine  # DuckDB, numpy, pyarrow and sqlglot load here

            self.engine = LocalEngine(
                list(self.paths),
                skip_bad_files=self.skip_bad_files,
                skip_bad_records=self.skip_bad_records,
                max_skipped_share=self.max_skipped_share,
                cache=self.cache,
                cache_min_bytes=CACHE_MIN_BYTES,
                progress=self.progress,
                scanned=self._scanned,
            )
        return self.engine
