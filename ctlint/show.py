"""The pure logic of `ctlint show`: granted vs used actions -> CloudTracker's diff lines.

No I/O and no clock: the command (ctlint.commands.show) gathers grants and usage via the pipeline and
renders what these functions return. Symbols are CloudTracker's:

  " " used (and granted)     "-" granted, not used      "?" granted, use not recordable
  "+" used but not granted   (actors: " " active in the window, "-" not active)
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import Protocol

from ctlint.events import MAPPED, map_event
from ctlint.inert import sanitise_line
from ctlint.model import SessionUsageRow

USED = " "
UNUSED = "-"
UNKNOWN = "?"
NOT_GRANTED = "+"
INACTIVE = "-"

BENIGN_LEVELS = frozenset({"List", "Read"})

# CloudTracker's colours: used white (left plain here), + green, - red, ? yellow.
COLOURS = {UNUSED: "\033[31m", NOT_GRANTED: "\033[32m", UNKNOWN: "\033[33m"}
RESET = "\033[0m"


class ShowCatalog(Protocol):
    def info(self, action: str): ...  # -> ActionInfo | None

    def is_observable(self, action: str, data_events: Collection[str]) -> bool: ...


@dataclass(frozen=True)
class DiffLine:
    symbol: str  # one of " ", "-", "?", "+"
    name: str  # canonical action (or principal name for --list)
    benign: bool = False  # read-only by the catalog's access levels (List/Read only)

    def text(self) -> str:
        return f"{self.symbol} {self.name}"


@dataclass(frozen=True)
class ShowFilter:
    """CloudTracker's print filter. Defaults show everything, as CloudTracker does."""

    show_used: bool = False  # only " " and "+" (plus "?" when show_unknown was asked for explicitly)
    show_unknown: bool = True  # "?" lines (CloudTracker: shown unless --ignore-unknown)
    show_benign: bool = True  # read-only actions (CloudTracker: shown unless --ignore-benign)
    unknown_explicit: bool = False  # --show-unknown given: keep "?" lines even with --show-used


def is_benign(action: str, catalog: ShowCatalog) -> bool:
    """Read-only: every access level of the action is List or Read. Unknown actions are not benign."""
    info = catalog.info(action)
    return info is not None and set(info.access_levels) <= BENIGN_LEVELS


def _sort_key(line: DiffLine) -> tuple[str, str]:
    return (line.name.lower(), line.name)


def diff_actions(
    granted: Collection[str],
    used: Collection[str],
    catalog: ShowCatalog,
    data_events: Collection[str] = (),
    observable: Collection[str] | None = None,
) -> tuple[DiffLine, ...]:
    """One line per action in granted ∪ used, sorted by action (case-insensitively). `observable`: the
    actions the configured trail records for every use (ctlint.observability); None: ask the catalog."""
    granted_set, used_set = frozenset(granted), frozenset(used)
    lines = []
    for action in granted_set | used_set:
        if action in used_set:
            symbol = USED if action in granted_set else NOT_GRANTED
        elif action in observable if observable is not None else catalog.is_observable(action, data_events):
            symbol = UNUSED
        else:
            symbol = UNKNOWN
        lines.append(DiffLine(symbol, action, is_benign(action, catalog)))
    return tuple(sorted(lines, key=_sort_key))


def _keep(line: DiffLine, flt: ShowFilter) -> bool:
    if line.benign and not flt.show_benign:
        return False
    if line.symbol == UNKNOWN:
        return flt.show_unknown and (not flt.show_used or flt.unknown_explicit)
    if line.symbol == UNUSED:
        return not flt.show_used
    return True


def filter_lines(lines: Iterable[DiffLine], flt: ShowFilter) -> tuple[DiffLine, ...]:
    return tuple(line for line in lines if _keep(line, flt))


def actor_lines(names_active: Mapping[str, bool]) -> tuple[DiffLine, ...]:
    """`--list`: "  name" for principals active in the window, "- name" for the others, sorted by name."""
    lines = (DiffLine(USED if active else INACTIVE, name) for name, active in names_active.items())
    return tuple(sorted(lines, key=_sort_key))


def session_actions(sessions: Iterable[SessionUsageRow], source_arn: str, role_arn: str) -> frozenset[str]:
    """IAM actions made in `source_arn`'s sessions of `role_arn` (events needing no IAM action are skipped)."""
    actions: set[str] = set()
    for row in sessions:
        if (
            row.source_arn.casefold() != source_arn.casefold()
            or row.role_arn.casefold() != role_arn.casefold()
        ):
            continue
        mapping = map_event(row.event_source, row.event_name)
        if mapping.kind == MAPPED:
            actions.update(mapping.actions)
    return frozenset(actions)


def render(lines: Iterable[DiffLine], *, colour: bool = False) -> str:
    out = []
    for line in lines:
        text = sanitise_line(line.text())
        code = COLOURS.get(line.symbol) if colour else None
        out.append(f"{code}{text}{RESET}" if code else text)
    return "".join(f"{text}\n" for text in out)
