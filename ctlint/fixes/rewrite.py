"""A statement's new Action list: its actions minus the flagged unused ones, written minimally. Pure.

Each pattern as written is kept when every action it matches is still wanted; the others are replaced by
the wanted actions they matched, explicit and sorted (an action another kept pattern already covers is
not repeated). The result keeps the statement's order, one slot per original pattern, so that an editor
can change only the entries that change.

A Resource list is rewritten by `rewrite_list` (to the list `ctlint.fixes.resources` decides on), in
the same slot form, so the same editors write it.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass

Expand = Callable[[str], frozenset[str]]  # an action pattern -> the canonical actions it matches


@dataclass(frozen=True)
class ActionRewrite:
    patterns: tuple[str, ...]  # the statement's Action entries as written
    # Per original entry: None keeps it as written; a tuple replaces it (an empty tuple deletes it).
    slots: tuple[tuple[str, ...] | None, ...]
    removed: tuple[str, ...]  # the flagged actions this rewrite takes away, sorted

    @property
    def actions(self) -> tuple[str, ...]:
        """The new Action list, in order (empty: nothing is left and the statement goes)."""
        out: list[str] = []
        for pattern, slot in zip(self.patterns, self.slots, strict=True):
            out.extend((pattern,) if slot is None else slot)
        return tuple(out)

    @property
    def changed(self) -> bool:
        return any(slot is not None for slot in self.slots)

    @property
    def removes_statement(self) -> bool:
        return not self.actions


def rewrite_actions(patterns: Sequence[str], flagged: Collection[str], expand: Expand) -> ActionRewrite:
    """The new Action list of a statement whose `patterns` grant the `flagged` (unused) actions."""
    flagged_set = frozenset(flagged)
    matched = [expand(p) for p in patterns]
    keep = [not (m & flagged_set) for m in matched]
    covered: set[str] = set()
    for m, kept in zip(matched, keep, strict=True):
        if kept:
            covered |= m
    slots: list[tuple[str, ...] | None] = []
    seen_patterns: set[str] = set()
    for pattern, m, kept in zip(patterns, matched, keep, strict=True):
        if kept:
            if pattern in seen_patterns:  # a repeated entry adds nothing
                slots.append(())
                continue
            seen_patterns.add(pattern)
            slots.append(None)
            continue
        wanted = sorted(m - flagged_set - covered)
        covered.update(wanted)
        slots.append(tuple(wanted))
    removed = sorted(flagged_set & frozenset().union(*matched)) if matched else []
    return ActionRewrite(tuple(patterns), tuple(slots), tuple(removed))


def rewrite_list(patterns: Sequence[str], wanted: Sequence[str]) -> ActionRewrite:
    """`patterns` rewritten to hold exactly `wanted` (in that order for the new entries): an entry also in
    `wanted` stays as written, the others go, and the new entries take the first slot that goes (or,
    when every entry stays, the last slot grows)."""
    wanted_set = set(wanted)
    keep = [p in wanted_set for p in patterns]
    seen: set[str] = set()
    slots: list[tuple[str, ...] | None] = []
    for pattern, kept in zip(patterns, keep, strict=True):
        if kept and pattern not in seen:
            seen.add(pattern)
            slots.append(None)
        else:
            slots.append(())
    new = tuple(w for w in dict.fromkeys(wanted) if w not in seen)
    if new:
        at = next((j for j, slot in enumerate(slots) if slot == ()), None)
        if at is None:
            at = len(slots) - 1
            slots[at] = (patterns[at], *new)
        else:
            slots[at] = new
    return ActionRewrite(tuple(patterns), tuple(slots), ())
