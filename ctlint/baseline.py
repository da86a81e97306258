"""Baselines: record today's findings by fingerprint so that CI gates on regressions only.

A baseline is a small, sorted JSON file meant to be committed:

    {"version": 1, "tool": "ctlint",
     "findings": [{"fingerprint", "rule", "account", "principal", "action", "role", "first_seen", "path"}]}

`path` (where the principal is defined) is relative to the baseline file's folder, so the file stays
valid wherever the repository is checked out. Fingerprints never contain line numbers, so moving a
policy in its file changes nothing.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from itertools import groupby, islice
from json.encoder import encode_basestring  # what json.dumps(ensure_ascii=False) writes for a str
from pathlib import Path
from typing import Any

from ctlint.atomic import write_text_atomic
from ctlint.errors import CtlintError, InputError
from ctlint.model import Finding, FindingRun, FindingRuns, runs_of

FORMAT_VERSION = 1
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_REQUIRED_TEXT = ("fingerprint", "rule", "account", "principal", "first_seen")
_OPTIONAL_TEXT = ("action", "role", "path")


@dataclass(frozen=True)
class BaselineEntry:
    fingerprint: str
    rule: str
    account: str
    principal: str
    action: str | None
    role: str | None
    first_seen: str  # YYYY-MM-DD, the day the finding first entered the baseline
    path: str | None = None  # where the principal is defined, relative to the baseline file

    def to_dict(self) -> dict[str, object]:
        """The JSON form (also what RunResult.fixed carries)."""
        data: dict[str, object] = {
            "fingerprint": self.fingerprint,
            "rule": self.rule,
            "account": self.account,
            "principal": self.principal,
            "action": self.action,
            "role": self.role,
            "first_seen": self.first_seen,
        }
        if self.path is not None:
            data["path"] = self.path
        return data

    def sort_key(self) -> tuple[str, ...]:
        return (self.account, self.principal, self.rule, self.action or "", self.role or "", self.fingerprint)


@dataclass(frozen=True)
class Baseline:
    path: Path
    entries: Mapping[str, BaselineEntry]  # by fingerprint


def load_baseline(path: Path) -> Baseline:
    """Read and validate a baseline file; any problem is an InputError naming the file and entry."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(
            f"Baseline file {path} does not exist; create it with `ctlint baseline --output {path}`."
        ) from None
    except (OSError, UnicodeDecodeError) as error:
        raise InputError(f"Baseline file {path} cannot be read: {error}.") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise InputError(
            f"Baseline file {path} is not valid JSON (line {error.lineno}, column {error.colno}: {error.msg})."
        ) from None
    if not isinstance(data, dict) or not isinstance(data.get("findings"), list):
        raise InputError(
            f"Baseline file {path} is not a ctlint baseline: it needs a top-level 'findings' list."
        )
    if data.get("version") != FORMAT_VERSION:
        raise InputError(
            f"Baseline file {path} has version {data.get('version')!r}; this ctlint reads version {FORMAT_VERSION}."
        )
    entries: dict[str, BaselineEntry] = {}
    for index, raw in enumerate(data["findings"]):
        entry = _entry(raw, f"Baseline file {path}, findings[{index}]")
        if entry.fingerprint in entries:
            raise InputError(
                f"Baseline file {path}, findings[{index}]: fingerprint {entry.fingerprint!r} appears twice."
            )
        entries[entry.fingerprint] = entry
    return Baseline(path=path, entries=entries)


def apply_baseline(
    findings: Sequence[Finding], baseline: Baseline
) -> tuple[FindingRuns, tuple[BaselineEntry, ...]]:
    """Mark each finding "new" or "unchanged"; return them (same order) and the entries that no longer occur.

    Fingerprints are computed per action as the runs stream by, and runs are cut where the state changes.
    Pass suppressed findings too if they should not count as fixed (an allowlisted finding still occurs).
    """
    known = baseline.entries
    marked: list[FindingRun] = []
    seen: set[str] = set()  # of the baseline's fingerprints only: never more than the file holds
    for run in runs_of(findings):
        states = []
        for fingerprint in run.fingerprints():
            if fingerprint in known:
                seen.add(fingerprint)
                states.append("unchanged")
            else:
                states.append("new")
        marked.extend(part.with_actions(part.actions, baseline=state) for state, part in run.cut(states))
    fixed = tuple(sorted((e for fp, e in known.items() if fp not in seen), key=BaselineEntry.sort_key))
    return FindingRuns(marked), fixed


def fixed_as_dicts(entries: Sequence[BaselineEntry]) -> tuple[Mapping[str, object], ...]:
    """Baseline entries in the form RunResult.fixed carries."""
    return tuple(e.to_dict() for e in entries)


@dataclass(frozen=True)
class BaselineWritten:
    entries: int  # entries in the file written
    kept: int  # of them, entries the previous baseline had


