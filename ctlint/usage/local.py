"""The embedded engine: CloudTrail files → compact rows (worker processes) → DuckDB → the shared SQL.

Reading (once per engine, reused by every `collect`):
1. `files.discover` finds the files; each is keyed by (absolute path, size, mtime_ns).
2. Files not in the cache (`ctlint.usage.cache`) are read by `ctlint.usage.reader` in worker processes
   (one per core; ISA-L inflate, orjson, only the fields the SQL reads): each file becomes a few rows
   that each stand for `ct_weight` equal events (see the reader), plus its unreadable-record count and
   first problem, and the identity keys of its eventIDs. Small inputs are read in-process.
3. Fail closed as before: an unreadable file, or a file with an unreadable record (no eventSource,
   eventName or readable eventTime), stops the run with one sentence naming it, unless skip_bad_files
   (up to max_skipped_share of the files) or skip_bad_records says otherwise.
4. Per `collect(window)`: the table `cloudtrail` in Athena's shape (lower-case columns, partitions
   `account`, `region` (NULL: not read by the SQL), `"timestamp"`) holds the weighted rows, except for
   files that must be seen event by event, which are read again one row per event with their eventIDs:
   files sharing an eventID with another file or within themselves (duplicate deliveries; the SQL's
   dedupe decides) and files with a row whose first and last event lie on both sides of the window start
   or end. The usage SQL runs after the mechanical weight rewrite of `ctlint.usage.weighted`; with
   `exact=True` every file is read one row per event and the SQL runs unchanged (the reference the tests
   compare against).
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import duckdb
import numpy as np

from ctlint.errors import EngineError, InputError
from ctlint.model import RawUsage, ResourceUsageRow, Window
from ctlint.progress import Progress
from ctlint.usage import cache as cache_mod
from ctlint.usage import filekind
from ctlint.usage.answers import Answer, AnswerStore, answer_key, answer_options, file_set_key
from ctlint.usage.columnar import ReadBatch, read_batch_columnar
from ctlint.usage.files import ScannedFile, scan
from ctlint.usage.reader import ROW_COLUMNS
from ctlint.usage.resource_reader import RESOURCE_COLUMNS, read_resource_batch
from ctlint.usage.resource_rows import resource_rows
from ctlint.usage.sql import iso, resource_query, rows_to_raw_usage, to_duckdb, usage_queries
from ctlint.usage.weighted import weighted, without_dedupe

TABLE = "cloudtrail"
PARALLEL_MIN_BYTES = 4 << 20  # below this, worker start-up costs more than it saves
CACHE_MIN_BYTES = 1 << 20  # below this, reading the logs is cheaper than opening a cache
MEMORY_LIMIT = "400MB"  # DuckDB's; it spills beyond it (and the engine lifts it where it cannot)

ROWS_DDL = "file_id INTEGER, " + ", ".join(
    f"{c} BIGINT" if c == "ct_weight" else f"{c} VARCHAR" for c in ROW_COLUMNS
)


RESOURCE_TABLE = "cloudtrail_resources"
RESOURCE_ROWS_DDL = "file_id INTEGER, " + ", ".join(
    f"{c} BIGINT"
    if c == "ct_weight"
    else f"{c} STRUCT(arn VARCHAR)[]"
    if c == "resources"
    else f"{c} VARCHAR"
    for c in RESOURCE_COLUMNS
)


def _one_line(error: Exception) -> str:
    return " ".join(str(error).split())


@dataclass
class FileInfo:
    """What is known about one file after reading (or from the cache)."""

    file_id: int
    path: str  # as discovered (for messages)
    key: str  # absolute path (the cache key with size and mtime_ns)
    size: int
    mtime_ns: int
    error: str | None = None
    bad: int = 0
    problem: str | None = None
    records: int = 0
    time_min: str | None = None
    time_max: str | None = None
    kind: str = filekind.EVENTS


def _count_kinds(infos: Sequence[FileInfo]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for info in infos:
        if info.kind != filekind.EVENTS:
            counts[info.kind] = counts.get(info.kind, 0) + 1
    return counts


def _append(con: duckdb.DuckDBPyConnection, table: str, batch: Any) -> None:
    """Append a worker's Arrow rows to `table` (rows or raw_rows), in one statement."""
    if batch.rows.num_rows:
        con.register("ct_batch", batch.rows)
        try:
            con.execute(f"INSERT INTO {table} SELECT * FROM ct_batch")
        finally:
            con.unregister("ct_batch")


