"""Line edits: built from character spans, applied to text, shown as a unified diff. Pure."""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence

from ctlint.fixes.values import LineEdit


class EditConflict(ValueError):
    """Two edits touch the same lines."""


def line_of(text: str, offset: int) -> int:
    """The 1-based line that holds character `offset`."""
    return text.count("\n", 0, offset) + 1


def span_edit(text: str, start: int, end: int, replacement: str) -> LineEdit:
    """Replace text[start:end] by `replacement`, widened to the whole lines it touches."""
    line_start = text.rfind("\n", 0, start) + 1
    newline = text.find("\n", max(end - 1, start) if end > start else start)
    line_end = len(text) if newline == -1 else newline + 1
    segment = text[line_start:start] + replacement + text[end:line_end]
    return LineEdit(
        first_line=line_of(text, line_start),
        last_line=line_of(text, max(line_end - 1, line_start)),
        lines=tuple(segment.splitlines(keepends=True)),
    )


def apply_edits(text: str, edits: Sequence[LineEdit]) -> str:
    """`text` with every edit applied; raises EditConflict when two edits overlap."""
    lines = text.splitlines(keepends=True)
    ordered = sorted(edits, key=lambda e: (e.first_line, e.last_line))
    for before, after in zip(ordered, ordered[1:], strict=False):
        if after.first_line <= before.last_line:
            raise EditConflict(f"lines {before.first_line}-{before.last_line} are edited twice")
    for edit in reversed(ordered):
        if not 1 <= edit.first_line <= edit.last_line + 1 or edit.last_line > len(lines):
            raise EditConflict(f"lines {edit.first_line}-{edit.last_line} are outside the file")
        lines[edit.first_line - 1 : edit.last_line] = edit.lines
    return "".join(lines)


def unified_diff(path: str, before: str, after: str) -> str:
    """A `git diff`-style unified diff (a/ and b/ prefixes, 3 lines of context)."""
    diff = difflib.unified_diff(
        before.splitlines(keepends=True),
        after.splitlines(keepends=True),
        fromfile=f"a/{path}",
        tofile=f"b/{path}",
    )
    out = []
    for line in diff:
        out.append(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n")
    return "".join(out)


def edits_diff(path: str, text: str, edits: Sequence[LineEdit], context: int = 3) -> str:
    """The unified diff of `edits` on `text`, computed on the edited window only (a large file with many
    patches would otherwise be compared whole once per patch)."""
    lines = text.splitlines(keepends=True)
    first = max(1, min(e.first_line for e in edits) - context)
    last = min(len(lines), max(e.last_line for e in edits) + context)
    window = "".join(lines[first - 1 : last])
    shifted = [LineEdit(e.first_line - first + 1, e.last_line - first + 1, e.lines) for e in edits]
    diff = unified_diff(path, window, apply_edits(window, shifted))
    offset = first - 1
    return re.sub(
        r"^@@ -(\d+)(,\d+)? \+(\d+)(,\d+)? @@",
        lambda m: (
            f"@@ -{int(m.group(1)) + offset}{m.group(2) or ''} +{int(m.group(3)) + offset}{m.group(4) or ''} @@"
        ),
        diff,
        flags=re.MULTILINE,
    )
