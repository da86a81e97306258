"""The local engine's answer cache: a whole `collect` result, for a second run on unchanged logs.

The per-file cache (`ctlint.usage.cache`) spares decompressing and parsing, but a run still loads every
cached row and runs the queries (10 s at 2M events). This cache keeps the final `RawUsage` instead.

An answer is reused only when nothing it depends on changed:
- the files: every discovered file's absolute path, size and mtime_ns (a *file set*);
- the effective window: the results depend on the window only through which events it holds, so a
  bound beyond all the data is recorded as such ("the end is after the last event", "the start is at or
  before the first event"). A window ending "now" over logs that stopped growing keeps its answer; a
  window whose start slides past events does not;
- the accounts, the reading options (skip_bad_*), ctlint's version and the source of the usage engine
  (so a changed reader or SQL never meets an old answer, even at the same version number).

Like the file cache it is an optimisation only: unreadable, inconsistent or foreign content is ignored
and replaced; every document carries an HMAC over its file set, key and content under a secret kept
outside the cache folder (`ctlint.usage.integrity`), so an entry ctlint did not write here is foreign; it is written to a temporary file and renamed; a failure to write is not an error. One
folder per set of input paths, `answers-v<FORMAT>-<hash>/`, with a small file per file set (its event
time bounds) and a file per answer; the newest KEEP_FILES of each stay.
"""

from __future__ import annotations

import contextlib
import hashlib
import operator
import os
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, fields
from datetime import datetime, timedelta, timezone
from itertools import repeat
from pathlib import Path
from typing import Any

import orjson

from ctlint import __version__
from ctlint.atomic import write_text_atomic
from ctlint.gcpause import cyclic_gc_paused
from ctlint.model import (
    AssumeRoleRow,
    EventStats,
    IdentityUsageRow,
    RawUsage,
    ResourceUsageRow,
    SessionUsageRow,
    UsageRow,
    Window,
    slot_constructor,
)
from ctlint.usage.cachedir import default_dir
from ctlint.usage.integrity import seal, verify
from ctlint.usage.sql import iso

FORMAT = 8  # 4: documents carry a MAC; 5: per-session identities; 6: sourceIdentity read locally
# 7: resource rows (issue 18); the key says whether they were collected; 8: rows mark unnamed calls
KEEP_FILES = 6  # answers (a 2M-event trail's is ~27 MB) and, separately, file-set bounds


@dataclass(frozen=True)
class Answer:
    """A collect result and what the engine reports beside it."""

    usage: RawUsage
    skip_messages: tuple[str, ...]
    records_loaded: int
    records_skipped: int
    not_event_logs: tuple[
        tuple[str, int], ...
    ] = ()  # (file kind, count): digest and Insights files passed over