def write_baseline(
    path: Path, findings: Sequence[Finding], previous: Baseline | None, today: str
) -> BaselineWritten:
    """Write the baseline of `findings` atomically; entries that persist keep their first_seen date.

    Findings held as runs (sorted, as the pipeline's are) stream into the file one entry at a time;
    other sequences are sorted first, as before."""
    path = Path(path)
    if not _DATE.match(today):
        raise ValueError(f"today must be YYYY-MM-DD, got {today!r}")
    old = previous.entries if previous is not None else {}
    counts = [0, 0]

    def entries() -> Iterator[str]:
        folder = path.parent
        relative: dict[str, str] = {}  # a principal's path, once per file
        last = None
        for run in _sorted_runs(findings):
            where = None
            if run.location is not None:
                where = relative.get(run.location.path)
                if where is None:
                    where = relative[run.location.path] = _relative_to(run.location.path, folder)
            shared = _EntryText(run, where)
            for action, fingerprint in zip(run.actions, run.fingerprints(), strict=True):
                if fingerprint == last:
                    continue  # the first of equal fingerprints wins; they sort side by side
                last = fingerprint
                first_seen = today
                if fingerprint in old:
                    first_seen = old[fingerprint].first_seen
                    counts[1] += 1
                counts[0] += 1
                yield shared.entry(fingerprint, action, first_seen)

    _atomic_write(path, _document(entries()))
    return BaselineWritten(counts[0], counts[1])


def _sorted_runs(findings: Sequence[Finding]) -> Iterator[FindingRun]:
    """Runs in the file's order (BaselineEntry.sort_key): the pipeline's runs are sorted but for the
    fingerprint, which only orders findings with the same key (several of one IaC subject)."""
    if not isinstance(findings, FindingRuns):
        ordered = sorted(findings, key=lambda f: (*f.sort_key(), f.fingerprint))
        yield from runs_of(ordered)
        return
    for _key, same in groupby(findings.runs, key=_single_key):
        bunch = list(same)
        if len(bunch) == 1:
            yield bunch[0]
        else:  # runs of one sharing a key: order them by fingerprint
            yield from sorted(bunch, key=lambda run: next(run.fingerprints()))


def _single_key(run: FindingRun) -> object:
    """Runs of one share a key with their neighbours only through the same sort key; others never do."""
    return run.sort_key() if len(run.actions) == 1 else id(run)


class _EntryText:
    """One baseline entry as `json.dumps(document, indent=2)` writes it, the run's parts escaped once."""

    def __init__(self, run: FindingRun, path: str | None) -> None:
        self.rule = f',\n      "rule": {_json(run.rule)},\n      "account": {_json(run.account)}'
        self.principal = f',\n      "principal": {_json(run.principal)},\n      "action": '
        self.role = f',\n      "role": {_json(run.role)},\n      "first_seen": '
        self.end = "\n    }" if path is None else f',\n      "path": {_json(path)}\n    }}'

    def entry(self, fingerprint: str, action: str | None, first_seen: str) -> str:
        return (
            f'    {{\n      "fingerprint": {_json(fingerprint)}{self.rule}{self.principal}{_json(action)}'
            f"{self.role}{_json(first_seen)}{self.end}"
        )


def _json(value: str | None) -> str:
    return "null" if value is None else encode_basestring(value)


def _document(entries: Iterator[str]) -> Iterator[str]:
    """`json.dumps({"version", "tool", "findings": [...]}, indent=2, ensure_ascii=False) + "\\n"` in chunks."""
    yield f'{{\n  "version": {FORMAT_VERSION},\n  "tool": "ctlint",\n  "findings": ['
    separator = "\n"
    empty = True
    while batch := list(islice(entries, 2048)):
        empty = False
        yield separator + ",\n".join(batch)
        separator = ",\n"
    yield ("]" if empty else "\n  ]") + "\n}\n"


# ---------------------------------------------------------------- helpers


def _entry(raw: Any, where: str) -> BaselineEntry:
    if not isinstance(raw, dict):
        raise InputError(f"{where} is not an object.")
    for key in _REQUIRED_TEXT:
        if not isinstance(raw.get(key), str) or not raw[key]:
            raise InputError(f"{where}: '{key}' must be a non-empty string.")
    for key in _OPTIONAL_TEXT:
        if raw.get(key) is not None and not isinstance(raw[key], str):
            raise InputError(f"{where}: '{key}' must be a string or null.")
    if not _DATE.match(raw["first_seen"]):
        raise InputError(f"{where}: 'first_seen' must be a date like 2026-06-01, got {raw['first_seen']!r}.")
    return BaselineEntry(
        fingerprint=raw["fingerprint"],
        rule=raw["rule"],
        account=raw["account"],
        principal=raw["principal"],
        action=raw.get("action"),
        role=raw.get("role"),
        first_seen=raw["first_seen"],
        path=raw.get("path"),
    )


def _relative_to(path: str, folder: Path) -> str:
    """`path` (absolute or relative to the working directory) relative to `folder`, with forward slashes."""
    absolute = os.path.abspath(path)
    try:
        relative = os.path.relpath(absolute, os.path.abspath(folder))
    except ValueError:  # another drive on Windows: keep it absolute
        relative = absolute
    return Path(relative).as_posix()


def _atomic_write(path: Path, text: str | Iterator[str]) -> None:
    """Write through ctlint.atomic: a crash never leaves half a baseline, a device is never replaced."""
    try:
        write_text_atomic(path, text)
    except CtlintError as error:
        raise InputError(
            f"Baseline file {path} cannot be written: {str(error).removeprefix(f'cannot write {path}: ')}"
        ) from None
