"""What a command asked for, as frozen values built once at the CLI door.

The argparse Namespace stays in `ctlint.commands`; everything after it (the pipeline, the engines, the
reports) reads these typed values, so an option is declared, defaulted and spelled in one place.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass, fields
from typing import Any, TypeVar

_T = TypeVar("_T")


def _from_namespace(cls: type[_T], args: argparse.Namespace | Any, **overrides: Any) -> _T:
    """Build `cls` from the attributes of `args` that it declares; absent ones keep their defaults."""
    values = {f.name: getattr(args, f.name) for f in fields(cls) if hasattr(args, f.name)}  # type: ignore[arg-type]
    values.update(overrides)
    return cls(**values)


@dataclass(frozen=True)
class InputOptions:
    """Where the inputs are and how to read them (`check`, `baseline`, `show`)."""

    config: str | None = None
    start: str | None = None  # YYYY-MM-DD, overrides the config's window
    end: str | None = None
    skip_bad_files: bool = False
    skip_bad_records: bool = False
    keep_results: bool = False  # Athena: keep the query result objects
    no_cache: bool = False
    # Ask the engine for the resource ARNs of each use (suggest, fix); check never pays for them.
    collect_resources: bool = False
    # RawUsage.identities, the usage per session identity: `show` reads them, `run_check` never does (an
    # answered run then does not build their ~half of the answer's rows).
    collect_identities: bool = True

    @classmethod
    def from_namespace(cls, args: argparse.Namespace | Any, **overrides: Any) -> InputOptions:
        return _from_namespace(cls, args, **overrides)


@dataclass(frozen=True)
class CheckOptions:
    """`ctlint check` (and `ctlint baseline`): the inputs plus what decides the verdict and the reports."""

    inputs: InputOptions
    baseline: str | None = None
    update_baseline: bool = False
    fail_on: str | None = None  # None: the config's fail_on, else "warning"
    soft_fail: bool = False

    @classmethod
    def from_namespace(cls, args: argparse.Namespace | Any, **overrides: Any) -> CheckOptions:
        overrides.setdefault("inputs", InputOptions.from_namespace(args))
        return _from_namespace(cls, args, **overrides)


@dataclass(frozen=True)
class ReportOptions:
    """Which reports `ctlint check` writes where."""

    format: str = "text"  # the report on stdout (or in `output`)
    output: str | None = None
    files: tuple[tuple[str, str], ...] = ()  # (format, path) from the --NAME PATH flags
    no_color: bool = False
    summary: str | None = None  # --summary PATH: the gating counts as a small JSON file

    @classmethod
    def from_namespace(cls, args: argparse.Namespace | Any, formats: tuple[str, ...]) -> ReportOptions:
        files = tuple((fmt, path) for fmt in formats if (path := getattr(args, fmt, None)))
        return _from_namespace(cls, args, files=files)