def _source_digest() -> str:
    """The usage engine's own code: a changed reader or SQL must not meet an old answer."""
    digest = hashlib.sha256(__version__.encode())
    for path in sorted(Path(__file__).parent.glob("*.py")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


_SOURCE = _source_digest()


def file_set_key(files: Iterable[tuple[str, int, int]]) -> str:
    """The identity of the logs: every (absolute path, size, mtime_ns)."""
    digest = hashlib.sha256(_SOURCE.encode())
    for key, size, mtime_ns in sorted(files):
        digest.update(f"{key}\0{size}\0{mtime_ns}\n".encode("utf-8", "surrogatepass"))
    return digest.hexdigest()


def answer_options(
    skip_bad_files: bool, max_skipped_share: float, skip_bad_records: bool, *, resources: bool
) -> tuple[object, ...]:
    """The reading options an answer depends on, in the form its key records them."""
    return (skip_bad_files, max_skipped_share, skip_bad_records) + (("resources",) if resources else ())


def answer_key(
    window: Window,
    bounds: tuple[str | None, str | None],
    accounts: Sequence[str] | None,
    options: Sequence[object],
) -> str:
    """The identity of a question over a file set: the effective window, accounts and options."""
    first, last = bounds
    start, end = iso(window.start), iso(window.end)
    # Bounds beyond the data select the same events whatever their exact value.
    effective_start = "before-data" if first is not None and start <= first else start
    effective_end = "after-data" if last is not None and end > last else end
    text = orjson.dumps(
        [effective_start, effective_end, sorted(accounts) if accounts else None, list(options)]
    )
    return hashlib.sha256(text).hexdigest()


# ---------------------------------------------------------------- (de)serialisation
# Columnar, with every distinct string stored once and times as integer microseconds since the epoch:
# a 2M-event answer is ~480k rows, and this form loads several times faster than row objects as JSON.

_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_ROW_TYPES = (UsageRow, AssumeRoleRow, SessionUsageRow, IdentityUsageRow, ResourceUsageRow)
_TABLES = ("rows", "assumptions", "sessions", "identities", "resources")
_CONSTRUCTORS = tuple(slot_constructor(row_type) for row_type in _ROW_TYPES)


def _micros(value: datetime) -> int:
    return (value - _EPOCH) // timedelta(microseconds=1)


def _encode(answer: Answer) -> dict[str, Any]:
    usage = answer.usage
    strings: dict[str | None, int] = {None: 0}

    def ref(text: str | None) -> int:
        index = strings.get(text)
        if index is None:
            index = strings[text] = len(strings)
        return index

    tables = {}
    for name, row_type in zip(_TABLES, _ROW_TYPES, strict=True):
        rows = getattr(usage, name)
        columns: list[list[int]] = []
        for field_ in fields(row_type):
            values = [getattr(row, field_.name) for row in rows]
            if field_.name in ("first_seen", "last_seen"):
                columns.append([_micros(v) for v in values])
            elif field_.name == "count":
                columns.append(values)
            else:
                columns.append([ref(v) for v in values])
        tables[name] = columns
    return {
        "strings": [text for text in strings if text is not None],
        "tables": tables,
        "events_per_account": dict(usage.events_per_account),
        "stats": [usage.stats.read, usage.stats.counted, usage.stats.errors],
        "skipped_files": list(usage.skipped_files),
        "skip_messages": list(answer.skip_messages),
        "records": [answer.records_loaded, answer.records_skipped],
        "not_event_logs": dict(answer.not_event_logs),
    }


def _ints(values: object, upper: int | None = None) -> list[int]:
    if not isinstance(values, list) or (values and (not set(map(type, values)) <= {int} or min(values) < 0)):
        raise ValueError("not a list of non-negative integers")
    if upper is not None and values and max(values) >= upper:
        raise ValueError("a string reference out of range")
    return values


def _str(value: object) -> str:
    if type(value) is not str:
        raise ValueError("not a string")
    return value


def _int(value: object) -> int:
    if type(value) is not int:
        raise ValueError("not an integer")
    return value


def _decode(data: Mapping[str, Any], window: Window, *, identities: bool = True) -> Answer:
    """The answer for `window` (without its identity rows unless `identities`); any malformed part raises
    ValueError/TypeError/KeyError."""
    strings: list[str | None] = [None, *(_str(s) for s in data["strings"])]

    def moments(column: list[int]) -> list[datetime]:
        utc, at = timezone.utc, datetime.fromtimestamp
        if not any(map(operator.mod, column, repeat(1_000_000))):  # CloudTrail's whole seconds: loops in C
            return list(map(at, map(operator.floordiv, column, repeat(1_000_000)), repeat(utc)))
        return [
            at(micros // 1_000_000, utc)
            if not micros % 1_000_000
            else _EPOCH + timedelta(microseconds=micros)
            for micros in column
        ]

    built = {}
    for name, row_type, construct in zip(_TABLES, _ROW_TYPES, _CONSTRUCTORS, strict=True):
        names = [f.name for f in fields(row_type)]
        columns = data["tables"][name]
        if not isinstance(columns, list) or len(columns) != len(names):
            raise ValueError("a table of another shape")
        if name == "identities" and not identities:
            built[name] = ()
            continue
        decoded: list[list[Any]] = []  # one column per field: datetimes, ints or strings
        for field_name, column in zip(names, columns, strict=True):
            if field_name in ("first_seen", "last_seen"):
                decoded.append(moments(_ints(column)))
            elif field_name == "count":
                decoded.append(_ints(column))
            else:
                values = [strings[i] for i in _ints(column, len(strings))]
                if field_name != "access_key_id" and None in values:
                    raise ValueError("a missing value")
                decoded.append(values)
        if len({len(column) for column in decoded}) > 1:
            raise ValueError("columns of different lengths")
        built[name] = tuple(map(construct, *decoded))  # lengths checked above
    per_account = {_str(k): _int(v) for k, v in data["events_per_account"].items()}
    read, counted, errors = (_int(v) for v in data["stats"])
    loaded, skipped = (_int(v) for v in data["records"])
    usage = RawUsage(
        window=window,
        rows=built["rows"],
        assumptions=built["assumptions"],
        sessions=built["sessions"],
        identities=built["identities"],
        resources=built["resources"],
        events_per_account=per_account,
        stats=EventStats(read=read, counted=counted, errors=errors),
        skipped_files=tuple(_str(p) for p in data["skipped_files"]),
        engine="local",
    )
    not_events = tuple((_str(k), _int(v)) for k, v in sorted(data.get("not_event_logs", {}).items()))
    return Answer(usage, tuple(_str(m) for m in data["skip_messages"]), loaded, skipped, not_events)


# ---------------------------------------------------------------- the store


class AnswerStore:
    """One folder per set of input paths; in it one small file per file set (its event time bounds) and
    one file per answer, so saving an answer never rewrites the others. The newest KEEP_FILES files stay."""

    def __init__(self, directory: Path | None, specs: Sequence[str]) -> None:
        base = Path(directory) if directory is not None else default_dir()
        digest = hashlib.sha256("\0".join(sorted(os.path.abspath(s) for s in specs)).encode()).hexdigest()
        self.dir = base / f"answers-v{FORMAT}-{digest[:16]}"

    def _bounds_path(self, file_set: str) -> Path:
        return self.dir / f"{file_set[:32]}.bounds.json"

    def _answer_path(self, file_set: str, key: str) -> Path:
        return self.dir / f"{hashlib.sha256(f'{file_set}|{key}'.encode()).hexdigest()[:32]}.answer.json"

    @staticmethod
    def _document(path: Path, file_set: str, key: str | None = None) -> dict[str, Any] | None:
        """A stored document, if it is of this format and for this file set (and key)."""
        try:
            document = orjson.loads(path.read_bytes())
        except (OSError, orjson.JSONDecodeError):
            return None
        if not isinstance(document, dict) or document.get("format") != FORMAT:
            return None
        if document.get("file_set") != file_set or (key is not None and document.get("key") != key):
            return None  # a hash collision of the file name, or a foreign file
        role = "bounds" if key is None else "answer"
        try:
            content = orjson.dumps(document.get(role), option=orjson.OPT_SORT_KEYS)
        except orjson.JSONEncodeError:
            return None
        if not verify(document.get("mac"), role, file_set.encode(), (key or "").encode(), content):
            return None  # not written by ctlint with this machine's secret: shape alone proves nothing
        return document

    @staticmethod
    def _sealed(role: str, file_set: str, key: str | None, content: object) -> dict[str, Any]:
        document: dict[str, Any] = {"format": FORMAT, "file_set": file_set}
        if key is not None:
            document["key"] = key
        body = orjson.dumps(content, option=orjson.OPT_SORT_KEYS)
        document[role] = content
        document["mac"] = seal(role, file_set.encode(), (key or "").encode(), body)
        return document

    def bounds(self, file_set: str) -> tuple[str | None, str | None] | None:
        """The first and last event time of a known file set, else None."""
        document = self._document(self._bounds_path(file_set), file_set)
        try:
            first, last = document["bounds"]  # type: ignore[index]
            return (first if isinstance(first, str) else None, last if isinstance(last, str) else None)
        except (TypeError, KeyError, ValueError):
            return None

    def answer(
        self,
        file_set: str,
        window: Window,
        accounts: Sequence[str] | None,
        options: Sequence[object],
        *,
        identities: bool = True,
    ) -> Answer | None:
        """The stored answer to this question (window, accounts, options) on this file set, if any."""
        bounds = self.bounds(file_set)
        if bounds is None:
            return None
        key = answer_key(window, bounds, accounts, options)
        return self.load(file_set, key, window, identities=identities)

    def load(self, file_set: str, key: str, window: Window, *, identities: bool = True) -> Answer | None:
        """The stored answer under `key`; `identities=False` leaves `RawUsage.identities` empty."""
        document = self._document(self._answer_path(file_set, key), file_set, key)
        if document is None:
            return None
        try:
            with cyclic_gc_paused():  # hundreds of thousands of rows
                return _decode(document["answer"], window, identities=identities)
        except (TypeError, KeyError, ValueError, AttributeError):
            return None

    def save(self, file_set: str, bounds: tuple[str | None, str | None], key: str, answer: Answer) -> bool:
        """Record `answer`; True when installed. Never raises an Exception."""
        try:
            self.dir.mkdir(parents=True, exist_ok=True)
            # Renamed into place: a reader sees the old file or the new one, never half of one.
            document = self._sealed("answer", file_set, key, _encode(answer))
            write_text_atomic(self._answer_path(file_set, key), orjson.dumps(document).decode())
            document = self._sealed("bounds", file_set, None, list(bounds))
            write_text_atomic(self._bounds_path(file_set), orjson.dumps(document).decode())
            self._prune()
            return True
        except Exception:  # CtlintError (cannot write) included: the cache is never an error of the run
            return False

    def _prune(self) -> None:
        """Keep the newest KEEP_FILES answers and bounds; drop temporary files of runs that died long ago."""
        now = time.time()
        for pattern in ("*.answer.json", "*.bounds.json"):
            stored = []
            for path in self.dir.glob(pattern):
                with contextlib.suppress(OSError):
                    stored.append((path.stat().st_mtime, path))
            for _, path in sorted(stored, reverse=True)[KEEP_FILES:]:
                with contextlib.suppress(OSError):
                    path.unlink()
        for path in self.dir.glob(".*.tmp"):
            with contextlib.suppress(OSError):
                if now - path.stat().st_mtime > 3600:
                    path.unlink()