def _chunked(cursor: duckdb.DuckDBPyConnection, name: str, size: int = 65_536) -> Iterator[tuple]:
    """A query's rows, fetched a chunk at a time."""
    while True:
        try:
            chunk = cursor.fetchmany(size)
        except duckdb.OutOfMemoryException:
            raise
        except duckdb.Error as error:
            raise EngineError(
                f"reading the result of the local usage query {name} failed: {_one_line(error)}"
            ) from error
        if not chunk:
            return
        yield from chunk


class LocalEngine:
    """Runs the shared usage SQL on CloudTrail files through DuckDB."""

    def __init__(
        self,
        paths: Sequence[Path],
        *,
        skip_bad_files: bool = False,
        max_skipped_share: float = 0.0,
        progress: bool | Progress | None = None,
        skip_bad_records: bool = False,
        cache: bool = True,
        cache_dir: Path | None = None,
        cache_min_bytes: int = CACHE_MIN_BYTES,
        workers: int | None = None,
        exact: bool = False,
        answers: bool = True,
        scanned: Sequence[ScannedFile] | None = None,  # `files.scan(paths)` if the caller has it already
    ) -> None:
        self.paths = tuple(paths)
        self._prescanned = scanned
        self.skip_bad_files = skip_bad_files
        self.max_skipped_share = max_skipped_share
        # None: live on a terminal, periodic lines elsewhere; True/False: always/never; or the run's reporter.
        self.reporter = (
            progress
            if isinstance(progress, Progress)
            else Progress({None: "auto", True: "always", False: "never"}[progress])
        )
        self.progress = self.reporter.enabled
        self.skip_bad_records = skip_bad_records  # drop single bad records instead of the file
        self.cache = cache
        self.cache_dir = cache_dir
        self.cache_min_bytes = cache_min_bytes
        self.workers = workers or os.cpu_count() or 1
        self.exact = exact
        self.use_answers = answers  # the answer cache (ctlint.usage.answers) in front of the file cache
        self.files: tuple[Path, ...] = ()
        self.skipped_files: tuple[str, ...] = ()
        self.records_loaded = 0  # records counted in the table (every file, every time)
        self.records_skipped = 0  # bad records dropped under skip_bad_records
        self.skip_messages: tuple[str, ...] = ()  # one sentence per skipped file
        self.not_event_logs: dict[
            str, int
        ] = {}  # digest/Insights files passed over, per kind (never an error)
        self.stats: dict[str, float] = {}  # what the last run did: files read/cached/raw, seconds
        self._con: duckdb.DuckDBPyConnection | None = None
        self._infos: list[FileInfo] = []
        self._good: list[int] = []
        self._dups: set[int] = set()
        self._spill: tempfile.TemporaryDirectory | None = None
        self._scanned: list[FileInfo] | None = None
        self._raw_ids: set[int] = set()  # files the last window reads one row per event

    # ------------------------------------------------------------ public

    def collect(self, window: Window, accounts: Sequence[str] | None, *, resources: bool = False) -> RawUsage:
        answers = self._answers() if self._con is None else None
        options = answer_options(
            self.skip_bad_files, self.max_skipped_share, self.skip_bad_records, resources=resources
        )
        stored = self._answer(answers, window, accounts, options)
        if stored is not None:
            return stored
        con = self._load()
        try:
            with self.reporter.stage("querying the usage"):
                usage = self._collect(con, window, accounts)
                if resources:
                    usage = replace(usage, resources=self._collect_resources(con, window, accounts))
        except duckdb.OutOfMemoryException:
            # What cannot spill within the limit may still fit in the machine: a fresh database without
            # it (not the same one: a statement that failed half-way can leave its cursors' state behind).
            self.close()
            self._con = con = self._load_once(limited=False)
            usage = self._collect(con, window, accounts)
            if resources:
                usage = replace(usage, resources=self._collect_resources(con, window, accounts))
        if answers is not None:
            store, file_set = answers
            bounds = self._bounds()
            store.save(
                file_set,
                bounds,
                answer_key(window, bounds, accounts, options),
                Answer(
                    usage,
                    self.skip_messages,
                    self.records_loaded,
                    self.records_skipped,
                    tuple(sorted(self.not_event_logs.items())),
                ),
            )
        return usage

    def _answer(
        self,
        answers: tuple[AnswerStore, str] | None,
        window: Window,
        accounts: Sequence[str] | None,
        options: tuple[object, ...],
    ) -> RawUsage | None:
        """The stored answer to this question on these files, if any (see ctlint.usage.answers)."""
        if answers is None:
            return None
        store, file_set = answers
        hit = store.answer(file_set, window, accounts, options)
        if hit is None:
            return None
        infos = self._scan()
        self.skipped_files = hit.usage.skipped_files
        self.skip_messages, self.records_loaded, self.records_skipped = (
            hit.skip_messages,
            hit.records_loaded,
            hit.records_skipped,
        )
        self.not_event_logs = dict(hit.not_event_logs)
        self.stats = {
            "files": len(infos),
            "cached": len(infos),
            "read": 0,
            "bytes": self._total_bytes(),
            "answered": 1,
        }
        return hit.usage

    def _collect(
        self, con: duckdb.DuckDBPyConnection, window: Window, accounts: Sequence[str] | None
    ) -> RawUsage:
        self._prepare(con, window)
        # One cursor per query, read in chunks while the result rows are built: a result then lives once in
        # Python, not twice (fetched tuples and rows; 3.3 M rows at 20M events).
        results: dict[str, Iterator[tuple]] = {}
        cursors = []
        try:
            for query in usage_queries(TABLE, window, accounts):
                text = query.text if self.exact else weighted(query.text, TABLE)
                if not self.exact and not self._dups:
                    text = without_dedupe(text)  # no file shares an eventID: nothing to dedupe
                cursor = con.cursor()
                cursors.append(cursor)
                try:
                    cursor.execute(to_duckdb(text), list(query.params))
                except duckdb.OutOfMemoryException:
                    raise
                except duckdb.Error as error:
                    raise EngineError(
                        f"the local usage query {query.name} failed: {_one_line(error)}"
                    ) from error
                results[query.name] = _chunked(cursor, query.name)
            return rows_to_raw_usage(window, results, engine="local", skipped_files=self.skipped_files)
        finally:
            for cursor in cursors:
                cursor.close()

    def close(self) -> None:
        if self._con is not None:
            self._con.close()
            self._con = None
        if self._spill is not None:
            self._spill.cleanup()
            self._spill = None

    # ------------------------------------------------------------ reading

    def _read(
        self,
        items: list[tuple[int, tuple[str, int, int, str]]],
        label: str,
        consume: Callable[[Any], None],
        read_batch: Callable[[Any], Any] = read_batch_columnar,
    ) -> None:
        """Read files (file_id, (path, size, mtime_ns, mode)), in worker processes when worth it.

        Results go to `consume` batch by batch as they arrive, their rows as one Arrow table
        (ctlint.usage.columnar): the parent never holds a Python row, and hands DuckDB whole columns.
        """
        total = sum(item[1] for _, item in items)
        began = time.monotonic()
        self.reporter.start()
        try:
            self._read_all(items, label, consume, total, began, read_batch)
        finally:
            self.reporter.clear()

    def _read_all(
        self,
        items: list[tuple[int, tuple[str, int, int, str]]],
        label: str,
        consume: Callable[[Any], None],
        total: int,
        began: float,
        read_batch: Callable[[Any], Any] = read_batch_columnar,
    ) -> None:
        if self.workers < 2 or total < PARALLEL_MIN_BYTES or len(items) < 4:
            events = 0
            for start in range(0, len(items), 64):
                part = read_batch(items[start : start + 64])
                consume(part)
                events += sum(r.records for r in part.results)
                if self.progress:
                    self._report(label, min(start + 64, len(items)), len(items), events, began)
            return
        target = max(total // (self.workers * 24), 1 << 20)
        batches: list[list[tuple[int, tuple[str, int, int, str]]]] = [[]]
        size = 0
        for item in items:
            if size >= target:
                batches.append([])
                size = 0
            batches[-1].append(item)
            size += item[1][1]
        done_files = done_events = 0
        context = None
        if sys.platform.startswith("linux"):
            import multiprocessing

            context = multiprocessing.get_context("fork")
        with ProcessPoolExecutor(self.workers, mp_context=context) as pool:
            futures = {pool.submit(read_batch, batch) for batch in batches}
            try:
                for future in as_completed(futures):
                    futures.discard(future)  # dropped: a kept future would keep its rows alive
                    part = future.result()
                    del future
                    consume(part)
                    done_files += len(part.results)
                    done_events += sum(r.records for r in part.results)
                    del part
                    if self.progress:
                        self._report(label, done_files, len(items), done_events, began)
            except BaseException:
                for pending in futures:
                    pending.cancel()
                raise

    def _report(self, label: str, files: int, total: int, events: int, began: float) -> None:
        spent = max(time.monotonic() - began, 1e-6)
        self.reporter.update(
            f"{label} {files}/{total} files, {events:,} events, {events / spent:,.0f} events/s",
            force=files == total,
        )

    def _load(self) -> duckdb.DuckDBPyConnection:
        if self._con is None:
            try:
                self._con = self._load_once(limited=True)
            except duckdb.OutOfMemoryException:  # what cannot spill within the limit may fit in the machine
                self.close()
                self._con = self._load_once(limited=False)
        return self._con

    def _load_once(self, *, limited: bool) -> duckdb.DuckDBPyConnection:
        began = time.monotonic()
        self.records_skipped = 0
        infos = self._scan()
        total_bytes = self._total_bytes()
        use_cache = self._use_cache()
        con = duckdb.connect(":memory:")
        con.execute("SET TimeZone='UTC'")
        # Bounded memory from the first row on: beyond the limit DuckDB keeps table data and query state in a
        # private spill folder (20M events: a 1.9 GB table spilled, peak 5.9 GB -> 4.1 GB).
        self._spill = tempfile.TemporaryDirectory(prefix="ctlint-duckdb-")
        con.execute(f"SET temp_directory='{self._spill.name.replace(chr(39), chr(39) * 2)}'")
        if limited:
            con.execute(f"SET memory_limit='{MEMORY_LIMIT}'")
        con.execute(f"CREATE TABLE rows ({ROWS_DDL})")
        con.execute("CREATE TABLE ids (file_id INTEGER, h UBIGINT)")
        store = cache_mod.Cache(self.cache_dir, [str(Path(p)) for p in self.paths]) if use_cache else None
        hits = store.load(con, infos) if store is not None else set()
        todo = [info for info in infos if info.file_id not in hits and info.error is None]
        mode = "raw" if self.exact else "aggregate"
        self._read(
            [(info.file_id, (info.key, info.size, info.mtime_ns, mode)) for info in todo],
            "reading",
            lambda batch: self._insert(con, infos, batch),
        )
        self.stats = {"files": len(infos), "cached": len(hits), "read": len(todo), "bytes": total_bytes}
        if store is not None and (todo or store.dirty):
            store.save(con, infos)
        self._infos = infos
        self._validate(con, infos)
        self.records_loaded = sum(infos[i].records for i in self._good)
        self._find_duplicates(con)
        self.stats["load_s"] = time.monotonic() - began
        self._con = con
        return con

    def _scan(self) -> list[FileInfo]:
        """The files and their (absolute path, size, mtime_ns), once per engine."""
        if self._scanned is None:
            found = self._prescanned if self._prescanned is not None else scan(self.paths)
            self.files = tuple(f.path for f in found)
            self._scanned = [
                FileInfo(i, str(f.path), f.key, f.size, f.mtime_ns, error=f.error)
                for i, f in enumerate(found)
            ]
        return self._scanned

    def _use_cache(self) -> bool:
        return self.cache and not self.exact and self._total_bytes() >= self.cache_min_bytes

    def _total_bytes(self) -> int:
        return sum(max(info.size, 0) for info in self._scan())  # unreadable files count as 0

    def _answers(self) -> tuple[AnswerStore, str] | None:
        """The answer store and this run's file set, when answers may be used."""
        infos = self._scan()
        if not self.use_answers or not self._use_cache() or any(info.error is not None for info in infos):
            return None
        store = AnswerStore(self.cache_dir, [str(Path(p)) for p in self.paths])
        return store, file_set_key((info.key, info.size, info.mtime_ns) for info in infos)

    def _bounds(self) -> tuple[str | None, str | None]:
        """The first and last event time in the files."""
        firsts = [i.time_min for i in self._infos if i.time_min is not None]
        lasts = [i.time_max for i in self._infos if i.time_max is not None]
        return (min(firsts) if firsts else None, max(lasts) if lasts else None)

    def _insert(self, con: duckdb.DuckDBPyConnection, infos: list[FileInfo], batch: ReadBatch) -> None:
        ids: list[np.ndarray] = []
        id_files: list[np.ndarray] = []
        for file_id, result in zip(batch.file_ids, batch.results, strict=True):
            info = infos[file_id]
            info.error, info.bad, info.problem, info.records = (
                result.error,
                result.bad,
                result.problem,
                result.records,
            )
            info.time_min, info.time_max, info.kind = result.time_min, result.time_max, result.kind
            file_keys = np.frombuffer(result.ids, dtype=np.uint64)
            ids.append(file_keys)
            id_files.append(np.full(len(file_keys), file_id, dtype=np.int32))
        _append(con, "rows", batch)
        if ids:
            keys = {"file_id": np.concatenate(id_files), "h": np.concatenate(ids)}  # noqa: F841
            con.execute("INSERT INTO ids SELECT * FROM keys")

    def _validate(self, con: duckdb.DuckDBPyConnection, infos: list[FileInfo]) -> None:
        bad: dict[str, str] = {}
        self.not_event_logs = _count_kinds(infos)
        for info in infos:
            if info.error is not None:
                bad[info.path] = f"CloudTrail file {info.path} {info.error}"
            elif info.bad:
                if self.skip_bad_records:
                    self.records_skipped += info.bad
                else:
                    problem = (info.problem or "").rstrip(".")
                    bad[info.path] = (
                        f"CloudTrail file {info.path}: {problem}; --skip-bad-records (skip_bad_records: true) "
                        "drops such records and reads the rest."
                    )
        if self.not_event_logs and sum(self.not_event_logs.values()) == len(infos):
            listed = ", ".join(str(p) for p in self.paths)
            note = filekind.not_event_logs_note(self.not_event_logs)
            raise InputError(f"no CloudTrail event logs found under {listed}; {note}")
        if bad:
            first = bad[min(bad)]
            if not self.skip_bad_files:
                raise InputError(first)
            share = len(bad) / len(infos)
            if share > self.max_skipped_share:
                raise InputError(
                    f"{len(bad)} of {len(infos)} CloudTrail files are unreadable ({share:.0%}, more than the allowed "
                    f"{self.max_skipped_share:.0%}); the first: {first}"
                )
            self.skipped_files = tuple(sorted(bad))
            self.skip_messages = tuple(bad[name] for name in sorted(bad))
        self._good = [info.file_id for info in infos if info.path not in bad]

    def _find_duplicates(self, con: duckdb.DuckDBPyConnection) -> None:
        """Files sharing an eventID key with another file or within themselves."""
        good = {"file_id": np.array(self._good, dtype=np.int32)}  # noqa: F841
        con.execute("CREATE OR REPLACE TABLE good AS SELECT * FROM good")
        if self.exact:
            return
        found = con.execute(
            """WITH k AS (SELECT i.file_id, i.h FROM ids i SEMI JOIN good g ON i.file_id = g.file_id),
                    d AS (SELECT h FROM k GROUP BY h HAVING count(*) > 1)
               SELECT DISTINCT k.file_id FROM k SEMI JOIN d ON k.h = d.h"""
        ).fetchall()
        self._dups = {f for (f,) in found}

    # ------------------------------------------------------------ per window

    def _prepare(self, con: duckdb.DuckDBPyConnection, window: Window) -> None:
        """The `cloudtrail` table for this window: weighted rows, and raw rows where needed."""
        if self.exact:
            raw_ids = set(self._good)
        else:
            bounds = [iso(window.start), iso(window.end)]
            straddle = con.execute(
                """SELECT DISTINCT r.file_id FROM rows r SEMI JOIN good g ON r.file_id = g.file_id
                   WHERE r.ct_weight > 1 AND ((r.eventtime < ? AND r.ct_eventtime_last >= ?)
                                           OR (r.eventtime < ? AND r.ct_eventtime_last >= ?))""",
                [bounds[0], bounds[0], bounds[1], bounds[1]],
            ).fetchall()
            raw_ids = self._dups | {f for (f,) in straddle}
        con.execute(f"CREATE OR REPLACE TABLE raw_rows ({ROWS_DDL})")
        if raw_ids and not self.exact:
            todo = [self._infos[i] for i in sorted(raw_ids)]
            self._read(
                [(i.file_id, (i.key, i.size, i.mtime_ns, "raw")) for i in todo],
                "re-reading",
                lambda batch: _append(con, "raw_rows", batch),
            )
        self.stats["raw_files"] = len(raw_ids)
        self._raw_ids = raw_ids
        source = "rows" if self.exact else "raw_rows"
        keep = {"file_id": np.array(sorted(raw_ids), dtype=np.int32)}  # noqa: F841
        con.execute("CREATE OR REPLACE TABLE raw_set AS SELECT * FROM keep")
        con.execute(
            f"""CREATE OR REPLACE TABLE {TABLE} AS
            WITH chosen AS (
              SELECT * FROM rows r WHERE r.file_id IN (SELECT file_id FROM good)
                AND r.file_id NOT IN (SELECT file_id FROM raw_set)
              UNION ALL
              SELECT * FROM {source} r WHERE r.file_id IN (SELECT file_id FROM raw_set)
                AND r.file_id IN (SELECT file_id FROM good)
            )
            SELECT
              NULL::VARCHAR AS eventversion,
              struct_pack(type := ui_type, principalid := ui_principalid, arn := ui_arn,
                accountid := NULL::VARCHAR, invokedby := ui_invokedby, accesskeyid := ui_accesskeyid,
                username := NULL::VARCHAR,
                sessioncontext := struct_pack(sessionissuer := struct_pack(type := NULL::VARCHAR,
                  principalid := NULL::VARCHAR, arn := issuer_arn, accountid := NULL::VARCHAR,
                  username := NULL::VARCHAR), sourceidentity := source_identity)) AS useridentity,
              eventtime, eventsource, eventname, NULL::VARCHAR AS awsregion, errorcode,
              requestparameters, responseelements, eventid, requestid,
              account AS recipientaccountid, account, NULL::VARCHAR AS region,
              replace(substr(eventtime, 1, 10), '-', '/') AS "timestamp",
              ct_weight, ct_eventtime_last
            FROM chosen"""
        )

    # ------------------------------------------------------------ resources (collect(..., resources=True))

    def _collect_resources(
        self, con: duckdb.DuckDBPyConnection, window: Window, accounts: Sequence[str] | None
    ) -> tuple[ResourceUsageRow, ...]:
        """The resource rows of `window`: the files' resource evidence read again (never cached: only
        suggest and fix ask), weighted like the usage rows, through the shared resource query."""
        items = [
            (
                i,
                (
                    info.key,
                    info.size,
                    info.mtime_ns,
                    "raw" if self.exact or i in self._raw_ids else "aggregate",
                ),
            )
            for i in self._good
            for info in (self._infos[i],)
        ]
        con.execute(f"CREATE OR REPLACE TABLE resource_rows ({RESOURCE_ROWS_DDL})")
        self._read(
            items,
            "reading resources",
            lambda batch: _append(con, "resource_rows", batch),
            read_resource_batch,
        )
        con.execute(
            f"""CREATE OR REPLACE TABLE {RESOURCE_TABLE} AS
            SELECT eventid, eventtime, eventsource, eventname, errorcode,
              struct_pack(type := ui_type, principalid := NULL::VARCHAR, arn := ui_arn,
                accesskeyid := NULL::VARCHAR, invokedby := NULL::VARCHAR,
                sessioncontext := struct_pack(sessionissuer := struct_pack(arn := issuer_arn),
                  sourceidentity := NULL::VARCHAR)) AS useridentity,
              account AS recipientaccountid, account, awsregion, requestparameters, resources,
              replace(substr(eventtime, 1, 10), '-', '/') AS "timestamp", ct_weight, ct_eventtime_last
            FROM resource_rows"""
        )
        query = resource_query(RESOURCE_TABLE, window, accounts)
        text = query.text if self.exact else weighted(query.text, RESOURCE_TABLE)
        if not self.exact and not self._dups:
            text = without_dedupe(text)
        cursor = con.cursor()
        try:
            try:
                cursor.execute(to_duckdb(text), list(query.params))
            except duckdb.OutOfMemoryException:
                raise
            except duckdb.Error as error:
                raise EngineError(f"the local usage query {query.name} failed: {_one_line(error)}") from error
            return resource_rows(_chunked(cursor, query.name))
        finally:
            cursor.close()
            con.execute("DROP TABLE IF EXISTS resource_rows")
