"""What every command prints on stderr besides its report: the run's warnings, made inert."""

from __future__ import annotations

import sys
from collections.abc import Iterable

from ctlint.inert import sanitise_line


def print_warnings(warnings: Iterable[str]) -> None:
    for warning in warnings:
        print(f"ctlint: warning: {sanitise_line(warning)}", file=sys.stderr)
