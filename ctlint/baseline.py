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
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from ctlint.atomic import write_text_atomic
from ctlint.errors import CtlintError, InputError
from ctlint.model import Finding

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
) -> tuple[tuple[Finding, ...], tuple[BaselineEntry, ...]]:
    """Mark each finding "new" or "unchanged"; return them (same order) and the entries that no longer occur.

    Pass suppressed findings too if they should not count as fixed (an allowlisted finding still occurs).
    """
    marked = tuple(
        replace(f, baseline="unchanged" if f.fingerprint in baseline.entries else "new") for f in findings
    )
    seen = {f.fingerprint for f in findings}
    fixed = tuple(
        sorted((e for fp, e in baseline.entries.items() if fp not in seen), key=BaselineEntry.sort_key)
    )
    return marked, fixed


def fixed_as_dicts(entries: Sequence[BaselineEntry]) -> tuple[Mapping[str, object], ...]:
    """Baseline entries in the form RunResult.fixed carries."""
    return tuple(e.to_dict() for e in entries)


def write_baseline(path: Path, findings: Sequence[Finding], previous: Baseline | None, today: str) -> None:
    """Write the baseline of `findings` atomically; entries that persist keep their first_seen date."""
    path = Path(path)
    if not _DATE.match(today):
        raise ValueError(f"today must be YYYY-MM-DD, got {today!r}")
    old = previous.entries if previous is not None else {}
    entries: dict[str, BaselineEntry] = {}
    for f in findings:
        if f.fingerprint in entries:
            continue
        entries[f.fingerprint] = BaselineEntry(
            fingerprint=f.fingerprint,
            rule=f.rule,
            account=f.account,
            principal=f.principal,
            action=f.action,
            role=f.role,
            first_seen=old[f.fingerprint].first_seen if f.fingerprint in old else today,
            path=_relative_to(f.location.path, path.parent) if f.location is not None else None,
        )
    document = {
        "version": FORMAT_VERSION,
        "tool": "ctlint",
        "findings": [e.to_dict() for e in sorted(entries.values(), key=BaselineEntry.sort_key)],
    }
    _atomic_write(path, json.dumps(document, indent=2, ensure_ascii=False) + "\n")


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


def _atomic_write(path: Path, text: str) -> None:
    """Write through ctlint.atomic: a crash never leaves half a baseline, a device is never replaced."""
    try:
        write_text_atomic(path, text)
    except CtlintError as error:
        raise InputError(
            f"Baseline file {path} cannot be written: {str(error).removeprefix(f'cannot write {path}: ')}"
        ) from None
