"""`ctlint baseline` (being built; see the issue tracker)."""

from __future__ import annotations


def register(subparsers) -> None:  # replaced by the module's owner
    pass
