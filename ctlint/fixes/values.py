"""The values the fix stage hands to reporters and to `ctlint fix` (frozen, like every stage's output)."""

from __future__ import annotations

from dataclasses import dataclass

from ctlint.model import StatementRef


@dataclass(frozen=True)
class LineEdit:
    """Replace whole lines `first_line`..`last_line` (1-based, inclusive) of a file by `lines`.

    `lines` are complete lines, each with its line end; an empty tuple deletes the lines. Whole lines keep
    the diff, the SARIF replacement and the written file the same edit.
    """

    first_line: int
    last_line: int
    lines: tuple[str, ...]


@dataclass(frozen=True)
class StatementFix:
    """One statement of an IaC file, rewritten without the actions the run flags as unused.

    `edits` is empty when no exact patch could be made; `reason` then says why, and `actions` is still
    the suggested Action list to write by hand.
    """

    path: str  # the IaC file as reports show it
    line: int  # the statement's line
    statement: StatementRef
    principals: tuple[str, ...]  # every principal the statement grants to
    fingerprints: tuple[str, ...]  # the grouped findings this fix answers
    removed: tuple[str, ...]  # the flagged actions the new list leaves out, sorted
    actions: tuple[str, ...]  # the new Action list; () when the statement goes
    edits: tuple[LineEdit, ...] = ()
    diff: str = ""  # unified diff of `edits` against the file as read
    reason: str | None = None  # why there is no patch (None when `edits` is set)
    # Where the statement sits in the parsed file and the Action value it holds after the edit: what a
    # re-read of the patched file is checked against (several fixes of one file are checked together).
    target: tuple[object, ...] = ()
    written: object = None
    # `ctlint fix` only (check collects no resources): the new Resource list when the patch narrows it
    # (`written_resource`: the value the re-read must hold), else why the Resource stays as written.
    resources: tuple[str, ...] | None = None
    resource_note: str | None = None
    written_resource: object = None

    @property
    def removes_statement(self) -> bool:
        return not self.actions
