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
and replaced; it is written to a temporary file and renamed; a failure to write is not an error. One
file per set of input paths, `answers-v<FORMAT>-<hash>.json`, holding the newest few file sets and
answers.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson

from ctlint import __version__
from ctlint.model import AssumeRoleRow, EventStats, RawUsage, SessionUsageRow, UsageRow, Window
from ctlint.usage.cache import default_dir
from ctlint.usage.sql import iso

FORMAT = 1
KEEP_FILE_SETS = 4
KEEP_ANSWERS = 8  # per file set


@dataclass(frozen=True)
class Answer:
    """A collect result and what the engine reports beside it."""

    usage: RawUsage
    skip_messages: tuple[str, ...]
    records_loaded: int
    records_skipped: int


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


def answer_key(window: Window, bounds: tuple[str | None, str | None], accounts: Sequence[str] | None,
               options: Sequence[object]) -> str:
    """The identity of a question over a file set: the effective window, accounts and options."""
    first, last = bounds
    start, end = iso(window.start), iso(window.end)
    # Bounds beyond the data select the same events whatever their exact value.
    effective_start = "before-data" if first is not None and start <= first else start
    effective_end = "after-data" if last is not None and end > last else end
    text = orjson.dumps([effective_start, effective_end, sorted(accounts) if accounts else None, list(options)])
    return hashlib.sha256(text).hexdigest()


# ---------------------------------------------------------------- (de)serialisation


def _time(value: datetime) -> str:
    return value.isoformat()


def _encode(answer: Answer) -> dict[str, Any]:
    usage = answer.usage
    return {
        "rows": [[r.account_id, r.principal_arn, r.principal_type, r.event_source, r.event_name, r.count,
                  _time(r.first_seen), _time(r.last_seen)] for r in usage.rows],
        "assumptions": [[r.source_arn, r.role_arn, r.event_name, r.access_key_id, r.count, _time(r.first_seen),
                         _time(r.last_seen)] for r in usage.assumptions],
        "sessions": [[r.source_arn, r.role_arn, r.account_id, r.event_source, r.event_name, r.count,
                      _time(r.first_seen), _time(r.last_seen)] for r in usage.sessions],
        "events_per_account": dict(usage.events_per_account),
        "stats": [usage.stats.read, usage.stats.counted, usage.stats.errors],
        "skipped_files": list(usage.skipped_files),
        "skip_messages": list(answer.skip_messages),
        "records": [answer.records_loaded, answer.records_skipped],
    }


def _str(value: object) -> str:
    if type(value) is not str:
        raise ValueError("not a string")
    return value


def _int(value: object) -> int:
    if type(value) is not int:
        raise ValueError("not an integer")
    return value


def _moment(value: object) -> datetime:
    moment = datetime.fromisoformat(_str(value))
    if moment.tzinfo is None:
        raise ValueError("naive time")
    return moment


def _decode(data: Mapping[str, Any], window: Window) -> Answer:
    """The answer for `window`; any malformed part raises ValueError/TypeError/KeyError."""
    rows = tuple(
        UsageRow(_str(a), _str(p), _str(t), _str(s), _str(n), _int(c), _moment(f), _moment(last))
        for a, p, t, s, n, c, f, last in data["rows"]
    )
    assumptions = tuple(
        AssumeRoleRow(_str(s), _str(r), _str(n), None if k is None else _str(k), _int(c), _moment(f), _moment(last))
        for s, r, n, k, c, f, last in data["assumptions"]
    )
    sessions = tuple(
        SessionUsageRow(_str(s), _str(r), _str(a), _str(es), _str(n), _int(c), _moment(f), _moment(last))
        for s, r, a, es, n, c, f, last in data["sessions"]
    )
    per_account = {_str(k): _int(v) for k, v in data["events_per_account"].items()}
    read, counted, errors = (_int(v) for v in data["stats"])
    loaded, skipped = (_int(v) for v in data["records"])
    usage = RawUsage(
        window=window, rows=rows, assumptions=assumptions, sessions=sessions, events_per_account=per_account,
        stats=EventStats(read=read, counted=counted, errors=errors),
        skipped_files=tuple(_str(p) for p in data["skipped_files"]), engine="local",
    )
    return Answer(usage, tuple(_str(m) for m in data["skip_messages"]), loaded, skipped)


# ---------------------------------------------------------------- the store


class AnswerStore:
    def __init__(self, directory: Path | None, specs: Sequence[str]) -> None:
        self.dir = Path(directory) if directory is not None else default_dir()
        digest = hashlib.sha256("\0".join(sorted(os.path.abspath(s) for s in specs)).encode()).hexdigest()
        self.path = self.dir / f"answers-v{FORMAT}-{digest[:16]}.json"

    def _read(self) -> dict[str, Any]:
        try:
            document = orjson.loads(self.path.read_bytes())
            if not isinstance(document, dict) or document.get("format") != FORMAT:
                return {}
            sets = document.get("file_sets")
            return sets if isinstance(sets, dict) else {}
        except (OSError, orjson.JSONDecodeError):
            return {}

    def bounds(self, file_set: str) -> tuple[str | None, str | None] | None:
        """The first and last event time of a known file set, else None."""
        entry = self._read().get(file_set)
        try:
            first, last = entry["bounds"]  # type: ignore[index]
            return (first if isinstance(first, str) else None, last if isinstance(last, str) else None)
        except (TypeError, KeyError, ValueError):
            return None

    def load(self, file_set: str, key: str, window: Window) -> Answer | None:
        entry = self._read().get(file_set)
        try:
            return _decode(entry["answers"][key], window)  # type: ignore[index]
        except (TypeError, KeyError, ValueError, AttributeError):
            return None

    def save(self, file_set: str, bounds: tuple[str | None, str | None], key: str, answer: Answer) -> bool:
        """Record `answer`; True when installed. Never raises an Exception."""
        tmp = self.dir / f".{self.path.name}.{os.getpid()}.{uuid.uuid4().hex}.tmp"
        try:
            sets = self._read()
            entry = sets.pop(file_set, None)
            answers = entry.get("answers", {}) if isinstance(entry, dict) and entry.get("bounds") == list(
                bounds) else {}
            answers = dict(answers) if isinstance(answers, dict) else {}
            answers.pop(key, None)
            answers[key] = _encode(answer)
            answers = dict(list(answers.items())[-KEEP_ANSWERS:])  # the newest last
            sets[file_set] = {"bounds": list(bounds), "answers": answers}
            sets = dict(list(sets.items())[-KEEP_FILE_SETS:])
            self.dir.mkdir(parents=True, exist_ok=True)
            tmp.write_bytes(orjson.dumps({"format": FORMAT, "file_sets": sets}))
            os.replace(tmp, self.path)
            return True
        except Exception:
            return False
        finally:
            with contextlib.suppress(OSError):
                tmp.unlink()
