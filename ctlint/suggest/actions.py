"""Action lists for suggested statements: the fewest patterns that name exactly the wanted actions.

A wildcard is used only where, against the catalog, it names no action outside the wanted set
(`s3:Get*` only when every `s3:Get...` action is wanted). The catalog grows as AWS adds actions, so a
wildcard may name more tomorrow; docs/suggest.md says so. Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Collection
from functools import lru_cache

from ctlint.policy import ActionUniverse

MIN_ACTIONS_PER_WILDCARD = 2  # a wildcard for one action hides its name and saves nothing


@lru_cache(maxsize=1024)
def _sorted(names: frozenset[str]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """A service's names sorted case-insensitively, and their lower-case local parts (cached: the
    catalog's expansion of `service:*` is the same frozenset every time, and caches its hash)."""
    ordered = tuple(sorted(names, key=str.lower))
    return ordered, tuple(n.partition(":")[2].lower() for n in ordered)


class _Ranges:
    """One service's names sorted case-insensitively, with a running count of the wanted ones: every
    prefix of the names is a contiguous range, so "is every action under this prefix wanted" is a
    subtraction."""

    def __init__(self, service: str, names: frozenset[str], wanted: Collection[str]) -> None:
        self.service = service
        self.names, self.local = _sorted(names)
        self.before = [0]
        for name in self.names:
            self.before.append(self.before[-1] + (name in wanted))

    def wanted(self, lo: int, hi: int) -> int:
        return self.before[hi] - self.before[lo]

    def patterns(self, lo: int, hi: int, depth: int, out: list[str]) -> None:
        """Patterns for the wanted names in [lo, hi), which share their first `depth` characters."""
        wanted = self.wanted(lo, hi)
        if wanted == 0:
            return
        if wanted == hi - lo:
            if hi - lo < MIN_ACTIONS_PER_WILDCARD:
                out.extend(self.names[lo:hi])
            else:
                # The longest common prefix names the same actions as the shared one, and reads better.
                first, last = self.local[lo], self.local[hi - 1]
                size = depth
                while size < min(len(first), len(last)) and first[size] == last[size]:
                    size += 1
                out.append(f"{self.service}:{self.names[lo].partition(':')[2][:size]}*")
            return
        if len(self.local[lo]) == depth:  # the prefix is itself an action; it sorts first
            if self.wanted(lo, lo + 1):
                out.append(self.names[lo])
            lo += 1
        while lo < hi:
            char = self.local[lo][depth]
            end = lo + 1
            while end < hi and self.local[end][depth] == char:
                end += 1
            self.patterns(lo, end, depth + 1, out)
            lo = end


def compress_actions(actions: Collection[str], universe: ActionUniverse) -> tuple[str, ...]:
    """Patterns naming exactly `actions` (canonical names) within `universe`, sorted case-insensitively.
    Names the universe does not know are kept literally."""
    wanted = frozenset(actions)
    if wanted >= universe.all_actions:
        return ("*",)
    by_service: dict[str, set[str]] = {}
    for action in wanted:
        by_service.setdefault(action.partition(":")[0], set()).add(action)
    out: list[str] = []
    for service, members in sorted(by_service.items()):
        known = universe.expand(f"{service}:*")
        out.extend(sorted(members - known))
        found: list[str] = []
        ranges = _Ranges(service, known, members)
        ranges.patterns(0, len(ranges.names), 0, found)
        # Belt and braces: a pattern that names anything unwanted falls back to its wanted names.
        for pattern in found:
            named = universe.expand(pattern) if pattern.endswith("*") else frozenset((pattern,))
            out.extend((pattern,) if named <= wanted else sorted(named & wanted))
    return tuple(sorted(dict.fromkeys(out), key=str.lower))
